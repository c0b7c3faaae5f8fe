//! One small schema per JSON Schema construct the converter handles
//! (`tests/fixtures/constructs/schemas/constructs/*.json`), generated into the crate
//! `tests/generated/taskcluster-constructs`. That committed crate is the snapshot: this test
//! fails when the generator's output differs from it (`UPDATE_CONSTRUCTS=1` rewrites it), and
//! because it is a workspace member, the snapshot is compiled, linted and used below.

use std::path::Path;

use codegen::{generate, output, Inputs};
use serde_json::{json, Value};
use taskcluster_constructs as c;

#[test]
fn the_committed_construct_crate_is_what_the_generator_makes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let files = generate(&Inputs { taskcluster: Some(root.join("fixtures/constructs")), gocd: None })
        .expect("fixtures generate");
    let out = root.join("generated");
    if std::env::var_os("UPDATE_CONSTRUCTS").is_some() {
        output::write(&out, &files).unwrap();
    }
    let stale = output::check(&out, &files).unwrap();
    assert!(stale.is_empty(), "construct snapshots differ (review, then rerun with UPDATE_CONSTRUCTS=1): {stale:?}");
}

fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(v: Value) -> (T, Value) {
    let t: T = serde_json::from_value(v).expect("decodes");
    let back = serde_json::to_value(&t).unwrap();
    (t, back)
}

#[test]
fn recursion_closes_through_box_arrays_and_maps() {
    let v = json!({"name": "root", "children": [{"name": "a", "children": [{"name": "b"}]}],
                   "byName": {"x": {"name": "x"}}, "parent": {"name": "p", "parent": {"name": "pp"}},
                   "alias": {"name": "via a definition"}});
    let (t, back) = round_trip::<c::recursion::Recursion>(v.clone());
    assert_eq!(back, v);
    assert_eq!(t.parent.unwrap().parent.unwrap().name, "pp");
}

#[test]
fn every_nullable_form_is_an_option() {
    let (t, back) = round_trip::<c::nullable::Nullable>(json!({"requiredButNull": null, "oneOfNull": null}));
    assert_eq!(t.required_but_null, None);
    assert_eq!(t.one_of_null, None);
    assert_eq!(back, json!({"requiredButNull": null}));
    let (t, _) = round_trip::<c::nullable::Nullable>(
        json!({"requiredButNull": true, "typeList": "s", "anyOfNullRef": {"x": 1.0, "y": 2.0}, "nullableArray": ["a"]}),
    );
    assert_eq!(t.any_of_null_ref.map(|p| p.y), Some(2.0));
    // serde reads a missing `Option` as `None`: a required-but-nullable field is lenient on input.
    assert_eq!(serde_json::from_value::<c::nullable::Nullable>(json!({})).unwrap().required_but_null, None);
}

#[test]
fn tagged_unions_dispatch_on_the_tag_and_tolerate_new_tags() {
    let (t, back) = round_trip::<c::tagged_union::TaggedUnion>(json!({"kind": "circle", "radius": 2.0}));
    assert!(matches!(t, c::tagged_union::TaggedUnion::Circle(ref x) if x.radius == 2.0));
    assert_eq!(back, json!({"kind": "circle", "radius": 2.0}));
    // A tag this client does not know is kept whole and sent back as it came.
    let hexagon = json!({"kind": "hexagon", "side": 1, "corners": 6});
    let (t, back) = round_trip::<c::tagged_union::TaggedUnion>(hexagon.clone());
    assert!(matches!(t, c::tagged_union::TaggedUnion::Other(_)));
    assert_eq!(back, hexagon);
    // A known tag with a body that does not fit is an error, not a silent catch-all.
    assert!(serde_json::from_value::<c::tagged_union::TaggedUnion>(json!({"kind": "circle", "radius": "x"})).is_err());
}

#[test]
fn untagged_unions_try_each_shape_and_keep_the_rest() {
    use c::untagged_union::UntaggedUnion as U;
    assert!(matches!(serde_json::from_value(json!("https://x")).unwrap(), U::String(_)));
    assert!(matches!(serde_json::from_value(json!({"content": "x"})).unwrap(), U::InlineSource(_)));
    assert!(matches!(serde_json::from_value(json!(["a", "b"])).unwrap(), U::List(_)));
    let (t, back) = round_trip::<U>(json!(42));
    assert!(matches!(t, U::Other(_)));
    assert_eq!(back, json!(42));
}

#[test]
fn all_of_merges_branches_and_ignores_constraint_only_ones() {
    let (t, back) = round_trip::<c::all_of::AllOf>(json!({"id": "1", "label": "l", "tags": ["t"]}));
    assert_eq!((t.id.as_str(), t.label.as_str()), ("1", "l"));
    assert_eq!(back, json!({"id": "1", "label": "l", "tags": ["t"]}));
}

#[test]
fn colliding_names_get_distinct_types() {
    let v = json!({"left": {"item": {"a": "x"}}, "leftItem": {"b": 1}, "other": {"c": true}});
    let (_, back) = round_trip::<c::name_collision::NameCollision>(v.clone());
    assert_eq!(back, v);
}

#[test]
fn string_enums_keep_values_they_do_not_know() {
    use c::enum_with_unknown::EnumWithUnknown as E;
    let (t, back) = round_trip::<E>(json!("unknown"));
    // The schema's own value `unknown` is a named variant; the catch-all steps aside to `Other`.
    assert_eq!(t, E::Unknown);
    assert_eq!(back, json!("unknown"));
    let (t, back) = round_trip::<E>(json!("superseded"));
    assert_eq!(t, E::Other("superseded".into()));
    assert_eq!("superseded".parse::<E>().unwrap().as_str(), "superseded");
    assert_eq!(back, json!("superseded"));
}

