//! `use` lines for a generated file.
//!
//! Renderers spell every outside name in full (`std::collections::BTreeMap`,
//! `apigen_runtime::Request`, `crate::CreateTaskRequest`), which keeps them free of bookkeeping.
//! [`file`] then reads what was rendered: each full path it knows is shortened to its name and
//! gets one `use` line, so a file imports exactly what it uses (no unused-import warnings).
//! A name stays spelled out where the short form would mean something else: a name the file
//! itself uses bare (a generated type `Value`, a variant `Time`, a parameter), a name the
//! caller says is in scope anyway (types a glob import brings in), or a name another path took
//! first (`serde_json::Error` beside `apigen_runtime::Error`).

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::{Delimiter, Group, Ident, Spacing, Span, TokenStream, TokenTree};
use quote::quote;

/// `tokens` with known paths shortened, preceded by their `use` lines (after any leading inner
/// attributes, which must open a file). `in_scope` are names the file sees without defining or
/// using them (glob imports, sibling modules): they are never imported over.
pub fn file(tokens: TokenStream, in_scope: &BTreeSet<String>) -> TokenStream {
    let mut taken = in_scope.clone();
    bare_names(tokens.clone(), &mut taken);
    let mut imports = Imports { taken, chosen: BTreeMap::new() };
    let body = imports.rewrite(tokens);
    let (inner_attrs, rest) = split_inner_attrs(body);
    let uses = imports.use_items();
    quote! { #inner_attrs #uses #rest }
}

struct Imports {
    /// Names the file uses for something of its own.
    taken: BTreeSet<String>,
    /// Short name → the full path it stands for.
    chosen: BTreeMap<String, Vec<String>>,
}

/// How many leading segments of a full path name the item to import, if it is one we shorten.
/// Types and traits are imported by name; `std::fmt`, `apigen_runtime::urls` and
/// `apigen_runtime::blocking` as modules (`fmt::Result` must not become `Result`); free
/// functions stay qualified (`apigen_runtime::pages(..)` says where it comes from).
fn import_len(path: &[String]) -> Option<usize> {
    let upper = |s: &String| s.starts_with(|c: char| c.is_ascii_uppercase());
    let first_type = path.iter().position(upper).map(|i| i + 1);
    match path.first()?.as_str() {
        "crate" if path.len() >= 2 && upper(&path[1]) => Some(2),
        "std" if path.get(1).is_some_and(|s| s == "fmt") && path.len() > 2 => Some(2),
        "std" => first_type,
        "serde" if path.get(1).is_some_and(|s| s == "de") => None,
        "serde_json" if path.get(1).is_some_and(|s| s == "Error") => None,
        "serde" | "serde_json" => first_type,
        "apigen_runtime" if path.len() > 2 && matches!(path[1].as_str(), "urls" | "blocking") => Some(2),
        "apigen_runtime" => first_type,
        _ => None,
    }
}

fn is_path_sep(tokens: &[TokenTree], i: usize) -> bool {
    matches!((tokens.get(i), tokens.get(i + 1)),
        (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)))
            if a.as_char() == ':' && a.spacing() == Spacing::Joint && b.as_char() == ':')
}

/// Every identifier of `tokens` that stands on its own (not after `::` or `.`, not a function
/// name): what a `use` of the same name would clash with.
fn bare_names(tokens: TokenStream, out: &mut BTreeSet<String>) {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    for (i, t) in tokens.iter().enumerate() {
        match t {
            TokenTree::Group(g) => bare_names(g.stream(), out),
            TokenTree::Ident(id) => {
                let after_sep = i >= 2 && is_path_sep(&tokens, i - 2);
                let after_dot = i >= 1 && matches!(&tokens[i - 1], TokenTree::Punct(p) if p.as_char() == '.');
                // A method or function name lives in the value namespace of its impl, not beside
                // the modules and types we import.
                let fn_name = i >= 1 && matches!(&tokens[i - 1], TokenTree::Ident(k) if k == "fn");
                if !after_sep && !after_dot && !fn_name {
                    out.insert(id.to_string());
                }
            }
            _ => {}
        }
    }
}

impl Imports {
    fn rewrite(&mut self, tokens: TokenStream) -> TokenStream {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        let mut out = Vec::with_capacity(tokens.len());
        let mut i = 0;
        while i < tokens.len() {
            match &tokens[i] {
                TokenTree::Group(g) => {
                    let mut ng = Group::new(g.delimiter(), self.rewrite(g.stream()));
                    ng.set_span(g.span());
                    out.push(TokenTree::Group(ng));
                    i += 1;
                }
                TokenTree::Ident(_) if !(i >= 2 && is_path_sep(&tokens, i - 2)) => {
                    // The path starting here: ident (:: ident)*.
                    let mut segs = vec![tokens[i].to_string()];
                    let mut j = i + 1;
                    while is_path_sep(&tokens, j) {
                        match tokens.get(j + 2) {
                            Some(TokenTree::Ident(id)) => {
                                segs.push(id.to_string());
                                j += 3;
                            }
                            _ => break,
                        }
                    }
                    match import_len(&segs).filter(|&n| self.claim(&segs[..n])) {
                        Some(n) => {
                            // Keep the short name and everything after it (`Method` + `::PUT`).
                            let skip = (n - 1) * 3;
                            out.extend(tokens[i + skip..i + 1 + (segs.len() - 1) * 3].iter().cloned());
                            i += 1 + (segs.len() - 1) * 3;
                        }
                        None => {
                            out.push(tokens[i].clone());
                            i += 1;
                        }
                    }
                }
                t => {
                    out.push(t.clone());
                    i += 1;
                }
            }
        }
        out.into_iter().collect()
    }

