//! The Single Window over HTTP (docs/single-window.md): the agency registry and the LPCO types each agency issues
//! (public to read; the administration registers agencies, an agency keeps its own types), applications by
//! traders, an agency's queue and decisions, the documents issued, and the feed of events an agency reads.
//!
//! Who sees what is decided on the data: a trader its own applications and documents; an agency officer (the
//! user's party is the agency's code) only its agency's; officers and auditors all.

use crate::error::ApiError;
use crate::policy::Role;
use crate::request::{invalid, now, parse_json, query_error, read_body};
use crate::{AppState, Caller};
use axum::Extension;
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use error_table::{ErrorCode, Problem};
use lpco::application::{Application, DecisionRequest, Refused, Request, Status};
use lpco::{Agency, AgencyCode, DocumentCode, Licence, LpcoType};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use storage::ApplicationDecided;

/// The agency an agency officer acts for (its code is the user's party).
pub(crate) fn agency_of(caller: &Caller) -> Result<AgencyCode, ApiError> {
    caller
        .user
        .party
        .as_deref()
        .and_then(|p| AgencyCode::parse(p).ok())
        .ok_or_else(|| {
            ApiError::with_message(
                ErrorCode::Forbidden,
                "Your user names no agency: the administration gives agency officers their agency's code as party.",
            )
        })
}

fn not_found(what: &str) -> ApiError {
    ApiError::with_message(
        ErrorCode::NotFound,
        format!("No {what} visible to you has this reference."),
    )
}

/// The registry: every agency with the document types it issues.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Registry {
    agencies: Vec<AgencyView>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AgencyView {
    #[serde(flatten)]
    agency: Agency,
    documents: Vec<LpcoType>,
}

/// `GET /api/v1/agencies`: the partner agencies and the documents each issues.
#[utoipa::path(
    get,
    path = "/api/v1/agencies",
    tag = "single-window",
    summary = "The partner agencies and their documents",
    description = "Every partner agency of the Single Window with the licences, permits, certificates and other documents it issues: the code traders cite in DE 2/3, the application form's fields, validity, balance unit, single or multiple use, and what each DE 2/3 status code means. Public.",
    responses((status = 200, description = "The registry", body = crate::single_window::Registry))
)]
pub async fn agencies(State(state): State<AppState>) -> Result<Json<Registry>, ApiError> {
    let types = state.store.lpco_types().await?;
    let agencies = state
        .store
        .agencies()
        .await?
        .into_iter()
        .map(|agency| AgencyView {
            documents: types
                .iter()
                .filter(|t| t.agency == agency.code)
                .cloned()
                .collect(),
            agency,
        })
        .collect();
    Ok(Json(Registry { agencies }))
}

/// An agency as the administration registers it.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgencyBody {
    pub name: String,
    #[serde(default)]
    pub contact: Option<String>,
    #[serde(default)]
    pub delivery: lpco::Delivery,
    /// With a webhook: the key its posts are signed with (HMAC-SHA256, at least 32 characters). Needed the first
    /// time; kept, and never shown again.
    #[serde(default)]
    pub webhook_secret: Option<String>,
}

/// Least length of a webhook key.
pub const MIN_WEBHOOK_SECRET: usize = 32;

/// Checks an agency's texts.
pub fn check_agency(agency: &Agency) -> Vec<Problem> {
    let mut problems = Vec::new();
    if agency.name.trim().is_empty() || agency.name.len() > 200 {
        problems.push(Problem::with_message(
            ErrorCode::AgencyInvalid,
            "/name",
            "An agency has a name (at most 200 characters).",
        ));
    }
    if agency.contact.as_ref().is_some_and(|c| c.len() > 500) {
        problems.push(Problem::with_message(
            ErrorCode::AgencyInvalid,
            "/contact",
            "A contact is at most 500 characters.",
        ));
    }
    if let lpco::Delivery::Webhook { url } = &agency.delivery
        && !(url.starts_with("https://") || url.starts_with("http://"))
    {
        problems.push(Problem::with_message(
            ErrorCode::AgencyInvalid,
            "/delivery/url",
            "A webhook is an http:// or https:// address.",
        ));
    }
    problems
}

