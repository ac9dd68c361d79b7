use super::*;
use crate::directory::tests::{NOW, key, sample};
use ed25519_dalek::pkcs8::{DecodePrivateKey as _, DecodePublicKey as _};
use http::Method;

// RFC 9421 Appendix B.1.4, "test-key-ed25519".
const TEST_KEY_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=
-----END PUBLIC KEY-----
";
const TEST_KEY_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF
-----END PRIVATE KEY-----
";

/// RFC 9421 Appendix B.2, the test request, with the B.2.6 signature headers.
fn rfc_request(uri: &str) -> Request<Vec<u8>> {
    Request::builder()
        .method("POST")
        .uri(uri)
        .header("host", "example.com")
        .header("date", "Tue, 20 Apr 2021 02:07:55 GMT")
        .header("content-type", "application/json")
        .header(
            "content-digest",
            "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:",
        )
        .header("content-length", "18")
        .header(
            "signature-input",
            "sig-b26=(\"date\" \"@method\" \"@path\" \"@authority\" \"content-type\" \
             \"content-length\");created=1618884473;keyid=\"test-key-ed25519\"",
        )
        .header(
            "signature",
            "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:",
        )
        .body(b"{\"hello\": \"world\"}".to_vec())
        .unwrap()
}

const RFC_B26_BASE: &str = "\"date\": Tue, 20 Apr 2021 02:07:55 GMT\n\
\"@method\": POST\n\
\"@path\": /foo\n\
\"@authority\": example.com\n\
\"content-type\": application/json\n\
\"content-length\": 18\n\
\"@signature-params\": (\"date\" \"@method\" \"@path\" \"@authority\" \"content-type\" \
\"content-length\");created=1618884473;keyid=\"test-key-ed25519\"";

#[test]
fn rfc9421_b26_ed25519_vector() {
    let public = VerifyingKey::from_public_key_pem(TEST_KEY_PUBLIC).unwrap();
    let private = SigningKey::from_pkcs8_pem(TEST_KEY_PRIVATE).unwrap();
    assert_eq!(private.verifying_key(), public);
    // As an origin-form request (authority from Host) and as an absolute one.
    for uri in [
        "/foo?param=Value&Pet=dog",
        "https://example.com/foo?param=Value&Pet=dog",
    ] {
        let req = rfc_request(uri);
        let msg = Message::Request(RequestParts::from(&req));
        let base = signature_base_of(&msg, "sig-b26").unwrap();
        assert_eq!(String::from_utf8(base.clone()).unwrap(), RFC_B26_BASE);
        let params = verify_signature(&msg, "sig-b26", &public).unwrap();
        assert_eq!(params.created, Some(1618884473));
        assert_eq!(params.keyid.as_deref(), Some("test-key-ed25519"));
        // Ed25519 is deterministic: signing the base reproduces the published signature.
        let (_, published) = find_signature(req.headers(), "sig-b26").unwrap();
        assert_eq!(private.sign(&base).to_bytes().to_vec(), published);
        // And the body matches the test request's sha-512 Content-Digest.
        assert!(check_content_digest(req.headers(), req.body()).is_ok());
    }
    // One changed byte in a covered header breaks it.
    let mut req = rfc_request("/foo?param=Value&Pet=dog");
    req.headers_mut()
        .insert("content-length", HeaderValue::from_static("19"));
    let msg = Message::Request(RequestParts::from(&req));
    assert_eq!(
        verify_signature(&msg, "sig-b26", &public).unwrap_err(),
        SignatureError::Invalid
    );
}

const CQ_KID: &str = "cq-2025";
const SC_KID: &str = "sc-2025";
const SC_ORIGIN: &str = "https://sc.example.cn";
const TARGET: &str = "https://sc.example.cn/api/federation/v1/student.lookup";
const PURPOSE: &str = "transfer-verification";

fn cq() -> NodeSigner {
    NodeSigner::new(CQ_KID, key(1)).unwrap()
}

fn sc() -> NodeSigner {
    NodeSigner::new(SC_KID, key(2)).unwrap()
}

fn dir() -> crate::Directory {
    sample(&key(9))
}

