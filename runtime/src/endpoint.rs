//! Endpoints described as data, for programs that call any endpoint by name (the `apigen`
//! command line).
//!
//! Every generated service crate has, behind its `cli` feature, a module `endpoints` holding one
//! [`Service`] with an [`Endpoint`] per function of the API description. An entry carries what
//! the typed method knows (route, query names, constant headers, how the body is encoded) and
//! its documentation, so that a generic caller builds the same [`Request`] the typed method
//! builds: [`Endpoint::request`].

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::client::{Body, Request};
use crate::error::Error;
use crate::urls;

/// One generated service's endpoints.
#[derive(Debug)]
pub struct Service {
    /// The name on the command line: the Taskcluster `serviceName` (`queue`, `worker-manager`),
    /// or `gocd`.
    pub name: &'static str,
    /// Title of the API description.
    pub title: &'static str,
    /// Description of the API (Markdown).
    pub description: &'static str,
    /// Which conventions the service's URLs follow.
    pub api: Api,
    /// Every endpoint, in the description's order.
    pub endpoints: &'static [Endpoint],
}

impl Service {
    /// The endpoint with command-line name `name`.
    pub fn endpoint(&self, name: &str) -> Option<&'static Endpoint> {
        self.endpoints.iter().find(|e| e.name == name)
    }
}

/// Where a service's routes are rooted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// `<rootUrl>/api/<service_name>/<api_version>/<route>`; see [`crate::Client::service`].
    Taskcluster {
        /// `serviceName` of the reference.
        service_name: &'static str,
        /// `apiVersion` of the reference.
        api_version: &'static str,
    },
    /// Relative to the GoCD server's `.../go` URL.
    GoCd,
}

/// How an endpoint is documented to be stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stability {
    /// Stable.
    Stable,
    /// May change or go away without notice.
    Experimental,
    /// Will go away.
    Deprecated,
}

/// A piece of a route, as the generated method encodes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment {
    /// Literal text, sent as it is.
    Literal(&'static str),
    /// `<name>`: the next argument, encoded as one path segment ([`urls::encode_path_segment`]).
    Param,
    /// `<*name>`: the next argument, a path whose `/` are kept ([`urls::encode_path`]).
    Wildcard,
    /// `[/<name>]`: an optional last argument, appended as `/<segment>` when given.
    OptionalTail,
}

/// Checks that a JSON value is a valid request body: `Err` says what is wrong and where.
pub type InputCheck = fn(&Value) -> Result<(), String>;

/// How the request body is sent.
#[derive(Debug, Clone, Copy)]
pub enum Input {
    /// No body.
    None,
    /// A JSON body of the generated input type.
    Json(InputCheck),
    /// `application/x-www-form-urlencoded` fields of the input type ([`Body::form`]); `optional`
    /// when every field is, so the body may be left out.
    Form {
        /// The check of the fields.
        check: InputCheck,
        /// Whether the body may be left out.
        optional: bool,
    },
    /// A `multipart/form-data` upload of one file in the named field.
    Multipart(&'static str),
    /// Raw bytes (`application/octet-stream`).
    Bytes,
}

/// How the response body is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Nothing of interest (the call's success is the answer).
    None,
    /// A JSON value (a HAL collection is one too).
    Json,
    /// Text (also XML and CSV).
    Text,
    /// Bytes, streamed.
    Bytes,
    /// A zip the server may answer `202 Accepted` for until it is ready
    /// ([`crate::Client::download_when_ready`]).
    Zip,
}

/// One endpoint: everything a generic caller needs to send what the typed method sends, and the
/// text its help shows.
#[derive(Debug)]
pub struct Endpoint {
    /// The command-line name: the function's name in kebab case (`current-scopes`).
    pub name: &'static str,
    /// The function's name in the description (`currentScopes`).
    pub function: &'static str,
    /// Title.
    pub title: &'static str,
    /// Description (Markdown).
    pub description: &'static str,
    /// Stability.
    pub stability: Stability,
    /// Required scopes as a Markdown list (empty when none are).
    pub scopes: &'static str,
    /// HTTP method (`GET`, `PUT`, ...).
    pub method: &'static str,
    /// The route as documented (`/task/<taskId>`).
    pub route: &'static str,
    /// The route, parsed.
    pub segments: &'static [Segment],
    /// Names of the path arguments, in route order (the last may be an optional tail).
    pub args: &'static [&'static str],
    /// Names of the query parameters.
    pub query: &'static [&'static str],
    /// Constant headers the typed method sends (GoCD's versioned `Accept`, `Confirm`, ...).
    pub headers: &'static [(&'static str, &'static str)],
    /// Whether the typed method sends `If-Match` with an ETag the caller got earlier.
    pub if_match: bool,
    /// The request body.
    pub input: Input,
    /// The response body.
    pub output: Output,
}

