//! The OpenAPI document, generated: every route of the policy table has a `#[utoipa::path]` on its handler
//! naming the types it reads and answers, and the schemas are derived from those types (the JSON twin from the
//! declaration model itself). Nothing here is written by hand but the document's frame (title, security schemes,
//! tags) and the few enumerations whose values live in constants.

use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{RefOr, Tag};

/// A schema of strings from a list of values, with a description.
fn names(values: &[&str], description: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.iter().copied()))
        .description(Some(description))
        .into()
}

/// The type of an event in a declaration's history (`workflow::EventKind::TYPE_NAMES`).
pub(crate) struct EventType;

impl utoipa::PartialSchema for EventType {
    fn schema() -> RefOr<Schema> {
        names(
            &workflow::EventKind::TYPE_NAMES,
            "What happened, as the event log stores it (docs/lifecycle.md).",
        )
    }
}

impl utoipa::ToSchema for EventType {}

/// A decimal number written as a string: exact, never floating point.
pub(crate) struct DecimalString;

impl utoipa::PartialSchema for DecimalString {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^-?[0-9]+(\\.[0-9]+)?$"))
            .description(Some("A decimal number as a string; never floating point."))
            .into()
    }
}

impl utoipa::ToSchema for DecimalString {}

/// The format a version of a declaration was received in.
pub(crate) struct DocumentFormat;

impl utoipa::PartialSchema for DocumentFormat {
    fn schema() -> RefOr<Schema> {
        names(
            &["xml", "json", "edifact"],
            "WCO DEC-DMS 2 XML, the JSON twin, or UN/EDIFACT CUSDEC.",
        )
    }
}

impl utoipa::ToSchema for DocumentFormat {}

/// Where a payment order stands (`storage::OrderStatus`).
pub(crate) struct OrderStatusName;

impl utoipa::PartialSchema for OrderStatusName {
    fn schema() -> RefOr<Schema> {
        let values: Vec<&str> = storage::OrderStatus::ALL
            .iter()
            .map(|s| s.as_str())
            .collect();
        names(
            &values,
            "open: waiting for the bank; paid; superseded: replaced by an order for another amount.",
        )
    }
}

impl utoipa::ToSchema for OrderStatusName {
    fn name() -> std::borrow::Cow<'static, str> {
        "OrderStatus".into()
    }
}

/// Where a refund stands (`storage::RefundStatus`).
pub(crate) struct RefundStatusName;

impl utoipa::PartialSchema for RefundStatusName {
    fn schema() -> RefOr<Schema> {
        let values: Vec<&str> = storage::RefundStatus::ALL
            .iter()
            .map(|s| s.as_str())
            .collect();
        names(
            &values,
            "requested: waiting for its approvals; paid: paid out.",
        )
    }
}

impl utoipa::ToSchema for RefundStatusName {
    fn name() -> std::borrow::Cow<'static, str> {
        "RefundStatus".into()
    }
}

/// The document's frame: its description, the two ways to authenticate, the tags.
pub(crate) struct Frame;

impl utoipa::Modify for Frame {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi.info.title = "Aduana API".to_owned();
        openapi.info.version = "1.0.0".to_owned();
        openapi.info.description = Some(
            "Customs clearance: lodge goods declarations (WCO DEC-DMS 2 XML, the JSON twin or UN/EDIFACT CUSDEC), \
             follow them through acceptance, selectivity, control, assessment, settlement and release; pay, defer, \
             guarantee and refund; cargo reports; risk management; reports and the audit trail; the public tariff. \
             Authentication: `Authorization: Bearer <token>` (tokens from `aduana users add` or `aduana tokens \
             create`). Every error has the shape of the Error schema, with a stable code (GET /api/v1/error-codes)."
                .to_owned(),
        );
        openapi.info.license = Some(utoipa::openapi::License::new("MIT OR Apache-2.0"));
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut bearer = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build();
        bearer.description = Some(
            "An API token (`aduana tokens create`). A token holds scopes — declarations:read, declarations:write, \
             decisions, ledger, reports, audit, risk — or * for everything its user's role allows; it may expire \
             (401 auth.token_expired) or be revoked (401 auth.token_revoked). A route needs both a role listed for \
             it and its scope (403 auth.forbidden, 403 auth.scope_missing). Requests are limited per token (429 \
             request.rate_limited with Retry-After)."
                .to_owned(),
        );
        components.add_security_scheme("bearer", SecurityScheme::Http(bearer));
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::security::session_cookie_name(true),
                "A portal session, opened at /login.",
            ))),
        );
        openapi.tags = Some(
            [
                ("declarations", "Goods declarations: lodge, read, follow, amend, cancel; officers' decisions."),
                ("payments", "Payment orders, bank confirmations, receipts, refunds, guarantees."),
                ("ledger", "Deferment accounts and guarantees: holders, authorities, statements, settlements."),
                ("cargo", "Carriers' cargo reports."),
                ("pre-arrival", "Entry summary declarations (ICS CC315A, CC313A) before loading or arrival."),
                ("transit", "Transit under guarantee (NCTS phase 5): departure, release, arrival, unloading remarks, discharge, cancellation, enquiries."),
                ("risk", "Risk management: rule sets, lists, lane rates, learned models."),
                ("administration", "The administration as data: country, currency, offices, calendar, tax types and code lists."),
                ("single-window", "Partner agencies, the licences, permits and certificates they issue, applications and decisions, and the agencies' feed."),
                ("reports", "The Time Release Study, rule hits, reconciliation."),
                ("audit", "The hash-chained audit trail."),
                ("public", "The public tariff and duty calculator."),
                ("portal", "The portal's pages and sign-in."),
                ("service", "Health, metrics, this document, the error table."),
            ]
            .into_iter()
            .map(|(name, description)| {
                let mut tag = Tag::new(name);
                tag.description = Some(description.to_owned());
                tag
            })
            .collect(),
        );
    }
}
