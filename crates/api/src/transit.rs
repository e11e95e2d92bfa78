//! Transit (NCTS phase 5, issue 20): the holder of the transit procedure lodges a departure declaration (CC015C,
//! XML or JSON); it is checked against the P5 schema and accepted with an MRN (CC028C sent), its guarantee
//! reserved on the ledger through the revenue decision (`revenue::plan`, the amount to be covered secured by the
//! GRN named, which the holder must hold or be authorised for). An officer at departure releases it for transit
//! (CC029C); the trader at destination notifies arrival (CC007C: unloading permitted, CC043C) and sends the
//! unloading remarks (CC044C); the goods are then released at destination (CC025C) and the movement discharged,
//! which frees the guarantee. The holder (CC014C) or an officer cancels a movement not arrived (CC009C), freeing
//! it too. A movement released and not arrived by its time limit is listed for an enquiry. Every message received
//! and sent is kept in order, and every message Aduana writes is checked against its schema before it is stored.

use crate::access::audit_actor;
use crate::cargo::own_party;
use crate::error::ApiError;
use crate::request::{media_type, now, read_body};
use crate::{AppState, Caller};
use axum::Extension;
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use error_table::ErrorCode;
use rust_decimal::Decimal;
use serde::Serialize;
use storage::{Money, TransitChange, TransitMessage, TransitRow};
use transit::movement::{self, Departure, Status, Step};

/// Days from release to the time limit for presentation at destination.
pub const TIME_LIMIT_DAYS: i64 = 8;

/// A movement as the API shows it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct MovementView {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub movement: TransitRow,
    /// Released and not arrived after its time limit: an enquiry is due.
    pub enquiry_due: bool,
    #[schema(value_type = Vec<Object>)]
    pub messages: Vec<TransitMessage>,
}

fn view(row: TransitRow, messages: Vec<TransitMessage>) -> MovementView {
    let today = date(now());
    MovementView {
        enquiry_due: movement::overdue(row.status, &row.time_limit, &today),
        movement: row,
        messages,
    }
}

fn date(at: time::OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        at.year(),
        u8::from(at.month()),
        at.day()
    )
}

fn stamp(at: time::OffsetDateTime) -> String {
    format!(
        "{}T{:02}:{:02}:{:02}",
        date(at),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// The body as a P5 message of one of `expected`, by its media type.
async fn message(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    expected: &[&str],
) -> Result<(transit::Message, String), ApiError> {
    let json = match media_type(headers).as_str() {
        "application/xml" | "text/xml" => false,
        "application/json" => true,
        _ => {
            return Err(ApiError::with_message(
                ErrorCode::UnsupportedMediaType,
                format!(
                    "Send the {} as application/xml or application/json (NCTS phase 5).",
                    expected.join(" or ")
                ),
            ));
        }
    };
    let bytes = read_body(state, body).await?;
    let limits = transit::Limits {
        max_bytes: state.config.max_body_bytes,
        ..transit::Limits::default()
    };
    let message = transit::judge(&bytes, json, expected, &limits).map_err(ApiError::problems)?;
    // Kept as XML whatever it came as: one form to read back and to check.
    let kept = transit::to_xml(&message);
    Ok((message, kept))
}

/// A message customs writes, checked against its schema before it is kept (a failure is Aduana's bug: 500).
fn checked(name: &str, xml: String) -> Result<(String, &'static str, String), ApiError> {
    transit::judge(xml.as_bytes(), false, &[name], &transit::Limits::default()).map_err(
        |problems| {
            tracing::error!(
                ?problems,
                name,
                "a written NCTS message departs from its schema"
            );
            ApiError::new(ErrorCode::Internal)
        },
    )?;
    Ok((name.to_owned(), "out", xml))
}

fn header<'a>(
    recipient: &'a str,
    prepared: &'a str,
    id: &'a str,
    correlation: Option<&'a str>,
) -> transit::write::Header<'a> {
    transit::write::Header {
        sender: "NTA",
        recipient,
        prepared,
        identification: id,
        correlation,
    }
}

fn message_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..20].to_owned()
}

