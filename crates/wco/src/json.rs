//! The JSON twin of the declaration (docs/json-twin.md): the serde form of `declaration::Declaration`, read with the
//! JSON pointer of the first bad field, then checked by the same context-free rules as the XML.

use declaration::{AdditionalMessage, Declaration};
use error_table::{ErrorCode, Problem};

/// Reads a declaration in its JSON form. serde_json keeps its default nesting limit (128), so a deeply nested
/// document is refused, not a crash.
pub fn read_declaration(bytes: &[u8]) -> Result<Declaration, Vec<Problem>> {
    let declaration: Declaration = deserialize(bytes)?;
    let mut problems = crate::rules::check(&declaration, crate::rules::PointerStyle::JsonPointer);
    if problems.is_empty() {
        problems = check_kept(
            crate::write::typed_declaration(&declaration),
            &declaration.kept,
        );
    }
    if problems.is_empty() {
        Ok(declaration)
    } else {
        Err(problems)
    }
}

/// Reads a function code 13 message (correction, invalidation, goods presentation) in its JSON form.
pub fn read_additional_message(bytes: &[u8]) -> Result<AdditionalMessage, Vec<Problem>> {
    let message: AdditionalMessage = deserialize(bytes)?;
    let mut problems =
        crate::rules::check_additional(&message, crate::rules::PointerStyle::JsonPointer);
    if problems.is_empty() {
        problems = check_kept(
            crate::write::typed_additional_message(&message),
            &message.kept,
        );
    }
    if problems.is_empty() {
        Ok(message)
    } else {
        Err(problems)
    }
}

/// What the twin keeps beyond the typed fields must have its place in the schema and fit it: each kept item is put
/// into the document the typed fields make (`/kept/k` when it has no place), and the whole is checked against the
/// schema (each problem at `/kept`, naming the XML path).
fn check_kept(mut tree: crate::dom::Element, kept: &[declaration::Kept]) -> Vec<Problem> {
    if kept.is_empty() {
        return Vec::new();
    }
    let mut problems = Vec::new();
    for (k, item) in kept.iter().enumerate() {
        if let Err(why) = crate::kept::merge(&mut tree, std::slice::from_ref(item)) {
            problems.push(Problem::with_message(
                ErrorCode::UnexpectedElement,
                format!("/kept/{k}"),
                format!("{why}."),
            ));
        }
    }
    if problems.is_empty() {
        for problem in crate::schema::validate(&tree) {
            problems.push(Problem::with_message(
                problem.code,
                "/kept",
                format!(
                    "{} (at {} in the XML form)",
                    problem.message, problem.pointer
                ),
            ));
        }
    }
    problems
}

fn deserialize<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, Vec<Problem>> {
    let text =
        std::str::from_utf8(bytes).map_err(|_| vec![Problem::new(ErrorCode::NotUtf8, "")])?;
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let at = pointer(error.path());
        let inner = error.into_inner();
        let code = if inner.is_syntax() || inner.is_eof() {
            ErrorCode::JsonInvalid
        } else {
            ErrorCode::InvalidValue
        };
        vec![Problem::with_message(code, at, inner.to_string())]
    })?;
    // One JSON value and nothing after it but white space: trailing text is refused, not ignored.
    deserializer.end().map_err(|error| {
        vec![Problem::with_message(
            ErrorCode::JsonInvalid,
            "",
            format!("The document continues after its JSON value: {error}."),
        )]
    })?;
    // JSON may escape a control character (`\u0001`, `\b`, `\f`); the XML twin cannot hold one (XML 1.0 forbids
    // them), so neither may the model. Found by a scan of the escapes; the slow walk only names the field.
    if has_control_escape(text) {
        let tree: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
        let (at, c) = find_control(&tree, String::new()).unwrap_or_default();
        return Err(vec![Problem::with_message(
            ErrorCode::InvalidValue,
            at,
            format!(
                "The value holds the control character U+{:04X}, which a declaration cannot carry (XML 1.0 \
                 forbids it).",
                u32::from(c)
            ),
        )]);
    }
    Ok(value)
}

/// Whether a JSON text (already parsed, so well-formed) escapes a control character other than tab, line feed and
/// carriage return. Backslashes occur only inside strings, so reading escapes pairwise is exact.
fn has_control_escape(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            i += 1;
            continue;
        }
        match bytes.get(i + 1) {
            Some(b'b' | b'f') => return true,
            Some(b'u') => {
                let code = text
                    .get(i + 2..i + 6)
                    .and_then(|hex| u32::from_str_radix(hex, 16).ok());
                if code.is_some_and(|c| c < 0x20 && !matches!(c, 0x09 | 0x0A | 0x0D)) {
                    return true;
                }
                i += 6;
            }
            _ => i += 2,
        }
    }
    false
}

