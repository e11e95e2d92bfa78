use super::*;
use fluent_syntax::ast;

/// The message ids of a Fluent file, each with the variables it uses (sorted).
fn messages(source: &str) -> Vec<(String, Vec<String>)> {
    let resource = FluentResource::try_new(source.to_owned()).expect("parses");
    let mut out = Vec::new();
    for entry in resource.entries() {
        if let ast::Entry::Message(message) = entry {
            let mut variables = Vec::new();
            if let Some(pattern) = &message.value {
                for element in &pattern.elements {
                    if let ast::PatternElement::Placeable {
                        expression:
                            ast::Expression::Inline(ast::InlineExpression::VariableReference { id }),
                    } = element
                    {
                        variables.push(id.name.to_owned());
                    }
                }
            }
            variables.sort();
            out.push((message.id.name.to_owned(), variables));
        }
    }
    out
}

#[test]
fn every_language_says_everything_english_says_with_the_same_variables() {
    let english = messages(Language::En.source());
    assert!(english.len() > 40);
    for language in [Language::Fr, Language::Es] {
        let theirs = messages(language.source());
        for (id, variables) in &english {
            let found = theirs.iter().find(|(i, _)| i == id);
            assert_eq!(
                found.map(|(_, v)| v),
                Some(variables),
                "{}: message {id} missing or with other variables",
                language.code()
            );
        }
        for (id, _) in &theirs {
            assert!(
                id.starts_with("error-") || english.iter().any(|(i, _)| i == id),
                "{}: {id} is not an English message",
                language.code()
            );
        }
    }
}

#[test]
fn every_error_code_has_its_sentence_in_every_language() {
    for language in [Language::Fr, Language::Es] {
        let ids: Vec<String> = messages(language.source())
            .into_iter()
            .map(|(i, _)| i)
            .collect();
        for code in ErrorCode::ALL {
            assert!(
                ids.contains(&format!("error-{}", code.number())),
                "{}: no sentence for {} (error-{})",
                language.code(),
                code.code(),
                code.number()
            );
        }
        // Numbers the table does not have are not translated (a retired or mistyped number).
        for id in ids.iter().filter_map(|i| i.strip_prefix("error-")) {
            let number: u16 = id.parse().expect("error-<number>");
            assert!(ErrorCode::from_number(number).is_some(), "error-{number}");
        }
    }
    assert_eq!(
        Language::Fr.error_sentence(ErrorCode::NotFound),
        "Cette ressource n'existe pas."
    );
    assert_eq!(
        Language::En.error_sentence(ErrorCode::NotFound),
        ErrorCode::NotFound.message()
    );
}

#[test]
fn messages_take_their_variables() {
    assert_eq!(
        Language::Fr.text("notice-acceptance", &[("mrn", "27SN0000000000001")]),
        "Votre déclaration est acceptée sous le MRN 27SN0000000000001."
    );
    assert_eq!(
        Language::Es.text("notice-payment-request", &[("amount", "5 PEN")]),
        "Pague 5 PEN antes del levante."
    );
    assert_eq!(Language::Fr.text("no-such-message", &[]), "no-such-message");
}

#[test]
fn amounts_are_written_as_each_language_writes_numbers() {
    let d = |s: &str| s.parse::<Decimal>().unwrap();
    assert_eq!(Language::En.amount(d("1234.5"), 2, "GBP"), "1,234.50 GBP");
    assert_eq!(Language::En.amount(d("224"), 2, "GBP"), "224.00 GBP");
    assert_eq!(
        Language::Fr.amount(d("1234567"), 0, "XOF"),
        "1\u{202f}234\u{202f}567 XOF"
    );
    assert_eq!(
        Language::Fr.amount(d("999.5"), 0, "XOF"),
        "1\u{202f}000 XOF"
    );
    assert_eq!(Language::Es.amount(d("12.345"), 2, "PEN"), "12,35 PEN");
    assert_eq!(Language::En.amount(d("-0.001"), 2, "GBP"), "0.00 GBP");
    assert_eq!(Language::En.amount(d("-5"), 2, "GBP"), "-5.00 GBP");
    assert_eq!(
        Language::En.amount(Decimal::MAX, 0, "GBP"),
        "79,228,162,514,264,337,593,543,950,335 GBP"
    );
}

#[test]
fn the_language_is_negotiated_among_the_administrations() {
    let offered = [Language::Fr, Language::En];
    assert_eq!(Language::negotiate(None, &offered), Language::Fr);
    assert_eq!(
        Language::negotiate(Some("en-GB,en;q=0.9"), &offered),
        Language::En
    );
    assert_eq!(Language::negotiate(Some("es"), &offered), Language::Fr);
    assert_eq!(
        Language::negotiate(Some("es, en;q=0.5"), &offered),
        Language::En
    );
    assert_eq!(
        Language::negotiate(Some("en;q=0.2, fr;q=0.8"), &offered),
        Language::Fr
    );
    assert_eq!(Language::negotiate(Some("en;q=0"), &offered), Language::Fr);
    assert_eq!(Language::negotiate(Some("*"), &offered), Language::Fr);
    assert_eq!(
        Language::negotiate(Some(";;;,,,q=x"), &offered),
        Language::Fr
    );
    assert_eq!(
        Language::negotiate(Some(&"en,".repeat(10_000)), &[Language::En]),
        Language::En
    );
}
