//! The enquiry point (WTO TFA Art. 1.3) in the portal's way: anyone asks a question without an account
//! (`/enquiry`, a double-submit CSRF cookie scoped to `/enquiry`) and is given a reference and a code; with both,
//! anyone reads the question and its answer (`/enquiry/answer`), nothing else; officers and administrators answer
//! the open questions oldest first (`/portal/enquiries`, audited). The code is derived from the enquiry's id (a
//! UUIDv7 nobody else sees), so it is stored nowhere and every server computes the same.

use crate::error::ApiError;
use crate::frame::{FieldError, Frame};
use crate::portal::{
    field, form_up_to, local_time, paragraphs, posted_form, public_form_is_ours, render,
};
use crate::security::{PortalSession, same_secret};
use crate::{AppState, Caller};
use administration::enquiry::{self, Refusal};
use askama::Template;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use storage::EnquiryRefused;
use wording::Language;

const ENQUIRY_CSRF_COOKIE: &str = "aduana_enquiry_csrf";
const MAX_FORM: usize = 64 * 1024;
/// Open enquiries shown at most on the officers' page.
const SHOWN: i64 = 200;

/// Ten characters of `purpose` for the enquiry `id`.
fn derived(purpose: &str, id: &str) -> String {
    crate::portal::derived_code(&format!("aduana-enquiry-{purpose}:{id}"))
}

/// The code that reads the enquiry `id`'s answer.
fn answer_code(id: &str) -> String {
    derived("code", id)
}

