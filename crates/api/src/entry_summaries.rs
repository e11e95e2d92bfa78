//! Entry summary declarations (issue 20): a carrier lodges the ICS CC315A before loading or arrival, as XML or as
//! its JSON twin (`entry_summary::json`); it is
//! read within limits, checked against the ICS schema and business rules (crate `entry-summary`) and accepted
//! with an MRN, or refused with every error — Aduana's code and sentence, the ICS error number of a business
//! rule and its location in HMRC's form (`/ie:CC315A[1]/GOOITEGDS[1]`). An amendment (CC313A, its MRN in
//! HEAHEA/DocNumHEA5) sent to the same route is the next version of that MRN, by the same lodging party. Nothing is
//! stored from a refused message. A carrier sees its own; officers, analysts and auditors all.

use crate::access::audit_actor;
use crate::cargo::own_party;
use crate::error::ApiError;
use crate::request::{media_type, now, read_body};
use crate::{AppState, Caller};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, body::Body};
use entry_summary::{Kind, Message};
use error_table::{ErrorCode, Problem};
use serde::{Deserialize, Serialize};
use storage::{EntrySummaryRefusal, EntrySummaryRow, NewEntrySummary};

/// One version as the API shows it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct EntrySummaryVersion {
    pub mrn: String,
    pub version: i64,
    /// `declaration` (CC315A) or `amendment` (CC313A).
    pub kind: String,
    pub lodged_by_party: String,
    pub reference: String,
    pub goods_items: i64,
    /// `xml`, or `json` for the JSON twin: the form it was received in and is kept in.
    pub format: String,
    pub first_entry_office: Option<String>,
    pub expected_arrival: Option<String>,
    pub sha256: String,
    pub received_at: String,
    /// The referrals the risk rules opened on this version at lodgement (request for information, high-risk cargo
    /// screening, do-not-load), each with its reason; empty when listed and when none was asked.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub referrals: Vec<Referral>,
}

fn version_of(row: &EntrySummaryRow) -> EntrySummaryVersion {
    EntrySummaryVersion {
        mrn: row.mrn.clone(),
        version: row.version,
        kind: row.kind.clone(),
        lodged_by_party: row.lodged_by_party.clone(),
        reference: row.reference.clone(),
        goods_items: row.goods_items,
        format: row.format.clone(),
        first_entry_office: row.first_entry_office.clone(),
        expected_arrival: row.expected_arrival.clone(),
        sha256: row.sha256.clone(),
        received_at: row.received_at.clone(),
        referrals: row.referrals_opened.iter().map(referral_of).collect(),
    }
}

fn text(message: &Message, path: &[&str]) -> Option<String> {
    let mut node = &message.root;
    for step in path {
        node = node.child(step)?;
    }
    Some(node.text.clone()).filter(|t| !t.is_empty())
}