fn now_s() -> i64 {
    NOW.unix_timestamp()
}

fn nonce(i: u8) -> String {
    format!("nonce-{i:0>16}")
}

fn request(body: &[u8]) -> Request<Vec<u8>> {
    Request::builder()
        .method("POST")
        .uri(TARGET)
        .header("content-type", "application/json")
        .body(body.to_vec())
        .unwrap()
}

fn signed_request(body: &[u8], created: i64, n: u8) -> Request<Vec<u8>> {
    let mut req = request(body);
    sign_request_with(&mut req, &cq(), PURPOSE, created, &nonce(n)).unwrap();
    req
}

/// Verifies as a fresh receiver would (its own nonce store), returning the error code.
fn verify_code(req: &Request<Vec<u8>>) -> &'static str {
    let d = dir();
    let nonces = InMemoryNonceStore::new(DEFAULT_WINDOW);
    Verifier::new(&d)
        .verify_request(req, None, &nonces, NOW)
        .map(|_| "ok")
        .unwrap_or_else(|e| e.code())
}

#[test]
fn signed_request_headers() {
    let mut req = request(b"{\"student\":\"x\"}");
    let record = sign_request(&mut req, &cq(), PURPOSE, NOW).unwrap();
    let h = req.headers();
    assert_eq!(h[&PURPOSE_HEADER], PURPOSE);
    assert_eq!(
        h[&CONTENT_DIGEST],
        content_digest(b"{\"student\":\"x\"}").as_str()
    );
    assert!(record.content_digest.starts_with("sha-256=:"));
    assert_eq!(record.nonce.len(), 22, "128 bits in base64url");
    assert_eq!(
        h[&SIGNATURE_INPUT],
        format!(
            "chuanyu=(\"@method\" \"@target-uri\" \"content-digest\" \"x-chuanyu-purpose\")\
             ;created={};keyid=\"cq-2025\";nonce=\"{}\";alg=\"ed25519\"",
            now_s(),
            record.nonce
        )
        .as_str()
    );
    let sig = h[&SIGNATURE].to_str().unwrap();
    assert!(sig.starts_with("chuanyu=:") && sig.ends_with(':'));
    assert_eq!(record.signature, sig);
    // Two signatures never share a nonce.
    let mut again = request(b"{}");
    let other = sign_request(&mut again, &cq(), PURPOSE, NOW).unwrap();
    assert_ne!(other.nonce, record.nonce);
}

#[test]
fn request_round_trip() {
    let d = dir();
    let nonces = InMemoryNonceStore::new(DEFAULT_WINDOW);
    let req = signed_request(b"{\"q\":1}", now_s(), 1);
    let v = Verifier::new(&d)
        .verify_request(&req, None, &nonces, NOW)
        .unwrap();
    assert_eq!(v.member, "CQ");
    assert_eq!(v.keyid, CQ_KID);
    assert_eq!(v.purpose, PURPOSE);
    assert_eq!(v.nonce, nonce(1));
    assert_eq!(v.created, now_s());
    assert_eq!(v.content_digest, content_digest(b"{\"q\":1}"));
    assert!(
        d.authorize(&v.member, "SC", "student.lookup", &v.purpose)
            .is_ok()
    );
}

#[test]
fn server_side_origin_form() {
    let d = dir();
    let signed = signed_request(b"{}", now_s(), 2);
    // What axum sees behind a proxy: only the path, and maybe another Host.
    let mut received = Request::builder()
        .method("POST")
        .uri("/api/federation/v1/student.lookup")
        .header("host", "10.0.0.7:8080")
        .body(b"{}".to_vec())
        .unwrap();
    for (k, v) in signed.headers() {
        received.headers_mut().insert(k, v.clone());
    }
    let nonces = InMemoryNonceStore::new(DEFAULT_WINDOW);
    let verifier = Verifier::new(&d);
    assert!(
        verifier
            .verify_request(&received, Some(SC_ORIGIN), &nonces, NOW)
            .is_ok()
    );
    // The same request presented at another node does not verify there.
    let other = InMemoryNonceStore::new(DEFAULT_WINDOW);
    assert_eq!(
        verifier
            .verify_request(&received, Some("https://gz.example.cn"), &other, NOW)
            .unwrap_err(),
        SignatureError::Invalid
    );
    // Origin spelling does not matter.
    let third = InMemoryNonceStore::new(DEFAULT_WINDOW);
    assert!(
        verifier
            .verify_request(&received, Some("HTTPS://SC.example.cn:443"), &third, NOW)
            .is_ok()
    );
}

