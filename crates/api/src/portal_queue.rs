//! `/portal/queue`: an officer's work. Declarations under control of one lane (red: physical examinations,
//! yellow: documentary checks), at one customs office or all, **by priority then oldest first**: the rule set's
//! priority lines (perishable goods, express consignments, authorised operators: TFA Art. 7.8, 7.9) place a
//! declaration in a band when its lane is decided, and the queue is read a page at a time by one index range
//! (`Store::queue`, the cursor a row's `queue_key`), never by offset. Each row names its priority, office, how long
//! it has waited and its examiner (allocated in the transaction that decided its lane, from the officers of its
//! office: `storage::payments::allocate_examiners`); those that found no examiner then are allocated with one
//! button (`portal_inspection::allocate`).

use crate::error::ApiError;
use crate::frame::{Frame, url_encode};
use crate::portal::{local_time, render};
use crate::security::PortalSession;
use crate::{AppState, Caller};
use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Uri};
use axum::response::{Html, IntoResponse, Response};
use selectivity::Lane;
use storage::QueueFilter;
use time::OffsetDateTime;
use wording::Language;
use workflow::Status;

/// Declarations a queue page shows.
const QUEUE_ROWS: i64 = 25;

/// One declaration waiting in the queue.
struct QueueRow {
    id: String,
    lrn: String,
    mrn: String,
    declarant: String,
    office: String,
    /// The priority's name (empty: none).
    priority: String,
    lodged_at: String,
    /// How long it has waited since lodgement, in words.
    waited: String,
    examiner: String,
}

#[derive(Template)]
#[template(path = "queue.html")]
struct QueuePage {
    t: Language,
    frame: Frame,
    zone: String,
    /// The lane tabs: (address, name, current).
    tabs: Vec<(String, String, bool)>,
    lane: String,
    /// The offices to choose from: (code, name, chosen).
    offices: Vec<(String, String, bool)>,
    rows: Vec<QueueRow>,
    /// Whether a row has no examiner yet (then the allocation button is shown).
    unallocated: bool,
    /// The next page's address, if there is one.
    next: Option<String>,
    /// The start of the queue, when this page is not it.
    first: Option<String>,
}

#[derive(serde::Deserialize, Default)]
pub struct QueueQuery {
    lane: Option<String>,
    office: Option<String>,
    after: Option<i64>,
    done: Option<String>,
}

/// How long since `lodged_at`, in the page's language: minutes under an hour, hours under two days, then days.
fn waited(t: Language, lodged_at: &str, now: OffsetDateTime) -> String {
    let Ok(at) = storage::parse_time(lodged_at) else {
        return String::new();
    };
    let minutes = (now - at).whole_minutes().max(0);
    if minutes < 60 {
        t.text("page-waited-minutes", &[("n", &minutes.to_string())])
    } else if minutes < 48 * 60 {
        t.text("page-waited-hours", &[("n", &(minutes / 60).to_string())])
    } else {
        t.text("page-waited-days", &[("n", &(minutes / 1440).to_string())])
    }
}

