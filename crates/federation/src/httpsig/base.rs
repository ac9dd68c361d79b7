//! RFC 9421 §2: component values and the signature base.
//!
//! Everything structured (the `Signature-Input` and `Signature` dictionaries, component
//! identifiers, the `@signature-params` line, dictionary members picked with `;key`) goes
//! through `sfv`; this module only applies the RFC's rules for which bytes each component
//! contributes. Supported: the derived components `@method`, `@target-uri`, `@authority`,
//! `@scheme`, `@request-target`, `@path`, `@query`, `@status`, any HTTP field, and the
//! component parameters `req` and `key`. Anything else (`sf`, `bs`, `tr`, `@query-param`)
//! is refused as malformed rather than guessed at.

use std::collections::HashSet;

use http::header::{HOST, HeaderName};
use http::{HeaderMap, Method, StatusCode, Uri};
use sfv::{BareItem, Dictionary, FieldType as _, InnerList, Item, KeyRef, List, ListEntry, Parser};

use super::SignatureError;

const REQ: &KeyRef = KeyRef::constant("req");
const KEY: &KeyRef = KeyRef::constant("key");

/// The parts of a request that a signature can cover.
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    pub method: &'a Method,
    /// For `@target-uri` this must be absolute (scheme and authority).
    pub target_uri: &'a Uri,
    pub headers: &'a HeaderMap,
}

impl<'a, B> From<&'a http::Request<B>> for RequestParts<'a> {
    fn from(req: &'a http::Request<B>) -> Self {
        RequestParts {
            method: req.method(),
            target_uri: req.uri(),
            headers: req.headers(),
        }
    }
}

/// The parts of a response that a signature can cover.
#[derive(Debug, Clone, Copy)]
pub struct ResponseParts<'a> {
    pub status: StatusCode,
    pub headers: &'a HeaderMap,
}

impl<'a, B> From<&'a http::Response<B>> for ResponseParts<'a> {
    fn from(res: &'a http::Response<B>) -> Self {
        ResponseParts {
            status: res.status(),
            headers: res.headers(),
        }
    }
}

/// The message a signature base is built from. A response may carry the request it answers,
/// for components with the `req` parameter (RFC 9421 §2.4).
#[derive(Debug, Clone, Copy)]
pub enum Message<'a> {
    Request(RequestParts<'a>),
    Response(ResponseParts<'a>, Option<RequestParts<'a>>),
}

impl<'a> Message<'a> {
    /// The headers of the message itself (where its signature is).
    pub fn headers(&self) -> &'a HeaderMap {
        match self {
            Message::Request(r) => r.headers,
            Message::Response(r, _) => r.headers,
        }
    }
}

/// A covered component identifier, with the parameters we support.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ComponentId {
    /// `@method`, `content-digest`, …: lowercase.
    pub name: String,
    /// Taken from the request this response answers.
    pub req: bool,
    /// A member of a dictionary-structured field.
    pub key: Option<String>,
}

impl ComponentId {
    pub fn new(name: &str) -> ComponentId {
        ComponentId {
            name: name.to_owned(),
            req: false,
            key: None,
        }
    }

    /// The identifier as an sf-item: the name, then `key`, then `req`.
    pub(crate) fn to_item(&self) -> Result<Item, SignatureError> {
        let mut item = Item::new(sf_string(&self.name)?);
        if let Some(key) = &self.key {
            item.params
                .insert(KEY.to_owned(), BareItem::String(sf_string(key)?));
        }
        if self.req {
            item.params.insert(REQ.to_owned(), BareItem::Boolean(true));
        }
        Ok(item)
    }

    fn from_item(item: &Item) -> Result<ComponentId, SignatureError> {
        let name = item
            .bare_item
            .as_string()
            .ok_or_else(|| malformed("a component identifier is not a string"))?
            .as_str();
        let mut id = ComponentId::new(name);
        for (param, value) in &item.params {
            match (param.as_str(), value) {
                ("req", BareItem::Boolean(true)) => id.req = true,
                ("key", BareItem::String(k)) if !name.starts_with('@') => {
                    id.key = Some(k.as_str().to_owned());
                }
                (other, _) => {
                    return Err(malformed(format!(
                        "component parameter {other} on {name} is not supported"
                    )));
                }
            }
        }
        let valid_name = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_graphic() && !b.is_ascii_uppercase());
        if !valid_name {
            return Err(malformed(format!(
                "component name {name:?} is not lowercase"
            )));
        }
        Ok(id)
    }
}

pub(crate) fn malformed(detail: impl Into<String>) -> SignatureError {
    SignatureError::MalformedInput {
        detail: detail.into(),
    }
}

pub(crate) fn sf_string(s: &str) -> Result<sfv::String, SignatureError> {
    sfv::String::from_string(s.to_owned())
        .map_err(|_| malformed(format!("{s:?} cannot be a structured-field string")))
}