/// The revenue decision for the movement's guarantee: reserved while `hold`, given back otherwise.
fn guarantee_plan(
    state: &AppState,
    row: &TransitRow,
    money: &Money,
    hold: bool,
    stamp: &str,
) -> Result<(Vec<revenue::Opening>, Vec<ledger::Transfer>), ApiError> {
    let key = row.ledger_key();
    let position =
        revenue::Position::of(&key, &money.transfers, |id| money.pending.get(id).copied())
            .map_err(|e| {
                ApiError::with_message(ErrorCode::TransitGuaranteeRefused, e.to_string())
            })?;
    let needs = match (&row.guarantee_amount, &row.currency) {
        (Some(amount), Some(currency)) if hold => {
            let amount: Decimal = amount
                .parse()
                .map_err(|_| ApiError::new(ErrorCode::TransitGuaranteeRefused))?;
            let currency = declaration::Currency::parse(currency).map_err(|_| {
                ApiError::with_message(
                    ErrorCode::TransitGuaranteeRefused,
                    format!("The currency {currency} is not an ISO 4217 code."),
                )
            })?;
            let mut lines = std::collections::BTreeMap::new();
            lines.insert(("transit".to_owned(), revenue::Settles::Guaranteed), amount);
            Some(revenue::Needs { currency, lines })
        }
        _ => None,
    };
    let auto_open = state
        .pipeline()
        .administration
        .demonstration
        .auto_open_limit;
    let at = storage::format_time(now());
    let declarant = row.holder.clone().unwrap_or_else(|| row.owner.clone());
    let plan = revenue::plan(&revenue::Request {
        key: &key,
        declarant: &declarant,
        owed: needs.as_ref().map(|needs| revenue::Owed {
            needs,
            deferment: None,
            guarantee: row.guarantee_grn.as_deref(),
            decided: None,
        }),
        accounts: &money.accounts,
        position: &position,
        stamp,
        at: &at,
        auto_open,
    })
    .map_err(|e| ApiError::with_message(ErrorCode::TransitGuaranteeRefused, e.to_string()))?;
    if let Some(why) = plan.coverage.guarantee_refused {
        return Err(ApiError::with_message(
            ErrorCode::TransitGuaranteeRefused,
            why,
        ));
    }
    // Nothing but the guarantee moves for a movement: no duty is assessed in transit.
    if plan
        .transfers
        .iter()
        .any(|t| t.code != "guarantee" && t.code != "guarantee_released")
    {
        return Err(ApiError::with_message(
            ErrorCode::TransitGuaranteeRefused,
            "The guarantee cannot secure the amount to be covered.",
        ));
    }
    Ok((plan.opens, plan.transfers))
}