#[test]
fn additional_properties_absent_true_and_schema_keep_unknown_fields_false_drops_them() {
    let v = json!({
        "absent": {"a": "x", "new": 1},
        "open": {"a": "x", "new": [1]},
        "typed": {"a": "x", "n": 3},
        "closed": {"a": "x", "dropped": 1},
        "map": {"k": "v"},
        "fieldNamedExtra": {"extra": "mine", "more": true}
    });
    let (_, back) = round_trip::<c::additional_properties::AdditionalProperties>(v);
    // JSON Schema reads an absent `additionalProperties` as `true`.
    assert_eq!(back["absent"], json!({"a": "x", "new": 1}));
    assert_eq!(back["open"], json!({"a": "x", "new": [1]}));
    assert_eq!(back["typed"], json!({"a": "x", "n": 3}));
    assert_eq!(back["closed"], json!({"a": "x"}));
    assert_eq!(back["map"], json!({"k": "v"}));
    assert_eq!(back["fieldNamedExtra"], json!({"extra": "mine", "more": true}));
    // A typed map refuses values of another type.
    let bad = json!({"typed": {"n": "three"}});
    assert!(serde_json::from_value::<c::additional_properties::AdditionalProperties>(bad).is_err());
}

#[test]
fn secrets_never_reach_debug_output() {
    let v = json!({"clientId": "me", "accessToken": "tok-SECRET", "certificate": "{\"sig\":\"SECRET\"}",
                   "encrypted_password": "pw-SECRET", "continuationToken": "page-2", "secrets": ["name-a"]});
    let (t, back) = round_trip::<c::credentials::Credentials>(v.clone());
    assert_eq!(back, v, "serialization keeps every value");
    let shown = format!("{t:?} {t:#?}");
    assert!(!shown.contains("SECRET"), "{shown}");
    assert!(shown.contains("\"me\"") && shown.contains("page-2") && shown.contains("name-a"), "{shown}");
    assert!(shown.contains("access_token: \"***\""), "{shown}");
    let none = c::credentials::Credentials { certificate: None, ..t };
    assert!(format!("{none:?}").contains("certificate: None"));
}

#[test]
fn types_named_like_imports_stay_apart_from_the_imported_names() {
    use c::imported_names as m;
    let v = json!({"value": {"raw": [1]}, "time": {"at": "2024-01-02T03:04:05.000Z"}, "map": {"size": 1, "k": 2},
                   "serialize": "yes", "infallible": "never", "freeForm": {"a": 1}, "at": "2024-01-02T03:04:05.000Z",
                   "labels": {"a": "b"}});
    let (t, back) = round_trip::<m::ImportedNames>(v.clone());
    assert_eq!(back, v);
    // The generated types and the runtime's / serde_json's types of the same name, side by side.
    let _: m::Value = t.value;
    let _: Option<serde_json::Value> = t.free_form;
    assert_eq!(t.time.and_then(|x: m::Time| x.at), Some(t.at));
    assert_eq!(t.map.map(|x: m::BTreeMap| x.extra["k"]), Some(2));
    assert_eq!(t.serialize, Some(m::Serialize::Yes));
    assert_eq!("never".parse::<m::Infallible>().unwrap(), m::Infallible::Never);
}

#[test]
fn a_client_keeps_its_types_apart_from_the_runtime_names_it_imports() {
    use std::future::Future;
    use taskcluster_clashes as k;
    // The crate root still exports the generated `Error`, `Request`, `Method`, `Client`, ...: a
    // `use` of the runtime's names there would shadow the glob re-export of the types.
    let e: k::Error = serde_json::from_value(json!({"code": "E", "paginated": {"pages": 2}})).unwrap();
    assert_eq!(e.paginated.and_then(|p: k::Paginated| p.pages), Some(2));
    let r = k::Request::new("b").with_stream(k::Stream { chunks: Some(3) });
    let m: k::Method = serde_json::from_value(json!({"verb": "PUT", "timeout": {"minutes": 1}})).unwrap();
    assert_eq!(m.timeout.map(|d: k::Duration| d.minutes), Some(Some(1)));
    let list: k::ClientList = serde_json::from_value(json!({"clients": [{"clientId": "c"}]})).unwrap();
    let _: &k::Client = &list.clients[0];
    // The methods take and return the generated types, and the runtime's where they mean it.
    fn put<'a>(
        c: &'a k::Clashes,
        r: &'a k::Request,
    ) -> impl Future<Output = Result<k::Error, apigen_runtime::Error>> + 'a {
        c.put_request("id", r)
    }
    fn put_blocking(c: &k::blocking::Clashes, r: &k::Request) -> Result<k::Error, apigen_runtime::Error> {
        c.put_request("id", r)
    }
    let client = apigen_runtime::Client::builder("https://tc.example.com").build().unwrap();
    let clashes = k::Clashes::new(&client);
    let _ = (put(&clashes, &r), put_blocking as fn(_, _) -> _);
    let url = clashes.get_method_signed_url("n", std::time::Duration::from_secs(60));
    assert_eq!(url.unwrap(), "https://tc.example.com/api/clashes/v1/methods/n");
}
