//! Rust names from JSON names, file names and titles.

use heck::{ToSnakeCase, ToUpperCamelCase};

/// Keywords that `r#` can escape.
const RAW_OK: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "dyn", "else", "enum", "extern", "false", "fn", "for", "if",
    "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "static", "struct", "trait",
    "true", "type", "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro", "override",
    "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];
/// Keywords that cannot be raw identifiers.
const NO_RAW: &[&str] = &["self", "Self", "super", "crate", "_"];

/// Makes `s` usable as an identifier: only ASCII alphanumerics and `_`, not starting with a digit.
fn sanitize(s: &str) -> String {
    let mut out: String = s.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' }).collect();
    out = out.split_whitespace().collect::<Vec<_>>().join(" ");
    out
}

/// snake_case field / method / parameter name; `r#`-escaped where it is a keyword.
pub fn snake(s: &str) -> String {
    let mut n = sanitize(s).to_snake_case();
    if n.is_empty() {
        n = "value".into();
    }
    if n.starts_with(|c: char| c.is_ascii_digit()) {
        n = format!("n{n}");
    }
    escape(n)
}

/// UpperCamelCase type / variant name.
pub fn camel(s: &str) -> String {
    let mut n = sanitize(s).to_upper_camel_case();
    if n.is_empty() {
        n = "Empty".into();
    }
    if n.starts_with(|c: char| c.is_ascii_digit()) {
        n = format!("V{n}");
    }
    escape(n)
}

fn escape(n: String) -> String {
    if NO_RAW.contains(&n.as_str()) {
        format!("{n}_")
    } else if RAW_OK.contains(&n.as_str()) {
        format!("r#{n}")
    } else {
        n
    }
}

/// The identifier as written after `r#` is stripped (what serde derives as the JSON name).
pub fn unraw(n: &str) -> &str {
    n.strip_prefix("r#").unwrap_or(n)
}

/// A type name from a schema file name: `v1/create-task-request.json` → `CreateTaskRequest`.
pub fn from_file(path: &str) -> String {
    let stem = path.rsplit('/').next().unwrap_or(path);
    camel(stem.strip_suffix(".json").unwrap_or(stem))
}

/// `parent` + `suffix` without repeating the words they share: `Agent` + `AgentState` →
/// `AgentState`, `PipelineStatus` + `StatusReason` → `PipelineStatusReason`.
pub fn join(parent: &str, suffix: &str) -> String {
    let (p, s) = (words(parent), words(suffix));
    let overlap = (1..=p.len().min(s.len())).rev().find(|&k| p[p.len() - k..] == s[..k]).unwrap_or(0);
    // A suffix that is all overlap stays whole (`Task` + `Task`), else the child would take
    // its parent's name.
    let overlap = if overlap == s.len() { 0 } else { overlap };
    format!("{parent}{}", s[overlap..].concat())
}

/// The UpperCamelCase words two names end with: `ProvisionerResponseStability` and
/// `TaskqueueResponseStability` → `ResponseStability`.
pub fn common_suffix(a: &str, b: &str) -> String {
    let (a, b) = (words(a), words(b));
    let n = a.iter().rev().zip(b.iter().rev()).take_while(|(x, y)| x == y).count();
    a[a.len() - n..].concat()
}

/// The UpperCamelCase words of a name (`TaskGroupId` → `Task`, `Group`, `Id`).
fn words(name: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in name.char_indices().skip(1) {
        if c.is_ascii_uppercase() {
            out.push(&name[start..i]);
            start = i;
        }
    }
    if start < name.len() {
        out.push(&name[start..]);
    }
    out
}

/// A naive singular of a (camel-case) plural, for array item types: `Artifacts` → `Artifact`.
pub fn singular(s: &str) -> String {
    if let Some(p) = s.strip_suffix("ies") {
        format!("{p}y")
    } else if let Some(p) = s.strip_suffix("es").filter(|p| p.ends_with("ss") || p.ends_with("us")) {
        p.to_owned()
    } else if s.ends_with("ss") || s.ends_with("us") || s.ends_with("is") {
        s.to_owned()
    } else if let Some(p) = s.strip_suffix("es").filter(|p| p.ends_with("sh") || p.ends_with("ch") || p.ends_with('x'))
    {
        // `patches` → `patch`, but `caches` → `cache`: a vowel before `ch` keeps the `e`.
        let vowel_before_ch = p.strip_suffix("ch").and_then(|q| q.chars().last()).is_some_and(|c| "aeiou".contains(c));
        if vowel_before_ch {
            format!("{p}e")
        } else {
            p.to_owned()
        }
    } else if let Some(p) = s.strip_suffix('s') {
        p.to_owned()
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(snake("taskGroupId"), "task_group_id");
        assert_eq!(snake("type"), "r#type");
        assert_eq!(snake("self"), "self_");
        assert_eq!(snake("$schema"), "schema");
        assert_eq!(snake("1st"), "n1st");
        assert_eq!(camel("s3"), "S3");
        assert_eq!(camel("read-only"), "ReadOnly");
        assert_eq!(camel(""), "Empty");
        assert_eq!(camel("7z"), "V7z");
        assert_eq!(camel("Self"), "Self_");
        assert_eq!(from_file("v1/create-task-request.json"), "CreateTaskRequest");
        assert_eq!(singular("Artifacts"), "Artifact");
        assert_eq!(singular("Dependencies"), "Dependency");
        assert_eq!(singular("Status"), "Status");
        assert_eq!(singular("Caches"), "Cache");
        assert_eq!(singular("Patches"), "Patch");
        assert_eq!(singular("Statuses"), "Status");
        assert_eq!(singular("Classes"), "Class");
        assert_eq!(join("Agent", "AgentState"), "AgentState");
        assert_eq!(join("PipelineStatus", "StatusReason"), "PipelineStatusReason");
        assert_eq!(join("Task", "Task"), "TaskTask");
        assert_eq!(join("Task", "Priority"), "TaskPriority");
        assert_eq!(join("Status", "StatusCode"), "StatusCode");
        assert_eq!(common_suffix("ProvisionerResponseStability", "TaskqueueResponseStability"), "ResponseStability");
        assert_eq!(common_suffix("TaskPriority", "NewPriority"), "Priority");
        assert_eq!(common_suffix("Alpha", "Beta"), "");
    }
}
