//! The UK Trade Tariff's commodity format (`GET /api/v2/commodities/{code}` of the Online Trade Tariff, as the
//! shared `data/uk-trade-tariff/uk/commodities/*.json` hold it): the prohibitions and restrictions among a
//! commodity's import and export measures become [`Requirement`]s.
//!
//! A measure is a restriction when one of its condition groups (by condition code) ends in an action that stops the
//! goods ("… not allowed …"): its other conditions in that group are the ways to meet it — a document code (`C640`), a waiver
//! (`Y929`, codes starting with Y), a quantity at most a threshold (condition amount and unit, no document). Measures
//! whose conditions only change a duty (anti-dumping documents, entry prices, weight ratios, preferences) are not
//! requirements. The measure's geographical area comes with its members (a group such as `1008`, all third
//! countries, is expanded) and its excluded countries. A group nested in it stays a member by its own code (`EU`):
//! the format lists no members for it.

use crate::{Direction, Group, Requirement, Way};
use rust_decimal::Decimal;
use serde_json::Value;

/// Most measures and conditions one file may hold.
const MAX_MEASURES: usize = 10_000;
const MAX_CONDITIONS: usize = 1_000;

/// Reads the requirements of one commodity file. A file that is not the format is refused with a sentence.
pub fn read(text: &str) -> Result<Vec<Requirement>, String> {
    let file: Value = serde_json::from_str(text).map_err(|e| format!("not JSON ({e})"))?;
    let commodity = file["goods_nomenclature_item_id"]
        .as_str()
        .filter(|c| (2..=10).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_digit()))
        .ok_or(
            "no goods_nomenclature_item_id of 2 to 10 digits: not a UK Trade Tariff commodity file",
        )?;
    let mut out = Vec::new();
    for (key, direction) in [
        ("import_measures", Direction::Import),
        ("export_measures", Direction::Export),
    ] {
        let Some(measures) = file[key].as_array() else {
            continue;
        };
        if measures.len() > MAX_MEASURES {
            return Err(format!("{key}: more than {MAX_MEASURES} measures"));
        }
        for (index, measure) in measures.iter().enumerate() {
            if let Some(mut requirement) = requirement(commodity, direction, measure)
                .map_err(|e| format!("{key}[{index}]: {e}"))?
            {
                // A measure defined on a heading comes with each of its commodities, and the format may list one
                // measure twice with other conditions: the id says which commodity and which occurrence.
                let seen = out
                    .iter()
                    .filter(|r: &&Requirement| r.id.starts_with(&requirement.id))
                    .count();
                if seen > 0 {
                    requirement.id = format!("{}:{}", requirement.id, seen + 1);
                }
                out.push(requirement);
            }
        }
    }
    Ok(out)
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or("")
}

/// The text of an HTML fragment (the format's descriptions carry `<span>`, `<abbr>`, `<a>`).
fn plain(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn stops(action: &str) -> bool {
    action.contains("not allowed")
}

fn date(value: &Value) -> Result<Option<time::Date>, String> {
    match value.as_str() {
        None => Ok(None),
        Some(t) => time::Date::parse(
            t.get(..10).unwrap_or(t),
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .map(Some)
        .map_err(|_| format!("the date {t:?} does not read")),
    }
}

fn requirement(
    commodity: &str,
    direction: Direction,
    measure: &Value,
) -> Result<Option<Requirement>, String> {
    let Some(conditions) = measure["measure_conditions"].as_array() else {
        return Ok(None);
    };
    if conditions.len() > MAX_CONDITIONS {
        return Err(format!("more than {MAX_CONDITIONS} conditions"));
    }
    let mut groups: Vec<Group> = Vec::new();
    for condition in conditions {
        let code = text(&condition["condition_code"]).to_owned();
        let action = text(&condition["action"]).trim().to_owned();
        let document = text(&condition["document_code"]).trim().to_owned();
        let group = match groups.iter_mut().position(|g| g.condition == code) {
            Some(at) => &mut groups[at],
            None => {
                groups.push(Group {
                    condition: code.clone(),
                    ways: Vec::new(),
                    otherwise: String::new(),
                });
                groups.last_mut().expect("just pushed")
            }
        };
        if !document.is_empty() {
            if !stops(&action) {
                group.ways.push(Way::Document {
                    waiver: document.starts_with('Y'),
                    description: plain(text(&condition["requirement"])),
                    code: document,
                });
            }
        } else if stops(&action) {
            group.otherwise = action;
        } else if let Some(amount) = condition["condition_duty_amount"].as_f64() {
            let amount = Decimal::try_from(amount)
                .map_err(|_| format!("the condition amount {amount} does not read"))?;
            group.ways.push(Way::AtMost {
                amount,
                unit: text(&condition["condition_measurement_unit_code"]).to_owned(),
            });
        }
    }
    // Only the groups that stop the goods are requirements (each must be met: a waste shipment needs a
    // notification for E and a movement document for I, or the one document meeting both); a measure without one
    // only changes a duty. A group without an end of its own offers more ways to meet the first that stops: the
    // conformity certificate (Z, "more than one certificate") of a measure whose B group says "not allowed".
    let (mut stopping, offering): (Vec<Group>, Vec<Group>) =
        groups.into_iter().partition(|g| !g.otherwise.is_empty());
    let Some(first) = stopping.first_mut() else {
        return Ok(None);
    };
    for group in offering {
        first.ways.extend(group.ways);
    }
    let groups = stopping;
    let area = &measure["geographical_area"];
    let area_id = text(&area["id"]).to_owned();
    let mut countries: Vec<String> = area["children_geographical_areas"]
        .as_array()
        .map(|children| {
            children
                .iter()
                .map(|c| text(&c["id"]).to_owned())
                .filter(|c| !c.is_empty())
                .collect()
        })
        .unwrap_or_default();
    if countries.is_empty() && !area_id.is_empty() {
        countries.push(area_id.clone());
    }
    countries.sort();
    countries.dedup();
    let excluded = measure["excluded_countries"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|c| text(&c["geographical_area_id"]).to_owned())
                .collect()
        })
        .unwrap_or_default();
    let id = match &measure["id"] {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => return Err("a measure without an id".into()),
    };
    Ok(Some(Requirement {
        id: format!("uk:{id}:{commodity}"),
        measure_type: text(&measure["measure_type"]["id"]).to_owned(),
        title: plain(text(&measure["measure_type"]["description"])),
        agency: None,
        commodity_prefix: commodity.to_owned(),
        direction,
        area: area_id,
        countries,
        excluded,
        additional_code: measure["additional_code"]["code"]
            .as_str()
            .map(str::to_owned),
        valid_from: date(&measure["effective_start_date"])?,
        valid_to: date(&measure["effective_end_date"])?,
        groups,
    }))
}

