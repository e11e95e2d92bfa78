//! The Single Window's portal pages (docs/single-window.md), in the portal's way: server-rendered, no script, a
//! session cookie and its CSRF token in every form, an error summary at the top of a form with a link to each field
//! at fault (the GOV.UK design system's pattern), every word from the message catalogues.
//!
//! - `/portal/applications`: a trader's applications for licences, permits and certificates, and the form to apply.
//! - `/portal/agency`: an agency officer's queue — applications waiting, declarations whose release waits for it.
//! - `/portal/agency/applications/{id}`: one application with its fields and documents, and the decision form.
//!
//! The forms go through the same functions as the API (`single_window::file`, `single_window::decide_application`).

use crate::error::ApiError;
use crate::frame::Frame;
pub(crate) use crate::frame::{FieldError, field_errors};
use crate::portal::{field, form, local_time, render, same_origin};
use crate::security::{PortalSession, same_secret};
use crate::{AppState, Caller};
use askama::Template;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use error_table::ErrorCode;
use lpco::application::{Application, DecisionRequest, Request, Verdict};

/// One application as a row of a page.
pub(crate) struct ApplicationRow {
    pub id: String,
    pub code: String,
    pub applicant: String,
    pub commodity: String,
    pub origin: String,
    pub quantity: String,
    pub status: String,
    pub reference: String,
    pub filed_at: String,
}

fn row(
    t: wording::Language,
    office: Option<&administration::Office>,
    a: &Application,
) -> ApplicationRow {
    ApplicationRow {
        id: a.id.clone(),
        code: a.request.document_code.to_string(),
        applicant: a.applicant.to_string(),
        commodity: a.request.commodity.to_string(),
        origin: a
            .request
            .origin
            .as_ref()
            .map(|o| o.to_string())
            .unwrap_or_default(),
        quantity: match (&a.request.quantity, &a.request.unit) {
            (Some(q), Some(u)) => format!("{q} {u}"),
            _ => String::new(),
        },
        status: t.get(&format!("lpco-status-{}", a.status.as_str())),
        reference: a
            .decisions
            .iter()
            .rev()
            .find_map(|d| d.licence.clone())
            .unwrap_or_default(),
        filed_at: local_time(&a.filed_at, office),
    }
}

/// What the trader typed, given back with the errors.
#[derive(Default)]
pub(crate) struct ApplyForm {
    pub document_code: String,
    pub commodity: String,
    pub origin: String,
    pub quantity: String,
    pub unit: String,
    pub fields: String,
}

#[derive(Template)]
#[template(path = "sw_applications.html")]
struct ApplicationsPage {
    t: wording::Language,
    frame: Frame,
    rows: Vec<ApplicationRow>,
    /// (code, title) of every document type.
    kinds: Vec<(String, String)>,
    form: ApplyForm,
}

#[derive(serde::Deserialize)]
pub struct Done {
    done: Option<String>,
}

#[allow(clippy::too_many_arguments)]
async fn applications_page(
    state: &AppState,
    caller: &Caller,
    session: &PortalSession,
    headers: &HeaderMap,
    uri: &Uri,
    form: ApplyForm,
    errors: Vec<FieldError>,
    done: Option<String>,
) -> Result<Response, ApiError> {
    let t = state.wording(headers).language;
    let pipeline = state.pipeline();
    let office = pipeline.administration.offices.first();
    let party = caller.user.party.clone().unwrap_or_default();
    let rows = state
        .store
        .applications(None, Some(&party), false, storage::MAX_LIST)
        .await?
        .iter()
        .rev()
        .map(|a| row(t, office, a))
        .collect();
    let kinds = state
        .store
        .lpco_types()
        .await?
        .into_iter()
        .map(|k| (k.code.to_string(), k.title))
        .collect();
    let status = if errors.is_empty() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    let frame = Frame::signed_in(
        state,
        caller,
        session,
        headers,
        uri,
        t.get("page-applications"),
    )
    .with_errors(errors)
    .with_done(done);
    let page = render(&ApplicationsPage {
        t,
        frame,
        rows,
        kinds,
        form,
    })?;
    Ok((status, Html(page)).into_response())
}