#[test]
fn tampering_is_refused() {
    let good = signed_request(b"{\"name\":\"x\"}", now_s(), 3);
    assert_eq!(verify_code(&good), "ok");

    let mut body = good.clone_parts();
    *body.body_mut() = b"{\"name\":\"y\"}".to_vec();
    assert_eq!(
        verify_code(&body),
        "federation.digest_mismatch",
        "one-byte body change"
    );

    let mut redigested = body.clone_parts();
    redigested.headers_mut().insert(
        CONTENT_DIGEST,
        HeaderValue::from_str(&content_digest(b"{\"name\":\"y\"}")).unwrap(),
    );
    assert_eq!(
        verify_code(&redigested),
        "federation.signature_invalid",
        "digest recomputed"
    );

    let mut method = good.clone_parts();
    *method.method_mut() = Method::PUT;
    assert_eq!(
        verify_code(&method),
        "federation.signature_invalid",
        "method changed"
    );

    let mut path = good.clone_parts();
    *path.uri_mut() = "https://sc.example.cn/api/federation/v1/student.lookuq"
        .parse()
        .unwrap();
    assert_eq!(
        verify_code(&path),
        "federation.signature_invalid",
        "path changed"
    );

    let mut query = good.clone_parts();
    *query.uri_mut() = format!("{TARGET}?all=1").parse().unwrap();
    assert_eq!(
        verify_code(&query),
        "federation.signature_invalid",
        "query added"
    );

    let mut purpose = good.clone_parts();
    purpose.headers_mut().insert(
        PURPOSE_HEADER,
        HeaderValue::from_static("certificate-check"),
    );
    assert_eq!(
        verify_code(&purpose),
        "federation.signature_invalid",
        "purpose changed"
    );

    let mut no_purpose = good.clone_parts();
    no_purpose.headers_mut().remove(PURPOSE_HEADER);
    assert_eq!(verify_code(&no_purpose), "federation.component_missing");

    let mut no_digest = good.clone_parts();
    no_digest.headers_mut().remove(CONTENT_DIGEST);
    assert_eq!(verify_code(&no_digest), "federation.digest_missing");

    let mut unsigned = good.clone_parts();
    unsigned.headers_mut().remove(SIGNATURE);
    assert_eq!(verify_code(&unsigned), "federation.signature_missing");
    unsigned.headers_mut().remove(SIGNATURE_INPUT);
    assert_eq!(verify_code(&unsigned), "federation.signature_missing");
    assert_eq!(verify_code(&request(b"{}")), "federation.signature_missing");

    // Another label only: not ours.
    let mut relabelled = good.clone_parts();
    for name in [SIGNATURE, SIGNATURE_INPUT] {
        let v = relabelled.headers()[&name]
            .to_str()
            .unwrap()
            .replacen("chuanyu", "other", 1);
        relabelled
            .headers_mut()
            .insert(name, HeaderValue::from_str(&v).unwrap());
    }
    assert_eq!(verify_code(&relabelled), "federation.signature_missing");

    // A signature value flipped in one byte.
    let mut flipped = good.clone_parts();
    let sig = flipped.headers()[&SIGNATURE].to_str().unwrap().to_owned();
    let (_, bytes) = find_signature(flipped.headers(), SIGNATURE_LABEL).unwrap();
    let mut bytes = bytes;
    bytes[10] ^= 1;
    let mut d = Dictionary::new();
    d.insert(
        LABEL.to_owned(),
        ListEntry::Item(Item::new(BareItem::ByteSequence(bytes))),
    );
    let replaced = d.serialize().unwrap();
    assert_ne!(replaced, sig);
    flipped
        .headers_mut()
        .insert(SIGNATURE, HeaderValue::from_str(&replaced).unwrap());
    assert_eq!(verify_code(&flipped), "federation.signature_invalid");

    // A signature of the wrong length.
    let mut short = good.clone_parts();
    short
        .headers_mut()
        .insert(SIGNATURE, HeaderValue::from_static("chuanyu=:AAAA:"));
    assert_eq!(verify_code(&short), "federation.signature_invalid");
}

