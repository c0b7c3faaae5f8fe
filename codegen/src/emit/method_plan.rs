//! What one endpoint's methods are, decided from the model before anything is rendered.
//!
//! [`MethodPlan::new`] holds every decision (which arguments, which headers, how the body is
//! sent, how the answer is read, whether URL helpers and a pager exist); `client.rs` only turns
//! a plan into tokens, once for the async client and once for its blocking twin, so the two
//! cannot drift apart.

use super::docs;
use crate::model::*;
use crate::names;
use crate::schema::{Kind, Ty, TypeSpace};

/// One endpoint's methods.
pub struct MethodPlan<'a> {
    /// The endpoint.
    pub f: &'a Function,
    /// Method name (snake case).
    pub name: String,
    /// Doc text of the main method.
    pub doc: String,
    /// Marked deprecated in the reference.
    pub deprecated: bool,
    /// Path and query arguments, in route order then query order.
    pub args: Vec<Arg>,
    /// Headers the request carries besides what the runtime adds.
    pub headers: Vec<Header>,
    /// How the request body is sent.
    pub body: BodyPlan,
    /// How the response is read.
    pub returns: Returns,
    /// A plain GET (no body, no headers): `<name>_url`, `<name>_signed_url` and a request
    /// builder shared with the call.
    pub url_helpers: bool,
    /// Pages with `continuationToken`: the output type and its token field.
    pub pagination: Option<Pagination>,
}

/// A path or query argument: `&str`, or `Option<&str>` where it may be left out.
pub struct Arg {
    /// Parameter name (snake case).
    pub name: String,
    /// Name in the reference (the query parameter's name on the wire).
    pub json: String,
    /// Where it goes.
    pub kind: ArgKind,
}

/// Where an argument goes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    /// A path parameter (required).
    Path,
    /// The optional last path segment.
    OptionalTail,
    /// The query parameter `continuationToken`, which a pager fills in.
    ContinuationToken,
    /// Any other query parameter (optional).
    Query,
}

impl Arg {
    /// Whether the parameter is an `Option`.
    pub fn optional(&self) -> bool {
        self.kind != ArgKind::Path
    }
}

/// A request header.
pub enum Header {
    /// `Accept` of an endpoint family whose version is chosen at run time (variant name).
    FamilyAccept(String),
    /// A header whose name and value are fixed (name lower case).
    Constant(String, String),
    /// `If-Match` from the caller's `etag` argument.
    IfMatch,
}

/// How the request body is sent.
pub enum BodyPlan {
    /// No body.
    None,
    /// JSON of the given type.
    Json(Ty),
    /// A form of the given type; `optional` when every field is (sending none means the
    /// defaults, as in GoCD's "no parameter" scheduling).
    Form {
        /// The form's type.
        ty: Ty,
        /// Whether the caller may pass `None`.
        optional: bool,
    },
    /// A `multipart/form-data` upload in the given field.
    Multipart(String),
    /// Raw bytes (`application/octet-stream`).
    Bytes,
}

/// How the response is read.
pub enum Returns {
    /// Nothing (the status is checked).
    Unit,
    /// A JSON body; `versioned` keeps the `ETag`.
    Json {
        /// The body type.
        ty: Ty,
        /// Whether the `ETag` comes back with it.
        versioned: bool,
    },
    /// A HAL collection under `_embedded.<key>`.
    Hal {
        /// The item type.
        ty: Ty,
        /// The `_embedded` key.
        key: String,
        /// Whether the `ETag` comes back with it.
        versioned: bool,
    },
    /// The body as text.
    Text,
    /// The body streamed into a writer.
    Download,
    /// The body streamed into a writer once the server has it ready (GoCD's `202` then `200`).
    DownloadWhenReady,
}

/// A paginated output type.
pub struct Pagination {
    /// The output type.
    pub ty: Ty,
    /// Its type name (the `Paginated` impl is per type).
    pub type_name: String,
    /// Its `continuationToken` field (Rust name).
    pub field: String,
}