#[utoipa::path(
    get,
    path = "/portal/applications",
    tag = "portal",
    summary = "A trader's applications for licences, permits and certificates",
    description = "The signed-in trader's applications, newest first, with their status and the reference of the document issued, and the form to apply (document, goods, quantity, the form's fields). Without a session: 303 to /login.",
    responses((status = 200, description = "The page", content((String = "text/html")))),
    security(("session" = []))
)]
pub async fn show_applications(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    uri: Uri,
    Query(query): Query<Done>,
) -> Result<Response, ApiError> {
    let t = state.wording(&headers).language;
    let mut done = None;
    if let Some(code) = query.done.filter(|d| lpco::DocumentCode::parse(d).is_ok())
        && let Some(kind) = state.store.lpco_type(&code).await?
    {
        done = Some(t.text(
            "page-application-filed",
            &[("code", &code), ("agency", kind.agency.as_str())],
        ));
    }
    applications_page(
        &state,
        &caller,
        &session,
        &headers,
        &uri,
        ApplyForm::default(),
        Vec::new(),
        done,
    )
    .await
}

#[utoipa::path(
    post,
    path = "/portal/applications",
    tag = "portal",
    summary = "Apply from the portal",
    description = "Form fields `document_code`, `commodity`, `origin`, `quantity`, `unit`, `fields` (one `name=value` per line) and `csrf`. Filed as `POST /api/v1/lpco/applications` files it: 303 back to the list; a mistake: 422 with the page, an error summary linking each field at fault.",
    responses((status = 303, description = "Filed"), (status = 422, description = "A field is wrong", content((String = "text/html"))), (status = 403, description = "CSRF token missing or wrong", body = crate::error::ErrorBody)),
    security(("session" = []))
)]
pub async fn submit_application(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Result<Response, ApiError> {
    let fields = form(&body);
    if !same_origin(&headers) || !same_secret(field(&fields, "csrf"), &session.csrf_token) {
        return Err(ApiError::new(ErrorCode::CsrfInvalid));
    }
    let typed = ApplyForm {
        document_code: field(&fields, "document_code").trim().to_owned(),
        commodity: field(&fields, "commodity").trim().to_owned(),
        origin: field(&fields, "origin").trim().to_uppercase(),
        quantity: field(&fields, "quantity").trim().to_owned(),
        unit: field(&fields, "unit").trim().to_uppercase(),
        fields: field(&fields, "fields").to_owned(),
    };
    let mut errors = Vec::new();
    let mut error = |field: &str, message: String| {
        errors.push(FieldError {
            field: field.to_owned(),
            message,
        })
    };
    let document_code = lpco::DocumentCode::parse(&typed.document_code)
        .map_err(|m| error("document_code", m))
        .ok();
    let commodity = declaration::CommodityCode::parse(&typed.commodity)
        .map_err(|e| error("commodity", e.to_string()))
        .ok();
    let origin = if typed.origin.is_empty() {
        None
    } else {
        declaration::Country::parse(&typed.origin)
            .map_err(|e| error("origin", e.to_string()))
            .ok()
    };
    let quantity = if typed.quantity.is_empty() {
        None
    } else {
        declaration::parse_decimal(&typed.quantity)
            .map_err(|_| {
                error(
                    "quantity",
                    format!(
                        "{:?} is not a quantity: write it as 3000 or 12.5.",
                        typed.quantity
                    ),
                )
            })
            .ok()
    };
    let mut form_fields = std::collections::BTreeMap::new();
    for line in typed
        .fields
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(64)
    {
        match line.split_once('=') {
            Some((name, value)) => {
                form_fields.insert(name.trim().to_owned(), value.trim().to_owned());
            }
            None => error("fields", format!("{line:?}: write name=value.")),
        }
    }
    let (Some(document_code), Some(commodity), true) =
        (document_code, commodity, errors.is_empty())
    else {
        return applications_page(
            &state, &caller, &session, &headers, &uri, typed, errors, None,
        )
        .await;
    };
    let request = Request {
        document_code,
        commodity,
        origin,
        quantity,
        unit: (!typed.unit.is_empty()).then(|| typed.unit.clone()),
        fields: form_fields,
        documents: Vec::new(),
    };
    match crate::single_window::file(&state, &caller, request).await {
        Ok(application) => Ok(Redirect::to(&format!(
            "/portal/applications?done={}",
            application.request.document_code
        ))
        .into_response()),
        Err(error) if error.code.http_status() < 500 => {
            let errors = field_errors(&error, "document_code");
            applications_page(
                &state, &caller, &session, &headers, &uri, typed, errors, None,
            )
            .await
        }
        Err(error) => Err(error),
    }
}

/// A declaration waiting for the agency, as a row.
struct HoldRow {
    mrn: String,
    declarant: String,
    standing: String,
    reason: String,
    held_at: String,
}

#[derive(Template)]
#[template(path = "sw_agency.html")]
struct AgencyPage {
    t: wording::Language,
    frame: Frame,
    applications: Vec<ApplicationRow>,
    declarations: Vec<HoldRow>,
}

#[utoipa::path(
    get,
    path = "/portal/agency",
    tag = "portal",
    summary = "An agency officer's queue",
    description = "The agency's open applications and the declarations whose release waits for it, oldest first, each application linked to its page. Without a session: 303 to /login.",
    responses((status = 200, description = "The page", content((String = "text/html")))),
    security(("session" = []))
)]
pub async fn agency_queue(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    uri: Uri,
    Query(query): Query<Done>,
) -> Result<Response, ApiError> {
    let agency = crate::single_window::agency_of(&caller)?.to_string();
    let t = state.wording(&headers).language;
    let pipeline = state.pipeline();
    let office = pipeline.administration.offices.first();
    let applications = state
        .store
        .applications(Some(&agency), None, true, storage::MAX_LIST)
        .await?
        .iter()
        .map(|a| row(t, office, a))
        .collect();
    let declarations = state
        .store
        .agency_holds(&agency, false, storage::MAX_LIST)
        .await?
        .into_iter()
        .map(|h| HoldRow {
            mrn: h.mrn.unwrap_or(h.declaration_id),
            declarant: h.declarant,
            standing: t.get(&format!("agency-standing-{}", h.standing)),
            reason: h.reason,
            held_at: local_time(&h.held_at, office),
        })
        .collect();
    let done = query
        .done
        .and_then(|status| lpco::application::Status::parse(&status))
        .map(|status| {
            t.text(
                "page-application-decided",
                &[(
                    "status",
                    &t.get(&format!("lpco-status-{}", status.as_str())),
                )],
            )
        });
    let frame = Frame::signed_in(
        &state,
        &caller,
        &session,
        &headers,
        &uri,
        t.text("page-agency-queue", &[("agency", &agency)]),
    )
    .with_done(done);
    let page = render(&AgencyPage {
        t,
        frame,
        applications,
        declarations,
    })?;
    Ok(Html(page).into_response())
}