/// `PUT /api/v1/agencies/{code}`: registers an agency, or changes it.
#[utoipa::path(
    put,
    path = "/api/v1/agencies/{code}",
    tag = "single-window",
    summary = "Register or change a partner agency",
    description = "The agency's code (2 to 16 capital letters, digits or hyphens: its officers' party), name, contact and how it receives events. Administrators; scope `administration`. Audited.",
    params(("code" = String, Path)),
    request_body = crate::single_window::AgencyBody,
    responses((status = 200, description = "Saved", body = lpco::Agency), (status = 422, description = "A field is wrong (agency.invalid)", body = crate::error::ErrorBody))
)]
pub async fn put_agency(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(code): Path<String>,
    body: Body,
) -> Result<Json<Agency>, ApiError> {
    let code = AgencyCode::parse(&code).map_err(|m| {
        ApiError::problems(vec![Problem::with_message(
            ErrorCode::AgencyInvalid,
            "/code",
            m,
        )])
    })?;
    let body: AgencyBody = parse_json(&read_body(&state, body).await?)?;
    let agency = Agency {
        code,
        name: body.name.trim().to_owned(),
        contact: body.contact,
        delivery: body.delivery,
    };
    let mut problems = check_agency(&agency);
    let secret = body.webhook_secret.filter(|s| !s.is_empty());
    if secret
        .as_ref()
        .is_some_and(|s| s.len() < MIN_WEBHOOK_SECRET || s.len() > 256)
    {
        problems.push(Problem::with_message(
            ErrorCode::AgencyInvalid,
            "/webhook_secret",
            format!("A webhook key has {MIN_WEBHOOK_SECRET} to 256 characters."),
        ));
    }
    if matches!(agency.delivery, lpco::Delivery::Webhook { .. })
        && secret.is_none()
        && state
            .store
            .agency_secret(agency.code.as_str())
            .await?
            .is_none()
    {
        problems.push(Problem::with_message(
            ErrorCode::AgencyInvalid,
            "/webhook_secret",
            "A webhook needs the key its posts are signed with.",
        ));
    }
    if !problems.is_empty() {
        return Err(ApiError::problems(problems));
    }
    state
        .store
        .save_agency(
            &crate::access::audit_actor(&caller),
            &agency,
            secret.as_deref(),
            now(),
        )
        .await?;
    Ok(Json(agency))
}

/// An LPCO type as its agency keeps it (the code is the address's).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LpcoTypeBody {
    /// The agency that issues it (an agency officer may name only its own).
    pub agency: AgencyCode,
    pub kind: lpco::Kind,
    pub title: String,
    #[serde(default)]
    pub fields: Vec<lpco::register::Field>,
    pub validity_days: u32,
    #[serde(default)]
    pub balance_unit: Option<String>,
    #[serde(default)]
    pub uses: lpco::Uses,
    /// What the DE 2/3 status codes mean; default: the UK CDS reading.
    #[serde(default)]
    pub statuses: Option<lpco::Statuses>,
    /// What a declaration lacking it, where a requirement asks for it, gets: `refuse` (default) or `hold` (release
    /// waits for the agency's decision on the consignment).
    #[serde(default)]
    pub when_missing: lpco::WhenMissing,
}

