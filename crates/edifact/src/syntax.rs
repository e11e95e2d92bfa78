//! The interchange syntax (ISO 9735, version 3 and 4 as customs use them): the service string advice `UNA`, the
//! release character, segments, data elements and components; the interchange envelope `UNB … UNZ` with its
//! control count and reference, optional functional groups `UNG … UNE`, and messages `UNH … UNT` with their
//! segment counts and references. Everything is checked; the first fault is named by segment number.

use error_table::{ErrorCode, Problem};

/// Limits on what one interchange may hold.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_segments: usize,
    pub max_elements: usize,
    pub max_components: usize,
    pub max_value_chars: usize,
    pub max_messages: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 8 * 1024 * 1024,
            max_segments: 200_000,
            max_elements: 99,
            max_components: 99,
            max_value_chars: 512,
            max_messages: 1_000,
        }
    }
}

/// The separators: from `UNA`, or the defaults `:+.? '`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delimiters {
    pub component: char,
    pub element: char,
    pub decimal: char,
    pub release: char,
    pub segment: char,
}

impl Default for Delimiters {
    fn default() -> Self {
        Delimiters {
            component: ':',
            element: '+',
            decimal: '.',
            release: '?',
            segment: '\'',
        }
    }
}

/// One segment: its tag, its data elements (each a list of components, released characters unescaped) and its
/// number in the interchange (1 = the first segment after `UNA`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    pub tag: String,
    pub elements: Vec<Vec<String>>,
    pub number: usize,
}

impl Segment {
    /// Component `c` of element `e` (both 1-based after the tag), or "" when absent.
    pub fn get(&self, e: usize, c: usize) -> &str {
        self.elements
            .get(e.wrapping_sub(1))
            .and_then(|components| components.get(c.wrapping_sub(1)))
            .map_or("", String::as_str)
    }
}

/// One message (`UNH … UNT`, both included).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub reference: String,
    /// e.g. `CUSDEC`, `CUSRES`, `CUSCAR`.
    pub message_type: String,
    /// e.g. `D`, `96B`, `UN`.
    pub version: String,
    pub release: String,
    pub agency: String,
    pub segments: Vec<Segment>,
}

/// A checked interchange.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interchange {
    pub delimiters: Delimiters,
    /// e.g. `UNOC` and syntax version `3`.
    pub syntax: String,
    pub syntax_version: String,
    pub sender: String,
    pub recipient: String,
    pub reference: String,
    pub messages: Vec<Message>,
}

/// Where a fault is: segment number (1-based), its tag, and the element when known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub code: ErrorCode,
    pub segment: usize,
    pub tag: String,
    pub element: Option<usize>,
    pub message: String,
}

impl SyntaxError {
    fn new(code: ErrorCode, segment: usize, tag: &str, message: impl Into<String>) -> SyntaxError {
        SyntaxError {
            code,
            segment,
            tag: tag.to_owned(),
            element: None,
            message: message.into(),
        }
    }
    fn at_element(mut self, element: usize) -> SyntaxError {
        self.element = Some(element);
        self
    }

    /// The pointer of an EDIFACT fault: `/segments/N` or `/segments/N/elements/E`.
    pub fn pointer(&self) -> String {
        match self.element {
            Some(e) => format!("/segments/{}/elements/{e}", self.segment),
            None => format!("/segments/{}", self.segment),
        }
    }

    pub fn to_problem(&self) -> Problem {
        let place = match (self.segment, self.element) {
            (0, _) => String::new(),
            (s, Some(e)) => format!("Segment {s} ({}), element {e}: ", self.tag),
            (s, None) => format!("Segment {s} ({}): ", self.tag),
        };
        Problem::with_message(
            self.code,
            self.pointer(),
            format!("{place}{}", self.message),
        )
    }
}

/// Decodes the bytes: UTF-8 (UNOW, UNOY, or plain ASCII UNOA/UNOB), or ISO 8859-1 for UNOC when the bytes are not
/// UTF-8.
fn decode(bytes: &[u8]) -> Result<String, SyntaxError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.to_owned()),
        Err(_) => {
            let head = &bytes[..bytes.len().min(256)];
            if head.windows(4).any(|w| w == b"UNOC") {
                Ok(bytes.iter().map(|b| char::from(*b)).collect())
            } else {
                Err(SyntaxError::new(
                    ErrorCode::NotUtf8,
                    0,
                    "",
                    "The interchange is neither UTF-8 nor ISO 8859-1 declared as UNOC.",
                ))
            }
        }
    }
}