/// The signature parameters of one labelled signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureParams {
    pub components: Vec<ComponentId>,
    pub created: Option<i64>,
    pub expires: Option<i64>,
    pub keyid: Option<String>,
    pub nonce: Option<String>,
    pub alg: Option<String>,
    pub tag: Option<String>,
}

impl SignatureParams {
    pub(crate) fn parse(inner: &InnerList) -> Result<SignatureParams, SignatureError> {
        let components = inner
            .items
            .iter()
            .map(ComponentId::from_item)
            .collect::<Result<Vec<_>, _>>()?;
        let mut params = SignatureParams {
            components,
            created: None,
            expires: None,
            keyid: None,
            nonce: None,
            alg: None,
            tag: None,
        };
        for (name, value) in &inner.params {
            let name = name.as_str();
            let integer = || match value {
                BareItem::Integer(i) if i64::from(*i) >= 0 => Ok(i64::from(*i)),
                _ => Err(malformed(format!("{name} is not a non-negative integer"))),
            };
            let string = || match value {
                BareItem::String(s) => Ok(s.as_str().to_owned()),
                _ => Err(malformed(format!("{name} is not a string"))),
            };
            match name {
                "created" => params.created = Some(integer()?),
                "expires" => params.expires = Some(integer()?),
                "keyid" => params.keyid = Some(string()?),
                "nonce" => params.nonce = Some(string()?),
                "alg" => params.alg = Some(string()?),
                "tag" => params.tag = Some(string()?),
                // RFC 9421 lets signers add parameters; they are signed, so ignoring is safe.
                _ => {}
            }
        }
        Ok(params)
    }
}

/// Joins every line of a header as RFC 9421 §2.1 does: each value trimmed, `, ` between.
fn combined(headers: &HeaderMap, name: &HeaderName) -> Option<Vec<u8>> {
    let mut out: Option<Vec<u8>> = None;
    for value in headers.get_all(name) {
        let bytes = value.as_bytes().trim_ascii();
        match &mut out {
            None => out = Some(bytes.to_vec()),
            Some(buf) => {
                buf.extend_from_slice(b", ");
                buf.extend_from_slice(bytes);
            }
        }
    }
    out
}

/// Finds the signature labelled `label`: its covered components and parameters (the inner
/// list of `Signature-Input`) and its bytes (from `Signature`).
pub(crate) fn find_signature(
    headers: &HeaderMap,
    label: &str,
) -> Result<(InnerList, Vec<u8>), SignatureError> {
    let (Some(input), Some(signature)) = (
        combined(headers, &super::SIGNATURE_INPUT),
        combined(headers, &super::SIGNATURE),
    ) else {
        return Err(SignatureError::Missing);
    };
    let input: Dictionary = Parser::new(&input)
        .parse()
        .map_err(|e| malformed(format!("Signature-Input: {e}")))?;
    let signature: Dictionary = Parser::new(&signature)
        .parse()
        .map_err(|e| malformed(format!("Signature: {e}")))?;
    let (Some(input), Some(signature)) = (input.get(label), signature.get(label)) else {
        return Err(SignatureError::Missing);
    };
    let ListEntry::InnerList(inner) = input else {
        return Err(malformed("Signature-Input member is not an inner list"));
    };
    let ListEntry::Item(Item {
        bare_item: BareItem::ByteSequence(bytes),
        ..
    }) = signature
    else {
        return Err(malformed("Signature member is not a byte sequence"));
    };
    Ok((inner.clone(), bytes.clone()))
}

/// The serialised inner list: the value of `@signature-params` and of the label's member in
/// `Signature-Input`.
pub(crate) fn serialize_inner(inner: &InnerList) -> Result<String, SignatureError> {
    let list: List = vec![ListEntry::InnerList(inner.clone())];
    list.serialize()
        .ok_or_else(|| malformed("empty signature parameters"))
}

/// Lowercases scheme and host and drops the default port, so a signer and a verifier that
/// reconstruct the same URI from different spellings agree.
fn scheme_and_authority(uri: &Uri) -> Option<(String, String)> {
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let authority = uri.authority()?;
    let default_port = match scheme.as_str() {
        "https" => Some(443),
        "http" => Some(80),
        _ => None,
    };
    let host = authority.host().to_ascii_lowercase();
    let authority = match authority.port_u16() {
        Some(port) if Some(port) != default_port => format!("{host}:{port}"),
        _ => host,
    };
    Some((scheme, authority))
}

/// The normalised absolute target URI, or `None` if `uri` is not absolute.
pub(crate) fn target_uri(uri: &Uri) -> Option<String> {
    let (scheme, authority) = scheme_and_authority(uri)?;
    let path = match uri.path() {
        "" => "/",
        p => p,
    };
    let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    Some(format!("{scheme}://{authority}{path}{query}"))
}