fn field_errors(t: Language, refused: &[Refusal]) -> Vec<FieldError> {
    refused
        .iter()
        .map(|r| FieldError {
            field: r.field().to_owned(),
            message: t.get(r.message_id()),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "enquiry.html")]
struct EnquiryPage {
    t: Language,
    frame: Frame,
    csrf: String,
    typed: Vec<(String, String)>,
}

impl EnquiryPage {
    fn typed(&self, name: &str) -> &str {
        self.typed
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

fn enquiry_page(
    state: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
    errors: Vec<FieldError>,
    typed: Vec<(String, String)>,
    code: StatusCode,
) -> Result<Response, ApiError> {
    let t = state.wording(headers).language;
    let csrf = crate::security::new_secret("");
    let frame = Frame::public(state, headers, uri, t.get("page-enquiry")).with_errors(errors);
    let page = EnquiryPage {
        t,
        frame,
        csrf: csrf.clone(),
        typed,
    };
    let mut response = (code, Html(render(&page)?)).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        crate::portal::cookie(state, ENQUIRY_CSRF_COOKIE, &csrf, "/enquiry", 3600),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// `GET /enquiry`.
#[utoipa::path(
    get,
    path = "/enquiry",
    tag = "public",
    summary = "The enquiry point (page)",
    description = "A form to ask the administration a question (name, e-mail if any, subject, question; CSRF token in the form and a cookie scoped to /enquiry), and a form to read an answer with the reference and code given. No sign-in.",
    responses((status = 200, description = "The page", content((String = "text/html"))))
)]
pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    enquiry_page(
        &state,
        &headers,
        &uri,
        Vec::new(),
        Vec::new(),
        StatusCode::OK,
    )
}

/// `POST /enquiry`.
#[utoipa::path(
    post,
    path = "/enquiry",
    tag = "public",
    summary = "Ask the enquiry point",
    description = "Form fields `name`, `email` (may be empty), `subject`, `question`, `csrf`. Stored below 100,000 unanswered questions: 303 to /enquiry/answer with the reference and code that read the answer; refused: 422 with the form and an error summary; a missing or wrong CSRF token or a foreign Origin: 403 (auth.csrf_invalid).",
    request_body(content((String = "application/x-www-form-urlencoded"))),
    responses((status = 303, description = "Received: the answer's page"), (status = 403, description = "CSRF token missing or wrong (auth.csrf_invalid)", body = crate::error::ErrorBody), (status = 422, description = "Refused: the form again with the errors", content((String = "text/html"))))
)]
pub async fn ask(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Result<Response, ApiError> {
    let fields = form_up_to(&body, MAX_FORM);
    if !public_form_is_ours(&headers, &fields, ENQUIRY_CSRF_COOKIE) {
        return Err(ApiError::new(error_table::ErrorCode::CsrfInvalid));
    }
    let t = state.wording(&headers).language;
    let typed: Vec<(String, String)> = ["name", "email", "subject", "question"]
        .iter()
        .map(|n| ((*n).to_owned(), field(&fields, n).to_owned()))
        .collect();
    let question = match enquiry::check_question(
        field(&fields, "name"),
        field(&fields, "email"),
        field(&fields, "subject"),
        field(&fields, "question"),
    ) {
        Ok(question) => question,
        Err(refused) => {
            return enquiry_page(
                &state,
                &headers,
                &uri,
                field_errors(t, &refused),
                typed,
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };
    // A reference already given (one chance in 10^15 a pair) is drawn again.
    for _ in 0..3 {
        let id = uuid::Uuid::now_v7().to_string();
        let reference = format!("ENQ-{}", &derived("reference", &id)[..8]);
        match state
            .store
            .add_enquiry(&id, &reference, &question, crate::request::now())
            .await
        {
            Ok(Ok(_)) => {
                return Ok(Redirect::to(&format!(
                    "/enquiry/answer?reference={reference}&code={}&done=asked",
                    answer_code(&id)
                ))
                .into_response());
            }
            Ok(Err(_)) => {
                return enquiry_page(
                    &state,
                    &headers,
                    &uri,
                    field_errors(t, &[Refusal::TooMany]),
                    typed,
                    StatusCode::SERVICE_UNAVAILABLE,
                );
            }
            Err(storage::StoreError::Duplicate(_)) => continue,
            Err(error) => return Err(error.into()),
        }
    }
    Err(ApiError::internal(
        "three enquiry references drawn were all taken",
    ))
}

#[derive(serde::Deserialize)]
pub struct AnswerQuery {
    reference: Option<String>,
    code: Option<String>,
    done: Option<String>,
}

#[derive(Template)]
#[template(path = "enquiry_answer.html")]
struct AnswerPage {
    t: Language,
    frame: Frame,
    reference: String,
    code: String,
    found: bool,
    subject: String,
    question: Vec<Vec<String>>,
    asked: String,
    answer: Vec<Vec<String>>,
    answered: String,
    zone: String,
}

/// `GET /enquiry/answer?reference=&code=`.
#[utoipa::path(
    get,
    path = "/enquiry/answer",
    tag = "public",
    summary = "Read an enquiry's answer (page)",
    description = "With the reference and code given when the question was asked: the question and its answer (or that it waits for one). Anything else: that no enquiry has this reference and code, nothing more. No sign-in.",
    params(("reference" = Option<String>, Query), ("code" = Option<String>, Query)),
    responses((status = 200, description = "The page", content((String = "text/html"))))
)]
pub async fn answer(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Query(query): Query<AnswerQuery>,
) -> Result<Response, ApiError> {
    let t = state.wording(&headers).language;
    let reference: String = query
        .reference
        .unwrap_or_default()
        .trim()
        .to_uppercase()
        .chars()
        .take(20)
        .collect();
    let code: String = query
        .code
        .unwrap_or_default()
        .trim()
        .to_uppercase()
        .chars()
        .take(20)
        .collect();
    let asked = !reference.is_empty() || !code.is_empty();
    let found = if reference.is_empty() {
        None
    } else {
        state
            .store
            .enquiry_by_reference(&reference)
            .await?
            .filter(|e| same_secret(&code, &answer_code(&e.id)))
    };
    let pipeline = state.pipeline();
    let (office, zone) = crate::portal::zone_of(&pipeline.administration);
    let mut errors = Vec::new();
    if asked && found.is_none() {
        errors.push(FieldError {
            field: "reference".to_owned(),
            message: t.get("page-enquiry-not-found"),
        });
    }
    let done = (query.done.as_deref() == Some("asked") && found.is_some())
        .then(|| t.get("page-enquiry-received"));
    let frame = Frame::public(&state, &headers, &uri, t.get("page-enquiry-answer"))
        .with_errors(errors)
        .with_done(done);
    let page = AnswerPage {
        t,
        frame,
        reference,
        code,
        found: found.is_some(),
        subject: found
            .as_ref()
            .map(|e| e.subject.clone())
            .unwrap_or_default(),
        question: found
            .as_ref()
            .map(|e| paragraphs(&e.text))
            .unwrap_or_default(),
        asked: found
            .as_ref()
            .map(|e| local_time(&e.asked_at, office))
            .unwrap_or_default(),
        answer: found
            .as_ref()
            .and_then(|e| e.answer.as_deref())
            .map(paragraphs)
            .unwrap_or_default(),
        answered: found
            .as_ref()
            .and_then(|e| e.answered_at.as_deref())
            .map(|a| local_time(a, office))
            .unwrap_or_default(),
        zone,
    };
    let mut response = Html(render(&page)?).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

struct OpenRow {
    id: String,
    reference: String,
    name: String,
    email: String,
    subject: String,
    question: Vec<Vec<String>>,
    asked: String,
}

#[derive(Template)]
#[template(path = "enquiries.html")]
struct OfficersPage {
    t: Language,
    frame: Frame,
    rows: Vec<OpenRow>,
    zone: String,
}

#[allow(clippy::too_many_arguments)]
async fn officers_page(
    state: &AppState,
    caller: &Caller,
    session: &PortalSession,
    headers: &HeaderMap,
    uri: &Uri,
    errors: Vec<FieldError>,
    done: Option<String>,
    code: StatusCode,
) -> Result<Response, ApiError> {
    let t = state.wording(headers).language;
    let open = state.store.open_enquiries(SHOWN).await?;
    let pipeline = state.pipeline();
    let (office, zone) = crate::portal::zone_of(&pipeline.administration);
    let frame = Frame::signed_in(
        state,
        caller,
        session,
        headers,
        uri,
        t.get("page-enquiries"),
    )
    .with_errors(errors)
    .with_done(done);
    let html = render(&OfficersPage {
        t,
        frame,
        rows: open
            .iter()
            .map(|e| OpenRow {
                id: e.id.clone(),
                reference: e.reference.clone(),
                name: e.name.clone(),
                email: e.email.clone(),
                subject: e.subject.clone(),
                question: paragraphs(&e.text),
                asked: local_time(&e.asked_at, office),
            })
            .collect(),
        zone,
    })?;
    Ok((code, Html(html)).into_response())
}

#[derive(serde::Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

/// `GET /portal/enquiries`.
#[utoipa::path(
    get,
    path = "/portal/enquiries",
    tag = "portal",
    summary = "Open enquiries (page)",
    description = "The questions sent to the enquiry point not yet answered, oldest first (at most 200), each with its answer form. Officers and administrators.",
    responses((status = 200, description = "The page", content((String = "text/html")))),
    security(("session" = []))
)]
pub async fn show_open(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    uri: Uri,
    Query(query): Query<DoneQuery>,
) -> Result<Response, ApiError> {
    let t = state.wording(&headers).language;
    let done = (query.done.as_deref() == Some("answered")).then(|| t.get("page-done-answered"));
    officers_page(
        &state,
        &caller,
        &session,
        &headers,
        &uri,
        Vec::new(),
        done,
        StatusCode::OK,
    )
    .await
}