/// Splits the text into segments, honouring the release character. Line breaks between segments are ignored.
fn segments(
    text: &str,
    delimiters: &Delimiters,
    limits: &Limits,
) -> Result<Vec<Segment>, SyntaxError> {
    let mut out: Vec<Segment> = Vec::new();
    let mut elements: Vec<Vec<String>> = Vec::new();
    let mut components: Vec<String> = Vec::new();
    let mut value = String::new();
    let mut chars = text.chars().peekable();
    let mut started = false;
    let number = |out: &Vec<Segment>| out.len() + 1;
    while let Some(c) = chars.next() {
        if !started && (c == '\r' || c == '\n') {
            continue;
        }
        started = true;
        if c == delimiters.release {
            match chars.next() {
                Some(next) => value.push(next),
                None => {
                    return Err(SyntaxError::new(
                        ErrorCode::EdifactTruncated,
                        number(&out),
                        "",
                        "The interchange ends after a release character.",
                    ));
                }
            }
        } else if c == delimiters.component {
            components.push(std::mem::take(&mut value));
            if components.len() >= limits.max_components {
                return Err(SyntaxError::new(
                    ErrorCode::EdifactSyntax,
                    number(&out),
                    "",
                    format!(
                        "More than {} components in one element.",
                        limits.max_components
                    ),
                ));
            }
        } else if c == delimiters.element {
            components.push(std::mem::take(&mut value));
            elements.push(std::mem::take(&mut components));
            if elements.len() > limits.max_elements {
                return Err(SyntaxError::new(
                    ErrorCode::EdifactSyntax,
                    number(&out),
                    "",
                    format!(
                        "More than {} data elements in one segment.",
                        limits.max_elements
                    ),
                ));
            }
        } else if c == delimiters.segment {
            components.push(std::mem::take(&mut value));
            elements.push(std::mem::take(&mut components));
            let mut elements = std::mem::take(&mut elements);
            let tag = elements.remove(0).join(":");
            let n = number(&out);
            if tag.len() != 3
                || !tag
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            {
                return Err(SyntaxError::new(
                    ErrorCode::EdifactSyntax,
                    n,
                    &tag.chars().take(8).collect::<String>(),
                    "A segment starts with a three-letter tag (e.g. NAD).",
                ));
            }
            if out.len() >= limits.max_segments {
                return Err(SyntaxError::new(
                    ErrorCode::EdifactSyntax,
                    n,
                    &tag,
                    format!(
                        "More than {} segments in one interchange.",
                        limits.max_segments
                    ),
                ));
            }
            out.push(Segment {
                tag,
                elements,
                number: n,
            });
            started = false;
        } else {
            value.push(c);
            if value.chars().count() > limits.max_value_chars {
                return Err(SyntaxError::new(
                    ErrorCode::EdifactSyntax,
                    number(&out),
                    "",
                    format!(
                        "A value is longer than {} characters.",
                        limits.max_value_chars
                    ),
                ));
            }
        }
    }
    if started {
        return Err(SyntaxError::new(
            ErrorCode::EdifactTruncated,
            number(&out),
            "",
            "The interchange ends in the middle of a segment (no segment terminator).",
        ));
    }
    Ok(out)
}

