//! Who may call what: one table, deny by default. The router is built from this table (every route has a row),
//! and the OpenAPI document and the policy-matrix test are checked against it.
//!
//! A row names the roles that may call a route and the scope a token must hold for it. What a role sees of the
//! data is decided on the data: a trader only its own party's declarations (as declarant, or as a registered
//! representative), see `handlers::visible_to`.

use axum::http::Method;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// A trader or broker, for one party (its EORI); a representative also for its registered principals.
    Trader,
    /// A customs officer: decides controls, payments, releases, refunds.
    Officer,
    /// A risk analyst: reads declarations and reports, never decides one.
    RiskAnalyst,
    /// An auditor: reads everything, including the audit trail; changes nothing.
    Auditor,
    /// A partner-agency officer, for one agency (its code in the user's party).
    Agency,
    /// A bank: confirms payments through the signed webhook only; a bank token opens no route.
    Bank,
    /// An administrator: reference data, accounts, reports; not declarations.
    Admin,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Trader,
        Role::Officer,
        Role::RiskAnalyst,
        Role::Auditor,
        Role::Agency,
        Role::Bank,
        Role::Admin,
    ];

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Trader => "trader",
            Role::Officer => "officer",
            Role::RiskAnalyst => "risk_analyst",
            Role::Auditor => "auditor",
            Role::Agency => "agency",
            Role::Bank => "bank",
            Role::Admin => "admin",
        }
    }

    /// Whether the role reads every party's declarations.
    pub fn sees_all_declarations(self) -> bool {
        matches!(self, Role::Officer | Role::RiskAnalyst | Role::Auditor)
    }
}

/// What a token may be limited to. A token holds `*` (everything its user's role allows) or a list of scopes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Reading declarations, their notifications, payment orders, refunds and receipts.
    DeclarationsRead,
    /// Lodging, amending, cancelling; asking for payment orders and refunds.
    DeclarationsWrite,
    /// An officer's decisions: controls, lanes, payments, release, guarantees, refund approvals.
    Decisions,
    /// Ledger accounts: statements, opening, settlements.
    Ledger,
    /// Reports (release times, reconciliation).
    Reports,
    /// The audit trail.
    Audit,
    /// Risk rules, lists, lane rates and models.
    Risk,
    /// Public routes need no token.
    None,
}