/// The JSON pointer of the first string holding a forbidden control character, and that character.
fn find_control(value: &serde_json::Value, at: String) -> Option<(String, char)> {
    match value {
        serde_json::Value::String(text) => text
            .chars()
            .find(|c| c.is_control() && (*c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r'))
            .map(|c| (at, c)),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(k, v)| find_control(v, format!("{at}/{k}"))),
        serde_json::Value::Object(fields) => fields.iter().find_map(|(k, v)| {
            find_control(
                v,
                format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
            )
        }),
        _ => None,
    }
}

/// The JSON pointer (RFC 6901) of a serde path.
pub fn pointer(path: &serde_path_to_error::Path) -> String {
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            serde_path_to_error::Segment::Seq { index } => out.push_str(&format!("/{index}")),
            serde_path_to_error::Segment::Map { key } => {
                out.push_str(&format!("/{}", key.replace('~', "~0").replace('/', "~1")))
            }
            serde_path_to_error::Segment::Enum { variant } => out.push_str(&format!("/{variant}")),
            serde_path_to_error::Segment::Unknown => out.push_str("/?"),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_items_must_have_their_place_in_the_schema_and_fit_it() {
        let base = r#"{"function_code": "original", "lrn": "A1", "type_code": "IMA", "declarant": {"id": "GB603202734852"}, "goods_shipment": {"goods_items": [{"sequence_numeric": 1, "description": "Shaver"}]}, "kept": [KEPT]}"#;
        let good = r#"{"element": {"at": "Declaration/GoodsShipment/GovernmentAgencyGoodsItem/Commodity", "index": 1, "element": {"name": "DangerousGoods", "children": [{"name": "UNDGID", "text": "1234"}]}}}"#;
        let declaration = read_declaration(base.replace("KEPT", good).as_bytes()).unwrap();
        let xml = crate::write::write_declaration(&declaration);
        assert!(xml.contains("<UNDGID>1234</UNDGID>"), "{xml}");
        let cases = [
            (
                r#"{"element": {"at": "Declaration/Nowhere", "index": 1, "element": {"name": "X"}}}"#,
                "/kept/0",
            ),
            (
                r#"{"element": {"at": "Declaration", "index": 1, "element": {"name": "Nonsense"}}}"#,
                "/kept/0",
            ),
            (
                r#"{"attribute": {"at": "Declaration/FunctionalReferenceID", "name": "bogus", "value": "x"}}"#,
                "/kept/0",
            ),
            // In its place, but the value is longer than the schema allows (UNDGID is an..4).
            (&good.replace("1234", "123456"), "/kept"),
            // A second Declarant: the schema allows one.
            (
                r#"{"element": {"at": "Declaration", "index": 2, "element": {"name": "Declarant", "children": [{"name": "ID", "text": "GB603202734852"}]}}}"#,
                "/kept",
            ),
        ];
        for (kept, at) in cases {
            let problems = read_declaration(base.replace("KEPT", kept).as_bytes()).unwrap_err();
            assert_eq!(problems[0].pointer, at, "{kept}: {problems:?}");
        }
    }

    #[test]
    fn errors_point_at_the_field() {
        let cases: &[(&str, ErrorCode, &str)] = &[
            (
                "{\"function_code\": ",
                ErrorCode::JsonInvalid,
                "/function_code",
            ),
            (
                "{\"function_code\": \"original\", \"lrn\": 5}",
                ErrorCode::InvalidValue,
                "/lrn",
            ),
            (
                "{\"function_code\": \"original\", \"lrn\": \"A\", \"type_code\": \"XXA\"}",
                ErrorCode::InvalidValue,
                "/type_code",
            ),
        ];
        for (text, code, at) in cases {
            let problems = read_declaration(text.as_bytes()).unwrap_err();
            assert_eq!(
                (problems[0].code, problems[0].pointer.as_str()),
                (*code, *at),
                "{text}"
            );
        }
        assert_eq!(
            read_declaration(b"\xff").unwrap_err()[0].code,
            ErrorCode::NotUtf8
        );
    }

    #[test]
    fn escaped_control_characters_are_refused_at_their_field() {
        let base = r#"{"function_code": "original", "lrn": "A1", "type_code": "IMA", "declarant": {"id": "GB603202734852"}, "goods_shipment": {"goods_items": [{"sequence_numeric": 1, "description": "Shaver"}]}}"#;
        assert!(read_declaration(base.as_bytes()).is_ok());
        for (escape, ok) in [
            (r"\u0001", false),
            (r"\u001F", false),
            (r"\b", false),
            (r"\f", false),
            (r"\t", true),
            (r"\n", true),
            (r"\u000d", true),
            (r"\u0020", true),
            (r"\\b", true),
            (r"\\u0001", true),
        ] {
            let text = base.replace("Shaver", &format!("Sha{escape}ver"));
            match read_declaration(text.as_bytes()) {
                Ok(_) => assert!(ok, "{escape} accepted"),
                Err(problems) => {
                    assert!(!ok, "{escape} refused: {problems:?}");
                    assert_eq!(
                        (problems[0].code, problems[0].pointer.as_str()),
                        (
                            ErrorCode::InvalidValue,
                            "/goods_shipment/goods_items/0/description"
                        ),
                        "{escape}"
                    );
                }
            }
        }
    }
}