#[derive(Template)]
#[template(path = "sw_application.html")]
struct ApplicationPage {
    t: wording::Language,
    frame: Frame,
    agency: String,
    row: ApplicationRow,
    fields: Vec<(String, String)>,
    documents: Vec<String>,
    open: bool,
    /// (decision, label).
    choices: Vec<(String, String)>,
}

async fn application_page(
    state: &AppState,
    caller: &Caller,
    session: &PortalSession,
    headers: &HeaderMap,
    uri: &Uri,
    id: &str,
    errors: Vec<FieldError>,
) -> Result<Response, ApiError> {
    let agency = crate::single_window::agency_of(caller)?.to_string();
    let Some(application) = state
        .store
        .application(id)
        .await?
        .filter(|a| a.agency.as_str() == agency)
    else {
        return Err(ApiError::new(ErrorCode::NotFound));
    };
    let t = state.wording(headers).language;
    let pipeline = state.pipeline();
    let office = pipeline.administration.offices.first();
    let choices = [
        Verdict::Approve,
        Verdict::ApproveWithConditions,
        Verdict::Reject,
        Verdict::RequestInformation,
        Verdict::JointInspection,
    ]
    .into_iter()
    .map(|v| {
        let name = serde_json::to_value(v)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let label = t.get(&format!("lpco-decision-{name}"));
        (name, label)
    })
    .collect();
    let status = if errors.is_empty() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    let frame = Frame::signed_in(
        state,
        caller,
        session,
        headers,
        uri,
        t.text(
            "page-application",
            &[("code", application.request.document_code.as_str())],
        ),
    )
    .with_errors(errors);
    let page = render(&ApplicationPage {
        t,
        frame,
        agency,
        row: row(t, office, &application),
        fields: application.request.fields.clone().into_iter().collect(),
        documents: application.request.documents.clone(),
        open: application.status.is_open(),
        choices,
    })?;
    Ok((status, Html(page)).into_response())
}

