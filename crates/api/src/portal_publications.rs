//! What the administration publishes (WTO TFA Art. 1 and 2), in the portal's way: for everyone, without signing
//! in, the procedures, forms, fees and charges and the rules (`/information`), a draft rule's comment form while it
//! is open (a double-submit CSRF cookie scoped to `/information`, as the sign-in form has) and its final text
//! once published; for administrators, the form to publish and the final text of a rule
//! (`/portal/publications`, audited). The checks are `administration::publication`'s, the storage's transaction
//! decides whether a comment still lands.

use crate::error::ApiError;
use crate::frame::{FieldError, Frame};
use crate::portal::{
    field, form_up_to, local_time, paragraphs, posted_form, public_form_is_ours, render,
};
use crate::security::PortalSession;
use crate::{AppState, Caller};
use administration::publication::{self, Kind, Refusal, Stage};
use askama::Template;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use storage::{Publication, PublicationRefused};
use time::OffsetDateTime;
use wording::Language;

/// The cookie holding the comment form's CSRF token (double submit; there is no session).
const COMMENT_CSRF_COOKIE: &str = "aduana_comment_csrf";
/// Publications listed at most on a page.
const LISTED: i64 = 500;
/// Comments shown at most under a rule.
const SHOWN_COMMENTS: i64 = 500;
/// The bodies of the forms at most.
const MAX_FORM: usize = 128 * 1024;

fn refused_as_publication(r: PublicationRefused) -> Refusal {
    match r {
        PublicationRefused::Unknown => Refusal::Unknown,
        PublicationRefused::ReferenceTaken => Refusal::ReferenceTaken,
        PublicationRefused::TooMany => Refusal::TooMany,
        PublicationRefused::NotRule => Refusal::NotRule,
        PublicationRefused::NotOpen => Refusal::NotOpen,
        PublicationRefused::TooManyComments => Refusal::TooManyComments,
        PublicationRefused::AlreadyFinal => Refusal::AlreadyFinal,
    }
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

fn stage_of(p: &Publication, now: OffsetDateTime) -> Stage {
    let kind = Kind::parse(&p.kind).unwrap_or(Kind::Procedure);
    let until = p
        .comments_until
        .as_deref()
        .and_then(|u| storage::parse_time(u).ok());
    publication::stage(kind, until, p.finalised_at.is_some(), now)
}

struct Listed {
    id: String,
    reference: String,
    title: String,
    stage: String,
    published: String,
}

#[derive(Template)]
#[template(path = "information.html")]
struct InformationPage {
    t: Language,
    frame: Frame,
    /// (kind's heading, its publications)
    sections: Vec<(String, Vec<Listed>)>,
    zone: String,
}

fn listed(
    t: Language,
    office: Option<&administration::Office>,
    p: &Publication,
    now: OffsetDateTime,
) -> Listed {
    Listed {
        id: p.id.clone(),
        reference: p.reference.clone(),
        title: p.title.clone(),
        stage: t.get(&format!("publication-stage-{}", stage_of(p, now).as_str())),
        published: local_time(&p.published_at, office),
    }
}

/// `GET /information`.
#[utoipa::path(
    get,
    path = "/information",
    tag = "public",
    summary = "Published information (page)",
    description = "What the administration publishes (WTO TFA Art. 1, 2): procedures, forms, fees and charges, and rules (drafts open for comment, then their final text). No sign-in.",
    responses((status = 200, description = "The page", content((String = "text/html"))))
)]
pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    let t = state.wording(&headers).language;
    let now = crate::request::now();
    let all = state.store.publications(None, LISTED).await?;
    let pipeline = state.pipeline();
    let (office, zone) = crate::portal::zone_of(&pipeline.administration);
    let sections = Kind::ALL
        .iter()
        .map(|kind| {
            (
                t.get(&format!("publication-kind-{}", kind.as_str())),
                all.iter()
                    .filter(|p| p.kind == kind.as_str())
                    .map(|p| listed(t, office, p, now))
                    .collect(),
            )
        })
        .collect();
    let frame = Frame::public(&state, &headers, &uri, t.get("page-information"));
    let html = render(&InformationPage {
        t,
        frame,
        sections,
        zone,
    })?;
    Ok(Html(html).into_response())
}

struct CommentRow {
    name: String,
    organisation: String,
    paragraphs: Vec<Vec<String>>,
    at: String,
}

