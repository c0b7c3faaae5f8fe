//! The client struct and one method per endpoint.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::docs;
use super::types::{ident, ty};
use crate::model::*;
use crate::names;
use crate::schema::{Kind, Ty, TypeSpace};

/// A function with its schemas turned into types.
pub struct Typed<'a> {
    /// The function.
    pub f: &'a Function,
    /// Request body type.
    pub input: Option<Ty>,
    /// Response body type.
    pub output: Option<Ty>,
}

/// The client struct, its methods, and `Paginated` impls.
pub fn client(service: &Service, functions: &[Typed<'_>], space: &TypeSpace<'_>) -> TokenStream {
    let name = ident(&service.client_name);
    let title = if service.title.is_empty() { service.client_name.clone() } else { service.title.clone() };
    let struct_doc = docs::attrs(&format!(
        "Client of {title}.\n\nCheap to clone; every method is one API call (see the crate documentation)."
    ));
    let ctor = match &service.flavor {
        Flavor::Taskcluster { service_name, api_version } => quote! {
            /// `serviceName` of the API reference.
            pub const SERVICE_NAME: &'static str = #service_name;
            /// `apiVersion` of the API reference.
            pub const API_VERSION: &'static str = #api_version;

            /// A client of this service on the deployment `client` is configured for.
            pub fn new(client: &rt::Client) -> Self {
                Self { client: client.service(Self::SERVICE_NAME, Self::API_VERSION) }
            }

            /// A client configured from the `TASKCLUSTER_*` environment variables.
            pub fn from_env() -> Result<Self, rt::Error> {
                Ok(Self::new(&rt::Client::from_env()?))
            }
        },
        Flavor::GoCd => quote! {
            /// A client of the GoCD server `client` is configured for (its root URL ends in `/go`;
            /// build it with [`rt::Client::gocd_builder`]).
            pub fn new(client: &rt::Client) -> Self {
                Self { client: client.clone() }
            }
        },
    };
    let methods = functions.iter().map(|t| method(service, t, space));
    let paginated = functions.iter().filter_map(|t| paginated_impl(t, space));
    let mut seen = std::collections::BTreeSet::new();
    let paginated: Vec<TokenStream> = paginated.filter(|(n, _)| seen.insert(n.clone())).map(|(_, ts)| ts).collect();
    quote! {
        #struct_doc
        #[derive(Debug, Clone)]
        pub struct #name {
            client: rt::Client,
        }

        impl #name {
            #ctor

            /// The underlying runtime client (for raw calls).
            pub fn runtime_client(&self) -> &rt::Client {
                &self.client
            }

            #(#methods)*
        }

        #(#paginated)*
    }
}

/// Whether a function pages with `continuationToken` into an output struct that carries one.
fn pagination_type(t: &Typed<'_>, space: &TypeSpace<'_>) -> Option<(String, String)> {
    if !t.f.query.iter().any(|q| q == "continuationToken") {
        return None;
    }
    let Some(Ty::Named(id)) = &t.output else { return None };
    let Kind::Struct { fields, .. } = &space.defs[*id].kind else { return None };
    let field = fields.iter().find(|f| f.json == "continuationToken" && f.ty == Ty::Option(Box::new(Ty::String)))?;
    Some((space.name(*id).to_owned(), field.rust.clone()))
}

