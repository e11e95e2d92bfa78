//! The JSON twin of the declaration (docs/json-twin.md): the serde form of `declaration::Declaration`, read with the
//! JSON pointer of the first bad field, then checked by the same context-free rules as the XML.

use declaration::{AdditionalMessage, Declaration};
use error_table::{ErrorCode, Problem};

/// Reads a declaration in its JSON form. serde_json keeps its default nesting limit (128), so a deeply nested
/// document is refused, not a crash.
pub fn read_declaration(bytes: &[u8]) -> Result<Declaration, Vec<Problem>> {
    let declaration: Declaration = deserialize(bytes)?;
    let problems = crate::rules::check(&declaration, crate::rules::PointerStyle::JsonPointer);
    if problems.is_empty() {
        Ok(declaration)
    } else {
        Err(problems)
    }
}

/// Reads a function code 13 message (correction, invalidation, goods presentation) in its JSON form.
pub fn read_additional_message(bytes: &[u8]) -> Result<AdditionalMessage, Vec<Problem>> {
    let message: AdditionalMessage = deserialize(bytes)?;
    let problems =
        crate::rules::check_additional(&message, crate::rules::PointerStyle::JsonPointer);
    if problems.is_empty() {
        Ok(message)
    } else {
        Err(problems)
    }
}

fn deserialize<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, Vec<Problem>> {
    let text =
        std::str::from_utf8(bytes).map_err(|_| vec![Problem::new(ErrorCode::NotUtf8, "")])?;
    let mut deserializer = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let at = pointer(error.path());
        let inner = error.into_inner();
        let code = if inner.is_syntax() || inner.is_eof() {
            ErrorCode::JsonInvalid
        } else {
            ErrorCode::InvalidValue
        };
        vec![Problem::with_message(code, at, inner.to_string())]
    })
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
}