#[test]
fn malformed_inputs() {
    let good = signed_request(b"{}", now_s(), 4);
    let with_input = |input: &str| {
        let mut r = good.clone_parts();
        r.headers_mut()
            .insert(SIGNATURE_INPUT, HeaderValue::from_str(input).unwrap());
        verify_code(&r)
    };
    let input = good.headers()[&SIGNATURE_INPUT]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(with_input("((("), "federation.signature_input_malformed");
    assert_eq!(
        with_input("chuanyu=1"),
        "federation.signature_input_malformed"
    );
    assert_eq!(
        with_input(&input.replace(";keyid=\"cq-2025\"", "")),
        "federation.signature_input_malformed"
    );
    assert_eq!(
        with_input(&input.replace(&format!(";created={}", now_s()), "")),
        "federation.signature_input_malformed"
    );
    assert_eq!(
        with_input(&input.replace(&format!("\"{}\"", nonce(4)), "\"short\"")),
        "federation.signature_input_malformed"
    );
    assert_eq!(
        with_input(&input.replace("alg=\"ed25519\"", "alg=\"hmac-sha256\"")),
        "federation.alg_unsupported"
    );
    assert_eq!(
        with_input(&input.replace(" \"x-chuanyu-purpose\"", "")),
        "federation.component_missing",
        "purpose not covered"
    );
    assert_eq!(
        with_input(&input.replace("\"@target-uri\"", "\"@path\"")),
        "federation.component_missing",
        "target not covered"
    );
    let mut bad_sig = good.clone_parts();
    bad_sig
        .headers_mut()
        .insert(SIGNATURE, HeaderValue::from_static("chuanyu=\"text\""));
    assert_eq!(
        verify_code(&bad_sig),
        "federation.signature_input_malformed"
    );
}

#[test]
fn time_window() {
    assert_eq!(verify_code(&signed_request(b"{}", now_s() - 300, 5)), "ok");
    assert_eq!(verify_code(&signed_request(b"{}", now_s() + 300, 6)), "ok");
    assert_eq!(
        verify_code(&signed_request(b"{}", now_s() - 301, 7)),
        "federation.created_out_of_window",
        "too old"
    );
    assert_eq!(
        verify_code(&signed_request(b"{}", now_s() + 301, 8)),
        "federation.created_out_of_window",
        "from the future"
    );
    // A narrower window.
    let d = dir();
    let nonces = InMemoryNonceStore::new(Duration::seconds(30));
    let req = signed_request(b"{}", now_s() - 60, 9);
    assert_eq!(
        Verifier::new(&d)
            .with_window(Duration::seconds(30))
            .verify_request(&req, None, &nonces, NOW)
            .unwrap_err()
            .code(),
        "federation.created_out_of_window"
    );
}

#[test]
fn replay_is_refused() {
    let d = dir();
    let nonces = InMemoryNonceStore::new(DEFAULT_WINDOW);
    let verifier = Verifier::new(&d);
    let req = signed_request(b"{}", now_s(), 10);
    assert!(verifier.verify_request(&req, None, &nonces, NOW).is_ok());
    assert_eq!(
        verifier
            .verify_request(&req, None, &nonces, NOW)
            .unwrap_err(),
        SignatureError::Replayed
    );
    // A failed verification does not use up a nonce.
    let fresh = signed_request(b"{}", now_s(), 11);
    let mut broken = fresh.clone_parts();
    *broken.body_mut() = b"{ }".to_vec();
    assert!(
        verifier
            .verify_request(&broken, None, &nonces, NOW)
            .is_err()
    );
    assert!(verifier.verify_request(&fresh, None, &nonces, NOW).is_ok());
}