fn derived_value(
    name: &str,
    request: Option<&RequestParts<'_>>,
    response: Option<&ResponseParts<'_>>,
) -> Result<Vec<u8>, SignatureError> {
    let missing = || SignatureError::MissingComponent {
        component: name.to_owned(),
    };
    if name == "@status" {
        return response
            .map(|r| r.status.as_str().as_bytes().to_vec())
            .ok_or_else(missing);
    }
    let Some(req) = request else {
        return Err(missing());
    };
    let uri = req.target_uri;
    let value = match name {
        "@method" => req.method.as_str().to_owned(),
        "@target-uri" => target_uri(uri).ok_or_else(missing)?,
        "@authority" => match scheme_and_authority(uri) {
            Some((_, authority)) => authority,
            None => {
                let host = req.headers.get(HOST).ok_or_else(missing)?;
                let host = host.to_str().map_err(|_| malformed("Host is not ASCII"))?;
                host.trim().to_ascii_lowercase()
            }
        },
        "@scheme" => uri.scheme_str().ok_or_else(missing)?.to_ascii_lowercase(),
        "@request-target" => uri
            .path_and_query()
            .map(|pq| pq.as_str().to_owned())
            .ok_or_else(missing)?,
        "@path" => match uri.path() {
            "" => "/".to_owned(),
            p => p.to_owned(),
        },
        "@query" => format!("?{}", uri.query().unwrap_or("")),
        other => {
            return Err(malformed(format!(
                "derived component {other} is not supported"
            )));
        }
    };
    Ok(value.into_bytes())
}

fn field_value(id: &ComponentId, headers: &HeaderMap) -> Result<Vec<u8>, SignatureError> {
    let missing = || SignatureError::MissingComponent {
        component: id.name.clone(),
    };
    let name = HeaderName::from_bytes(id.name.as_bytes())
        .map_err(|_| malformed(format!("{:?} is not a field name", id.name)))?;
    let value = combined(headers, &name).ok_or_else(missing)?;
    let Some(key) = &id.key else {
        return Ok(value);
    };
    let dict: Dictionary = Parser::new(&value)
        .parse()
        .map_err(|e| malformed(format!("{} is not a dictionary: {e}", id.name)))?;
    let member = dict.get(key.as_str()).ok_or_else(missing)?;
    let serialized = match member {
        ListEntry::Item(item) => item.serialize(),
        ListEntry::InnerList(inner) => serialize_inner(inner)?,
    };
    Ok(serialized.into_bytes())
}

