//! What the trader has been told, derived from the event log: receipt, acceptance (with MRN), rejection (errors
//! with pointers), control, tax assessment, payment request, release, cancellation. The same content is rendered
//! as WCO RES XML by the conformance work.

use serde_json::{Value, json};
use storage::{DeclarationRow, EventRow};

pub fn derive(row: &DeclarationRow, events: &[EventRow]) -> Vec<Value> {
    let mut out = Vec::new();
    for event in events {
        let data: Value = serde_json::from_str(&event.data).unwrap_or(Value::Null);
        let (kind, message, detail) = match event.event_type.as_str() {
            "lodged" => (
                "receipt",
                "Your declaration has been received.".to_owned(),
                json!({"lrn": row.lrn}),
            ),
            "accepted" => (
                "acceptance",
                format!(
                    "Your declaration is accepted with MRN {}.",
                    data["mrn"].as_str().unwrap_or("")
                ),
                json!({"mrn": data["mrn"]}),
            ),
            "rejected" => (
                "rejection",
                "Your declaration is rejected; each error says where and why.".to_owned(),
                json!({"errors": data["errors"]}),
            ),
            "lane_assigned" | "lane_overridden" => match data["control"].as_str() {
                Some("documentary_check") => (
                    "control",
                    "Documents are requested: a documentary check will be made before release."
                        .to_owned(),
                    json!({"control": "documentary_check"}),
                ),
                Some("physical_examination") => (
                    "control",
                    "The goods are selected for physical examination before release.".to_owned(),
                    json!({"control": "physical_examination"}),
                ),
                _ => continue,
            },
            "control_recorded" => (
                "control_result",
                format!(
                    "Control result: {}.",
                    data["outcome"]["result"]
                        .as_str()
                        .unwrap_or("recorded")
                        .replace('_', " ")
                ),
                json!({"outcome": data["outcome"], "remarks": event.reason}),
            ),
            "assessed" => {
                let assessment: Value = row
                    .assessment
                    .as_deref()
                    .and_then(|a| serde_json::from_str(a).ok())
                    .unwrap_or(Value::Null);
                // The event's reason says more when the deferment account refused the deferred duties.
                let message = match event.reason.split_once(" in duties and taxes. ") {
                    Some((_, more)) => format!("Duties and taxes are assessed. {more}"),
                    None => "Duties and taxes are assessed.".to_owned(),
                };
                (
                    "tax_assessment",
                    message,
                    json!({"liabilities": data["liabilities"], "assessment": assessment}),
                )
            }
            "payment_requested" => (
                "payment_request",
                format!(
                    "Please pay {} {} before release.",
                    data["amount"].as_str().unwrap_or(""),
                    data["currency"].as_str().unwrap_or("")
                ),
                json!({"amount": data["amount"], "currency": data["currency"]}),
            ),
            "released" => ("release", "Your goods are released.".to_owned(), json!({})),
            "cancelled" => (
                "cancellation",
                "Your declaration is cancelled.".to_owned(),
                json!({"reason": event.reason}),
            ),
            "amended" => (
                "amendment",
                format!("Your amendment is accepted as version {}.", data["version"]),
                json!({"version": data["version"]}),
            ),
            _ => continue,
        };
        out.push(json!({"sequence": out.len() + 1, "type": kind, "at": event.at, "message": message, "detail": detail}));
    }
    out
}

/// The validation code of an error in a RES notification (at most 8 characters): `ADU` and the code's stable
/// number in the error table (`GET /api/v1/error-codes`; pinned, never reused). The code's name, its sentence and
/// the pointer go in the description.
fn validation_code(code: &str) -> String {
    error_table::ErrorCode::ALL
        .iter()
        .find(|c| c.code() == code)
        .map_or_else(
            || "ADU99999".to_owned(),
            |c| format!("ADU{:05}", c.number()),
        )
}

/// `2026-11-29T15:30:55.347483Z` → `20261129153055Z` (format code 304).
fn compact_time(at: &str) -> String {
    let digits: String = at.chars().filter(char::is_ascii_digit).take(14).collect();
    format!("{digits}Z")
}