#[test]
fn keys() {
    // Signed with SC's key while claiming CQ's key id.
    let mut req = request(b"{}");
    let impostor = NodeSigner::new(CQ_KID, key(2)).unwrap();
    sign_request_with(&mut req, &impostor, PURPOSE, now_s(), &nonce(12)).unwrap();
    assert_eq!(
        verify_code(&req),
        "federation.signature_invalid",
        "wrong key"
    );

    let mut req = request(b"{}");
    let stranger = NodeSigner::new("xz-2025", key(7)).unwrap();
    sign_request_with(&mut req, &stranger, PURPOSE, now_s(), &nonce(13)).unwrap();
    assert_eq!(verify_code(&req), "federation.key_unknown", "unknown kid");

    // A key used outside its validity period (before not_before) is unknown at that time.
    let mut req = request(b"{}");
    let early = time::macros::datetime!(2024-12-31 23:58 UTC).unix_timestamp();
    sign_request_with(&mut req, &cq(), PURPOSE, early, &nonce(14)).unwrap();
    let d = dir();
    let nonces = InMemoryNonceStore::new(DEFAULT_WINDOW);
    let at = time::macros::datetime!(2025-01-01 0:00 UTC);
    assert_eq!(
        Verifier::new(&d)
            .verify_request(&req, None, &nonces, at)
            .unwrap_err()
            .code(),
        "federation.key_unknown"
    );

    // A closure resolver.
    let resolver = |kid: &str, _at: OffsetDateTime| {
        (kid == CQ_KID).then(|| ResolvedKey {
            member: "CQ".into(),
            key: key(1).verifying_key(),
        })
    };
    let nonces = InMemoryNonceStore::new(DEFAULT_WINDOW);
    let req = signed_request(b"{}", now_s(), 15);
    assert_eq!(
        Verifier::new(&resolver)
            .verify_request(&req, None, &nonces, NOW)
            .unwrap()
            .member,
        "CQ"
    );
    assert!(NodeSigner::new("密钥", key(1)).is_err());
    assert!(
        !format!("{:?}", cq()).contains("key:"),
        "Debug hides the key"
    );
}

#[test]
fn signing_refuses_local_mistakes() {
    let mut relative = Request::builder().uri("/x").body(Vec::new()).unwrap();
    assert_eq!(
        sign_request(&mut relative, &cq(), PURPOSE, NOW)
            .unwrap_err()
            .code(),
        "federation.signing_failed"
    );
    let mut req = request(b"{}");
    assert!(sign_request(&mut req, &cq(), "转学", NOW).is_err());
    assert!(sign_request(&mut req, &cq(), "", NOW).is_err());
}

fn response(status: u16, body: &[u8]) -> Response<Vec<u8>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(body.to_vec())
        .unwrap()
}

fn signed_response(req: &Request<Vec<u8>>, body: &[u8], created: i64, n: u8) -> Response<Vec<u8>> {
    let mut res = response(200, body);
    sign_response_with(
        &mut res,
        &RequestParts::from(req),
        &sc(),
        created,
        &nonce(n),
    )
    .unwrap();
    res
}

fn verify_response_code(
    res: &Response<Vec<u8>>,
    sent: &Request<Vec<u8>>,
    callee: &str,
) -> &'static str {
    let d = dir();
    Verifier::new(&d)
        .verify_response(res, &RequestParts::from(sent), callee, NOW)
        .map(|_| "ok")
        .unwrap_or_else(|e| e.code())
}