impl Scope {
    pub const ALL: [Scope; 7] = [
        Scope::DeclarationsRead,
        Scope::DeclarationsWrite,
        Scope::Decisions,
        Scope::Ledger,
        Scope::Reports,
        Scope::Audit,
        Scope::Risk,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::DeclarationsRead => "declarations:read",
            Scope::DeclarationsWrite => "declarations:write",
            Scope::Decisions => "decisions",
            Scope::Ledger => "ledger",
            Scope::Reports => "reports",
            Scope::Audit => "audit",
            Scope::Risk => "risk",
            Scope::None => "",
        }
    }

    pub fn parse(text: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// Who may call a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// No token needed.
    Public,
    /// No token: the caller proves itself by a signature the handler checks (the banks' payment webhook).
    Signed,
    /// A bearer token of one of these roles, holding the route's scope.
    Roles(&'static [Role]),
    /// A portal session (cookie) of one of these roles; a form sent with it carries the session's CSRF token.
    Session(&'static [Role]),
}

pub struct RouteRule {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    pub scope: Scope,
}

const TRADER: &[Role] = &[Role::Trader];
const OFFICER: &[Role] = &[Role::Officer];
const TRADER_OFFICER: &[Role] = &[Role::Trader, Role::Officer];
/// Reading declarations: the trader its own, the customs roles all.
const READERS: &[Role] = &[
    Role::Trader,
    Role::Officer,
    Role::RiskAnalyst,
    Role::Auditor,
];
/// Reading what a declaration owes and paid.
const MONEY_READERS: &[Role] = &[Role::Trader, Role::Officer, Role::Auditor];
const REPORTS: &[Role] = &[Role::Officer, Role::RiskAnalyst, Role::Auditor, Role::Admin];
const FINANCE_REPORTS: &[Role] = &[Role::Officer, Role::Auditor, Role::Admin];
const ADMIN: &[Role] = &[Role::Admin];
const ACCOUNT_READERS: &[Role] = &[Role::Trader, Role::Officer, Role::Auditor, Role::Admin];
const AUDITORS: &[Role] = &[Role::Auditor, Role::Admin];
/// Risk profiles are confidential: analysts write them; auditors and administrators may read them.
const RISK_READERS: &[Role] = &[Role::RiskAnalyst, Role::Auditor, Role::Admin];
const RISK_WRITERS: &[Role] = &[Role::RiskAnalyst];
/// Everyone with a portal login.
const PORTAL: &[Role] = &[
    Role::Trader,
    Role::Officer,
    Role::RiskAnalyst,
    Role::Auditor,
    Role::Agency,
    Role::Admin,
];

macro_rules! routes {
    ($( $method:ident $path:literal => $access:expr, $scope:ident; )*) => {
        /// Every route of the service with who may call it.
        pub fn table() -> Vec<RouteRule> {
            vec![ $( RouteRule { method: Method::$method, path: $path, access: $access, scope: Scope::$scope }, )* ]
        }
    };
}

routes! {
    GET "/healthz" => Access::Public, None;
    GET "/metrics" => Access::Public, None;
    GET "/api/v1/openapi.json" => Access::Public, None;
    GET "/api/v1/error-codes" => Access::Public, None;
    GET "/api/v1/tariff" => Access::Public, None;
    GET "/api/v1/tariff/{code}" => Access::Public, None;
    POST "/api/v1/duty-calculations" => Access::Public, None;
    GET "/duty-calculator" => Access::Public, None;
    GET "/login" => Access::Public, None;
    POST "/login" => Access::Public, None;
    POST "/logout" => Access::Session(PORTAL), None;
    GET "/portal" => Access::Session(PORTAL), None;
    POST "/api/v1/declarations" => Access::Roles(TRADER), DeclarationsWrite;
    POST "/api/v1/cargo-reports" => Access::Roles(TRADER), DeclarationsWrite;
    GET "/api/v1/cargo-reports" => Access::Roles(READERS), DeclarationsRead;
    GET "/api/v1/cargo-reports/{id}" => Access::Roles(READERS), DeclarationsRead;
    GET "/api/v1/declarations" => Access::Roles(READERS), DeclarationsRead;
    GET "/api/v1/declarations/{id}" => Access::Roles(READERS), DeclarationsRead;
    GET "/api/v1/declarations/{id}/notifications" => Access::Roles(READERS), DeclarationsRead;
    POST "/api/v1/declarations/{id}/arrival" => Access::Roles(TRADER_OFFICER), DeclarationsWrite;
    POST "/api/v1/declarations/{id}/control-results" => Access::Roles(OFFICER), Decisions;
    POST "/api/v1/declarations/{id}/lane" => Access::Roles(OFFICER), Decisions;
    POST "/api/v1/declarations/{id}/payments" => Access::Roles(OFFICER), Decisions;
    POST "/api/v1/declarations/{id}/release" => Access::Roles(OFFICER), Decisions;
    POST "/api/v1/declarations/{id}/cancellation" => Access::Roles(TRADER_OFFICER), DeclarationsWrite;
    POST "/api/v1/declarations/{id}/amendments" => Access::Roles(TRADER), DeclarationsWrite;
    POST "/api/v1/declarations/{id}/payment-orders" => Access::Roles(TRADER_OFFICER), DeclarationsWrite;
    GET "/api/v1/payment-orders/{reference}" => Access::Roles(MONEY_READERS), DeclarationsRead;
    POST "/api/v1/bank/confirmations" => Access::Signed, None;
    GET "/api/v1/reports/reconciliation" => Access::Roles(FINANCE_REPORTS), Reports;
    POST "/api/v1/declarations/{id}/refunds" => Access::Roles(TRADER_OFFICER), DeclarationsWrite;
    POST "/api/v1/declarations/{id}/guarantee-discharge" => Access::Roles(OFFICER), Decisions;
    POST "/api/v1/declarations/{id}/guarantee-call" => Access::Roles(OFFICER), Decisions;
    GET "/api/v1/refunds/{refund}" => Access::Roles(MONEY_READERS), DeclarationsRead;
    GET "/api/v1/receipts/{receipt}" => Access::Roles(MONEY_READERS), DeclarationsRead;
    POST "/api/v1/refunds/{refund}/approvals" => Access::Roles(OFFICER), Decisions;
    POST "/api/v1/ledger/accounts" => Access::Roles(ADMIN), Ledger;
    GET "/api/v1/ledger/accounts/{account}" => Access::Roles(ACCOUNT_READERS), Ledger;
    POST "/api/v1/ledger/accounts/{account}/settlements" => Access::Roles(OFFICER), Decisions;
    GET "/api/v1/reports/release-times" => Access::Roles(REPORTS), Reports;
    GET "/api/v1/reports/rule-hits" => Access::Roles(REPORTS), Reports;
    GET "/api/v1/audit/entries" => Access::Roles(AUDITORS), Audit;
    GET "/api/v1/declarations/{id}/audit" => Access::Roles(AUDITORS), Audit;
    GET "/api/v1/risk/rules" => Access::Roles(RISK_READERS), Risk;
    POST "/api/v1/risk/rules" => Access::Roles(RISK_WRITERS), Risk;
    POST "/api/v1/risk/rules/check" => Access::Roles(RISK_WRITERS), Risk;
    GET "/api/v1/risk/rules/{version}" => Access::Roles(RISK_READERS), Risk;
    GET "/api/v1/risk/lists" => Access::Roles(RISK_READERS), Risk;
    GET "/api/v1/risk/lists/{name}" => Access::Roles(RISK_READERS), Risk;
    PUT "/api/v1/risk/lists/{name}" => Access::Roles(RISK_WRITERS), Risk;
    GET "/api/v1/risk/rates" => Access::Roles(RISK_READERS), Risk;
    PUT "/api/v1/risk/rates" => Access::Roles(RISK_WRITERS), Risk;
    GET "/api/v1/risk/models" => Access::Roles(RISK_READERS), Risk;
    POST "/api/v1/risk/models" => Access::Roles(RISK_WRITERS), Risk;
    PUT "/api/v1/risk/model-choice" => Access::Roles(RISK_WRITERS), Risk;
}

/// The rule for a matched route, if any.
pub fn rule_for(method: &Method, path: &str) -> Option<RouteRule> {
    table()
        .into_iter()
        .find(|r| r.method == method && r.path == path)
}

/// Whether a token's scopes (`*` or a list) allow a route's scope.
pub fn scopes_allow(token_scopes: &[String], needed: Scope) -> bool {
    needed == Scope::None
        || token_scopes
            .iter()
            .any(|s| s == "*" || s == needed.as_str())
}
