//! Every runtime vector of `../shared/taskcluster/vectors.json`, reproduced.
//!
//! Vectors that need a server (retries, timeouts, cancellation, Content-Type on the wire) are
//! reproduced over loopback in `loopback.rs`; this file covers the pure ones.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use apigen_runtime::hawk::{bewit_encode, ext_for, payload_hash, HawkRequest, Signer};
use apigen_runtime::{urls, Certificate, Client, Credentials, RetryPolicy, RoutingKeyPart, Time};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde_json::Value;

fn vectors() -> Value {
    serde_json::from_str::<Value>(&fake_servers::shared::read("taskcluster/vectors.json")).unwrap()["vectors"].clone()
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("expected a string, got {v}"))
}

fn secs(ts: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(ts)
}

/// The `mac="..."` of a header, decoded.
fn mac_of(header: &str) -> Vec<u8> {
    let start = header.find("mac=\"").unwrap() + 5;
    let end = header[start..].find('"').unwrap() + start;
    STANDARD.decode(&header[start..end]).unwrap()
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    hawk::Key::new(key, hawk::DigestAlgorithm::Sha256).unwrap().sign(data).unwrap()
}

#[test]
fn hawk_reference_implementation_headers() {
    let v = &vectors()["hawk_reference_implementation"];
    let creds = &v["credentials"];
    for case in v["cases"].as_array().unwrap() {
        let signer = Signer::from_parts(s(&creds["id"]), s(&creds["key"]).as_bytes(), case["ext"].as_str()).unwrap();
        let url = url::Url::parse(s(&case["url"])).unwrap();
        let resource = apigen_runtime::hawk::resource_of(&url);
        let req = HawkRequest::from_url(s(&case["method"]), &url, &resource).unwrap();
        let hash = case.get("payload").map(|p| payload_hash(s(&case["contentType"]), s(p).as_bytes()).unwrap());
        let header =
            signer.header_at(&req, hash.as_deref(), secs(case["ts"].as_u64().unwrap()), s(&case["nonce"])).unwrap();
        assert_eq!(header, s(&case["expected_header"]));
    }
}

#[test]
fn hawk_reference_normalized_strings() {
    // The MAC is HMAC over the normalized string: signing the same request must give
    // HMAC(key, expected normalized string) exactly.
    let v = &vectors()["hawk_reference_implementation"];
    let key = s(&v["credentials"]["key"]).as_bytes();
    for case in v["normalized_string_cases"].as_array().unwrap() {
        let signer = Signer::from_parts("id", key, case["ext"].as_str()).unwrap();
        let req = HawkRequest {
            method: s(&case["method"]),
            host: s(&case["host"]),
            port: case["port"].as_u64().unwrap() as u16,
            resource: s(&case["resource"]),
        };
        let hash = case.get("hash").map(|h| STANDARD.decode(s(h)).unwrap());
        let header =
            signer.header_at(&req, hash.as_deref(), secs(case["ts"].as_u64().unwrap()), s(&case["nonce"])).unwrap();
        assert_eq!(mac_of(&header), hmac(key, s(&case["expected"]).as_bytes()), "{}", s(&case["expected"]));
    }
}

#[test]
fn rust_hawk_crate_macs() {
    let v = &vectors()["rust_hawk_crate"];
    for case in v["mac_cases"].as_array().unwrap() {
        let key: Vec<u8> = match case.get("key_bytes") {
            Some(k) => k.as_array().unwrap().iter().map(|b| b.as_u64().unwrap() as u8).collect(),
            None => s(&case["key_utf8"]).as_bytes().to_vec(),
        };
        let signer = Signer::from_parts("id", &key, case["ext"].as_str()).unwrap();
        let req = HawkRequest {
            method: s(&case["method"]),
            host: s(&case["host"]),
            port: case["port"].as_u64().unwrap() as u16,
            resource: s(&case["path"]),
        };
        let hash: Option<Vec<u8>> =
            case["hash_bytes"].as_array().map(|h| h.iter().map(|b| b.as_u64().unwrap() as u8).collect());
        let header =
            signer.header_at(&req, hash.as_deref(), secs(case["ts"].as_u64().unwrap()), s(&case["nonce"])).unwrap();
        let expected: Vec<u8> =
            case["expected_mac_bytes"].as_array().unwrap().iter().map(|b| b.as_u64().unwrap() as u8).collect();
        assert_eq!(mac_of(&header), expected);
    }
}

