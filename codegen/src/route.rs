//! Route templates: `/task/<taskId>/artifacts/<name>`, `/files/<*path>.zip`, `/history[/<offset>]`.

use crate::model::RoutePiece;

/// Parses a route into pieces (the leading `/` is dropped) and checks that its parameters are
/// exactly `args`, in order. Errors are messages; the caller adds file and pointer.
pub fn parse(route: &str, args: &[String]) -> Result<Vec<RoutePiece>, String> {
    let mut rest = route.strip_prefix('/').unwrap_or(route);
    let mut pieces = Vec::new();
    let mut literal = String::new();
    while !rest.is_empty() {
        if let Some(tail) = rest.strip_prefix("[/<") {
            let end = tail.find(">]").ok_or_else(|| format!("unterminated optional segment in route {route:?}"))?;
            if !tail[end + 2..].is_empty() {
                return Err(format!("an optional segment must end the route {route:?}"));
            }
            flush(&mut literal, &mut pieces);
            pieces.push(RoutePiece::OptionalTail(tail[..end].to_owned()));
            break;
        }
        if let Some(tail) = rest.strip_prefix('<') {
            let end = tail.find('>').ok_or_else(|| format!("unterminated parameter in route {route:?}"))?;
            let name = &tail[..end];
            flush(&mut literal, &mut pieces);
            pieces.push(match name.strip_prefix('*') {
                Some(n) => RoutePiece::Wildcard(n.to_owned()),
                None => RoutePiece::Param(name.to_owned()),
            });
            rest = &tail[end + 1..];
            continue;
        }
        let c = rest.chars().next().unwrap_or_default();
        literal.push(c);
        rest = &rest[c.len_utf8()..];
    }
    flush(&mut literal, &mut pieces);
    let names: Vec<&str> = pieces
        .iter()
        .filter_map(|p| match p {
            RoutePiece::Param(n) | RoutePiece::Wildcard(n) | RoutePiece::OptionalTail(n) => Some(n.as_str()),
            RoutePiece::Literal(_) => None,
        })
        .collect();
    for n in &names {
        if n.is_empty() {
            return Err(format!("empty parameter name in route {route:?}"));
        }
        if !args.iter().any(|a| a == n) {
            return Err(format!("route parameter <{n}> is missing from args {args:?}"));
        }
    }
    if names.len() != args.len() || names.iter().zip(args).any(|(n, a)| n != a) {
        return Err(format!("args {args:?} do not match the parameters of route {route:?} ({names:?})"));
    }
    Ok(pieces)
}

fn flush(literal: &mut String, pieces: &mut Vec<RoutePiece>) {
    if !literal.is_empty() {
        pieces.push(RoutePiece::Literal(std::mem::take(literal)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_every_form() {
        assert_eq!(
            parse("/task/<taskId>/artifacts/<name>", &args(&["taskId", "name"])).unwrap(),
            vec![
                RoutePiece::Literal("task/".into()),
                RoutePiece::Param("taskId".into()),
                RoutePiece::Literal("/artifacts/".into()),
                RoutePiece::Param("name".into()),
            ]
        );
        assert_eq!(
            parse("/files/<job>/<*path>.zip", &args(&["job", "path"])).unwrap(),
            vec![
                RoutePiece::Literal("files/".into()),
                RoutePiece::Param("job".into()),
                RoutePiece::Literal("/".into()),
                RoutePiece::Wildcard("path".into()),
                RoutePiece::Literal(".zip".into()),
            ]
        );
        assert_eq!(
            parse("/a/history[/<offset>]", &args(&["offset"])).unwrap(),
            vec![RoutePiece::Literal("a/history".into()), RoutePiece::OptionalTail("offset".into())]
        );
        assert_eq!(parse("/clients/", &[]).unwrap(), vec![RoutePiece::Literal("clients/".into())]);
    }

    #[test]
    fn rejects_mismatched_args() {
        assert!(parse("/task/<taskId>", &[]).unwrap_err().contains("missing from args"));
        assert!(parse("/task/<taskId", &args(&["taskId"])).unwrap_err().contains("unterminated"));
        assert!(parse("/a/<x>/<y>", &args(&["y", "x"])).unwrap_err().contains("do not match"));
    }
}