/// `PUT /api/v1/lpco/types/{code}`: an agency's document type.
#[utoipa::path(
    put,
    path = "/api/v1/lpco/types/{code}",
    tag = "single-window",
    summary = "Save a licence, permit or certificate type",
    description = "The type of document an agency issues under a DE 2/3 code (e.g. `C640`): kind, title, the application form's fields, days in force, balance unit, single or multiple use, and what each status code means. Administrators, or the agency's own officers; scope `lpco`. A code stays with the agency that first saved it. Audited.",
    params(("code" = String, Path)),
    request_body = crate::single_window::LpcoTypeBody,
    responses((status = 200, description = "Saved", body = lpco::LpcoType), (status = 403, description = "Another agency's type (lpco.other_agency)", body = crate::error::ErrorBody), (status = 422, description = "A field is wrong (agency.invalid, agency.unknown)", body = crate::error::ErrorBody))
)]
pub async fn put_lpco_type(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(code): Path<String>,
    body: Body,
) -> Result<Json<LpcoType>, ApiError> {
    let code = DocumentCode::parse(&code).map_err(|m| {
        ApiError::problems(vec![Problem::with_message(
            ErrorCode::AgencyInvalid,
            "/code",
            m,
        )])
    })?;
    let body: LpcoTypeBody = parse_json(&read_body(&state, body).await?)?;
    if caller.role == Role::Agency && agency_of(&caller)? != body.agency {
        return Err(ApiError::new(ErrorCode::LpcoOtherAgency));
    }
    if state.store.agency(body.agency.as_str()).await?.is_none() {
        return Err(ApiError::problems(vec![Problem::with_message(
            ErrorCode::AgencyUnknown,
            "/agency",
            format!(
                "No agency has the code {}: the administration registers it first (aduana agencies add).",
                body.agency
            ),
        )]));
    }
    let kind = LpcoType {
        code,
        agency: body.agency,
        kind: body.kind,
        title: body.title.trim().to_owned(),
        fields: body.fields,
        validity_days: body.validity_days,
        balance_unit: body.balance_unit,
        uses: body.uses,
        statuses: body.statuses.unwrap_or_else(lpco::Statuses::uk),
        when_missing: body.when_missing,
    };
    let problems: Vec<Problem> = kind
        .problems()
        .into_iter()
        .map(|(field, message)| {
            Problem::with_message(ErrorCode::AgencyInvalid, format!("/{field}"), message)
        })
        .collect();
    if !problems.is_empty() {
        return Err(ApiError::problems(problems));
    }
    match state
        .store
        .save_lpco_type(&crate::access::audit_actor(&caller), &kind, now())
        .await?
    {
        Ok(()) => Ok(Json(kind)),
        Err(message) => Err(ApiError::with_message(ErrorCode::LpcoOtherAgency, message)),
    }
}

/// `POST /api/v1/lpco/applications`: a trader applies for a document.
#[utoipa::path(
    post,
    path = "/api/v1/lpco/applications",
    tag = "single-window",
    summary = "Apply for a licence, permit or certificate",
    description = "The document code, the goods (commodity, origin), the quantity asked for in the type's balance unit, the form's fields and attached documents. The application goes to the agency that issues the code (its queue and feed). Traders, for their own party; scope `lpco`.",
    request_body = lpco::application::Request,
    responses((status = 201, description = "Filed", body = lpco::application::Application), (status = 422, description = "An unknown document code (lpco.unknown_type) or a field the form lacks or needs (request.invalid)", body = crate::error::ErrorBody))
)]
pub async fn apply(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Body,
) -> Result<(StatusCode, Json<Application>), ApiError> {
    let request: Request = parse_json(&read_body(&state, body).await?)?;
    let application = file(&state, &caller, request).await?;
    Ok((StatusCode::CREATED, Json(application)))
}