/// Reads and checks an interchange.
pub fn read(bytes: &[u8], limits: &Limits) -> Result<Interchange, SyntaxError> {
    if bytes.len() > limits.max_bytes {
        return Err(SyntaxError::new(
            ErrorCode::BodyTooLarge,
            0,
            "",
            format!("The interchange is larger than {} bytes.", limits.max_bytes),
        ));
    }
    let text = decode(bytes)?;
    let text = text.trim_start_matches(['\u{feff}', ' ', '\r', '\n', '\t']);
    let (delimiters, body) = match text.strip_prefix("UNA") {
        Some(rest) => {
            let advice: Vec<char> = rest.chars().take(6).collect();
            if advice.len() < 6 {
                return Err(SyntaxError::new(
                    ErrorCode::EdifactTruncated,
                    0,
                    "UNA",
                    "The service string advice UNA needs six characters.",
                ));
            }
            let d = Delimiters {
                component: advice[0],
                element: advice[1],
                decimal: advice[2],
                release: advice[3],
                segment: advice[5],
            };
            let distinct = [d.component, d.element, d.release, d.segment];
            if (0..4).any(|i| (i + 1..4).any(|j| distinct[i] == distinct[j]))
                || distinct
                    .iter()
                    .any(|c| c.is_alphanumeric() || c.is_whitespace())
            {
                return Err(SyntaxError::new(
                    ErrorCode::EdifactSyntax,
                    0,
                    "UNA",
                    "The separators in UNA must be four different punctuation characters.",
                ));
            }
            let skip: usize = advice.iter().map(|c| c.len_utf8()).sum();
            (d, &rest[skip..])
        }
        None => (Delimiters::default(), text),
    };
    let segments = segments(body, &delimiters, limits)?;
    let mut iter = segments.into_iter().peekable();
    let unb = match iter.next() {
        Some(s) if s.tag == "UNB" => s,
        Some(s) => {
            return Err(SyntaxError::new(
                ErrorCode::EdifactSyntax,
                s.number,
                &s.tag,
                "An interchange starts with UNB (after an optional UNA).",
            ));
        }
        None => {
            return Err(SyntaxError::new(
                ErrorCode::EdifactTruncated,
                1,
                "",
                "The interchange is empty.",
            ));
        }
    };
    let syntax = unb.get(1, 1).to_owned();
    if !matches!(syntax.as_str(), "UNOA" | "UNOB" | "UNOC" | "UNOW" | "UNOY") {
        return Err(SyntaxError::new(
            ErrorCode::EdifactSyntax,
            unb.number,
            "UNB",
            format!("Syntax identifier {syntax:?}: UNOA, UNOB, UNOC, UNOW or UNOY expected."),
        )
        .at_element(1));
    }
    let reference = unb.get(5, 1).to_owned();
    if reference.is_empty() || reference.chars().count() > 14 {
        return Err(SyntaxError::new(
            ErrorCode::EdifactSyntax,
            unb.number,
            "UNB",
            "The interchange control reference (0020) is 1 to 14 characters.",
        )
        .at_element(5));
    }
    let mut interchange = Interchange {
        delimiters,
        syntax,
        syntax_version: unb.get(1, 2).to_owned(),
        sender: unb.get(2, 1).to_owned(),
        recipient: unb.get(3, 1).to_owned(),
        reference,
        messages: Vec::new(),
    };
    let mut envelopes = 0usize; // messages, or groups when groups are used
    let mut group: Option<(Segment, usize)> = None;
    let mut last = unb.number;
    loop {
        let Some(segment) = iter.next() else {
            return Err(SyntaxError::new(
                ErrorCode::EdifactTruncated,
                last + 1,
                "",
                "The interchange ends without UNZ.",
            ));
        };
        last = segment.number;
        match segment.tag.as_str() {
            "UNH" => {
                let message = read_message(segment, &mut iter, &mut last)?;
                if interchange.messages.len() >= limits.max_messages {
                    return Err(SyntaxError::new(
                        ErrorCode::EdifactSyntax,
                        last,
                        "UNT",
                        format!(
                            "More than {} messages in one interchange.",
                            limits.max_messages
                        ),
                    ));
                }
                interchange.messages.push(message);
                match &mut group {
                    Some((_, count)) => *count += 1,
                    None => envelopes += 1,
                }
            }
            "UNG" if group.is_none() => group = Some((segment, 0)),
            "UNE" => {
                let Some((ung, count)) = group.take() else {
                    return Err(SyntaxError::new(
                        ErrorCode::EdifactSyntax,
                        segment.number,
                        "UNE",
                        "UNE without a UNG.",
                    ));
                };
                check_count(&segment, count, "messages in the group")?;
                check_reference(&segment, ung.get(5, 1), "UNG")?;
                envelopes += 1;
            }
            "UNZ" => {
                if let Some((ung, _)) = group {
                    return Err(SyntaxError::new(
                        ErrorCode::EdifactControlMismatch,
                        segment.number,
                        "UNZ",
                        format!(
                            "The group opened at segment {} is not closed with UNE.",
                            ung.number
                        ),
                    ));
                }
                check_count(&segment, envelopes, "messages (or groups)")?;
                check_reference(&segment, &interchange.reference, "UNB")?;
                if let Some(extra) = iter.next() {
                    return Err(SyntaxError::new(
                        ErrorCode::EdifactSyntax,
                        extra.number,
                        &extra.tag,
                        "Nothing may follow UNZ.",
                    ));
                }
                return Ok(interchange);
            }
            other => {
                return Err(SyntaxError::new(
                    ErrorCode::EdifactSyntax,
                    segment.number,
                    other,
                    "Between messages only UNH, UNG, UNE or UNZ may come.",
                ));
            }
        }
    }
}