/// `GET /portal/queue`: declarations under control, by lane and office, priority first.
#[utoipa::path(
    get,
    path = "/portal/queue",
    tag = "portal",
    summary = "The officer's queue",
    description = "Declarations under control of one `lane` (red, the default, or yellow), at one `office` or all, by priority (the rule set's priority lines: perishable goods, express consignments, authorised operators) then oldest first, 25 a page by the queue index (`after`, the last row's key: the link to the next page); each names its priority, office, waiting time and examiner, and links to its page, where the control result is recorded. Officers.",
    params(("lane" = Option<String>, Query), ("office" = Option<String>, Query), ("after" = Option<i64>, Query)),
    responses((status = 200, description = "The page", content((String = "text/html"))), (status = 303, description = "No session: go to /login")),
    security(("session" = []))
)]
pub async fn queue(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    uri: Uri,
    Query(query): Query<QueueQuery>,
) -> Result<Response, ApiError> {
    let t = state.wording(&headers).language;
    let lane = query
        .lane
        .as_deref()
        .and_then(Lane::parse)
        .filter(|l| matches!(l, Lane::Red | Lane::Yellow))
        .unwrap_or(Lane::Red);
    let pipeline = state.pipeline();
    let profile_offices = &pipeline.administration.offices;
    let office = query
        .office
        .as_deref()
        .and_then(|code| profile_offices.iter().find(|o| o.code == code));
    let zone_office = office.or(profile_offices.first());
    let zone = zone_office.map_or_else(|| "UTC".to_owned(), |o| o.time_zone.clone());
    let frame = Frame::signed_in(
        &state,
        &caller,
        &session,
        &headers,
        &uri,
        t.get("page-queue"),
    )
    .with_done(
        query
            .done
            .as_deref()
            .filter(|d| *d == "allocated")
            .map(|_| t.get("page-done-allocated")),
    );
    let address = |lane: Lane, after: Option<i64>| {
        let mut parts = vec![format!("lane={}", lane.as_str())];
        if let Some(o) = office {
            parts.push(format!("office={}", url_encode(&o.code)));
        }
        if let Some(a) = after {
            parts.push(format!("after={a}"));
        }
        format!("/portal/queue?{}", parts.join("&"))
    };
    let mut found = state
        .store
        .queue(&QueueFilter {
            status: Status::UnderControl,
            lane,
            office: office.map(|o| o.code.clone()),
            after: query.after,
            limit: QUEUE_ROWS + 1,
        })
        .await?;
    let next = if found.len() as i64 > QUEUE_ROWS {
        found.truncate(QUEUE_ROWS as usize);
        found.last().map(|r| address(lane, Some(r.queue_key)))
    } else {
        None
    };
    let now = OffsetDateTime::now_utc();
    let mut rows: Vec<QueueRow> = Vec::with_capacity(found.len());
    for row in &found {
        let priority = row
            .workflow_state()
            .ok()
            .and_then(|s| s.priority)
            .map(|p| p.name().to_owned())
            .unwrap_or_default();
        let office_name = row
            .office
            .as_deref()
            .map(|code| {
                profile_offices
                    .iter()
                    .find(|o| o.code == code)
                    .map_or_else(|| code.to_owned(), |o| format!("{} ({code})", o.name))
            })
            .unwrap_or_default();
        rows.push(QueueRow {
            id: row.id.clone(),
            lrn: row.lrn.clone(),
            mrn: row.mrn.clone().unwrap_or_default(),
            declarant: row.declarant.clone(),
            office: office_name,
            priority,
            lodged_at: local_time(&row.lodged_at, zone_office),
            waited: waited(t, &row.lodged_at, now),
            examiner: String::new(),
        });
    }
    // Who examines each declaration.
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut names = std::collections::BTreeMap::new();
    for inspection in state.store.inspections(&ids).await? {
        let Some(examiner) = inspection.examiner else {
            continue;
        };
        if !names.contains_key(&examiner) {
            let name = state
                .store
                .user(&examiner)
                .await?
                .map_or_else(|| examiner.clone(), |u| u.name);
            names.insert(examiner.clone(), name);
        }
        if let Some(row) = rows.iter_mut().find(|r| r.id == inspection.declaration_id) {
            row.examiner = names[&examiner].clone();
        }
    }
    let tabs = [Lane::Red, Lane::Yellow]
        .into_iter()
        .map(|l| {
            (
                address(l, None),
                t.get(&format!("page-queue-{}", l.as_str())),
                l == lane,
            )
        })
        .collect();
    let page = render(&QueuePage {
        t,
        frame,
        zone,
        tabs,
        lane: lane.as_str().to_owned(),
        offices: profile_offices
            .iter()
            .map(|o| {
                (
                    o.code.clone(),
                    o.name.clone(),
                    office.is_some_and(|c| c.code == o.code),
                )
            })
            .collect(),
        unallocated: rows.iter().any(|r| r.examiner.is_empty()),
        rows,
        next,
        first: query.after.map(|_| address(lane, None)),
    })?;
    Ok(Html(page).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiting_times_read_in_minutes_hours_then_days() {
        let now = time::macros::datetime!(2026-12-02 12:00 UTC);
        let t = Language::En;
        for (lodged, expected) in [
            ("2026-12-02T11:55:00Z", "5 min"),
            ("2026-12-02T09:00:00Z", "3 h"),
            ("2026-11-30T13:00:00Z", "47 h"),
            ("2026-11-28T12:00:00Z", "4 days"),
            ("2026-12-03T12:00:00Z", "0 min"),
        ] {
            assert_eq!(waited(t, lodged, now), expected, "{lodged}");
        }
        assert_eq!(waited(t, "not a time", now), "");
    }
}
