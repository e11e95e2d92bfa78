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
                json!({"outcome": data["outcome"]}),
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
