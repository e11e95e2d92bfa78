//! What the administration publishes for everyone (WTO TFA Art. 1: procedures, forms, fees and charges; Art. 2:
//! draft rules open for comment before they enter into force, then their final text). Pure: the checks of what
//! an administrator writes and of a comment anyone sends, and the stage a publication is at a given time.

use crate::text::{clean, one_line};
use time::OffsetDateTime;

/// The longest reference (e.g. `PROC-IM-4000`, `FEE-2026-03`).
pub const MAX_REFERENCE_CHARS: usize = 40;
pub const MAX_TITLE_CHARS: usize = 200;
/// A publication's text (and a rule's final text): about ten pages.
pub const MAX_BODY_CHARS: usize = 40_000;
pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_COMMENT_CHARS: usize = 5_000;
/// Comments a draft takes at most (a ceiling on what anyone may make the store hold).
pub const MAX_COMMENTS: i64 = 10_000;
/// Publications the administration keeps at most.
pub const MAX_PUBLICATIONS: i64 = 5_000;

/// What is published.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// An import, export or transit procedure, step by step.
    Procedure,
    /// A form and how to fill it in.
    Form,
    /// A fee or charge: its amount or rate and what it is for.
    Fee,
    /// A rule: a draft open for comment until a date, then its final text.
    Rule,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Procedure, Kind::Form, Kind::Fee, Kind::Rule];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Procedure => "procedure",
            Kind::Form => "form",
            Kind::Fee => "fee",
            Kind::Rule => "rule",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// Where a publication stands at a given time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// A procedure, form or fee: in force as published.
    Published,
    /// A draft rule taking comments.
    OpenForComment,
    /// A draft rule whose comment period has ended, its final text not yet published.
    CommentsClosed,
    /// A rule with its final text.
    Final,
}

impl Stage {
    pub const ALL: [Stage; 4] = [
        Stage::Published,
        Stage::OpenForComment,
        Stage::CommentsClosed,
        Stage::Final,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Published => "published",
            Stage::OpenForComment => "open",
            Stage::CommentsClosed => "closed",
            Stage::Final => "final",
        }
    }
}

/// The stage of a publication of `kind` taking comments until `comments_until`, finalised or not, at `now`.
pub fn stage(
    kind: Kind,
    comments_until: Option<OffsetDateTime>,
    finalised: bool,
    now: OffsetDateTime,
) -> Stage {
    match (kind, finalised) {
        (Kind::Rule, true) => Stage::Final,
        (Kind::Rule, false) if comments_until.is_some_and(|until| now < until) => {
            Stage::OpenForComment
        }
        (Kind::Rule, false) => Stage::CommentsClosed,
        _ => Stage::Published,
    }
}

/// Why what was written is refused: its field and its message's id in the catalogues.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    KindUnknown,
    ReferenceInvalid,
    ReferenceTaken,
    TitleMissing,
    TitleLong,
    BodyMissing,
    BodyLong,
    PeriodMissing,
    PeriodPast,
    PeriodNotRule,
    NameMissing,
    NameLong,
    OrganisationLong,
    CommentMissing,
    CommentLong,
    NotOpen,
    TooManyComments,
    TooMany,
    NotRule,
    AlreadyFinal,
    Unknown,
}

impl Refusal {
    pub const ALL: [Refusal; 21] = [
        Refusal::KindUnknown,
        Refusal::ReferenceInvalid,
        Refusal::ReferenceTaken,
        Refusal::TitleMissing,
        Refusal::TitleLong,
        Refusal::BodyMissing,
        Refusal::BodyLong,
        Refusal::PeriodMissing,
        Refusal::PeriodPast,
        Refusal::PeriodNotRule,
        Refusal::NameMissing,
        Refusal::NameLong,
        Refusal::OrganisationLong,
        Refusal::CommentMissing,
        Refusal::CommentLong,
        Refusal::NotOpen,
        Refusal::TooManyComments,
        Refusal::TooMany,
        Refusal::NotRule,
        Refusal::AlreadyFinal,
        Refusal::Unknown,
    ];

