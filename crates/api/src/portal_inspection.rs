//! Inspection management in the officer's workbench: examiners allocated to the declarations of the control
//! queue (`workflow::inspection::allocate`: the least loaded, rotating among equals), and the inspection act of an
//! examination recorded from the declaration's page — per goods item the quantity and description found, seals,
//! samples, photos or scanner images uploaded with it — whose outcome is the control result: the form calls the
//! API's own handler (`POST /api/v1/declarations/{id}/control-results` with `inspection`), which writes the act and
//! the result in one transaction.

use crate::error::ApiError;
use crate::portal::{field, posted_form};
use crate::security::PortalSession;
use crate::{AppState, Caller};
use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Multipart, Path, State};
use axum::http::{HeaderMap, Request, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use error_table::ErrorCode;
use rust_decimal::Decimal;
use time::OffsetDateTime;
use workflow::inspection::{InspectionAct, ItemFinding, MAX_IMAGES};

/// The parts an inspection form may have (a few per goods item, the images, the rest).
const MAX_PARTS: usize = 3 * workflow::inspection::MAX_FINDINGS + MAX_IMAGES + 20;

/// A multipart form: its text fields and its files (field name, bytes), within the body limit as a whole.
async fn multipart_form(
    state: &AppState,
    request: Request<Body>,
) -> Result<(Vec<(String, String)>, Vec<(String, Vec<u8>)>), ApiError> {
    let limit = state.config.max_body_bytes;
    let mut multipart = Multipart::from_request(request, state)
        .await
        .map_err(|_| crate::request::invalid("/images", "Send the form as multipart/form-data."))?;
    let (mut fields, mut files) = (Vec::new(), Vec::new());
    let mut total = 0usize;
    for _ in 0..MAX_PARTS {
        let Ok(Some(mut part)) = multipart.next_field().await else {
            break;
        };
        let name = part.name().unwrap_or("").to_owned();
        let is_file = part.file_name().is_some();
        let mut bytes = Vec::new();
        loop {
            match part.chunk().await {
                Ok(Some(chunk)) => {
                    total += chunk.len();
                    if total > limit {
                        return Err(ApiError::new(ErrorCode::BodyTooLarge));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(_) => {
                    return Err(crate::request::invalid(
                        "/images",
                        "The upload was cut off; send the form again.",
                    ));
                }
            }
        }
        if is_file {
            if !bytes.is_empty() {
                files.push((name, bytes));
            }
        } else {
            fields.push((name, String::from_utf8_lossy(&bytes).into_owned()));
        }
    }
    Ok((fields, files))
}

/// The act as the form gives it (the images added once stored).
fn act_of(fields: &[(String, String)], items: usize) -> Result<InspectionAct, ApiError> {
    let mut findings = Vec::new();
    for item in 1..=items.min(workflow::inspection::MAX_FINDINGS) {
        let quantity = field(fields, &format!("quantity_{item}")).trim();
        let description = field(fields, &format!("description_{item}")).trim();
        if quantity.is_empty() && description.is_empty() {
            continue;
        }
        let quantity_found = if quantity.is_empty() {
            None
        } else {
            Some(declaration::parse_decimal(quantity).map_err(|_| {
                crate::request::invalid(
                    &format!("/quantity_{item}"),
                    "Give the quantity found as a number, e.g. 12 or 12.5.",
                )
            })?)
        };
        findings.push(ItemFinding {
            item: item as u32,
            quantity_found,
            description_found: description.to_owned(),
        });
    }
    let checked = |name: &str| !field(fields, name).is_empty();
    Ok(InspectionAct {
        findings,
        seals_checked: checked("seals_checked"),
        seals_intact: checked("seals_intact"),
        seal_numbers: field(fields, "seal_numbers")
            .split([',', ' '])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        samples_taken: checked("samples_taken"),
        sample_description: field(fields, "sample_description").trim().to_owned(),
        images: Vec::new(),
    })
}

/// The form's field an API pointer into the act names.
fn field_of(pointer: &str) -> String {
    let rest = pointer.trim_start_matches("/inspection");
    if let Some(finding) = rest.strip_prefix("/findings/") {
        let mut parts = finding.split('/');
        let n: usize = parts.next().and_then(|n| n.parse().ok()).unwrap_or(0);
        let what = parts.next().unwrap_or("");
        return match what {
            "description_found" => format!("description_{}", n + 1),
            _ => format!("quantity_{}", n + 1),
        };
    }
    match rest.trim_start_matches('/').split('/').next().unwrap_or("") {
        "images" => "images".into(),
        "seal_numbers" => "seal_numbers".into(),
        "sample_description" => "sample_description".into(),
        "result" => "inspection-result".into(),
        "irregularity_type" => "act_irregularity_type".into(),
        "additional_duty" => "act_additional_duty".into(),
        other if other.starts_with("quantity_") => other.into(),
        _ => "inspection-result".into(),
    }
}

/// `POST /portal/declarations/{id}/inspection`.
#[utoipa::path(
    post,
    path = "/portal/declarations/{id}/inspection",
    tag = "portal",
    summary = "Record an inspection act (form)",
    description = "multipart/form-data: per goods item `quantity_N`, `description_N` (what was found; empty items are left out); `seals_checked`, `seals_intact`, `seal_numbers`; `samples_taken`, `sample_description`; `images` (PNG or JPEG, up to 20, stored as customs documents by SHA-256); `result` (no_irregularity, irregularity), `irregularity_type`, `additional_duty`, `remarks`; `csrf`. As `POST /api/v1/declarations/{id}/control-results` with `inspection`: the act and the control result in one transaction.",
    params(("id" = String, Path)),
    request_body(content((String = "multipart/form-data"))),
    responses((status = 303, description = "Recorded: back to the declaration's page"), (status = 403, description = "CSRF token missing or wrong", body = crate::error::ErrorBody), (status = 409, description = "Not under control: the page with the error", content((String = "text/html"))), (status = 422, description = "A field is wrong: the page again with an error summary", content((String = "text/html")))),
    security(("session" = []))
)]
pub async fn record(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    request: Request<Body>,
) -> Result<Response, ApiError> {
    let form = multipart_form(&state, request).await;
    let (fields, files) = match form {
        Ok(form) => form,
        Err(error) => {
            return crate::portal_declarations::answer(
                &state,
                &caller,
                &session,
                &headers,
                &uri,
                &id,
                Err(error),
                "inspection",
                "images",
                Vec::new(),
                &field_of,
            )
            .await;
        }
    };
    crate::portal::check_posted(&headers, &session, &fields)?;
    let row = crate::access::load_visible(&state, &caller, &id).await?;
    let items = serde_json::from_str::<declaration::Declaration>(&row.model)
        .map(|d| d.goods_shipment.goods_items.len())
        .map_err(ApiError::internal)?;
    let outcome = async {
        let mut act = act_of(&fields, items)?;
        if files.len() > MAX_IMAGES {
            return Err(crate::request::invalid(
                "/images",
                "An act cites at most 20 images.",
            ));
        }
        for (_, bytes) in &files {
            match crate::documents::sniff(bytes) {
                Some("image/png") | Some("image/jpeg") => {}
                _ => {
                    return Err(ApiError::problems(vec![
                        error_table::Problem::with_message(
                            ErrorCode::DocumentTypeNotAccepted,
                            "/images",
                            "The images are photos or scans as PNG or JPEG files.",
                        ),
                    ]));
                }
            }
        }
        // Stored by SHA-256 before the act cites them (a stored image the act then does not cite is kept as an
        // unused customs document: content-addressed, audited, never half of an act).
        for (_, bytes) in &files {
            let media = crate::documents::sniff(bytes).unwrap_or("image/png");
            let (sha256, _) = state
                .store
                .save_document(
                    &crate::access::audit_actor(&caller),
                    crate::documents::CUSTOMS_OWNER,
                    media,
                    bytes,
                    OffsetDateTime::now_utc(),
                )
                .await?;
            act.images.push(sha256);
        }
        let mut json = serde_json::json!({
            "result": field(&fields, "result"),
            "inspection": act,
        });
        for (form_name, api_name) in [
            ("irregularity_type", "irregularity_type"),
            ("additional_duty", "additional_duty"),
            ("remarks", "remarks"),
        ] {
            let value = field(&fields, form_name).trim();
            if !value.is_empty() {
                json[api_name] = serde_json::json!(value);
            }
        }
        crate::declarations::commands::control_results(
            State(state.clone()),
            Extension(caller.clone()),
            Path(id.clone()),
            Body::from(json.to_string()),
        )
        .await
        .map(|_| ())
    }
    .await;
    let typed = fields
        .iter()
        .filter(|(k, _)| k != "csrf")
        .cloned()
        .collect();
    crate::portal_declarations::answer(
        &state,
        &caller,
        &session,
        &headers,
        &uri,
        &id,
        outcome,
        "inspection",
        "inspection-result",
        typed,
        &field_of,
    )
    .await
}

/// `POST /portal/queue/allocation`.
#[utoipa::path(
    post,
    path = "/portal/queue/allocation",
    tag = "portal",
    summary = "Allocate examiners to the queue's declarations (form)",
    description = "Form fields `id` (repeated: the declarations listed, at most 100), `back` (the queue page to return to), `csrf`. Each declaration under control without an examiner gets the active officer with the fewest open inspections, rotating among equals by a hash of declaration and officer (the same on every server); one already allocated keeps its examiner. Audited.",
    request_body(content((String = "application/x-www-form-urlencoded"))),
    responses((status = 303, description = "Allocated: back to the queue"), (status = 403, description = "CSRF token missing or wrong", body = crate::error::ErrorBody)),
    security(("session" = []))
)]
pub async fn allocate(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let fields = posted_form(&headers, &session, &body, 16 * 1024)?;
    let ids: Vec<String> = fields
        .iter()
        .filter(|(k, _)| k == "id")
        .map(|(_, v)| v.clone())
        .take(100)
        .collect();
    let allocated = state.store.inspections(&ids).await?;
    // The examiners of each office (and of any office), loaded once each.
    let mut teams: std::collections::BTreeMap<Option<String>, Vec<(String, u64)>> =
        std::collections::BTreeMap::new();
    let actor = crate::access::audit_actor(&caller);
    for id in &ids {
        if allocated
            .iter()
            .any(|i| i.declaration_id == *id && i.examiner.is_some())
        {
            continue;
        }
        let Some(row) = state.store.declaration(id).await? else {
            continue;
        };
        if row.status != workflow::Status::UnderControl {
            continue;
        }
        if !teams.contains_key(&row.office) {
            let team = state
                .store
                .examiner_workloads(row.office.as_deref())
                .await?;
            teams.insert(row.office.clone(), team);
        }
        let Some(team) = teams.get_mut(&row.office) else {
            continue;
        };
        let Some(examiner) = workflow::inspection::allocate(id, team).map(str::to_owned) else {
            continue;
        };
        if state
            .store
            .allocate_examiner(&actor, id, &examiner, OffsetDateTime::now_utc())
            .await?
        {
            // Every team the examiner is in counts the new inspection.
            for team in teams.values_mut() {
                if let Some(load) = team.iter_mut().find(|(e, _)| *e == examiner) {
                    load.1 += 1;
                }
            }
        }
    }
    let back = crate::frame::local_path(Some(field(&fields, "back")));
    let back = if back.starts_with("/portal/queue") {
        back
    } else {
        "/portal/queue"
    };
    let joiner = if back.contains('?') { '&' } else { '?' };
    Ok(Redirect::to(&format!("{back}{joiner}done=allocated")).into_response())
}

