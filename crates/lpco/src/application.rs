//! Applications for a licence, permit, certificate or other document through the Single Window, and the agency's
//! decisions on them: what a trader asks ([`Request`], checked against its LPCO type's form), the application's
//! lifecycle ([`Status`]) and the one decision that may issue a document ([`decide`]).

use crate::register::{AgencyCode, DocumentCode, Licence, LpcoType, MAX_TEXT, Standing};
use declaration::{CommodityCode, Country, PartyId};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::{Date, Duration};

/// Where an application stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", schema(as = ApplicationStatus))]
pub enum Status {
    /// Waiting for the agency.
    Filed,
    /// The agency asked the trader for more; still open.
    InformationRequested,
    /// The agency asked customs for a joint inspection; still open.
    JointInspection,
    /// Issued (with or without conditions): closed.
    Approved,
    Rejected,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Filed => "filed",
            Status::InformationRequested => "information_requested",
            Status::JointInspection => "joint_inspection",
            Status::Approved => "approved",
            Status::Rejected => "rejected",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        [
            Status::Filed,
            Status::InformationRequested,
            Status::JointInspection,
            Status::Approved,
            Status::Rejected,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    pub fn is_open(self) -> bool {
        !matches!(self, Status::Approved | Status::Rejected)
    }
}

/// What a trader asks for (`POST /api/v1/lpco/applications`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(as = ApplicationRequest))]
pub struct Request {
    /// The document code (DE 2/3 category and type), e.g. `C640`.
    pub document_code: DocumentCode,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub commodity: CommodityCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub origin: Option<Country>,
    /// The quantity asked for, in `unit` (the type's balance unit), when the type keeps a balance.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "rust_decimal::serde::str_option"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub quantity: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// The form's fields, by name.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// Documents attached (their SHA-256, as `POST /api/v1/documents` answered).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<String>,
}

/// What an agency decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", schema(as = AgencyVerdict))]
pub enum Verdict {
    Approve,
    ApproveWithConditions,
    Reject,
    RequestInformation,
    JointInspection,
}

/// An agency officer's decision (`POST /api/v1/lpco/applications/{id}/decisions`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    pub decision: Verdict,
    /// Why (needed to reject, to ask for information and for a joint inspection).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
    /// The conditions of an approval with conditions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<String>,
    /// The quantity granted, when other than asked (never more).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "rust_decimal::serde::str_option"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub quantity: Option<Decimal>,
    /// The first day in force, `YYYY-MM-DD` (default: the day of the decision).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::date::option"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub valid_from: Option<Date>,
}

/// A decision as recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = AgencyDecision))]
pub struct Decision {
    pub decision: Verdict,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<String>,
    /// The officer (user id).
    pub by: String,
    /// RFC 3339 UTC.
    pub at: String,
    /// The reference of the document issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub licence: Option<String>,
}

/// An application as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Application {
    pub id: String,
    pub agency: AgencyCode,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub applicant: PartyId,
    pub request: Request,
    pub status: Status,
    /// RFC 3339 UTC.
    pub filed_at: String,
    #[serde(default)]
    pub decisions: Vec<Decision>,
}

/// Most reasons or conditions one decision gives, and attachments one application carries.
pub const MAX_ITEMS: usize = 32;

/// The mistakes of a request against its type's form, each as (JSON pointer, sentence).
pub fn check(request: &Request, kind: &LpcoType) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    for field in &kind.fields {
        let given = request
            .fields
            .get(&field.name)
            .map(|v| v.trim())
            .unwrap_or("");
        if field.required && given.is_empty() {
            problems.push((
                format!("/fields/{}", field.name),
                format!(
                    "The form of {} asks for {} ({}).",
                    kind.code, field.label, field.name
                ),
            ));
        }
    }
    for (name, value) in &request.fields {
        if !kind.fields.iter().any(|f| &f.name == name) {
            problems.push((
                format!("/fields/{name}"),
                format!("The form of {} has no field {name}.", kind.code),
            ));
        } else if value.len() > MAX_TEXT {
            problems.push((
                format!("/fields/{name}"),
                format!("At most {MAX_TEXT} characters."),
            ));
        }
    }
    match (&kind.balance_unit, request.quantity, &request.unit) {
        (Some(unit), Some(quantity), Some(given)) if given == unit => {
            if quantity <= Decimal::ZERO {
                problems.push((
                    "/quantity".into(),
                    "The quantity must be more than zero.".into(),
                ));
            }
        }
        (Some(unit), _, _) => problems.push((
            "/quantity".into(),
            format!(
                "A {} keeps a balance in {unit}: give the quantity asked for, with unit {unit}.",
                kind.code
            ),
        )),
        (None, None, None) => {}
        (None, _, _) => problems.push((
            "/quantity".into(),
            format!("A {} keeps no balance: give no quantity.", kind.code),
        )),
    }
    if request.documents.len() > MAX_ITEMS {
        problems.push((
            "/documents".into(),
            format!("At most {MAX_ITEMS} documents."),
        ));
    }
    problems
}