    pub fn field(self) -> &'static str {
        match self {
            Refusal::KindUnknown => "kind",
            Refusal::ReferenceInvalid | Refusal::ReferenceTaken => "reference",
            Refusal::TitleMissing | Refusal::TitleLong => "title",
            Refusal::BodyMissing | Refusal::BodyLong | Refusal::AlreadyFinal | Refusal::NotRule => {
                "body"
            }
            Refusal::PeriodMissing | Refusal::PeriodPast | Refusal::PeriodNotRule => {
                "comments_until"
            }
            Refusal::NameMissing | Refusal::NameLong => "name",
            Refusal::OrganisationLong => "organisation",
            Refusal::CommentMissing
            | Refusal::CommentLong
            | Refusal::NotOpen
            | Refusal::TooManyComments
            | Refusal::TooMany
            | Refusal::Unknown => "text",
        }
    }

    /// The id of its sentence in the catalogues.
    pub fn message_id(self) -> &'static str {
        match self {
            Refusal::KindUnknown => "publication-kind-unknown",
            Refusal::ReferenceInvalid => "publication-reference-invalid",
            Refusal::ReferenceTaken => "publication-reference-taken",
            Refusal::TitleMissing => "publication-title-missing",
            Refusal::TitleLong => "publication-title-long",
            Refusal::BodyMissing => "publication-body-missing",
            Refusal::BodyLong => "publication-body-long",
            Refusal::PeriodMissing => "publication-period-missing",
            Refusal::PeriodPast => "publication-period-past",
            Refusal::PeriodNotRule => "publication-period-not-rule",
            Refusal::NameMissing => "publication-name-missing",
            Refusal::NameLong => "publication-name-long",
            Refusal::OrganisationLong => "publication-organisation-long",
            Refusal::CommentMissing => "publication-comment-missing",
            Refusal::CommentLong => "publication-comment-long",
            Refusal::NotOpen => "publication-not-open",
            Refusal::TooManyComments => "publication-too-many-comments",
            Refusal::TooMany => "publication-too-many",
            Refusal::NotRule => "publication-not-rule",
            Refusal::AlreadyFinal => "publication-already-final",
            Refusal::Unknown => "publication-unknown",
        }
    }
}

/// A publication as an administrator writes it, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Draft {
    pub kind: Kind,
    pub reference: String,
    pub title: String,
    pub body: String,
    /// Rules only: comments are taken until then.
    pub comments_until: Option<OffsetDateTime>,
}

/// Checks a publication: `kind`, a reference of letters, digits and `-./_` (at most 40), a title, a body, and for
/// a rule the end of its comment period (after `now`).
pub fn check(
    kind: &str,
    reference: &str,
    title: &str,
    body: &str,
    comments_until: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Result<Draft, Vec<Refusal>> {
    let mut refused = Vec::new();
    let kind = Kind::parse(kind.trim());
    if kind.is_none() {
        refused.push(Refusal::KindUnknown);
    }
    let reference = one_line(reference);
    if reference.is_empty()
        || reference.chars().count() > MAX_REFERENCE_CHARS
        || !reference
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-./_".contains(c))
    {
        refused.push(Refusal::ReferenceInvalid);
    }
    let title = one_line(title);
    if title.is_empty() {
        refused.push(Refusal::TitleMissing);
    } else if title.chars().count() > MAX_TITLE_CHARS {
        refused.push(Refusal::TitleLong);
    }
    let body = clean(body);
    if body.is_empty() {
        refused.push(Refusal::BodyMissing);
    } else if body.chars().count() > MAX_BODY_CHARS {
        refused.push(Refusal::BodyLong);
    }
    match (kind, comments_until) {
        (Some(Kind::Rule), None) => refused.push(Refusal::PeriodMissing),
        (Some(Kind::Rule), Some(until)) if until <= now => refused.push(Refusal::PeriodPast),
        (Some(k), Some(_)) if k != Kind::Rule => refused.push(Refusal::PeriodNotRule),
        _ => {}
    }
    match kind {
        Some(kind) if refused.is_empty() => Ok(Draft {
            kind,
            reference,
            title,
            body,
            comments_until,
        }),
        _ => Err(refused),
    }
}

/// A comment on a draft rule, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    pub name: String,
    pub organisation: String,
    pub text: String,
}