/// `GET /portal/documents/{sha256}`.
#[utoipa::path(
    get,
    path = "/portal/documents/{sha256}",
    tag = "portal",
    summary = "A document, from the session",
    description = "As `GET /api/v1/documents/{sha256}` (an inspection's images, an application's documents) for someone signed in to the portal.",
    params(("sha256" = String, Path)),
    responses((status = 200, description = "The document"), (status = 404, description = "None visible to you", body = crate::error::ErrorBody)),
    security(("session" = []))
)]
pub async fn document(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(sha256): Path<String>,
) -> Result<Response, ApiError> {
    crate::documents::download(State(state), Extension(caller), Path(sha256)).await
}

/// The recorded act as the declaration's page shows it.
pub(crate) struct ActView {
    pub findings: Vec<(u32, String, String)>,
    pub seals: String,
    pub samples: String,
    /// (SHA-256, label).
    pub images: Vec<(String, String)>,
    pub recorded_at: String,
}

/// A goods item of the act's form: its legend and its fields' names.
pub(crate) struct InspectItem {
    pub legend: String,
    pub quantity_field: String,
    pub description_field: String,
}

/// The form's goods items: (number, description) in the declaration's order, the n-th named `quantity_n`.
pub(crate) fn inspect_items(t: wording::Language, items: &[(u32, String)]) -> Vec<InspectItem> {
    items
        .iter()
        .enumerate()
        .map(|(n, (number, description))| {
            let item = t.with("page-act-item", "item", &number.to_string());
            InspectItem {
                legend: if description.is_empty() {
                    item
                } else {
                    format!("{item}: {description}")
                },
                quantity_field: format!("quantity_{}", n + 1),
                description_field: format!("description_{}", n + 1),
            }
        })
        .collect()
}

