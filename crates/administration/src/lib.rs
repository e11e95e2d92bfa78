//! The administration Aduana serves, as data (docs/configuration.md): its country (which MRNs carry), languages,
//! national currency and rounding, customs offices (codes, names, time zones, working hours), calendar of working
//! days and holidays, tax types (with their rate basis and their place in the VAT base), the code lists it
//! interprets, and the demonstration conveniences (off unless a profile turns them on).
//!
//! [`parse`] reads a profile (TOML, e.g. `aduana.toml`) and checks it whole: every mistake is reported with its line
//! and column and a sentence, never only the first. Two profiles are built in ([`built_in`]): `demo-gb`, the UK
//! demonstration of today, and `demo-sn`, a French-speaking administration in CFA francs (XOF, no minor unit) that
//! differs from it in every field.
//!
//! **Architecture invariant**: pure. Text in, profile or errors out; no file is opened, no clock read (time zones
//! come from the IANA database bundled in the binary).

use declaration::{Country, Currency};
pub mod enquiry;
pub mod publication;
pub mod text;

use serde::Deserialize;
use time::{Date, Time, Weekday};
use toml::Spanned;

/// A mistake in a profile: where (1-based line and column) and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

/// A language the portal and notifications speak (the `wording` crate holds what is said in each).
pub use wording::Language;