#[test]
fn response_round_trip_and_binding() {
    let req = signed_request(b"{\"q\":1}", now_s(), 20);
    let res = signed_response(&req, "{\"status\":\"在读\"}".as_bytes(), now_s() + 1, 21);
    let input = res.headers()[&SIGNATURE_INPUT].to_str().unwrap();
    assert!(
        input.starts_with(
            "chuanyu=(\"@status\" \"content-digest\" \"signature\";key=\"chuanyu\";req);created="
        ),
        "{input}"
    );
    let d = dir();
    let v = Verifier::new(&d)
        .verify_response(&res, &RequestParts::from(&req), "SC", NOW)
        .unwrap();
    assert_eq!(v.member, "SC");
    assert_eq!(v.keyid, SC_KID);

    // The signature base shows the binding to the request's signature.
    let base = signature_base_of(
        &Message::Response(ResponseParts::from(&res), Some(RequestParts::from(&req))),
        SIGNATURE_LABEL,
    )
    .unwrap();
    let base = String::from_utf8(base).unwrap();
    let req_sig = req.headers()[&SIGNATURE].to_str().unwrap();
    let member = req_sig.strip_prefix("chuanyu=").unwrap();
    assert!(
        base.contains(&format!("\"signature\";key=\"chuanyu\";req: {member}\n")),
        "{base}"
    );
    assert!(base.starts_with("\"@status\": 200\n"));

    // Bound to a different request (same body, other nonce).
    let other = signed_request(b"{\"q\":1}", now_s(), 22);
    assert_eq!(
        verify_response_code(&res, &other, "SC"),
        "federation.signature_invalid"
    );
    // The request it answers was not signed at all.
    assert_eq!(
        verify_response_code(&res, &request(b"{\"q\":1}"), "SC"),
        "federation.component_missing"
    );

    let mut status = res.clone_parts();
    *status.status_mut() = http::StatusCode::NOT_FOUND;
    assert_eq!(
        verify_response_code(&status, &req, "SC"),
        "federation.signature_invalid"
    );

    let mut body = res.clone_parts();
    *body.body_mut() = "{\"status\":\"毕业\"}".as_bytes().to_vec();
    assert_eq!(
        verify_response_code(&body, &req, "SC"),
        "federation.digest_mismatch"
    );

    let mut unsigned = res.clone_parts();
    unsigned.headers_mut().remove(SIGNATURE);
    assert_eq!(
        verify_response_code(&unsigned, &req, "SC"),
        "federation.signature_missing"
    );

    // Answered by a member other than the one called.
    assert_eq!(
        verify_response_code(&res, &req, "GZ"),
        "federation.signer_mismatch"
    );

    // Signed by an unknown key.
    let mut stranger = response(200, b"{}");
    let signer = NodeSigner::new("xz-2025", key(7)).unwrap();
    sign_response_with(
        &mut stranger,
        &RequestParts::from(&req),
        &signer,
        now_s(),
        &nonce(23),
    )
    .unwrap();
    assert_eq!(
        verify_response_code(&stranger, &req, "SC"),
        "federation.key_unknown"
    );

    // Signed by SC's key id with another key.
    let mut forged = response(200, b"{}");
    let signer = NodeSigner::new(SC_KID, key(1)).unwrap();
    sign_response_with(
        &mut forged,
        &RequestParts::from(&req),
        &signer,
        now_s(),
        &nonce(24),
    )
    .unwrap();
    assert_eq!(
        verify_response_code(&forged, &req, "SC"),
        "federation.signature_invalid"
    );

    // Old response.
    let old = signed_response(&req, b"{}", now_s() - 400, 25);
    assert_eq!(
        verify_response_code(&old, &req, "SC"),
        "federation.created_out_of_window"
    );

    // Signing a response to an unsigned request is refused.
    let mut res = response(200, b"{}");
    assert_eq!(
        sign_response(&mut res, &RequestParts::from(&request(b"{}")), &sc(), NOW)
            .unwrap_err()
            .code(),
        "federation.signing_failed"
    );
}

#[test]
fn error_codes_are_distinct_and_bilingual() {
    let errors = [
        SignatureError::Missing,
        SignatureError::MalformedInput { detail: "x".into() },
        SignatureError::MissingComponent {
            component: "x".into(),
        },
        SignatureError::UnknownKey { keyid: "k".into() },
        SignatureError::UnsupportedAlgorithm { alg: "a".into() },
        SignatureError::Invalid,
        SignatureError::DigestMissing,
        SignatureError::DigestMismatch,
        SignatureError::OutsideWindow { created: 1, now: 2 },
        SignatureError::Expired,
        SignatureError::Replayed,
        SignatureError::SignerMismatch {
            expected: "SC".into(),
            found: "CQ".into(),
        },
        SignatureError::Signing { detail: "x".into() },
    ];
    let mut codes = std::collections::HashSet::new();
    for e in errors {
        assert!(codes.insert(e.code()));
        assert!(e.code().starts_with("federation."));
        assert_ne!(e.message(Lang::Zh), e.message(Lang::En));
        assert_eq!(e.to_string(), e.message(Lang::Zh));
    }
}

