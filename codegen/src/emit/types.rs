//! Rust items for the types of a [`TypeSpace`].

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

use super::{docs, imports};
use std::collections::BTreeSet;

use super::struct_plan::{Build, StructPlan};
use crate::schema::{EnumValue, Kind, TaggedVariant, Ty, TypeDef, TypeId, TypeSpace, Variant};

/// An identifier from a name that may be `r#`-escaped.
pub fn ident(name: &str) -> Ident {
    match name.strip_prefix("r#") {
        Some(raw) => Ident::new_raw(raw, Span::call_site()),
        None => Ident::new(name, Span::call_site()),
    }
}

/// The Rust type of a type expression, in the module that defines the types.
pub fn ty(space: &TypeSpace, t: &Ty) -> TokenStream {
    ty_with(space, t, &quote!())
}

/// The Rust type of a type expression, naming generated types with `crate::` (for modules
/// whose own items could shadow them).
pub fn ty_qualified(space: &TypeSpace, t: &Ty) -> TokenStream {
    ty_with(space, t, &quote!(crate::))
}

fn ty_with(space: &TypeSpace, t: &Ty, prefix: &TokenStream) -> TokenStream {
    let ty = |inner: &Ty| ty_with(space, inner, prefix);
    match t {
        Ty::Named(id) => {
            let n = ident(space.name(*id));
            quote!(#prefix #n)
        }
        Ty::Boxed(id) => {
            let n = ident(space.name(*id));
            quote!(Box<#prefix #n>)
        }
        Ty::String => quote!(String),
        Ty::I64 => quote!(i64),
        Ty::U64 => quote!(u64),
        Ty::F64 => quote!(f64),
        Ty::Bool => quote!(bool),
        Ty::Time => quote!(apigen_runtime::Time),
        Ty::Value => quote!(serde_json::Value),
        Ty::Unit => quote!(()),
        Ty::Vec(inner) => {
            let i = ty(inner);
            quote!(Vec<#i>)
        }
        Ty::Map(inner) => {
            let i = ty(inner);
            quote!(std::collections::BTreeMap<String, #i>)
        }
        Ty::Option(inner) => {
            let i = ty(inner);
            quote!(Option<#i>)
        }
    }
}

/// Every type of the space, in creation order (which follows the references, so the output
/// is deterministic). Structs in `buildable` (what users send) get a constructor and setters.
pub fn all(space: &TypeSpace, buildable: &BTreeSet<TypeId>) -> TokenStream {
    let items = space.emitted().map(|(id, d)| one(space, d, buildable.contains(&id)));
    imports::file(quote!(#(#items)*), &BTreeSet::new())
}

/// `new` (required fields) and one `with_*` setter per optional or free-form field. A
/// free-form object (a task's `payload`) is no parameter of `new`: it starts empty and its
/// setter takes any `Serialize` value (a typed worker payload).
fn builder(space: &TypeSpace, name: &Ident, plan: &StructPlan<'_>) -> TokenStream {
    let mut params = Vec::new();
    let mut inits = Vec::new();
    let mut setters = Vec::new();
    let mut starts_empty = Vec::new();
    for fp in &plan.fields {
        let f = fp.field;
        let fname = ident(&f.rust);
        let json = &f.json;
        let setter = format_ident!("with_{}", crate::names::unraw(&f.rust));
        match fp.build {
            Build::Required => {
                let t = ty(space, &f.ty);
                params.push(quote!(#fname: impl Into<#t>));
                inits.push(quote!(#fname: #fname.into()));
            }
            Build::StartsEmpty => {
                inits.push(quote!(#fname: Default::default()));
                starts_empty.push(format!("`{json}` starts empty: set it with [`Self::{setter}`]."));
                setters.push(free_setter(json, &fname, &setter, quote!(v)));
            }
            Build::Optional { free: true, .. } => {
                inits.push(quote!(#fname: None));
                setters.push(free_setter(json, &fname, &setter, quote!(Some(v))));
            }
            Build::Optional { inner, free: false } => {
                inits.push(quote!(#fname: None));
                let t = ty(space, inner);
                let sdoc = format!(" Sets `{json}`.");
                setters.push(quote! {
                    #[doc = #sdoc]
                    pub fn #setter(mut self, value: impl Into<#t>) -> Self {
                        self.#fname = Some(value.into());
                        self
                    }
                });
            }
        }
    }
    if let Some((e, _)) = plan.extra {
        let e = ident(e);
        inits.push(quote!(#e: Default::default()));
    }
    // Nothing required: the struct derives `Default`, which is the constructor.
    let ctor = (!params.is_empty()).then(|| {
        let mut text = " From the required fields; optional fields start unset.".to_owned();
        for s in &starts_empty {
            text.push(' ');
            text.push_str(s);
        }
        quote! {
            #[doc = #text]
            pub fn new(#(#params),*) -> Self {
                Self { #(#inits),* }
            }
        }
    });
    if ctor.is_none() && setters.is_empty() {
        return quote!();
    }
    quote! {
        impl #name {
            #ctor
            #(#setters)*
        }
    }
}

/// The setter of a free-form object: any value that serializes as a JSON object; `value` is
/// what the field gets from the object `v` (`v` or `Some(v)`).
fn free_setter(json: &str, fname: &Ident, setter: &Ident, value: TokenStream) -> TokenStream {
    let sdoc = format!(
        " Sets `{json}` from any value written as a JSON object (a map, `serde_json::json!`, a typed \
         struct); fails naming what it got otherwise."
    );
    quote! {
        #[doc = #sdoc]
        pub fn #setter(mut self, value: impl serde::Serialize) -> Result<Self, serde_json::Error> {
            let v = apigen_runtime::json_object(value)?;
            self.#fname = #value;
            Ok(self)
        }
    }
}

/// `as_str`, `Display` and `FromStr` (which never fails: unknown values are kept).
fn enum_impls(name: &Ident, values: &[EnumValue], catch_all: &Ident) -> TokenStream {
    let to = values.iter().map(|v| {
        let (vname, json) = (ident(&v.rust), &v.json);
        quote!(Self::#vname => #json,)
    });
    let from = values.iter().map(|v| {
        let (vname, json) = (ident(&v.rust), &v.json);
        quote!(#json => Self::#vname,)
    });
    quote! {
        impl #name {
            /// The value as sent on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    #(#to)*
                    Self::#catch_all(v) => v,
                }
            }
        }

        impl std::fmt::Display for #name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for #name {
            type Err = std::convert::Infallible;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(match s {
                    #(#from)*
                    other => Self::#catch_all(other.to_owned()),
                })
            }
        }
    }
}

/// One type's item(s): the plan of its kind, rendered.
fn one(space: &TypeSpace, def: &TypeDef, buildable: bool) -> TokenStream {
    let name = ident(&def.name);
    let mut text = docs::schema_text(&def.docs);
    if text.is_empty() {
        text = format!("Generated from `{}`.", def.origin);
    }
    let doc = docs::attrs(&text);
    match &def.kind {
        Kind::Alias(t) => {
            let t = ty(space, t);
            quote! { #doc pub type #name = #t; }
        }
        Kind::Struct { fields, extra } => {
            struct_item(space, &name, &doc, &StructPlan::new(fields, extra.as_ref(), buildable))
        }
        Kind::Enum { values, catch_all } => enum_item(&name, &doc, values, &ident(catch_all)),
        Kind::Tagged { tag, variants } => tagged_union(space, &name, &doc, tag, variants),
        Kind::Union { variants } => untagged_union(space, &name, &doc, variants),
    }
}

/// A struct, its builder (when users build it) and its `Debug` (when it hides a credential).
fn struct_item(space: &TypeSpace, name: &Ident, doc: &TokenStream, plan: &StructPlan<'_>) -> TokenStream {
    let fields = plan.fields.iter().map(|fp| {
        let f = fp.field;
        let (fname, fty) = (ident(&f.rust), ty(space, &f.ty));
        let fdoc = docs::attrs(&docs::schema_text(&f.docs));
        let mut serde_args = Vec::new();
        if f.flatten {
            serde_args.push(quote!(flatten));
        }
        if let Some(json) = fp.rename {
            serde_args.push(quote!(rename = #json));
        }
        if fp.skip_none {
            serde_args.push(quote!(default, skip_serializing_if = "Option::is_none"));
        }
        let serde_attr = (!serde_args.is_empty()).then(|| quote!(#[serde(#(#serde_args),*)]));
        quote! { #fdoc #serde_attr pub #fname: #fty, }
    });
    let extra = plan.extra.map(|(e, t)| {
        let (e, t) = (ident(e), ty(space, t));
        quote! {
            /// Properties not named above, kept so that nothing the server sends is lost.
            #[serde(flatten)]
            pub #e: std::collections::BTreeMap<String, #t>,
        }
    });
    // Credentials (a client's `accessToken`, an object's `secretAccessKey`, a GoCD password)
    // never reach Debug output: such structs print `***` in their place.
    let debug = (!plan.secret_debug).then(|| quote!(Debug,));
    let default = plan.default.then(|| quote!(Default,));
    let build = plan.buildable.then(|| builder(space, name, plan));
    let secret_debug = plan.secret_debug.then(|| secret_debug(name, plan));
    quote! {
        #doc
        #[derive(#debug Clone, #default PartialEq, serde::Serialize, serde::Deserialize)]
        pub struct #name {
            #(#fields)*
            #extra
        }
        #build
        #secret_debug
    }
}

/// A string enum with its catch-all variant for values this client does not know.
fn enum_item(name: &Ident, doc: &TokenStream, values: &[EnumValue], catch_all: &Ident) -> TokenStream {
    let impls = enum_impls(name, values, catch_all);
    let variants = values.iter().map(|v| {
        let vname = ident(&v.rust);
        let json = &v.json;
        let vdoc = format!(" `{json}`");
        quote! { #[doc = #vdoc] #[serde(rename = #json)] #vname, }
    });
    quote! {
        #doc
        #[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum #name {
            #(#variants)*
            /// A value this client does not know yet (kept as sent).
            #[serde(untagged)]
            #catch_all(String),
        }
        #impls
    }
}

/// A union without a tag: serde tries each shape in order; what matches none is kept.
fn untagged_union(space: &TypeSpace, name: &Ident, doc: &TokenStream, variants: &[Variant]) -> TokenStream {
    let vs = variants.iter().map(|v| {
        let vname = ident(&v.name);
        let vty = ty(space, &v.ty);
        let vdoc = docs::attrs(&docs::schema_text(&v.docs));
        quote! { #vdoc #vname(#vty), }
    });
    quote! {
        #doc
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(untagged)]
        pub enum #name {
            #(#vs)*
            /// A shape this client does not know yet (kept as sent).
            Other(serde_json::Value),
        }
    }
}

/// A `Debug` impl that prints `***` for every secret field.
fn secret_debug(name: &Ident, plan: &StructPlan<'_>) -> TokenStream {
    let shown = name.to_string();
    let entries = plan.fields.iter().map(|fp| {
        let f = fp.field;
        let fname = ident(&f.rust);
        let label = crate::names::unraw(&f.rust);
        match (fp.secret, f.ty.is_option()) {
            (false, _) => quote!(.field(#label, &self.#fname)),
            (true, true) => quote!(.field(#label, &self.#fname.as_ref().map(|_| "***"))),
            (true, false) => quote!(.field(#label, &"***")),
        }
    });
    let extra = plan.extra.map(|(e, _)| {
        let id = ident(e);
        quote!(.field(#e, &self.#id))
    });
    quote! {
        impl std::fmt::Debug for #name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(#shown) #(#entries)* #extra .finish()
            }
        }
    }
}

/// An internally tagged union. A `tag` value this client does not know is kept whole in the
/// catch-all variant, so a value read, changed and sent back loses nothing (serde's own
/// `#[serde(other)]` could only keep a unit variant). Serde's derive still does the work for the
/// known tags, through a private mirror enum.
fn tagged_union(
    space: &TypeSpace,
    name: &Ident,
    doc: &TokenStream,
    tag: &str,
    variants: &[TaggedVariant],
) -> TokenStream {
    let catch_all = if variants.iter().any(|v| v.name == "Other") { ident("Unrecognized") } else { ident("Other") };
    let mut vs = Vec::new();
    let mut known_de = Vec::new();
    let mut known_ser = Vec::new();
    let mut to_public = Vec::new();
    let mut to_known = Vec::new();
    let mut values = Vec::new();
    for v in variants {
        let vname = ident(&v.name);
        let vty = ty(space, &v.ty);
        let value = v.tag_value.as_str();
        let vdoc = docs::attrs(&format!("`{tag}: {value}`"));
        vs.push(quote! { #vdoc #vname(#vty), });
        known_de.push(quote! { #[serde(rename = #value)] #vname(#vty), });
        known_ser.push(quote! { #[serde(rename = #value)] #vname(&'a #vty), });
        to_public.push(quote! { Known::#vname(x) => Self::#vname(x), });
        to_known.push(quote! { Self::#vname(x) => serde::Serialize::serialize(&Known::#vname(x), serializer), });
        values.push(value.to_owned());
    }
    let catch_doc = format!(" A `{tag}` this client does not know yet, kept as sent.");
    quote! {
        #doc
        #[derive(Debug, Clone, PartialEq)]
        pub enum #name {
            #(#vs)*
            #[doc = #catch_doc]
            #catch_all(serde_json::Value),
        }

        impl serde::Serialize for #name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                #[derive(serde::Serialize)]
                #[serde(tag = #tag)]
                enum Known<'a> {
                    #(#known_ser)*
                }
                match self {
                    #(#to_known)*
                    Self::#catch_all(v) => serde::Serialize::serialize(v, serializer),
                }
            }
        }

        impl<'de> serde::Deserialize<'de> for #name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                #[derive(serde::Deserialize)]
                #[serde(tag = #tag)]
                enum Known {
                    #(#known_de)*
                }
                let value = <serde_json::Value as serde::Deserialize>::deserialize(deserializer)?;
                match value.get(#tag).and_then(serde_json::Value::as_str) {
                    Some(#(#values)|*) => Ok(match <Known as serde::Deserialize>::deserialize(value).map_err(serde::de::Error::custom)? {
                        #(#to_public)*
                    }),
                    _ => Ok(Self::#catch_all(value)),
                }
            }
        }
    }
}
