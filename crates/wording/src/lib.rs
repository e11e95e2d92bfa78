//! What Aduana says to people, in the languages it speaks: English, French and Spanish (an administration's
//! profile lists the ones it uses, the first its default). The texts are Project Fluent files (`locales/*.ftl`,
//! read with `fluent-bundle`): the notifications a trader is sent, the pages' words, the names of statuses and
//! lanes, and the error table's sentences (English is the table's own; the others are keyed `error-<number>` by
//! its stable numbers). Amounts are written as each language writes numbers.
//!
//! The tests check that every language has every English message with the same variables and a sentence for
//! every error code, so a missing translation fails the build's tests, never a page.
//!
//! **Architecture invariant**: pure. The files are compiled in; no IO, no clock.

use error_table::ErrorCode;
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use rust_decimal::Decimal;
use std::sync::LazyLock;

/// A language Aduana speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Language {
    En,
    Fr,
    Es,
}

impl Language {
    pub const ALL: [Language; 3] = [Language::En, Language::Fr, Language::Es];

    /// The BCP 47 code (`lang` of a page, `Content-Language`).
    pub fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Fr => "fr",
            Self::Es => "es",
        }
    }

    pub fn parse(code: &str) -> Option<Language> {
        Language::ALL.into_iter().find(|l| l.code() == code)
    }

    /// The Fluent file's text.
    pub fn source(self) -> &'static str {
        match self {
            Self::En => include_str!("../locales/en.ftl"),
            Self::Fr => include_str!("../locales/fr.ftl"),
            Self::Es => include_str!("../locales/es.ftl"),
        }
    }

    fn bundle(self) -> &'static FluentBundle<FluentResource> {
        static BUNDLES: LazyLock<Vec<FluentBundle<FluentResource>>> = LazyLock::new(|| {
            Language::ALL
                .into_iter()
                .map(|language| {
                    let id: unic_langid::LanguageIdentifier =
                        language.code().parse().expect("a language code");
                    let mut bundle = FluentBundle::new_concurrent(vec![id]);
                    // No Unicode isolation marks around values: MRNs and amounts are copied by people.
                    bundle.set_use_isolating(false);
                    let resource = FluentResource::try_new(language.source().to_owned())
                        .expect("the Fluent files parse (tested)");
                    bundle
                        .add_resource(resource)
                        .expect("no message is defined twice (tested)");
                    bundle
                })
                .collect()
        });
        &BUNDLES[Language::ALL
            .iter()
            .position(|l| *l == self)
            .expect("every language has its bundle")]
    }

    /// The message `id` with its variables, in this language; in English when this language lacks it (the tests
    /// make sure none does), and the id itself when English lacks it too.
    pub fn text(self, id: &str, args: &[(&str, &str)]) -> String {
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            fluent_args.set(*name, *value);
        }
        for language in [self, Language::En] {
            let bundle = language.bundle();
            if let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) {
                let mut errors = Vec::new();
                return bundle
                    .format_pattern(pattern, Some(&fluent_args), &mut errors)
                    .into_owned();
            }
        }
        id.to_owned()
    }

    /// The message `id` without variables (what a page template calls).
    pub fn get(self, id: &str) -> String {
        self.text(id, &[])
    }

    /// The message `id` with one variable (what a page template calls).
    pub fn with(self, id: &str, name: &str, value: &str) -> String {
        self.text(id, &[(name, value)])
    }

    /// The error table's sentence for `code`, in this language.
    pub fn error_sentence(self, code: ErrorCode) -> String {
        match self {
            Language::En => code.message().to_owned(),
            _ => {
                let id = format!("error-{}", code.number());
                match self.bundle().get_message(&id).and_then(|m| m.value()) {
                    Some(_) => self.text(&id, &[]),
                    None => code.message().to_owned(),
                }
            }
        }
    }

    /// `amount` with `places` decimal places as this language writes it, and its currency: `1,234.50 GBP`,
    /// `1 234 567 XOF` (French and Spanish group with a narrow no-break space; their decimal sign is a comma).
    pub fn amount(self, amount: Decimal, places: u32, currency: &str) -> String {
        let rounded = amount
            .round_dp_with_strategy(places, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
        let text = format!("{:.*}", places as usize, rounded.abs());
        let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
        let (group, decimal) = match self {
            Language::En => (",", "."),
            Language::Fr | Language::Es => ("\u{202f}", ","),
        };
        let mut grouped = String::new();
        for (i, digit) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i) % 3 == 0 {
                grouped.push_str(group);
            }
            grouped.push(digit);
        }
        let sign = if rounded.is_sign_negative() && !rounded.is_zero() {
            "-"
        } else {
            ""
        };
        if fraction.is_empty() {
            format!("{sign}{grouped} {currency}")
        } else {
            format!("{sign}{grouped}{decimal}{fraction} {currency}")
        }
    }

    /// The language to answer in: the first of `offered` (the administration's, its default first) that the
    /// request's `Accept-Language` asks for, by its quality values; the default when it asks for none of them.
    pub fn negotiate(accept_language: Option<&str>, offered: &[Language]) -> Language {
        let default = offered.first().copied().unwrap_or(Language::En);
        let Some(header) = accept_language else {
            return default;
        };
        let mut best: Option<(u32, Language)> = None;
        for part in header.split(',').take(32) {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let quality = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .map_or(1000, |q| (q.clamp(0.0, 1.0) * 1000.0) as u32);
            let primary = tag.split('-').next().unwrap_or("");
            let language = if primary == "*" {
                Some(default)
            } else {
                Language::parse(primary).filter(|l| offered.contains(l))
            };
            if let Some(language) = language
                && quality > 0
                && best.is_none_or(|(q, _)| quality > q)
            {
                best = Some((quality, language));
            }
        }
        best.map_or(default, |(_, l)| l)
    }
}

#[cfg(test)]
mod tests;