/// `POST /api/v1/transit/departures`.
#[utoipa::path(
    post,
    path = "/api/v1/transit/departures",
    tag = "transit",
    summary = "Lodge a departure declaration (NCTS CC015C)",
    description = "The CC015C as XML or JSON (`{\"n1:CC015C\": {…}}`), checked against the NCTS phase 5 schema (`transit.schema`, each departure at its place; another P5 message is `transit.wrong_message`). The holder of the transit procedure (HolderOfTheTransitProcedure/identificationNumber) is the caller's party. The first guarantee with a GRN and an amount to be covered is reserved on the ledger (`guarantee:<GRN>`, which the holder must hold or be authorised for; `transit.guarantee_refused` otherwise). Accepted with an MRN: the CC028C is sent (201). Nothing is stored from a refused message.",
    request_body(content((String = "application/xml"), (serde_json::Value = "application/json"))),
    responses((status = 201, description = "Accepted with its MRN", body = MovementView), (status = 403, description = "The holder is not the caller's party", body = crate::error::ErrorBody), (status = 409, description = "The LRN was used before at this office (transit.duplicate)", body = crate::error::ErrorBody), (status = 422, description = "Refused: every error with its code and pointer", body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn departure(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let (message, kept) = message(&state, &headers, body, &["CC015C"]).await?;
    let facts = Departure::of(&message);
    let party = own_party(&caller).unwrap_or_default().to_owned();
    if facts.holder.as_deref() != Some(party.as_str()) {
        return Err(ApiError::with_message(
            ErrorCode::Forbidden,
            format!(
                "You act for {party}, not for the holder of the transit procedure ({}).",
                facts.holder.as_deref().unwrap_or("none named")
            ),
        ));
    }
    let at = now();
    let country = state.pipeline().administration.country.to_string();
    let serial = u64::from_be_bytes(
        uuid::Uuid::new_v4().as_bytes()[..8]
            .try_into()
            .unwrap_or([0; 8]),
    );
    let mrn = movement::mrn(
        u16::try_from(at.year().rem_euclid(100)).unwrap_or(0),
        &country,
        serial,
    );
    let guarantee = facts
        .guarantees
        .iter()
        .find(|g| g.grn.is_some() && g.amount.is_some());
    let created = storage::format_time(at);
    let row = TransitRow {
        mrn: mrn.clone(),
        lrn: facts.lrn.clone(),
        office_of_departure: facts.office_of_departure.clone(),
        office_of_destination: facts.office_of_destination.clone(),
        holder: facts.holder.clone(),
        owner: party,
        status: Status::Accepted,
        time_limit: date(at + time::Duration::days(TIME_LIMIT_DAYS)),
        guarantee_grn: guarantee.and_then(|g| g.grn.clone()),
        guarantee_amount: guarantee.and_then(|g| g.amount).map(|a| a.to_string()),
        currency: guarantee.and_then(|g| g.currency.clone()),
        revision: 1,
        created_at: created.clone(),
        updated_at: created,
    };
    let prepared = stamp(at);
    let id = message_id();
    let answer = checked(
        "CC028C",
        transit::write::accepted(
            &header(&facts.sender, &prepared, &id, Some(&facts.identification)),
            &message,
            &mrn,
            &date(at),
        ),
    )?;
    let messages = vec![("CC015C".to_owned(), "in", kept), answer];
    let actor = audit_actor(&caller);
    let decided = state
        .store
        .create_transit(&actor, row.clone(), messages, at, |money| {
            guarantee_plan(&state, &row, money, true, "d1")
        })
        .await;
    match decided {
        Ok(Ok(row)) => {
            Ok((StatusCode::CREATED, Json(shown(&state, &row.mrn).await?)).into_response())
        }
        Ok(Err(refusal)) => Err(refusal),
        Err(storage::StoreError::Duplicate(_)) => Err(ApiError::new(ErrorCode::TransitDuplicate)),
        Err(error) => Err(error.into()),
    }
}

/// Whether the caller may see or act on the movement as a trader: its holder, or the trader at destination once
/// it named itself in the arrival.
fn trader_may(caller: &Caller, row: &TransitRow, messages: &[TransitMessage]) -> bool {
    let Some(party) = own_party(caller) else {
        return true;
    };
    row.owner == party
        || messages.iter().any(|m| {
            m.message_type == "CC007C"
                && transit::read(m.body.as_bytes(), &transit::Limits::default())
                    .ok()
                    .and_then(|a| {
                        a.text(&["TraderAtDestination", "identificationNumber"])
                            .map(str::to_owned)
                    })
                    .as_deref()
                    == Some(party)
        })
}

fn received(messages: &[TransitMessage], kind: &str) -> Option<transit::Message> {
    messages
        .iter()
        .rev()
        .find(|m| m.message_type == kind)
        .and_then(|m| transit::read(m.body.as_bytes(), &transit::Limits::default()).ok())
}

fn refused_step(row: &TransitRow, step: Step) -> ApiError {
    ApiError::with_message(
        ErrorCode::TransitStepRefused,
        format!(
            "The movement {} is {}: it cannot take the step {}.",
            row.mrn,
            row.status.as_str(),
            step.as_str()
        ),
    )
}

async fn run_step(
    state: &AppState,
    caller: &Caller,
    mrn: &str,
    step: Step,
    decide: impl FnOnce(&TransitRow, &[TransitMessage], &Money) -> Result<TransitChange, ApiError>,
) -> Result<Response, ApiError> {
    let actor = audit_actor(caller);
    let result = state
        .store
        .step_transit(&actor, mrn, step.as_str(), now(), |row, messages, money| {
            if !trader_may(caller, row, messages) {
                return Err(ApiError::new(ErrorCode::TransitUnknown));
            }
            decide(row, messages, money)
        })
        .await?;
    answer(state, result).await
}

/// `POST /api/v1/transit/{mrn}/release`.
#[utoipa::path(post, path = "/api/v1/transit/{mrn}/release", tag = "transit", summary = "Release a movement for transit (CC029C sent)", description = "An officer at departure releases an accepted movement: the CC029C carries the declaration as accepted, with its MRN, dates, itinerary, guarantees and seals. `transit.step_refused` where it stands otherwise.", params(("mrn" = String, Path)), responses((status = 200, body = MovementView), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn release(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(mrn): Path<String>,
) -> Result<Response, ApiError> {
    run_step(&state, &caller, &mrn, Step::Release, |row, messages, _| {
        let next = movement::after(row.status, Step::Release)
            .ok_or_else(|| refused_step(row, Step::Release))?;
        let departure =
            received(messages, "CC015C").ok_or_else(|| ApiError::new(ErrorCode::Internal))?;
        let facts = Departure::of(&departure);
        let at = now();
        let (prepared, id) = (stamp(at), message_id());
        let accepted = row.created_at.get(..10).unwrap_or_default().to_owned();
        let out = checked(
            "CC029C",
            transit::write::released(
                &header(&facts.sender, &prepared, &id, None),
                &departure,
                &row.mrn,
                &accepted,
                &date(at),
            ),
        )?;
        Ok(TransitChange {
            status: Some(next),
            messages: vec![out],
            ..TransitChange::default()
        })
    })
    .await
}

/// `POST /api/v1/transit/{mrn}/arrival`.
#[utoipa::path(post, path = "/api/v1/transit/{mrn}/arrival", tag = "transit", summary = "Notify the arrival of a movement at destination (CC007C)", description = "The trader at destination (TraderAtDestination/identificationNumber, the caller's party) sends the CC007C for a movement released for transit; unloading is permitted at once (CC043C sent). The MRN of the message is the route's.", params(("mrn" = String, Path)), request_body(content((String = "application/xml"), (serde_json::Value = "application/json"))), responses((status = 200, body = MovementView), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn arrival(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(mrn): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let (arrival, kept) = message(&state, &headers, body, &["CC007C"]).await?;
    check_mrn(&arrival, &mrn)?;
    let trader = arrival
        .text(&["TraderAtDestination", "identificationNumber"])
        .unwrap_or_default()
        .to_owned();
    if own_party(&caller) != Some(trader.as_str()) {
        return Err(ApiError::with_message(
            ErrorCode::Forbidden,
            format!("You do not act for the trader at destination ({trader})."),
        ));
    }
    let actor = audit_actor(&caller);
    let result = state
        .store
        .step_transit(
            &actor,
            &mrn,
            Step::Arrive.as_str(),
            now(),
            |row, messages, _| {
                let arrived = movement::after(row.status, Step::Arrive)
                    .ok_or_else(|| refused_step(row, Step::Arrive))?;
                let permitted = movement::after(arrived, Step::PermitUnloading)
                    .ok_or_else(|| refused_step(row, Step::PermitUnloading))?;
                let departure = received(messages, "CC015C")
                    .ok_or_else(|| ApiError::new(ErrorCode::Internal))?;
                let at = now();
                let (prepared, id) = (stamp(at), message_id());
                let sender = arrival.text(&["messageSender"]).unwrap_or_default();
                let correlation = arrival.text(&["messageIdentification"]);
                let out = checked(
                    "CC043C",
                    transit::write::unloading_permission(
                        &header(sender, &prepared, &id, correlation),
                        &departure,
                        &arrival,
                        &row.mrn,
                    ),
                )?;
                Ok(TransitChange {
                    status: Some(permitted),
                    messages: vec![("CC007C".to_owned(), "in", kept), out],
                    ..TransitChange::default()
                })
            },
        )
        .await?;
    answer(&state, result).await
}