impl Endpoint {
    /// The number of path arguments that must be given (an optional tail may be left out).
    pub fn required_args(&self) -> usize {
        self.segments.iter().filter(|s| matches!(s, Segment::Param | Segment::Wildcard)).count()
    }

    /// The request path for `args`, encoded exactly as the typed method encodes it.
    pub fn path(&self, args: &[&str]) -> Result<String, Error> {
        let required = self.required_args();
        let optional = self.args.len() - required;
        if args.len() < required || args.len() > required + optional {
            let expected = if optional == 0 { required.to_string() } else { format!("{required} or {}", required + 1) };
            return Err(Error::invalid(format!(
                "{} takes {expected} path argument(s) ({}), not {}",
                self.name,
                self.args.join(", "),
                args.len()
            )));
        }
        let mut values = args.iter();
        let mut path = String::new();
        for s in self.segments {
            match s {
                Segment::Literal(l) => path.push_str(l),
                Segment::Param => path.push_str(&urls::encode_path_segment(values.next().copied().unwrap_or(""))),
                Segment::Wildcard => path.push_str(&urls::encode_path(values.next().copied().unwrap_or(""))),
                Segment::OptionalTail => {
                    if let Some(v) = values.next() {
                        path.push('/');
                        path.push_str(&urls::encode_path_segment(v));
                    }
                }
            }
        }
        Ok(path)
    }

    /// The request the typed method would build for these path arguments, query pairs (names
    /// must be among [`Endpoint::query`]) and body. The body is checked against the input type;
    /// `If-Match` is for the caller to add.
    pub fn request(
        &self,
        args: &[&str],
        query: &[(String, String)],
        body: Option<RequestBody>,
    ) -> Result<Request, Error> {
        let method = reqwest::Method::from_bytes(self.method.as_bytes())
            .map_err(|_| Error::invalid(format!("{:?} is not an HTTP method", self.method)))?;
        let mut req = Request::new(method, self.path(args)?);
        for (k, v) in query {
            if !self.query.contains(&k.as_str()) {
                let known = if self.query.is_empty() { "none".to_owned() } else { self.query.join(", ") };
                return Err(Error::invalid(format!("{} has no query parameter {k:?} (it takes: {known})", self.name)));
            }
            req = req.query(k, v);
        }
        for (k, v) in self.headers {
            req = req.header(k, v)?;
        }
        // The command-line name, as in every other message here: it is what the user typed.
        let invalid = |e: String| Error::invalid(format!("the request body does not fit {}: {e}", self.name));
        let body = match (self.input, body) {
            (Input::None, None) => Body::Empty,
            (Input::None, Some(_)) => return Err(Error::invalid(format!("{} takes no request body", self.name))),
            (Input::Json(check), Some(RequestBody::Json(v))) => {
                check(&v).map_err(invalid)?;
                Body::json(&v)?
            }
            (Input::Form { check, .. }, Some(RequestBody::Json(v))) => {
                check(&v).map_err(invalid)?;
                Body::form(&v)?
            }
            (Input::Form { optional: true, .. }, None) => Body::Empty,
            (Input::Multipart(field), Some(RequestBody::File { file_name, data })) => {
                Body::Multipart { field: field.to_owned(), file_name, data }
            }
            (Input::Bytes, Some(RequestBody::File { data, .. })) => {
                Body::Bytes { content_type: "application/octet-stream".into(), data }
            }
            (_, None) => return Err(Error::invalid(format!("{} needs a request body", self.name))),
            (Input::Json(_) | Input::Form { .. }, Some(RequestBody::File { .. })) => {
                return Err(Error::invalid(format!("{} takes a JSON request body", self.name)))
            }
            (Input::Multipart(_) | Input::Bytes, Some(RequestBody::Json(_))) => {
                return Err(Error::invalid(format!("{} takes a file as its request body", self.name)))
            }
        };
        Ok(req.body(body))
    }
}

/// A request body given to [`Endpoint::request`].
#[derive(Debug, Clone)]
pub enum RequestBody {
    /// A JSON value (for JSON and form bodies).
    Json(Value),
    /// A file's content (for uploads and raw bytes).
    File {
        /// The file name sent with a multipart upload.
        file_name: String,
        /// The content.
        data: bytes::Bytes,
    },
}