    /// Whether `path` may be used by its last name.
    fn claim(&mut self, path: &[String]) -> bool {
        let Some(short) = path.last() else { return false };
        if let Some(p) = self.chosen.get(short) {
            return p == path;
        }
        if self.taken.contains(short) {
            return false;
        }
        self.chosen.insert(short.clone(), path.to_vec());
        true
    }

    /// One `use` per parent path, `std` first, then other crates, then this crate (the order
    /// rustfmt's `group_imports = "StdExternalCrate"` gives); inside braces modules come first.
    fn use_items(&self) -> TokenStream {
        // Parent path → (kind, name) of what is imported from it: modules, then types and
        // traits, then constants.
        let mut by_parent: BTreeMap<&[String], BTreeSet<(u8, &str)>> = BTreeMap::new();
        for path in self.chosen.values() {
            let Some((last, parent)) = path.split_last() else { continue };
            let kind = if !last.starts_with(|c: char| c.is_ascii_uppercase()) {
                0
            } else if last.chars().all(|c| !c.is_ascii_lowercase()) {
                2
            } else {
                1
            };
            by_parent.entry(parent).or_default().insert((kind, last));
        }
        // Sorted by group, then by the path they spell.
        let mut items: Vec<_> = by_parent.into_iter().collect();
        items.sort_by_cached_key(|(parent, leaves)| {
            let group = match parent.first().map(String::as_str) {
                Some("std") => 0,
                Some("crate") => 2,
                _ => 1,
            };
            let mut path: Vec<&str> = parent.iter().map(String::as_str).collect();
            if let [(_, one)] = leaves.iter().collect::<Vec<_>>().as_slice() {
                path.push(one);
            }
            (group, path.join("::"))
        });
        let mut out = TokenStream::new();
        for (parent, leaves) in items {
            let parent = parent.iter().map(|s| ident(s));
            let leaves: Vec<Ident> = leaves.iter().map(|(_, s)| ident(s)).collect();
            out.extend(if let [one] = leaves.as_slice() {
                quote! { use #(#parent::)* #one; }
            } else {
                quote! { use #(#parent::)* { #(#leaves),* }; }
            });
        }
        out
    }
}

fn ident(s: &str) -> Ident {
    Ident::new(s, Span::call_site())
}

/// Leading `#![...]` attributes (a file's or module's docs and lint settings), and the rest.
fn split_inner_attrs(tokens: TokenStream) -> (TokenStream, TokenStream) {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut i = 0;
    while let (Some(TokenTree::Punct(hash)), Some(TokenTree::Punct(bang)), Some(TokenTree::Group(g))) =
        (tokens.get(i), tokens.get(i + 1), tokens.get(i + 2))
    {
        if hash.as_char() != '#' || bang.as_char() != '!' || g.delimiter() != Delimiter::Bracket {
            break;
        }
        i += 3;
    }
    let (head, rest) = tokens.split_at(i);
    (head.iter().cloned().collect(), rest.iter().cloned().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(tokens: TokenStream, in_scope: &[&str]) -> String {
        let scope = in_scope.iter().map(|s| s.to_string()).collect();
        file(tokens, &scope).to_string()
    }

    #[test]
    fn known_paths_become_names_with_one_use_line_each() {
        let out = run(
            quote! {
                #![doc = "m"]
                pub struct A { pub m: std::collections::BTreeMap<String, serde_json::Value>, pub t: apigen_runtime::Time }
                fn f() { let _ = apigen_runtime::reqwest::Method::PUT; let _ = apigen_runtime::reqwest::Method::GET; }
                impl std::fmt::Display for A { fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { todo!() } }
            },
            &[],
        );
        assert_eq!(
            out,
            quote! {
                #![doc = "m"]
                use std::collections::BTreeMap;
                use std::fmt;
                use apigen_runtime::Time;
                use apigen_runtime::reqwest::Method;
                use serde_json::Value;
                pub struct A { pub m: BTreeMap<String, Value>, pub t: Time }
                fn f() { let _ = Method::PUT; let _ = Method::GET; }
                impl fmt::Display for A { fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { todo!() } }
            }
            .to_string()
        );
    }

    #[test]
    fn a_name_the_file_uses_otherwise_stays_spelled_out() {
        // A generated type `Value`, a glob-imported `Time`, and two `Error`s: the first path wins.
        let out = run(
            quote! {
                pub struct Value { pub v: serde_json::Value, pub t: apigen_runtime::Time }
                fn f() -> Result<(), apigen_runtime::Error> { g::<serde_json::Error>() }
            },
            &["Time"],
        );
        assert_eq!(
            out,
            quote! {
                use apigen_runtime::Error;
                pub struct Value { pub v: serde_json::Value, pub t: apigen_runtime::Time }
                fn f() -> Result<(), Error> { g::<serde_json::Error>() }
            }
            .to_string()
        );
    }

    #[test]
    fn a_file_that_uses_nothing_imports_nothing() {
        let tokens = quote! { pub struct A { pub x: u64 } };
        assert_eq!(run(tokens.clone(), &[]), tokens.to_string());
    }

    #[test]
    fn several_names_of_one_module_share_a_use_line() {
        let out = run(
            quote! { fn f(a: apigen_runtime::Request, b: apigen_runtime::Body, c: apigen_runtime::urls::X) {} },
            &[],
        );
        assert!(out.starts_with(&quote! { use apigen_runtime::{urls, Body, Request}; }.to_string()), "{out}");
    }
}