async fn answer(
    state: &AppState,
    result: Option<Result<TransitRow, ApiError>>,
) -> Result<Response, ApiError> {
    match result {
        None => Err(ApiError::new(ErrorCode::TransitUnknown)),
        Some(Err(refusal)) => Err(refusal),
        Some(Ok(row)) => Ok(Json(shown(state, &row.mrn).await?).into_response()),
    }
}

/// The movement as stored now, with its messages.
async fn shown(state: &AppState, mrn: &str) -> Result<MovementView, ApiError> {
    let (row, messages) = state
        .store
        .transit(mrn)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::Internal))?;
    Ok(view(row, messages))
}

fn check_mrn(message: &transit::Message, mrn: &str) -> Result<(), ApiError> {
    match message.text(&["TransitOperation", "MRN"]) {
        Some(named) if named == mrn => Ok(()),
        named => Err(ApiError::with_message(
            ErrorCode::TransitUnknown,
            format!(
                "The message names the MRN {}, not {mrn}.",
                named.unwrap_or("none")
            ),
        )),
    }
}

/// `POST /api/v1/transit/{mrn}/unloading-remarks`.
#[utoipa::path(post, path = "/api/v1/transit/{mrn}/unloading-remarks", tag = "transit", summary = "Send the unloading remarks (CC044C): the goods released at destination and the movement discharged", description = "The trader at destination sends the CC044C once unloading is permitted; the goods are released at destination (CC025C sent; release indicator 2 when the remarks note discrepancies, `UnloadingRemark/conform` 0) and the movement is discharged: its guarantee is freed on the ledger.", params(("mrn" = String, Path)), request_body(content((String = "application/xml"), (serde_json::Value = "application/json"))), responses((status = 200, body = MovementView), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn unloading_remarks(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(mrn): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let (remarks, kept) = message(&state, &headers, body, &["CC044C"]).await?;
    check_mrn(&remarks, &mrn)?;
    let discrepancies = remarks.text(&["UnloadingRemark", "conform"]) == Some("0");
    let actor = audit_actor(&caller);
    let result = state
        .store
        .step_transit(
            &actor,
            &mrn,
            Step::Discharge.as_str(),
            now(),
            |row, messages, money| {
                // The trader at destination the arrival named, and only it.
                if !own_party(&caller).is_some_and(|p| received_from(messages, p)) {
                    return Err(ApiError::new(ErrorCode::TransitUnknown));
                }
                let unloaded = movement::after(row.status, Step::Remarks)
                    .ok_or_else(|| refused_step(row, Step::Remarks))?;
                let discharged = movement::after(unloaded, Step::Discharge)
                    .ok_or_else(|| refused_step(row, Step::Discharge))?;
                let arrival = received(messages, "CC007C")
                    .ok_or_else(|| ApiError::new(ErrorCode::Internal))?;
                let at = now();
                let (prepared, id) = (stamp(at), message_id());
                let sender = remarks.text(&["messageSender"]).unwrap_or_default();
                let out = checked(
                    "CC025C",
                    transit::write::goods_released(
                        &header(
                            sender,
                            &prepared,
                            &id,
                            remarks.text(&["messageIdentification"]),
                        ),
                        &arrival,
                        &row.mrn,
                        &date(at),
                        discrepancies,
                    ),
                )?;
                let (opens, transfers) =
                    guarantee_plan(&state, row, money, false, &format!("r{}", row.revision))?;
                Ok(TransitChange {
                    status: Some(discharged),
                    messages: vec![("CC044C".to_owned(), "in", kept), out],
                    opens,
                    transfers,
                })
            },
        )
        .await?;
    answer(&state, result).await
}