/// Files a trader's application: checked against its type's form and its attachments, stored with its event.
pub(crate) async fn file(
    state: &AppState,
    caller: &Caller,
    request: Request,
) -> Result<Application, ApiError> {
    let Some(kind) = state
        .store
        .lpco_type(request.document_code.as_str())
        .await?
    else {
        return Err(ApiError::problems(vec![Problem::with_message(
            ErrorCode::LpcoUnknownType,
            "/document_code",
            format!(
                "No partner agency issues documents of code {}: GET /api/v1/agencies lists those that exist.",
                request.document_code
            ),
        )]));
    };
    let problems: Vec<Problem> = lpco::application::check(&request, &kind)
        .into_iter()
        .map(|(pointer, message)| {
            Problem::with_message(ErrorCode::InvalidRequest, pointer, message)
        })
        .collect();
    if !problems.is_empty() {
        return Err(ApiError::problems(problems));
    }
    let applicant = caller
        .user
        .party
        .as_deref()
        .and_then(|p| declaration::PartyId::parse(p).ok())
        .ok_or_else(|| {
            ApiError::with_message(
                ErrorCode::Forbidden,
                "Your user names no party to apply for.",
            )
        })?;
    // Attachments are documents this party uploaded.
    let mut missing = Vec::new();
    for (at, sha256) in request.documents.iter().enumerate() {
        if !state
            .store
            .document_owned_by(sha256, applicant.as_str())
            .await?
        {
            missing.push(Problem::with_message(
                ErrorCode::DocumentUnknown,
                format!("/documents/{at}"),
                format!("You uploaded no document with SHA-256 {sha256}: POST it to /api/v1/documents first."),
            ));
        }
    }
    if !missing.is_empty() {
        return Err(ApiError::problems(missing));
    }
    let at = now();
    let application = Application {
        id: uuid::Uuid::now_v7().to_string(),
        agency: kind.agency.clone(),
        applicant,
        request,
        status: Status::Filed,
        filed_at: storage::format_time(at),
        decisions: Vec::new(),
    };
    state
        .store
        .file_application(&crate::access::audit_actor(caller), &application, at)
        .await?;
    Ok(application)
}

