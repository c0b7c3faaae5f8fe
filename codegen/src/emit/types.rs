//! Rust items for the types of a [`TypeSpace`].

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

use super::docs;
use crate::schema::{Kind, Ty, TypeDef, TypeSpace};

/// An identifier from a name that may be `r#`-escaped.
pub fn ident(name: &str) -> Ident {
    match name.strip_prefix("r#") {
        Some(raw) => Ident::new_raw(raw, Span::call_site()),
        None => Ident::new(name, Span::call_site()),
    }
}

/// The Rust type of a type expression, in the module that defines the types.
pub fn ty(space: &TypeSpace<'_>, t: &Ty) -> TokenStream {
    ty_with(space, t, &quote!())
}

/// The Rust type of a type expression, naming generated types with `crate::` (for modules
/// whose own items could shadow them).
pub fn ty_qualified(space: &TypeSpace<'_>, t: &Ty) -> TokenStream {
    ty_with(space, t, &quote!(crate::))
}

fn ty_with(space: &TypeSpace<'_>, t: &Ty, prefix: &TokenStream) -> TokenStream {
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
/// is deterministic).
pub fn all(space: &TypeSpace<'_>) -> TokenStream {
    let items = space.defs.iter().enumerate().filter(|(id, _)| !space.is_inlined(*id)).map(|(_, d)| one(space, d));
    quote!(#(#items)*)
}

fn one(space: &TypeSpace<'_>, def: &TypeDef) -> TokenStream {
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
            let mut default = true;
            let mut names = std::collections::BTreeSet::new();
            let fields_ts: Vec<TokenStream> = fields
                .iter()
                .map(|f| {
                    names.insert(f.rust.clone());
                    let fname = ident(&f.rust);
                    let fty = ty(space, &f.ty);
                    let fdoc = docs::attrs(&docs::schema_text(&f.docs));
                    let mut serde_args = Vec::new();
                    if f.flatten {
                        serde_args.push(quote!(flatten));
                        default = false;
                    } else if crate::names::unraw(&f.rust) != f.json {
                        let json = &f.json;
                        serde_args.push(quote!(rename = #json));
                    }
                    if f.ty.is_option() && !f.required {
                        serde_args.push(quote!(default, skip_serializing_if = "Option::is_none"));
                    } else if !f.flatten {
                        default = false;
                    }
                    let serde_attr = if serde_args.is_empty() { quote!() } else { quote!(#[serde(#(#serde_args),*)]) };
                    quote! { #fdoc #serde_attr pub #fname: #fty, }
                })
                .collect();
            let extra_ts = extra.as_ref().map(|t| {
                let fname = if names.contains("extra") {
                    format_ident!("additional_properties")
                } else {
                    format_ident!("extra")
                };
                let t = ty(space, t);
                quote! {
                    /// Properties not named above, kept so that nothing the server sends is lost.
                    #[serde(flatten)]
                    pub #fname: std::collections::BTreeMap<String, #t>,
                }
            });
            let derives = if default {
                quote!(#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)])
            } else {
                quote!(#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)])
            };
            quote! {
                #doc
                #derives
                pub struct #name {
                    #(#fields_ts)*
                    #extra_ts
                }
            }
        }
        Kind::Enum { values } => {
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
                    Unknown(String),
                }
            }
        }
        Kind::Union { tag: Some(tag), variants } => {
            let vs = variants.iter().map(|v| {
                let vname = ident(&v.name);
                let vty = ty(space, &v.ty);
                let value = v.tag_value.clone().unwrap_or_default();
                let vdoc = docs::attrs(&format!("`{tag}: {value}`"));
                quote! { #vdoc #[serde(rename = #value)] #vname(#vty), }
            });
            quote! {
                #doc
                #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
                #[serde(tag = #tag)]
                pub enum #name {
                    #(#vs)*
                    /// A kind this client does not know yet.
                    #[serde(other)]
                    Unknown,
                }
            }
        }
        Kind::Union { tag: None, variants } => {
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
    }
}
