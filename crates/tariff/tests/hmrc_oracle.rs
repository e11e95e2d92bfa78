//! The HMRC oracle: HMRC published, beside its sample declarations, the tax notifications (DMSTAX) that CDS
//! returned for them. For every scenario with exactly one declaration and DMSTAX notifications, this test writes
//! a measures CSV holding the ad valorem rates HMRC applied (base `customs_value_plus_duties` for VAT B00,
//! `customs_value` for every other tax type), assesses the declaration with Aduana's own valuation and assessment,
//! and compares the base and the amount of every goods item and tax type to the penny.
//!
//! Lines without a rate in the notification (specific duties, interest, deposits) are not ad valorem and are
//! outside the oracle; they are counted and listed. Lines we do not reproduce exactly must be listed, with the
//! reason, in `tests/hmrc_oracle_exceptions.txt`; the test fails on any new mismatch and on any listed line that
//! has become exact, so the list stays true.

use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use tariff::{ExchangeRates, Tariff};
use wco::dom::{self, Element};

/// The reliefs the samples claim, with the meaning their own comments give: national policy, the same for every
/// scenario, not read from the notifications.
const UK_RELIEFS: &str = "\
# DE 1/11 C07: consignments of negligible value, up to GBP 135: no customs duty.
,A00,relief,,,additional_procedure=C07
# DE 1/11 C28: gifts received on an official visit to a third country: no customs duty.
,A00,relief,,,additional_procedure=C28
# DE 1/11 1RV: relief from import VAT claimed (with statement RVAT1).
,B00,relief,,,additional_procedure=1RV
# DE 2/2 NIDOM: goods moving from Great Britain into Northern Ireland, not at risk, released for free circulation
# (DE 1/10 40) or re-imported (61): no customs duty. Under a special procedure (44 end-use, 51 inward processing)
# the duty stays due.
,A00,relief,,,statement=NIDOM & procedure=40
,A50,relief,,,statement=NIDOM & procedure=40
,A00,relief,,,statement=NIDOM & procedure=61
,A50,relief,,,statement=NIDOM & procedure=61
";

#[derive(Clone, Debug, PartialEq)]
struct Line {
    base: Option<Decimal>,
    rate: Option<Decimal>,
    amount: Decimal,
}

fn child<'a>(element: &'a Element, name: &str) -> Option<&'a Element> {
    element.children.iter().find(|c| c.name == name)
}

fn decimal(element: Option<&Element>) -> Option<Decimal> {
    element.map(|e| {
        e.text
            .trim()
            .parse::<Decimal>()
            .expect("a decimal in DMSTAX")
    })
}

/// (goods item sequence, tax type) → the line HMRC notified. The first notification (in file order) is the
/// assessment of the declaration as lodged; later ones may follow events the oracle does not replay.
fn dmstax_lines(files: &[&Path]) -> BTreeMap<(u32, String), Line> {
    let mut lines = BTreeMap::new();
    for file in files {
        let root = dom::parse(&std::fs::read(file).unwrap(), &wco::Limits::default()).unwrap();
        let mut stack = vec![&root];
        while let Some(element) = stack.pop() {
            stack.extend(element.children.iter());
            if element.name != "GovernmentAgencyGoodsItem" {
                continue;
            }
            let sequence: u32 = child(element, "SequenceNumeric")
                .unwrap()
                .text
                .trim()
                .parse()
                .unwrap();
            let Some(commodity) = child(element, "Commodity") else {
                continue;
            };
            for fee in commodity.children.iter().filter(|c| c.name == "DutyTaxFee") {
                let tax_type = child(fee, "TypeCode").unwrap().text.trim().to_owned();
                let amount =
                    decimal(child(fee, "Payment").and_then(|p| child(p, "TaxAssessedAmount")))
                        .unwrap();
                lines.entry((sequence, tax_type)).or_insert(Line {
                    base: decimal(child(fee, "AdValoremTaxBaseAmount")),
                    rate: decimal(child(fee, "TaxRateNumeric")),
                    amount,
                });
            }
        }
    }
    lines
}

