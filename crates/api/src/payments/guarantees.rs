//! `POST /api/v1/declarations/{id}/guarantee-discharge` and `…/guarantee-call`: once a declaration is released (or
//! cancelled), an officer frees what its guarantee secures (the duties are paid or no longer due), or calls the
//! guarantee (the trader defaulted: the guarantor pays). In the declaration's transaction, recorded as an event.

use crate::access::load_visible;
use crate::declarations::{Asked, execute};
use crate::error::ApiError;
use crate::{AppState, Caller};
use axum::Json;
use axum::extract::{Path, State};
use clearance::Act;
use serde_json::{Value, json};
use workflow::EventKind;

#[utoipa::path(
    post,
    path = "/api/v1/declarations/{id}/guarantee-discharge",
    tag = "payments",
    summary = "Discharge the guarantee of a declaration",
    description = "Officers. Frees the amount the declaration's guarantee (DE 8/3) reserved at lodgement (its duties are paid or no longer due). A retry is answered the same without effect.",
    params(("id" = String, Path)),
    responses((status = 200, description = "discharged or called, with the guarantee account", body = serde_json::Value), (status = 404, description = "No such declaration", body = crate::error::ErrorBody), (status = 409, description = "No guarantee secures it, or it was resolved the other way (ledger.refused)", body = crate::error::ErrorBody))
)]
pub async fn discharge_guarantee(
    state: State<AppState>,
    caller: axum::Extension<Caller>,
    path: Path<String>,
) -> Result<Json<Value>, ApiError> {
    resolve(state, caller, path, false).await
}

#[utoipa::path(
    post,
    path = "/api/v1/declarations/{id}/guarantee-call",
    tag = "payments",
    summary = "Call the guarantee of a declaration",
    description = "Officers. The trader defaulted: the reserved amount is posted, the guarantor owes it.",
    params(("id" = String, Path)),
    responses((status = 200, description = "discharged or called, with the guarantee account", body = serde_json::Value), (status = 404, description = "No such declaration", body = crate::error::ErrorBody), (status = 409, description = "No guarantee secures it, or it was resolved the other way (ledger.refused)", body = crate::error::ErrorBody))
)]
pub async fn call_guarantee(
    state: State<AppState>,
    caller: axum::Extension<Caller>,
    path: Path<String>,
) -> Result<Json<Value>, ApiError> {
    resolve(state, caller, path, true).await
}

async fn resolve(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(id): Path<String>,
    called: bool,
) -> Result<Json<Value>, ApiError> {
    let pipeline = state.pipeline();
    let row = load_visible(&state, &caller, &id).await?;
    let mut amount = String::new();
    let mut guarantees = Vec::new();
    execute(
        &state,
        &crate::access::actor(&caller),
        &row,
        None,
        Vec::new(),
        |_| {
            Ok(Some(Asked {
                act: Act::ResolveGuarantee { called },
                reason: if called {
                    "Guarantee called by an officer: the guarantor pays.".to_owned()
                } else {
                    "Guarantee discharged by an officer.".to_owned()
                },
                version: None,
            }))
        },
        |_, executed| {
            if let Some(executed) = executed {
                for step in &executed.steps {
                    if let EventKind::GuaranteeResolved { amount: a, .. } = &step.event {
                        amount = pipeline.amount_text(*a);
                    }
                }
                guarantees = executed
                    .transfers
                    .iter()
                    .filter(|t| {
                        matches!(
                            t.kind,
                            ledger::TransferKind::PostPending(_)
                                | ledger::TransferKind::VoidPending(_)
                        )
                    })
                    .map(|t| t.debit.clone())
                    .collect();
            }
            Ok(Vec::new())
        },
    )
    .await?;
    let mut accounts = Vec::new();
    for id in guarantees {
        accounts.push(state.store.account(&id).await?);
    }
    Ok(Json(json!({
        "status": if called { "called" } else { "discharged" },
        "amount": amount,
        "guarantee": accounts.into_iter().flatten().next(),
    })))
}