impl<'a> MethodPlan<'a> {
    /// The plan of `f`, whose schemas are the types `input` and `output` of `space`.
    pub fn new(
        service: &Service,
        f: &'a Function,
        input: Option<&Ty>,
        output: Option<&Ty>,
        space: &TypeSpace,
    ) -> MethodPlan<'a> {
        let g = f.gocd.as_ref();
        let mut args = Vec::new();
        for p in &f.pieces {
            let (n, kind) = match p {
                RoutePiece::Param(n) | RoutePiece::Wildcard(n) => (n, ArgKind::Path),
                RoutePiece::OptionalTail(n) => (n, ArgKind::OptionalTail),
                RoutePiece::Literal(_) => continue,
            };
            args.push(Arg { name: names::snake(n), json: n.clone(), kind });
        }
        for q in &f.query {
            let kind = if q == "continuationToken" { ArgKind::ContinuationToken } else { ArgKind::Query };
            args.push(Arg { name: names::snake(q), json: q.clone(), kind });
        }

        let mut headers = Vec::new();
        if let Some(g) = g {
            match (&g.accept, family_of(f)) {
                (Some(_), Some(family)) => headers.push(Header::FamilyAccept(family)),
                (Some(a), None) => headers.push(Header::Constant("accept".into(), a.clone())),
                (None, _) => {}
            }
            for (k, v) in &g.headers {
                headers.push(Header::Constant(k.to_ascii_lowercase(), v.clone()));
            }
            if g.etag.if_match() {
                headers.push(Header::IfMatch);
            }
        }

        let request = g.map_or(if input.is_some() { RequestKind::Json } else { RequestKind::None }, |g| g.request);
        let body = match (request, input) {
            (RequestKind::Json, Some(i)) => BodyPlan::Json(i.clone()),
            (RequestKind::Form, Some(i)) => BodyPlan::Form { ty: i.clone(), optional: optional_form(i, space) },
            (RequestKind::Multipart, _) => BodyPlan::Multipart(multipart_field(input, space)),
            (RequestKind::Bytes, _) => BodyPlan::Bytes,
            _ => BodyPlan::None,
        };

        let response = g.map_or(if output.is_some() { ResponseKind::Json } else { ResponseKind::None }, |g| g.response);
        let versioned = g.is_some_and(|g| g.etag.returns());
        let returns = match (response, output) {
            (ResponseKind::Json, Some(o)) => Returns::Json { ty: o.clone(), versioned },
            // The GoCD loader requires an `_embedded` key for HAL responses.
            (ResponseKind::Hal, Some(o)) => match g.and_then(|g| g.embedded.clone()) {
                Some(key) => Returns::Hal { ty: o.clone(), key, versioned },
                None => Returns::Json { ty: o.clone(), versioned },
            },
            (ResponseKind::Text | ResponseKind::Xml | ResponseKind::Csv, _) => Returns::Text,
            (ResponseKind::Bytes, _) => Returns::Download,
            (ResponseKind::Zip, _) => Returns::DownloadWhenReady,
            _ => Returns::Unit,
        };

        MethodPlan {
            f,
            name: names::snake(&f.name),
            doc: method_doc(service, f),
            deprecated: f.stability == Stability::Deprecated,
            args,
            headers,
            body,
            returns,
            url_helpers: f.method == HttpMethod::Get && g.is_none() && input.is_none(),
            pagination: pagination(f, output, space),
        }
    }
}

/// `application/vnd.go.cd.v<N>+json` → `N`.
pub fn vendor_version(accept: &str) -> Option<u32> {
    accept.strip_prefix("application/vnd.go.cd.v")?.strip_suffix("+json")?.parse().ok()
}

/// The family of a function (its category in camel case), if it sends a versioned `Accept`.
fn family_of(f: &Function) -> Option<String> {
    let g = f.gocd.as_ref()?;
    g.accept.as_deref().and_then(vendor_version)?;
    Some(names::camel(f.category.as_deref()?))
}

/// Whether a form body may be left out: all its fields are optional.
pub(super) fn optional_form(input: &Ty, space: &TypeSpace) -> bool {
    match input {
        Ty::Map(_) => true,
        Ty::Named(id) => match &space.defs[*id].kind {
            Kind::Struct { fields, .. } => fields.iter().all(|f| !f.required),
            _ => false,
        },
        _ => false,
    }
}

/// The multipart field name: the one property of the input schema, else `file`.
pub(super) fn multipart_field(input: Option<&Ty>, space: &TypeSpace) -> String {
    if let Some(Ty::Named(id)) = input {
        if let Kind::Struct { fields, .. } = &space.defs[*id].kind {
            if let [one] = fields.as_slice() {
                return one.json.clone();
            }
        }
    }
    "file".into()
}

