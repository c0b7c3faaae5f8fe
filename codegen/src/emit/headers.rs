//! Constant request headers as `const` items (`HeaderValue::from_static`), so that a method
//! adds them without checking or parsing anything per call.

use std::collections::{BTreeMap, BTreeSet};

use heck::ToShoutySnakeCase;
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::method_plan::{Header, MethodPlan};

/// Header names the `http` crate has constants for.
const STANDARD: &[(&str, &str)] = &[("accept", "ACCEPT"), ("content-type", "CONTENT_TYPE"), ("if-match", "IF_MATCH")];

/// The constant headers of a client's methods, each (name, value) once.
pub struct HeaderConsts {
    /// (name, value) → the name's expression and the value's `const`.
    values: BTreeMap<(String, String), (TokenStream, Ident)>,
    /// Our own name constants (headers the `http` crate does not know): const → name.
    names: BTreeMap<String, String>,
}

impl HeaderConsts {
    /// The constants of every `Header::Constant` of `plans` that is valid as a static header
    /// (the others are checked per call, as caller input is).
    pub fn new(plans: &[MethodPlan<'_>]) -> HeaderConsts {
        let mut values = BTreeMap::new();
        let mut names = BTreeMap::new();
        let mut used = BTreeSet::new();
        for h in plans.iter().flat_map(|p| &p.headers) {
            let Header::Constant(k, v) = h else { continue };
            if values.contains_key(&(k.clone(), v.clone())) || !is_static(k, v) {
                continue;
            }
            let name = match STANDARD.iter().find(|(n, _)| n == k) {
                Some((_, c)) => {
                    let c = format_ident!("{c}");
                    quote!(apigen_runtime::reqwest::header::#c)
                }
                None => {
                    let c = k.to_shouty_snake_case();
                    if !names.contains_key(&c) {
                        used.insert(c.clone());
                        names.insert(c.clone(), k.clone());
                    }
                    let c = format_ident!("{c}");
                    quote!(#c)
                }
            };
            let mut value = format!("{k} {v}").to_shouty_snake_case();
            while !used.insert(value.clone()) {
                value.push('_');
            }
            values.insert((k.clone(), v.clone()), (name, format_ident!("{value}")));
        }
        HeaderConsts { values, names }
    }

    /// `.with_header(NAME, VALUE)` for a constant header, if it is one of ours.
    pub fn add(&self, name: &str, value: &str) -> Option<TokenStream> {
        let (n, v) = self.values.get(&(name.to_owned(), value.to_owned()))?;
        Some(quote!(.with_header(#n, #v)))
    }

    /// The `const` items.
    pub fn items(&self) -> TokenStream {
        let names = self.names.iter().map(|(c, name)| {
            let c = format_ident!("{c}");
            let doc = format!(" The `{name}` header.");
            quote! {
                #[doc = #doc]
                const #c: apigen_runtime::reqwest::header::HeaderName =
                    apigen_runtime::reqwest::header::HeaderName::from_static(#name);
            }
        });
        let values = self.values.iter().map(|((name, value), (_, c))| {
            let doc = format!(" `{name}: {value}`");
            quote! {
                #[doc = #doc]
                const #c: apigen_runtime::reqwest::header::HeaderValue =
                    apigen_runtime::reqwest::header::HeaderValue::from_static(#value);
            }
        });
        quote! { #(#names)* #(#values)* }
    }
}

/// Whether `from_static` takes the name (a lower-case token) and the value (visible ASCII,
/// spaces and tabs); it would refuse anything else when the generated crate is compiled.
fn is_static(name: &str, value: &str) -> bool {
    let token = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "!#$%&'*+-.^_`|~".contains(c);
    !name.is_empty() && name.chars().all(token) && value.bytes().all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_headers_from_static_takes_become_constants() {
        assert!(is_static("accept", "application/vnd.go.cd+json"));
        assert!(is_static("x-gocd-confirm", "true"));
        assert!(!is_static("Confirm", "true"), "from_static wants lower-case names");
        assert!(!is_static("confirm", "caf\u{e9}"));
        assert!(!is_static("bad name", "x"));
    }
}
