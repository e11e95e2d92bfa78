//! The administration as data, at run time (docs/configuration.md): its profile in use, read by anyone; replaced
//! whole, or changed office by office, holiday by holiday and code by code, by administrators. Every change is
//! checked as `aduana config check` checks a file (line-precise errors), saved as a new version with an audit
//! entry in the same transaction, and put in use at once.

use crate::error::ApiError;
use crate::request::{parse_json, read_body};
use crate::{AppState, Caller};
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use error_table::{ErrorCode, Problem};
use serde::Deserialize;
use serde_json::{Value, json};

/// A whole profile to put in use.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileBody {
    /// The profile, TOML (the layout of `aduana config show`).
    pub profile: String,
    /// Why it changes, for the trail.
    pub reason: String,
}

/// An office, added or changed.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfficeBody {
    pub name: String,
    /// IANA time zone, e.g. `Africa/Dakar`.
    pub time_zone: String,
    /// `HH:MM-HH:MM`, local time.
    pub working_hours: String,
    pub reason: String,
}

/// Why a holiday or code is added or removed.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    pub reason: String,
}

/// The profile in use as JSON, with its version.
async fn view(state: &AppState) -> Result<Value, ApiError> {
    let pipeline = state.pipeline();
    let profile = &pipeline.administration;
    let stored = state
        .store
        .current_administration()
        .await
        .map_err(ApiError::internal)?;
    let settings: Value = toml::from_str(&profile.to_toml()).map_err(ApiError::internal)?;
    Ok(json!({
        "version": stored.as_ref().map(|v| v.version),
        "changed_at": stored.as_ref().map(|v| v.changed_at.clone()),
        "changed_by": stored.as_ref().map(|v| v.changed_by.clone()),
        "profile": settings,
        "toml": profile.source,
    }))
}

/// `GET /api/v1/administration`: the administration's profile in use.
#[utoipa::path(
    get,
    path = "/api/v1/administration",
    tag = "administration",
    summary = "The administration's profile in use",
    description = "Its country, languages, national currency and rounding, customs offices with time zones and working hours, calendar, tax types in VAT-base order, code lists and deadlines (docs/configuration.md), as JSON and as the TOML text; `version` is the stored version in use. Public.",
    responses((status = 200, description = "The profile in use", body = serde_json::Value))
)]
pub async fn show(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    Ok(Json(view(&state).await?))
}

/// `GET /api/v1/administration/versions`: every version saved, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/administration/versions",
    tag = "administration",
    summary = "Every version of the profile",
    description = "Newest first, without their texts: version, SHA-256, who changed it, why and when. Auditors and administrators; scope `administration`.",
    responses((status = 200, description = "The versions", body = serde_json::Value), (status = 403, description = "Not an auditor or administrator", body = crate::error::ErrorBody))
)]
pub async fn versions(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let versions = state
        .store
        .administration_versions(1000)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(json!({ "versions": versions })))
}

/// Checks `text` as the profile to put in use, saves it and puts it in use.
async fn apply(
    state: &AppState,
    caller: &Caller,
    text: &str,
    reason: &str,
    pointer_base: &str,
) -> Result<Json<Value>, ApiError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.len() > 500 {
        return Err(ApiError::problems(vec![Problem::with_message(
            ErrorCode::InvalidRequest,
            "/reason",
            "Say why the administration's profile changes (1 to 500 characters).",
        )]));
    }
    let profile = administration::parse(text).map_err(|errors| {
        ApiError::problems(
            errors
                .iter()
                .map(|e| {
                    Problem::with_message(
                        ErrorCode::ProfileInvalid,
                        format!("{pointer_base}/line/{}/column/{}", e.line, e.column),
                        e.message.clone(),
                    )
                })
                .collect(),
        )
    })?;
    let _guard = crate::risk::RELOAD.lock().await;
    let current = state.pipeline();
    if profile.currency.code != current.administration.currency.code {
        return Err(ApiError::problems(vec![Problem::with_message(
            ErrorCode::ProfileInvalid,
            pointer_base,
            format!(
                "The national currency cannot change while the server runs ({} in use): the ledger, the rates \
                 and every amount are in it. Change it in the profile the server starts with.",
                current.administration.currency.code.as_str()
            ),
        )]));
    }
    if let Some((line, message)) = ::administration::misfits(&profile, &current.tariff)
        .into_iter()
        .next()
    {
        return Err(ApiError::problems(vec![Problem::with_message(
            ErrorCode::ProfileInvalid,
            pointer_base,
            format!("The tariff in use does not fit this profile (its line {line}): {message}"),
        )]));
    }
    state
        .store
        .save_administration(
            &crate::access::audit_actor(caller),
            &profile.source,
            reason,
            time::OffsetDateTime::now_utc(),
        )
        .await
        .map_err(ApiError::internal)?;
    state.put_profile_in_use(profile).await?;
    Ok(Json(view(state).await?))
}