/// A function pages when it takes `continuationToken` and its output struct carries one.
fn pagination(f: &Function, output: Option<&Ty>, space: &TypeSpace) -> Option<Pagination> {
    if !f.query.iter().any(|q| q == "continuationToken") {
        return None;
    }
    let Some(Ty::Named(id)) = output else { return None };
    let Kind::Struct { fields, .. } = &space.defs[*id].kind else { return None };
    let field = fields.iter().find(|f| f.json == "continuationToken" && f.ty == Ty::Option(Box::new(Ty::String)))?;
    Some(Pagination { ty: Ty::Named(*id), type_name: space.name(*id).to_owned(), field: field.rust.clone() })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn function(method: HttpMethod, pieces: Vec<RoutePiece>, query: &[&str], gocd: Option<GocdCall>) -> Function {
        Function {
            name: "doThing".into(),
            title: "Do".into(),
            description: String::new(),
            stability: Stability::Deprecated,
            category: Some("pipeline config".into()),
            method,
            route: "/x".into(),
            pieces,
            args: Vec::new(),
            query: query.iter().map(|q| q.to_string()).collect(),
            input: None,
            output: None,
            scopes: None,
            gocd,
            origin: (String::new(), String::new()),
        }
    }

    fn service() -> Service {
        Service {
            flavor: Flavor::GoCd,
            crate_name: "gocd".into(),
            client_name: "GoCd".into(),
            title: String::new(),
            description: String::new(),
            functions: Vec::new(),
            exchanges: None,
            sources: Vec::new(),
        }
    }

    #[test]
    fn a_gocd_call_plans_its_headers_form_and_versioned_hal_answer() {
        let space = TypeSpace::empty();
        let gocd = GocdCall {
            accept: Some("application/vnd.go.cd.v11+json".into()),
            headers: vec![("X-GoCD-Confirm".into(), "true".into())],
            request: RequestKind::Form,
            response: ResponseKind::Hal,
            embedded: Some("pipelines".into()),
            etag: EtagKind::Both,
            status: 200,
            since: None,
            decisions: Vec::new(),
        };
        let pieces = vec![
            RoutePiece::Literal("/p/".into()),
            RoutePiece::Param("name".into()),
            RoutePiece::OptionalTail("rest".into()),
        ];
        let f = function(HttpMethod::Put, pieces, &["fullList"], Some(gocd));
        let form = Ty::Map(Box::new(Ty::String));
        let plan = MethodPlan::new(&service(), &f, Some(&form), Some(&Ty::String), &space);
        assert_eq!(plan.name, "do_thing");
        assert!(plan.deprecated && !plan.url_helpers && plan.pagination.is_none());
        let args: Vec<_> = plan.args.iter().map(|a| (a.name.as_str(), a.json.as_str(), a.optional())).collect();
        assert_eq!(args, [("name", "name", false), ("rest", "rest", true), ("full_list", "fullList", true)]);
        assert!(matches!(&plan.headers[..], [
            Header::FamilyAccept(family),
            Header::Constant(name, value),
            Header::IfMatch,
        ] if family == "PipelineConfig" && name == "x-gocd-confirm" && value == "true"));
        // A map form has no required field: it may be left out.
        assert!(matches!(plan.body, BodyPlan::Form { optional: true, .. }));
        assert!(matches!(&plan.returns, Returns::Hal { key, versioned: true, .. } if key == "pipelines"));
        assert!(plan.doc.contains("`PUT /go/x`, `Accept: application/vnd.go.cd.v11+json`"), "{}", plan.doc);
    }

    #[test]
    fn a_plain_get_gets_url_helpers_and_a_token_argument() {
        let space = TypeSpace::empty();
        let mut svc = service();
        svc.flavor = Flavor::Taskcluster { service_name: "s".into(), api_version: "v1".into() };
        let f = function(HttpMethod::Get, vec![RoutePiece::Wildcard("path".into())], &["continuationToken"], None);
        let plan = MethodPlan::new(&svc, &f, None, None, &space);
        assert!(plan.url_helpers && plan.headers.is_empty());
        assert!(matches!(plan.body, BodyPlan::None) && matches!(plan.returns, Returns::Unit));
        assert!(plan.args[1].kind == ArgKind::ContinuationToken);
        // No output struct carrying a token: no pager.
        assert!(plan.pagination.is_none());
    }
}