/// The [`InputCheck`] of a type: whether `value` deserializes into `T`, naming the JSON pointer
/// of the first mismatch (`/metadata/owner: missing field ...`). Unknown fields pass where the
/// type keeps or ignores them, as the server decides about those.
pub fn check<T: DeserializeOwned>(value: &Value) -> Result<(), String> {
    match serde_path_to_error::deserialize::<_, T>(value) {
        Ok(_) => Ok(()),
        Err(e) => {
            let pointer = crate::error::json_pointer(e.path());
            if pointer.is_empty() && !value.is_object() && takes_objects::<T>() {
                // serde reads an array as a struct's fields in order ("invalid length 0,
                // expected struct ... with 19 elements"), which says nothing to a person.
                return Err(format!("the body: expected a JSON object, got {}", crate::json::kind(value)));
            }
            let at = if pointer.is_empty() { "the body".to_owned() } else { pointer };
            Err(format!("{at}: {}", e.into_inner()))
        }
    }
}

/// Whether `T` is read from a JSON object: an empty one is either accepted or lacks a field.
fn takes_objects<T: DeserializeOwned>() -> bool {
    match serde_json::from_value::<T>(Value::Object(serde_json::Map::new())) {
        Ok(_) => true,
        Err(e) => e.to_string().starts_with("missing field"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static E: Endpoint = Endpoint {
        name: "get-artifact",
        function: "getArtifact",
        title: "",
        description: "",
        stability: Stability::Stable,
        scopes: "",
        method: "GET",
        route: "/task/<taskId>/runs/<runId>/artifacts/<name>[/<tail>]",
        segments: &[
            Segment::Literal("task/"),
            Segment::Param,
            Segment::Literal("/runs/"),
            Segment::Param,
            Segment::Literal("/artifacts/"),
            Segment::Wildcard,
            Segment::OptionalTail,
        ],
        args: &["taskId", "runId", "name", "tail"],
        query: &["limit"],
        headers: &[],
        if_match: false,
        input: Input::None,
        output: Output::Json,
    };

    #[test]
    fn paths_are_encoded_like_the_typed_methods() {
        assert_eq!(E.path(&["a b", "0", "public/x y"]).unwrap(), "task/a%20b/runs/0/artifacts/public/x%20y");
        assert_eq!(E.path(&["a", "0", "n", "t/u"]).unwrap(), "task/a/runs/0/artifacts/n/t%2Fu");
        let e = E.path(&["a"]).unwrap_err().to_string();
        assert!(e.contains("takes 3 or 4 path argument(s) (taskId, runId, name, tail), not 1"), "{e}");
    }

    #[test]
    fn unknown_query_names_and_bodies_are_refused() {
        let q = [("limit".to_owned(), "5".to_owned())];
        assert_eq!(E.request(&["a", "0", "n"], &q, None).unwrap().query, q.to_vec());
        let e = E.request(&["a", "0", "n"], &[("limt".into(), "5".into())], None).unwrap_err().to_string();
        assert!(e.contains("no query parameter \"limt\""), "{e}");
        let e = E.request(&["a", "0", "n"], &[], Some(RequestBody::Json(Value::Null))).unwrap_err().to_string();
        assert!(e.contains("takes no request body"), "{e}");
    }

    #[test]
    fn checks_name_the_field() {
        #[derive(serde::Deserialize)]
        #[allow(dead_code)]
        struct Inner {
            n: u32,
        }
        #[derive(serde::Deserialize)]
        #[allow(dead_code)]
        struct Outer {
            inner: Vec<Inner>,
        }
        let e = check::<Outer>(&serde_json::json!({"inner": [{"n": 1}, {"n": "x"}]})).unwrap_err();
        assert!(e.starts_with("/inner/1/n: invalid type: string \"x\""), "{e}");
        let e = check::<Outer>(&serde_json::json!({})).unwrap_err();
        assert_eq!(e, "the body: missing field `inner`");
        // Not an object at all: said so, not as serde's fields-in-order reading of an array.
        let e = check::<Outer>(&serde_json::json!([])).unwrap_err();
        assert_eq!(e, "the body: expected a JSON object, got an array");
        let e = check::<Outer>(&serde_json::json!(5)).unwrap_err();
        assert_eq!(e, "the body: expected a JSON object, got a number");
        // A body that is a list keeps serde's message.
        let e = check::<Vec<Inner>>(&serde_json::json!(5)).unwrap_err();
        assert!(e.starts_with("the body: invalid type: integer `5`, expected a sequence"), "{e}");
    }
}
