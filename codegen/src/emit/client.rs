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

/// The client struct, its methods, and `Paginated` impls; and the `blocking` module.
pub fn client(service: &Service, functions: &[Typed<'_>], space: &TypeSpace<'_>) -> (TokenStream, TokenStream) {
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
            /// build it with [`rt::Client::gocd_builder`]), speaking the API versions the GoCD
            /// documentation shows (see [`ApiFamily::default_version`]).
            pub fn new(client: &rt::Client) -> Self {
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
    let (methods, twins): (Vec<TokenStream>, Vec<TokenStream>) =
        functions.iter().map(|t| method(service, t, space)).unzip();
    let from_env = matches!(service.flavor, Flavor::Taskcluster { .. }).then(|| {
        quote! {
            /// A client configured from the `TASKCLUSTER_*` environment variables.
            pub fn from_env() -> Result<Self, rt::Error> {
                Ok(Self { inner: crate::#name::from_env()? })
            }
        }
    });
    let module_doc = docs::inner_attrs(&format!(
        "Blocking twin of [`crate::{name}`] (feature `blocking`): the same methods, each returning when the \
         call is done.\n\nNo async runtime is needed: calls run on a small runtime the `apigen-runtime` \
         crate owns. Called from inside an async runtime, a method returns an error instead of blocking it."
    ));
    let blocking = quote! {
        #module_doc

        use apigen_runtime as rt;
        // The body types, whichever this service's methods take and return.
        #[allow(unused_imports)]
        use crate::*;

        #struct_doc
        #[derive(Debug, Clone)]
        pub struct #name {
            inner: crate::#name,
        }

        impl #name {
            /// A blocking client of the service `client` is configured for.
            pub fn new(client: &rt::Client) -> Self {
                Self { inner: crate::#name::new(client) }
            }

            #from_env

            /// The async client this one wraps.
            pub fn as_async(&self) -> &crate::#name {
                &self.inner
            }

            #(#twins)*
        }
    };
    let paginated = functions.iter().filter_map(|t| paginated_impl(t, space));
    let mut seen = std::collections::BTreeSet::new();
    let paginated: Vec<TokenStream> = paginated.filter(|(n, _)| seen.insert(n.clone())).map(|(_, ts)| ts).collect();
    let client = quote! {
        #struct_doc
        #[derive(Debug, Clone)]
        pub struct #name {
            client: rt::Client,
            #version_field
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

        #families_ts
    };
    (client, blocking)
}

/// `application/vnd.go.cd.v<N>+json` → `N`.
fn vendor_version(accept: &str) -> Option<u32> {
    accept.strip_prefix("application/vnd.go.cd.v")?.strip_suffix("+json")?.parse().ok()
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

/// The family of a function, if it sends a versioned `Accept`.
fn family_of(f: &Function) -> Option<proc_macro2::Ident> {
    let g = f.gocd.as_ref()?;
    g.accept.as_deref().and_then(vendor_version)?;
    Some(ident(&names::camel(f.category.as_deref()?)))
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

/// Whether a request body may be left out: a form whose fields are all optional (sending
/// none means "the defaults", as in GoCD's "no parameter" scheduling).
pub(super) fn optional_form(t: &Typed<'_>, space: &TypeSpace<'_>) -> bool {
    match &t.input {
        Some(Ty::Map(_)) => true,
        Some(Ty::Named(id)) => match &space.defs[*id].kind {
            Kind::Struct { fields, .. } => fields.iter().all(|f| !f.required),
            _ => false,
        },
        _ => false,
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
            if let (Some(_), Some(c)) = (vendor_version(a), &f.category) {
                text.push_str(&format!(" (the default of [`ApiFamily::{}`])", names::camel(c)));
            }
        }
        for (k, v) in &g.headers {
            text.push_str(&format!(", `{k}: {v}`"));
        }
        if let Some(s) = &g.since {
            text.push_str(&format!(" (since GoCD {s})"));
        }
    }
    if let Some(s) = &f.scopes {
        text.push_str("\n\nRequired scopes:\n\n");
        text.push_str(&docs::scopes(s));
    }
    text
}

/// One endpoint's async method (with URL helpers and pager), and its blocking twin.
fn method(service: &Service, t: &Typed<'_>, space: &TypeSpace<'_>) -> (TokenStream, TokenStream) {
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
    // The argument names, in order, for the blocking twin's call.
    let mut arg_names = pass.clone();
    let query = f.query.iter().map(|q| {
        let a = ident(&names::snake(q));
        quote!(.query_opt(#q, #a))
    });
    let mut build = quote! { rt::Request::new(rt::reqwest::Method::#method, #path) #(#query)* };

    let g = f.gocd.as_ref();
    if let Some(g) = g {
        match (&g.accept, family_of(f)) {
            (Some(_), Some(family)) => build = quote!(#build.header("accept", &self.accept(ApiFamily::#family))?),
            (Some(a), None) => build = quote!(#build.header("accept", #a)?),
            (None, _) => {}
        }
        for (k, v) in &g.headers {
            let k = k.to_ascii_lowercase();
            build = quote!(#build.header(#k, #v)?);
        }
        if g.etag.if_match() {
            params.push(quote!(etag: &str));
            arg_names.push(quote!(etag));
            build = quote!(#build.header("if-match", etag)?);
        }
    }
    let request_kind = g.map_or(if t.input.is_some() { RequestKind::Json } else { RequestKind::None }, |g| g.request);
    let input_ty = t.input.as_ref().map(|i| ty(space, i));
    match (request_kind, &input_ty) {
        (RequestKind::Json, Some(i)) => {
            params.push(quote!(payload: &#i));
            arg_names.push(quote!(payload));
            build = quote!(#build.json(payload)?);
        }
        (RequestKind::Form, Some(i)) if optional_form(t, space) => {
            params.push(quote!(payload: Option<&#i>));
            arg_names.push(quote!(payload));
            build = quote! {{
                let req = #build;
                match payload {
                    Some(p) => req.body(rt::Body::form(p)?),
                    None => req,
                }
            }};
        }
        (RequestKind::Form, Some(i)) => {
            params.push(quote!(payload: &#i));
            arg_names.push(quote!(payload));
            build = quote!(#build.body(rt::Body::form(payload)?));
        }
        (RequestKind::Multipart, _) => {
            let field = multipart_field(t, space);
            params.push(quote!(upload: rt::Upload));
            arg_names.push(quote!(upload));
            build = quote!(#build.body(upload.into_body(#field)));
        }
        (RequestKind::Bytes, _) => {
            params.push(quote!(data: rt::bytes::Bytes));
            arg_names.push(quote!(data));
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
            arg_names.push(quote!(out));
            (quote!(u64), quote!(self.client.download(req, out).await))
        }
        (ResponseKind::Zip, _) => {
            generics = quote!(<W: rt::tokio::io::AsyncWrite + Unpin>);
            params.push(quote!(out: &mut W));
            params.push(quote!(timeout: std::time::Duration));
            arg_names.extend([quote!(out), quote!(timeout)]);
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
    let pages_fn = format_ident!("{}_pages", names::snake(&f.name));
    let (page_params, page_pass) = arg_params(f, &quote!('a), true);
    let payload = input_ty.as_ref().map(|i| quote!(payload: &'a #i));
    let payload_pass = input_ty.as_ref().map(|_| quote!(payload));
    let paged_out = out_ty.as_ref().filter(|_| pagination_type(t, space).is_some());
    let pages = paged_out.map(|o| {
        let (params, pass) = (&page_params, &page_pass);
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

    // The blocking twin: the same names and arguments, each call run on the runtime's
    // blocking executor.
    let twin_doc = format!(" Blocking [`crate::{}::{fname}`].", service.client_name);
    let mut twin = quote! {
        #[doc = #twin_doc]
        #deprecated
        #allow_deprecated
        pub fn #fname #generics(&self, #(#params),*) -> Result<#ret, rt::Error> {
            rt::blocking::block_on(self.inner.#fname(#(#arg_names),*))
        }
    };
    if plain_get {
        let url_fn = format_ident!("{}_url", names::snake(&f.name));
        let signed_fn = format_ident!("{}_signed_url", names::snake(&f.name));
        let url_params = &arg_list;
        let url_doc = format!(" Same as [`crate::{}::{url_fn}`].", service.client_name);
        let signed_doc = format!(" Same as [`crate::{}::{signed_fn}`].", service.client_name);
        twin.extend(quote! {
            #[doc = #url_doc]
            pub fn #url_fn(&self, #(#url_params),*) -> String {
                self.inner.#url_fn(#(#pass),*)
            }

            #[doc = #signed_doc]
            pub fn #signed_fn(&self, #(#url_params,)* ttl: std::time::Duration) -> Result<String, rt::Error> {
                self.inner.#signed_fn(#(#pass,)* ttl)
            }
        });
    }
    if let Some(o) = paged_out {
        let page_names =
            arg_params(f, &quote!('a), false).1.into_iter().filter(|n| n.to_string() != "continuation_token");
        let pages_doc = format!(" Every page of [`Self::{fname}`], each fetched when the iterator reaches it.");
        twin.extend(quote! {
            #[doc = #pages_doc]
            #allow_deprecated
            pub fn #pages_fn<'a>(&'a self, #(#page_params,)* #payload) -> impl Iterator<Item = Result<#o, rt::Error>> + 'a {
                rt::blocking::iter(self.inner.#pages_fn(#(#page_names,)* #payload_pass))
            }
        });
    }
    (quote! { #main #url_helpers #pages }, twin)
}

/// The multipart field name: the one property of the input schema, else `file`.
pub(super) fn multipart_field(t: &Typed<'_>, space: &TypeSpace<'_>) -> String {
    if let Some(Ty::Named(id)) = &t.input {
        if let Kind::Struct { fields, .. } = &space.defs[*id].kind {
            if let [one] = fields.as_slice() {
                return one.json.clone();
            }
        }
    }
    "file".into()
}