#[test]
fn expires_param_is_honoured() {
    // A signer (not us) that adds `expires`: build the input by hand and sign its base.
    let mut req = request(b"{}");
    sign_request_with(&mut req, &cq(), PURPOSE, now_s() - 10, &nonce(30)).unwrap();
    let input = req.headers()[&SIGNATURE_INPUT].to_str().unwrap().to_owned();
    let input = input.replace(";alg=", &format!(";expires={};alg=", now_s() - 1));
    req.headers_mut()
        .insert(SIGNATURE_INPUT, HeaderValue::from_str(&input).unwrap());
    let (inner, _) = find_signature(req.headers(), SIGNATURE_LABEL).unwrap();
    let base = signature_base(&Message::Request(RequestParts::from(&req)), &inner).unwrap();
    let mut d = Dictionary::new();
    d.insert(
        LABEL.to_owned(),
        ListEntry::Item(Item::new(BareItem::ByteSequence(
            key(1).sign(&base).to_bytes().to_vec(),
        ))),
    );
    req.headers_mut().insert(
        SIGNATURE,
        HeaderValue::from_str(&d.serialize().unwrap()).unwrap(),
    );
    assert_eq!(verify_code(&req), "federation.signature_expired");
}

/// Clones a request or response (http's types are not `Clone`).
trait CloneParts {
    fn clone_parts(&self) -> Self;
}

impl CloneParts for Request<Vec<u8>> {
    fn clone_parts(&self) -> Self {
        let mut r = Request::new(self.body().clone());
        *r.method_mut() = self.method().clone();
        *r.uri_mut() = self.uri().clone();
        *r.headers_mut() = self.headers().clone();
        r
    }
}

impl CloneParts for Response<Vec<u8>> {
    fn clone_parts(&self) -> Self {
        let mut r = Response::new(self.body().clone());
        *r.status_mut() = self.status();
        *r.headers_mut() = self.headers().clone();
        r
    }
}

mod no_panics {
    use super::*;
    use proptest::prelude::*;

    fn header_text() -> impl Strategy<Value = String> {
        // Visible ASCII and spaces: anything a peer can put in a header that http accepts,
        // biased towards structured-field punctuation.
        proptest::string::string_regex("[ -~]{0,80}|chuanyu=[-();=\":a-z0-9@ *.,?]{0,80}").unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn arbitrary_signature_headers(input in header_text(), sig in header_text(), digest in header_text(), body in proptest::collection::vec(any::<u8>(), 0..32)) {
            let d = dir();
            let nonces = InMemoryNonceStore::new(DEFAULT_WINDOW);
            let mut req = request(&body);
            for (name, value) in [(SIGNATURE_INPUT, &input), (SIGNATURE, &sig), (CONTENT_DIGEST, &digest)] {
                if let Ok(v) = HeaderValue::from_str(value) {
                    req.headers_mut().insert(name, v);
                }
            }
            req.headers_mut().insert(PURPOSE_HEADER, HeaderValue::from_static(PURPOSE));
            prop_assert!(Verifier::new(&d).verify_request(&req, Some(SC_ORIGIN), &nonces, NOW).is_err());
            let res = response(200, &body);
            let mut res = res;
            for (name, value) in [(SIGNATURE_INPUT, &input), (SIGNATURE, &sig), (CONTENT_DIGEST, &digest)] {
                if let Ok(v) = HeaderValue::from_str(value) {
                    res.headers_mut().insert(name, v);
                }
            }
            prop_assert!(Verifier::new(&d).verify_response(&res, &RequestParts::from(&req), "SC", NOW).is_err());
        }
    }
}