#[test]
fn rust_hawk_crate_bewits_and_payload_hash() {
    let v = &vectors()["rust_hawk_crate"];
    // The bewit vectors use the MAC of the first header case at ts = exp.
    let first = &v["mac_cases"][0];
    let key: Vec<u8> = first["key_bytes"].as_array().unwrap().iter().map(|b| b.as_u64().unwrap() as u8).collect();
    for case in v["bewit_to_str"].as_array().unwrap() {
        let exp = case["exp"].as_u64().unwrap();
        let signer = Signer::from_parts("me", &key, None).unwrap();
        let req = HawkRequest { method: "POST", host: "mysite.com", port: 443, resource: "/v1/api" };
        let mac = mac_of(&signer.header_at(&req, None, secs(exp), "nonny").unwrap());
        assert_eq!(bewit_encode(s(&case["id"]), exp, &mac, case["ext"].as_str()), s(&case["expected"]));
    }
    let p = &v["payload_hash"];
    let expected: Vec<u8> =
        p["expected_sha256_bytes"].as_array().unwrap().iter().map(|b| b.as_u64().unwrap() as u8).collect();
    assert_eq!(payload_hash(s(&p["content_type"]), s(&p["payload_utf8"]).as_bytes()).unwrap(), expected);

    let js = &v["real_js_header"];
    let signer = Signer::from_parts("me", s(&js["key"]).as_bytes(), None).unwrap();
    let r = &js["request"];
    let req = HawkRequest {
        method: s(&r["method"]),
        host: s(&r["host"]),
        port: r["port"].as_u64().unwrap() as u16,
        resource: s(&r["path"]),
    };
    let header = signer.header_at(&req, None, secs(1491183061), "RVnYzW").unwrap();
    assert_eq!(header, format!("Hawk {}", s(&js["header_params"])));
}

#[test]
fn hawk_ext_header_go() {
    let v = &vectors()["hawk_ext_header_go"];
    for case in v["cases"].as_array().unwrap() {
        let creds: Credentials = serde_json::from_value(case["credentials"].clone()).unwrap();
        let ext = ext_for(&creds).unwrap().unwrap_or_default();
        assert_eq!(ext, s(&case["expected_ext"]));
        if let Some(decoded) = case.get("decoded") {
            assert_eq!(String::from_utf8(STANDARD.decode(&ext).unwrap()).unwrap(), s(decoded));
        }
    }
    // Temporary credentials: ext carries the certificate as an object, and authorizedScopes
    // only when set.
    let perm = Credentials::new("abc", "def");
    let temp = perm.create_temporary_credentials(Duration::from_secs(3600), ["s:1"]).unwrap();
    let ext: Value = serde_json::from_slice(&STANDARD.decode(ext_for(&temp).unwrap().unwrap()).unwrap()).unwrap();
    let cert: Value = serde_json::from_str(temp.certificate.as_deref().unwrap()).unwrap();
    assert_eq!(ext, serde_json::json!({ "certificate": cert }));
    let scoped = temp.with_authorized_scopes(["s:1"]);
    let ext: Value = serde_json::from_slice(&STANDARD.decode(ext_for(&scoped).unwrap().unwrap()).unwrap()).unwrap();
    assert_eq!(ext["authorizedScopes"], serde_json::json!(["s:1"]));
}

