//! Who may call what: one table, deny by default. The router is built from this table (every route has a row),
//! and the OpenAPI document is checked against it by a test.

use axum::http::Method;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    Trader,
    Officer,
    Agency,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Trader, Role::Officer, Role::Agency, Role::Admin];

    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "trader" => Some(Role::Trader),
            "officer" => Some(Role::Officer),
            "agency" => Some(Role::Agency),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Trader => "trader",
            Role::Officer => "officer",
            Role::Agency => "agency",
            Role::Admin => "admin",
        }
    }
}

/// Who may call a route. Traders are further limited to declarations where their party is declarant or
/// representative; that check is made on the data (see `handlers::visible_to`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// No token needed.
    Public,
    Roles(&'static [Role]),
}

pub struct RouteRule {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
}

const TRADER: &[Role] = &[Role::Trader];
const OFFICER: &[Role] = &[Role::Officer];
const TRADER_OFFICER: &[Role] = &[Role::Trader, Role::Officer];
const REPORTS: &[Role] = &[Role::Officer, Role::Admin];
const ADMIN: &[Role] = &[Role::Admin];
const TRADER_OFFICER_ADMIN: &[Role] = &[Role::Trader, Role::Officer, Role::Admin];

macro_rules! routes {
    ($( $method:ident $path:literal => $access:expr, )*) => {
        /// Every route of the API with who may call it.
        pub fn table() -> Vec<RouteRule> {
            vec![ $( RouteRule { method: Method::$method, path: $path, access: $access }, )* ]
        }
    };
}

routes! {
    GET "/healthz" => Access::Public,
    GET "/metrics" => Access::Public,
    GET "/api/v1/openapi.json" => Access::Public,
    GET "/api/v1/error-codes" => Access::Public,
    GET "/api/v1/tariff" => Access::Public,
    GET "/api/v1/tariff/{code}" => Access::Public,
    POST "/api/v1/duty-calculations" => Access::Public,
    GET "/duty-calculator" => Access::Public,
    POST "/api/v1/declarations" => Access::Roles(TRADER),
    GET "/api/v1/declarations" => Access::Roles(TRADER_OFFICER),
    GET "/api/v1/declarations/{id}" => Access::Roles(TRADER_OFFICER),
    GET "/api/v1/declarations/{id}/notifications" => Access::Roles(TRADER_OFFICER),
    POST "/api/v1/declarations/{id}/arrival" => Access::Roles(TRADER_OFFICER),
    POST "/api/v1/declarations/{id}/control-results" => Access::Roles(OFFICER),
    POST "/api/v1/declarations/{id}/lane" => Access::Roles(OFFICER),
    POST "/api/v1/declarations/{id}/payments" => Access::Roles(OFFICER),
    POST "/api/v1/declarations/{id}/release" => Access::Roles(OFFICER),
    POST "/api/v1/declarations/{id}/cancellation" => Access::Roles(TRADER_OFFICER),
    POST "/api/v1/declarations/{id}/amendments" => Access::Roles(TRADER),
    POST "/api/v1/declarations/{id}/payment-orders" => Access::Roles(TRADER_OFFICER),
    GET "/api/v1/payment-orders/{reference}" => Access::Roles(TRADER_OFFICER),
    POST "/api/v1/bank/confirmations" => Access::Public,
    GET "/api/v1/reports/reconciliation" => Access::Roles(REPORTS),
    POST "/api/v1/declarations/{id}/refunds" => Access::Roles(TRADER_OFFICER),
    POST "/api/v1/declarations/{id}/guarantee-discharge" => Access::Roles(OFFICER),
    POST "/api/v1/declarations/{id}/guarantee-call" => Access::Roles(OFFICER),
    GET "/api/v1/refunds/{refund}" => Access::Roles(TRADER_OFFICER),
    GET "/api/v1/receipts/{receipt}" => Access::Roles(TRADER_OFFICER),
    POST "/api/v1/refunds/{refund}/approvals" => Access::Roles(OFFICER),
    POST "/api/v1/ledger/accounts" => Access::Roles(ADMIN),
    GET "/api/v1/ledger/accounts/{account}" => Access::Roles(TRADER_OFFICER_ADMIN),
    POST "/api/v1/ledger/accounts/{account}/settlements" => Access::Roles(OFFICER),
    GET "/api/v1/reports/release-times" => Access::Roles(REPORTS),
}

/// The rule for a matched route, if any.
pub fn rule_for(method: &Method, path: &str) -> Option<RouteRule> {
    table()
        .into_iter()
        .find(|r| r.method == method && r.path == path)
}
