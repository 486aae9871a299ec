//! Turning a complete request body (and the query string) into parameters: pure
//! functions over bytes, so that the fuzz targets drive exactly what the server
//! runs, with no HTTP around it.
//!
//! Each shape refuses what it cannot represent faithfully instead of guessing:
//! bytes that are not UTF-8 (never replaced by U+FFFD: a passphrase altered that
//! way would still "work" with another value), a JSON value of a type the
//! parameter cannot have (never dropped: a passphrase given as a number must not
//! store the secret without one), and a multipart body that ends before its
//! closing boundary.

use serde_json::value::RawValue;
use std::collections::BTreeMap;
use zeroize::Zeroize;

use super::Params;
use crate::domain::ParamError;
use crate::error::Error;

/// Why text is refused in any shape.
const NOT_UTF8: Error = Error::BadRequest("Parameters must be UTF-8 text");
const MALFORMED_MULTIPART: Error = Error::BadBody("The multipart body is malformed");
/// Each face words it (v1: `The request body is not a JSON object`).
const NOT_JSON_OBJECT: Error = Error::MalformedJson;

/// Decodes the body by its `Content-Type` (the raw header value; empty when there
/// is none), then appends the query string, so body values come first and win.
pub fn decode_params(content_type: &str, body: &[u8], query: &str) -> Result<Params, Error> {
    let mut params = Params::default();
    if !body.is_empty() {
        match Shape::of(content_type) {
            Shape::Json => json(body, &mut params)?,
            Shape::Multipart => multipart(content_type, body, &mut params)?,
            Shape::Form => urlencoded(body, &mut params)?,
        }
    }
    urlencoded(query.as_bytes(), &mut params)?;
    Ok(params)
}

/// Decodes a body whose parameters are nested under `scope` (v2's creates:
/// `{"secret":{"ttl":60}}`, `secret[ttl]=60`), giving them as the flat names
/// [`decode_params`] gives (`ttl`), body first then query string.
///
/// - JSON: the body must be an object ([`Error::MalformedJson`]). Its member
///   `scope`, absent or `null`, gives nothing; an object gives its members,
///   typed as in a flat body (a `passphrase` of `null` is none, as v2 says),
///   its `character_sets` object the pairs `character_sets[NAME]`; anything
///   else is [`ParamError::IncorrectPayload`]. Other top-level members and
///   members whose names hold brackets (a form's spelling) are ignored.
/// - Forms and the query string: `scope[x]` is `x`, `scope[x][]` is `x[]`,
///   `scope[x][y]` is `x[y]`; a bare `scope` (a v1-style body) is
///   [`ParamError::IncorrectPayload`]; every other name is ignored.
///
/// No name in what is returned starts with `scope[`: whatever is nested is
/// unwrapped once, never taken for the scope again.
pub fn decode_nested(
    content_type: &str,
    body: &[u8],
    query: &str,
    scope: &str,
) -> Result<Params, Error> {
    let mut params = Params::default();
    // Form pairs as sent, before they are unwrapped (wiped when dropped).
    let mut sent = Params::default();
    if !body.is_empty() {
        match Shape::of(content_type) {
            Shape::Json => nested_json(body, scope, &mut params)?,
            Shape::Multipart => multipart(content_type, body, &mut sent)?,
            Shape::Form => urlencoded(body, &mut sent)?,
        }
    }
    urlencoded(query.as_bytes(), &mut sent)?;
    unnest(&mut sent, scope, &mut params)?;
    Ok(params)
}

/// How a body is decoded, by the essence of its `Content-Type`.
enum Shape {
    Json,
    Multipart,
    /// urlencoded, and clients that send a form without saying so.
    Form,
}

impl Shape {
    fn of(content_type: &str) -> Self {
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "application/json" => Self::Json,
            "multipart/form-data" => Self::Multipart,
            _ => Self::Form,
        }
    }
}

