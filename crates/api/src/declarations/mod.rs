//! Declarations: lodging ([`lodge`]), reading ([`read`]) and the commands on them ([`commands`]), each decided by
//! the pipeline and stored, money and all, in one transaction by [`execute`].

pub(crate) mod commands;
pub(crate) mod lodge;
pub(crate) mod read;

use crate::error::ApiError;
use crate::request::media_type;
use crate::{AppState, Caller};
use axum::http::HeaderMap;
use clearance::{Act, Books, Current, Executed, Refused};
use declaration::Declaration;
use error_table::ErrorCode;
use serde::Serialize;
use storage::{Context, DeclarationRow, Write};
use time::OffsetDateTime;
use workflow::{Actor, Event};

/// A parsed declaration with its canonical JSON twin and the document as received.
pub(crate) struct Parsed {
    pub declaration: Declaration,
    pub format: &'static str,
    pub document: String,
    pub model: String,
}

/// Reads a declaration in the request's media type: WCO XML, its JSON twin, or UN/EDIFACT CUSDEC.
pub(crate) fn parse_document(
    state: &AppState,
    headers: &HeaderMap,
    bytes: &[u8],
) -> Result<Parsed, ApiError> {
    let (declaration, format) = match media_type(headers).as_str() {
        "application/xml" | "text/xml" => (
            wco::read_declaration(bytes, &state.config.xml_limits).map_err(ApiError::problems)?,
            "xml",
        ),
        "application/json" => (
            wco::json::read_declaration(bytes).map_err(ApiError::problems)?,
            "json",
        ),
        // RFC 1767; one CUSDEC message per interchange (docs/edifact.md).
        "application/edifact" => {
            let limits = edifact::syntax::Limits {
                max_bytes: state.config.max_body_bytes,
                ..edifact::syntax::Limits::default()
            };
            (
                edifact::read_cusdec(bytes, &limits).map_err(ApiError::problems)?,
                "edifact",
            )
        }
        _ => return Err(ApiError::new(ErrorCode::UnsupportedMediaType)),
    };
    let model = serde_json::to_string(&declaration).map_err(ApiError::internal)?;
    let document = match String::from_utf8(bytes.to_vec()) {
        Ok(text) => text,
        // An EDIFACT interchange in UNOC may be ISO 8859-1: kept as the characters it means.
        Err(e) if format == "edifact" => e.into_bytes().iter().map(|b| char::from(*b)).collect(),
        Err(_) => return Err(ApiError::new(ErrorCode::NotUtf8)),
    };
    Ok(Parsed {
        declaration,
        format,
        document,
        model,
    })
}

/// A declaration's summary, as lists and command answers show it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct DeclarationSummary {
    id: String,
    lrn: String,
    /// 18 characters: year, country, 12-character serial, procedure letter, ISO 6346 check character
    /// (docs/mrn.md); none before acceptance.
    mrn: Option<String>,
    status: workflow::Status,
    lane: Option<selectivity::Lane>,
    declarant: String,
    representative: Option<String>,
    /// DE 1/1 and 1/2, e.g. IMA.
    #[serde(rename = "type")]
    declaration_type: String,
    office: Option<String>,
    /// The declaration's version: 1 as lodged, one more per amendment (GET …/versions).
    version: i64,
    /// RFC 3339, UTC.
    lodged_at: String,
    /// RFC 3339, UTC.
    updated_at: String,
    /// RFC 3339, UTC; none until released.
    released_at: Option<String>,
    /// The partner agencies release waits for (the Single Window), each with where it stands: `awaited`,
    /// `held_for_inspection`, `joint_inspection`, `refused`; those that released the goods are not listed.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    awaiting_agencies: std::collections::BTreeMap<String, workflow::AgencyStanding>,
}

