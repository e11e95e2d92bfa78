//! Issue 18, first "done when": importing every file of the shared `data/uk-trade-tariff/uk/commodities` gives, for
//! each commodity and country, the requirements its measures state — written by hand from those files, each
//! document, waiver, threshold and exclusion kept.

use lpco::{Direction, Requirements, Way, uk};

/// A requirement as the table writes it: its measure type, then each group as its ways joined by `|` (a threshold
/// as `<=20 KGM`), groups joined by ` & `.
fn written(r: &lpco::Requirement) -> String {
    let groups: Vec<String> = r
        .groups
        .iter()
        .map(|g| {
            g.ways
                .iter()
                .map(|w| match w {
                    Way::Document { code, .. } => code.clone(),
                    Way::AtMost { amount, unit } => format!("<={} {unit}", amount.normalize()),
                })
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect();
    format!("{} {}", r.measure_type, groups.join(" & "))
}

#[test]
fn the_uk_commodities_give_the_requirements_their_measures_state() {
    let Some(shared) = test_support::shared_dir() else {
        return;
    };
    let folder = shared.join("data/uk-trade-tariff/uk/commodities");
    let mut set = Requirements::default();
    let mut files = 0;
    for entry in std::fs::read_dir(&folder).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let read = uk::read(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        set.merge(read).unwrap();
        files += 1;
    }
    assert_eq!(files, 7);
    let day = time::macros::date!(2026 - 12 - 01);
    let in_2021 = time::macros::date!(2021 - 06 - 01);
    let cases: &[(&str, Direction, &str, time::Date, &[&str])] = &[
        // Live bovine animals from a third country: veterinary control (CHED-A) and the organic products control
        // (a certificate of inspection, or Y929 "not concerned").
        (
            "0102291010",
            Direction::Import,
            "US",
            day,
            &["410 C640", "750 C644|Y929"],
        ),
        // Switzerland is excluded from both.
        ("0102291010", Direction::Import, "CH", day, &[]),
        // France is not a member of group 1008 in this data, nor of the 2017 organic measure's area (there the EU
        // is, as a group of its own).
        ("0102291010", Direction::Import, "FR", day, &[]),
        ("0102291010", Direction::Export, "US", day, &[]),
        (
            "0103921100",
            Direction::Import,
            "US",
            day,
            &["103 N851", "410 C640", "750 C644|Y929", "105 C644|Y929"],
        ),
        (
            "0103921100",
            Direction::Import,
            "FR",
            day,
            &["103 N851", "105 C644|Y929"],
        ),
        // Tomatoes: conformity (Z, one certificate), phytosanitary, organic; a conformity certificate to export.
        (
            "0702000007",
            Direction::Import,
            "CN",
            day,
            &["355 N002", "360 N851", "750 C644|Y929"],
        ),
        ("0702000007", Direction::Export, "US", day, &["357 N002"]),
        (
            "0809400500",
            Direction::Import,
            "US",
            day,
            &["103 N851", "105 C644|Y929"],
        ),
        // Animal fats: an animal pathogens licence, waste control (documents, Y923, or at most 20 kg, for each of
        // E and I), and the organic control of 2021 (EU members excluded).
        (
            "1516209821",
            Direction::Import,
            "US",
            day,
            &[
                "350 9120",
                "755 C672|C669|Y923|<=20 KGM & C672|C670|Y923|<=20 KGM",
            ],
        ),
        (
            "1516209821",
            Direction::Import,
            "US",
            in_2021,
            &[
                "350 9120",
                "750 C644|Y929",
                "755 C672|C669|Y923|<=20 KGM & C672|C670|Y923|<=20 KGM",
            ],
        ),
        (
            "1516209821",
            Direction::Import,
            "FR",
            in_2021,
            &[
                "350 9120",
                "755 C672|C669|Y923|<=20 KGM & C672|C670|Y923|<=20 KGM",
            ],
        ),
        (
            "1516209821",
            Direction::Export,
            "US",
            day,
            &["751 C672|C669|Y923|<=20 KGM & C672|C670|Y923|<=20 KGM"],
        ),
        // Ferro-alloys (the file named 7202999000 holds 7202118000, as does 7202118000.json): one measure listed
        // twice with two certificates, each with its waiver; the other file's measures only change duties
        // (anti-dumping documents, entry prices) and add none.
        (
            "7202118000",
            Direction::Import,
            "US",
            day,
            &["105 C655|Y929", "105 C644|Y929"],
        ),
        ("7202999000", Direction::Import, "US", day, &[]),
    ];
    for (commodity, direction, country, date, expected) in cases {
        let mut found: Vec<String> = set
            .for_goods(commodity, *direction, country, *date)
            .map(written)
            .collect();
        let mut expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
        found.sort();
        expected.sort();
        assert_eq!(
            found, expected,
            "{commodity} {direction:?} {country} {date}"
        );
    }
    // The CHED-A requirement says what it is and what happens without it.
    let ched = set
        .for_goods("0102291010", Direction::Import, "US", day)
        .find(|r| r.measure_type == "410")
        .unwrap();
    assert_eq!(ched.title, "Veterinary control");
    assert_eq!(
        ched.groups[0].otherwise,
        "Import/export not allowed after control"
    );
    assert!(
        matches!(&ched.groups[0].ways[0], Way::Document { description, waiver: false, .. }
        if description.starts_with("Other certificates: Common Health Entry Document for Animals (CHED-A)"))
    );
}

/// The duties and VAT of the UK files, as tariff lines: the third country duty of each commodity for every
/// origin (ad valorem, specific per 100 kg, or both), the preferences for their areas expanded, VAT; each measure
/// Aduana cannot read left out and named.
#[test]
fn uk_duties_become_tariff_lines_with_what_is_left_out_named() {
    let Some(shared) = test_support::shared_dir() else {
        return;
    };
    let read = |code: &str| {
        let text = std::fs::read_to_string(
            shared.join(format!("data/uk-trade-tariff/uk/commodities/{code}.json")),
        )
        .unwrap();
        lpco::uk::duties(&text).unwrap()
    };
    let decimal = |t: &str| Some(t.parse::<rust_decimal::Decimal>().unwrap());
    let (cattle, skipped) = read("0102291010");
    assert!(skipped.is_empty(), "{skipped:?}");
    let third = cattle
        .iter()
        .find(|d| !d.vat && d.preference.is_none())
        .unwrap();
    assert_eq!(
        (
            third.kind,
            third.rate_percent,
            third.amount,
            third.currency.as_deref(),
            third.unit.as_deref()
        ),
        (
            "compound",
            decimal("10.20"),
            decimal("93.10"),
            Some("EUR"),
            Some("100 KGM")
        )
    );
    assert!(third.origins.is_empty(), "every origin");
    let vat = cattle.iter().find(|d| d.vat).unwrap();
    assert_eq!(
        (vat.kind, vat.rate_percent),
        ("ad_valorem", decimal("0.00"))
    );
    let (swine, _) = read("0103921100");
    let third = swine
        .iter()
        .find(|d| !d.vat && d.preference.is_none())
        .unwrap();
    assert_eq!(
        (third.kind, third.amount, third.unit.as_deref()),
        ("specific", decimal("35.10"), Some("100 KGM"))
    );
    let (tomatoes, skipped) = read("0702000007");
    let canada = tomatoes.iter().find(|d| d.origins == ["CA"]).unwrap();
    assert_eq!(
        (canada.preference.as_deref(), canada.rate_percent),
        (Some("300"), decimal("0.00"))
    );
    let eu = tomatoes.iter().find(|d| d.origins.len() > 20).unwrap();
    assert!(eu.origins.contains(&"FR".to_owned()) && eu.origins.contains(&"DE".to_owned()));
    assert_eq!(
        skipped
            .iter()
            .filter(|s| s.contains("tariff quotas"))
            .count(),
        7,
        "{skipped:?}"
    );
}