/// `POST /api/v1/entry-summaries`.
#[utoipa::path(
    post,
    path = "/api/v1/entry-summaries",
    tag = "pre-arrival",
    summary = "Lodge an entry summary declaration (CC315A) or amend one (CC313A)",
    description = "The ICS message as XML, or as its JSON twin (`{\"CC315A\": {…}}`: each element its name as key, a value a string, a group an object, an element the schema lets repeat an array; JSON pointers in reading errors). Read within limits (no DTD or entities), checked against the ICS schema (`entry_summary.schema`, each departure at its place) and business rules (`entry_summary.rule`, each with its ICS error `number` and `pointer` in HMRC's form, e.g. `/ie:CC315A[1]/GOOITEGDS[1]`). A CC315A accepted is given an MRN (201); a CC313A names the MRN it amends in HEAHEA/DocNumHEA5 and becomes its next version (200). The person lodging (PERLODSUMDEC/TINPLD1) is the caller's party. Nothing is stored from a refused message. An accepted version is screened by the consignment rules of the risk rules in force (`then request_for_information`, `then high_risk_cargo_screening`, `then do_not_load`, over consignor, consignee, notify party, route, place of loading, containers, transport documents, goods description words, HS code and dangerous goods code) and the learned model when one is in use: each referral asked is opened in the same transaction, sent to the carrier and returned in `referrals` (a kind already standing on the MRN is not opened twice). Traders (carriers); scope `declarations:write`.",
    request_body(content((String = "application/xml"), (serde_json::Value = "application/json"))),
    responses((status = 201, description = "Accepted with its MRN", body = crate::entry_summaries::EntrySummaryVersion), (status = 200, description = "Amendment accepted as the next version", body = crate::entry_summaries::EntrySummaryVersion), (status = 400, description = "Not well-formed XML, a DTD, too deep or too large", body = crate::error::ErrorBody), (status = 403, description = "The person lodging is not the caller's party", body = crate::error::ErrorBody), (status = 404, description = "An amendment of an MRN that is not the caller's (entry_summary.unknown)", body = crate::error::ErrorBody), (status = 409, description = "The reference was used before (entry_summary.duplicate)", body = crate::error::ErrorBody), (status = 415, description = "Not application/xml", body = crate::error::ErrorBody), (status = 422, description = "Refused: every error with its code, number and pointer", body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn lodge(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let format = match media_type(&headers).as_str() {
        "application/xml" | "text/xml" => "xml",
        "application/json" => "json",
        _ => {
            return Err(ApiError::with_message(
                ErrorCode::UnsupportedMediaType,
                "Send the entry summary declaration as application/xml (ICS CC315A or CC313A) or as its JSON twin (application/json).",
            ));
        }
    };
    let bytes = read_body(&state, body).await?;
    let limits = entry_summary::Limits {
        max_bytes: state.config.max_body_bytes,
        ..entry_summary::Limits::default()
    };
    let message = if format == "json" {
        entry_summary::judge_json(&bytes, &limits)
    } else {
        entry_summary::judge(&bytes, &limits)
    }
    .map_err(ApiError::problems)?;
    let lodger = text(&message, &["PERLODSUMDEC", "TINPLD1"]).unwrap_or_default();
    if own_party(&caller) != Some(lodger.as_str()) {
        return Err(ApiError::with_message(
            ErrorCode::Forbidden,
            format!(
                "You act for {}, not for the person lodging this declaration ({lodger}).",
                caller.user.party.as_deref().unwrap_or("no party")
            ),
        ));
    }
    let document =
        String::from_utf8(bytes.to_vec()).map_err(|_| ApiError::new(ErrorCode::NotUtf8))?;
    // Safety and security risk before loading or arrival: the consignment rules (and the model) in force today.
    let screening = state
        .pipeline()
        .screen_consignment(entry_summary::screening::facts(&message), now().date());
    let new = NewEntrySummary {
        kind: match message.kind {
            Kind::Declaration => "declaration",
            Kind::Amendment => "amendment",
        }
        .to_owned(),
        lodged_by_party: lodger,
        reference: text(&message, &["HEAHEA", "RefNumHEA4"]).unwrap_or_default(),
        goods_items: message.root.all("GOOITEGDS").count() as i64,
        format: format.to_owned(),
        first_entry_office: text(&message, &["CUSOFFFENT730", "RefNumCUSOFFFENT731"]),
        expected_arrival: text(&message, &["CUSOFFFENT730", "ExpDatOfArrFIRENT733"]),
        references: entry_summary::referral::references(&message),
        screening: screening
            .referrals
            .into_iter()
            .map(|(kind, reason)| (kind.as_str().to_owned(), reason))
            .collect(),
        document,
    };
    let actor = audit_actor(&caller);
    match message.kind {
        Kind::Declaration => {
            let reference = new.reference.clone();
            let (year, country) = {
                let pipeline = state.pipeline();
                (now().year(), pipeline.administration.country.clone())
            };
            // 'S' for summary: an entry summary's MRN never equals a declaration's.
            let mrn_of =
                move |serial: u64| declaration::Mrn::issue(year, &country, serial, 'S').to_string();
            match state
                .store
                .lodge_entry_summary(&actor, new, mrn_of, now())
                .await?
            {
                Ok(row) => Ok((StatusCode::CREATED, Json(version_of(&row))).into_response()),
                Err(EntrySummaryRefusal::Duplicate { mrn }) => Err(ApiError::with_message(
                    ErrorCode::EntrySummaryDuplicate,
                    format!(
                        "You already lodged an entry summary declaration with the reference {reference:?} (MRN {mrn}); amend it with a CC313A naming that MRN."
                    ),
                )),
                Err(EntrySummaryRefusal::Unknown) => {
                    Err(ApiError::new(ErrorCode::EntrySummaryUnknown))
                }
            }
        }
        Kind::Amendment => {
            let mrn = text(&message, &["HEAHEA", "DocNumHEA5"]).unwrap_or_default();
            match state
                .store
                .amend_entry_summary(&actor, &mrn, new, now())
                .await?
            {
                Ok(row) => Ok((StatusCode::OK, Json(version_of(&row))).into_response()),
                Err(_) => Err(ApiError::problems(vec![Problem::with_message(
                    ErrorCode::EntrySummaryUnknown,
                    "/ie:CC313A[1]/HEAHEA[1]/DocNumHEA5[1]",
                    format!("No entry summary declaration of yours has the MRN {mrn:?}."),
                )])),
            }
        }
    }
}

/// An entry summary declaration with its versions.
#[derive(Serialize, utoipa::ToSchema)]
pub struct EntrySummary {
    pub mrn: String,
    /// Every version, oldest first; the last is in force.
    pub versions: Vec<EntrySummaryVersion>,
    /// What customs asked of the carrier about this consignment, oldest first.
    pub referrals: Vec<Referral>,
}

/// `GET /api/v1/entry-summaries/{mrn}`.
#[utoipa::path(
    get,
    path = "/api/v1/entry-summaries/{mrn}",
    tag = "pre-arrival",
    summary = "An entry summary declaration and its versions",
    description = "Every version (the declaration, then each amendment) with its kind, reference, counts, office of first entry, expected arrival and SHA-256 of the message kept. A carrier reads its own; officers, analysts and auditors any.",
    params(("mrn" = String, Path)),
    responses((status = 200, description = "The declaration", body = crate::entry_summaries::EntrySummary), (status = 404, description = "No such MRN, or not the caller's (entry_summary.unknown)", body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn show(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(mrn): Path<String>,
) -> Result<Json<EntrySummary>, ApiError> {
    let versions = state.store.entry_summary_versions(&mrn).await?;
    let visible = versions.first().is_some_and(|first| {
        caller.role != crate::policy::Role::Trader
            || own_party(&caller) == Some(first.lodged_by_party.as_str())
    });
    if !visible {
        return Err(ApiError::new(ErrorCode::EntrySummaryUnknown));
    }
    let referrals = state.store.referrals(Some(&mrn), None, None, 1000).await?;
    Ok(Json(EntrySummary {
        versions: versions.iter().map(version_of).collect(),
        referrals: referrals.iter().map(referral_of).collect(),
        mrn,
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// At most this many (1 to 1000; 50 when absent).
    limit: Option<i64>,
    /// Only the entry summaries whose consignment this names: its UCR, a goods item's commercial reference or
    /// document (each MRN once, its first version, oldest first).
    reference: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EntrySummaries {
    /// The versions received, newest first.
    pub entry_summaries: Vec<EntrySummaryVersion>,
}

/// `GET /api/v1/entry-summaries`.
#[utoipa::path(
    get,
    path = "/api/v1/entry-summaries",
    tag = "pre-arrival",
    summary = "Entry summary declarations received",
    description = "The versions received, newest first: a carrier's own, or all for officers, analysts and auditors. With `reference`, the entry summaries whose consignment it names (the UCR, a goods item's commercial reference or document): each MRN once, its first version, oldest first.",
    params(ListQuery),
    responses((status = 200, description = "The list", body = crate::entry_summaries::EntrySummaries), (status = 400, description = "A query parameter is invalid.", body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<ListQuery>,
) -> Result<Json<EntrySummaries>, ApiError> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::with_message(
            ErrorCode::InvalidQuery,
            "limit: ask for 1 to 1000 entry summary declarations.",
        ));
    }
    let party = match caller.role {
        crate::policy::Role::Trader => Some(own_party(&caller).unwrap_or("")),
        _ => None,
    };
    let rows = match query.reference.as_deref().map(str::trim) {
        Some(reference) if !reference.is_empty() => {
            state
                .store
                .entry_summaries_naming(reference, party, limit)
                .await?
        }
        _ => state.store.entry_summaries(party, limit).await?,
    };
    Ok(Json(EntrySummaries {
        entry_summaries: rows.iter().map(version_of).collect(),
    }))
}

// ----- referrals ------------------------------------------------------------------------------------------------

/// A referral as the API shows it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Referral {
    pub id: String,
    pub mrn: String,
    /// `request_for_information`, `high_risk_cargo_screening` or `do_not_load`.
    pub kind: String,
    pub reason: String,
    /// `open`, `answered` or `closed`.
    pub status: String,
    /// The carrier it is sent to (the party that lodged the entry summary).
    pub carrier: String,
    /// True when the risk rules (or the model) asked it at lodgement; false when an officer or analyst opened it.
    pub opened_by_rules: bool,
    pub opened_at: String,
    pub answer: Option<String>,
    pub answered_at: Option<String>,
    pub closed_at: Option<String>,
    pub closing_note: Option<String>,
}

fn referral_of(row: &storage::ReferralRow) -> Referral {
    Referral {
        id: row.id.clone(),
        mrn: row.mrn.clone(),
        kind: row.kind.clone(),
        reason: row.reason.clone(),
        status: row.status.clone(),
        carrier: row.lodged_by_party.clone(),
        opened_by_rules: row.opened_by == storage::screened_by().id,
        opened_at: row.opened_at.clone(),
        answer: row.answer.clone(),
        answered_at: row.answered_at.clone(),
        closed_at: row.closed_at.clone(),
        closing_note: row.closing_note.clone(),
    }
}

/// The longest reason, answer or closing note kept.
const MAX_TEXT: usize = 4000;

fn text_field(value: &str, field: &str, what: &str) -> Result<String, ApiError> {
    let text = value.trim();
    if text.is_empty() || text.chars().count() > MAX_TEXT {
        return Err(ApiError::problems(vec![Problem::with_message(
            ErrorCode::InvalidRequest,
            format!("/{field}"),
            format!("Give the {what}: 1 to {MAX_TEXT} characters."),
        )]));
    }
    Ok(text.to_owned())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferralRequest {
    /// `request_for_information`, `high_risk_cargo_screening` or `do_not_load`.
    pub kind: String,
    /// What customs asks, or why the consignment is not to be loaded (sent to the carrier).
    pub reason: String,
}

/// `POST /api/v1/entry-summaries/{mrn}/referrals`.
#[utoipa::path(
    post,
    path = "/api/v1/entry-summaries/{mrn}/referrals",
    tag = "pre-arrival",
    summary = "Refer a consignment to its carrier",
    description = "A request for information, a request for high-risk cargo screening, or do-not-load, with its reason: sent to the carrier (its referrals list), audited. While a do-not-load stands, no declaration naming the consignment's references (its UCR, the goods items' commercial references and documents) is accepted (`entry_summary.do_not_load`). Officers and risk analysts.",
    params(("mrn" = String, Path)),
    request_body = crate::entry_summaries::ReferralRequest,
    responses((status = 201, description = "Opened", body = crate::entry_summaries::Referral), (status = 404, description = "No such MRN (entry_summary.unknown)", body = crate::error::ErrorBody), (status = 422, description = "A field is wrong", body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn refer(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(mrn): Path<String>,
    body: Body,
) -> Result<Response, ApiError> {
    let request: ReferralRequest = crate::request::parse_json(&read_body(&state, body).await?)?;
    let Some(kind) = entry_summary::referral::Kind::parse(&request.kind) else {
        return Err(ApiError::problems(vec![Problem::with_message(
            ErrorCode::InvalidRequest,
            "/kind",
            "The kind is request_for_information, high_risk_cargo_screening or do_not_load.",
        )]));
    };
    let reason = text_field(&request.reason, "reason", "reason")?;
    match state
        .store
        .open_referral(&audit_actor(&caller), &mrn, kind.as_str(), &reason, now())
        .await?
    {
        Some(row) => Ok((StatusCode::CREATED, Json(referral_of(&row))).into_response()),
        None => Err(ApiError::new(ErrorCode::EntrySummaryUnknown)),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ReferralsQuery {
    /// Only this entry summary's.
    mrn: Option<String>,
    /// Only those in this status: open, answered, closed.
    status: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Referrals {
    /// Oldest first.
    pub referrals: Vec<Referral>,
}

/// `GET /api/v1/referrals`.
#[utoipa::path(
    get,
    path = "/api/v1/referrals",
    tag = "pre-arrival",
    summary = "Referrals of consignments",
    description = "Oldest first, at most 1,000: a carrier's own (what customs asks of it), or all for officers, analysts and auditors; `mrn` and `status` narrow them.",
    params(ReferralsQuery),
    responses((status = 200, description = "The list", body = crate::entry_summaries::Referrals), (status = 400, description = "A query parameter is invalid.", body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn referrals(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<ReferralsQuery>,
) -> Result<Json<Referrals>, ApiError> {
    if let Some(status) = &query.status
        && entry_summary::referral::Status::parse(status).is_none()
    {
        return Err(ApiError::with_message(
            ErrorCode::InvalidQuery,
            "status: open, answered or closed.",
        ));
    }
    let party = match caller.role {
        crate::policy::Role::Trader => Some(own_party(&caller).unwrap_or("")),
        _ => None,
    };
    let rows = state
        .store
        .referrals(query.mrn.as_deref(), party, query.status.as_deref(), 1000)
        .await?;
    Ok(Json(Referrals {
        referrals: rows.iter().map(referral_of).collect(),
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferralAnswer {
    /// The carrier's answer: the information asked for, the screening's result, what was done.
    pub answer: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferralClosure {
    /// Why customs closes it (for a do-not-load: why it is lifted).
    pub note: String,
}

/// Applies one step of a referral's lifecycle (`entry_summary::referral::next`), in the store's transaction.
async fn step(
    state: &AppState,
    caller: &Caller,
    id: &str,
    step: entry_summary::referral::Step,
    text: String,
) -> Result<Json<Referral>, ApiError> {
    let carrier = own_party(caller).map(str::to_owned);
    let outcome = state
        .store
        .step_referral(
            &audit_actor(caller),
            id,
            |current| {
                if step == entry_summary::referral::Step::Answer
                    && carrier.as_deref() != Some(current.lodged_by_party.as_str())
                {
                    return Err(String::new());
                }
                let status = entry_summary::referral::Status::parse(&current.status)
                    .ok_or_else(|| "The referral's status cannot be read.".to_owned())?;
                let next = entry_summary::referral::next(status, step)?;
                Ok(match step {
                    entry_summary::referral::Step::Answer => storage::ReferralChange::Answered {
                        status: next.as_str().to_owned(),
                        answer: text,
                    },
                    entry_summary::referral::Step::Close => storage::ReferralChange::Closed {
                        status: next.as_str().to_owned(),
                        note: text,
                    },
                })
            },
            now(),
        )
        .await?;
    match outcome {
        Some(Ok(row)) => Ok(Json(referral_of(&row))),
        // Not the carrier's: as if it did not exist.
        Some(Err(message)) if message.is_empty() => Err(ApiError::new(ErrorCode::ReferralUnknown)),
        Some(Err(message)) => Err(ApiError::with_message(
            ErrorCode::ReferralStepRefused,
            message,
        )),
        None => Err(ApiError::new(ErrorCode::ReferralUnknown)),
    }
}

/// `POST /api/v1/referrals/{id}/answer`.
#[utoipa::path(
    post,
    path = "/api/v1/referrals/{id}/answer",
    tag = "pre-arrival",
    summary = "Answer a referral (the carrier)",
    description = "Once, while the referral is open; audited. The carrier that lodged the entry summary only (another gets `referral.unknown`).",
    params(("id" = String, Path)),
    request_body = crate::entry_summaries::ReferralAnswer,
    responses((status = 200, description = "Answered", body = crate::entry_summaries::Referral), (status = 404, description = "No such referral of the caller's (referral.unknown)", body = crate::error::ErrorBody), (status = 409, description = "Answered or closed already (referral.step_refused)", body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn answer(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Body,
) -> Result<Json<Referral>, ApiError> {
    // Another carrier's referral is as if it did not exist, whatever the body says.
    let theirs = state
        .store
        .referral(&id)
        .await?
        .is_some_and(|r| own_party(&caller) == Some(r.lodged_by_party.as_str()));
    if !theirs {
        return Err(ApiError::new(ErrorCode::ReferralUnknown));
    }
    let request: ReferralAnswer = crate::request::parse_json(&read_body(&state, body).await?)?;
    let text = text_field(&request.answer, "answer", "answer")?;
    step(
        &state,
        &caller,
        &id,
        entry_summary::referral::Step::Answer,
        text,
    )
    .await
}

/// `POST /api/v1/referrals/{id}/closure`.
#[utoipa::path(
    post,
    path = "/api/v1/referrals/{id}/closure",
    tag = "pre-arrival",
    summary = "Close a referral (a do-not-load is lifted)",
    description = "Answered or not, with a note; audited. A closed do-not-load no longer stops the consignment's declarations. Officers.",
    params(("id" = String, Path)),
    request_body = crate::entry_summaries::ReferralClosure,
    responses((status = 200, description = "Closed", body = crate::entry_summaries::Referral), (status = 404, description = "No such referral (referral.unknown)", body = crate::error::ErrorBody), (status = 409, description = "Closed already (referral.step_refused)", body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn close(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Body,
) -> Result<Json<Referral>, ApiError> {
    let request: ReferralClosure = crate::request::parse_json(&read_body(&state, body).await?)?;
    let text = text_field(&request.note, "note", "closing note")?;
    step(
        &state,
        &caller,
        &id,
        entry_summary::referral::Step::Close,
        text,
    )
    .await
}

/// The do-not-load standing on a consignment `references` name, as the refusal of a declaration naming it.
pub(crate) async fn do_not_load(state: &AppState, references: &[String]) -> Result<(), ApiError> {
    match state.store.standing_do_not_load(references).await? {
        None => Ok(()),
        Some((mrn, id)) => Err(ApiError::with_message(
            ErrorCode::DoNotLoad,
            format!(
                "Customs ordered the consignment of entry summary {mrn} not to be loaded (referral {id}); this declaration names it and is refused until the order is lifted."
            ),
        )),
    }
}
