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
            bytes,
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
            bytes,
        );
    }
    if problems.is_empty() {
        Ok(message)
    } else {
        Err(problems)
    }
}

/// The twin's XML form must fit the schema as an XML declaration must: what the XML reader would refuse, the twin
/// refuses. Each kept item is first put into the document the typed fields make (`/kept/k` when it has no place);
/// then the whole is checked against the schema table, and each problem is reported at the JSON pointer of the value
/// it concerns (found in the twin by that value and the field's name), naming the XML path too.
fn check_kept(
    mut tree: crate::dom::Element,
    kept: &[declaration::Kept],
    bytes: &[u8],
) -> Vec<Problem> {
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
    if !problems.is_empty() {
        return problems;
    }
    let found = crate::schema::validate(&tree);
    if found.is_empty() {
        return found;
    }
    let twin: serde_json::Value = serde_json::from_slice(bytes).unwrap_or_default();
    found
        .into_iter()
        .map(|problem| {
            let at = json_pointer_of(&twin, &tree, &problem.pointer, !kept.is_empty());
            Problem::with_message(
                problem.code,
                at,
                format!(
                    "{} (at {} in the XML form)",
                    problem.message, problem.pointer
                ),
            )
        })
        .collect()
}

/// The JSON pointer of the twin's value that the XML form holds at `xpath`: the string leaves equal to that value,
/// the one whose field name is the element's (or attribute's) in snake case preferred. `/kept` (or the whole
/// document) when no value names it.
fn json_pointer_of(
    twin: &serde_json::Value,
    tree: &crate::dom::Element,
    xpath: &str,
    has_kept: bool,
) -> String {
    let fallback = if has_kept {
        "/kept".to_owned()
    } else {
        String::new()
    };
    let Some((value, name)) = value_at(tree, xpath).filter(|(value, _)| !value.is_empty()) else {
        return fallback;
    };
    let mut candidates = Vec::new();
    leaves_equal(twin, &value, String::new(), &mut candidates);
    // The candidate whose segments echo most of the XML path's names (CurrencyExchange/RateNumeric in
    // /currency_exchanges/0/rate), the field's own name counting double.
    let steps: Vec<String> = xpath
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| snake_case(s.trim_start_matches('@').split('[').next().unwrap_or(s)))
        .collect();
    let echoes = |step: &str, pointer: &str| {
        pointer.split('/').any(|segment| {
            segment.len() >= 3
                && !segment.bytes().all(|b| b.is_ascii_digit())
                && (segment.contains(step) || step.starts_with(segment))
        })
    };
    let score = |pointer: &str| {
        let own = steps.last().is_some_and(|s| echoes(s, pointer))
            || pointer.ends_with(&snake_case(&name));
        steps.iter().filter(|s| echoes(s, pointer)).count() + usize::from(own)
    };
    let mut best: Option<(&String, usize)> = None;
    for candidate in &candidates {
        let s = score(candidate);
        if best.is_none_or(|(_, b)| s > b) {
            best = Some((candidate, s));
        }
    }
    best.map(|(p, _)| p.clone()).unwrap_or(fallback)
}

/// The text (or attribute value) at an XPath of the tree, with the element's or attribute's name.
fn value_at(tree: &crate::dom::Element, xpath: &str) -> Option<(String, String)> {
    let mut steps = xpath.split('/').filter(|s| !s.is_empty());
    let first = steps.next()?;
    if first != tree.name {
        return None;
    }
    let mut element = tree;
    for step in steps {
        if let Some(attribute) = step.strip_prefix('@') {
            return element
                .attribute(attribute)
                .map(|v| (v.to_owned(), attribute.to_owned()));
        }
        let (name, index) = match step.split_once('[') {
            Some((name, rest)) => (name, rest.trim_end_matches(']').parse::<usize>().ok()?),
            None => (step, 1),
        };
        element = element
            .children
            .iter()
            .filter(|c| c.name == name)
            .nth(index.checked_sub(1)?)?;
    }
    Some((element.text.clone(), element.name.clone()))
}