/// How amounts in the national currency are rounded to its decimal places.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rounding {
    /// Half away from zero (0.5 → 1).
    HalfUp,
    /// Half to even, banker's rounding (0.5 → 0, 1.5 → 2).
    HalfEven,
    /// Towards zero.
    Down,
    /// Away from zero (no fraction of revenue is ever given away).
    Up,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NationalCurrency {
    pub code: Currency,
    /// Decimal places amounts are rounded to: at most the currency's minor units (2 for GBP, 0 for XOF).
    pub decimal_places: u32,
    pub rounding: Rounding,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Office {
    /// The office code declarations name (DE 5/12, 5/27), e.g. `GB000060`.
    pub code: String,
    pub name: String,
    /// IANA time zone, e.g. `Europe/London`: the office's local time for working hours and deadlines.
    pub time_zone: String,
    pub opens: Time,
    pub closes: Time,
}

impl Office {
    /// The office's offset from UTC at `at` (its time zone's rules, daylight saving included); `None` only for a
    /// zone the bundled database lacks, which [`parse`] refuses.
    pub fn utc_offset(&self, at: time::OffsetDateTime) -> Option<time::UtcOffset> {
        let zone = jiff::tz::TimeZone::get(&self.time_zone).ok()?;
        let instant = jiff::Timestamp::from_second(at.unix_timestamp()).ok()?;
        time::UtcOffset::from_whole_seconds(zone.to_offset(instant).seconds()).ok()
    }

    /// The instant the local day `date` begins at this office (its zone's rules: a day that begins in a gap of
    /// daylight saving begins at the gap's end); `None` only for a zone the bundled database lacks.
    pub fn day_starts(&self, date: time::Date) -> Option<time::OffsetDateTime> {
        let zone = jiff::tz::TimeZone::get(&self.time_zone).ok()?;
        let civil = jiff::civil::date(
            i16::try_from(date.year()).ok()?,
            i8::try_from(u8::from(date.month())).ok()?,
            i8::try_from(date.day()).ok()?,
        )
        .at(0, 0, 0, 0);
        let zoned = civil.to_zoned_datetime(zone).ok()?;
        time::OffsetDateTime::from_unix_timestamp(zoned.timestamp().as_second()).ok()
    }

    /// Whether the office is open at `at` (a working day of `calendar`, within its working hours, local time).
    pub fn is_open(&self, calendar: &Calendar, at: time::OffsetDateTime) -> bool {
        let Some(offset) = self.utc_offset(at) else {
            return false;
        };
        let local = at.to_offset(offset);
        calendar.is_working_day(local.date()) && (self.opens..=self.closes).contains(&local.time())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Calendar {
    pub working_days: Vec<Weekday>,
    pub holidays: Vec<Date>,
}

impl Calendar {
    /// Whether customs works on `date` (a working day of the week and not a holiday).
    pub fn is_working_day(&self, date: Date) -> bool {
        self.working_days.contains(&date.weekday()) && !self.holidays.contains(&date)
    }

    /// The date `days` working days after `date` (a deadline); `None` past the calendar's range.
    pub fn add_working_days(&self, date: Date, days: u32) -> Option<Date> {
        if self.working_days.is_empty() {
            return None;
        }
        let mut current = date;
        let mut left = days;
        while left > 0 {
            current = current.next_day()?;
            if self.is_working_day(current) {
                left -= 1;
            }
        }
        Some(current)
    }
}

/// How a tax type's amount is computed from the tariff's rates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Basis {
    /// A percentage of the customs value.
    AdValorem,
    /// An amount per unit of quantity.
    Specific,
    /// A percentage, an amount per unit, or both (a compound duty): customs duties whose tariff lines differ.
    Mixed,
    /// A value-added tax: a percentage of the customs value plus the taxes `in_vat_base`.
    ValueAdded,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaxType {
    /// The code declarations and notifications use (WCO `DutyTaxFee/TypeCode`), e.g. `A00`.
    pub code: String,
    pub name: String,
    pub basis: Basis,
    /// Whether this tax is added to the VAT base; the VAT base sums them in the profile's order.
    pub in_vat_base: bool,
}

/// The codes the pipeline interprets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Codes {
    /// Procedure codes accepted (DE 1/10, `CurrentCode` + `PreviousCode`, e.g. `4000`).
    pub procedures: Vec<String>,
    /// The DE 2/3 document type of a deferment account (UK: `DAN`).
    pub deferment_document: String,
    /// The DE 2/3 document type of a guarantee reference (UK: `GUA`).
    pub guarantee_document: String,
    /// How the DE 4/8 methods of payment settle.
    pub payment_methods: PaymentMethods,
}

/// How the DE 4/8 methods of payment (one capital letter each) settle; a letter in none of the lists is paid
/// before release (cash, card, transfer, …).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentMethods {
    /// Charged to the deferment account the declaration names (UK: E, F, G).
    pub deferred: Vec<char>,
    /// Secured by the guarantee the declaration names (UK: M, R, S).
    pub guaranteed: Vec<char>,
    /// Taken from the declarant's cash account (UK: P).
    pub cash_account: Vec<char>,
}

/// Conveniences for a demonstration, each off unless a profile turns it on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Demonstration {
    /// A deferment account or guarantee a declaration names but nobody opened is opened with this limit, held by
    /// the declarant. `None`: refused, as a real administration does.
    pub auto_open_limit: Option<rust_decimal::Decimal>,
    /// The built-in demonstration tariff, exchange rates and nomenclature to start with (`tariff::demo::set`);
    /// `None`: none until the administration imports its own.
    pub reference_data: Option<String>,
}

/// One administration's configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    /// The profile's text as read (TOML): what is stored, and what a change starts from.
    pub source: String,
    pub name: String,
    /// The country whose MRNs Aduana issues (their prefix after the year).
    pub country: Country,
    /// The languages spoken, the first the default.
    pub languages: Vec<Language>,
    pub currency: NationalCurrency,
    pub offices: Vec<Office>,
    pub calendar: Calendar,
    /// In the order the VAT base adds them.
    pub tax_types: Vec<TaxType>,
    pub codes: Codes,
    pub deadlines: Deadlines,
    pub demonstration: Demonstration,
}

/// Time limits counted in working days of the calendar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deadlines {
    /// Working days a trader has to pay a payment order (default 10).
    pub payment_order_working_days: u32,
    /// Calendar days goods presented may stay in temporary storage before a declaration discharges them (default
    /// 90, as the Union Customs Code's article 149 allows).
    pub temporary_storage_days: u32,
}

