//! The enquiry point (WTO TFA Art. 1.3): anyone asks the administration a question about its procedures, without
//! an account; an officer answers. Pure: the checks of a question and of an answer.

use crate::text::{clean, one_line};

/// The longest subject and name.
pub const MAX_SHORT_CHARS: usize = 200;
/// The longest question and answer.
pub const MAX_TEXT_CHARS: usize = 5_000;
/// The longest e-mail address (RFC 5321).
pub const MAX_EMAIL_CHARS: usize = 254;
/// Unanswered enquiries the store takes at most (a ceiling on what anyone may make it hold).
pub const MAX_OPEN: i64 = 100_000;

/// Why a question or an answer is refused: its field and its message's id in the catalogues.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    NameMissing,
    NameLong,
    EmailInvalid,
    SubjectMissing,
    SubjectLong,
    QuestionMissing,
    QuestionLong,
    AnswerMissing,
    AnswerLong,
    AnsweredAlready,
    TooMany,
}

impl Refusal {
    pub const ALL: [Refusal; 11] = [
        Refusal::NameMissing,
        Refusal::NameLong,
        Refusal::EmailInvalid,
        Refusal::SubjectMissing,
        Refusal::SubjectLong,
        Refusal::QuestionMissing,
        Refusal::QuestionLong,
        Refusal::AnswerMissing,
        Refusal::AnswerLong,
        Refusal::AnsweredAlready,
        Refusal::TooMany,
    ];

    pub fn field(self) -> &'static str {
        match self {
            Refusal::NameMissing | Refusal::NameLong => "name",
            Refusal::EmailInvalid => "email",
            Refusal::SubjectMissing | Refusal::SubjectLong => "subject",
            Refusal::QuestionMissing | Refusal::QuestionLong | Refusal::TooMany => "question",
            Refusal::AnswerMissing | Refusal::AnswerLong | Refusal::AnsweredAlready => "answer",
        }
    }

    pub fn message_id(self) -> &'static str {
        match self {
            Refusal::NameMissing => "enquiry-name-missing",
            Refusal::NameLong => "enquiry-name-long",
            Refusal::EmailInvalid => "enquiry-email-invalid",
            Refusal::SubjectMissing => "enquiry-subject-missing",
            Refusal::SubjectLong => "enquiry-subject-long",
            Refusal::QuestionMissing => "enquiry-question-missing",
            Refusal::QuestionLong => "enquiry-question-long",
            Refusal::AnswerMissing => "enquiry-answer-missing",
            Refusal::AnswerLong => "enquiry-answer-long",
            Refusal::AnsweredAlready => "enquiry-answered-already",
            Refusal::TooMany => "enquiry-too-many",
        }
    }
}

/// A question, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Question {
    pub name: String,
    /// Empty when the person gave none (the answer is read with the reference and code).
    pub email: String,
    pub subject: String,
    pub text: String,
}

/// An e-mail address as people write them: one `@` between a local part and a domain with a dot, no spaces.
fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !text.chars().any(char::is_whitespace)
        && text.chars().count() <= MAX_EMAIL_CHARS
}

/// Checks a question: a name, an e-mail address if any, a subject and the question.
pub fn check_question(
    name: &str,
    email: &str,
    subject: &str,
    text: &str,
) -> Result<Question, Vec<Refusal>> {
    let mut refused = Vec::new();
    let name = one_line(name);
    if name.is_empty() {
        refused.push(Refusal::NameMissing);
    } else if name.chars().count() > MAX_SHORT_CHARS {
        refused.push(Refusal::NameLong);
    }
    let email = one_line(email);
    if !email.is_empty() && !is_email(&email) {
        refused.push(Refusal::EmailInvalid);
    }
    let subject = one_line(subject);
    if subject.is_empty() {
        refused.push(Refusal::SubjectMissing);
    } else if subject.chars().count() > MAX_SHORT_CHARS {
        refused.push(Refusal::SubjectLong);
    }
    let text = clean(text);
    if text.is_empty() {
        refused.push(Refusal::QuestionMissing);
    } else if text.chars().count() > MAX_TEXT_CHARS {
        refused.push(Refusal::QuestionLong);
    }
    if refused.is_empty() {
        Ok(Question {
            name,
            email,
            subject,
            text,
        })
    } else {
        Err(refused)
    }
}

/// Checks an answer.
pub fn check_answer(text: &str) -> Result<String, Refusal> {
    let text = clean(text);
    if text.is_empty() {
        Err(Refusal::AnswerMissing)
    } else if text.chars().count() > MAX_TEXT_CHARS {
        Err(Refusal::AnswerLong)
    } else {
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_question_is_refused_for_every_field_at_fault() {
        assert_eq!(
            check_question(" ", "ana@", "", "").unwrap_err(),
            [
                Refusal::NameMissing,
                Refusal::EmailInvalid,
                Refusal::SubjectMissing,
                Refusal::QuestionMissing
            ]
        );
        assert_eq!(
            check_question("Ana", "", "Fees", &"q".repeat(MAX_TEXT_CHARS + 1)).unwrap_err(),
            [Refusal::QuestionLong]
        );
        for bad in ["a b@c.d", "a@b", "@b.c", "a@.b", "a@b.", "a@b@c.d"] {
            assert!(!is_email(bad), "{bad}");
        }
        let question = check_question(
            "Ana",
            " ana@example.org ",
            "Fees",
            "What is the fee?\r\nThanks",
        )
        .unwrap();
        assert_eq!(question.email, "ana@example.org");
        assert_eq!(question.text, "What is the fee?\nThanks");
    }

    #[test]
    fn an_answer_has_words_within_the_limit() {
        assert_eq!(check_answer(" \n "), Err(Refusal::AnswerMissing));
        assert_eq!(
            check_answer(&"a".repeat(MAX_TEXT_CHARS + 1)),
            Err(Refusal::AnswerLong)
        );
        assert_eq!(check_answer("Ten pounds."), Ok("Ten pounds.".to_owned()));
    }
}
