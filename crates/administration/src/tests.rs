use super::*;

#[test]
fn the_built_in_profiles_are_valid_and_differ_in_every_field() {
    let gb = built_in_profile("demo-gb").unwrap();
    let sn = built_in_profile("demo-sn").unwrap();
    assert_eq!(gb, demo());
    assert_eq!(
        (gb.country.as_str(), gb.currency.code.as_str()),
        ("GB", "GBP")
    );
    assert_eq!(
        (sn.country.as_str(), sn.currency.code.as_str()),
        ("SN", "XOF")
    );
    assert_ne!(gb.name, sn.name);
    assert_ne!(gb.languages, sn.languages);
    assert_ne!(gb.currency.decimal_places, sn.currency.decimal_places);
    assert_ne!(gb.currency.rounding, sn.currency.rounding);
    assert!(gb.offices.iter().all(|o| sn.office(&o.code).is_none()));
    assert_ne!(gb.offices[0].time_zone, sn.offices[0].time_zone);
    assert_ne!(gb.calendar, sn.calendar);
    assert!(gb.tax_types.iter().all(|t| sn.tax_type(&t.code).is_none()));
    assert_ne!(gb.codes.deferment_document, sn.codes.deferment_document);
    assert_ne!(gb.codes.procedures, sn.codes.procedures);
    assert_ne!(gb.demonstration, sn.demonstration);
}

#[test]
fn working_days_skip_weekends_and_holidays() {
    let gb = demo();
    let date = |s: &str| {
        Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).unwrap()
    };
    // Thursday 24 December 2026 + 2 working days: Friday 25 and Monday 28 are holidays, so Wednesday 30.
    assert_eq!(
        gb.calendar.add_working_days(date("2026-12-24"), 2),
        Some(date("2026-12-30"))
    );
    assert!(!gb.calendar.is_working_day(date("2026-12-26")));
    // Saturday is a working day in the second profile.
    let sn = built_in_profile("demo-sn").unwrap();
    assert!(sn.calendar.is_working_day(date("2026-12-26")));
}

/// A copy of the UK profile with one line replaced.
fn with(from: &str, to: &str) -> String {
    let text = built_in()[0].1;
    assert!(text.contains(from), "{from}");
    text.replacen(from, to, 1)
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn each_mistake_is_refused_at_its_line_with_a_sentence() {
    let cases = [
        (
            with("code = \"GBP\"", "code = \"GBX\""),
            "code = \"GBX\"",
            "not an ISO 4217 code",
        ),
        (
            with("code = \"GB000060\"", "code = \"GBLBA001\""),
            "code = \"GBLBA001\"\nname = \"Dover",
            "listed twice",
        ),
        (
            with("basis = \"value_added\"", ""),
            "code = \"B00\"",
            "has no rate basis",
        ),
        (
            with("basis = \"value_added\"", "basis = \"flat\""),
            "basis = \"flat\"",
            "not ad_valorem",
        ),
        (
            with("country = \"GB\"", "country = \"XX\""),
            "country = \"XX\"",
            "ISO 3166-1",
        ),
        (
            with(
                "languages = [\"en\", \"fr\", \"es\"]",
                "languages = [\"de\"]",
            ),
            "languages = [\"de\"]",
            "en, fr or es",
        ),
        (
            with("decimal_places = 2", "decimal_places = 3"),
            "decimal_places = 3",
            "GBP has 2 decimal places at most",
        ),
        (
            with(
                "time_zone = \"Europe/London\"",
                "time_zone = \"Europe/Londres\"",
            ),
            "Europe/Londres",
            "IANA time zone",
        ),
        (
            with(
                "working_hours = \"08:00-18:00\"",
                "working_hours = \"18:00-08:00\"",
            ),
            "18:00-08:00",
            "opening before closing",
        ),
        (
            with("\"2026-12-25\"", "\"2026-12-32\""),
            "2026-12-32",
            "not a date",
        ),
        (
            with("rounding = \"half_up\"", "roundng = \"half_up\""),
            "roundng",
            "unknown field",
        ),
        (with("\"4071\"", "\"407\""), "\"407\"", "not 4 digits"),
    ];
    for (text, at, sentence) in cases {
        let errors = parse(&text).expect_err(at);
        let line = match at.split_once('\n') {
            Some((first, second)) => {
                let lines: Vec<&str> = text.lines().collect();
                lines
                    .windows(2)
                    .position(|w| w[0].contains(first) && w[1].contains(second))
                    .unwrap()
                    + 1
            }
            None => line_of(&text, at),
        };
        assert!(
            errors
                .iter()
                .any(|e| e.line == line && e.message.contains(sentence)),
            "{at}: expected line {line} saying {sentence:?}, got {errors:?}"
        );
    }
}

#[test]
fn every_mistake_is_reported_not_only_the_first() {
    let text = with("code = \"GBP\"", "code = \"GBX\"").replacen(
        "country = \"GB\"",
        "country = \"XX\"",
        1,
    );
    let errors = parse(&text).unwrap_err();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].line < errors[1].line);
    assert_eq!(
        errors[0].to_string(),
        format!(
            "{}:11: The country \"XX\" is not an ISO 3166-1 alpha-2 code such as GB or SN.",
            line_of(&text, "XX")
        )
    );
}

#[test]
fn broken_toml_is_refused_at_its_line() {
    let errors = parse("[administration]\nname = \"x\"\ncountry = \n").unwrap_err();
    assert_eq!(errors[0].line, 3, "{errors:?}");
}