/// Whether the trader at destination named in the arrival is `party`.
fn received_from(messages: &[TransitMessage], party: &str) -> bool {
    received(messages, "CC007C")
        .and_then(|a| {
            a.text(&["TraderAtDestination", "identificationNumber"])
                .map(str::to_owned)
        })
        .as_deref()
        == Some(party)
}

/// `POST /api/v1/transit/{mrn}/cancellation`.
#[utoipa::path(post, path = "/api/v1/transit/{mrn}/cancellation", tag = "transit", summary = "Cancel a movement not arrived (CC014C; CC009C sent)", description = "The holder sends the CC014C (its MRN the route's), or an officer posts it on the holder's behalf; a movement accepted or released and not arrived is cancelled, its guarantee freed, the CC009C sent.", params(("mrn" = String, Path)), request_body(content((String = "application/xml"), (serde_json::Value = "application/json"))), responses((status = 200, body = MovementView), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn cancellation(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(mrn): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let (request, kept) = message(&state, &headers, body, &["CC014C"]).await?;
    check_mrn(&request, &mrn)?;
    let by_customs = own_party(&caller).is_none();
    let justification = request
        .text(&["Invalidation", "justification"])
        .unwrap_or("Cancelled at the holder's request")
        .to_owned();
    run_step(
        &state,
        &caller,
        &mrn,
        Step::Cancel,
        |row, messages, money| {
            if own_party(&caller).is_some_and(|p| p != row.owner) {
                return Err(ApiError::new(ErrorCode::TransitUnknown));
            }
            let next = movement::after(row.status, Step::Cancel)
                .ok_or_else(|| refused_step(row, Step::Cancel))?;
            let departure =
                received(messages, "CC015C").ok_or_else(|| ApiError::new(ErrorCode::Internal))?;
            let facts = Departure::of(&departure);
            let at = now();
            let (prepared, id) = (stamp(at), message_id());
            let out = checked(
                "CC009C",
                transit::write::invalidated(
                    &header(
                        &facts.sender,
                        &prepared,
                        &id,
                        request.text(&["messageIdentification"]),
                    ),
                    &departure,
                    &row.mrn,
                    &prepared,
                    by_customs,
                    &justification,
                ),
            )?;
            let (opens, transfers) =
                guarantee_plan(&state, row, money, false, &format!("r{}", row.revision))?;
            Ok(TransitChange {
                status: Some(next),
                messages: vec![("CC014C".to_owned(), "in", kept), out],
                opens,
                transfers,
            })
        },
    )
    .await
}

