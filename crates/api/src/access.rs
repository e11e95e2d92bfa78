//! Who may see and act on what, decided on the data (the policy table decides who may call a route): a trader its
//! own party's declarations — as declarant, or as a representative the registry knows — and the customs roles all.

use crate::error::ApiError;
use crate::policy::Role;
use crate::{AppState, Caller};
use error_table::ErrorCode;
use storage::DeclarationRow;
use workflow::Actor;

/// The caller as the lifecycle records it.
pub(crate) fn actor(caller: &Caller) -> Actor {
    Actor {
        id: caller.user.id.clone(),
        role: caller.role.as_str().to_owned(),
    }
}

/// The caller as the audit trail names it.
pub(crate) fn audit_actor(caller: &Caller) -> storage::Actor {
    storage::Actor::new(caller.user.id.clone(), caller.role.as_str())
}

/// Whether `caller` may see `row`: officers, risk analysts and auditors all; a trader when its party is the
/// declarant, or the representative named in the declaration *and* registered as representing the declarant
/// (finding 8 of issue 14: a declaration naming a party as agent gives that party nothing by itself); other roles
/// none.
pub(crate) async fn visible_to(
    state: &AppState,
    caller: &Caller,
    row: &DeclarationRow,
) -> Result<bool, ApiError> {
    Ok(match caller.role {
        role if role.sees_all_declarations() => true,
        Role::Trader => match caller.user.party.as_deref() {
            Some(party) if party == row.declarant => true,
            Some(party) if row.representative.as_deref() == Some(party) => {
                state.store.represents(party, &row.declarant).await?
            }
            _ => false,
        },
        // An agency officer: the declarations its agency is asked about.
        Role::Agency => match caller.user.party.as_deref() {
            Some(agency) => state.store.agency_asked(agency, &row.id).await?,
            None => false,
        },
        _ => false,
    })
}

/// The declaration `id` if the caller may see it; another party's declaration is "not found", so that its
/// existence does not leak.
pub(crate) async fn load_visible(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<DeclarationRow, ApiError> {
    if id.len() > 64 {
        return Err(ApiError::new(ErrorCode::NotFound));
    }
    match state.store.declaration(id).await? {
        Some(row) if visible_to(state, caller, &row).await? => Ok(row),
        _ => Err(ApiError::new(ErrorCode::NotFound)),
    }
}

/// Records a data export (a report, a statement, a read of the audit trail) in the audit trail.
pub(crate) async fn record_export(
    state: &AppState,
    caller: &Caller,
    what: &str,
    query: &str,
) -> Result<(), ApiError> {
    let actor = audit_actor(caller);
    state
        .store
        .record(vec![storage::audit_entry(
            &actor,
            audit::Action::Export,
            what,
            query.as_bytes(),
            crate::request::now(),
        )])
        .await?;
    Ok(())
}