pub(crate) fn summary(row: &DeclarationRow) -> DeclarationSummary {
    DeclarationSummary {
        id: row.id.clone(),
        lrn: row.lrn.clone(),
        mrn: row.mrn.clone(),
        status: row.status,
        lane: row.lane,
        declarant: row.declarant.clone(),
        representative: row.representative.clone(),
        declaration_type: row.declaration_type.clone(),
        office: row.office.clone(),
        version: row.version,
        lodged_at: row.lodged_at.clone(),
        updated_at: row.updated_at.clone(),
        released_at: row.released_at.clone(),
        awaiting_agencies: serde_json::from_str::<workflow::State>(&row.state)
            .map(|state| {
                state
                    .agencies
                    .into_iter()
                    .filter(|(_, standing)| *standing != workflow::AgencyStanding::Released)
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// The pipeline's steps as the event log stores them: the one who acted is the actor of the act's own events, the
/// system of what followed by itself.
pub(crate) fn stamp(steps: Vec<clearance::Step>, at: OffsetDateTime, who: &Actor) -> Vec<Event> {
    steps
        .into_iter()
        .map(|step| Event {
            kind: step.event,
            at,
            actor: if step.automatic {
                Actor::system()
            } else {
                who.clone()
            },
            reason: step.reason,
        })
        .collect()
}

fn refused(refused: Refused) -> ApiError {
    match refused {
        Refused::Lifecycle(r) => ApiError::with_message(r.code, r.message),
        Refused::Problems(problems) => ApiError::problems(problems),
    }
}

/// What a command asks, decided from the locked row: the act, the reason its events record, and (for an amendment)
/// the new version to keep.
pub(crate) struct Asked {
    pub act: Act,
    pub reason: String,
    pub version: Option<storage::NewVersion>,
}

/// Runs a command on declaration `row` as `who`, in one transaction: `ask` turns the locked row (and its refunds
/// and orders) into the act (or none, when only rows are to be written); the pipeline decides events and money;
/// `finish` adds the rows that go with the outcome (an order paid, a receipt); storage writes all of it, or nothing. `extra_accounts` are accounts the act
/// touches besides those the declaration names (the bank a payment comes through).
pub(crate) async fn execute(
    state: &AppState,
    who: &Actor,
    row: &DeclarationRow,
    amended: Option<&Declaration>,
    extra_accounts: Vec<ledger::AccountId>,
    ask: impl FnOnce(&Context<'_>) -> Result<Option<Asked>, ApiError> + Send,
    finish: impl FnOnce(&Context<'_>, Option<&Executed>) -> Result<Vec<Write>, ApiError> + Send,
) -> Result<DeclarationRow, ApiError> {
    let pipeline = state.pipeline();
    let accounts_pipeline = pipeline.clone();
    let amended_accounts = amended.map(|d| pipeline.accounts_for(d, None));
    let result = state
        .store
        .update(
            &row.id,
            move |current| {
                let mut ids = extra_accounts;
                if let Ok(model) = serde_json::from_str::<Declaration>(&current.model) {
                    let assessment = current
                        .assessment
                        .as_deref()
                        .and_then(|a| serde_json::from_str::<tariff::Assessment>(a).ok());
                    ids.extend(accounts_pipeline.accounts_for(&model, assessment.as_ref()));
                }
                ids.extend(amended_accounts.unwrap_or_default());
                ids.sort();
                ids.dedup();
                ids
            },
            |context| -> Result<storage::Change, ApiError> {
                let current_row = context.row;
                let lifecycle = current_row.workflow_state()?;
                let model: Declaration =
                    serde_json::from_str(&current_row.model).map_err(ApiError::internal)?;
                let assessment: Option<tariff::Assessment> = current_row
                    .assessment
                    .as_deref()
                    .map(serde_json::from_str)
                    .transpose()
                    .map_err(ApiError::internal)?;
                let lodged_on = storage::parse_time(&current_row.lodged_at)?.date();
                let Some(asked) = ask(context)? else {
                    // Nothing for the lifecycle or the ledger: only the rows that go with it (an order, an
                    // approval on its way to the last one).
                    return Ok(storage::Change {
                        writes: finish(context, None)?,
                        ..storage::Change::default()
                    });
                };
                let at = storage::format_time(context.now);
                let books = Books {
                    accounts: &context.money.accounts,
                    transfers: &context.money.transfers,
                    pending: &context.money.pending,
                    stamp: &context.stamp,
                    at: &at,
                };
                let executed = pipeline
                    .command(
                        &Current {
                            declaration: &model,
                            state: &lifecycle,
                            assessment: assessment.as_ref(),
                            lodged_on,
                        },
                        asked.act,
                        &asked.reason,
                        &books,
                        pipeline.local_date(&model, context.now),
                    )
                    .map_err(refused)?;
                let writes = finish(context, Some(&executed))?;
                Ok(storage::Change {
                    assessment: executed
                        .assessment
                        .as_ref()
                        .map(|a| serde_json::to_string(a).ok()),
                    events: stamp(executed.steps, context.now, who),
                    state: Some(executed.state),
                    version: asked.version,
                    opens: executed.opens,
                    transfers: executed.transfers,
                    writes,
                })
            },
        )
        .await??;
    Ok(result)
}

/// [`execute`] for a command with no money of its own and nothing to add: an arrival, a control result, a release.
pub(crate) async fn lifecycle(
    state: &AppState,
    who: &Actor,
    row: &DeclarationRow,
    command: workflow::Command,
    reason: String,
) -> Result<DeclarationRow, ApiError> {
    execute(
        state,
        who,
        row,
        None,
        Vec::new(),
        move |_| {
            Ok(Some(Asked {
                act: Act::Lifecycle(command),
                reason,
                version: None,
            }))
        },
        |_, _| Ok(Vec::new()),
    )
    .await
}

/// Loads the declaration the caller may see, then runs [`lifecycle`].
pub(crate) async fn apply(
    state: &AppState,
    caller: &Caller,
    id: &str,
    command: workflow::Command,
    reason: String,
) -> Result<axum::Json<DeclarationSummary>, ApiError> {
    let row = crate::access::load_visible(state, caller, id).await?;
    let row = lifecycle(state, &crate::access::actor(caller), &row, command, reason).await?;
    Ok(axum::Json(summary(&row)))
}