/// `POST /portal/enquiries/{id}/answer`.
#[utoipa::path(
    post,
    path = "/portal/enquiries/{id}/answer",
    tag = "portal",
    summary = "Answer an enquiry",
    description = "Form fields `csrf`, `answer`. Once per enquiry; audited. 303 to the open enquiries; refused (empty, too long, answered already): 422 with the errors.",
    params(("id" = String, Path)),
    request_body(content((String = "application/x-www-form-urlencoded"))),
    responses((status = 303, description = "Answered"), (status = 403, description = "CSRF token missing or wrong (auth.csrf_invalid)", body = crate::error::ErrorBody), (status = 404, description = "No such enquiry", body = crate::error::ErrorBody), (status = 422, description = "Refused", content((String = "text/html")))),
    security(("session" = []))
)]
pub async fn submit_answer(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let fields = posted_form(&headers, &session, &body, MAX_FORM)?;
    let t = state.wording(&headers).language;
    let refused = match enquiry::check_answer(field(&fields, "answer")) {
        Ok(text) => match state
            .store
            .answer_enquiry(
                &crate::access::audit_actor(&caller),
                &id,
                &text,
                crate::request::now(),
            )
            .await?
        {
            Ok(()) => return Ok(Redirect::to("/portal/enquiries?done=answered").into_response()),
            Err(EnquiryRefused::Unknown) => {
                return Err(ApiError::new(error_table::ErrorCode::NotFound));
            }
            Err(_) => Refusal::AnsweredAlready,
        },
        Err(refused) => refused,
    };
    let error = FieldError {
        field: format!("answer-{id}"),
        message: t.get(refused.message_id()),
    };
    officers_page(
        &state,
        &caller,
        &session,
        &headers,
        &uri,
        vec![error],
        None,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}