/// What the trader has been told, as one WCO RES document (docs/lifecycle.md): every notification in order, a control
/// result as DMSRES (07) and an accepted amendment as DMSREQ (11); a payment request is the payable amounts of the
/// tax assessment.
pub fn res_xml(row: &DeclarationRow, events: &[EventRow], country: &str) -> String {
    use wco::res::{Item, Kind, Notification, Tax};
    let id: String = row
        .id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(28)
        .collect();
    let mut out = Vec::new();
    for n in derive(row, events) {
        let kind = match (
            n["type"].as_str().unwrap_or(""),
            n["detail"]["control"].as_str(),
        ) {
            ("receipt", _) => Kind::Receipt,
            ("acceptance", _) => Kind::Acceptance,
            ("rejection", _) => Kind::Rejection,
            ("control", Some("physical_examination")) => Kind::Examination,
            ("control", _) => Kind::DocumentsRequested,
            ("tax_assessment", _) => Kind::TaxAssessment,
            ("release", _) => Kind::Release,
            ("cancellation", _) => Kind::Cancellation,
            ("control_result", _) => Kind::ControlResult,
            ("amendment", _) => Kind::AmendmentAccepted,
            // A payment request is the payable amounts of the tax assessment (DMSTAX `PaymentAmount`): no
            // notification of its own, as in HMRC's DMS.
            _ => continue,
        };
        let mut statements = Vec::new();
        if kind == Kind::ControlResult {
            statements.push(n["message"].as_str().unwrap_or("").to_owned());
            let outcome = &n["detail"]["outcome"];
            if let Some(kind) = outcome["irregularity_type"].as_str() {
                statements.push(format!("Irregularity: {}.", kind.replace('_', " ")));
            }
            if let Some(duty) = outcome["additional_duty"].as_str() {
                statements.push(format!("Additional duty: {duty}."));
            }
            if let Some(remarks) = n["detail"]["remarks"].as_str() {
                statements.push(format!("Remarks: {remarks}"));
            }
        }
        let errors = n["detail"]["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| {
                        let code = e["code"].as_str().unwrap_or("");
                        (
                            validation_code(code),
                            format!(
                                "{code}: {} (at {})",
                                e["message"].as_str().unwrap_or(""),
                                e["pointer"].as_str().unwrap_or("")
                            ),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let assessment = &n["detail"]["assessment"];
        let currency = assessment["currency"].as_str().unwrap_or("").to_owned();
        let items = if kind == Kind::TaxAssessment {
            assessment["items"]
                .as_array()
                .map(|items| {
                    items
                        .iter()
                        .map(|item| Item {
                            sequence: item["sequence"].as_u64().unwrap_or(0) as u32,
                            taxes: item["taxes"]
                                .as_array()
                                .map(|taxes| {
                                    taxes
                                        .iter()
                                        .map(|t| {
                                            let assessed =
                                                t["amount"].as_str().unwrap_or("0").to_owned();
                                            // Deferred (E, F, G) and guaranteed (M, R, S) duties are not payable now.
                                            let later = matches!(
                                                t["payment_method"].as_str(),
                                                Some("E" | "F" | "G" | "M" | "R" | "S")
                                            );
                                            Tax {
                                                type_code: t["type"]
                                                    .as_str()
                                                    .unwrap_or("")
                                                    .to_owned(),
                                                base: t["base"].as_str().unwrap_or("0").to_owned(),
                                                rate_percent: t["rate_percent"]
                                                    .as_str()
                                                    .unwrap_or("0")
                                                    .to_owned(),
                                                payable: if later {
                                                    "0.00".to_owned()
                                                } else {
                                                    assessed.clone()
                                                },
                                                assessed,
                                                currency: currency.clone(),
                                            }
                                        })
                                        .collect()
                                })
                                .unwrap_or_default(),
                        })
                        .collect()
                })
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        out.push(Notification {
            kind,
            id: format!("{id}-{}", n["sequence"]),
            issued_at: compact_time(n["at"].as_str().unwrap_or("")),
            lrn: row.lrn.clone(),
            mrn: if kind == Kind::Receipt || kind == Kind::Rejection {
                None
            } else {
                row.mrn.clone()
            },
            // An accepted amendment names the version it created; the others the declaration's current one.
            version: n["detail"]["version"]
                .as_u64()
                .and_then(|v| u32::try_from(v).ok())
                .unwrap_or_else(|| u32::try_from(row.version).unwrap_or(1)),
            errors,
            items,
            statements,
        });
    }
    wco::res::write(&out, country, "Aduana")
}