fn paginated_impl(t: &Typed<'_>, space: &TypeSpace<'_>) -> Option<(String, TokenStream)> {
    let (type_name, field) = pagination_type(t, space)?;
    let tn = ident(&type_name);
    let field = ident(&field);
    Some((
        type_name,
        quote! {
            impl rt::Paginated for #tn {
                fn continuation_token(&self) -> Option<&str> {
                    self.#field.as_deref()
                }
            }
        },
    ))
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
                args.push(quote!(rt::urls::encode_path_segment(#a)));
            }
            RoutePiece::Wildcard(n) => {
                fmt.push_str("{}");
                let a = ident(&names::snake(n));
                args.push(quote!(rt::urls::encode_path(#a)));
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
                    Some(tail) => format!(#with_tail, #(#args,)* rt::urls::encode_path_segment(tail)),
                    None => #base,
                }
            }
        }
    }
}

/// Method parameters for path args and query args, and the expressions that pass them on.
/// `lt` is the lifetime of the borrowed arguments (empty or `'a`); with `pager`, the
/// `continuationToken` query is no parameter but the pager's `token`.
fn arg_params(f: &Function, lt: &TokenStream, pager: bool) -> (Vec<TokenStream>, Vec<TokenStream>) {
    let mut params = Vec::new();
    let mut pass = Vec::new();
    for p in &f.pieces {
        let (n, optional) = match p {
            RoutePiece::Param(n) | RoutePiece::Wildcard(n) => (n, false),
            RoutePiece::OptionalTail(n) => (n, true),
            RoutePiece::Literal(_) => continue,
        };
        let a = ident(&names::snake(n));
        params.push(if optional { quote!(#a: Option<&#lt str>) } else { quote!(#a: &#lt str) });
        pass.push(quote!(#a));
    }
    for q in &f.query {
        let a = ident(&names::snake(q));
        if pager && q == "continuationToken" {
            pass.push(quote!(token.as_deref()));
        } else {
            params.push(quote!(#a: Option<&#lt str>));
            pass.push(quote!(#a));
        }
    }
    (params, pass)
}

fn method_doc(service: &Service, f: &Function) -> String {
    let mut text = format!("{}\n\n", f.title.trim());
    let desc = docs::clean(&f.description);
    if !desc.is_empty() {
        text.push_str(&desc);
        text.push_str("\n\n");
    }
    match f.stability {
        Stability::Experimental => {
            text.push_str("**Experimental**: this endpoint may change or go away without notice.\n\n")
        }
        Stability::Deprecated => text.push_str("**Deprecated.**\n\n"),
        Stability::Stable => {}
    }
    let route = match &service.flavor {
        Flavor::Taskcluster { .. } => f.route.clone(),
        Flavor::GoCd => format!("/go{}", f.route),
    };
    text.push_str(&format!("`{} {}`", f.method.as_str(), route));
    if let Some(g) = &f.gocd {
        if let Some(a) = &g.accept {
            text.push_str(&format!(", `Accept: {a}`"));
        }
        for (k, v) in &g.headers {
            text.push_str(&format!(", `{k}: {v}`"));
        }
        if let Some(s) = &g.since {
            text.push_str(&format!(" (since GoCD {s})"));
        }
        if !g.decisions.is_empty() {
            text.push_str("\n\nWhere the GoCD documentation contradicts itself:\n");
            for d in &g.decisions {
                text.push_str(&format!("\n- {}", d.replace('\n', " ")));
            }
        }
    }
    if let Some(s) = &f.scopes {
        text.push_str("\n\nRequired scopes:\n\n");
        text.push_str(&docs::scopes(s));
    }
    text
}

fn method(service: &Service, t: &Typed<'_>, space: &TypeSpace<'_>) -> TokenStream {
    let f = t.f;
    let fname = ident(&names::snake(&f.name));
    let doc = docs::attrs(&method_doc(service, f));
    let deprecated =
        (f.stability == Stability::Deprecated).then(|| quote!(#[deprecated(note = "deprecated in the API reference")]));
    let allow_deprecated = (f.stability == Stability::Deprecated).then(|| quote!(#[allow(deprecated)]));
    let method = format_ident!("{}", f.method.as_str());
    let path = path_expr(f);
    let (arg_list, pass) = arg_params(f, &quote!(), false);
    let mut params = arg_list.clone();
    let query = f.query.iter().map(|q| {
        let a = ident(&names::snake(q));
        quote!(.query_opt(#q, #a))
    });
    let mut build = quote! { rt::Request::new(rt::reqwest::Method::#method, #path) #(#query)* };

    let g = f.gocd.as_ref();
    if let Some(g) = g {
        if let Some(a) = &g.accept {
            build = quote!(#build.header("accept", #a)?);
        }
        for (k, v) in &g.headers {
            let k = k.to_ascii_lowercase();
            build = quote!(#build.header(#k, #v)?);
        }
        if g.etag.if_match() {
            params.push(quote!(etag: &str));
            build = quote!(#build.header("if-match", etag)?);
        }
    }
    let request_kind = g.map_or(if t.input.is_some() { RequestKind::Json } else { RequestKind::None }, |g| g.request);
    let input_ty = t.input.as_ref().map(|i| ty(space, i));
    match (request_kind, &input_ty) {
        (RequestKind::Json, Some(i)) => {
            params.push(quote!(payload: &#i));
            build = quote!(#build.json(payload)?);
        }
        (RequestKind::Form, Some(i)) => {
            params.push(quote!(payload: &#i));
            build = quote!(#build.body(rt::Body::form(payload)?));
        }
        (RequestKind::Multipart, _) => {
            let field = multipart_field(t, space);
            params.push(quote!(upload: rt::Upload));
            build = quote!(#build.body(upload.into_body(#field)));
        }
        (RequestKind::Bytes, _) => {
            params.push(quote!(data: rt::bytes::Bytes));
            build = quote!(#build.body(rt::Body::Bytes { content_type: "application/octet-stream".into(), data }));
        }
        _ => {}
    }

    let out_ty = t.output.as_ref().map(|o| ty(space, o));
    let response = g.map_or(if t.output.is_some() { ResponseKind::Json } else { ResponseKind::None }, |g| g.response);
    let returns_etag = g.is_some_and(|g| g.etag.returns());
    let embedded = g.and_then(|g| g.embedded.clone()).unwrap_or_default();
    let mut generics = quote!();
    let (ret, call) = match (response, &out_ty) {
        (ResponseKind::Json, Some(o)) if returns_etag => {
            (quote!(rt::Versioned<#o>), quote!(self.client.call_versioned(req).await))
        }
        (ResponseKind::Json, Some(o)) => (quote!(#o), quote!(self.client.call_json(req).await)),
        (ResponseKind::Hal, Some(o)) if returns_etag => {
            (quote!(rt::Versioned<rt::HalCollection<#o>>), quote!(self.client.call_hal_versioned(req, #embedded).await))
        }
        (ResponseKind::Hal, Some(o)) => {
            (quote!(rt::HalCollection<#o>), quote!(self.client.call_hal(req, #embedded).await))
        }
        (ResponseKind::Text | ResponseKind::Xml | ResponseKind::Csv, _) => {
            (quote!(String), quote!(self.client.call_text(req).await))
        }
        (ResponseKind::Bytes, _) => {
            generics = quote!(<W: rt::tokio::io::AsyncWrite + Unpin>);
            params.push(quote!(out: &mut W));
            (quote!(u64), quote!(self.client.download(req, out).await))
        }
        (ResponseKind::Zip, _) => {
            generics = quote!(<W: rt::tokio::io::AsyncWrite + Unpin>);
            params.push(quote!(out: &mut W));
            params.push(quote!(timeout: std::time::Duration));
            (quote!(u64), quote!(self.client.download_when_ready(req, out, timeout).await))
        }
        _ => (quote!(()), quote!(self.client.call(req).await.map(drop))),
    };

    // Plain GETs (no headers needed to fetch them) get URL helpers, and share the request
    // builder with the call.
    let plain_get = f.method == HttpMethod::Get && g.is_none() && t.input.is_none();
    let request_fn = format_ident!("{}_request", names::snake(&f.name));
    if plain_get {
        build = quote!(Self::#request_fn(#(#pass),*));
    }
    let main = quote! {
        #doc
        #deprecated
        pub async fn #fname #generics(&self, #(#params),*) -> Result<#ret, rt::Error> {
            let req = #build;
            #call
        }
    };
    let url_helpers = if plain_get {
        let url_params = &arg_list;
        let url_fn = format_ident!("{}_url", names::snake(&f.name));
        let signed_fn = format_ident!("{}_signed_url", names::snake(&f.name));
        let query = f.query.iter().map(|q| {
            let a = ident(&names::snake(q));
            quote!(.query_opt(#q, #a))
        });
        let url_doc = format!(" The URL of [`Self::{fname}`], unsigned.");
        let signed_doc =
            format!(" The URL of [`Self::{fname}`] with a Hawk bewit: it authenticates a plain GET for `ttl`.");
        let f_name = &request_fn;
        quote! {
            #[doc = #url_doc]
            pub fn #url_fn(&self, #(#url_params),*) -> String {
                let req = Self::#f_name(#(#pass),*);
                self.client.url(&req.path, &req.query)
            }

            #[doc = #signed_doc]
            pub fn #signed_fn(&self, #(#url_params,)* ttl: std::time::Duration) -> Result<String, rt::Error> {
                let req = Self::#f_name(#(#pass),*);
                self.client.signed_url(&req.path, &req.query, ttl)
            }

            fn #f_name(#(#url_params),*) -> rt::Request {
                rt::Request::new(rt::reqwest::Method::GET, #path) #(#query)*
            }
        }
    } else {
        quote!()
    };

    // A pager exists only for a function with an output type (pagination_type found one).
    let pages = out_ty.as_ref().filter(|_| pagination_type(t, space).is_some()).map(|o| {
        let pages_fn = format_ident!("{}_pages", names::snake(&f.name));
        let (params, pass) = arg_params(f, &quote!('a), true);
        let payload = input_ty.as_ref().map(|i| quote!(payload: &'a #i));
        let payload_pass = input_ty.as_ref().map(|_| quote!(payload));
        let doc = format!(" Every page of [`Self::{fname}`], following `continuationToken` until the last page.");
        quote! {
            #[doc = #doc]
            #allow_deprecated
            pub fn #pages_fn<'a>(&'a self, #(#params,)* #payload) -> impl rt::futures_util::Stream<Item = Result<#o, rt::Error>> + 'a {
                rt::pages(move |token: Option<String>| async move {
                    self.#fname(#(#pass,)* #payload_pass).await
                })
            }
        }
    });

    quote! { #main #url_helpers #pages }
}

/// The multipart field name: the one property of the input schema, else `file`.
fn multipart_field(t: &Typed<'_>, space: &TypeSpace<'_>) -> String {
    if let Some(Ty::Named(id)) = &t.input {
        if let Kind::Struct { fields, .. } = &space.defs[*id].kind {
            if let [one] = fields.as_slice() {
                return one.json.clone();
            }
        }
    }
    "file".into()
}
