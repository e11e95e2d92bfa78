//! What the trader has been told, derived from the event log: receipt, acceptance (with MRN), rejection (errors
//! with pointers), control, tax assessment, payment request, release, cancellation. The same content is rendered
//! as WCO RES XML by the conformance work.

use serde::Serialize;
use serde_json::{Value, json};
use storage::{DeclarationRow, EventRow};

/// What a notification tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotificationType {
    Receipt,
    Acceptance,
    Rejection,
    /// A control before release: documents requested, or the goods selected for examination.
    Control,
    ControlResult,
    TaxAssessment,
    PaymentRequest,
    Payment,
    Release,
    Cancellation,
    Amendment,
    RefundRequest,
    Refund,
    /// Release waits for a partner agency (the Single Window).
    AgencyHold,
    /// A partner agency decided on the consignment.
    AgencyDecision,
    /// The released goods left the customs area (gate-out of an import, exit of an export).
    Exit,
}

/// One thing the trader was told.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Notification {
    /// 1, 2, … in the order told.
    pub sequence: usize,
    #[serde(rename = "type")]
    pub kind: NotificationType,
    /// RFC 3339, UTC: the time of the event it tells.
    pub at: String,
    /// The sentence, for a person.
    pub message: String,
    /// What a program reads, by type: `lrn` (receipt), `mrn` (acceptance), `errors` (rejection), `control`,
    /// `outcome` and `remarks` (control result), `liabilities` and `assessment` (tax assessment), `amount` with
    /// `currency` or `reference` (payment request, payment), `reason` (cancellation), `version` (amendment),
    /// `refund` and `amount` (refunds), `agency` with `reason` or `decision` (agency hold and decision).
    pub detail: Value,
}

/// How notifications are worded: the language and the national currency's decimal places.
#[derive(Clone, Copy, Debug)]
pub struct Wording {
    pub language: wording::Language,
    pub places: u32,
}

impl Wording {
    /// English, two places: what RES XML and the audit read.
    pub const ENGLISH: Wording = Wording {
        language: wording::Language::En,
        places: 2,
    };

    fn amount(&self, amount: rust_decimal::Decimal, currency: &str) -> String {
        self.language.amount(amount, self.places, currency)
    }
}

