//! The API model both inputs are parsed into: services with functions (endpoints) and
//! exchanges. Schemas are referred to by [`SchemaRef`] and turned into types later.

use serde::{Deserialize, Serialize};

/// Where a schema lives: a document path (`schemas/queue/v1/task.json`) and a JSON pointer.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SchemaRef {
    /// Root-relative document path, no leading `/`.
    pub doc: String,
    /// JSON pointer inside it (`""` for the root).
    pub pointer: String,
}

impl std::fmt::Display for SchemaRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}#{}", self.doc, self.pointer)
    }
}

/// One generated crate's API.
#[derive(Debug, Clone)]
pub struct Service {
    /// What kind of API this is.
    pub flavor: Flavor,
    /// Crate name, e.g. `taskcluster-queue`.
    pub crate_name: String,
    /// Rust name of the client struct, e.g. `Queue`.
    pub client_name: String,
    /// Title from the reference.
    pub title: String,
    /// Description from the reference.
    pub description: String,
    /// Endpoints, in reference order.
    pub functions: Vec<Function>,
    /// Pulse exchanges, if the service has any.
    pub exchanges: Option<Exchanges>,
    /// Where the service came from (for the generated header).
    pub sources: Vec<String>,
}

/// Which runtime conventions the generated client follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flavor {
    /// A Taskcluster service: `<rootUrl>/api/<service>/<version>/<route>`, Hawk.
    Taskcluster {
        /// `serviceName`.
        service_name: String,
        /// `apiVersion`.
        api_version: String,
    },
    /// GoCD: routes relative to the server's `/go` URL, basic auth.
    GoCd,
}

/// How stable an endpoint is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Stability {
    /// Stable.
    #[default]
    Stable,
    /// May change without notice.
    Experimental,
    /// Will go away.
    Deprecated,
}

/// HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum HttpMethod {
    /// GET
    Get,
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
    /// HEAD
    Head,
}

impl HttpMethod {
    /// Upper-case name, as on the wire and as `reqwest::Method`'s constant.
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
            HttpMethod::Head => "HEAD",
        }
    }
}

/// A piece of a route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoutePiece {
    /// Literal text (already valid in a URL path).
    Literal(String),
    /// `<name>`: one path segment, fully percent-encoded.
    Param(String),
    /// `<*name>`: a path whose `/` are kept.
    Wildcard(String),
    /// `[/<name>]`: an optional last segment.
    OptionalTail(String),
}

/// One endpoint.
#[derive(Debug, Clone)]
pub struct Function {
    /// Name as in the reference (camelCase).
    pub name: String,
    /// Title.
    pub title: String,
    /// Description (Markdown).
    pub description: String,
    /// Stability.
    pub stability: Stability,
    /// Category, if any.
    pub category: Option<String>,
    /// Method.
    pub method: HttpMethod,
    /// The route as written (`/task/<taskId>`).
    pub route: String,
    /// The route, parsed (no leading `/`).
    pub pieces: Vec<RoutePiece>,
    /// Path parameter names in route order.
    pub args: Vec<String>,
    /// Query parameter names.
    pub query: Vec<String>,
    /// Request body schema.
    pub input: Option<SchemaRef>,
    /// Response body schema.
    pub output: Option<SchemaRef>,
    /// Required scopes.
    pub scopes: Option<ScopeExpr>,
    /// GoCD specifics.
    pub gocd: Option<GocdCall>,
    /// Where in its file the entry is (for errors).
    pub origin: (String, String),
}

/// A scope expression of a Taskcluster API reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeExpr {
    /// One scope (may contain `<param>`s).
    Scope(String),
    /// All of these.
    AllOf(Vec<ScopeExpr>),
    /// Any of these.
    AnyOf(Vec<ScopeExpr>),
    /// For each element `for` of the parameter `in`, the scope `each`.
    ForEach {
        /// Variable name.
        var: String,
        /// Parameter holding the list.
        list: String,
        /// Scope pattern.
        each: String,
    },
    /// A condition on a boolean parameter.
    If {
        /// Parameter name.
        cond: String,
        /// Required when true.
        then: Box<ScopeExpr>,
        /// Required when false.
        otherwise: Option<Box<ScopeExpr>>,
    },
}

/// The request encoding of a GoCD endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RequestKind {
    /// No body.
    None,
    /// A JSON body of `input`.
    Json,
    /// URL-encoded fields of `input`.
    Form,
    /// A multipart file upload.
    Multipart,
    /// Raw bytes.
    Bytes,
}

/// The response decoding of a GoCD endpoint, chosen from the description, never from the
/// Content-Type the server claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ResponseKind {
    /// One JSON value of `output`.
    Json,
    /// A HAL collection of `output` under `_embedded.<embedded>`.
    Hal,
    /// Plain text.
    Text,
    /// XML, as text.
    Xml,
    /// CSV, as text.
    Csv,
    /// Streamed bytes.
    Bytes,
    /// A zip the server may answer 202 for until it is ready; streamed.
    Zip,
    /// Nothing of interest.
    None,
}

/// ETag handling of a GoCD endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum EtagKind {
    /// No ETag.
    None,
    /// The response carries an ETag.
    Returns,
    /// The request must send `If-Match`.
    IfMatch,
    /// Both.
    Both,
}

impl EtagKind {
    /// Whether the response's ETag is returned.
    pub fn returns(self) -> bool {
        matches!(self, EtagKind::Returns | EtagKind::Both)
    }
    /// Whether the request sends `If-Match`.
    pub fn if_match(self) -> bool {
        matches!(self, EtagKind::IfMatch | EtagKind::Both)
    }
}

/// What a GoCD endpoint needs beyond a Taskcluster-shaped function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GocdCall {
    /// `Accept` header, if any.
    pub accept: Option<String>,
    /// Constant extra headers.
    pub headers: Vec<(String, String)>,
    /// Request encoding.
    pub request: RequestKind,
    /// Response decoding.
    pub response: ResponseKind,
    /// `_embedded` key for HAL collections.
    pub embedded: Option<String>,
    /// ETag handling.
    pub etag: EtagKind,
    /// Documented success status.
    pub status: u16,
    /// GoCD version that introduced it.
    pub since: Option<String>,
    /// Decisions taken where the documentation contradicts itself.
    pub decisions: Vec<String>,
}

/// A service's Pulse exchanges.
#[derive(Debug, Clone)]
pub struct Exchanges {
    /// `exchangePrefix`, e.g. `exchange/taskcluster-queue/v1/`.
    pub prefix: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// The exchanges.
    pub entries: Vec<Exchange>,
}

/// One exchange.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// `name` (camelCase).
    pub name: String,
    /// `exchange` (the suffix after the prefix).
    pub exchange: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Routing-key elements in order.
    pub routing_key: Vec<RoutingKeyElement>,
    /// Message schema.
    pub schema: SchemaRef,
}

/// One element of a routing key.
#[derive(Debug, Clone)]
pub struct RoutingKeyElement {
    /// Name.
    pub name: String,
    /// Summary.
    pub summary: String,
    /// A constant value, if any.
    pub constant: Option<String>,
    /// Whether it may span several words (`#`).
    pub multiple_words: bool,
    /// Whether publishers always set it.
    pub required: bool,
}
