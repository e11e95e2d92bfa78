//! Commands on a lodged declaration: arrival, control results, lane overrides, release, cancellation, amendment,
//! and a payment recorded at a customs counter. Each goes through [`super::execute`]: the lifecycle, the money and
//! the automatic steps in one transaction.

use super::{Asked, DeclarationSummary, apply, execute, parse_document, summary};
use crate::access::{actor, load_visible};
use crate::error::ApiError;
use crate::request::{invalid, is_xml, json_body, limited, read_body};
use crate::{AppState, Caller};
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::{Extension, Json};
use clearance::Act;
use declaration::{AdditionalMessage, AdditionalMessageType};
use error_table::{ErrorCode, Problem};
use rust_decimal::Decimal;
use selectivity::Lane;
use serde::Deserialize;
use storage::DeclarationRow;
use workflow::{Command, ControlResult, PaymentSource};

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReasonBody {
    /// Why, in a sentence (at most 500 characters); a default sentence when absent.
    #[serde(default)]
    pub reason: Option<String>,
}

/// `POST …/arrival`: the goods are presented (a JSON `{reason}`, or a WCO goods presentation, function code 13 GPR).
#[utoipa::path(
    post,
    path = "/api/v1/declarations/{id}/arrival",
    tag = "declarations",
    summary = "Notify the arrival of the goods",
    description = "For pre-lodged declarations: nothing is released before arrival. Traders (own declarations) and officers.",
    params(("id" = String, Path, description = "The declaration's id (returned at lodgement).")),
    request_body(content((crate::declarations::commands::ReasonBody = "application/json"), (String = "application/xml")), description = "application/xml: A WCO DEC-DMS 2 goods presentation: function code 13, TypeCode GPR, ID = this declaration's MRN (docs/lifecycle.md)."),
    responses((status = 200, description = "The declaration after the command and every automatic step that followed.", body = crate::declarations::DeclarationSummary), (status = 404, description = "No such declaration, or not yours (request.not_found).", body = crate::error::ErrorBody), (status = 409, description = "Not allowed in the current status (lifecycle.transition_not_allowed).", body = crate::error::ErrorBody), (status = 422, description = "The request body is invalid (request.invalid), with a JSON pointer.", body = crate::error::ErrorBody), (status = 401, description = "No valid bearer token (auth.unauthenticated).", body = crate::error::ErrorBody), (status = 403, description = "The role may not call this route (auth.forbidden).", body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub(crate) async fn arrival(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    request: Request,
) -> Result<Json<DeclarationSummary>, ApiError> {
    let (parts, body) = request.into_parts();
    let reason = if is_xml(&parts.headers) {
        let row = load_visible(&state, &caller, &id).await?;
        let bytes = read_body(&state, body).await?;
        let message = additional_message(
            &state,
            &bytes,
            AdditionalMessageType::GoodsPresentation,
            &row,
        )?;
        message_reason(&message, "Arrival of the goods notified.")?
    } else {
        let body: ReasonBody = json_body(&state, body, true).await?;
        limited(body.reason, "Arrival of the goods notified.")?
    };
    apply(&state, &caller, &id, Command::NotifyArrival, reason).await
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ControlResultBody)]
pub(crate) struct ControlBody {
    /// `no_irregularity` or `irregularity`.
    #[schema(value_type = ControlOutcome)]
    result: String,
    /// For an irregularity: its kind, e.g. classification, valuation, origin, quantity, prohibited_goods.
    #[serde(default)]
    irregularity_type: Option<String>,
    /// For an irregularity: duty found missing, a decimal string; the declaration is assessed again with it.
    #[serde(default, with = "rust_decimal::serde::str_option")]
    additional_duty: Option<Decimal>,
    #[serde(default)]
    remarks: Option<String>,
    /// The examination's act (per item: quantity and description found; seals; samples; images uploaded as
    /// documents), recorded with this result in the same transaction.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    inspection: Option<workflow::inspection::InspectionAct>,
}

/// What a control found.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)] // a schema only: the body reads it as text and checks it
pub(crate) enum ControlOutcome {
    NoIrregularity,
    Irregularity,
}

/// `POST …/control-results`: an officer records the documentary check's or examination's outcome.
#[utoipa::path(
    post,
    path = "/api/v1/declarations/{id}/control-results",
    tag = "declarations",
    summary = "Record the officer's control result",
    description = "Officers. `no_irregularity` lets the declaration go on to assessment; `irregularity` keeps it under control until an amendment or a later result. With `inspection` (the examination's act: `findings` per goods item with `item`, `quantity_found`, `description_found`; `seals_checked`, `seals_intact`, `seal_numbers`; `samples_taken`, `sample_description`; `images`, SHA-256s of images officers uploaded by `POST /api/v1/documents`) the act is stored in the same transaction as the result, or neither.",
    params(("id" = String, Path, description = "The declaration's id (returned at lodgement).")),
    request_body(content((crate::declarations::commands::ControlBody = "application/json"))),
    responses((status = 200, description = "The declaration after the command and every automatic step that followed.", body = crate::declarations::DeclarationSummary), (status = 404, description = "No such declaration, or not yours (request.not_found).", body = crate::error::ErrorBody), (status = 409, description = "Not allowed in the current status (lifecycle.transition_not_allowed).", body = crate::error::ErrorBody), (status = 422, description = "The request body is invalid (request.invalid), with a JSON pointer.", body = crate::error::ErrorBody), (status = 401, description = "No valid bearer token (auth.unauthenticated).", body = crate::error::ErrorBody), (status = 403, description = "The role may not call this route (auth.forbidden).", body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub(crate) async fn control_results(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Body,
) -> Result<Json<DeclarationSummary>, ApiError> {
    let body: ControlBody = json_body(&state, body, false).await?;
    let outcome = match body.result.as_str() {
        "no_irregularity" => ControlResult::NoIrregularity,
        "irregularity" => {
            if body
                .additional_duty
                .is_some_and(|d| d.is_sign_negative() || !declaration::within_declared_limit(d))
            {
                return Err(invalid(
                    "/additional_duty",
                    "The additional duty is a positive amount of at most 16 digits.",
                ));
            }
            ControlResult::Irregularity {
                irregularity_type: body
                    .irregularity_type
                    .clone()
                    .filter(|t| !t.trim().is_empty())
                    .ok_or_else(|| {
                        invalid(
                            "/irregularity_type",
                            "Say what kind of irregularity was found.",
                        )
                    })?,
                additional_duty: body.additional_duty,
            }
        }
        _ => {
            return Err(invalid(
                "/result",
                "The result is no_irregularity or irregularity.",
            ));
        }
    };
    let reason = limited(body.remarks, "Control result recorded.")?;
    let Some(act) = body.inspection else {
        return apply(
            &state,
            &caller,
            &id,
            Command::RecordControl { outcome },
            reason,
        )
        .await;
    };
    let row = load_visible(&state, &caller, &id).await?;
    let items = serde_json::from_str::<declaration::Declaration>(&row.model)
        .map(|d| d.goods_shipment.goods_items.len())
        .map_err(ApiError::internal)?;
    act.check(items)
        .map_err(|f| invalid(&format!("/inspection{}", f.pointer), &f.message))?;
    for (n, image) in act.images.iter().enumerate() {
        if !state
            .store
            .document_owned_by(image, crate::documents::CUSTOMS_OWNER)
            .await?
        {
            return Err(ApiError::problems(vec![Problem::with_message(
                ErrorCode::DocumentUnknown,
                format!("/inspection/images/{n}"),
                "No image an officer uploaded has this SHA-256: upload it first.",
            )]));
        }
    }
    let write = storage::Write::InspectionAct {
        declaration_id: row.id.clone(),
        act: serde_json::to_string(&act).map_err(ApiError::internal)?,
        recorded_by: caller.user.id.clone(),
        recorded_by_role: caller.role.as_str().to_owned(),
    };
    let command = Command::RecordControl { outcome };
    let row = super::execute(
        &state,
        &actor(&caller),
        &row,
        None,
        Vec::new(),
        move |_| {
            Ok(Some(Asked {
                act: Act::Lifecycle(command),
                reason,
                version: None,
            }))
        },
        |_, _| Ok(vec![write]),
    )
    .await?;
    Ok(Json(summary(&row)))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = LaneOverrideBody)]
pub(crate) struct LaneBody {
    #[schema(value_type = Lane)]
    lane: String,
    /// Required: why the officer overrides the lane.
    reason: String,
}

/// `POST …/lane`: an officer overrides the lane, with a reason; the declaration is assessed again after its control.
#[utoipa::path(
    post,
    path = "/api/v1/declarations/{id}/lane",
    tag = "declarations",
    summary = "Override the lane",
    description = "Officers, with a reason.",
    params(("id" = String, Path, description = "The declaration's id (returned at lodgement).")),
    request_body(content((crate::declarations::commands::LaneBody = "application/json"))),
    responses((status = 200, description = "The declaration after the command and every automatic step that followed.", body = crate::declarations::DeclarationSummary), (status = 404, description = "No such declaration, or not yours (request.not_found).", body = crate::error::ErrorBody), (status = 409, description = "Not allowed in the current status (lifecycle.transition_not_allowed).", body = crate::error::ErrorBody), (status = 422, description = "The request body is invalid (request.invalid), with a JSON pointer.", body = crate::error::ErrorBody), (status = 401, description = "No valid bearer token (auth.unauthenticated).", body = crate::error::ErrorBody), (status = 403, description = "The role may not call this route (auth.forbidden).", body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub(crate) async fn override_lane(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Body,
) -> Result<Json<DeclarationSummary>, ApiError> {
    let body: LaneBody = json_body(&state, body, false).await?;
    let lane = Lane::parse(&body.lane)
        .ok_or_else(|| invalid("/lane", "The lane is green, blue, yellow or red."))?;
    if body.reason.trim().is_empty() {
        return Err(invalid("/reason", "An override needs a reason."));
    }
    let reason = limited(Some(body.reason), "")?;
    apply(&state, &caller, &id, Command::OverrideLane { lane }, reason).await
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PaymentBody {
    /// The amount paid at the counter, a decimal string in the national currency.
    #[serde(with = "rust_decimal::serde::str")]
    amount: Decimal,
    /// The counter's receipt reference: 1 to 64 letters, digits, spaces or - _ . /.
    reference: String,
}

/// The account that money paid at a customs counter comes through.
pub(crate) const COUNTER: &str = "COUNTER";

/// `POST …/payments`: an officer records money paid at a customs counter. It is posted to the ledger
/// (`bank:COUNTER → receivable`) in the same transaction as the payment event (finding 9 of issue 14: it used to
/// release the goods and post nothing).
#[utoipa::path(
    post,
    path = "/api/v1/declarations/{id}/payments",
    tag = "declarations",
    summary = "Record a payment",
    description = "Officers (the bank webhook comes with the payments work). When the amount paid covers what is due now, the declaration is settled and, if nothing else stops it, released. The money is posted to the ledger (bank:COUNTER → the declaration's receivable) in the same transaction.",
    params(("id" = String, Path, description = "The declaration's id (returned at lodgement).")),
    request_body(content((crate::declarations::commands::PaymentBody = "application/json"))),
    responses((status = 200, description = "The declaration after the command and every automatic step that followed.", body = crate::declarations::DeclarationSummary), (status = 404, description = "No such declaration, or not yours (request.not_found).", body = crate::error::ErrorBody), (status = 409, description = "Not allowed in the current status (lifecycle.transition_not_allowed).", body = crate::error::ErrorBody), (status = 422, description = "The request body is invalid (request.invalid), with a JSON pointer.", body = crate::error::ErrorBody), (status = 401, description = "No valid bearer token (auth.unauthenticated).", body = crate::error::ErrorBody), (status = 403, description = "The role may not call this route (auth.forbidden).", body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub(crate) async fn payment(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Body,
) -> Result<Json<DeclarationSummary>, ApiError> {
    let body: PaymentBody = json_body(&state, body, false).await?;
    let reference_ok = !body.reference.trim().is_empty()
        && body.reference.len() <= 64
        && body
            .reference
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./ ".contains(&b));
    if !reference_ok {
        return Err(invalid(
            "/reference",
            "Give the payment reference (1 to 64 letters, digits, spaces or - _ . /).",
        ));
    }
    if body.amount <= Decimal::ZERO
        || body.amount.scale() > 2
        || body.amount > state.pipeline().max_amount
    {
        return Err(invalid(
            "/amount",
            &format!(
                "The amount is positive, with at most 2 decimals, and at most {}.",
                state.pipeline().max_amount
            ),
        ));
    }
    let row = load_visible(&state, &caller, &id).await?;
    let account = ledger::customs::bank(COUNTER);
    let reference = body.reference.trim().to_owned();
    let reason = format!("Payment {reference} received at a customs counter.");
    let row = execute(
        &state,
        &actor(&caller),
        &row,
        None,
        vec![account.clone()],
        move |context| {
            let transfer = ledger::TransferId::parse(&format!(
                "counter:{}:{}",
                context.row.ledger_key(),
                context.stamp
            ))
            .map_err(ApiError::internal)?;
            Ok(Some(Asked {
                act: Act::Payment {
                    amount: body.amount,
                    reference,
                    source: PaymentSource::Counter,
                    account,
                    transfer,
                },
                reason,
                version: None,
            }))
        },
        // An open payment order the counter payment settles is paid too (finding 9: it stayed open).
        |context, executed| {
            let settled = executed.is_some_and(|e| {
                e.state.status != workflow::Status::AwaitingPayment
                    || e.state.outstanding() <= Decimal::ZERO
            });
            Ok(context
                .orders
                .iter()
                .filter(|o| settled && o.status == storage::OrderStatus::Open)
                .map(|o| storage::Write::OrderStatus {
                    reference: o.reference.clone(),
                    status: storage::OrderStatus::Paid,
                })
                .collect())
        },
    )
    .await?;
    Ok(Json(summary(&row)))
}

/// `POST …/release`: an officer releases (when automatic release is off, or after a hold).
#[utoipa::path(
    post,
    path = "/api/v1/declarations/{id}/release",
    tag = "declarations",
    summary = "Release the goods",
    description = "Officers. Refused unless the goods have arrived, the control has passed and the duties are settled. With automatic release (the default) release happens as soon as these hold.",
    params(("id" = String, Path, description = "The declaration's id (returned at lodgement).")),
    request_body(content((crate::declarations::commands::ReasonBody = "application/json"))),
    responses((status = 200, description = "The declaration after the command and every automatic step that followed.", body = crate::declarations::DeclarationSummary), (status = 404, description = "No such declaration, or not yours (request.not_found).", body = crate::error::ErrorBody), (status = 409, description = "Not allowed in the current status (lifecycle.transition_not_allowed).", body = crate::error::ErrorBody), (status = 422, description = "The request body is invalid (request.invalid), with a JSON pointer.", body = crate::error::ErrorBody), (status = 401, description = "No valid bearer token (auth.unauthenticated).", body = crate::error::ErrorBody), (status = 403, description = "The role may not call this route (auth.forbidden).", body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub(crate) async fn release(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Body,
) -> Result<Json<DeclarationSummary>, ApiError> {
    let body: ReasonBody = json_body(&state, body, true).await?;
    let reason = limited(body.reason, "Released by an officer.")?;
    apply(&state, &caller, &id, Command::Release, reason).await
}

/// `POST …/exit`: the released goods left the customs area — the gate-out of an import from temporary storage, the
/// exit of an export at the office of exit — once; it closes the declaration's Time Release Study record.
#[utoipa::path(
    post,
    path = "/api/v1/declarations/{id}/exit",
    tag = "declarations",
    summary = "Confirm that the released goods left the customs area (gate-out or exit)",
    description = "Officers (at the gate or the office of exit), once, after release: the gate-out of an import, the exit of an export. The trader is notified (`exit`); the Time Release Study measures release to exit and lodgement to exit.",
    params(("id" = String, Path, description = "The declaration's id (returned at lodgement).")),
    request_body(content((crate::declarations::commands::ReasonBody = "application/json"))),
    responses((status = 200, description = "The declaration after the command.", body = crate::declarations::DeclarationSummary), (status = 404, description = "No such declaration (request.not_found).", body = crate::error::ErrorBody), (status = 409, description = "Not released, or already recorded as gone (lifecycle.transition_not_allowed).", body = crate::error::ErrorBody), (status = 422, description = "The request body is invalid (request.invalid), with a JSON pointer.", body = crate::error::ErrorBody), (status = 401, description = "No valid bearer token (auth.unauthenticated).", body = crate::error::ErrorBody), (status = 403, description = "The role may not call this route (auth.forbidden).", body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub(crate) async fn exit(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Body,
) -> Result<Json<DeclarationSummary>, ApiError> {
    let body: ReasonBody = json_body(&state, body, true).await?;
    let reason = limited(body.reason, "The goods left the customs area.")?;
    apply(&state, &caller, &id, Command::ConfirmExit, reason).await
}

/// `POST …/cancellation`: the trader cancels before release (a JSON `{reason}`, or a WCO invalidation, function
/// code 13 INV). Everything assessed, deferred or reserved is given back in the same transaction; what was paid is
/// owed back as a credit.
#[utoipa::path(
    post,
    path = "/api/v1/declarations/{id}/cancellation",
    tag = "declarations",
    summary = "Cancel the declaration",
    description = "Before release; traders (own declarations) and officers; a reason is required.",
    params(("id" = String, Path, description = "The declaration's id (returned at lodgement).")),
    request_body(content((crate::declarations::commands::ReasonBody = "application/json"), (String = "application/xml")), description = "application/xml: A WCO DEC-DMS 2 invalidation: function code 13, TypeCode INV, ID = this declaration's MRN, an Amendment with its ChangeReasonCode and the reason as AdditionalInformation of type AES (docs/lifecycle.md)."),
    responses((status = 200, description = "The declaration after the command and every automatic step that followed.", body = crate::declarations::DeclarationSummary), (status = 404, description = "No such declaration, or not yours (request.not_found).", body = crate::error::ErrorBody), (status = 409, description = "Not allowed in the current status (lifecycle.transition_not_allowed).", body = crate::error::ErrorBody), (status = 422, description = "The request body is invalid (request.invalid), with a JSON pointer.", body = crate::error::ErrorBody), (status = 401, description = "No valid bearer token (auth.unauthenticated).", body = crate::error::ErrorBody), (status = 403, description = "The role may not call this route (auth.forbidden).", body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub(crate) async fn cancellation(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    request: Request,
) -> Result<Json<DeclarationSummary>, ApiError> {
    let (parts, body) = request.into_parts();
    // Whose declaration it is comes first: another party gets "not found" whatever it sends.
    let row = load_visible(&state, &caller, &id).await?;
    let reason = if is_xml(&parts.headers) {
        // A WCO invalidation (function code 13, type INV): its AES text is the reason (the reader insists on one).
        let bytes = read_body(&state, body).await?;
        let message =
            additional_message(&state, &bytes, AdditionalMessageType::Invalidation, &row)?;
        message_reason(&message, "")?
    } else {
        let body: ReasonBody = json_body(&state, body, false).await?;
        if body.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
            return Err(invalid("/reason", "A cancellation needs a reason."));
        }
        limited(body.reason, "")?
    };
    let row = super::lifecycle(&state, &actor(&caller), &row, Command::Cancel, reason).await?;
    Ok(Json(summary(&row)))
}

/// `POST …/amendments`: a new version of the declaration (same LRN and declarant), kept beside every earlier one,
/// assessed and secured again.
#[utoipa::path(
    post,
    path = "/api/v1/declarations/{id}/amendments",
    tag = "declarations",
    summary = "Amend the declaration (a new version)",
    description = "Traders, before release: send the whole amended declaration (same LRN and declarant) as XML or JSON. It is assessed again.",
    params(("id" = String, Path, description = "The declaration's id (returned at lodgement).")),
    request_body(content((String = "application/xml"), (declaration::Declaration = "application/json"))),
    responses((status = 200, description = "The declaration after the amendment", body = crate::declarations::DeclarationSummary), (status = 404, description = "No such declaration, or not yours.", body = crate::error::ErrorBody), (status = 409, description = "Not allowed in the current status.", body = crate::error::ErrorBody), (status = 422, description = "The amended declaration is invalid.", body = crate::error::ErrorBody), (status = 401, description = "No valid bearer token (auth.unauthenticated).", body = crate::error::ErrorBody), (status = 403, description = "The role may not call this route (auth.forbidden).", body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub(crate) async fn amendment(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    request: Request,
) -> Result<Json<DeclarationSummary>, ApiError> {
    let (parts, body) = request.into_parts();
    // Whose declaration it is comes first: another party gets "not found" whatever it sends.
    let row = load_visible(&state, &caller, &id).await?;
    let bytes = read_body(&state, body).await?;
    let parsed = parse_document(&state, &parts.headers, &bytes)?;
    let declaration = parsed.declaration;
    if declaration.lrn.as_str() != row.lrn
        || declaration.declarant_id().map(|p| p.as_str()) != Some(row.declarant.as_str())
    {
        return Err(invalid(
            "/MetaData/Declaration/FunctionalReferenceID",
            "An amendment keeps the LRN and declarant of the declaration it amends.",
        ));
    }
    let version = Received {
        format: parsed.format.to_owned(),
        document: parsed.document,
        model: parsed.model,
    };
    let row = new_version(
        &state,
        &caller,
        &row,
        declaration,
        version,
        "Amended by the trader.".to_owned(),
    )
    .await?;
    Ok(Json(summary(&row)))
}

/// What a new version keeps: the document as received, in its format, and the model it stands for.
struct Received {
    format: String,
    document: String,
    model: String,
}

/// Stores `declaration` as the next version of `row` (amendment or correction): assessed, secured and laned again in
/// the transaction that stores it.
async fn new_version(
    state: &AppState,
    caller: &Caller,
    row: &DeclarationRow,
    declaration: declaration::Declaration,
    received: Received,
    reason: String,
) -> Result<DeclarationRow, ApiError> {
    let content_hash = clearance::content_hash(received.model.as_bytes());
    let version = storage::NewVersion {
        format: received.format,
        document: received.document,
        model: received.model,
        content_hash: content_hash.clone(),
        received_by: crate::access::audit_actor(caller),
    };
    let amended = declaration.clone();
    execute(
        state,
        &actor(caller),
        row,
        Some(&amended),
        Vec::new(),
        move |_| {
            Ok(Some(Asked {
                act: Act::Amend {
                    declaration: Box::new(declaration),
                    content_hash,
                },
                reason,
                version: Some(version),
            }))
        },
        |_, _| Ok(Vec::new()),
    )
    .await
}

/// `POST …/corrections`: a WCO correction (function code 13, COR) applied to the current version: its pointers must
/// name what it carries; the declaration as corrected is a new version (the correction as received kept with it),
/// assessed, secured and laned again as an amendment is.
#[utoipa::path(
    post,
    path = "/api/v1/declarations/{id}/corrections",
    tag = "declarations",
    summary = "Correct the declaration (function code 13, COR)",
    description = "Traders, before release: a WCO DEC-DMS 2 correction (XML) or its JSON twin (the function code 13 message's form) naming this declaration's MRN, with an Amendment per change (change reason code, pointers from the declaration, 42A, down) and the changed data laid out as in a declaration. Applied as docs/corrections.md says; the result is a new version, assessed again.",
    params(("id" = String, Path, description = "The declaration's id (returned at lodgement).")),
    request_body(content((String = "application/xml"), (declaration::AdditionalMessage = "application/json"))),
    responses((status = 200, description = "The declaration after the correction", body = crate::declarations::DeclarationSummary), (status = 404, description = "No such declaration, or not yours.", body = crate::error::ErrorBody), (status = 409, description = "Not allowed in the current status (lifecycle.transition_not_allowed), naming the pointer.", body = crate::error::ErrorBody), (status = 422, description = "The correction is invalid, a pointer does not resolve (declaration.pointer_unresolved), or the declaration as corrected is invalid.", body = crate::error::ErrorBody), (status = 401, description = "No valid bearer token (auth.unauthenticated).", body = crate::error::ErrorBody), (status = 403, description = "The role may not call this route (auth.forbidden).", body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub(crate) async fn correction(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    request: Request,
) -> Result<Json<DeclarationSummary>, ApiError> {
    let (parts, body) = request.into_parts();
    let row = load_visible(&state, &caller, &id).await?;
    let bytes = read_body(&state, body).await?;
    let (message, format) = if is_xml(&parts.headers) {
        let message = additional_message(&state, &bytes, AdditionalMessageType::Correction, &row)?;
        (message, "xml")
    } else {
        let message = wco::json::read_additional_message(&bytes).map_err(ApiError::problems)?;
        (
            names_this_declaration(message, AdditionalMessageType::Correction, &row)?,
            "json",
        )
    };
    // Before release only, as an amendment (after release is a request an officer decides).
    if !row.status.takes_amendment() {
        let at = if message.amendments.len() > 1 {
            "/MetaData/Declaration/Amendment[1]/Pointer"
        } else {
            "/MetaData/Declaration/Amendment/Pointer"
        };
        return Err(ApiError::problems(vec![Problem::with_message(
            ErrorCode::TransitionNotAllowed,
            at,
            format!(
                "The declaration is {}: a correction is accepted only before release.",
                row.status.as_str()
            ),
        )]));
    }
    let current: declaration::Declaration =
        serde_json::from_str(&row.model).map_err(ApiError::internal)?;
    let declaration = wco::correction::apply(&current, &message).map_err(ApiError::problems)?;
    if declaration.lrn.as_str() != row.lrn
        || declaration.declarant_id().map(|p| p.as_str()) != Some(row.declarant.as_str())
    {
        return Err(invalid(
            "/MetaData/Declaration/Declarant",
            "A correction cannot change the declarant or the LRN of the declaration.",
        ));
    }
    let reason = message_reason(&message, "Corrected by the trader.")?;
    let model = serde_json::to_string(&declaration).map_err(ApiError::internal)?;
    // The version keeps the correction as received; its model is the declaration as corrected.
    let received = Received {
        format: format.to_owned(),
        document: String::from_utf8_lossy(&bytes).into_owned(),
        model,
    };
    let row = new_version(&state, &caller, &row, declaration, received, reason).await?;
    Ok(Json(summary(&row)))
}

/// A function code 13 message sent about `row`: it must be of the `expected` type and name `row`'s MRN.
fn additional_message(
    state: &AppState,
    bytes: &[u8],
    expected: AdditionalMessageType,
    row: &DeclarationRow,
) -> Result<AdditionalMessage, ApiError> {
    let message =
        match wco::read_message(bytes, &state.config.xml_limits).map_err(ApiError::problems)? {
            wco::Message::Additional(message) => message,
            wco::Message::Declaration(_) => {
                return Err(ApiError::problems(vec![Problem::with_message(
                    ErrorCode::UnsupportedFunctionCode,
                    "/MetaData/Declaration/FunctionCode",
                    format!(
                        "Send a function code 13 message of type {} here, not a declaration.",
                        expected.wco_code()
                    ),
                )]));
            }
        };
    names_this_declaration(*message, expected, row)
}

/// A function code 13 message (read from XML or JSON) checked for its type and the MRN it names.
fn names_this_declaration(
    message: AdditionalMessage,
    expected: AdditionalMessageType,
    row: &DeclarationRow,
) -> Result<AdditionalMessage, ApiError> {
    if message.type_code != expected {
        return Err(ApiError::problems(vec![Problem::with_message(
            ErrorCode::UnsupportedDeclarationType,
            "/MetaData/Declaration/TypeCode",
            format!(
                "This address takes a message of type {}, not {}.",
                expected.wco_code(),
                message.type_code.wco_code()
            ),
        )]));
    }
    if row.mrn.as_deref() != Some(message.declaration_id.as_str()) {
        return Err(ApiError::problems(vec![Problem::with_message(
            ErrorCode::InvalidRequest,
            "/MetaData/Declaration/ID",
            match &row.mrn {
                Some(mrn) => format!(
                    "The message names the declaration {} but this declaration's MRN is {mrn}.",
                    message.declaration_id
                ),
                None => {
                    "This declaration has no MRN yet, so no function code 13 message can name it."
                        .to_owned()
                }
            },
        )]));
    }
    Ok(message)
}

/// The reason an event records for a function code 13 message: its summary and its AES texts (or `default`), at most
/// 1,000 characters like any reason, refused at the message's text when longer.
fn message_reason(message: &AdditionalMessage, default: &str) -> Result<String, ApiError> {
    let text = message.reason().unwrap_or_else(|| default.to_owned());
    let reason = format!("{} {text}", message_summary(message))
        .trim()
        .to_owned();
    if reason.chars().count() > 1000 {
        return Err(invalid(
            "/MetaData/Declaration/AdditionalInformation/StatementDescription",
            "The reasons given (AES texts) are at most about 1,000 characters in all.",
        ));
    }
    Ok(reason)
}

/// How an event records the message that caused it: "Invalidation CANCEL-1 (change reason 1):".
fn message_summary(message: &AdditionalMessage) -> String {
    let kind = match message.type_code {
        AdditionalMessageType::Correction => "Correction",
        AdditionalMessageType::Invalidation => "Invalidation",
        AdditionalMessageType::GoodsPresentation => "Goods presentation",
    };
    let reasons: Vec<&str> = message
        .amendments
        .iter()
        .map(|a| a.change_reason_code.as_str())
        .collect();
    if reasons.is_empty() {
        format!("{kind} {}:", message.functional_reference_id)
    } else {
        format!(
            "{kind} {} (change reason {}):",
            message.functional_reference_id,
            reasons.join(", ")
        )
    }
}