/// The notifications of a declaration, in order, each derived from one event of its log (its typed kind, never
/// its reason sentence): what a trader's software reads as JSON, and `res_xml` writes as WCO RES. The sentences
/// are in `wording`'s language, amounts written as it writes them; what a program reads (`detail`) is the same
/// in every language, each rejection error with the error table's sentence in the language beside its own.
pub fn derive(row: &DeclarationRow, events: &[EventRow], wording: Wording) -> Vec<Notification> {
    use workflow::{ControlKind, EventKind};
    let language = wording.language;
    let say = |id: &str, args: &[(&str, &str)]| language.text(id, args);
    // Amounts of payments and refunds are in the declaration's assessment currency.
    let currency: String = row
        .assessment
        .as_deref()
        .and_then(|a| serde_json::from_str::<Value>(a).ok())
        .and_then(|a| a["currency"].as_str().map(str::to_owned))
        .unwrap_or_default();
    let mut out = Vec::new();
    for event in events {
        // Stored events are the lifecycle's own (storage writes what `decide` returned); an unreadable one is
        // skipped rather than shown wrong.
        let Ok(kind) = serde_json::from_str::<EventKind>(&event.data) else {
            tracing::warn!(declaration = %row.id, revision = event.revision, "an event that does not read");
            continue;
        };
        let (name, message, detail) = match kind {
            EventKind::Lodged { .. } => (
                NotificationType::Receipt,
                say("notice-receipt", &[]),
                json!({"lrn": row.lrn}),
            ),
            EventKind::Accepted { mrn } => (
                NotificationType::Acceptance,
                say("notice-acceptance", &[("mrn", mrn.as_str())]),
                json!({"mrn": mrn}),
            ),
            EventKind::Rejected { errors } => {
                let errors: Vec<Value> = errors
                    .iter()
                    .map(|e| {
                        let mut error = json!(e);
                        if let Some(code) = error_table::ErrorCode::ALL
                            .iter()
                            .find(|c| c.code() == e.code)
                        {
                            error["sentence"] = json!(language.error_sentence(*code));
                        }
                        error
                    })
                    .collect();
                (
                    NotificationType::Rejection,
                    say("notice-rejection", &[]),
                    json!({"errors": errors}),
                )
            }
            EventKind::LaneAssigned { control, .. } | EventKind::LaneOverridden { control, .. } => {
                match control {
                    Some(ControlKind::DocumentaryCheck) => (
                        NotificationType::Control,
                        say("notice-documentary-check", &[]),
                        json!({"control": "documentary_check"}),
                    ),
                    Some(ControlKind::PhysicalExamination) => (
                        NotificationType::Control,
                        say("notice-physical-examination", &[]),
                        json!({"control": "physical_examination"}),
                    ),
                    None => continue,
                }
            }
            EventKind::ControlRecorded { outcome, .. } => {
                let id = match &outcome {
                    workflow::ControlResult::NoIrregularity => "notice-control-result-clear",
                    workflow::ControlResult::Irregularity { .. } => {
                        "notice-control-result-irregularity"
                    }
                };
                (
                    NotificationType::ControlResult,
                    say(id, &[]),
                    json!({"outcome": outcome, "remarks": event.reason}),
                )
            }
            EventKind::Assessed {
                liabilities,
                refusals,
            } => {
                let assessment: Value = row
                    .assessment
                    .as_deref()
                    .and_then(|a| serde_json::from_str(a).ok())
                    .unwrap_or(Value::Null);
                // Why an account did not take its part, from the event's own field.
                let mut message = say("notice-assessed", &[]);
                for why in &refusals {
                    message.push(' ');
                    message.push_str(why);
                }
                (
                    NotificationType::TaxAssessment,
                    message,
                    json!({"liabilities": liabilities, "assessment": assessment}),
                )
            }
            EventKind::PaymentRequested { amount, currency } => (
                NotificationType::PaymentRequest,
                say(
                    "notice-payment-request",
                    &[("amount", &wording.amount(amount, &currency))],
                ),
                json!({"amount": amount.to_string(), "currency": currency}),
            ),
            EventKind::PaymentReceived {
                amount, reference, ..
            } => (
                NotificationType::Payment,
                say(
                    "notice-payment",
                    &[
                        ("amount", &wording.amount(amount, &currency)),
                        ("reference", &reference),
                    ],
                ),
                json!({"amount": amount.to_string(), "reference": reference}),
            ),
            EventKind::AgencyAwaited { agency, reason } => (
                NotificationType::AgencyHold,
                say(
                    "notice-agency-awaited",
                    &[("agency", &agency), ("reason", &reason)],
                ),
                json!({"agency": agency, "reason": reason}),
            ),
            EventKind::AgencyDecided { agency, decision } => {
                let id = match decision {
                    workflow::AgencyStanding::Released | workflow::AgencyStanding::Awaited => {
                        "notice-agency-released"
                    }
                    workflow::AgencyStanding::HeldForInspection => "notice-agency-inspection",
                    workflow::AgencyStanding::JointInspection => "notice-agency-joint-inspection",
                    workflow::AgencyStanding::Refused => "notice-agency-refused",
                };
                (
                    NotificationType::AgencyDecision,
                    say(id, &[("agency", &agency)]),
                    json!({"agency": agency, "decision": decision, "reasons": event.reason}),
                )
            }
            EventKind::Released => (
                NotificationType::Release,
                say("notice-release", &[]),
                json!({}),
            ),
            EventKind::Exited => (
                NotificationType::Exit,
                say("notice-exit", &[]),
                json!({"reason": event.reason}),
            ),
            EventKind::Cancelled => (
                NotificationType::Cancellation,
                say("notice-cancellation", &[]),
                json!({"reason": event.reason}),
            ),
            EventKind::Amended { version, .. } => (
                NotificationType::Amendment,
                say("notice-amendment", &[("version", &version.to_string())]),
                json!({"version": version}),
            ),
            EventKind::RefundRequested { refund, amount } => (
                NotificationType::RefundRequest,
                say(
                    "notice-refund-request",
                    &[
                        ("amount", &wording.amount(amount, &currency)),
                        ("refund", &refund),
                    ],
                ),
                json!({"refund": refund, "amount": amount.to_string()}),
            ),
            EventKind::Refunded { refund, amount } => (
                NotificationType::Refund,
                say(
                    "notice-refund",
                    &[
                        ("amount", &wording.amount(amount, &currency)),
                        ("refund", &refund),
                    ],
                ),
                json!({"refund": refund, "amount": amount.to_string()}),
            ),
            EventKind::Settled { .. }
            | EventKind::Arrived
            | EventKind::GuaranteeResolved { .. } => continue,
        };
        out.push(Notification {
            sequence: out.len() + 1,
            kind: name,
            at: event.at.clone(),
            message,
            detail,
        });
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
pub fn res_xml(
    row: &DeclarationRow,
    events: &[EventRow],
    country: &str,
    methods: &revenue::Methods,
) -> String {
    use wco::res::{Item, Kind, Tax};
    let id: String = row
        .id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(28)
        .collect();
    let mut out = Vec::new();
    for n in derive(row, events, Wording::ENGLISH) {
        let kind = match (n.kind, n.detail["control"].as_str()) {
            (NotificationType::Receipt, _) => Kind::Receipt,
            (NotificationType::Acceptance, _) => Kind::Acceptance,
            (NotificationType::Rejection, _) => Kind::Rejection,
            (NotificationType::Control, Some("physical_examination")) => Kind::Examination,
            (NotificationType::Control, _) => Kind::DocumentsRequested,
            (NotificationType::TaxAssessment, _) => Kind::TaxAssessment,
            (NotificationType::Release, _) => Kind::Release,
            (NotificationType::Cancellation, _) => Kind::Cancellation,
            (NotificationType::ControlResult, _) => Kind::ControlResult,
            (NotificationType::Amendment, _) => Kind::AmendmentAccepted,
            // A payment request is the payable amounts of the tax assessment (DMSTAX `PaymentAmount`): no
            // notification of its own, as in HMRC's DMS.
            _ => continue,
        };
        let mut statements = Vec::new();
        if kind == Kind::ControlResult {
            statements.push(n.message.clone());
            let outcome = &n.detail["outcome"];
            if let Some(kind) = outcome["irregularity_type"].as_str() {
                statements.push(format!("Irregularity: {}.", kind.replace('_', " ")));
            }
            if let Some(duty) = outcome["additional_duty"].as_str() {
                statements.push(format!("Additional duty: {duty}."));
            }
            if let Some(remarks) = n.detail["remarks"].as_str() {
                statements.push(format!("Remarks: {remarks}"));
            }
        }
        let errors = n.detail["errors"]
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
        let assessment = &n.detail["assessment"];
        let currency = assessment["currency"].as_str().unwrap_or("").to_owned();
        let liabilities = &n.detail["liabilities"];
        let taken = |part: &str| {
            liabilities[part]
                .as_str()
                .and_then(|a| a.parse::<rust_decimal::Decimal>().ok())
                .is_some_and(|a| a > rust_decimal::Decimal::ZERO)
        };
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
                                            // Not payable now: what the deferment account or the guarantee
                                            // took (the liabilities say whether it did).
                                            let later = t["payment_method"]
                                                .as_str()
                                                .and_then(|m| {
                                                    declaration::PaymentMethod::parse(m).ok()
                                                })
                                                .is_some_and(|m| match methods.settles(m) {
                                                    revenue::Settles::Deferred => taken("deferred"),
                                                    revenue::Settles::Guaranteed => {
                                                        taken("guaranteed")
                                                    }
                                                    _ => false,
                                                });
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
        out.push(wco::res::Notification {
            kind,
            id: format!("{id}-{}", n.sequence),
            issued_at: compact_time(&n.at),
            lrn: row.lrn.clone(),
            mrn: if kind == Kind::Receipt || kind == Kind::Rejection {
                None
            } else {
                row.mrn.clone()
            },
            // An accepted amendment names the version it created; the others the declaration's current one.
            version: n.detail["version"]
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