/// Moves the pairs named `scope[…]` into `params` under their inner names.
fn unnest(sent: &mut Params, scope: &str, params: &mut Params) -> Result<(), Error> {
    for (name, value) in &mut sent.pairs {
        if name == scope {
            return Err(Error::Param(ParamError::IncorrectPayload));
        }
        if let Some(inner) = inner_name(name, scope) {
            params.push(inner, std::mem::take(value));
        }
    }
    Ok(())
}

/// `scope[x]` → `x`, `scope[x][]` → `x[]`, `scope[x][y]` → `x[y]`; any other
/// shape (an empty or bracketed `x`, deeper nesting, `scope[scope][…]`, which
/// would name the scope again) is not a parameter.
fn inner_name(name: &str, scope: &str) -> Option<String> {
    let rest = name.strip_prefix(scope)?.strip_prefix('[')?;
    let (field, rest) = rest.split_once(']')?;
    if field.is_empty() || field.contains('[') || (field == scope && !rest.is_empty()) {
        return None;
    }
    match rest {
        "" => Some(field.to_owned()),
        "[]" => Some(format!("{field}[]")),
        _ => {
            let key = rest.strip_prefix('[')?.strip_suffix(']')?;
            (!key.is_empty() && !key.contains(['[', ']'])).then(|| format!("{field}[{key}]"))
        }
    }
}

/// `application/x-www-form-urlencoded` (and query strings): `+` is a space,
/// `%XX` a byte; a `%` not followed by two hex digits stays as it is. The decoded
/// bytes of every name and value must be UTF-8.
pub fn urlencoded(input: &[u8], params: &mut Params) -> Result<(), Error> {
    for piece in input.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
        let (name, value) = match piece.iter().position(|&b| b == b'=') {
            Some(i) => (&piece[..i], &piece[i + 1..]),
            None => (piece, &[][..]),
        };
        let name = utf8(percent_decode(name))?;
        let value = utf8(percent_decode(value))?;
        params.push(name, value);
    }
    Ok(())
}

/// `%XX` through the `percent-encoding` crate, which leaves a `%` without two
/// hex digits after it as it is; `+` is a space. Splitting at `+` first keeps an
/// escaped `%2B` a plus, and cannot change an escape: `+` is not a hex digit.
fn percent_decode(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    for (i, piece) in input.split(|&b| b == b'+').enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.extend(percent_encoding::percent_decode(piece));
    }
    out
}

/// Bytes as text, or the UTF-8 refusal (the bytes are wiped: they may be a secret).
fn utf8(bytes: Vec<u8>) -> Result<String, Error> {
    String::from_utf8(bytes).map_err(|e| {
        e.into_bytes().zeroize();
        NOT_UTF8
    })
}

/// The JSON types a known parameter may have, and the refusal when its value
/// has another. Names not listed here are read when they are text, a number or
/// a boolean, and otherwise ignored.
#[derive(Clone, PartialEq, Eq)]
enum Accepts {
    /// A string only.
    Text(ParamError),
    /// A string or an integer (a JSON number is taken as its literal text, so an
    /// integer of any size clamps exactly as the same digits in a form would).
    Integer(ParamError),
    /// A string, or an array of strings.
    TextList(ParamError),
    /// A string, a boolean or a number, as its literal text; any other value is
    /// absent, never refused: a flag (v2's `continue`) that is not a yes is a no,
    /// and a no changes nothing.
    Flag,
}

/// What the APIs read.
fn known(name: &str) -> Option<Accepts> {
    Some(match name {
        "secret" => Accepts::Text(ParamError::NothingToShare),
        "passphrase" => Accepts::Text(ParamError::InvalidPassphrase),
        "share_domain" => Accepts::Text(ParamError::InvalidShareDomain),
        "ttl" => Accepts::Integer(ParamError::InvalidTtl),
        "length" => Accepts::Integer(ParamError::InvalidLength),
        "recipient" | "recipient[]" => Accepts::TextList(ParamError::InvalidRecipient),
        "identifiers" => Accepts::TextList(ParamError::InvalidIdentifiers),
        "memo" => Accepts::Text(ParamError::InvalidMemo),
        "continue" => Accepts::Flag,
        _ => return None,
    })
}