/// `PUT /api/v1/administration`: the whole profile replaced.
#[utoipa::path(
    put,
    path = "/api/v1/administration",
    tag = "administration",
    summary = "Replace the administration's profile",
    description = "Checked whole as `aduana config check` checks a file: every mistake answered with its line and column (`/profile/line/L/column/C`). The national currency stays as the server started. Saved as a new version with an audit entry, in use at once. Administrators; scope `administration`.",
    request_body(content((crate::configuration::ProfileBody = "application/json"))),
    responses((status = 200, description = "The profile now in use", body = serde_json::Value), (status = 422, description = "A mistake in the profile (administration.profile_invalid), each with its line", body = crate::error::ErrorBody), (status = 403, description = "Not an administrator", body = crate::error::ErrorBody))
)]
pub async fn replace(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let body: ProfileBody = parse_json(&read_body(&state, body).await?)?;
    apply(&state, &caller, &body.profile, &body.reason, "/profile").await
}

/// The profile in use, changed by `change`, checked and put in use.
async fn change(
    state: &AppState,
    caller: &Caller,
    reason: &str,
    change: impl FnOnce(&mut administration::Profile) -> Result<(), ApiError>,
) -> Result<Json<Value>, ApiError> {
    let mut profile = (*state.pipeline().administration).clone();
    change(&mut profile)?;
    apply(state, caller, &profile.to_toml(), reason, "").await
}

/// `PUT /api/v1/administration/offices/{code}`: an office added or changed.
#[utoipa::path(
    put,
    path = "/api/v1/administration/offices/{code}",
    tag = "administration",
    summary = "Add or change a customs office",
    description = "Its name, IANA time zone and working hours; checked as the profile is. Administrators; scope `administration`.",
    params(("code" = String, Path, description = "The office code declarations name (DE 5/12)")),
    request_body(content((crate::configuration::OfficeBody = "application/json"))),
    responses((status = 200, description = "The profile now in use", body = serde_json::Value), (status = 422, description = "A bad office (administration.profile_invalid)", body = crate::error::ErrorBody))
)]
pub async fn put_office(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(code): Path<String>,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let body: OfficeBody = parse_json(&read_body(&state, body).await?)?;
    let (opens, closes) = administration::parse_hours(&body.working_hours).ok_or_else(|| {
            ApiError::problems(vec![Problem::with_message(
                ErrorCode::InvalidRequest,
                "/working_hours",
                format!(
                    "The working hours {:?} are not a range such as \"08:00-18:00\" (opening before closing).",
                    body.working_hours
                ),
            )])
        })?;
    let office = administration::Office {
        code: code.clone(),
        name: body.name,
        time_zone: body.time_zone,
        opens,
        closes,
    };
    change(&state, &caller, &body.reason, |profile| {
        match profile.offices.iter_mut().find(|o| o.code == code) {
            Some(existing) => *existing = office,
            None => profile.offices.push(office),
        }
        Ok(())
    })
    .await
}

fn holiday(text: &str) -> Result<time::Date, ApiError> {
    time::Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| {
        ApiError::with_message(
            ErrorCode::InvalidRequest,
            format!("{text:?} is not a date such as 2027-12-25."),
        )
    })
}