fn leaves_equal(value: &serde_json::Value, wanted: &str, at: String, out: &mut Vec<String>) {
    if out.len() >= 16 {
        return;
    }
    match value {
        serde_json::Value::String(text) if text == wanted => out.push(at),
        serde_json::Value::Array(items) => {
            for (k, item) in items.iter().enumerate() {
                leaves_equal(item, wanted, format!("{at}/{k}"), out);
            }
        }
        serde_json::Value::Object(fields) => {
            for (key, item) in fields {
                let key = key.replace('~', "~0").replace('/', "~1");
                leaves_equal(item, wanted, format!("{at}/{key}"), out);
            }
        }
        _ => {}
    }
}

/// `StatementDescription` → `statement_description`.
fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let chars: Vec<char> = name.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let after_lower = i > 0 && chars[i - 1].is_lowercase();
            let before_lower = i > 0
                && chars.get(i + 1).is_some_and(|n| n.is_lowercase())
                && chars[i - 1].is_uppercase();
            if after_lower || before_lower {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(*c);
        }
    }
    out
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
            // In its place, but the value is longer than the schema allows (UNDGID is an..4): at the value.
            (
                &good.replace("1234", "123456"),
                "/kept/0/element/element/children/0/text",
            ),
            // A second Declarant: the schema allows one.
            (
                r#"{"element": {"at": "Declaration", "index": 2, "element": {"name": "Declarant", "children": [{"name": "ID", "text": "GB603202734852"}]}}}"#,
                "/kept",
            ),
        ];
        // Nested deeper than any schema path (50 levels, 100 JSON levels, inside serde_json's limit of 128): refused at the item,
        // the walk stopping where the schema does.
        let mut deep = r#"{"name": "UNDGID", "text": "1"}"#.to_owned();
        for _ in 0..50 {
            deep = format!(r#"{{"name": "DangerousGoods", "children": [{deep}]}}"#);
        }
        let deep = format!(
            r#"{{"element": {{"at": "Declaration/GoodsShipment/GovernmentAgencyGoodsItem/Commodity", "index": 1, "element": {deep}}}}}"#
        );
        let cases: Vec<(&str, &str)> = cases
            .into_iter()
            .chain([(deep.as_str(), "/kept/0")])
            .collect();
        for (kept, at) in cases {
            let problems = read_declaration(base.replace("KEPT", kept).as_bytes()).unwrap_err();
            assert_eq!(problems[0].pointer, at, "{kept}: {problems:?}");
        }
    }

    /// What the XML reader refuses against the schema, the twin refuses, at the field's JSON pointer: a line break in
    /// a description (every DEC-DMS value is one line), a text longer than its an..n.
    #[test]
    fn the_twin_fits_the_schema_as_the_xml_does() {
        let base = r#"{"function_code": "original", "lrn": "A1", "type_code": "IMA", "declarant": {"id": "GB603202734852"}, "goods_shipment": {"goods_items": [{"sequence_numeric": 1, "description": "Shaver"}]}}"#;
        let long = "x".repeat(513);
        for (from, to, at) in [
            (
                "Shaver",
                "Sha\\nver",
                "/goods_shipment/goods_items/0/description",
            ),
            (
                "\"lrn\": \"A1\",",
                &format!(
                    "\"lrn\": \"A1\", \"additional_information\": [{{\"statement_description\": \"{long}\"}}],"
                ),
                "/additional_information/0/statement_description",
            ),
            // The same value twice: the rate (at most 12 digits) is named, not the invoice amount.
            (
                "\"lrn\": \"A1\",",
                "\"lrn\": \"A1\", \"invoice_amount\": {\"value\": \"1234567890123\", \"currency\": \"GBP\"}, \"currency_exchanges\": [{\"currency\": \"USD\", \"rate\": \"1234567890123\"}],",
                "/currency_exchanges/0/rate",
            ),
        ] {
            let text = base.replace(from, to);
            let problems = read_declaration(text.as_bytes()).unwrap_err();
            assert_eq!(
                (problems[0].code, problems[0].pointer.as_str()),
                (ErrorCode::InvalidValue, at),
                "{problems:?}"
            );
            assert!(
                problems[0].message.contains("in the XML form"),
                "{problems:?}"
            );
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
            // A line break is not a control character XML forbids, but every DEC-DMS value is one line (the
            // schemas' pattern): refused as the XML reader refuses it.
            (r"\n", false),
            (r"\u000d", false),
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