impl Profile {
    /// The profile written back as TOML (comments are not kept): what a change made at run time (an office, a
    /// holiday) is saved as, after [`parse`] has checked it. `parse(&p.to_toml())` gives `p` back.
    pub fn to_toml(&self) -> String {
        use std::fmt::Write;
        let quote = |s: &str| {
            let mut out = String::from("\"");
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    c if (c as u32) < 0x20 || c == '\u{7f}' => {
                        let _ = write!(out, "\\u{:04X}", c as u32);
                    }
                    c => out.push(c),
                }
            }
            out.push('"');
            out
        };
        let list = |items: &mut dyn Iterator<Item = String>| {
            format!(
                "[{}]",
                items.map(|i| quote(&i)).collect::<Vec<_>>().join(", ")
            )
        };
        let hm = |t: Time| format!("{:02}:{:02}", t.hour(), t.minute());
        let day = |d: &Weekday| {
            match d {
                Weekday::Monday => "mon",
                Weekday::Tuesday => "tue",
                Weekday::Wednesday => "wed",
                Weekday::Thursday => "thu",
                Weekday::Friday => "fri",
                Weekday::Saturday => "sat",
                Weekday::Sunday => "sun",
            }
            .to_owned()
        };
        let mut out = String::new();
        let _ = writeln!(out, "[administration]");
        let _ = writeln!(out, "name = {}", quote(&self.name));
        let _ = writeln!(out, "country = {}", quote(self.country.as_str()));
        let _ = writeln!(
            out,
            "languages = {}",
            list(&mut self.languages.iter().map(|l| l.code().to_owned()))
        );
        let _ = writeln!(out, "\n[currency]");
        let _ = writeln!(out, "code = {}", quote(self.currency.code.as_str()));
        let _ = writeln!(out, "decimal_places = {}", self.currency.decimal_places);
        let rounding = match self.currency.rounding {
            Rounding::HalfUp => "half_up",
            Rounding::HalfEven => "half_even",
            Rounding::Down => "down",
            Rounding::Up => "up",
        };
        let _ = writeln!(out, "rounding = {}", quote(rounding));
        for office in &self.offices {
            let _ = writeln!(out, "\n[[offices]]");
            let _ = writeln!(out, "code = {}", quote(&office.code));
            let _ = writeln!(out, "name = {}", quote(&office.name));
            let _ = writeln!(out, "time_zone = {}", quote(&office.time_zone));
            let _ = writeln!(
                out,
                "working_hours = {}",
                quote(&format!("{}-{}", hm(office.opens), hm(office.closes)))
            );
        }
        let _ = writeln!(out, "\n[calendar]");
        let _ = writeln!(
            out,
            "working_days = {}",
            list(&mut self.calendar.working_days.iter().map(day))
        );
        let _ = writeln!(
            out,
            "holidays = {}",
            list(&mut self.calendar.holidays.iter().map(|d| d.to_string()))
        );
        for tax in &self.tax_types {
            let _ = writeln!(out, "\n[[tax_types]]");
            let _ = writeln!(out, "code = {}", quote(&tax.code));
            let _ = writeln!(out, "name = {}", quote(&tax.name));
            let basis = match tax.basis {
                Basis::AdValorem => "ad_valorem",
                Basis::Specific => "specific",
                Basis::Mixed => "mixed",
                Basis::ValueAdded => "value_added",
            };
            let _ = writeln!(out, "basis = {}", quote(basis));
            let _ = writeln!(out, "in_vat_base = {}", tax.in_vat_base);
        }
        let _ = writeln!(out, "\n[codes]");
        let _ = writeln!(
            out,
            "procedures = {}",
            list(&mut self.codes.procedures.iter().cloned())
        );
        let _ = writeln!(
            out,
            "deferment_document = {}",
            quote(&self.codes.deferment_document)
        );
        let _ = writeln!(
            out,
            "guarantee_document = {}",
            quote(&self.codes.guarantee_document)
        );
        let methods = &self.codes.payment_methods;
        let _ = writeln!(out, "\n[codes.payment_methods]");
        for (key, letters) in [
            ("deferred", &methods.deferred),
            ("guaranteed", &methods.guaranteed),
            ("cash_account", &methods.cash_account),
        ] {
            let _ = writeln!(
                out,
                "{key} = {}",
                quote(&letters.iter().collect::<String>())
            );
        }
        let _ = writeln!(out, "\n[deadlines]");
        let _ = writeln!(
            out,
            "payment_order_working_days = {}",
            self.deadlines.payment_order_working_days
        );
        let _ = writeln!(
            out,
            "temporary_storage_days = {}",
            self.deadlines.temporary_storage_days
        );
        let _ = writeln!(out, "\n[demonstration]");
        if let Some(data) = &self.demonstration.reference_data {
            let _ = writeln!(out, "reference_data = {}", quote(data));
        }
        if let Some(limit) = &self.demonstration.auto_open_limit {
            let _ = writeln!(out, "auto_open_limit = {}", quote(&limit.to_string()));
        }
        out
    }

    pub fn office(&self, code: &str) -> Option<&Office> {
        self.offices.iter().find(|o| o.code == code)
    }
    pub fn tax_type(&self, code: &str) -> Option<&TaxType> {
        self.tax_types.iter().find(|t| t.code == code)
    }
}