/// A duty or tax of a UK Trade Tariff commodity file, as a line of Aduana's tariff (docs/tariff-csv.md).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Duty {
    pub commodity: String,
    /// Customs duty (measure types 103 third country duty, 142 tariff preference) or VAT (305, VTA, VTZ, …).
    pub vat: bool,
    /// `ad_valorem`, `specific` or `compound`.
    pub kind: &'static str,
    pub rate_percent: Option<Decimal>,
    pub amount: Option<Decimal>,
    pub currency: Option<String>,
    /// UN/ECE Rec. 20, with a leading number for a multiple (`100 KGM`).
    pub unit: Option<String>,
    /// The countries it is limited to (a preference's area, expanded); empty: every origin.
    pub origins: Vec<String>,
    /// `300` for a tariff preference (DE 4/17).
    pub preference: Option<String>,
    pub valid_from: Option<time::Date>,
    pub valid_to: Option<time::Date>,
}

/// A duty expression's unit as Rec. 20 (`100 kg` → `100 KGM`, `p/st` → `NAR`, `hl` → `100 LTR`).
fn unit_of(text: &str) -> Option<String> {
    let (scale, unit) = match text.trim().split_once(' ') {
        Some((n, u)) if n.bytes().all(|b| b.is_ascii_digit()) => (Some(n), u.trim()),
        _ => (None, text.trim()),
    };
    let (factor, code) = match unit {
        "kg" => (None, "KGM"),
        "p/st" => (None, "NAR"),
        "l" => (None, "LTR"),
        "hl" => (Some("100"), "LTR"),
        "m3" => (None, "MTQ"),
        _ => return None,
    };
    Some(match (scale, factor) {
        (Some(n), None) | (None, Some(n)) => format!("{n} {code}"),
        (None, None) => code.to_owned(),
        (Some(_), Some(_)) => return None,
    })
}

/// A duty expression (`10.20 %`, `35.10 EUR / 100 kg`, `10.20 % + 93.10 EUR / 100 kg`) read, or why not.
#[allow(clippy::type_complexity)]
fn expression(
    text: &str,
) -> Result<
    (
        &'static str,
        Option<Decimal>,
        Option<(Decimal, String, String)>,
    ),
    String,