/// A flat JSON object. A known parameter with a value of another type (a
/// `passphrase` that is a number, a `ttl` that is `null`, an object, an array) is
/// refused with that parameter's message; nothing is ever silently dropped.
pub fn json(body: &[u8], params: &mut Params) -> Result<(), Error> {
    json_members(json_object(body)?, params)
}

/// The members of a JSON object, each as its raw text.
fn json_object(text: &[u8]) -> Result<BTreeMap<String, Box<RawValue>>, Error> {
    serde_json::from_slice(text).map_err(|_| NOT_JSON_OBJECT)
}

/// The members of a flat object as parameters, typed as [`json`] says.
fn json_members(object: BTreeMap<String, Box<RawValue>>, params: &mut Params) -> Result<(), Error> {
    for (name, raw) in object {
        let literal = raw.get();
        match (known(&name), literal.as_bytes().first()) {
            (_, Some(b'"')) => params.push(name, json_string(literal)?),
            (Some(Accepts::Integer(_)), Some(b'-' | b'0'..=b'9')) => {
                params.push(name, literal.to_owned())
            }
            (Some(Accepts::TextList(refusal)), Some(b'[')) => {
                let items: Vec<Box<RawValue>> =
                    serde_json::from_str(literal).map_err(|_| Error::Param(refusal.clone()))?;
                for item in items {
                    if !item.get().starts_with('"') {
                        return Err(Error::Param(refusal));
                    }
                    params.push(name.clone(), json_string(item.get())?);
                }
            }
            (Some(Accepts::Flag) | None, Some(b'-' | b'0'..=b'9' | b't' | b'f')) => {
                params.push(name, literal.to_owned())
            }
            (Some(Accepts::Flag) | None, _) => {}
            (
                Some(
                    Accepts::Text(refusal) | Accepts::Integer(refusal) | Accepts::TextList(refusal),
                ),
                _,
            ) => return Err(Error::Param(refusal)),
        }
    }
    Ok(())
}

/// A JSON body whose parameters are under `scope`: see [`decode_nested`].
fn nested_json(body: &[u8], scope: &str, params: &mut Params) -> Result<(), Error> {
    let mut object = json_object(body)?;
    let Some(nested) = object.remove(scope) else {
        return Ok(());
    };
    match nested.get().as_bytes().first() {
        Some(b'{') => {}
        Some(b'n') => return Ok(()), // null
        _ => return Err(Error::Param(ParamError::IncorrectPayload)),
    }
    let mut members = json_object(nested.get().as_bytes())?;
    if let Some(sets) = members.remove("character_sets") {
        character_sets(sets.get(), params)?;
    }
    // Brackets are a form's spelling of nesting; a null passphrase is none.
    let ignored = |name: &str, raw: &RawValue| {
        name.contains(['[', ']']) || (name == "passphrase" && raw.get() == "null")
    };
    members.retain(|name, raw| !ignored(name, raw));
    json_members(members, params)
}

/// v2's `character_sets` object as the pairs `character_sets[NAME]` a form
/// sends: each set `true`, `false` or a string ([`CharacterSets`] reads it).
/// `null` is none given; any other type is refused.
///
/// [`CharacterSets`]: crate::domain::CharacterSets
fn character_sets(literal: &str, params: &mut Params) -> Result<(), Error> {
    let invalid = || Error::Param(ParamError::InvalidCharacterSets);
    if literal == "null" {
        return Ok(());
    }
    if !literal.starts_with('{') {
        return Err(invalid());
    }
    for (name, raw) in json_object(literal.as_bytes())? {
        let value = match raw.get() {
            "true" | "false" => raw.get().to_owned(),
            text if text.starts_with('"') => json_string(text)?,
            _ => return Err(invalid()),
        };
        params.push(format!("character_sets[{name}]"), value);
    }
    Ok(())
}

/// A JSON string literal (already validated by the object parse) as text.
fn json_string(literal: &str) -> Result<String, Error> {
    serde_json::from_str(literal).map_err(|_| NOT_JSON_OBJECT)
}