/// Whether `caller` may see what belongs to `party` and goes to `agency` (an application, an issued document): that
/// trader, that agency's officers, officers and auditors.
fn entitled(caller: &Caller, party: &str, agency: &AgencyCode) -> bool {
    match caller.role {
        Role::Trader => caller.user.party.as_deref() == Some(party),
        Role::Agency => caller.user.party.as_deref() == Some(agency.as_str()),
        Role::Officer | Role::Auditor => true,
        _ => false,
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// Only open applications (filed, information requested, joint inspection).
    pub open: Option<bool>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Applications {
    applications: Vec<Application>,
}

/// `GET /api/v1/lpco/applications`: a trader's applications, or an agency's.
#[utoipa::path(
    get,
    path = "/api/v1/lpco/applications",
    tag = "single-window",
    summary = "Applications",
    description = "A trader's own applications, or an agency officer's agency's; oldest first, at most 500. Scope `lpco`.",
    params(ListQuery),
    responses((status = 200, description = "The applications", body = crate::single_window::Applications))
)]
pub async fn applications(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Applications>, ApiError> {
    let open = query.open.unwrap_or(false);
    let applications = match caller.role {
        Role::Agency => {
            let agency = agency_of(&caller)?;
            state
                .store
                .applications(Some(agency.as_str()), None, open, storage::MAX_LIST)
                .await?
        }
        _ => {
            let party = caller.user.party.clone().unwrap_or_default();
            state
                .store
                .applications(None, Some(&party), open, storage::MAX_LIST)
                .await?
        }
    };
    Ok(Json(Applications { applications }))
}

/// `GET /api/v1/lpco/applications/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/lpco/applications/{id}",
    tag = "single-window",
    summary = "An application with its decisions",
    description = "Its applicant, its agency, officers and auditors. Scope `lpco`.",
    params(("id" = String, Path)),
    responses((status = 200, description = "The application", body = lpco::application::Application), (status = 404, description = "None visible to you", body = crate::error::ErrorBody))
)]
pub async fn application(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<Application>, ApiError> {
    match state.store.application(&id).await? {
        Some(application)
            if entitled(&caller, application.applicant.as_str(), &application.agency) =>
        {
            Ok(Json(application))
        }
        _ => Err(not_found("application")),
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DecisionAnswer {
    application: Application,
    /// The document issued, for an approval.
    #[serde(skip_serializing_if = "Option::is_none")]
    licence: Option<Licence>,
}

/// `POST /api/v1/lpco/applications/{id}/decisions`: the agency decides.
#[utoipa::path(
    post,
    path = "/api/v1/lpco/applications/{id}/decisions",
    tag = "single-window",
    summary = "Decide on an application",
    description = "`approve` (issuing the document with its reference, validity from `valid_from` or today for the type's days, and the quantity asked for or `quantity` granted), `approve_with_conditions` (with `conditions`), `reject`, `request_information` or `joint_inspection` (with `reasons`). Only officers of the agency that issues the code; scope `lpco`. Timed, audited and sent to the trader's and agency's feed.",
    params(("id" = String, Path)),
    request_body = lpco::application::DecisionRequest,
    responses((status = 200, description = "Decided", body = crate::single_window::DecisionAnswer), (status = 403, description = "Another agency's application (lpco.other_agency)", body = crate::error::ErrorBody), (status = 404, description = "No such application", body = crate::error::ErrorBody), (status = 409, description = "Approved or rejected already (lpco.application_closed)", body = crate::error::ErrorBody), (status = 422, description = "A field of the decision is wrong", body = crate::error::ErrorBody))
)]
pub async fn decide(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Body,
) -> Result<Json<DecisionAnswer>, ApiError> {
    let request: DecisionRequest = parse_json(&read_body(&state, body).await?)?;
    let (application, licence) = decide_application(&state, &caller, &id, &request).await?;
    Ok(Json(DecisionAnswer {
        application,
        licence,
    }))
}

/// An agency officer's decision on application `id`, stored with what it issues.
pub(crate) async fn decide_application(
    state: &AppState,
    caller: &Caller,
    id: &str,
    request: &DecisionRequest,
) -> Result<(Application, Option<Licence>), ApiError> {
    let agency = agency_of(caller)?;
    let at = now();
    let today = state.pipeline().date_at_office(None, at);
    match state
        .store
        .decide_application(
            &crate::access::audit_actor(caller),
            &agency,
            id,
            request,
            today,
            at,
        )
        .await?
    {
        ApplicationDecided::Done {
            application,
            licence,
        } => Ok((*application, licence.map(|l| *l))),
        ApplicationDecided::NotFound => Err(not_found("application")),
        ApplicationDecided::OtherAgency => Err(ApiError::with_message(
            ErrorCode::LpcoOtherAgency,
            "This application is for another agency; only its officers decide on it.",
        )),
        ApplicationDecided::Refused(Refused::Closed(status)) => Err(ApiError::with_message(
            ErrorCode::LpcoApplicationClosed,
            format!(
                "The application is {} already; it cannot be decided again.",
                status.as_str()
            ),
        )),
        ApplicationDecided::Refused(Refused::Invalid(pointer, message)) => {
            Err(invalid(&pointer, &message))
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Queue {
    agency: String,
    /// Open applications, oldest first.
    applications: Vec<Application>,
    /// Declarations whose release waits for the agency (awaited, held for inspection, joint inspection), oldest
    /// first.
    #[schema(value_type = Vec<Object>)]
    declarations: Vec<storage::AgencyHold>,
}

/// `GET /api/v1/agency/queue`: what waits for the caller's agency.
#[utoipa::path(
    get,
    path = "/api/v1/agency/queue",
    tag = "single-window",
    summary = "The agency's queue",
    description = "The open applications of the caller's agency and the declarations whose release waits for it, oldest first. Agency officers; scope `lpco`.",
    responses((status = 200, description = "The queue", body = crate::single_window::Queue))
)]
pub async fn queue(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Queue>, ApiError> {
    let agency = agency_of(&caller)?;
    let applications = state
        .store
        .applications(Some(agency.as_str()), None, true, storage::MAX_LIST)
        .await?;
    let declarations = state
        .store
        .agency_holds(agency.as_str(), false, storage::MAX_LIST)
        .await?;
    Ok(Json(Queue {
        agency: agency.to_string(),
        applications,
        declarations,
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct FeedQuery {
    /// The position of the last event read (0: from the start).
    pub after: Option<i64>,
    /// At most this many (1 to 500; default 100).
    pub limit: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Feed {
    #[schema(value_type = Vec<Object>)]
    events: Vec<storage::OutboxEvent>,
    /// The position to ask `after=` next.
    next: i64,
}

/// `GET /api/v1/agency/feed?after=`: the agency's events in order.
#[utoipa::path(
    get,
    path = "/api/v1/agency/feed",
    tag = "single-window",
    summary = "The agency's events",
    description = "Every event for the caller's agency after a position, in the order they were committed: `application.filed`, `application.decided`, `declaration.lodged` (a declaration drew on one of its documents), `declaration.cancelled`. Each carries its `id` (the message id the broker uses too). Read again with `after=next`; nothing is skipped and nothing comes twice. Agency officers; scope `lpco`.",
    params(FeedQuery),
    responses((status = 200, description = "The events", body = crate::single_window::Feed), (status = 400, description = "A parameter is wrong (request.invalid_query)", body = crate::error::ErrorBody))
)]
pub async fn feed(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<FeedQuery>,
) -> Result<Json<Feed>, ApiError> {
    let agency = agency_of(&caller)?;
    let after = query.after.unwrap_or(0);
    if after < 0 {
        return Err(query_error("after", "A position is 0 or more."));
    }
    let limit = query.limit.unwrap_or(100);
    if !(1..=storage::MAX_LIST).contains(&limit) {
        return Err(query_error("limit", "Ask for 1 to 500 events."));
    }
    // Events committed since the sequencer last ran get their positions now.
    state.store.sequence_outbox().await?;
    let events = state
        .store
        .outbox(Some(agency.as_str()), None, after, limit)
        .await?;
    let next = events.last().map_or(after, |e| e.position);
    Ok(Json(Feed { events, next }))
}

/// `GET /api/v1/lpco/licences/{code}/{reference}`: an issued document and what is left of it.
#[utoipa::path(
    get,
    path = "/api/v1/lpco/licences/{code}/{reference}",
    tag = "single-window",
    summary = "An issued licence, permit or certificate",
    description = "Its holder, goods, validity, balance granted and drawn, uses and conditions. Its holder, its agency, officers and auditors; scope `lpco`.",
    params(("code" = String, Path), ("reference" = String, Path)),
    responses((status = 200, description = "The document", body = lpco::Licence), (status = 404, description = "None visible to you", body = crate::error::ErrorBody))
)]
pub async fn licence(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((code, reference)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let Some(licence) = state.store.licence(&code, &reference).await? else {
        return Err(not_found("document"));
    };
    if !entitled(&caller, licence.holder.as_str(), &licence.agency) {
        return Err(not_found("document"));
    }
    let left = licence.left().map(|l| l.to_string());
    let mut value = serde_json::to_value(&licence).map_err(ApiError::internal)?;
    value["left"] = json!(left);
    Ok(Json(value))
}

/// An agency's selection rules.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgencyRulesBody {
    /// The rules, one per line, in the risk rule language (docs/risk-rules.md); empty: none.
    pub text: String,
    /// Why this version, for the audit trail.
    #[serde(default)]
    pub comment: String,
}

/// `PUT /api/v1/agency/rules`: the caller's agency's own selection rules.
#[utoipa::path(
    put,
    path = "/api/v1/agency/rules",
    tag = "single-window",
    summary = "The agency's selection rules",
    description = "The rule language of risk management (docs/risk-rules.md) over the same facts: a declaration the rules select (a rule hit, or `random N% then …`) is accepted and waits for the agency's decision before release. Checked before it is stored (422 `risk.rules_invalid` with `/text/line/L/column/C`); each save a version on the audit trail, in use at once. Agency officers, for their own agency; scope `lpco`.",
    request_body = crate::single_window::AgencyRulesBody,
    responses((status = 200, description = "Saved: version, rules", body = serde_json::Value), (status = 422, description = "Invalid rules (risk.rules_invalid)", body = crate::error::ErrorBody))
)]
pub async fn put_agency_rules(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let agency = agency_of(&caller)?;
    let body: AgencyRulesBody = parse_json(&read_body(&state, body).await?)?;
    let (saved, rules) =
        crate::risk::save_agency_rules(&state, &caller, agency.as_str(), body.text, body.comment)
            .await?;
    Ok(Json(
        json!({"agency": agency, "version": saved.version, "rules": rules, "sha256": saved.sha256}),
    ))
}

/// `GET /api/v1/agency/rules`: the caller's agency's selection rules in use.
#[utoipa::path(
    get,
    path = "/api/v1/agency/rules",
    tag = "single-window",
    summary = "The agency's selection rules in use",
    description = "The newest version's text (empty before any). Agency officers, for their own agency; scope `lpco`.",
    responses((status = 200, description = "The rules", body = serde_json::Value))
)]
pub async fn agency_rules(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Value>, ApiError> {
    let agency = agency_of(&caller)?;
    let document = state
        .store
        .risk_document(crate::risk::AGENCY_RULES, agency.as_str(), None)
        .await?;
    Ok(Json(json!({
        "agency": agency,
        "version": document.as_ref().map(|d| d.version),
        "text": document.map(|d| d.body).unwrap_or_default(),
    })))
}

/// An agency's decision on a consignment.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgencyDecisionBody {
    /// `released`, `held_for_inspection`, `joint_inspection` or `refused` (entry refused: final).
    pub decision: workflow::AgencyStanding,
    /// Why (told to the trader; needed except to release).
    #[serde(default)]
    pub reason: Option<String>,
}