/// The signature base (RFC 9421 §2.5) of `message` for the covered components and
/// parameters in `inner`.
pub(crate) fn signature_base(
    message: &Message<'_>,
    inner: &InnerList,
) -> Result<Vec<u8>, SignatureError> {
    let (request, response) = match message {
        Message::Request(r) => (Some(r), None),
        Message::Response(res, req) => (req.as_ref(), Some(res)),
    };
    let mut base = Vec::new();
    let mut seen = HashSet::new();
    for item in &inner.items {
        let id = ComponentId::from_item(item)?;
        let line_id = item.serialize();
        if !seen.insert(line_id.clone()) {
            return Err(malformed(format!("{line_id} is covered twice")));
        }
        if id.name == "@signature-params" {
            return Err(malformed("@signature-params cannot be covered"));
        }
        // `req` only makes sense on a response: a request has no request of its own.
        let (req_side, res_side) = if id.req {
            if response.is_none() {
                return Err(malformed("req parameter on a request"));
            }
            (request, None)
        } else {
            (request.filter(|_| response.is_none()), response)
        };
        let value = if id.name.starts_with('@') {
            if id.req && id.name == "@status" {
                return Err(malformed("@status cannot be taken from a request"));
            }
            derived_value(&id.name, req_side, res_side)?
        } else {
            let headers = match (req_side, res_side) {
                (_, Some(res)) => res.headers,
                (Some(req), None) => req.headers,
                (None, None) => {
                    return Err(SignatureError::MissingComponent {
                        component: id.name.clone(),
                    });
                }
            };
            field_value(&id, headers)?
        };
        base.extend_from_slice(line_id.as_bytes());
        base.extend_from_slice(b": ");
        base.extend_from_slice(&value);
        base.push(b'\n');
    }
    base.extend_from_slice(b"\"@signature-params\": ");
    base.extend_from_slice(serialize_inner(inner)?.as_bytes());
    Ok(base)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        map
    }

    fn inner(s: &str) -> InnerList {
        let list: List = Parser::new(s).parse().unwrap();
        match list.into_iter().next().unwrap() {
            ListEntry::InnerList(i) => i,
            ListEntry::Item(_) => panic!("not an inner list"),
        }
    }

    /// The signature base of a request with these parts, for the inner list `input`.
    fn request_base(
        method: Method,
        uri: &str,
        headers: &HeaderMap,
        input: &str,
    ) -> Result<String, SignatureError> {
        let uri: Uri = uri.parse().unwrap();
        let req = RequestParts {
            method: &method,
            target_uri: &uri,
            headers,
        };
        signature_base(&Message::Request(req), &inner(input))
            .map(|base| String::from_utf8(base).unwrap())
    }

    #[test]
    fn derived_components() {
        let text = request_base(
            Method::POST,
            "HTTPS://WWW.Example.com:443/path/a%20b?param=value&foo=bar",
            &HeaderMap::new(),
            r#"("@method" "@target-uri" "@authority" "@scheme" "@request-target" "@path" "@query")"#,
        )
        .unwrap();
        assert_eq!(
            text,
            "\"@method\": POST\n\
             \"@target-uri\": https://www.example.com/path/a%20b?param=value&foo=bar\n\
             \"@authority\": www.example.com\n\
             \"@scheme\": https\n\
             \"@request-target\": /path/a%20b?param=value&foo=bar\n\
             \"@path\": /path/a%20b\n\
             \"@query\": ?param=value&foo=bar\n\
             \"@signature-params\": (\"@method\" \"@target-uri\" \"@authority\" \"@scheme\" \
             \"@request-target\" \"@path\" \"@query\")"
        );
    }

    #[test]
    fn field_values_are_trimmed_and_combined() {
        let h = headers(&[
            ("x-list", " a "),
            ("x-list", "b\t"),
            ("x-dict", "a=1, b=(x y);p, c=:AAA=:"),
        ]);
        let base = request_base(
            Method::GET,
            "/",
            &h,
            r#"("x-list" "x-dict";key="b" "x-dict";key="c");created=1"#,
        )
        .unwrap();
        assert_eq!(
            base,
            "\"x-list\": a, b\n\
             \"x-dict\";key=\"b\": (x y);p\n\
             \"x-dict\";key=\"c\": :AAA=:\n\
             \"@signature-params\": (\"x-list\" \"x-dict\";key=\"b\" \"x-dict\";key=\"c\");created=1"
        );
    }

    #[test]
    fn refusals() {
        let h = headers(&[("x-a", "1")]);
        let code = |s: &str| {
            use kernel::Localized as _;
            request_base(Method::GET, "/p", &h, s).unwrap_err().code()
        };
        assert_eq!(
            code(r#"("x-a" "x-a")"#),
            "federation.signature_input_malformed"
        );
        assert_eq!(
            code(r#"("@signature-params")"#),
            "federation.signature_input_malformed"
        );
        assert_eq!(
            code(r#"("x-a";sf)"#),
            "federation.signature_input_malformed"
        );
        assert_eq!(code(r#"("X-A")"#), "federation.signature_input_malformed");
        assert_eq!(
            code(r#"("x-a";req)"#),
            "federation.signature_input_malformed"
        );
        assert_eq!(
            code(r#"("@query-param";name="a")"#),
            "federation.signature_input_malformed"
        );
        assert_eq!(code(r#"(x-a)"#), "federation.signature_input_malformed");
        assert_eq!(code(r#"("x-b")"#), "federation.component_missing");
        assert_eq!(code(r#"("@status")"#), "federation.component_missing");
        assert_eq!(code(r#"("@target-uri")"#), "federation.component_missing");
        assert_eq!(code(r#"("@authority")"#), "federation.component_missing");
        assert_eq!(
            code(r#"("x-a";key="k")"#),
            "federation.signature_input_malformed"
        );
    }

    #[test]
    fn params_parse() {
        let p = SignatureParams::parse(&inner(
            r#"("@method" "signature";key="chuanyu";req);created=5;keyid="k";nonce="n";alg="ed25519";tag="t";x=1"#,
        ))
        .unwrap();
        assert_eq!(p.created, Some(5));
        assert_eq!(p.keyid.as_deref(), Some("k"));
        assert_eq!(p.nonce.as_deref(), Some("n"));
        assert_eq!(p.alg.as_deref(), Some("ed25519"));
        assert_eq!(p.tag.as_deref(), Some("t"));
        assert_eq!(
            p.components[1],
            ComponentId {
                name: "signature".into(),
                req: true,
                key: Some("chuanyu".into())
            }
        );
        assert!(SignatureParams::parse(&inner(r#"();created="5""#)).is_err());
        assert!(SignatureParams::parse(&inner(r#"();created=-5"#)).is_err());
        assert!(SignatureParams::parse(&inner(r#"();keyid=k"#)).is_err());
    }
}