/// `multipart/form-data` (RFC 7578 over RFC 2046's framing), from the complete
/// body. Text fields and file parts (curl `-F secret=@file`) alike become
/// parameters. A body that ends before its closing delimiter is refused: it was
/// cut short, and what it holds may be cut short too.
pub fn multipart(content_type: &str, body: &[u8], params: &mut Params) -> Result<(), Error> {
    let boundary = boundary(content_type).ok_or(MALFORMED_MULTIPART)?;
    let dash_boundary = [b"--", boundary.as_bytes()].concat();
    let delimiter = [b"\r\n--", boundary.as_bytes()].concat();
    // The first boundary opens the body or ends a line of preamble.
    let mut rest = if body.starts_with(&dash_boundary) {
        &body[dash_boundary.len()..]
    } else {
        let at = find(body, &delimiter).ok_or(MALFORMED_MULTIPART)?;
        &body[at + delimiter.len()..]
    };
    loop {
        if rest.starts_with(b"--") {
            return Ok(()); // the close delimiter; an epilogue is ignored
        }
        rest = after_line_end(rest).ok_or(MALFORMED_MULTIPART)?;
        let headers_end = if rest.starts_with(b"\r\n") {
            0
        } else {
            find(rest, b"\r\n\r\n").ok_or(MALFORMED_MULTIPART)? + 2
        };
        let name = part_name(&rest[..headers_end]).ok_or(MALFORMED_MULTIPART)?;
        let content = &rest[headers_end + 2..];
        let end = find(content, &delimiter).ok_or(MALFORMED_MULTIPART)?;
        params.push(name, utf8(content[..end].to_vec())?);
        rest = &content[end + delimiter.len()..];
    }
}

/// The `boundary` parameter of a multipart `Content-Type` (RFC 2046: 1 to 70
/// characters), quoted or not.
fn boundary(content_type: &str) -> Option<String> {
    let mime: mime::Mime = content_type.parse().ok()?;
    let boundary = mime.get_param(mime::BOUNDARY)?.as_str();
    (1..=70)
        .contains(&boundary.len())
        .then(|| boundary.to_owned())
}

/// Past the transport padding (spaces and tabs) and the CRLF after a boundary.
fn after_line_end(rest: &[u8]) -> Option<&[u8]> {
    let padding = rest
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    rest[padding..].strip_prefix(b"\r\n")
}

/// The `name` of a part's `Content-Disposition: form-data; name="…"` header.
fn part_name(headers: &[u8]) -> Option<String> {
    let headers = std::str::from_utf8(headers).ok()?;
    let disposition = headers.split("\r\n").find_map(|line| {
        let (field, value) = line.split_once(':')?;
        field
            .trim()
            .eq_ignore_ascii_case("content-disposition")
            .then_some(value)
    })?;
    let (kind, mut params) = disposition.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("form-data") {
        return None;
    }
    loop {
        params = params.trim_start_matches([' ', '\t', ';']);
        let (key, after) = params.split_once('=')?;
        let (value, after) = parameter_value(after.trim_start())?;
        if key.trim().eq_ignore_ascii_case("name") {
            return Some(value);
        }
        params = after;
    }
}