#[derive(Template)]
#[template(path = "publication.html")]
struct PublicationPage {
    t: Language,
    frame: Frame,
    id: String,
    reference: String,
    kind: String,
    stage: String,
    open: bool,
    is_rule: bool,
    /// The end of the comment period, local time.
    until: String,
    published: String,
    finalised: String,
    body: Vec<Vec<String>>,
    final_text: Vec<Vec<String>>,
    comments: Vec<CommentRow>,
    comment_count: i64,
    csrf: String,
    typed: Vec<(String, String)>,
    zone: String,
}

impl PublicationPage {
    fn typed(&self, name: &str) -> &str {
        self.typed
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

#[allow(clippy::too_many_arguments)]
async fn publication_page(
    state: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
    id: &str,
    errors: Vec<FieldError>,
    typed: Vec<(String, String)>,
    done: Option<String>,
    code: StatusCode,
) -> Result<Response, ApiError> {
    let t = state.wording(headers).language;
    let now = crate::request::now();
    let Some(p) = state.store.publication(id).await? else {
        return Err(ApiError::new(error_table::ErrorCode::NotFound));
    };
    let stage = stage_of(&p, now);
    let comments = if p.kind == Kind::Rule.as_str() {
        state
            .store
            .publication_comments(&p.id, SHOWN_COMMENTS)
            .await?
    } else {
        Vec::new()
    };
    let pipeline = state.pipeline();
    let (office, zone) = crate::portal::zone_of(&pipeline.administration);
    let csrf = crate::security::new_secret("");
    let frame = Frame::public(
        state,
        headers,
        uri,
        format!("{} – {}", p.reference, p.title),
    )
    .with_errors(errors)
    .with_done(done);
    let page = PublicationPage {
        t,
        frame,
        id: p.id.clone(),
        reference: p.reference.clone(),
        kind: t.get(&format!("publication-kind-{}", p.kind)),
        stage: t.get(&format!("publication-stage-{}", stage.as_str())),
        open: stage == Stage::OpenForComment,
        is_rule: p.kind == Kind::Rule.as_str(),
        until: p
            .comments_until
            .as_deref()
            .map(|u| local_time(u, office))
            .unwrap_or_default(),
        published: local_time(&p.published_at, office),
        finalised: p
            .finalised_at
            .as_deref()
            .map(|f| local_time(f, office))
            .unwrap_or_default(),
        body: paragraphs(&p.body),
        final_text: p.final_text.as_deref().map(paragraphs).unwrap_or_default(),
        comments: comments
            .iter()
            .map(|c| CommentRow {
                name: c.name.clone(),
                organisation: c.organisation.clone(),
                paragraphs: paragraphs(&c.text),
                at: local_time(&c.at, office),
            })
            .collect(),
        comment_count: p.comments,
        csrf: csrf.clone(),
        typed,
        zone,
    };
    let mut response = (code, Html(render(&page)?)).into_response();
    if page.open {
        response.headers_mut().append(
            header::SET_COOKIE,
            crate::portal::cookie(state, COMMENT_CSRF_COOKIE, &csrf, "/information", 3600),
        );
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(response)
}

#[derive(serde::Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

/// `GET /information/{id}`.
#[utoipa::path(
    get,
    path = "/information/{id}",
    tag = "public",
    summary = "A publication (page)",
    description = "A procedure, form, fee or rule as published; a draft rule with its comment period, the comments received and, while open, a comment form (name, organisation, text; CSRF token in the form and a cookie scoped to /information); a final rule with its final text. No sign-in.",
    params(("id" = String, Path)),
    responses((status = 200, description = "The page", content((String = "text/html"))), (status = 404, description = "No such publication (request.not_found)", body = crate::error::ErrorBody))
)]
pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, ApiError> {
    let t = state.wording(&headers).language;
    let done = (query.done.as_deref() == Some("comment")).then(|| t.get("page-comment-received"));
    publication_page(
        &state,
        &headers,
        &uri,
        &id,
        Vec::new(),
        Vec::new(),
        done,
        StatusCode::OK,
    )
    .await
}

/// `POST /information/{id}/comments`.
#[utoipa::path(
    post,
    path = "/information/{id}/comments",
    tag = "public",
    summary = "Comment on a draft rule",
    description = "Form fields `name`, `organisation` (may be empty), `text`, `csrf` (the page's token, also in its cookie). Stored while the rule is open for comment (below 10,000 comments): 303 to its page; refused: 422 with the page and an error summary; a missing or wrong CSRF token or a foreign Origin: 403 (auth.csrf_invalid).",
    params(("id" = String, Path)),
    request_body(content((String = "application/x-www-form-urlencoded"))),
    responses((status = 303, description = "Received: the rule's page"), (status = 403, description = "CSRF token missing or wrong (auth.csrf_invalid)", body = crate::error::ErrorBody), (status = 404, description = "No such publication", body = crate::error::ErrorBody), (status = 422, description = "Refused: the page again with the errors", content((String = "text/html"))))
)]
pub async fn comment(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let fields = form_up_to(&body, MAX_FORM);
    if !public_form_is_ours(&headers, &fields, COMMENT_CSRF_COOKIE) {
        return Err(ApiError::new(error_table::ErrorCode::CsrfInvalid));
    }
    let t = state.wording(&headers).language;
    let typed: Vec<(String, String)> = ["name", "organisation", "text"]
        .iter()
        .map(|n| ((*n).to_owned(), field(&fields, n).to_owned()))
        .collect();
    let refused = match publication::check_comment(
        field(&fields, "name"),
        field(&fields, "organisation"),
        field(&fields, "text"),
    ) {
        Ok(comment) => match state
            .store
            .add_publication_comment(&id, &comment, crate::request::now())
            .await?
        {
            Ok(_) => {
                return Ok(Redirect::to(&format!("/information/{id}?done=comment")).into_response());
            }
            Err(PublicationRefused::Unknown) => {
                return Err(ApiError::new(error_table::ErrorCode::NotFound));
            }
            Err(other) => vec![refused_as_publication(other)],
        },
        Err(refused) => refused,
    };
    publication_page(
        &state,
        &headers,
        &uri,
        &id,
        field_errors(t, &refused),
        typed,
        None,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

#[derive(Template)]
#[template(path = "publications.html")]
struct AdminPage {
    t: Language,
    frame: Frame,
    kinds: Vec<(String, String)>,
    rows: Vec<Listed>,
    /// Rules whose final text is not published yet: (id, reference, title).
    drafts: Vec<(String, String, String)>,
    typed: Vec<(String, String)>,
    zone: String,
}

impl AdminPage {
    fn typed(&self, name: &str) -> &str {
        self.typed
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

#[allow(clippy::too_many_arguments)]
async fn admin_page(
    state: &AppState,
    caller: &Caller,
    session: &PortalSession,
    headers: &HeaderMap,
    uri: &Uri,
    errors: Vec<FieldError>,
    typed: Vec<(String, String)>,
    done: Option<String>,
    code: StatusCode,
) -> Result<Response, ApiError> {
    let t = state.wording(headers).language;
    let now = crate::request::now();
    let all = state.store.publications(None, LISTED).await?;
    let pipeline = state.pipeline();
    let (office, zone) = crate::portal::zone_of(&pipeline.administration);
    let frame = Frame::signed_in(
        state,
        caller,
        session,
        headers,
        uri,
        t.get("page-publications"),
    )
    .with_errors(errors)
    .with_done(done);
    let html = render(&AdminPage {
        t,
        frame,
        kinds: Kind::ALL
            .iter()
            .map(|k| {
                (
                    k.as_str().to_owned(),
                    t.get(&format!("publication-kind-{}", k.as_str())),
                )
            })
            .collect(),
        rows: all.iter().map(|p| listed(t, office, p, now)).collect(),
        drafts: all
            .iter()
            .filter(|p| p.kind == Kind::Rule.as_str() && p.finalised_at.is_none())
            .map(|p| (p.id.clone(), p.reference.clone(), p.title.clone()))
            .collect(),
        typed,
        zone,
    })?;
    Ok((code, Html(html)).into_response())
}

/// `GET /portal/publications`.
#[utoipa::path(
    get,
    path = "/portal/publications",
    tag = "portal",
    summary = "Publications (administrator's page)",
    description = "Everything published, the form to publish a procedure, form, fee or draft rule, and the form to publish a rule's final text. Administrators.",
    responses((status = 200, description = "The page", content((String = "text/html")))),
    security(("session" = []))
)]
pub async fn show_admin(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    uri: Uri,
    Query(query): Query<DoneQuery>,
) -> Result<Response, ApiError> {
    let t = state.wording(&headers).language;
    let done = match query.done.as_deref() {
        Some("published") => Some(t.get("page-done-published")),
        Some("final") => Some(t.get("page-done-final")),
        _ => None,
    };
    admin_page(
        &state,
        &caller,
        &session,
        &headers,
        &uri,
        Vec::new(),
        Vec::new(),
        done,
        StatusCode::OK,
    )
    .await
}

/// The end of a comment period as typed: a local date (the period ends at the start of the next day at the
/// administration's first office), or nothing.
fn period_end(state: &AppState, text: &str) -> Result<Option<OffsetDateTime>, ()> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let date = time::Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| ())?;
    let next = date.next_day().ok_or(())?;
    let pipeline = state.pipeline();
    let (office, _) = crate::portal::zone_of(&pipeline.administration);
    Ok(Some(
        office
            .and_then(|o| o.day_starts(next))
            .unwrap_or_else(|| next.midnight().assume_utc()),
    ))
}