#[test]
fn temp_credentials() {
    let v = &vectors()["temp_credentials"];
    for case in v["cases"].as_array().unwrap() {
        let mut perm: Credentials = serde_json::from_value(case["permCreds"].clone()).unwrap();
        if perm.certificate.as_deref() == Some("") {
            perm.certificate = None;
        }
        let start: Time = s(&case["start"]).parse().unwrap();
        let expiry: Time = s(&case["expiry"]).parse().unwrap();
        let duration = Duration::from_millis((expiry.unix_millis() - start.unix_millis()) as u64);
        let name = s(&case["tempCredsName"]);
        let scopes: Vec<String> = serde_json::from_value(case["tempCredsScopes"].clone()).unwrap();
        let temp = perm
            .temporary((!name.is_empty()).then_some(name), start.into(), duration, scopes, s(&case["seed"]).to_owned())
            .unwrap();
        let expected = &case["expectedTempCreds"];
        assert_eq!(temp.client_id, s(&expected["clientId"]), "{}", case["description"]);
        assert_eq!(temp.access_token, s(&expected["accessToken"]), "{}", case["description"]);
        assert_eq!(temp.certificate.as_deref(), Some(s(&expected["certificate"])), "{}", case["description"]);
        let scopes: Option<Vec<String>> = serde_json::from_value(expected["authorizedScopes"].clone()).unwrap();
        assert_eq!(temp.authorized_scopes, scopes);
        let cert = Certificate::parse(temp.certificate.as_deref().unwrap()).unwrap();
        assert_eq!(cert.issuer.is_some(), !name.is_empty());
    }
}