/// Checks a comment: who sends it (a name, an organisation if any) and what it says.
pub fn check_comment(name: &str, organisation: &str, text: &str) -> Result<Comment, Vec<Refusal>> {
    let mut refused = Vec::new();
    let name = one_line(name);
    if name.is_empty() {
        refused.push(Refusal::NameMissing);
    } else if name.chars().count() > MAX_NAME_CHARS {
        refused.push(Refusal::NameLong);
    }
    let organisation = one_line(organisation);
    if organisation.chars().count() > MAX_NAME_CHARS {
        refused.push(Refusal::OrganisationLong);
    }
    let text = clean(text);
    if text.is_empty() {
        refused.push(Refusal::CommentMissing);
    } else if text.chars().count() > MAX_COMMENT_CHARS {
        refused.push(Refusal::CommentLong);
    }
    if refused.is_empty() {
        Ok(Comment {
            name,
            organisation,
            text,
        })
    } else {
        Err(refused)
    }
}

/// Checks a rule's final text.
pub fn check_final_text(text: &str) -> Result<String, Refusal> {
    let text = clean(text);
    if text.is_empty() {
        Err(Refusal::BodyMissing)
    } else if text.chars().count() > MAX_BODY_CHARS {
        Err(Refusal::BodyLong)
    } else {
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-12-01 12:00 UTC);

    #[test]
    fn a_publication_is_refused_for_every_field_at_fault() {
        assert_eq!(
            check("memo", "bad ref!", " ", "", None, NOW).unwrap_err(),
            [
                Refusal::KindUnknown,
                Refusal::ReferenceInvalid,
                Refusal::TitleMissing,
                Refusal::BodyMissing
            ]
        );
        let long = "x".repeat(MAX_TITLE_CHARS + 1);
        assert_eq!(
            check(
                "fee",
                "FEE-1",
                &long,
                "GBP 10 per declaration",
                Some(NOW),
                NOW
            )
            .unwrap_err(),
            [Refusal::TitleLong, Refusal::PeriodNotRule]
        );
        assert_eq!(
            check("rule", "R-1", "A rule", "Text", None, NOW).unwrap_err(),
            [Refusal::PeriodMissing]
        );
        assert_eq!(
            check("rule", "R-1", "A rule", "Text", Some(NOW), NOW).unwrap_err(),
            [Refusal::PeriodPast]
        );
    }

    #[test]
    fn text_is_kept_as_written_without_control_characters() {
        let draft = check(
            "procedure",
            " PROC-IM/4000 ",
            "Import\tfor free\ncirculation",
            "Step 1.\r\nStep 2.\u{7}\n",
            None,
            NOW,
        )
        .unwrap();
        assert_eq!(draft.reference, "PROC-IM/4000");
        assert_eq!(draft.title, "Import for free circulation");
        assert_eq!(draft.body, "Step 1.\nStep 2.");
    }

    #[test]
    fn a_rule_takes_comments_until_its_date_then_waits_for_its_final_text() {
        let until = Some(datetime!(2026-12-31 00:00 UTC));
        assert_eq!(stage(Kind::Rule, until, false, NOW), Stage::OpenForComment);
        assert_eq!(
            stage(Kind::Rule, until, false, datetime!(2026-12-31 00:00 UTC)),
            Stage::CommentsClosed
        );
        assert_eq!(stage(Kind::Rule, until, true, NOW), Stage::Final);
        assert_eq!(stage(Kind::Fee, None, false, NOW), Stage::Published);
    }

    #[test]
    fn a_comment_needs_a_name_and_words_within_their_limits() {
        assert_eq!(
            check_comment("", &"o".repeat(MAX_NAME_CHARS + 1), " ").unwrap_err(),
            [
                Refusal::NameMissing,
                Refusal::OrganisationLong,
                Refusal::CommentMissing
            ]
        );
        assert_eq!(
            check_comment("Ana", "", &"w".repeat(MAX_COMMENT_CHARS + 1)).unwrap_err(),
            [Refusal::CommentLong]
        );
        assert!(check_comment("Ana", "", "Please allow 60 days.").is_ok());
    }
}