pub(crate) fn act_view(
    t: wording::Language,
    inspection: &storage::Inspection,
    office: Option<&administration::Office>,
) -> Option<ActView> {
    let act: InspectionAct = serde_json::from_str(inspection.act.as_deref()?).ok()?;
    let yes_no = |b: bool| t.get(if b { "page-yes" } else { "page-no" });
    Some(ActView {
        findings: act
            .findings
            .iter()
            .map(|f| {
                (
                    f.item,
                    f.quantity_found
                        .map(|q: Decimal| q.normalize().to_string())
                        .unwrap_or_default(),
                    f.description_found.clone(),
                )
            })
            .collect(),
        seals: if act.seals_checked {
            t.text(
                "page-act-seals-checked",
                &[
                    ("intact", &yes_no(act.seals_intact)),
                    ("numbers", &act.seal_numbers.join(", ")),
                ],
            )
        } else {
            t.get("page-act-seals-not-checked")
        },
        samples: if act.samples_taken {
            t.with(
                "page-act-samples-taken",
                "description",
                &act.sample_description,
            )
        } else {
            t.get("page-act-no-samples")
        },
        images: act
            .images
            .into_iter()
            .enumerate()
            .map(|(n, sha)| (sha, t.with("page-act-image", "n", &(n + 1).to_string())))
            .collect(),
        recorded_at: inspection
            .recorded_at
            .as_deref()
            .map(|at| crate::portal::local_time(at, office))
            .unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_act_pointer_names_its_form_field() {
        assert_eq!(
            field_of("/inspection/findings/0/quantity_found"),
            "quantity_1"
        );
        assert_eq!(
            field_of("/inspection/findings/2/description_found"),
            "description_3"
        );
        assert_eq!(field_of("/inspection/images/3"), "images");
        assert_eq!(field_of("/irregularity_type"), "act_irregularity_type");
    }

    #[test]
    fn the_form_gives_the_items_described_only() {
        let fields: Vec<(String, String)> = [
            ("quantity_1", "10"),
            ("description_1", "Shavers"),
            ("quantity_2", ""),
            ("seals_checked", "on"),
            ("seal_numbers", "S1, S2"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let act = act_of(&fields, 2).unwrap();
        assert_eq!(act.findings.len(), 1);
        assert_eq!(act.findings[0].quantity_found, Some(Decimal::from(10)));
        assert!(act.seals_checked && !act.seals_intact);
        assert_eq!(act.seal_numbers, ["S1", "S2"]);
        let wrong = vec![("quantity_1".to_owned(), "ten".to_owned())];
        assert_eq!(
            act_of(&wrong, 1).unwrap_err().errors[0].pointer,
            "/quantity_1"
        );
    }
}