fn check_count(segment: &Segment, actual: usize, what: &str) -> Result<(), SyntaxError> {
    let declared = segment.get(1, 1);
    if declared.parse::<usize>().ok() != Some(actual) {
        return Err(SyntaxError::new(
            ErrorCode::EdifactControlMismatch,
            segment.number,
            &segment.tag,
            format!("The control count says {declared:?}, but there are {actual} {what}."),
        )
        .at_element(1));
    }
    Ok(())
}

fn check_reference(segment: &Segment, expected: &str, opener: &str) -> Result<(), SyntaxError> {
    let found = segment.get(2, 1);
    if found != expected {
        return Err(SyntaxError::new(
            ErrorCode::EdifactControlMismatch,
            segment.number,
            &segment.tag,
            format!("The reference {found:?} does not match {expected:?} of {opener}."),
        )
        .at_element(2));
    }
    Ok(())
}

fn read_message(
    unh: Segment,
    iter: &mut std::iter::Peekable<std::vec::IntoIter<Segment>>,
    last: &mut usize,
) -> Result<Message, SyntaxError> {
    let reference = unh.get(1, 1).to_owned();
    if reference.is_empty() || reference.chars().count() > 14 {
        return Err(SyntaxError::new(
            ErrorCode::EdifactSyntax,
            unh.number,
            "UNH",
            "The message reference number (0062) is 1 to 14 characters.",
        )
        .at_element(1));
    }
    let mut message = Message {
        reference,
        message_type: unh.get(2, 1).to_owned(),
        version: unh.get(2, 2).to_owned(),
        release: unh.get(2, 3).to_owned(),
        agency: unh.get(2, 4).to_owned(),
        segments: vec![unh],
    };
    loop {
        let Some(segment) = iter.next() else {
            return Err(SyntaxError::new(
                ErrorCode::EdifactTruncated,
                *last + 1,
                "",
                format!("The message {} ends without UNT.", message.reference),
            ));
        };
        *last = segment.number;
        match segment.tag.as_str() {
            "UNT" => {
                check_count(
                    &segment,
                    message.segments.len() + 1,
                    "segments from UNH to UNT",
                )?;
                check_reference(&segment, &message.reference.clone(), "UNH")?;
                message.segments.push(segment);
                return Ok(message);
            }
            "UNH" | "UNZ" | "UNB" | "UNG" | "UNE" => {
                return Err(SyntaxError::new(
                    ErrorCode::EdifactTruncated,
                    segment.number,
                    &segment.tag,
                    format!("The message {} is not closed with UNT.", message.reference),
                ));
            }
            _ => message.segments.push(segment),
        }
    }
}

/// Writes segments with the default delimiters, releasing what needs it. `segments` are (tag, elements of
/// components).
pub fn write_segment(out: &mut String, tag: &str, elements: &[&[&str]]) {
    out.push_str(tag);
    // Trailing empty elements are left out, as the syntax asks.
    let used = elements
        .iter()
        .rposition(|e| e.iter().any(|c| !c.is_empty()))
        .map_or(0, |i| i + 1);
    for element in &elements[..used] {
        out.push('+');
        let used = element
            .iter()
            .rposition(|c| !c.is_empty())
            .map_or(0, |i| i + 1);
        for (i, component) in element[..used].iter().enumerate() {
            if i > 0 {
                out.push(':');
            }
            for c in component.chars() {
                if matches!(c, '?' | ':' | '+' | '\'') {
                    out.push('?');
                }
                out.push(c);
            }
        }
    }
    out.push('\'');
}