#[test]
fn temp_credentials_errors() {
    let perm = Credentials::new("me", "secret-token");
    let too_long = Duration::from_secs(31 * 24 * 3600 + 1);
    assert!(perm.create_temporary_credentials(too_long, ["a"]).unwrap_err().to_string().contains("31 days"));
    assert!(perm.create_named_temporary_credentials("", Duration::from_secs(60), ["a"]).is_err());
    let temp = perm.create_temporary_credentials(Duration::from_secs(60), ["a"]).unwrap();
    assert!(temp
        .create_temporary_credentials(Duration::from_secs(60), ["a"])
        .unwrap_err()
        .to_string()
        .contains("temporary credentials"));
    let empty = Credentials::new("me", "");
    assert!(empty
        .create_temporary_credentials(Duration::from_secs(60), ["a"])
        .unwrap_err()
        .to_string()
        .contains("empty access token"));
    // Exactly 31 days is allowed.
    assert!(perm.create_temporary_credentials(Duration::from_secs(31 * 24 * 3600), ["a"]).is_ok());
    // Malformed certificates are clear errors.
    let bad = Credentials { certificate: Some("{not json".into()), ..perm.clone() };
    assert!(bad.certificate().unwrap_err().to_string().contains("not a valid Taskcluster certificate"));
    let v2 = Credentials {
        certificate: Some(r#"{"version":2,"scopes":[],"start":0,"expiry":0,"seed":"","signature":""}"#.into()),
        ..perm
    };
    assert!(v2.certificate().unwrap_err().to_string().contains("version 2"));
}

#[test]
fn python_is_expired() {
    let v = &vectors()["python_utils"]["isExpired"];
    let cert: Certificate = serde_json::from_value(v["certificate"].clone()).unwrap();
    assert_eq!(cert.is_expired(), v["expected"].as_bool().unwrap());
}

#[test]
fn lib_urls() {
    let v = &vectors()["lib_urls"];
    for root in v["rootURLs_new_cluster_all_equivalent"].as_array().unwrap() {
        let root = s(root);
        for case in v["cases_new"].as_array().unwrap() {
            let arg_sets: Vec<Vec<String>> = match case.get("args_any_of") {
                Some(a) => serde_json::from_value(a.clone()).unwrap(),
                None => vec![serde_json::from_value(case["args"].clone()).unwrap()],
            };
            for args in arg_sets {
                let got = match s(&case["fn"]) {
                    "api" => urls::api(root, &args[0], &args[1], &args[2]),
                    "schema" => urls::schema(root, &args[0], &args[1]),
                    "apiReference" => urls::api_reference(root, &args[0], &args[1]),
                    "exchangeReference" => urls::exchange_reference(root, &args[0], &args[1]),
                    "docs" => urls::docs(root, &args[0]),
                    "ui" => urls::ui(root, &args[0]),
                    "apiManifest" => urls::api_manifest(root),
                    other => panic!("unknown fn {other}"),
                };
                assert_eq!(got, s(&case["expected"]), "{} {args:?} on {root}", s(&case["fn"]));
            }
        }
    }
    for case in v["cases_other_roots"].as_array().unwrap() {
        let args: Vec<String> = serde_json::from_value(case["args"].clone()).unwrap();
        assert_eq!(urls::api(s(&case["root"]), &args[0], &args[1], &args[2]), s(&case["expected"]));
    }
    // `legacy_2019_only` describes the old taskcluster.net special case, removed from
    // lib-urls; a client of current deployments must not apply it.
    assert_eq!(urls::api("https://taskcluster.net", "auth", "v1", "ping"), "https://taskcluster.net/api/auth/v1/ping");
}

#[test]
fn url_encoding() {
    for case in vectors()["rust_urlencode_path_segment"]["cases"].as_array().unwrap() {
        assert_eq!(urls::encode_path_segment(s(&case[0])), s(&case[1]));
    }
    let v = &vectors()["rust_make_url"];
    for case in v["cases"].as_array().unwrap() {
        let Some(path) = case.get("path") else { continue }; // the listClients case runs against the generated auth crate
        let client = Client::builder(s(&case["root_url"])).build().unwrap().service("queue", "v1");
        assert_eq!(s(&case["path_prefix"]), "api/queue/v1/");
        let query: Vec<(String, String)> = serde_json::from_value(case["query"].clone()).unwrap_or_default();
        assert_eq!(client.url(s(path), &query), s(&case["expected"]));
    }
    let client = Client::builder("https://tc-test.example.com")
        .credentials(Credentials::new("clientId", "accessToken"))
        .build()
        .unwrap()
        .service("queue", "v1");
    for case in v["signed_url_prefix_cases"].as_array().unwrap() {
        let query: Vec<(String, String)> = serde_json::from_value(case["query"].clone()).unwrap_or_default();
        let url =
            client.signed_url(s(&case["path"]), &query, Duration::from_secs(case["ttl_s"].as_u64().unwrap())).unwrap();
        let prefix = s(&case["expected_prefix"]);
        assert!(url.starts_with(prefix), "{url} does not start with {prefix}");
        let bewit = String::from_utf8(URL_SAFE_NO_PAD.decode(&url[prefix.len()..]).unwrap()).unwrap();
        assert!(bewit.starts_with("clientId\\"), "{bewit}");
    }
}

#[test]
fn go2019_request_url_generation() {
    for case in vectors()["go2019_request_url_generation"]["cases"].as_array().unwrap() {
        if s(&case["BaseURL"]).is_empty() {
            // The Go client's empty BaseURL with a full-URL route: here an empty root URL is a
            // configuration mistake caught by build() (issue 9), not a calling style.
            let err = Client::builder("").build().unwrap_err();
            assert!(err.to_string().contains("root URL is empty"), "{err}");
            continue;
        }
        let client = Client::builder(s(&case["BaseURL"])).build().unwrap();
        let mut query: Vec<(String, String)> = Vec::new();
        if let Some(q) = case["Query"].as_object() {
            for (k, vs) in q {
                for v in vs.as_array().unwrap() {
                    query.push((k.clone(), s(v).to_owned()));
                }
            }
        }
        assert_eq!(client.url(s(&case["Route"]), &query), s(&case["expected"]["URL"]));
    }
}

#[test]
fn python_client_urls_and_routing_keys() {
    let v = &vectors()["python_client"];
    let client = Client::builder("https://tc-tests.example.com")
        .credentials(Credentials::new("id", "token"))
        .build()
        .unwrap()
        .service("fake", "v1");
    let path = format!("two_args_no_input/{}/{}", urls::encode_path_segment("arg0"), urls::encode_path_segment("arg1"));
    let none: [(&str, &str); 0] = [];
    assert_eq!(client.url(&path, &none), s(&v["url_cases"][0]["expected"]));
    assert_eq!(client.url(&path, &[("qs0", "1")]), s(&v["url_cases"][1]["expected"]));
    let signed = client.signed_url(&path, &none, Duration::from_secs(900)).unwrap();
    let masked = format!("{}bewit=X", &signed[..signed.find("bewit=").unwrap()]);
    assert_eq!(masked, s(&v["url_cases"][2]["expected_after_bewit_masking"]));

    for case in v["exchange_cases"].as_array().unwrap() {
        assert_eq!(
            apigen_runtime::exchange_name(s(&case["exchangePrefix"]), s(&case["exchange"])),
            s(&case["expected"])
        );
    }
    // The reference: primary_key (constant), norm1..3 (single words), multi_key (multi-word).
    let key = |norm2: Option<&str>| {
        apigen_runtime::routing_key(&[
            RoutingKeyPart::Constant("primary"),
            RoutingKeyPart::Word("norm1", None),
            RoutingKeyPart::Word("norm2", norm2),
            RoutingKeyPart::Word("norm3", None),
            RoutingKeyPart::Words("multi_key", None),
        ])
        .unwrap()
    };
    assert_eq!(key(None), s(&v["routing_key_cases"][0]["expected_routingKeyPattern"]));
    assert_eq!(key(Some("value2")), s(&v["routing_key_cases"][2]["expected_routingKeyPattern"]));
    // A '.' in a single-word value is an error; in a multi-word one it is allowed.
    assert!(apigen_runtime::routing_key(&[RoutingKeyPart::Word("w", Some("a.b"))]).is_err());
    assert_eq!(apigen_runtime::routing_key(&[RoutingKeyPart::Words("w", Some("a.b"))]).unwrap(), "a.b");
}

#[test]
fn time_format_and_from_now() {
    let v = vectors();
    let example = s(&v["go_time_format"]["example"]);
    let t: Time = example.parse().unwrap();
    assert_eq!(t.to_string(), example);
    assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{example}\""));
    // Any RFC 3339 form parses; output is always UTC with three fraction digits.
    for (input, out) in [
        ("2015-10-27T20:36:19Z", "2015-10-27T20:36:19.000Z"),
        ("2015-10-27T20:36:19.2558Z", "2015-10-27T20:36:19.255Z"),
        ("2015-10-27T22:36:19.255+02:00", "2015-10-27T20:36:19.255Z"),
        ("2015-10-27t20:36:19.1z", "2015-10-27T20:36:19.100Z"),
    ] {
        assert_eq!(input.parse::<Time>().unwrap().to_string(), out, "{input}");
    }
    assert!("yesterday".parse::<Time>().is_err());
    // Years outside 0..10000 cannot be written (the `time` crate stops at 9999 already).
    let before_year_zero = Time::from_unix_millis(-62_198_755_200_000).unwrap(); // -0001-01-01
    assert!(serde_json::to_string(&before_year_zero).is_err());
    assert!(Time::from_unix_millis(253_402_300_800_000).is_err()); // 10000-01-01

    for case in v["python_utils"]["fromNow"].as_array().unwrap() {
        let from: Time = s(&case["from"]).parse().unwrap();
        assert_eq!(from.offset(s(&case["expr"])).unwrap().to_string(), s(&case["result"]), "{}", s(&case["expr"]));
    }
    assert!(Time::now().offset("3 fortnights").is_err());
    assert!(Time::now().offset("").is_err());
    let later = Time::from_now("2 days 3 hours").unwrap();
    let delta = later.unix_millis() - Time::now().unix_millis();
    assert!((delta - (51 * 3600 * 1000)).abs() < 5_000, "{delta}");
}