#[utoipa::path(
    get,
    path = "/portal/agency/applications/{id}",
    tag = "portal",
    summary = "An application, for its agency's officer",
    description = "The application with its fields and attached documents, and (while open) the decision form. Only the agency it goes to. Without a session: 303 to /login.",
    params(("id" = String, Path)),
    responses((status = 200, description = "The page", content((String = "text/html"))), (status = 404, description = "No such application of this agency", body = crate::error::ErrorBody)),
    security(("session" = []))
)]
pub async fn show_application(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    application_page(&state, &caller, &session, &headers, &uri, &id, Vec::new()).await
}

#[utoipa::path(
    post,
    path = "/portal/agency/applications/{id}/decisions",
    tag = "portal",
    summary = "Decide on an application from the portal",
    description = "Form fields `decision` (approve, approve_with_conditions, reject, request_information, joint_inspection), `reasons` and `conditions` (one per line) and `csrf`. Decided as `POST /api/v1/lpco/applications/{id}/decisions` decides: 303 to the queue; a mistake: 422 with the page and an error summary.",
    params(("id" = String, Path)),
    responses((status = 303, description = "Decided"), (status = 422, description = "A field is wrong", content((String = "text/html"))), (status = 403, description = "CSRF token missing or wrong", body = crate::error::ErrorBody)),
    security(("session" = []))
)]
pub async fn submit_decision(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let fields = form(&body);
    if !same_origin(&headers) || !same_secret(field(&fields, "csrf"), &session.csrf_token) {
        return Err(ApiError::new(ErrorCode::CsrfInvalid));
    }
    let lines = |name: &str| -> Vec<String> {
        field(&fields, name)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let Ok(decision) = serde_json::from_value::<Verdict>(serde_json::Value::String(
        field(&fields, "decision").to_owned(),
    )) else {
        let errors = vec![FieldError {
            field: "decision".into(),
            message: state.wording(&headers).language.get("page-choose-decision"),
        }];
        return application_page(&state, &caller, &session, &headers, &uri, &id, errors).await;
    };
    let request = DecisionRequest {
        decision,
        reasons: lines("reasons"),
        conditions: lines("conditions"),
        quantity: None,
        valid_from: None,
    };
    match crate::single_window::decide_application(&state, &caller, &id, &request).await {
        Ok((application, _)) => Ok(Redirect::to(&format!(
            "/portal/agency?done={}",
            application.status.as_str()
        ))
        .into_response()),
        Err(error) if error.code.http_status() < 500 && error.code != ErrorCode::NotFound => {
            let errors = field_errors(&error, "decision");
            application_page(&state, &caller, &session, &headers, &uri, &id, errors).await
        }
        Err(error) => Err(error),
    }
}
