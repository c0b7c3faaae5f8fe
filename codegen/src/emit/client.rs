//! The client struct and one method per endpoint.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use std::collections::BTreeSet;

use super::headers::HeaderConsts;
use super::method_plan::{vendor_version, ArgKind, BodyPlan, Header, MethodPlan, Returns};
use super::types::{ident, ty, ty_qualified};
use super::{docs, imports};
use crate::model::*;
use crate::names;
use crate::schema::{Ty, TypeSpace};

/// A function with its schemas turned into types.
pub struct Typed<'a> {
    /// The function.
    pub f: &'a Function,
    /// Request body type.
    pub input: Option<Ty>,
    /// Response body type.
    pub output: Option<Ty>,
}

/// The client struct, its methods, and `Paginated` impls; and the `blocking` module.
pub fn client(service: &Service, functions: &[Typed<'_>], space: &TypeSpace) -> (TokenStream, TokenStream) {
    let plans: Vec<MethodPlan<'_>> =
        functions.iter().map(|t| MethodPlan::new(service, t.f, t.input.as_ref(), t.output.as_ref(), space)).collect();
    // The crate root also sees every generated type (`pub use types::*`) and its modules.
    let mut in_scope: BTreeSet<String> = ["types", "exchanges", "blocking"].map(String::from).into();
    in_scope.extend(space.emitted().map(|(id, _)| space.name(id).to_owned()));
    let root = async_client(service, &plans, Types { space, qualified: false });
    let blocking = blocking_client(service, &plans, Types { space, qualified: true });
    (imports::file(root, &in_scope), imports::file(blocking, &BTreeSet::new()))
}

fn struct_doc(service: &Service) -> TokenStream {
    let title = if service.title.is_empty() { &service.client_name } else { &service.title };
    docs::attrs(&format!(
        "Client of {title}.\n\nCheap to clone; every method is one API call (see the crate documentation)."
    ))
}

/// The async client: struct, constructors, methods, `Paginated` impls, GoCD's API families.
fn async_client(service: &Service, plans: &[MethodPlan<'_>], types: Types<'_>) -> TokenStream {
    let name = ident(&service.client_name);
    let struct_doc = struct_doc(service);
    let ctor = match &service.flavor {
        Flavor::Taskcluster { service_name, api_version } => quote! {
            /// `serviceName` of the API reference.
            pub const SERVICE_NAME: &'static str = #service_name;
            /// `apiVersion` of the API reference.
            pub const API_VERSION: &'static str = #api_version;

            /// A client of this service on the deployment `client` is configured for.
            pub fn new(client: &apigen_runtime::Client) -> Self {
                Self { client: client.service(Self::SERVICE_NAME, Self::API_VERSION) }
            }

            /// A client configured from the `TASKCLUSTER_*` environment variables.
            pub fn from_env() -> Result<Self, apigen_runtime::Error> {
                Ok(Self::new(&apigen_runtime::Client::from_env()?))
            }
        },
        Flavor::GoCd => quote! {
            /// A client of the GoCD server `client` is configured for (its root URL ends in `/go`;
            /// build it with [`apigen_runtime::Client::gocd_builder`]), speaking the API versions the GoCD
            /// documentation shows (see [`ApiFamily::default_version`]).
            pub fn new(client: &apigen_runtime::Client) -> Self {
                Self { client: client.clone(), versions: ApiFamily::ALL.map(ApiFamily::default_version) }
            }

            /// Uses API version `version` for every endpoint of `family`: the versioned `Accept`
            /// header becomes `application/vnd.go.cd.v<version>+json`. Older servers answer only
            /// older versions (a 16.x server wants pipeline config v2 where 17.x takes v3).
            pub fn with_api_version(mut self, family: ApiFamily, version: u32) -> Self {
                self.versions[family as usize] = version;
                self
            }

            /// The API version used for `family`.
            pub fn api_version(&self, family: ApiFamily) -> u32 {
                self.versions[family as usize]
            }

            /// The versioned media type sent as `Accept` for `family`.
            fn accept(&self, family: ApiFamily) -> String {
                format!("application/vnd.go.cd.v{}+json", self.api_version(family))
            }
        },
    };
    let families = gocd_families(service);
    let (version_field, families_ts) = if service.flavor == Flavor::GoCd {
        let n = proc_macro2::Literal::usize_unsuffixed(families.len());
        (quote!(versions: [u32; #n],), families_enum(&families))
    } else {
        (quote!(), quote!())
    };
    let headers = HeaderConsts::new(plans);
    let header_consts = headers.items();
    let methods = plans.iter().map(|p| async_method(p, types, &headers));
    // One `Paginated` impl per output type, however many functions page into it.
    let mut seen = BTreeSet::new();
    let paginated = plans.iter().filter_map(|p| p.pagination.as_ref()).filter(|p| seen.insert(&p.type_name)).map(|p| {
        let (tn, field) = (ident(&p.type_name), ident(&p.field));
        quote! {
            impl apigen_runtime::Paginated for #tn {
                fn continuation_token(&self) -> Option<&str> {
                    self.#field.as_deref()
                }
            }
        }
    });
    quote! {
        #header_consts

        #struct_doc
        #[derive(Debug, Clone)]
        pub struct #name {
            client: apigen_runtime::Client,
            #version_field
        }

        impl #name {
            #ctor

            /// The underlying runtime client (for raw calls).
            pub fn runtime_client(&self) -> &apigen_runtime::Client {
                &self.client
            }

            #(#methods)*
        }

        #(#paginated)*

        #families_ts
    }
}

/// The `blocking` module: a twin of the client whose methods wait for the async ones.
fn blocking_client(service: &Service, plans: &[MethodPlan<'_>], types: Types<'_>) -> TokenStream {
    let name = ident(&service.client_name);
    let struct_doc = struct_doc(service);
    let twins = plans.iter().map(|p| blocking_method(p, types, &service.client_name));
    let from_env = matches!(service.flavor, Flavor::Taskcluster { .. }).then(|| {
        quote! {
            /// A client configured from the `TASKCLUSTER_*` environment variables.
            pub fn from_env() -> Result<Self, apigen_runtime::Error> {
                Ok(Self { inner: crate::#name::from_env()? })
            }
        }
    });
    let module_doc = docs::inner_attrs(&format!(
        "Blocking twin of [`crate::{name}`] (feature `blocking`): the same methods, each returning when the \
         call is done.\n\nNo async runtime is needed: calls run on a small runtime the `apigen-runtime` \
         crate owns. Called from inside an async runtime, a method returns an error instead of blocking it."
    ));
    quote! {
        #module_doc

        #struct_doc
        #[derive(Debug, Clone)]
        pub struct #name {
            inner: crate::#name,
        }

        impl #name {
            /// A blocking client of the service `client` is configured for.
            pub fn new(client: &apigen_runtime::Client) -> Self {
                Self { inner: crate::#name::new(client) }
            }

            #from_env

            /// The async client this one wraps.
            pub fn as_async(&self) -> &crate::#name {
                &self.inner
            }

            #(#twins)*
        }
    }
}

/// The endpoint families of a GoCD service: each section whose endpoints send a versioned
/// `Accept`, with that version (the loader checks that a section uses one version).
fn gocd_families(service: &Service) -> Vec<(String, u32)> {
    let mut out: Vec<(String, u32)> = Vec::new();
    for f in &service.functions {
        let (Some(g), Some(category)) = (&f.gocd, &f.category) else { continue };
        let Some(v) = g.accept.as_deref().and_then(vendor_version) else { continue };
        if !out.iter().any(|(c, _)| c == category) {
            out.push((category.clone(), v));
        }
    }
    out
}

fn families_enum(families: &[(String, u32)]) -> TokenStream {
    let n = proc_macro2::Literal::usize_unsuffixed(families.len());
    let variants = families.iter().map(|(c, v)| {
        let id = ident(&names::camel(c));
        let doc = format!(" {c} (documented: `application/vnd.go.cd.v{v}+json`).");
        quote! { #[doc = #doc] #id, }
    });
    let all = families.iter().map(|(c, _)| {
        let id = ident(&names::camel(c));
        quote!(ApiFamily::#id)
    });
    let defaults = families.iter().map(|(c, v)| {
        let id = ident(&names::camel(c));
        quote!(ApiFamily::#id => #v,)
    });
    quote! {
        /// A family of GoCD endpoints (a section of the API documentation) that share one
        /// versioned media type; see [`GoCd::with_api_version`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ApiFamily {
            #(#variants)*
        }

        impl ApiFamily {
            /// Every family, in documentation order.
            pub const ALL: [ApiFamily; #n] = [#(#all),*];

            /// The API version the GoCD documentation shows for this family.
            pub const fn default_version(self) -> u32 {
                match self {
                    #(#defaults)*
                }
            }
        }
    }
}

/// The expression building the request path.
fn path_expr(f: &Function) -> TokenStream {
    let mut fmt = String::new();
    let mut args = Vec::new();
    let mut tail = None;
    for p in &f.pieces {
        match p {
            RoutePiece::Literal(l) => fmt.push_str(&l.replace('{', "{{").replace('}', "}}")),
            RoutePiece::Param(n) => {
                fmt.push_str("{}");
                let a = ident(&names::snake(n));
                args.push(quote!(apigen_runtime::urls::encode_path_segment(#a)));
            }
            RoutePiece::Wildcard(n) => {
                fmt.push_str("{}");
                let a = ident(&names::snake(n));
                args.push(quote!(apigen_runtime::urls::encode_path(#a)));
            }
            RoutePiece::OptionalTail(n) => tail = Some(ident(&names::snake(n))),
        }
    }
    let base = if args.is_empty() { quote!(String::from(#fmt)) } else { quote!(format!(#fmt, #(#args),*)) };
    match tail {
        None => base,
        Some(t) => {
            let with_tail = format!("{fmt}/{{}}");
            quote! {
                match #t {
                    Some(tail) => format!(#with_tail, #(#args,)* apigen_runtime::urls::encode_path_segment(tail)),
                    None => #base,
                }
            }
        }
    }
}

/// Renders type expressions for one file: bare names in the crate root, `crate::` paths in
/// the `blocking` module (which [`imports`] turns into `use` lines).
#[derive(Clone, Copy)]
struct Types<'s> {
    space: &'s TypeSpace,
    qualified: bool,
}

impl Types<'_> {
    fn ty(&self, t: &Ty) -> TokenStream {
        if self.qualified {
            ty_qualified(self.space, t)
        } else {
            ty(self.space, t)
        }
    }
}

/// A parameter declaration and the name that passes it on.
struct Param {
    decl: TokenStream,
    pass: TokenStream,
}

/// The path and query parameters. `lt` is the lifetime of the borrowed arguments (empty or
/// `'a`); with `pager`, `continuationToken` is no parameter but the pager's `token`.
fn arg_params(plan: &MethodPlan<'_>, lt: &TokenStream, pager: bool) -> Vec<Param> {
    plan.args
        .iter()
        .filter_map(|a| {
            let n = ident(&a.name);
            if pager && a.kind == ArgKind::ContinuationToken {
                return None;
            }
            let decl = if a.optional() { quote!(#n: Option<&#lt str>) } else { quote!(#n: &#lt str) };
            Some(Param { decl, pass: quote!(#n) })
        })
        .collect()
}

/// The parameters after the path and query ones: `etag`, the body, a writer and a timeout.
fn extra_params(plan: &MethodPlan<'_>, types: Types<'_>, lt: &TokenStream) -> Vec<Param> {
    let mut out = Vec::new();
    let mut push = |decl: TokenStream, name: &str| {
        let n = ident(name);
        out.push(Param { decl: quote!(#n: #decl), pass: quote!(#n) });
    };
    if plan.headers.iter().any(|h| matches!(h, Header::IfMatch)) {
        push(quote!(&#lt str), "etag");
    }
    match &plan.body {
        BodyPlan::None => {}
        BodyPlan::Json(t) | BodyPlan::Form { ty: t, optional: false } => {
            let t = types.ty(t);
            push(quote!(&#lt #t), "payload");
        }
        BodyPlan::Form { ty: t, optional: true } => {
            let t = types.ty(t);
            push(quote!(Option<&#lt #t>), "payload");
        }
        BodyPlan::Multipart(_) => push(quote!(apigen_runtime::Upload), "upload"),
        BodyPlan::Bytes => push(quote!(apigen_runtime::bytes::Bytes), "data"),
    }
    match plan.returns {
        Returns::Download => push(quote!(&mut W), "out"),
        Returns::DownloadWhenReady => {
            push(quote!(&mut W), "out");
            push(quote!(std::time::Duration), "timeout");
        }
        _ => {}
    }
    out
}

/// The expression building the request: method, path, query, headers, body.
fn request_expr(plan: &MethodPlan<'_>, headers: &HeaderConsts) -> TokenStream {
    let method = format_ident!("{}", plan.f.method.as_str());
    let path = path_expr(plan.f);
    let query = plan.args.iter().filter(|a| matches!(a.kind, ArgKind::Query | ArgKind::ContinuationToken)).map(|a| {
        let (json, n) = (&a.json, ident(&a.name));
        quote!(.query_opt(#json, #n))
    });
    let mut build = quote! { apigen_runtime::Request::new(apigen_runtime::reqwest::Method::#method, #path) #(#query)* };
    for h in &plan.headers {
        build = match h {
            Header::FamilyAccept(family) => {
                let family = ident(family);
                quote!(#build.header("accept", &self.accept(ApiFamily::#family))?)
            }
            Header::Constant(k, v) => match headers.add(k, v) {
                Some(add) => quote!(#build #add),
                None => quote!(#build.header(#k, #v)?),
            },
            Header::IfMatch => quote!(#build.header("if-match", etag)?),
        };
    }
    match &plan.body {
        BodyPlan::None => build,
        BodyPlan::Json(_) => quote!(#build.json(payload)?),
        BodyPlan::Form { optional: true, .. } => quote! {{
            let req = #build;
            match payload {
                Some(p) => req.body(apigen_runtime::Body::form(p)?),
                None => req,
            }
        }},
        BodyPlan::Form { optional: false, .. } => quote!(#build.body(apigen_runtime::Body::form(payload)?)),
        BodyPlan::Multipart(field) => quote!(#build.body(upload.into_body(#field))),
        BodyPlan::Bytes => quote! {
            #build.body(apigen_runtime::Body::Bytes { content_type: "application/octet-stream".into(), data })
        },
    }
}

/// The return type, the generics it needs, and the call that produces it from `req`.
fn returns(plan: &MethodPlan<'_>, types: Types<'_>) -> (TokenStream, TokenStream, TokenStream) {
    let writer = quote!(<W: apigen_runtime::tokio::io::AsyncWrite + Unpin>);
    match &plan.returns {
        Returns::Unit => (quote!(()), quote!(), quote!(self.client.call(req).await.map(drop))),
        Returns::Json { ty, versioned: false } => (types.ty(ty), quote!(), quote!(self.client.call_json(req).await)),
        Returns::Json { ty, versioned: true } => {
            let t = types.ty(ty);
            (quote!(apigen_runtime::Versioned<#t>), quote!(), quote!(self.client.call_versioned(req).await))
        }
        Returns::Hal { ty, key, versioned: false } => {
            let t = types.ty(ty);
            (quote!(apigen_runtime::HalCollection<#t>), quote!(), quote!(self.client.call_hal(req, #key).await))
        }
        Returns::Hal { ty, key, versioned: true } => {
            let t = types.ty(ty);
            (
                quote!(apigen_runtime::Versioned<apigen_runtime::HalCollection<#t>>),
                quote!(),
                quote!(self.client.call_hal_versioned(req, #key).await),
            )
        }
        Returns::Text => (quote!(String), quote!(), quote!(self.client.call_text(req).await)),
        Returns::Download => (quote!(u64), writer, quote!(self.client.download(req, out).await)),
        Returns::DownloadWhenReady => {
            (quote!(u64), writer, quote!(self.client.download_when_ready(req, out, timeout).await))
        }
    }
}

fn deprecated_attrs(plan: &MethodPlan<'_>) -> (Option<TokenStream>, Option<TokenStream>) {
    (
        plan.deprecated.then(|| quote!(#[deprecated(note = "deprecated in the API reference")])),
        plan.deprecated.then(|| quote!(#[allow(deprecated)])),
    )
}

/// One endpoint's async method, its URL helpers and its pager.
fn async_method(plan: &MethodPlan<'_>, types: Types<'_>, headers: &HeaderConsts) -> TokenStream {
    let fname = ident(&plan.name);
    let doc = docs::attrs(&plan.doc);
    let (deprecated, allow_deprecated) = deprecated_attrs(plan);
    let args = arg_params(plan, &quote!(), false);
    let params = args.iter().chain(&extra_params(plan, types, &quote!())).map(|p| p.decl.clone()).collect::<Vec<_>>();
    let (ret, generics, call) = returns(plan, types);
    let request_fn = format_ident!("{}_request", plan.name);
    let (decls, pass): (Vec<_>, Vec<_>) = args.iter().map(|p| (&p.decl, &p.pass)).unzip();
    // A plain GET shares its request builder with its URL helpers.
    let build = if plan.url_helpers { quote!(Self::#request_fn(#(#pass),*)) } else { request_expr(plan, headers) };
    let mut out = quote! {
        #doc
        #deprecated
        pub async fn #fname #generics(&self, #(#params),*) -> Result<#ret, apigen_runtime::Error> {
            let req = #build;
            #call
        }
    };
    if plan.url_helpers {
        let (url_fn, signed_fn) = (format_ident!("{}_url", plan.name), format_ident!("{}_signed_url", plan.name));
        let url_doc = format!(" The URL of [`Self::{fname}`], unsigned.");
        let signed_doc =
            format!(" The URL of [`Self::{fname}`] with a Hawk bewit: it authenticates a plain GET for `ttl`.");
        let request = request_expr(plan, headers);
        out.extend(quote! {
            #[doc = #url_doc]
            pub fn #url_fn(&self, #(#decls),*) -> String {
                let req = Self::#request_fn(#(#pass),*);
                self.client.url(&req.path, &req.query)
            }

            #[doc = #signed_doc]
            pub fn #signed_fn(&self, #(#decls,)* ttl: std::time::Duration) -> Result<String, apigen_runtime::Error> {
                let req = Self::#request_fn(#(#pass),*);
                self.client.signed_url(&req.path, &req.query, ttl)
            }

            fn #request_fn(#(#decls),*) -> apigen_runtime::Request {
                #request
            }
        });
    }
    if let Some(p) = &plan.pagination {
        let pages_fn = format_ident!("{}_pages", plan.name);
        let o = types.ty(&p.ty);
        let lt = quote!('a);
        let page_params = arg_params(plan, &lt, true).into_iter().chain(extra_params(plan, types, &lt));
        let page_params = page_params.map(|p| p.decl);
        let pass = plan.args.iter().map(|a| {
            let n = ident(&a.name);
            if a.kind == ArgKind::ContinuationToken {
                quote!(token.as_deref())
            } else {
                quote!(#n)
            }
        });
        let extra_pass = extra_params(plan, types, &lt).into_iter().map(|p| p.pass);
        let doc = format!(" Every page of [`Self::{fname}`], following `continuationToken` until the last page.");
        out.extend(quote! {
            #[doc = #doc]
            #allow_deprecated
            pub fn #pages_fn<'a>(&'a self, #(#page_params),*) -> impl apigen_runtime::futures_util::Stream<Item = Result<#o, apigen_runtime::Error>> + 'a {
                apigen_runtime::pages(move |token: Option<String>| async move {
                    self.#fname(#(#pass,)* #(#extra_pass),*).await
                })
            }
        });
    }
    out
}

/// The blocking twin of [`async_method`]: the same names and arguments, each call run on the
/// runtime's blocking executor.
fn blocking_method(plan: &MethodPlan<'_>, types: Types<'_>, client_name: &str) -> TokenStream {
    let fname = ident(&plan.name);
    let (deprecated, allow_deprecated) = deprecated_attrs(plan);
    let args = arg_params(plan, &quote!(), false);
    let all: Vec<Param> = args
        .iter()
        .map(|p| Param { decl: p.decl.clone(), pass: p.pass.clone() })
        .chain(extra_params(plan, types, &quote!()))
        .collect();
    let (params, pass): (Vec<_>, Vec<_>) = all.iter().map(|p| (&p.decl, &p.pass)).unzip();
    let (ret, generics, _) = returns(plan, types);
    let doc = format!(" Blocking [`crate::{client_name}::{fname}`].");
    let mut out = quote! {
        #[doc = #doc]
        #deprecated
        #allow_deprecated
        pub fn #fname #generics(&self, #(#params),*) -> Result<#ret, apigen_runtime::Error> {
            apigen_runtime::blocking::block_on(self.inner.#fname(#(#pass),*))
        }
    };
    if plan.url_helpers {
        let (url_fn, signed_fn) = (format_ident!("{}_url", plan.name), format_ident!("{}_signed_url", plan.name));
        let (decls, pass): (Vec<_>, Vec<_>) = args.iter().map(|p| (&p.decl, &p.pass)).unzip();
        let url_doc = format!(" Same as [`crate::{client_name}::{url_fn}`].");
        let signed_doc = format!(" Same as [`crate::{client_name}::{signed_fn}`].");
        out.extend(quote! {
            #[doc = #url_doc]
            pub fn #url_fn(&self, #(#decls),*) -> String {
                self.inner.#url_fn(#(#pass),*)
            }

            #[doc = #signed_doc]
            pub fn #signed_fn(&self, #(#decls,)* ttl: std::time::Duration) -> Result<String, apigen_runtime::Error> {
                self.inner.#signed_fn(#(#pass,)* ttl)
            }
        });
    }
    if let Some(p) = &plan.pagination {
        let pages_fn = format_ident!("{}_pages", plan.name);
        let o = types.ty(&p.ty);
        let lt = quote!('a);
        let page: Vec<Param> = arg_params(plan, &lt, true).into_iter().chain(extra_params(plan, types, &lt)).collect();
        let (decls, pass): (Vec<_>, Vec<_>) = page.iter().map(|p| (&p.decl, &p.pass)).unzip();
        let doc = format!(" Every page of [`Self::{fname}`], each fetched when the iterator reaches it.");
        out.extend(quote! {
            #[doc = #doc]
            #allow_deprecated
            pub fn #pages_fn<'a>(&'a self, #(#decls),*) -> impl Iterator<Item = Result<#o, apigen_runtime::Error>> + 'a {
                apigen_runtime::blocking::iter(self.inner.#pages_fn(#(#pass),*))
            }
        });
    }
    out
}