#[test]
fn python_utils_misc() {
    let v = &vectors()["python_utils"];
    // slugId from a UUID: nice slugs clear the first bit.
    for case in v["slugId_from_uuid"].as_array().unwrap() {
        let hex: String = s(&case["uuid4"]).replace('-', "");
        let mut bytes = [0u8; 16];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
        }
        assert_eq!(apigen_runtime::slug::encode_nice(bytes), s(&case["expected"]));
    }
    assert_eq!(apigen_runtime::slug::nice().len(), 22);
    assert!(!apigen_runtime::slug::nice().starts_with('-'));
    assert_eq!(apigen_runtime::slug::v4().len(), 22);
    // Long ext values are one base64 line.
    let creds = Credentials::new("a", "b").with_authorized_scopes(["abcdef".repeat(500)]);
    assert!(!ext_for(&creds).unwrap().unwrap().contains('\n'));
    for case in v["optionsFromEnvironment"].as_array().unwrap() {
        let env = case["env"].as_object().unwrap();
        let lookup = |k: &str| env.get(k).and_then(Value::as_str).map(str::to_owned);
        let creds = Credentials::from_lookup(lookup);
        match case["expected"].get("credentials") {
            // The python client reads a certificate as it is and fails at signing time; this
            // runtime checks it when reading the environment, and names the variable.
            Some(c) if c["certificate"].as_str().is_some_and(|t| Certificate::parse(t).is_err()) => {
                let err = creds.unwrap_err().to_string();
                assert!(err.contains("TASKCLUSTER_CERTIFICATE"), "{err}");
            }
            Some(c) if c.get("clientId").is_some() => {
                let creds = creds.unwrap().expect("credentials");
                assert_eq!(creds.client_id, s(&c["clientId"]));
                assert_eq!(creds.access_token, s(&c["accessToken"]));
                assert_eq!(creds.certificate.as_deref(), c["certificate"].as_str());
            }
            // No client id: an unauthenticated client, whatever else is set.
            _ => assert!(creds.unwrap().is_none()),
        }
        let root = lookup("TASKCLUSTER_ROOT_URL").map(|r| urls::normalize_root_url(&r).to_owned());
        assert_eq!(root.as_deref(), case["expected"]["rootUrl"].as_str());
    }
}