/// A header parameter's value (a quoted string with `\` escapes, or a token) and
/// what follows it.
fn parameter_value(text: &str) -> Option<(String, &str)> {
    let Some(quoted) = text.strip_prefix('"') else {
        let end = text.find(';').unwrap_or(text.len());
        return Some((text[..end].trim().to_owned(), &text[end..]));
    };
    let mut value = String::new();
    let mut chars = quoted.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((value, &quoted[i + 1..])),
            '\\' => value.push(chars.next()?.1),
            c => value.push(c),
        }
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(params: &Params) -> Vec<(&str, &str)> {
        params.iter().collect()
    }

    fn form(content_type: &str, body: &str) -> Result<Params, Error> {
        decode_params(content_type, body.as_bytes(), "")
    }

    #[test]
    fn urlencoded_decodes_plus_and_percent_and_keeps_stray_percent_signs() {
        let p = form("", "secret=a+b%20c%zz%4&ttl=60&flag").unwrap();
        assert_eq!(
            pairs(&p),
            [("secret", "a b c%zz%4"), ("ttl", "60"), ("flag", "")]
        );
    }

    #[test]
    fn invalid_utf8_is_refused_in_body_query_and_names() {
        for (body, query) in [("passphrase=%FF%FF", ""), ("", "secret=%C3"), ("%FE=x", "")] {
            let err = decode_params("application/x-www-form-urlencoded", body.as_bytes(), query)
                .err()
                .expect("refused");
            assert_eq!(err.to_string(), "Parameters must be UTF-8 text");
        }
        let p = form("", "passphrase=%C3%A4").unwrap();
        assert_eq!(p.get("passphrase"), Some("ä"));
    }

    #[test]
    fn json_refuses_each_known_parameter_of_the_wrong_type() {
        // secret, passphrase and ttl are covered over the server (tests/api/params.rs).
        for (body, message) in [
            (r#"{"length":false}"#, "Invalid length"),
            (r#"{"length":[12]}"#, "Invalid length"),
            (r#"{"recipient":[1]}"#, "Invalid recipient"),
            (r#"{"recipient[]":{"to":"a@b.c"}}"#, "Invalid recipient"),
            (r#"{"share_domain":7}"#, "Invalid share domain"),
            (r#"{"share_domain":null}"#, "Invalid share domain"),
        ] {
            let err = form("application/json", body).err().expect(body);
            assert_eq!(err.to_string(), message, "{body}");
        }
    }

    #[test]
    fn json_numbers_keep_their_digits_and_lists_give_one_pair_each() {
        let body = r#"{"secret":"s","ttl":123456789012345678901234567890,
                       "recipient":["a@b.c","d@e.f"],"other":{"x":1},"flag":true}"#;
        let p = form("application/json", body).unwrap();
        assert_eq!(p.get("ttl"), Some("123456789012345678901234567890"));
        assert_eq!(p.all(&["recipient"]).count(), 2);
        assert_eq!(p.get("other"), None);
        assert_eq!(p.get("flag"), Some("true"));
        for not_an_object in ["[1]", "{", "\"s\"", " "] {
            let err = form("application/json", not_an_object)
                .err()
                .expect(not_an_object);
            assert!(matches!(err, Error::MalformedJson), "{not_an_object}");
            assert_eq!(err.to_string(), "The request body is not a JSON object");
        }
        assert!(form("application/json", r#"{"s":"\ud800"}"#).is_err());
    }

    const CT: &str = "multipart/form-data; boundary=XX";

    fn nested(content_type: &str, body: &str, query: &str) -> Result<Params, Error> {
        decode_nested(content_type, body.as_bytes(), query, "secret")
    }

    fn refusal(result: Result<Params, Error>) -> String {
        result.err().expect("refused").to_string()
    }

    #[test]
    fn nested_json_reads_the_scope_typed_as_a_flat_body_and_nothing_else() {
        let body = r#"{"secret":{"secret":"s","ttl":60,"passphrase":null,"recipient":["a@b.c"],
                       "character_sets":{"uppercase":false,"symbols":"true"},
                       "secret[ttl]":"1","x[]":"y","share_domain":"d.example"},
                       "ttl":5,"passphrase":"top-level is not read"}"#;
        let p = nested("application/json", body, "").unwrap();
        assert_eq!(
            pairs(&p),
            [
                ("character_sets[symbols]", "true"),
                ("character_sets[uppercase]", "false"),
                ("recipient", "a@b.c"),
                ("secret", "s"),
                ("share_domain", "d.example"),
                ("ttl", "60"),
            ]
        );
        let sets = crate::domain::CharacterSets::parse(|name| p.get(name)).unwrap();
        assert!(!sets.uppercase && sets.symbols && sets.lowercase);
        for empty in [r#"{}"#, r#"{"secret":null}"#, r#"{"secret":{}}"#, ""] {
            let p = nested("application/json", empty, "secret[ttl]=90").unwrap();
            assert_eq!(pairs(&p), [("ttl", "90")], "{empty}");
        }
    }

    #[test]
    fn nested_json_refuses_a_scope_or_member_of_the_wrong_type() {
        for (body, message) in [
            (r#"{"secret":"v1 style"}"#, "Incorrect payload format"),
            (r#"{"secret":5}"#, "Incorrect payload format"),
            (r#"{"secret":["s"]}"#, "Incorrect payload format"),
            (r#"{"secret":true}"#, "Incorrect payload format"),
            (
                r#"{"secret":{"secret":5}}"#,
                "You did not provide anything to share",
            ),
            (r#"{"secret":{"ttl":null}}"#, "Invalid TTL"),
            (r#"{"secret":{"passphrase":7}}"#, "Invalid passphrase"),
            (r#"{"secret":{"recipient":[1]}}"#, "Invalid recipient"),
            (
                r#"{"secret":{"length":"x","character_sets":[]}}"#,
                "Invalid character sets",
            ),
            (
                r#"{"secret":{"character_sets":"all"}}"#,
                "Invalid character sets",
            ),
            (
                r#"{"secret":{"character_sets":{"numbers":0}}}"#,
                "Invalid character sets",
            ),
            (
                r#"{"secret":{"character_sets":{"numbers":null}}}"#,
                "Invalid character sets",
            ),
        ] {
            assert_eq!(
                refusal(nested("application/json", body, "")),
                message,
                "{body}"
            );
        }
        for malformed in ["[]", r#""secret""#, r#"{"secret":{"#, "null"] {
            let err = nested("application/json", malformed, "")
                .err()
                .expect(malformed);
            assert!(matches!(err, Error::MalformedJson), "{malformed}");
        }
    }

    #[test]
    fn nested_forms_unwrap_the_scope_once_and_ignore_every_other_name() {
        let body = "secret%5Bsecret%5D=a+b&secret[recipient][]=r@x.example\
                    &secret[character_sets][symbols]=false&ttl=9&secret[]=no\
                    &secret[secret][x]=no&secret[secret][]=no&secret[a][b][c]=no\
                    &secret[[a]]=no&secret[a]x=no&secret[a][]x=no&secretx=no&secret[ttl]=60";
        let p = nested("", body, "secret[ttl]=61&secret[memo]=m").unwrap();
        assert_eq!(
            pairs(&p),
            [
                ("secret", "a b"),
                ("recipient[]", "r@x.example"),
                ("character_sets[symbols]", "false"),
                ("ttl", "60"),
                ("ttl", "61"),
                ("memo", "m"),
            ]
        );
        assert_eq!(p.get("ttl"), Some("60"), "the body wins");
        let multipart = "--XX\r\nContent-Disposition: form-data; name=\"secret[secret]\"\r\n\r\n\
                         s\r\n--XX\r\nContent-Disposition: form-data; name=ttl\r\n\r\n9\r\n--XX--";
        assert_eq!(
            pairs(&nested(CT, multipart, "").unwrap()),
            [("secret", "s")]
        );
    }

    #[test]
    fn nested_forms_refuse_a_bare_secret_and_what_a_flat_body_refuses() {
        for (ct, body, query) in [
            ("", "secret=v1+style", ""),
            ("", "secret[ttl]=60", "secret=x"),
            ("application/x-www-form-urlencoded", "secret", ""),
        ] {
            assert_eq!(refusal(nested(ct, body, query)), "Incorrect payload format");
        }
        assert_eq!(
            refusal(nested("", "secret[secret]=%FF", "")),
            "Parameters must be UTF-8 text"
        );
        assert_eq!(
            refusal(nested(
                CT,
                "--XX\r\nContent-Disposition: form-data; name=a\r\n\r\nb",
                ""
            )),
            "The multipart body is malformed"
        );
        // A JSON body's query string is unwrapped too.
        assert_eq!(
            refusal(nested("application/json", r#"{"secret":{}}"#, "secret=x")),
            "Incorrect payload format"
        );
    }

    #[test]
    fn flat_json_reads_v2_identifiers_memo_and_continue() {
        let p = form(
            "application/json",
            r#"{"identifiers":" k1, ,k2,","memo":"m","continue":true}"#,
        )
        .unwrap();
        assert_eq!(p.list("identifiers"), ["k1", "k2"]);
        assert_eq!(p.get("memo"), Some("m"));
        assert!(p.flag("continue"));
        let p = form("application/json", r#"{"identifiers":["k1","k2,k3"]}"#).unwrap();
        assert_eq!(p.list("identifiers"), ["k1", "k2", "k3"]);
        let p = form("", "identifiers[]=a&identifiers=b,c").unwrap();
        assert_eq!(p.list("identifiers"), ["a", "b", "c"]);
        for (body, message) in [
            (r#"{"identifiers":5}"#, "Invalid identifiers"),
            (r#"{"identifiers":[["k"]]}"#, "Invalid identifiers"),
            (r#"{"identifiers":null}"#, "Invalid identifiers"),
            (r#"{"memo":5}"#, "Invalid memo"),
            (r#"{"memo":{"text":"m"}}"#, "Invalid memo"),
        ] {
            assert_eq!(refusal(form("application/json", body)), message, "{body}");
        }
        for (body, yes) in [
            (r#"{"continue":"true"}"#, true),
            (r#"{"continue":1}"#, true),
            (r#"{"continue":false}"#, false),
            (r#"{"continue":"yes"}"#, false),
            (r#"{"continue":null}"#, false),
            (r#"{"continue":[true]}"#, false),
            (r#"{}"#, false),
        ] {
            assert_eq!(
                form("application/json", body).unwrap().flag("continue"),
                yes,
                "{body}"
            );
        }
        assert!(form("", "continue=true").unwrap().flag("continue"));
    }

    #[test]
    fn multipart_reads_fields_files_and_quoted_names() {
        let body = "preamble\r\n--XX\r\nContent-Disposition: form-data; name=\"secret\"\r\n\r\n\
                    line one\r\nline two\r\n--XX  \r\ncontent-disposition: form-data; \
                    filename=\"a;b.txt\"; name=\"pass\\\"phrase\"\r\nContent-Type: text/plain\r\n\r\n\
                    x\r\n--XX\r\nContent-Disposition: form-data; name=ttl\r\n\r\n60\r\n--XX--\r\nepilogue";
        let p = form(CT, body).unwrap();
        assert_eq!(
            pairs(&p),
            [
                ("secret", "line one\r\nline two"),
                ("pass\"phrase", "x"),
                ("ttl", "60")
            ]
        );
        assert_eq!(
            pairs(&form("multipart/form-data; boundary=\"a b\"", "--a b--").unwrap()),
            []
        );
    }

    #[test]
    fn multipart_refuses_truncated_unnamed_non_utf8_and_boundaryless_bodies() {
        for (ct, body) in [
            (
                CT,
                "--XX\r\nContent-Disposition: form-data; name=\"secret\"\r\n\r\nabc\r\n",
            ),
            (
                CT,
                "--XX\r\nContent-Disposition: form-data; name=\"secret\"\r\n\r\nabc",
            ),
            (
                CT,
                "--XX\r\nContent-Disposition: form-data; name=\"secret\"",
            ),
            (CT, "--XX"),
            (CT, "\n"),
            ("multipart/form-data; boundary=x", "\n"),
            ("multipart/form-data", "--\r\n"),
            (CT, "--XX\r\nContent-Type: text/plain\r\n\r\nabc\r\n--XX--"),
            (
                CT,
                "--XX\r\nContent-Disposition: attachment; name=a\r\n\r\nabc\r\n--XX--",
            ),
        ] {
            let err = form(ct, body).err().expect(body);
            assert_eq!(
                err.to_string(),
                "The multipart body is malformed",
                "{body:?}"
            );
        }
        let err = decode_params(
            CT,
            b"--XX\r\nContent-Disposition: form-data; name=a\r\n\r\n\xff\r\n--XX--",
            "",
        )
        .err()
        .expect("refused");
        assert_eq!(err.to_string(), "Parameters must be UTF-8 text");
    }
}