/// Whether `tariff` fits `profile`: each measure's tax type is one of the profile's, computed as its basis says
/// (an ad valorem type by rates, a specific one by amounts per unit, a value-added one by a rate on the value plus
/// duties or on the duties). Each misfit with the tariff line it is on (1-based) and a sentence.
pub fn misfits(profile: &Profile, tariff: &tariff::Tariff) -> Vec<(usize, String)> {
    use tariff::{Base, MeasureKind};
    let mut out = Vec::new();
    for measure in tariff.measures() {
        let Some(tax) = profile.tax_type(&measure.tax_type) else {
            out.push((
                measure.line,
                format!(
                    "The tax type {} is not one of the administration's ({}); add it to its profile first.",
                    measure.tax_type,
                    profile
                        .tax_types
                        .iter()
                        .map(|t| t.code.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
            continue;
        };
        if measure.kind == MeasureKind::Relief {
            continue;
        }
        let fits = match tax.basis {
            Basis::AdValorem => {
                matches!(measure.kind, MeasureKind::AdValorem | MeasureKind::Compound)
            }
            Basis::Specific => {
                matches!(measure.kind, MeasureKind::Specific | MeasureKind::Compound)
            }
            Basis::Mixed => true,
            Basis::ValueAdded => {
                measure.kind == MeasureKind::AdValorem
                    && matches!(measure.base, Base::CustomsValuePlusDuties | Base::Duties)
            }
        };
        if !fits {
            let basis = match tax.basis {
                Basis::AdValorem => "ad valorem: a rate (ad_valorem or compound)",
                Basis::Specific => "specific: an amount per unit (specific or compound)",
                Basis::Mixed => unreachable!("every kind computes a mixed tax type"),
                Basis::ValueAdded => {
                    "value added: a rate on customs_value_plus_duties or on duties"
                }
            };
            out.push((
                measure.line,
                format!(
                    "The tax type {} is {basis} in the administration's profile; this measure does not compute it so.",
                    measure.tax_type
                ),
            ));
        }
    }
    out
}

/// The profiles built into the binary: (name, TOML text).
pub fn built_in() -> &'static [(&'static str, &'static str)] {
    &[
        ("demo-gb", include_str!("../profiles/demo-gb.toml")),
        ("demo-sn", include_str!("../profiles/demo-sn.toml")),
    ]
}

/// The built-in profile `name`, parsed (the built-in profiles are checked by the tests).
pub fn built_in_profile(name: &str) -> Option<Profile> {
    let (_, text) = built_in().iter().find(|(n, _)| *n == name)?;
    Some(parse(text).expect("the built-in profiles are valid (tested)"))
}

/// The profile `aduana serve` uses when given none: the UK demonstration.
pub fn demo() -> Profile {
    built_in_profile("demo-gb").expect("demo-gb is built in")
}

// The file as written: every value with its place in the text, for the checks that follow parsing.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    administration: RawAdministration,
    currency: RawCurrency,
    #[serde(default)]
    offices: Vec<RawOffice>,
    calendar: RawCalendar,
    #[serde(default)]
    tax_types: Vec<RawTaxType>,
    codes: RawCodes,
    #[serde(default)]
    deadlines: RawDeadlines,
    #[serde(default)]
    demonstration: RawDemonstration,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDeadlines {
    payment_order_working_days: Option<Spanned<i64>>,
    temporary_storage_days: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAdministration {
    name: String,
    country: Spanned<String>,
    languages: Spanned<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCurrency {
    code: Spanned<String>,
    decimal_places: Spanned<i64>,
    rounding: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOffice {
    code: Spanned<String>,
    name: String,
    time_zone: Spanned<String>,
    working_hours: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCalendar {
    working_days: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    holidays: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTaxType {
    code: Spanned<String>,
    name: String,
    basis: Option<Spanned<String>>,
    #[serde(default)]
    in_vat_base: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCodes {
    procedures: Vec<Spanned<String>>,
    deferment_document: Spanned<String>,
    guarantee_document: Spanned<String>,
    #[serde(default)]
    payment_methods: RawPaymentMethods,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPaymentMethods {
    deferred: Option<Spanned<String>>,
    guaranteed: Option<Spanned<String>>,
    cash_account: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDemonstration {
    auto_open_limit: Option<Spanned<String>>,
    reference_data: Option<Spanned<String>>,
}

/// Most holidays, offices, tax types or procedure codes one profile may list.
pub const MAX_ENTRIES: usize = 10_000;

/// Reads and checks a profile. Every mistake is reported, each at its line and column.
pub fn parse(text: &str) -> Result<Profile, Vec<ConfigError>> {
    let raw: Raw = toml::from_str(text).map_err(|e| {
        let (line, column) = e.span().map_or((1, 1), |s| position(text, s.start));
        vec![ConfigError {
            line,
            column,
            message: e.message().trim_end_matches('\n').to_owned(),
        }]
    })?;
    let mut errors = Vec::new();
    let mut error = |span: std::ops::Range<usize>, message: String| {
        let (line, column) = position(text, span.start);
        errors.push(ConfigError {
            line,
            column,
            message,
        });
    };

    let country = match Country::parse(raw.administration.country.get_ref()) {
        Ok(country) => Some(country),
        Err(_) => {
            error(
                raw.administration.country.span(),
                format!(
                    "The country {:?} is not an ISO 3166-1 alpha-2 code such as GB or SN.",
                    raw.administration.country.get_ref()
                ),
            );
            None
        }
    };
    let mut languages = Vec::new();
    for language in raw.administration.languages.get_ref() {
        match language.get_ref().as_str() {
            "en" => languages.push(Language::En),
            "fr" => languages.push(Language::Fr),
            "es" => languages.push(Language::Es),
            other => error(
                language.span(),
                format!("The language {other:?} is not one Aduana speaks: en, fr or es."),
            ),
        }
    }
    if raw.administration.languages.get_ref().is_empty() {
        error(
            raw.administration.languages.span(),
            "At least one language is needed; the first is the default.".into(),
        );
    }

    let currency = match Currency::parse(raw.currency.code.get_ref()) {
        Ok(code) => Some(code),
        Err(_) => {
            error(
                raw.currency.code.span(),
                format!(
                    "The currency {:?} is not an ISO 4217 code such as GBP or XOF.",
                    raw.currency.code.get_ref()
                ),
            );
            None
        }
    };
    let places = *raw.currency.decimal_places.get_ref();
    if let Some(code) = &currency
        && (places < 0 || places > i64::from(code.minor_units()))
    {
        error(
            raw.currency.decimal_places.span(),
            format!(
                "{} has {} decimal places at most; {places} cannot be collected.",
                code.as_str(),
                code.minor_units()
            ),
        );
    }
    let rounding = match raw.currency.rounding.get_ref().as_str() {
        "half_up" => Some(Rounding::HalfUp),
        "half_even" => Some(Rounding::HalfEven),
        "down" => Some(Rounding::Down),
        "up" => Some(Rounding::Up),
        other => {
            error(
                raw.currency.rounding.span(),
                format!("The rounding {other:?} is not half_up, half_even, down or up."),
            );
            None
        }
    };

    if raw.offices.is_empty() {
        error(
            0..0,
            "At least one customs office ([[offices]]) is needed.".into(),
        );
    }
    let mut offices = Vec::new();
    for (k, office) in raw.offices.iter().enumerate() {
        let code = office.code.get_ref();
        if code.is_empty() || code.len() > 17 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
            error(
                office.code.span(),
                format!("The office code {code:?} must be 1 to 17 letters or digits (an..17)."),
            );
        }
        if raw.offices[..k].iter().any(|o| o.code.get_ref() == code) {
            error(
                office.code.span(),
                format!("The office {code} is listed twice."),
            );
        }
        let zone = office.time_zone.get_ref();
        if jiff::tz::TimeZone::get(zone).is_err() {
            error(
                office.time_zone.span(),
                format!("{zone:?} is not an IANA time zone such as Europe/London or Africa/Dakar."),
            );
        }
        let hours = parse_hours(office.working_hours.get_ref());
        if hours.is_none() {
            error(
                office.working_hours.span(),
                format!(
                    "The working hours {:?} are not a range such as \"08:00-18:00\" (opening before closing).",
                    office.working_hours.get_ref()
                ),
            );
        }
        if let Some((opens, closes)) = hours {
            offices.push(Office {
                code: code.clone(),
                name: office.name.clone(),
                time_zone: zone.clone(),
                opens,
                closes,
            });
        }
    }

    let mut working_days = Vec::new();
    for day in raw.calendar.working_days.get_ref() {
        let weekday = match day.get_ref().as_str() {
            "mon" => Some(Weekday::Monday),
            "tue" => Some(Weekday::Tuesday),
            "wed" => Some(Weekday::Wednesday),
            "thu" => Some(Weekday::Thursday),
            "fri" => Some(Weekday::Friday),
            "sat" => Some(Weekday::Saturday),
            "sun" => Some(Weekday::Sunday),
            other => {
                error(
                    day.span(),
                    format!("{other:?} is not a day: mon, tue, wed, thu, fri, sat or sun."),
                );
                None
            }
        };
        if let Some(weekday) = weekday {
            if working_days.contains(&weekday) {
                error(day.span(), format!("{} is listed twice.", day.get_ref()));
            }
            working_days.push(weekday);
        }
    }
    if raw.calendar.working_days.get_ref().is_empty() {
        error(
            raw.calendar.working_days.span(),
            "Customs works on at least one day of the week.".into(),
        );
    }
    let mut holidays = Vec::new();
    let format = time::macros::format_description!("[year]-[month]-[day]");
    for holiday in &raw.calendar.holidays {
        match Date::parse(holiday.get_ref(), &format) {
            Ok(date) if holidays.contains(&date) => error(
                holiday.span(),
                format!("The holiday {} is listed twice.", holiday.get_ref()),
            ),
            Ok(date) => holidays.push(date),
            Err(_) => error(
                holiday.span(),
                format!(
                    "The holiday {:?} is not a date such as 2026-12-25.",
                    holiday.get_ref()
                ),
            ),
        }
    }

    let mut tax_types = Vec::new();
    for (k, tax) in raw.tax_types.iter().enumerate() {
        let code = tax.code.get_ref();
        if code.is_empty() || code.len() > 3 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
            error(
                tax.code.span(),
                format!("The tax type code {code:?} must be 1 to 3 letters or digits (an..3)."),
            );
        }
        if raw.tax_types[..k].iter().any(|t| t.code.get_ref() == code) {
            error(
                tax.code.span(),
                format!("The tax type {code} is listed twice."),
            );
        }
        let basis = match tax.basis.as_ref().map(|b| (b.get_ref().as_str(), b.span())) {
            Some(("ad_valorem", _)) => Some(Basis::AdValorem),
            Some(("specific", _)) => Some(Basis::Specific),
            Some(("mixed", _)) => Some(Basis::Mixed),
            Some(("value_added", _)) => Some(Basis::ValueAdded),
            Some((other, span)) => {
                error(
                    span,
                    format!(
                        "The rate basis {other:?} is not ad_valorem, specific, mixed or value_added."
                    ),
                );
                None
            }
            None => {
                error(
                    tax.code.span(),
                    format!(
                        "The tax type {code} has no rate basis: say basis = \"ad_valorem\", \"specific\", \"mixed\" or \"value_added\"."
                    ),
                );
                None
            }
        };
        if let Some(basis) = basis {
            tax_types.push(TaxType {
                code: code.clone(),
                name: tax.name.clone(),
                basis,
                in_vat_base: tax.in_vat_base,
            });
        }
    }
    if raw.tax_types.is_empty() {
        error(
            0..0,
            "At least one tax type ([[tax_types]]) is needed.".into(),
        );
    }

    let mut procedures = Vec::new();
    for procedure in &raw.codes.procedures {
        let code = procedure.get_ref();
        if code.len() != 4 || !code.bytes().all(|b| b.is_ascii_digit()) {
            error(
                procedure.span(),
                format!("The procedure code {code:?} is not 4 digits (DE 1/10, e.g. 4000)."),
            );
        } else if procedures.contains(code) {
            error(
                procedure.span(),
                format!("The procedure code {code} is listed twice."),
            );
        } else {
            procedures.push(code.clone());
        }
    }
    for document in [&raw.codes.deferment_document, &raw.codes.guarantee_document] {
        let code = document.get_ref();
        if code.is_empty() || code.len() > 4 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
            error(
                document.span(),
                format!("The document type {code:?} must be 1 to 4 letters or digits."),
            );
        }
    }

    let mut settles: Vec<(char, &str)> = Vec::new();
    let mut letters = |list: &Option<Spanned<String>>, name: &'static str| -> Vec<char> {
        let Some(list) = list else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for letter in list.get_ref().chars() {
            if !letter.is_ascii_uppercase() {
                error(
                    list.span(),
                    format!(
                        "A method of payment (DE 4/8) is one capital letter; {letter:?} is not."
                    ),
                );
            } else if let Some((_, other)) = settles.iter().find(|(l, _)| *l == letter) {
                error(
                    list.span(),
                    format!("The method of payment {letter} cannot be both {other} and {name}."),
                );
            } else {
                settles.push((letter, name));
                out.push(letter);
            }
        }
        out
    };
    let payment_methods = PaymentMethods {
        deferred: letters(&raw.codes.payment_methods.deferred, "deferred"),
        guaranteed: letters(&raw.codes.payment_methods.guaranteed, "guaranteed"),
        cash_account: letters(&raw.codes.payment_methods.cash_account, "cash_account"),
    };
    let reference_data = raw.demonstration.reference_data.as_ref().and_then(|name| {
        let known = tariff::demo::SETS
            .iter()
            .map(|s| s.name)
            .collect::<Vec<_>>();
        if known.contains(&name.get_ref().as_str()) {
            Some(name.get_ref().clone())
        } else {
            error(
                name.span(),
                format!(
                    "There is no built-in reference data {:?}; the sets are: {}.",
                    name.get_ref(),
                    known.join(", ")
                ),
            );
            None
        }
    });
    if let (Some(set), Some(code)) = (
        reference_data.as_deref().and_then(tariff::demo::set),
        &currency,
    ) && set.currency != code.as_str()
    {
        error(
            raw.demonstration
                .reference_data
                .as_ref()
                .map_or(0..0, Spanned::span),
            format!(
                "The reference data {:?} is quoted in {}, not in the national currency {}.",
                set.name,
                set.currency,
                code.as_str()
            ),
        );
    }

    let payment_order_working_days = match &raw.deadlines.payment_order_working_days {
        None => 10,
        Some(days) => match u32::try_from(*days.get_ref()) {
            Ok(days @ 1..=366) => days,
            _ => {
                error(
                    days.span(),
                    format!(
                        "A payment order falls due 1 to 366 working days after it is issued, not {}.",
                        days.get_ref()
                    ),
                );
                10
            }
        },
    };

    let temporary_storage_days = match &raw.deadlines.temporary_storage_days {
        None => 90,
        Some(days) => match u32::try_from(*days.get_ref()) {
            Ok(days @ 1..=3660) => days,
            _ => {
                error(
                    days.span(),
                    format!(
                        "Goods stay in temporary storage 1 to 3660 days, not {}.",
                        days.get_ref()
                    ),
                );
                90
            }
        },
    };

    let auto_open_limit = match &raw.demonstration.auto_open_limit {
        None => None,
        Some(limit) => match limit.get_ref().parse::<rust_decimal::Decimal>() {
            Ok(value) if value > rust_decimal::Decimal::ZERO => Some(value),
            Ok(_) => None,
            Err(_) => {
                error(
                    limit.span(),
                    format!(
                        "The limit {:?} is not a decimal amount such as \"100000\".",
                        limit.get_ref()
                    ),
                );
                None
            }
        },
    };

    for (list, count) in [
        ("offices", raw.offices.len()),
        ("holidays", raw.calendar.holidays.len()),
        ("tax types", raw.tax_types.len()),
        ("procedure codes", raw.codes.procedures.len()),
    ] {
        if count > MAX_ENTRIES {
            error(
                0..0,
                format!(
                    "At most {MAX_ENTRIES} {list} are listed in one profile; this one has {count}."
                ),
            );
        }
    }

    if !errors.is_empty() {
        errors.sort_by_key(|e| (e.line, e.column));
        return Err(errors);
    }
    Ok(Profile {
        source: text.to_owned(),
        name: raw.administration.name,
        country: country.expect("checked"),
        languages,
        currency: NationalCurrency {
            code: currency.expect("checked"),
            decimal_places: places as u32,
            rounding: rounding.expect("checked"),
        },
        offices,
        calendar: Calendar {
            working_days,
            holidays,
        },
        tax_types,
        codes: Codes {
            procedures,
            deferment_document: raw.codes.deferment_document.into_inner(),
            guarantee_document: raw.codes.guarantee_document.into_inner(),
            payment_methods,
        },
        deadlines: Deadlines {
            payment_order_working_days,
            temporary_storage_days,
        },
        demonstration: Demonstration {
            auto_open_limit,
            reference_data,
        },
    })
}

/// Working hours written `HH:MM-HH:MM`, opening before closing: (opens, closes).
pub fn parse_hours(text: &str) -> Option<(Time, Time)> {
    let (opens, closes) = text.split_once('-')?;
    let format = time::macros::format_description!("[hour]:[minute]");
    let opens = Time::parse(opens.trim(), &format).ok()?;
    let closes = Time::parse(closes.trim(), &format).ok()?;
    (opens < closes).then_some((opens, closes))
}

/// 1-based line and column (in characters) of a byte offset.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests;