/// `POST /portal/publications`.
#[utoipa::path(
    post,
    path = "/portal/publications",
    tag = "portal",
    summary = "Publish a procedure, form, fee or draft rule",
    description = "Form fields `csrf`, `kind` (procedure, form, fee, rule), `reference`, `title`, `body`, and for a rule `comments_until` (the last local day comments are taken). Audited. 303 to the page; refused: 422 with the errors at their fields.",
    request_body(content((String = "application/x-www-form-urlencoded"))),
    responses((status = 303, description = "Published"), (status = 403, description = "CSRF token missing or wrong (auth.csrf_invalid)", body = crate::error::ErrorBody), (status = 422, description = "Refused", content((String = "text/html")))),
    security(("session" = []))
)]
pub async fn publish(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Result<Response, ApiError> {
    let fields = posted_form(&headers, &session, &body, MAX_FORM)?;
    let t = state.wording(&headers).language;
    let typed: Vec<(String, String)> = ["kind", "reference", "title", "body", "comments_until"]
        .iter()
        .map(|n| ((*n).to_owned(), field(&fields, n).to_owned()))
        .collect();
    let now = crate::request::now();
    let refused = match period_end(&state, field(&fields, "comments_until")) {
        Err(()) => vec![FieldError {
            field: "comments_until".to_owned(),
            message: t.text(
                "page-date-invalid",
                &[("value", field(&fields, "comments_until"))],
            ),
        }],
        Ok(until) => match publication::check(
            field(&fields, "kind"),
            field(&fields, "reference"),
            field(&fields, "title"),
            field(&fields, "body"),
            until,
            now,
        ) {
            Ok(draft) => match state
                .store
                .add_publication(&crate::access::audit_actor(&caller), &draft, now)
                .await?
            {
                Ok(_) => {
                    return Ok(Redirect::to("/portal/publications?done=published").into_response());
                }
                Err(refused) => field_errors(t, &[refused_as_publication(refused)]),
            },
            Err(refused) => field_errors(t, &refused),
        },
    };
    admin_page(
        &state,
        &caller,
        &session,
        &headers,
        &uri,
        refused,
        typed,
        None,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

/// `POST /portal/publications/{id}/final`.
#[utoipa::path(
    post,
    path = "/portal/publications/{id}/final",
    tag = "portal",
    summary = "Publish a rule's final text",
    description = "Form fields `csrf`, `final_text`. Closes the rule's comments; audited. 303 to the page; refused (not a rule, final already, empty or too long): 422 with the errors.",
    params(("id" = String, Path)),
    request_body(content((String = "application/x-www-form-urlencoded"))),
    responses((status = 303, description = "Published"), (status = 403, description = "CSRF token missing or wrong (auth.csrf_invalid)", body = crate::error::ErrorBody), (status = 404, description = "No such publication", body = crate::error::ErrorBody), (status = 422, description = "Refused", content((String = "text/html")))),
    security(("session" = []))
)]
pub async fn finalise(
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
    let refused = match publication::check_final_text(field(&fields, "final_text")) {
        Ok(text) => match state
            .store
            .finalise_publication(
                &crate::access::audit_actor(&caller),
                &id,
                &text,
                crate::request::now(),
            )
            .await?
        {
            Ok(()) => return Ok(Redirect::to("/portal/publications?done=final").into_response()),
            Err(PublicationRefused::Unknown) => {
                return Err(ApiError::new(error_table::ErrorCode::NotFound));
            }
            Err(other) => refused_as_publication(other),
        },
        Err(refused) => refused,
    };
    let error = FieldError {
        field: format!("final-{id}"),
        message: t.get(refused.message_id()),
    };
    admin_page(
        &state,
        &caller,
        &session,
        &headers,
        &uri,
        vec![error],
        Vec::new(),
        None,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

#[cfg(test)]
mod tests {
    #[test]
    fn text_is_shown_in_its_paragraphs_and_lines() {
        assert_eq!(
            crate::portal::paragraphs("Step 1.\nStep 2.\n\nFees:\nnone"),
            vec![
                vec!["Step 1.".to_owned(), "Step 2.".to_owned()],
                vec!["Fees:".to_owned(), "none".to_owned()]
            ]
        );
    }
}