/// `GET /api/v1/transit/{mrn}`.
#[utoipa::path(get, path = "/api/v1/transit/{mrn}", tag = "transit", summary = "A movement with every message received and sent", description = "Its holder, the trader at destination once it notified arrival, and customs roles.", params(("mrn" = String, Path)), responses((status = 200, body = MovementView), (status = 404, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn show(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(mrn): Path<String>,
) -> Result<Response, ApiError> {
    let Some((row, messages)) = state.store.transit(&mrn).await? else {
        return Err(ApiError::new(ErrorCode::TransitUnknown));
    };
    if !trader_may(&caller, &row, &messages) {
        return Err(ApiError::new(ErrorCode::TransitUnknown));
    }
    Ok(Json(view(row, messages)).into_response())
}

/// The movements listed.
#[derive(Serialize, utoipa::ToSchema)]
pub struct MovementList {
    #[schema(value_type = Vec<Object>)]
    pub movements: Vec<TransitRow>,
}

/// `GET /api/v1/transit`.
#[utoipa::path(get, path = "/api/v1/transit", tag = "transit", summary = "Transit movements, newest first", description = "A trader its own (as holder); customs roles all. At most 500.", responses((status = 200, body = MovementList)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ApiError> {
    let movements = state
        .store
        .transit_movements(own_party(&caller), None, 500)
        .await?;
    Ok(Json(MovementList { movements }).into_response())
}

/// The day enquiries are judged on.
#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct EnquiriesQuery {
    /// YYYY-MM-DD (default today, UTC): what is overdue on that day, to plan ahead.
    pub on: Option<String>,
}

/// `GET /api/v1/transit/enquiries`.
#[utoipa::path(get, path = "/api/v1/transit/enquiries", tag = "transit", summary = "Movements overdue: released and not arrived by their time limit", description = "An enquiry is due for each (officers, analysts, auditors), on the day `on` (default today). At most 500.", params(EnquiriesQuery), responses((status = 200, body = MovementList), (status = 422, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn enquiries(
    State(state): State<AppState>,
    Query(query): Query<EnquiriesQuery>,
) -> Result<Response, ApiError> {
    let on = match query.on {
        None => date(now()),
        Some(on) => {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            time::Date::parse(&on, &format).map_err(|_| {
                ApiError::with_message(
                    ErrorCode::InvalidQuery,
                    format!("on is a date, YYYY-MM-DD: {on:?} is not one."),
                )
            })?;
            on
        }
    };
    let movements = state.store.transit_movements(None, Some(&on), 500).await?;
    Ok(Json(MovementList { movements }).into_response())
}
