//! Doc comments from schema and reference text.

use proc_macro2::TokenStream;
use quote::quote;

use crate::model::ScopeExpr;
use crate::schema::Docs;

/// Cleans Markdown from the references for rustdoc: code fences without a language become
/// `text` (rustdoc would compile them as Rust), trailing spaces go.
pub fn clean(text: &str) -> String {
    let mut out = Vec::new();
    let mut in_fence = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if let Some(lang) = trimmed.strip_prefix("```") {
            let indent = &line[..line.len() - trimmed.len()];
            if in_fence {
                out.push(format!("{indent}```"));
            } else {
                let lang = lang.trim();
                let lang = if lang.is_empty() || matches!(lang, "rust" | "rs") { "text" } else { lang };
                out.push(format!("{indent}```{lang}"));
            }
            in_fence = !in_fence;
            continue;
        }
        out.push(line.trim_end().to_owned());
    }
    if in_fence {
        out.push("```".into());
    }
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    while out.first().is_some_and(|l| l.is_empty()) {
        out.remove(0);
    }
    out.join("\n")
}

/// `#[doc]` attributes for a text (one per line, so prettyplease prints `///` lines).
pub fn attrs(text: &str) -> TokenStream {
    let lines = text.lines().map(|l| if l.is_empty() { String::new() } else { format!(" {l}") });
    quote! { #( #[doc = #lines] )* }
}

/// Inner `#![doc]` attributes (module or crate documentation).
pub fn inner_attrs(text: &str) -> TokenStream {
    let lines = text.lines().map(|l| if l.is_empty() { String::new() } else { format!(" {l}") });
    quote! { #( #![doc = #lines] )* }
}

/// The text of schema docs: title, description, then constraints as a list.
pub fn schema_text(docs: &Docs) -> String {
    let mut parts = Vec::new();
    let desc = docs.description.as_deref().map(clean);
    match (&docs.title, &desc) {
        (Some(t), Some(d)) if !d.starts_with(t.as_str()) => parts.push(format!("{}\n\n{d}", t.trim())),
        (Some(t), None) => parts.push(t.trim().to_owned()),
        (_, Some(d)) => parts.push(d.clone()),
        (None, None) => {}
    }
    if !docs.notes.is_empty() {
        parts.push(docs.notes.iter().map(|n| format!("- {n}")).collect::<Vec<_>>().join("\n"));
    }
    parts.join("\n\n")
}

/// The required scopes, rendered as a Markdown list.
pub fn scopes(expr: &ScopeExpr) -> String {
    let mut out = String::new();
    render(expr, 0, &mut out);
    out.trim_end().to_owned()
}

fn render(expr: &ScopeExpr, depth: usize, out: &mut String) {
    let pad = "  ".repeat(depth);
    match expr {
        ScopeExpr::Scope(s) => out.push_str(&format!("{pad}- `{s}`\n")),
        ScopeExpr::AllOf(items) | ScopeExpr::AnyOf(items) => {
            let word = if matches!(expr, ScopeExpr::AllOf(_)) { "All of" } else { "Any of" };
            out.push_str(&format!("{pad}- {word}:\n"));
            for i in items {
                render(i, depth + 1, out);
            }
        }
        ScopeExpr::ForEach { var, list, each } => {
            out.push_str(&format!("{pad}- For each `{var}` in `{list}`: `{each}`\n"));
        }
        ScopeExpr::If { cond, then, otherwise } => {
            out.push_str(&format!("{pad}- If `{cond}`:\n"));
            render(then, depth + 1, out);
            if let Some(e) = otherwise {
                out.push_str(&format!("{pad}- Otherwise:\n"));
                render(e, depth + 1, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences_become_text() {
        assert_eq!(clean("a\n```\nlet x\n```\n"), "a\n```text\nlet x\n```");
        assert_eq!(clean("```js\nx\n```"), "```js\nx\n```");
        assert_eq!(clean("open\n```\nnever closed"), "open\n```text\nnever closed\n```");
    }

    #[test]
    fn scope_rendering() {
        let e = ScopeExpr::AllOf(vec![
            ScopeExpr::Scope("a:<x>".into()),
            ScopeExpr::ForEach { var: "s".into(), list: "scopes".into(), each: "<s>".into() },
            ScopeExpr::If {
                cond: "ro".into(),
                then: Box::new(ScopeExpr::AnyOf(vec![ScopeExpr::Scope("r".into())])),
                otherwise: Some(Box::new(ScopeExpr::Scope("w".into()))),
            },
        ]);
        assert_eq!(
            scopes(&e),
            "- All of:\n  - `a:<x>`\n  - For each `s` in `scopes`: `<s>`\n  - If `ro`:\n    - Any of:\n      - `r`\n  - Otherwise:\n    - `w`"
        );
    }
}
