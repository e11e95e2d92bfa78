//! Who may call what: one table, deny by default. The router is built from this table (every route has a row),
//! and the OpenAPI document and the policy-matrix test are checked against it.
//!
//! A row names the roles that may call a route and the scope a token must hold for it. What a role sees of the
//! data is decided on the data: a trader only its own party's declarations (as declarant, or as a registered
//! representative), see `handlers::visible_to`.

use crate::openapi::Frame;
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
    /// The administration's profile: offices, calendar, code lists; the agency registry.
    Administration,
    /// The Single Window: LPCO types, applications, agencies' decisions, issued documents, the agency feed.
    Lpco,
    /// Public routes need no token.
    None,
}

impl Scope {
    pub const ALL: [Scope; 9] = [
        Scope::DeclarationsRead,
        Scope::DeclarationsWrite,
        Scope::Decisions,
        Scope::Ledger,
        Scope::Reports,
        Scope::Audit,
        Scope::Risk,
        Scope::Administration,
        Scope::Lpco,
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
            Scope::Administration => "administration",
            Scope::Lpco => "lpco",
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

/// One row of the route table: the route, who may call it, and its handler.
pub struct RouteRule {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    pub scope: Scope,
    /// The handler, as a method router for this route's method.
    pub handler: fn() -> axum::routing::MethodRouter<crate::AppState>,
}

const TRADER: &[Role] = &[Role::Trader];
const OFFICER: &[Role] = &[Role::Officer];
/// Who refers a consignment to its carrier before loading or arrival.
const REFERRERS: &[Role] = &[Role::Officer, Role::RiskAnalyst];
/// Who reads referrals in the portal: the carrier its own, customs all.
const REFERRAL_READERS: &[Role] = &[
    Role::Trader,
    Role::Officer,
    Role::RiskAnalyst,
    Role::Auditor,
];
const TRADER_OFFICER: &[Role] = &[Role::Trader, Role::Officer];
/// Watching transit movements for enquiries: the customs roles.
const TRANSIT_WATCHERS: &[Role] = &[Role::Officer, Role::RiskAnalyst, Role::Auditor];
/// Reading declarations: the trader its own, the customs roles all.
const READERS: &[Role] = &[
    Role::Trader,
    Role::Officer,
    Role::RiskAnalyst,
    Role::Auditor,
];
/// Reading one declaration: as [`READERS`], and an agency officer those its agency is asked about.
const DECLARATION_READERS: &[Role] = &[
    Role::Trader,
    Role::Officer,
    Role::RiskAnalyst,
    Role::Auditor,
    Role::Agency,
];
/// Reading what a declaration owes and paid.
const MONEY_READERS: &[Role] = &[Role::Trader, Role::Officer, Role::Auditor];
const REPORTS: &[Role] = &[Role::Officer, Role::RiskAnalyst, Role::Auditor, Role::Admin];
const FINANCE_REPORTS: &[Role] = &[Role::Officer, Role::Auditor, Role::Admin];
const ADMIN: &[Role] = &[Role::Admin];
/// Questions to the enquiry point are answered by officers and administrators.
const ENQUIRY_ANSWERERS: &[Role] = &[Role::Officer, Role::Admin];
const ACCOUNT_READERS: &[Role] = &[Role::Trader, Role::Officer, Role::Auditor, Role::Admin];
const AUDITORS: &[Role] = &[Role::Auditor, Role::Admin];
/// Risk profiles are confidential: analysts write them; auditors and administrators may read them.
const RISK_READERS: &[Role] = &[Role::RiskAnalyst, Role::Auditor, Role::Admin];
const RISK_WRITERS: &[Role] = &[Role::RiskAnalyst];
/// Managing who may name a deferment account or guarantee: its holder (a trader) or the administration.
const HOLDERS: &[Role] = &[Role::Trader, Role::Admin];
const AGENCY: &[Role] = &[Role::Agency];
/// Those who keep an agency's document types: the administration, the agency itself.
const AGENCY_KEEPERS: &[Role] = &[Role::Admin, Role::Agency];
/// Applications and issued documents: the trader its own, the agency its own, customs all.
const LPCO_READERS: &[Role] = &[Role::Trader, Role::Agency, Role::Officer, Role::Auditor];
/// Who uploads documents: traders (for applications) and agency officers.
const UPLOADERS: &[Role] = &[Role::Trader, Role::Agency, Role::Officer];
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
    ($( $method:ident $path:literal => $access:expr, $scope:ident, $handler:path; )*) => {
        /// Every route of the service: who may call it, and which handler answers. The router is built from this
        /// table alone, so it is the one map of the API.
        pub fn table() -> Vec<RouteRule> {
            vec![ $( RouteRule {
                method: Method::$method,
                path: $path,
                access: $access,
                scope: Scope::$scope,
                handler: || axum::routing::on(axum::routing::MethodFilter::$method, $handler),
            }, )* ]
        }

        /// The OpenAPI document of the same routes: each handler's `#[utoipa::path]` with the types it reads
        /// and answers, the schemas derived from them. A route without its path attribute does not compile.
        #[derive(utoipa::OpenApi)]
        #[openapi(paths( $( $handler ),* ), modifiers(&Frame))]
        pub struct ApiDoc;
    };
}

routes! {
    GET "/healthz" => Access::Public, None, crate::reports::healthz;
    GET "/metrics" => Access::Public, None, crate::reports::metrics;
    GET "/api/v1/openapi.json" => Access::Public, None, crate::reports::openapi;
    GET "/api/v1/error-codes" => Access::Public, None, crate::reports::error_codes;
    GET "/api/v1/tariff" => Access::Public, None, crate::public::tariff_search;
    GET "/api/v1/tariff/{code}" => Access::Public, None, crate::public::tariff_code;
    POST "/api/v1/duty-calculations" => Access::Public, None, crate::public::duty_calculation;
    GET "/api/v1/lpco/requirements" => Access::Public, None, crate::public::requirements;
    GET "/duty-calculator" => Access::Public, None, crate::public::calculator_page;
    GET "/login" => Access::Public, None, crate::portal::show_login;
    POST "/login" => Access::Public, None, crate::portal::login;
    POST "/logout" => Access::Session(PORTAL), None, crate::portal::logout;
    GET "/assets/aduana.css" => Access::Public, None, crate::frame::stylesheet;
    GET "/language" => Access::Public, None, crate::frame::choose_language;
    GET "/status" => Access::Public, None, crate::portal_public::status;
    GET "/release-times" => Access::Public, None, crate::portal_public::release_times;
    GET "/release-times.csv" => Access::Public, None, crate::portal_public::release_times_csv;
    GET "/information" => Access::Public, None, crate::portal_publications::list;
    GET "/information/{id}" => Access::Public, None, crate::portal_publications::show;
    POST "/information/{id}/comments" => Access::Public, None, crate::portal_publications::comment;
    GET "/enquiry" => Access::Public, None, crate::portal_enquiries::show;
    POST "/enquiry" => Access::Public, None, crate::portal_enquiries::ask;
    GET "/enquiry/answer" => Access::Public, None, crate::portal_enquiries::answer;
    GET "/portal" => Access::Session(PORTAL), None, crate::portal_declarations::declarations;
    GET "/portal/queue" => Access::Session(OFFICER), None, crate::portal_queue::queue;
    GET "/portal/lodge" => Access::Session(TRADER), None, crate::portal_declarations::show_lodge;
    POST "/portal/lodge" => Access::Session(TRADER), None, crate::portal_declarations::submit_lodge;
    GET "/portal/lodge/import" => Access::Session(TRADER), None, crate::portal_lodge_form::show;
    POST "/portal/lodge/import" => Access::Session(TRADER), None, crate::portal_lodge_form::submit;
    GET "/portal/declarations/{id}" => Access::Session(DECLARATION_READERS), None, crate::portal_declarations::show;
    POST "/portal/declarations/{id}/arrival" => Access::Session(TRADER_OFFICER), None, crate::portal_declarations::arrival;
    POST "/portal/declarations/{id}/cancellation" => Access::Session(TRADER_OFFICER), None, crate::portal_declarations::cancellation;
    POST "/portal/declarations/{id}/payment-order" => Access::Session(TRADER_OFFICER), None, crate::portal_declarations::payment_order;
    POST "/portal/declarations/{id}/refund" => Access::Session(TRADER_OFFICER), None, crate::portal_declarations::refund;
    GET "/portal/refunds" => Access::Session(OFFICER), None, crate::portal_refunds::show;
    POST "/portal/refunds/{refund}/approval" => Access::Session(OFFICER), None, crate::portal_refunds::approve;
    POST "/portal/declarations/{id}/inspection" => Access::Session(OFFICER), None, crate::portal_inspection::record;
    POST "/portal/queue/allocation" => Access::Session(OFFICER), None, crate::portal_inspection::allocate;
    GET "/portal/documents/{sha256}" => Access::Session(LPCO_READERS), None, crate::portal_inspection::document;
    POST "/portal/declarations/{id}/control-result" => Access::Session(OFFICER), None, crate::portal_declarations::control_result;
    POST "/portal/declarations/{id}/lane" => Access::Session(OFFICER), None, crate::portal_declarations::lane;
    POST "/portal/declarations/{id}/release" => Access::Session(OFFICER), None, crate::portal_declarations::release;
    POST "/portal/declarations/{id}/exit" => Access::Session(OFFICER), None, crate::portal_declarations::exit;
    POST "/portal/declarations/{id}/amendment" => Access::Session(TRADER), None, crate::portal_declarations::amendment;
    GET "/portal/receipts/{receipt}" => Access::Session(MONEY_READERS), None, crate::portal_declarations::receipt;
    GET "/portal/audit" => Access::Session(AUDITORS), None, crate::portal_audit::show;
    POST "/portal/audit/verification" => Access::Session(AUDITORS), None, crate::portal_audit::verify;
    GET "/portal/users" => Access::Session(ADMIN), None, crate::portal_admin::show_users;
    POST "/portal/users" => Access::Session(ADMIN), None, crate::portal_admin::create_user;
    GET "/portal/users/{id}" => Access::Session(ADMIN), None, crate::portal_admin::show_user;
    POST "/portal/users/{id}/role" => Access::Session(ADMIN), None, crate::portal_admin::change_role;
    POST "/portal/users/{id}/office" => Access::Session(ADMIN), None, crate::portal_admin::change_office;
    POST "/portal/users/{id}/password" => Access::Session(ADMIN), None, crate::portal_admin::change_password;
    POST "/portal/users/{id}/disable" => Access::Session(ADMIN), None, crate::portal_admin::disable_user;
    POST "/portal/users/{id}/tokens" => Access::Session(ADMIN), None, crate::portal_admin::create_token;
    POST "/portal/tokens/{id}/revocation" => Access::Session(ADMIN), None, crate::portal_admin::revoke_token;
    GET "/portal/representations" => Access::Session(ADMIN), None, crate::portal_admin::show_representations;
    GET "/portal/agencies" => Access::Session(ADMIN), None, crate::portal_agencies::show;
    POST "/portal/agencies" => Access::Session(ADMIN), None, crate::portal_agencies::save;
    GET "/portal/referrals" => Access::Session(REFERRAL_READERS), None, crate::portal_referrals::show;
    POST "/portal/referrals/{id}/answer" => Access::Session(TRADER), None, crate::portal_referrals::answer;
    POST "/portal/referrals/{id}/closure" => Access::Session(OFFICER), None, crate::portal_referrals::close;
    GET "/portal/arrivals" => Access::Session(REFERRAL_READERS), None, crate::portal_arrivals::show;
    POST "/portal/arrivals/{id}/arrival" => Access::Session(TRADER_OFFICER), None, crate::portal_arrivals::notify;
    GET "/portal/transit" => Access::Session(REFERRAL_READERS), None, crate::portal_transit::show;
    POST "/portal/transit/{mrn}/release" => Access::Session(OFFICER), None, crate::portal_transit::release;
    GET "/portal/lpco-types" => Access::Session(AGENCY_KEEPERS), None, crate::portal_lpco_types::show;
    POST "/portal/lpco-types" => Access::Session(AGENCY_KEEPERS), None, crate::portal_lpco_types::save;
    GET "/portal/publications" => Access::Session(ADMIN), None, crate::portal_publications::show_admin;
    POST "/portal/publications" => Access::Session(ADMIN), None, crate::portal_publications::publish;
    POST "/portal/publications/{id}/final" => Access::Session(ADMIN), None, crate::portal_publications::finalise;
    GET "/portal/enquiries" => Access::Session(ENQUIRY_ANSWERERS), None, crate::portal_enquiries::show_open;
    POST "/portal/enquiries/{id}/answer" => Access::Session(ENQUIRY_ANSWERERS), None, crate::portal_enquiries::submit_answer;
    POST "/portal/representations" => Access::Session(ADMIN), None, crate::portal_admin::change_representation;
    GET "/portal/risk/rules" => Access::Session(RISK_READERS), None, crate::portal_risk::show_rules;
    POST "/portal/risk/rules" => Access::Session(RISK_WRITERS), None, crate::portal_risk::submit_rules;
    GET "/portal/risk/lists" => Access::Session(RISK_READERS), None, crate::portal_risk_lists::show;
    POST "/portal/risk/lists" => Access::Session(RISK_WRITERS), None, crate::portal_risk_lists::save;
    GET "/portal/risk/rates" => Access::Session(RISK_READERS), None, crate::portal_risk_rates::show;
    POST "/portal/risk/rates" => Access::Session(RISK_WRITERS), None, crate::portal_risk_rates::save;
    GET "/portal/risk/models" => Access::Session(RISK_READERS), None, crate::portal_risk_models::show;
    POST "/portal/risk/models" => Access::Session(RISK_WRITERS), None, crate::portal_risk_models::upload;
    POST "/portal/risk/models/choice" => Access::Session(RISK_WRITERS), None, crate::portal_risk_models::choose;
    GET "/portal/risk/hit-rates" => Access::Session(REPORTS), None, crate::portal_risk::hit_rates;
    GET "/portal/kpis" => Access::Session(REPORTS), None, crate::portal_kpis::show;
    GET "/portal/kpis.csv" => Access::Session(REPORTS), None, crate::portal_kpis::csv;
    GET "/portal/risk/hit-rates.csv" => Access::Session(REPORTS), None, crate::portal_risk::hit_rates_csv;
    GET "/portal/applications" => Access::Session(TRADER), None, crate::portal_sw::show_applications;
    POST "/portal/applications" => Access::Session(TRADER), None, crate::portal_sw::submit_application;
    GET "/portal/agency" => Access::Session(AGENCY), None, crate::portal_sw::agency_queue;
    GET "/portal/agency/applications/{id}" => Access::Session(AGENCY), None, crate::portal_sw::show_application;
    POST "/portal/agency/applications/{id}/decisions" => Access::Session(AGENCY), None, crate::portal_sw::submit_decision;
    POST "/api/v1/declarations" => Access::Roles(TRADER), DeclarationsWrite, crate::declarations::lodge::lodge;
    POST "/api/v1/cargo-reports" => Access::Roles(TRADER), DeclarationsWrite, crate::cargo::lodge;
    GET "/api/v1/cargo-reports" => Access::Roles(READERS), DeclarationsRead, crate::cargo::list;
    GET "/api/v1/cargo-reports/{id}" => Access::Roles(READERS), DeclarationsRead, crate::cargo::show;
    GET "/api/v1/cargo-reports/{id}/consignments" => Access::Roles(READERS), DeclarationsRead, crate::discharge::consignments;
    POST "/api/v1/cargo-reports/{id}/arrival" => Access::Roles(TRADER_OFFICER), DeclarationsWrite, crate::discharge::arrival;
    POST "/api/v1/entry-summaries" => Access::Roles(TRADER), DeclarationsWrite, crate::entry_summaries::lodge;
    GET "/api/v1/entry-summaries" => Access::Roles(READERS), DeclarationsRead, crate::entry_summaries::list;
    GET "/api/v1/entry-summaries/{mrn}" => Access::Roles(READERS), DeclarationsRead, crate::entry_summaries::show;
    POST "/api/v1/entry-summaries/{mrn}/referrals" => Access::Roles(REFERRERS), DeclarationsWrite, crate::entry_summaries::refer;
    GET "/api/v1/referrals" => Access::Roles(READERS), DeclarationsRead, crate::entry_summaries::referrals;
    POST "/api/v1/referrals/{id}/answer" => Access::Roles(TRADER), DeclarationsWrite, crate::entry_summaries::answer;
    POST "/api/v1/referrals/{id}/closure" => Access::Roles(OFFICER), DeclarationsWrite, crate::entry_summaries::close;
    POST "/api/v1/transit/departures" => Access::Roles(TRADER), DeclarationsWrite, crate::transit::departure;
    GET "/api/v1/transit" => Access::Roles(READERS), DeclarationsRead, crate::transit::list;
    GET "/api/v1/transit/enquiries" => Access::Roles(TRANSIT_WATCHERS), DeclarationsRead, crate::transit::enquiries;
    GET "/api/v1/transit/{mrn}" => Access::Roles(READERS), DeclarationsRead, crate::transit::show;
    POST "/api/v1/transit/{mrn}/release" => Access::Roles(OFFICER), Decisions, crate::transit::release;
    POST "/api/v1/transit/{mrn}/arrival" => Access::Roles(TRADER), DeclarationsWrite, crate::transit::arrival;
    POST "/api/v1/transit/{mrn}/unloading-remarks" => Access::Roles(TRADER), DeclarationsWrite, crate::transit::unloading_remarks;
    POST "/api/v1/transit/{mrn}/cancellation" => Access::Roles(TRADER_OFFICER), DeclarationsWrite, crate::transit::cancellation;
    GET "/api/v1/declarations" => Access::Roles(READERS), DeclarationsRead, crate::declarations::read::list;
    GET "/api/v1/declarations/{id}" => Access::Roles(DECLARATION_READERS), DeclarationsRead, crate::declarations::read::show;
    GET "/api/v1/declarations/{id}/notifications" => Access::Roles(READERS), DeclarationsRead, crate::declarations::read::notifications_of;
    POST "/api/v1/declarations/{id}/arrival" => Access::Roles(TRADER_OFFICER), DeclarationsWrite, crate::declarations::commands::arrival;
    POST "/api/v1/declarations/{id}/control-results" => Access::Roles(OFFICER), Decisions, crate::declarations::commands::control_results;
    POST "/api/v1/declarations/{id}/lane" => Access::Roles(OFFICER), Decisions, crate::declarations::commands::override_lane;
    POST "/api/v1/declarations/{id}/payments" => Access::Roles(OFFICER), Decisions, crate::declarations::commands::payment;
    POST "/api/v1/declarations/{id}/release" => Access::Roles(OFFICER), Decisions, crate::declarations::commands::release;
    POST "/api/v1/declarations/{id}/exit" => Access::Roles(OFFICER), Decisions, crate::declarations::commands::exit;
    POST "/api/v1/declarations/{id}/cancellation" => Access::Roles(TRADER_OFFICER), DeclarationsWrite, crate::declarations::commands::cancellation;
    POST "/api/v1/declarations/{id}/amendments" => Access::Roles(TRADER), DeclarationsWrite, crate::declarations::commands::amendment;
    POST "/api/v1/declarations/{id}/corrections" => Access::Roles(TRADER), DeclarationsWrite, crate::declarations::commands::correction;
    POST "/api/v1/declarations/{id}/payment-orders" => Access::Roles(TRADER_OFFICER), DeclarationsWrite, crate::payments::bank::create_order;
    GET "/api/v1/payment-orders/{reference}" => Access::Roles(MONEY_READERS), DeclarationsRead, crate::payments::bank::show_order;
    POST "/api/v1/bank/confirmations" => Access::Signed, None, crate::payments::bank::confirmation;
    GET "/api/v1/reports/reconciliation" => Access::Roles(FINANCE_REPORTS), Reports, crate::reports::reconciliation;
    POST "/api/v1/declarations/{id}/refunds" => Access::Roles(TRADER_OFFICER), DeclarationsWrite, crate::payments::refunds::request_refund;
    POST "/api/v1/declarations/{id}/guarantee-discharge" => Access::Roles(OFFICER), Decisions, crate::payments::guarantees::discharge_guarantee;
    POST "/api/v1/declarations/{id}/guarantee-call" => Access::Roles(OFFICER), Decisions, crate::payments::guarantees::call_guarantee;
    GET "/api/v1/refunds/{refund}" => Access::Roles(MONEY_READERS), DeclarationsRead, crate::payments::refunds::show_refund;
    GET "/api/v1/receipts/{receipt}" => Access::Roles(MONEY_READERS), DeclarationsRead, crate::payments::bank::show_receipt;
    POST "/api/v1/refunds/{refund}/approvals" => Access::Roles(OFFICER), Decisions, crate::payments::refunds::approve_refund;
    POST "/api/v1/ledger/accounts" => Access::Roles(ADMIN), Ledger, crate::payments::accounts::open_account;
    GET "/api/v1/ledger/accounts/{account}" => Access::Roles(ACCOUNT_READERS), Ledger, crate::payments::accounts::account_statement;
    POST "/api/v1/ledger/accounts/{account}/settlements" => Access::Roles(OFFICER), Decisions, crate::payments::accounts::settle_account;
    GET "/api/v1/reports/release-times" => Access::Roles(REPORTS), Reports, crate::reports::release_times;
    GET "/api/v1/reports/rule-hits" => Access::Roles(REPORTS), Reports, crate::reports::rule_hits;
    GET "/api/v1/reports/cargo-reconciliation" => Access::Roles(REPORTS), Reports, crate::discharge::reconciliation;
    GET "/api/v1/audit/entries" => Access::Roles(AUDITORS), Audit, crate::reports::audit_entries;
    GET "/api/v1/declarations/{id}/audit" => Access::Roles(AUDITORS), Audit, crate::reports::declaration_audit;
    GET "/api/v1/risk/rules" => Access::Roles(RISK_READERS), Risk, crate::risk::list_rules;
    POST "/api/v1/risk/rules" => Access::Roles(RISK_WRITERS), Risk, crate::risk::save_rules;
    POST "/api/v1/risk/rules/check" => Access::Roles(RISK_WRITERS), Risk, crate::risk::check;
    GET "/api/v1/risk/rules/{version}" => Access::Roles(RISK_READERS), Risk, crate::risk::show_rules;
    GET "/api/v1/risk/lists" => Access::Roles(RISK_READERS), Risk, crate::risk::list_lists;
    GET "/api/v1/risk/lists/{name}" => Access::Roles(RISK_READERS), Risk, crate::risk::show_list;
    PUT "/api/v1/risk/lists/{name}" => Access::Roles(RISK_WRITERS), Risk, crate::risk::save_list;
    GET "/api/v1/risk/rates" => Access::Roles(RISK_READERS), Risk, crate::risk::show_rates;
    PUT "/api/v1/risk/rates" => Access::Roles(RISK_WRITERS), Risk, crate::risk::save_rates;
    GET "/api/v1/risk/models" => Access::Roles(RISK_READERS), Risk, crate::risk::list_models;
    POST "/api/v1/risk/models" => Access::Roles(RISK_WRITERS), Risk, crate::risk::save_model;
    PUT "/api/v1/risk/model-choice" => Access::Roles(RISK_WRITERS), Risk, crate::risk::choose_model;
    GET "/api/v1/declarations/{id}/versions" => Access::Roles(READERS), DeclarationsRead, crate::declarations::read::versions;
    GET "/api/v1/declarations/{id}/versions/{n}" => Access::Roles(READERS), DeclarationsRead, crate::declarations::read::version;
    POST "/api/v1/ledger/accounts/{account}/authorities" => Access::Roles(HOLDERS), Ledger, crate::payments::accounts::grant_authority;
    DELETE "/api/v1/ledger/accounts/{account}/authorities/{party}" => Access::Roles(HOLDERS), Ledger, crate::payments::accounts::revoke_authority;
    GET "/api/v1/administration" => Access::Public, None, crate::configuration::show;
    PUT "/api/v1/administration" => Access::Roles(ADMIN), Administration, crate::configuration::replace;
    GET "/api/v1/administration/versions" => Access::Roles(AUDITORS), Administration, crate::configuration::versions;
    PUT "/api/v1/administration/offices/{code}" => Access::Roles(ADMIN), Administration, crate::configuration::put_office;
    PUT "/api/v1/administration/holidays/{date}" => Access::Roles(ADMIN), Administration, crate::configuration::add_holiday;
    DELETE "/api/v1/administration/holidays/{date}" => Access::Roles(ADMIN), Administration, crate::configuration::remove_holiday;
    PUT "/api/v1/administration/procedures/{code}" => Access::Roles(ADMIN), Administration, crate::configuration::add_procedure;
    DELETE "/api/v1/administration/procedures/{code}" => Access::Roles(ADMIN), Administration, crate::configuration::remove_procedure;
    GET "/api/v1/agencies" => Access::Public, None, crate::single_window::agencies;
    PUT "/api/v1/agencies/{code}" => Access::Roles(ADMIN), Administration, crate::single_window::put_agency;
    PUT "/api/v1/lpco/types/{code}" => Access::Roles(AGENCY_KEEPERS), Lpco, crate::single_window::put_lpco_type;
    POST "/api/v1/lpco/applications" => Access::Roles(TRADER), Lpco, crate::single_window::apply;
    GET "/api/v1/lpco/applications" => Access::Roles(LPCO_READERS), Lpco, crate::single_window::applications;
    GET "/api/v1/lpco/applications/{id}" => Access::Roles(LPCO_READERS), Lpco, crate::single_window::application;
    POST "/api/v1/lpco/applications/{id}/decisions" => Access::Roles(AGENCY), Lpco, crate::single_window::decide;
    GET "/api/v1/lpco/licences/{code}/{reference}" => Access::Roles(LPCO_READERS), Lpco, crate::single_window::licence;
    GET "/api/v1/agency/queue" => Access::Roles(AGENCY), Lpco, crate::single_window::queue;
    GET "/api/v1/agency/feed" => Access::Roles(AGENCY), Lpco, crate::single_window::feed;
    GET "/api/v1/agency/rules" => Access::Roles(AGENCY), Lpco, crate::single_window::agency_rules;
    PUT "/api/v1/agency/rules" => Access::Roles(AGENCY), Lpco, crate::single_window::put_agency_rules;
    POST "/api/v1/documents" => Access::Roles(UPLOADERS), Lpco, crate::documents::upload;
    GET "/api/v1/documents/{sha256}" => Access::Roles(LPCO_READERS), Lpco, crate::documents::download;
    POST "/api/v1/declarations/{id}/agency-decisions" => Access::Roles(AGENCY), Lpco, crate::single_window::decide_on_declaration;
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