/// `PUT /api/v1/administration/holidays/{date}`: a holiday added to the calendar.
#[utoipa::path(
    put,
    path = "/api/v1/administration/holidays/{date}",
    tag = "administration",
    summary = "Add a holiday",
    description = "Deadlines counted in working days skip it from now on. Administrators; scope `administration`.",
    params(("date" = String, Path, description = "YYYY-MM-DD")),
    request_body(content((crate::configuration::ReasonBody = "application/json"))),
    responses((status = 200, description = "The profile now in use", body = serde_json::Value))
)]
pub async fn add_holiday(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(date): Path<String>,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let body: ReasonBody = parse_json(&read_body(&state, body).await?)?;
    let date = holiday(&date)?;
    change(&state, &caller, &body.reason, |profile| {
        if !profile.calendar.holidays.contains(&date) {
            profile.calendar.holidays.push(date);
            profile.calendar.holidays.sort();
        }
        Ok(())
    })
    .await
}

/// `DELETE /api/v1/administration/holidays/{date}`: a holiday taken off the calendar.
#[utoipa::path(
    delete,
    path = "/api/v1/administration/holidays/{date}",
    tag = "administration",
    summary = "Remove a holiday",
    description = "Administrators; scope `administration`.",
    params(("date" = String, Path, description = "YYYY-MM-DD")),
    request_body(content((crate::configuration::ReasonBody = "application/json"))),
    responses((status = 200, description = "The profile now in use", body = serde_json::Value), (status = 404, description = "Not a holiday of the calendar", body = crate::error::ErrorBody))
)]
pub async fn remove_holiday(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(date): Path<String>,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let body: ReasonBody = parse_json(&read_body(&state, body).await?)?;
    let date = holiday(&date)?;
    change(&state, &caller, &body.reason, |profile| {
        let before = profile.calendar.holidays.len();
        profile.calendar.holidays.retain(|d| *d != date);
        if profile.calendar.holidays.len() == before {
            return Err(ApiError::with_message(
                ErrorCode::NotFound,
                format!("{date} is not a holiday of the calendar."),
            ));
        }
        Ok(())
    })
    .await
}

/// `PUT /api/v1/administration/procedures/{code}`: a procedure code (DE 1/10) accepted from now on.
#[utoipa::path(
    put,
    path = "/api/v1/administration/procedures/{code}",
    tag = "administration",
    summary = "Accept a procedure code",
    description = "Four digits (DE 1/10). Administrators; scope `administration`.",
    params(("code" = String, Path)),
    request_body(content((crate::configuration::ReasonBody = "application/json"))),
    responses((status = 200, description = "The profile now in use", body = serde_json::Value), (status = 422, description = "Not four digits (administration.profile_invalid)", body = crate::error::ErrorBody))
)]
pub async fn add_procedure(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(code): Path<String>,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let body: ReasonBody = parse_json(&read_body(&state, body).await?)?;
    change(&state, &caller, &body.reason, |profile| {
        if !profile.codes.procedures.contains(&code) {
            profile.codes.procedures.push(code);
        }
        Ok(())
    })
    .await
}

/// `DELETE /api/v1/administration/procedures/{code}`: a procedure code no longer accepted.
#[utoipa::path(
    delete,
    path = "/api/v1/administration/procedures/{code}",
    tag = "administration",
    summary = "Stop accepting a procedure code",
    description = "Declarations lodged from now on under it are rejected (declaration.procedure_not_accepted). Administrators; scope `administration`.",
    params(("code" = String, Path)),
    request_body(content((crate::configuration::ReasonBody = "application/json"))),
    responses((status = 200, description = "The profile now in use", body = serde_json::Value), (status = 404, description = "Not a code in use", body = crate::error::ErrorBody))
)]
pub async fn remove_procedure(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(code): Path<String>,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let body: ReasonBody = parse_json(&read_body(&state, body).await?)?;
    change(&state, &caller, &body.reason, |profile| {
        let before = profile.codes.procedures.len();
        profile.codes.procedures.retain(|c| *c != code);
        if profile.codes.procedures.len() == before {
            return Err(ApiError::with_message(
                ErrorCode::NotFound,
                format!("{code} is not a procedure code in use."),
            ));
        }
        Ok(())
    })
    .await
}