#[test]
fn assessment_agrees_with_hmrc_tax_notifications_to_the_penny() {
    let Some(samples) = test_support::hmrc_samples() else {
        return;
    };
    let exceptions_text = include_str!("hmrc_oracle_exceptions.txt");
    let exceptions: BTreeMap<String, String> = exceptions_text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (key, reason) = l.split_once(" — ").expect("`scenario item type — reason`");
            (key.trim().to_owned(), reason.trim().to_owned())
        })
        .collect();

    let rates = ExchangeRates::new(declaration::Currency::parse("GBP").unwrap());
    let mut scenarios = 0;
    let mut compared = 0;
    let mut exact = 0;
    let mut not_ad_valorem = Vec::new();
    let mut skipped = Vec::new();
    let mut mismatches: BTreeMap<String, String> = BTreeMap::new();

    let mut folders: Vec<_> = std::fs::read_dir(&samples)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    folders.sort();
    for folder in folders {
        let name = folder.file_name().unwrap().to_string_lossy().into_owned();
        let files = test_support::files_under(&folder);
        let tax_files: Vec<&Path> = files
            .iter()
            .filter(|p| p.to_string_lossy().to_uppercase().contains("DMSTAX"))
            .map(|p| p.as_path())
            .collect();
        if tax_files.is_empty() {
            continue;
        }
        // The declaration itself: function code 13 messages (corrections, invalidations, goods presentations)
        // in the same folder are about it, not another one.
        let declarations: Vec<_> = test_support::hmrc_declaration_files(&folder)
            .into_iter()
            .filter(|file| {
                !matches!(
                    wco::read_message(&std::fs::read(file).unwrap(), &wco::Limits::default()),
                    Ok(wco::Message::Additional(_))
                )
            })
            .collect();
        if declarations.len() != 1 {
            skipped.push(format!(
                "{name}: {} declaration files (the oracle needs exactly one)",
                declarations.len()
            ));
            continue;
        }
        let lines = dmstax_lines(&tax_files);
        let declaration = match wco::read_declaration(
            &std::fs::read(&declarations[0]).unwrap(),
            &wco::Limits::default(),
        ) {
            Ok(declaration) => declaration,
            Err(problems) => {
                skipped.push(format!(
                    "{name}: the declaration is refused ({}), as XSD validation refuses it",
                    problems[0].code.code()
                ));
                continue;
            }
        };
        scenarios += 1;

        // The measures HMRC applied, as a tariff: one line per commodity code and tax type.
        let mut csv = String::from("commodity_code,tax_type,kind,rate_percent,base,condition\n");
        csv.push_str(UK_RELIEFS);
        let mut written = BTreeSet::new();
        for ((sequence, tax_type), line) in &lines {
            let Some(rate) = line.rate.filter(|_| line.base.is_some()) else {
                continue;
            };
            let Some(item) = declaration
                .goods_shipment
                .goods_items
                .iter()
                .find(|i| i.sequence_numeric == *sequence)
            else {
                continue; // reported below as "no tax line computed"
            };
            let code = item.commodity_code().unwrap().to_string();
            // HMRC splits import VAT when duties are due: B00 on the customs value, B05 on the duties.
            let split_vat = lines.keys().any(|(s, t)| s == sequence && t == "B05");
            let base = match tax_type.as_str() {
                "B00" if split_vat => "customs_value_alone",
                "B00" => "customs_value_plus_duties",
                "B05" => "duties",
                _ => "customs_value",
            };
            if written.insert((code.clone(), tax_type.clone())) {
                csv.push_str(&format!("{code},{tax_type},ad_valorem,{rate},{base},\n"));
            }
        }
        let tariff = Tariff::from_csv(&csv).unwrap();
        let date = time::macros::date!(2026 - 03 - 20);
        let assessment = tariff::assess(&declaration, &tariff, &rates, date);

        for ((sequence, tax_type), line) in &lines {
            let key = format!("{name} {sequence} {tax_type}");
            let (Some(base), Some(rate)) = (line.base, line.rate) else {
                not_ad_valorem.push(key);
                continue;
            };
            compared += 1;
            let ours = match &assessment {
                Ok(assessment) => assessment
                    .items
                    .iter()
                    .find(|i| i.sequence == *sequence)
                    .and_then(|i| i.taxes.iter().find(|t| &t.tax_type == tax_type))
                    .map(|t| (t.base, t.amount)),
                Err(problems) => {
                    mismatches.insert(key, format!("not assessed: {}", problems[0].message));
                    continue;
                }
            };
            match ours {
                Some((our_base, our_amount)) if our_base == base && our_amount == line.amount => {
                    exact += 1;
                }
                Some((our_base, our_amount)) => {
                    mismatches.insert(
                        key,
                        format!(
                            "HMRC base {base} rate {rate} amount {}; ours base {our_base} amount {our_amount}",
                            line.amount
                        ),
                    );
                }
                None => {
                    mismatches.insert(key, "no tax line computed".into());
                }
            }
        }
    }

    println!(
        "HMRC oracle: {scenarios} scenarios, {compared} ad valorem lines compared, {exact} exact, {} listed as \
         known differences; {} lines without a rate left out: {}",
        mismatches.len(),
        not_ad_valorem.len(),
        not_ad_valorem.join(", ")
    );
    for reason in &skipped {
        println!("  skipped {reason}");
    }
    for (key, detail) in &mismatches {
        println!("  not exact: {key}: {detail}");
    }
    let unexplained: Vec<_> = mismatches
        .keys()
        .filter(|k| !exceptions.contains_key(*k))
        .collect();
    let now_exact: Vec<_> = exceptions
        .keys()
        .filter(|k| !mismatches.contains_key(*k))
        .collect();
    assert!(
        unexplained.is_empty(),
        "lines not exact and not explained: {unexplained:?}"
    );
    assert!(
        now_exact.is_empty(),
        "lines listed as known differences are exact now; remove them from the list: {now_exact:?}"
    );
    assert!(compared >= 100, "the oracle compared only {compared} lines");
}