> {
    let number = |t: &str| {
        t.trim()
            .parse::<Decimal>()
            .map_err(|_| format!("the duty expression {text:?} does not read"))
    };
    let specific = |t: &str| -> Result<(Decimal, String, String), String> {
        // "93.10 EUR / 100 kg"
        let (amount, per) = t
            .split_once('/')
            .ok_or_else(|| format!("the duty expression {text:?} does not read"))?;
        let mut words = amount.split_whitespace();
        let value = number(words.next().unwrap_or(""))?;
        let currency = words.next().unwrap_or("").to_owned();
        if currency.len() != 3 || words.next().is_some() {
            return Err(format!("the duty expression {text:?} does not read"));
        }
        let unit =
            unit_of(per).ok_or_else(|| format!("the unit of {text:?} is not one Aduana reads"))?;
        Ok((value, currency, unit))
    };
    let text = text.trim();
    if text.is_empty() || text.contains("MIN") || text.contains("MAX") || text.contains("Retail") {
        return Err(format!(
            "the duty expression {text:?} is not one Aduana reads (minimum, maximum, retail price)"
        ));
    }
    let parts: Vec<&str> = text.split(" + ").collect();
    match parts.as_slice() {
        [one] if one.ends_with('%') => {
            Ok(("ad_valorem", Some(number(one.trim_end_matches('%'))?), None))
        }
        [one] => Ok(("specific", None, Some(specific(one)?))),
        [rate, amount] if rate.ends_with('%') => Ok((
            "compound",
            Some(number(rate.trim_end_matches('%'))?),
            Some(specific(amount)?),
        )),
        _ => Err(format!(
            "the duty expression {text:?} is not one Aduana reads"
        )),
    }
}

/// The duties and VAT of a UK Trade Tariff commodity file (its import measures): third country duty (measure type
/// 103) for every origin, tariff preferences (142) for their areas expanded, VAT (305 and the VT… types). Returns
/// them and, for each measure of those types left out, why (a quota, an expression with a minimum, a maximum or a
/// retail price, a unit Aduana does not read, an additional code).
pub fn duties(source: &str) -> Result<(Vec<Duty>, Vec<String>), String> {
    let file: Value = serde_json::from_str(source).map_err(|e| format!("not JSON ({e})"))?;
    let commodity = file["goods_nomenclature_item_id"]
        .as_str()
        .filter(|c| c.len() == 10 && c.bytes().all(|b| b.is_ascii_digit()))
        .ok_or(
            "no goods_nomenclature_item_id of 10 digits: not a UK Trade Tariff commodity file",
        )?;
    let measures = file["import_measures"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if measures.len() > MAX_MEASURES {
        return Err(format!(
            "import_measures: more than {MAX_MEASURES} measures"
        ));
    }
    let mut duties = Vec::new();
    let mut skipped = Vec::new();
    for measure in &measures {
        let kind = text(&measure["measure_type"]["id"]);
        let vat = kind == "305" || kind.starts_with("VT");
        let preference = kind == "142";
        if !(vat || preference || kind == "103") {
            if kind == "143" || kind == "122" {
                skipped.push(format!(
                    "{commodity} measure type {kind}: tariff quotas are not imported"
                ));
            }
            continue;
        }
        let expression_text = plain(text(&measure["duty_expression"]["base"]));
        // A 103 measure without a duty expression is a control, not a duty (read as a requirement).
        if expression_text.is_empty() {
            continue;
        }
        if measure["additional_code"]["code"].as_str().is_some() {
            skipped.push(format!(
                "{commodity} measure type {kind}: an additional code is not imported"
            ));
            continue;
        }
        let (csv_kind, rate, specific) = match expression(&expression_text) {
            Ok(read) => read,
            Err(why) => {
                skipped.push(format!("{commodity} measure type {kind}: {why}"));
                continue;
            }
        };
        let area = &measure["geographical_area"];
        let mut origins: Vec<String> = Vec::new();
        if preference {
            origins = area["children_geographical_areas"]
                .as_array()
                .map(|c| {
                    c.iter()
                        .map(|c| text(&c["id"]).to_owned())
                        .filter(|c| c.len() == 2)
                        .collect()
                })
                .unwrap_or_default();
            let id = text(&area["id"]);
            if origins.is_empty() && id.len() == 2 {
                origins.push(id.to_owned());
            }
            let excluded: Vec<String> = measure["excluded_countries"]
                .as_array()
                .map(|l| {
                    l.iter()
                        .map(|c| text(&c["geographical_area_id"]).to_owned())
                        .collect()
                })
                .unwrap_or_default();
            origins.retain(|c| !excluded.contains(c));
            origins.sort();
            origins.dedup();
            if origins.is_empty() {
                skipped.push(format!(
                    "{commodity} measure type 142: the area {id} lists no countries"
                ));
                continue;
            }
        }
        let (amount, currency, unit) = match specific {
            Some((amount, currency, unit)) => (Some(amount), Some(currency), Some(unit)),
            None => (None, None, None),
        };
        duties.push(Duty {
            commodity: commodity.to_owned(),
            vat,
            kind: csv_kind,
            rate_percent: rate,
            amount,
            currency,
            unit,
            origins,
            preference: preference.then(|| "300".to_owned()),
            valid_from: date(&measure["effective_start_date"])?,
            valid_to: date(&measure["effective_end_date"])?,
        });
    }
    Ok((duties, skipped))
}