/// What a run-time change saves (the profile written back) reads as the same profile, for both built-in ones and
/// for names and codes that need quoting.
#[test]
fn a_profile_written_back_reads_the_same() {
    for (name, text) in built_in() {
        let profile = parse(text).unwrap();
        let written = profile.to_toml();
        let again = parse(&written).unwrap_or_else(|e| panic!("{name}: {e:?}\n{written}"));
        assert_eq!(
            Profile {
                source: String::new(),
                ..again
            },
            Profile {
                source: String::new(),
                ..profile.clone()
            },
            "{name}"
        );
    }
    let mut profile = demo();
    profile.name = "Quote \" backslash \\ tab \t é".into();
    profile.offices[0].name = "Ligne\nnouvelle".into();
    let again = parse(&profile.to_toml()).unwrap();
    assert_eq!(again.name, profile.name);
    assert_eq!(again.offices[0].name, profile.offices[0].name);
}

/// The methods of payment settle as the profile says, and no letter settles two ways.
#[test]
fn payment_methods_are_letters_each_settling_one_way() {
    let sn = built_in_profile("demo-sn").unwrap();
    assert_eq!(sn.codes.payment_methods.deferred, vec!['C']);
    let text = with("guaranteed = \"MRS\"", "guaranteed = \"MRSE\"");
    let errors = parse(&text).unwrap_err();
    assert!(
        errors[0]
            .message
            .contains("The method of payment E cannot be both deferred and guaranteed."),
        "{errors:?}"
    );
    let errors = parse(&with("reference_data = \"gb\"", "reference_data = \"sn\"")).unwrap_err();
    assert!(errors[0].message.contains("quoted in XOF"), "{errors:?}");
}

/// An office's local date and hours follow its time zone, daylight saving included.
#[test]
fn offices_keep_their_local_time() {
    let profile = demo();
    let office = profile.office("GBLBA001").unwrap();
    // 2027-07-01 07:30 UTC is 08:30 in London (BST): open; 2027-01-04 07:30 UTC is 07:30 GMT: closed.
    let summer = time::macros::datetime!(2027-07-01 07:30 UTC);
    let winter = time::macros::datetime!(2027-01-04 07:30 UTC);
    assert_eq!(office.utc_offset(summer).unwrap().whole_hours(), 1);
    assert!(office.is_open(&profile.calendar, summer));
    assert!(!office.is_open(&profile.calendar, winter));
    // New Year's Day is a holiday: closed all day.
    assert!(!office.is_open(
        &profile.calendar,
        time::macros::datetime!(2027-01-01 12:00 UTC)
    ));
}

/// Each built-in profile fits the demonstration tariff it names; a measure of a type the profile lacks, or computed
/// otherwise than its basis says, is named with its line.
#[test]
fn tariffs_fit_their_profile_or_are_refused_by_line() {
    for (name, _) in built_in() {
        let profile = built_in_profile(name).unwrap();
        let set =
            tariff::demo::set(profile.demonstration.reference_data.as_deref().unwrap()).unwrap();
        assert_eq!(misfits(&profile, &set.tariff()), Vec::new(), "{name}");
    }
    let sn = built_in_profile("demo-sn").unwrap();
    let gb_tariff = tariff::demo::GB.tariff();
    let found = misfits(&sn, &gb_tariff);
    assert!(
        found[0]
            .1
            .contains("The tax type A00 is not one of the administration's (DD, RS, PCS, TVA)"),
        "{found:?}"
    );
    let text = "commodity_code,tax_type,kind,rate_percent,amount,currency,unit,base\n85,DD,specific,,10,XOF,KGM,customs_value\n85,TVA,ad_valorem,18,,,,customs_value\n";
    let found = misfits(&sn, &tariff::Tariff::from_csv(text).unwrap());
    assert_eq!(
        found.iter().map(|(line, _)| *line).collect::<Vec<_>>(),
        [2, 3],
        "{found:?}"
    );
    assert!(found[1].1.contains("TVA is value added"), "{found:?}");
}

/// No input stops the server: a profile nested 100,000 deep (arrays or inline tables) is refused with an error, on a
/// small stack, never a stack overflow.
#[test]
fn deeply_nested_text_is_refused_not_a_crash() {
    for depth in [1_000usize, 100_000] {
        let text = format!("a = {}{}", "[".repeat(depth), "]".repeat(depth));
        let handle = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || parse(&text).is_err())
            .unwrap();
        assert!(handle.join().unwrap(), "{depth}");
        let inline = format!("a = {}1{}", "{b = ".repeat(depth), "}".repeat(depth));
        let handle = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || parse(&inline).is_err())
            .unwrap();
        assert!(handle.join().unwrap(), "inline {depth}");
    }
}

#[test]
fn a_local_day_begins_at_the_offices_midnight() {
    let mut office = crate::demo().offices[0].clone();
    let mut starts = |zone: &str, month, day| {
        office.time_zone = zone.to_owned();
        office
            .day_starts(time::Date::from_calendar_date(2026, month, day).unwrap())
            .map(|t| t.to_string())
            .unwrap()
    };
    // Summer time (UTC+1), then winter (UTC); a zone without daylight saving; a half-hour offset.
    assert_eq!(
        starts("Europe/London", time::Month::July, 1),
        "2026-06-30 23:00:00.0 +00:00:00"
    );
    assert_eq!(
        starts("Europe/London", time::Month::December, 1),
        "2026-12-01 0:00:00.0 +00:00:00"
    );
    assert_eq!(
        starts("Africa/Dakar", time::Month::July, 1),
        "2026-07-01 0:00:00.0 +00:00:00"
    );
    assert_eq!(
        starts("Asia/Kolkata", time::Month::July, 1),
        "2026-06-30 18:30:00.0 +00:00:00"
    );
}