/// `POST /api/v1/declarations/{id}/agency-decisions`: a partner agency decides on a consignment it was asked about.
#[utoipa::path(
    post,
    path = "/api/v1/declarations/{id}/agency-decisions",
    tag = "single-window",
    summary = "An agency's decision on a consignment",
    description = "Release, hold for inspection, ask for a joint inspection, or refuse entry. Only an agency the declaration's release waits for; the goods are released when customs and every agency involved agree (automatically, as customs' own conditions). Agency officers; scope `lpco`. Timed, audited, told to the trader and to the other agencies.",
    params(("id" = String, Path, description = "The declaration's id.")),
    request_body = crate::single_window::AgencyDecisionBody,
    responses((status = 200, description = "The declaration after the decision and what followed", body = crate::declarations::DeclarationSummary), (status = 404, description = "No declaration this agency is asked about", body = crate::error::ErrorBody), (status = 409, description = "Decided so already, or entry refused (lifecycle.transition_not_allowed)", body = crate::error::ErrorBody), (status = 422, description = "A field is wrong", body = crate::error::ErrorBody))
)]
pub(crate) async fn decide_on_declaration(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Body,
) -> Result<Json<crate::declarations::DeclarationSummary>, ApiError> {
    let agency = agency_of(&caller)?;
    let body: AgencyDecisionBody = parse_json(&read_body(&state, body).await?)?;
    if body.decision == workflow::AgencyStanding::Awaited {
        return Err(invalid(
            "/decision",
            "Decide: released, held_for_inspection, joint_inspection or refused.",
        ));
    }
    let reason = body
        .reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    if reason.as_ref().is_some_and(|r| r.chars().count() > 1000) {
        return Err(invalid("/reason", "A reason is at most 1,000 characters."));
    }
    let reason = match (body.decision, reason) {
        (workflow::AgencyStanding::Released, None) => format!("Released by agency {agency}."),
        (_, None) => {
            return Err(invalid(
                "/reason",
                "Give the reason: the trader is told it.",
            ));
        }
        (_, Some(reason)) => reason,
    };
    crate::declarations::apply(
        &state,
        &caller,
        &id,
        workflow::Command::RecordAgencyDecision {
            agency: agency.to_string(),
            decision: body.decision,
        },
        reason,
    )
    .await
}