#[test]
fn rust_retry_backoff() {
    let v = &vectors()["rust_retry"];
    let d = &v["defaults"];
    let policy = RetryPolicy::default();
    assert_eq!(policy.retries as u64, d["retries"].as_u64().unwrap());
    assert_eq!(policy.delay_factor.as_millis() as u64, d["delay_factor_ms"].as_u64().unwrap());
    assert_eq!(policy.max_delay.as_millis() as u64, d["max_delay_ms"].as_u64().unwrap());
    assert_eq!(policy.randomization_factor, d["randomization_factor"].as_f64().unwrap());
    let three = RetryPolicy { retries: 3, ..RetryPolicy::default() };
    for (n, expected) in v["backoff_sequence_retries_3_no_jitter_ms"].as_array().unwrap().iter().enumerate() {
        assert_eq!(three.base_delay(n as u32).map(|d| d.as_millis() as u64), expected.as_u64());
    }
    // Jitter stays within ±25 %, and the cap holds.
    for _ in 0..200 {
        let d = three.delay(2).unwrap().as_millis();
        assert!((300..=500).contains(&d), "{d}");
    }
    let capped = RetryPolicy { retries: 40, ..RetryPolicy::default() };
    assert_eq!(capped.base_delay(30).unwrap(), Duration::from_secs(30));
    assert!(capped.delay(30).unwrap() <= Duration::from_secs(30));
}

#[test]
fn secrets_stay_out_of_debug_and_display() {
    let creds = Credentials::new("me", "very-secret-token");
    let temp = creds.create_named_temporary_credentials("me/temp", Duration::from_secs(60), ["a"]).unwrap();
    for text in [format!("{creds:?}"), format!("{creds}"), format!("{temp:?}"), format!("{temp}")] {
        assert!(!text.contains("very-secret-token"), "{text}");
        assert!(!text.contains(&temp.access_token), "{text}");
    }
    let client = Client::builder("https://tc.example.com").credentials(creds).build().unwrap();
    assert!(!format!("{client:?}").contains("very-secret-token"));
    let gocd = Client::gocd_builder("https://ci.example.com/go").basic_auth("admin", "hunter2").build().unwrap();
    assert!(!format!("{gocd:?}").contains("hunter2"));
    assert!(!format!("{:?}", apigen_runtime::Auth::Bearer("tok-123".into())).contains("tok-123"));
}