/// Why a decision cannot be taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refused {
    /// The application is approved or rejected already.
    Closed(Status),
    /// The decision's content is wrong: (JSON pointer, sentence).
    Invalid(String, String),
}

/// The agency's decision on `application` (of type `kind`), on `today`: the application's new status and, for an
/// approval, the document issued under `reference`.
pub fn decide(
    application: &Application,
    kind: &LpcoType,
    request: &DecisionRequest,
    reference: &str,
    today: Date,
) -> Result<(Status, Option<Licence>), Refused> {
    if !application.status.is_open() {
        return Err(Refused::Closed(application.status));
    }
    let text_ok =
        |list: &[String]| list.len() <= MAX_ITEMS && list.iter().all(|t| t.len() <= MAX_TEXT);
    if !text_ok(&request.reasons) || !text_ok(&request.conditions) {
        return Err(Refused::Invalid(
            "/reasons".into(),
            format!("At most {MAX_ITEMS} reasons or conditions of {MAX_TEXT} characters each."),
        ));
    }
    let needs_reasons = matches!(
        request.decision,
        Verdict::Reject | Verdict::RequestInformation | Verdict::JointInspection
    );
    if needs_reasons && request.reasons.iter().all(|r| r.trim().is_empty()) {
        return Err(Refused::Invalid(
            "/reasons".into(),
            "Give the reasons: the trader is told them.".into(),
        ));
    }
    if request.decision == Verdict::ApproveWithConditions && request.conditions.is_empty() {
        return Err(Refused::Invalid(
            "/conditions".into(),
            "An approval with conditions names its conditions.".into(),
        ));
    }
    match request.decision {
        Verdict::Reject => Ok((Status::Rejected, None)),
        Verdict::RequestInformation => Ok((Status::InformationRequested, None)),
        Verdict::JointInspection => Ok((Status::JointInspection, None)),
        Verdict::Approve | Verdict::ApproveWithConditions => {
            let asked = application.request.quantity;
            let granted = match (request.quantity, asked) {
                (Some(q), Some(a)) if q > Decimal::ZERO && q <= a => Some(q),
                (Some(_), _) => {
                    return Err(Refused::Invalid(
                        "/quantity".into(),
                        "The quantity granted is more than zero and at most what was asked for."
                            .into(),
                    ));
                }
                (None, asked) => asked,
            };
            let valid_from = request.valid_from.unwrap_or(today);
            if valid_from < today {
                return Err(Refused::Invalid(
                    "/valid_from".into(),
                    "A document is not issued in force from a day already past.".into(),
                ));
            }
            let valid_to = valid_from
                .checked_add(Duration::days(i64::from(kind.validity_days) - 1))
                .ok_or_else(|| {
                    Refused::Invalid("/valid_from".into(), "The date is too far.".into())
                })?;
            Ok((
                Status::Approved,
                Some(Licence {
                    reference: reference.to_owned(),
                    code: kind.code.clone(),
                    agency: kind.agency.clone(),
                    holder: application.applicant.clone(),
                    commodity_prefix: application.request.commodity.as_str().to_owned(),
                    origin: application.request.origin.clone(),
                    valid_from,
                    valid_to,
                    unit: kind.balance_unit.clone(),
                    granted,
                    drawn: Decimal::ZERO,
                    uses: kind.uses,
                    used_by: 0,
                    standing: Standing::InForce,
                    conditions: request.conditions.clone(),
                }),
            ))
        }
    }
}
