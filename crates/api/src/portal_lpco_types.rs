//! The Single Window's document types in the portal (issue 19, the administrator's item): every licence, permit
//! and certificate type with its agency, and the form that saves one — its application form's fields, days in
//! force, balance unit, uses, what each DE 2/3 status code means and what a declaration lacking it gets. Sent to
//! `PUT /api/v1/lpco/types/{code}` in-process, so the checks (an agency officer names only its own agency; a code
//! stays with the agency that first saved it) and the audit are the API's. Administrators see every type;
//! an agency's officers theirs.

use crate::error::ApiError;
use crate::frame::{FieldError, Frame, refusal_fields};
use crate::policy::Role;
use crate::portal::{field, posted_form, render};
use crate::security::PortalSession;
use crate::{AppState, Caller};
use askama::Template;
use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use lpco::{Kind, LpcoType, Uses, WhenMissing};
use wording::Language;

/// The form's fields, in their order on the page (the first of them takes an error the API places nowhere else).
const FIELDS: [&str; 13] = [
    "code",
    "agency",
    "kind",
    "title",
    "validity_days",
    "balance_unit",
    "uses",
    "when_missing",
    "fields",
    "held",
    "applied_for",
    "exempt",
    "not_required",
];

struct TypeRow {
    code: String,
    agency: String,
    kind: String,
    title: String,
    validity_days: u32,
    balance_unit: String,
    uses: String,
    when_missing: String,
    fields: String,
}

#[derive(Template)]
#[template(path = "lpco_types.html")]
struct TypesPage {
    t: Language,
    frame: Frame,
    rows: Vec<TypeRow>,
    agencies: Vec<(String, String)>,
    typed: Vec<(String, String)>,
}

impl TypesPage {
    fn typed(&self, name: &str) -> &str {
        self.typed
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Licence => "licence",
        Kind::Permit => "permit",
        Kind::Certificate => "certificate",
        Kind::Other => "other",
    }
}

fn kind_label(t: Language, kind: Kind) -> String {
    t.get(match kind {
        Kind::Licence => "page-lpco-kind-licence",
        Kind::Permit => "page-lpco-kind-permit",
        Kind::Certificate => "page-lpco-kind-certificate",
        Kind::Other => "page-lpco-kind-other",
    })
}

fn uses_label(t: Language, uses: Uses) -> String {
    t.get(match uses {
        Uses::Single => "page-lpco-uses-single",
        Uses::Multiple => "page-lpco-uses-multiple",
    })
}

fn when_missing_label(t: Language, when: WhenMissing) -> String {
    t.get(match when {
        WhenMissing::Refuse => "page-lpco-missing-refuse",
        WhenMissing::Hold => "page-lpco-missing-hold",
    })
}

/// A form's fields as the textarea shows them: one per line, `name: label`, a `*` after a required one.
fn fields_text(fields: &[lpco::register::Field]) -> String {
    fields
        .iter()
        .map(|f| {
            format!(
                "{}: {}{}",
                f.name,
                f.label,
                if f.required { " *" } else { "" }
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The textarea's lines read back (blank lines left out; a line without `:` is its own name and label, which
/// the type's check refuses when it is not a field name).
fn fields_of(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(lpco::register::MAX_FIELDS + 1)
        .map(|line| {
            let (line, required) = match line.strip_suffix('*') {
                Some(rest) => (rest.trim_end(), true),
                None => (line, false),
            };
            let (name, label) = line.split_once(':').unwrap_or((line, line));
            serde_json::json!({"name": name.trim(), "label": label.trim(), "required": required})
        })
        .collect()
}

/// Status codes typed with spaces or commas between them, in capitals.
fn codes_of(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|c| !c.is_empty())
        .take(1000)
        .map(str::to_uppercase)
        .collect()
}

/// A saved type as the form shows it, to change it.
fn typed_of(kind: &LpcoType) -> Vec<(String, String)> {
    let list = |codes: &[String]| codes.join(" ");
    [
        ("code", kind.code.to_string()),
        ("agency", kind.agency.to_string()),
        ("kind", kind_name(kind.kind).to_owned()),
        ("title", kind.title.clone()),
        ("validity_days", kind.validity_days.to_string()),
        (
            "balance_unit",
            kind.balance_unit.clone().unwrap_or_default(),
        ),
        (
            "uses",
            if kind.uses == Uses::Single {
                "single"
            } else {
                "multiple"
            }
            .to_owned(),
        ),
        (
            "when_missing",
            if kind.when_missing == WhenMissing::Hold {
                "hold"
            } else {
                "refuse"
            }
            .to_owned(),
        ),
        ("fields", fields_text(&kind.fields)),
        ("held", list(&kind.statuses.held)),
        ("applied_for", list(&kind.statuses.applied_for)),
        ("exempt", list(&kind.statuses.exempt)),
        ("not_required", list(&kind.statuses.not_required)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// A new type's form: the UK reading of the status codes, 365 days, many uses, refused when missing.
fn blank(agency: Option<String>) -> Vec<(String, String)> {
    let statuses = lpco::Statuses::uk();
    let list = |codes: &[String]| codes.join(" ");
    [
        ("agency", agency.unwrap_or_default()),
        ("validity_days", "365".to_owned()),
        ("held", list(&statuses.held)),
        ("applied_for", list(&statuses.applied_for)),
        ("exempt", list(&statuses.exempt)),
        ("not_required", list(&statuses.not_required)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// The agency an agency officer acts for; `None` for an administrator, who sees every agency.
fn own_agency(caller: &Caller) -> Option<String> {
    (caller.role == Role::Agency).then(|| caller.user.party.clone().unwrap_or_default())
}

#[allow(clippy::too_many_arguments)]
async fn page(
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
    let own = own_agency(caller);
    let ours = |agency: &str| own.as_deref().is_none_or(|o| o == agency);
    let rows = state
        .store
        .lpco_types()
        .await?
        .into_iter()
        .filter(|k| ours(k.agency.as_str()))
        .map(|k| TypeRow {
            code: k.code.to_string(),
            agency: k.agency.to_string(),
            kind: kind_label(t, k.kind),
            title: k.title.clone(),
            validity_days: k.validity_days,
            balance_unit: k.balance_unit.clone().unwrap_or_default(),
            uses: uses_label(t, k.uses),
            when_missing: when_missing_label(t, k.when_missing),
            fields: k
                .fields
                .iter()
                .map(|f| f.label.clone())
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    let agencies = state
        .store
        .agencies()
        .await?
        .into_iter()
        .filter(|a| ours(a.code.as_str()))
        .map(|a| (a.code.to_string(), a.name))
        .collect();
    let frame = Frame::signed_in(
        state,
        caller,
        session,
        headers,
        uri,
        t.get("page-lpco-types"),
    )
    .with_errors(errors)
    .with_done(done);
    let html = render(&TypesPage {
        t,
        frame,
        rows,
        agencies,
        typed,
    })?;
    Ok((code, Html(html)).into_response())
}

#[derive(serde::Deserialize)]
pub struct TypesQuery {
    /// Saved: the code saved.
    done: Option<String>,
    /// The type to change: the form filled with it.
    code: Option<String>,
}

/// `GET /portal/lpco-types`.
#[utoipa::path(
    get,
    path = "/portal/lpco-types",
    tag = "portal",
    summary = "Licence, permit and certificate types (page)",
    description = "Every document type with its agency, kind, days in force, balance unit, uses, what a declaration lacking it gets and its application form; `?code=C640` fills the form with that type to change it. Administrators (every type) and an agency's officers (theirs).",
    params(("code" = Option<String>, Query), ("done" = Option<String>, Query)),
    responses((status = 200, description = "The page", content((String = "text/html")))),
    security(("session" = []))
)]
pub async fn show(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    uri: Uri,
    Query(query): Query<TypesQuery>,
) -> Result<Response, ApiError> {
    let t = state.wording(&headers).language;
    let done = query
        .done
        .as_deref()
        .filter(|code| lpco::DocumentCode::parse(code).is_ok())
        .map(|code| t.with("page-lpco-type-saved", "code", code));
    let own = own_agency(&caller);
    let chosen = match query.code.as_deref() {
        Some(code) => state.store.lpco_types().await?.into_iter().find(|k| {
            k.code.as_str() == code && own.as_deref().is_none_or(|o| o == k.agency.as_str())
        }),
        None => None,
    };
    let typed = chosen.as_ref().map_or_else(|| blank(own), typed_of);
    page(
        &state,
        &caller,
        &session,
        &headers,
        &uri,
        Vec::new(),
        typed,
        done,
        StatusCode::OK,
    )
    .await
}

/// The form field an error of `PUT /api/v1/lpco/types/{code}` is at.
fn field_of(pointer: &str) -> &'static str {
    let first = pointer
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or("");
    if first == "statuses" {
        return "held";
    }
    FIELDS
        .iter()
        .find(|f| **f == first)
        .copied()
        .unwrap_or("code")
}

/// The sentence of a refusal at a field in the page's language: the type's own checks (written in English by the
/// pure crate) are said again here; anything else keeps the API's sentence (already in the language when the
/// error table has it).
fn in_language(t: Language, error: FieldError) -> FieldError {
    let id = match error.field.as_str() {
        "title" => "page-lpco-problem-title",
        "validity_days" => "page-lpco-problem-validity",
        "balance_unit" => "page-lpco-problem-unit",
        "fields" => "page-lpco-problem-fields",
        "held" => "page-lpco-problem-statuses",
        _ => return error,
    };
    let message = t.with(id, "days", &lpco::register::MAX_VALIDITY_DAYS.to_string());
    FieldError { message, ..error }
}

/// `POST /portal/lpco-types`.
#[utoipa::path(
    post,
    path = "/portal/lpco-types",
    tag = "portal",
    summary = "Save a licence, permit or certificate type",
    description = "Form fields `csrf`, `code`, `agency`, `kind` (licence, permit, certificate, other), `title`, `validity_days`, `balance_unit`, `uses` (single, multiple), `when_missing` (refuse, hold), `fields` (one per line, `name: label`, a `*` after a required one), and the status codes by meaning: `held`, `applied_for`, `exempt`, `not_required` (separated by spaces or commas). Saved as `PUT /api/v1/lpco/types/{code}` saves it (audited): 303 to the page; refused: 422 with the errors at their fields.",
    request_body(content((String = "application/x-www-form-urlencoded"))),
    responses((status = 303, description = "Saved"), (status = 403, description = "CSRF token missing or wrong (auth.csrf_invalid)", body = crate::error::ErrorBody), (status = 422, description = "Refused", content((String = "text/html")))),
    security(("session" = []))
)]
pub async fn save(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Result<Response, ApiError> {
    let fields = posted_form(&headers, &session, &body, 64 * 1024)?;
    let t = state.wording(&headers).language;
    let code = field(&fields, "code").trim().to_uppercase();
    let unit = field(&fields, "balance_unit").trim().to_uppercase();
    let days = field(&fields, "validity_days").trim();
    // A number that is not one goes as the text typed: the API's reading refuses it at its field.
    let days = days
        .parse::<u32>()
        .map_or_else(|_| serde_json::json!(days), |d| serde_json::json!(d));
    let request = serde_json::json!({
        "agency": field(&fields, "agency").trim(),
        "kind": field(&fields, "kind"),
        "title": field(&fields, "title"),
        "fields": fields_of(field(&fields, "fields")),
        "validity_days": days,
        "balance_unit": (!unit.is_empty()).then_some(unit),
        "uses": field(&fields, "uses"),
        "when_missing": field(&fields, "when_missing"),
        "statuses": {
            "held": codes_of(field(&fields, "held")),
            "applied_for": codes_of(field(&fields, "applied_for")),
            "exempt": codes_of(field(&fields, "exempt")),
            "not_required": codes_of(field(&fields, "not_required")),
        },
    });
    let outcome = crate::single_window::put_lpco_type(
        State(state.clone()),
        Extension(caller.clone()),
        Path(code.clone()),
        Body::from(serde_json::to_vec(&request).map_err(ApiError::internal)?),
    )
    .await;
    match outcome {
        Ok(_) => Ok(Redirect::to(&format!("/portal/lpco-types?done={code}")).into_response()),
        Err(error) if error.status().is_client_error() => {
            let status = error.status();
            let mut errors: Vec<FieldError> =
                refusal_fields(t, error, "code", |p| field_of(p).to_owned())
                    .into_iter()
                    .map(|e| in_language(t, e))
                    .collect();
            // One sentence per field is enough: the type's check may find the same mistake on many lines.
            let mut seen = std::collections::BTreeSet::new();
            errors.retain(|e| seen.insert(e.field.clone()));
            let typed = FIELDS
                .iter()
                .map(|n| ((*n).to_owned(), field(&fields, n).to_owned()))
                .collect();
            page(
                &state, &caller, &session, &headers, &uri, errors, typed, None, status,
            )
            .await
        }
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forms_fields_read_back_as_they_were_written() {
        let fields = vec![
            lpco::register::Field {
                name: "establishment".into(),
                label: "Approved establishment: number".into(),
                required: true,
            },
            lpco::register::Field {
                name: "vessel".into(),
                label: "Vessel".into(),
                required: false,
            },
        ];
        let read: Vec<lpco::register::Field> = fields_of(&fields_text(&fields))
            .into_iter()
            .map(|v| serde_json::from_value(v).unwrap())
            .collect();
        assert_eq!(read, fields);
        assert_eq!(codes_of("ae, af  xx,,lp"), ["AE", "AF", "XX", "LP"]);
    }

    #[test]
    fn every_pointer_of_the_api_lands_on_a_field_of_the_form() {
        for (pointer, field) in [
            ("/code", "code"),
            ("/agency", "agency"),
            ("/validity_days", "validity_days"),
            ("/statuses/held/0", "held"),
            ("/fields", "fields"),
            ("", "code"),
            ("/somewhere", "code"),
        ] {
            assert_eq!(field_of(pointer), field, "{pointer}");
        }
    }
}
