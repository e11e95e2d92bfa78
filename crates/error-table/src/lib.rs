//! The one table of error codes that users can see.
//!
//! Every error a trader, officer or client program receives carries a code from [`ErrorCode`]: a stable string
//! (`xml.not_well_formed`), an HTTP status and a default sentence a trader understands. Clients switch on the code,
//! never on the message. This crate does no IO; the HTTP edge turns a [`Problem`] into a response body.
//!
//! Each row has a stable number (RES notifications carry it as the `ValidationCode` `ADUnnnnn`). Adding a code: add
//! its row with the next unused number, and the number and code to `pinned.txt`; a test fails when a pinned number
//! changes meaning, disappears or is reused, or when a row is not pinned.

use serde::Serialize;

macro_rules! error_codes {
    ($( $variant:ident => ($number:literal, $code:literal, $status:literal, $message:literal), )*) => {
        /// A user-visible error: see the crate documentation.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum ErrorCode { $( $variant, )* }

        impl ErrorCode {
            /// Every code, in table order (for documentation and tests).
            pub const ALL: &'static [ErrorCode] = &[ $( ErrorCode::$variant, )* ];

            /// The stable number of the code, written in the table: a RES `ValidationCode` is `ADU` and this
            /// number, so it never changes meaning (a new code takes a new number; a retired number is never reused).
            pub const fn number(self) -> u16 { match self { $( ErrorCode::$variant => $number, )* } }

            /// The code with this number.
            pub fn from_number(number: u16) -> Option<ErrorCode> {
                ErrorCode::ALL.iter().copied().find(|c| c.number() == number)
            }

            /// The stable code string clients switch on.
            pub const fn code(self) -> &'static str { match self { $( ErrorCode::$variant => $code, )* } }

            /// The HTTP status this error is answered with.
            pub const fn http_status(self) -> u16 { match self { $( ErrorCode::$variant => $status, )* } }

            /// The default sentence, written for a trader.
            pub const fn message(self) -> &'static str { match self { $( ErrorCode::$variant => $message, )* } }
        }
    };
}

error_codes! {
    // Transport and envelope.
    BodyTooLarge => (1, "request.too_large", 413, "The document is larger than this service accepts."),
    UnsupportedMediaType => (2, "request.unsupported_media_type", 415, "Send the declaration as application/xml (WCO DEC) or application/json."),
    NotUtf8 => (3, "request.not_utf8", 400, "The document is not valid UTF-8 text."),
    XmlNotWellFormed => (4, "xml.not_well_formed", 400, "The document is not well-formed XML."),
    XmlDtdForbidden => (5, "xml.dtd_forbidden", 400, "Document type declarations and entities are not accepted."),
    XmlTooDeep => (6, "xml.too_deep", 400, "The XML is nested deeper than any declaration needs."),
    XmlTooLarge => (7, "xml.too_large", 400, "The XML has more elements, attributes or text than any declaration needs."),
    XmlWrongEnvelope => (8, "xml.wrong_envelope", 400, "The root element is not a WCO DEC-DMS 2 MetaData envelope."),
    JsonInvalid => (9, "json.invalid", 400, "The JSON document could not be read."),
    EdifactSyntax => (10, "edifact.syntax", 400, "The EDIFACT interchange breaks the syntax rules."),
    EdifactTruncated => (11, "edifact.truncated", 400, "The EDIFACT interchange is cut short."),
    EdifactControlMismatch => (12, "edifact.control_mismatch", 400, "An EDIFACT control count or reference does not match."),
    EdifactUnsupportedMessage => (13, "edifact.unsupported_message", 422, "This EDIFACT message cannot be used here."),
    EdifactUnmappedSegment => (14, "edifact.unmapped_segment", 422, "This segment is not part of Aduana's message guide."),
    // Structure and context-free rules.
    MissingElement => (15, "declaration.missing_element", 422, "A required element is missing."),
    UnexpectedElement => (16, "declaration.unexpected_element", 422, "An element appears where the schema does not allow it."),
    RepeatedElement => (17, "declaration.repeated_element", 422, "An element appears more often than allowed."),
    InvalidValue => (18, "declaration.invalid_value", 422, "A value does not have the required format."),
    InvalidCommodityCode => (19, "declaration.invalid_commodity_code", 422, "The commodity code must be 6, 8 or 10 digits."),
    InvalidCountry => (20, "declaration.invalid_country", 422, "The country code is not an ISO 3166-1 alpha-2 code."),
    InvalidCurrency => (21, "declaration.invalid_currency", 422, "The currency code is not an ISO 4217 code."),
    InvalidLrn => (22, "declaration.invalid_lrn", 422, "The LRN (your reference, DE 2/5) must be 1 to 35 letters, digits or symbols, without leading or trailing spaces."),
    InvalidMrn => (23, "declaration.invalid_mrn", 422, "The MRN is not in the documented format or its check character is wrong."),
    InvalidAmount => (24, "declaration.invalid_amount", 422, "An amount must be a non-negative decimal number with a currency."),
    InvalidParty => (25, "declaration.invalid_party", 422, "A party identifier (EORI or TIN) is not in a valid format."),
    TooManyGoodsItems => (26, "declaration.too_many_goods_items", 422, "A declaration may hold at most 999 goods items."),
    GoodsItemCountMismatch => (27, "declaration.goods_item_count_mismatch", 422, "The declared number of goods items does not match the goods items sent."),
    GoodsItemSequence => (28, "declaration.goods_item_sequence", 422, "Goods items must be numbered 1, 2, 3 … without gaps or repeats."),
    UnsupportedFunctionCode => (29, "declaration.unsupported_function_code", 422, "This function code cannot be lodged here."),
    UnsupportedDeclarationType => (30, "declaration.unsupported_type", 422, "The declaration type is not one this administration accepts."),
    // Business rules checked on acceptance (the declaration is stored and rejected).
    CommodityCodeUnknown => (31, "assessment.commodity_code_unknown", 422, "The commodity code is not in the nomenclature in force."),
    CommodityCodeNotLeaf => (32, "assessment.commodity_code_not_leaf", 422, "The commodity code is subdivided; declare one of its subdivisions."),
    CommodityCodeNotInForce => (33, "assessment.commodity_code_not_in_force", 422, "The commodity code is not valid on the date of the declaration."),
    CommodityCodeNotInTariff => (34, "assessment.commodity_code_not_in_tariff", 422, "The commodity code has no measures in the tariff in force."),
    ExchangeRateUnknown => (35, "assessment.exchange_rate_unknown", 422, "No exchange rate is declared or published for this currency."),
    // Lifecycle.
    TransitionNotAllowed => (36, "lifecycle.transition_not_allowed", 409, "This action is not allowed in the declaration's current status."),
    LrnReusedWithOtherContent => (37, "lodgement.lrn_reused", 409, "This LRN was already used by this declarant for a different declaration."),
    ConcurrentUpdate => (38, "lifecycle.concurrent_update", 409, "The declaration changed while this request was processed; try again."),
    // Access.
    Unauthenticated => (39, "auth.unauthenticated", 401, "A valid bearer token is required."),
    TokenExpired => (40, "auth.token_expired", 401, "This token has expired; ask your administrator for a new one."),
    TokenRevoked => (41, "auth.token_revoked", 401, "This token was revoked; ask your administrator for a new one."),
    Forbidden => (42, "auth.forbidden", 403, "Your role or party does not allow this action."),
    ScopeMissing => (43, "auth.scope_missing", 403, "This token's scopes do not include this action."),
    NotRepresentative => (44, "auth.not_representative", 403, "You are not registered as a representative of this declarant."),
    LoginFailed => (45, "auth.login_failed", 401, "The login or password is wrong."),
    LoginThrottled => (46, "auth.login_throttled", 429, "Too many failed sign-ins; wait a few minutes and try again."),
    CsrfInvalid => (47, "auth.csrf_invalid", 403, "The form has expired or did not come from this site; reload the page and try again."),
    RateLimited => (48, "request.rate_limited", 429, "Too many requests; slow down and retry after the time given in Retry-After."),
    HeadersTooLarge => (49, "request.headers_too_large", 431, "The request headers are larger than this service accepts."),
    NotFound => (50, "request.not_found", 404, "No such resource."),
    InvalidQuery => (51, "request.invalid_query", 400, "A query parameter has an invalid value."),
    InvalidRequest => (52, "request.invalid", 422, "The request body is not valid for this action."),
    LedgerRefused => (53, "ledger.refused", 409, "The ledger refused the transfer: a limit or balance does not allow it."),
    FourEyes => (54, "refund.four_eyes", 409, "A second, different officer must approve this."),
    SignatureInvalid => (55, "payment.signature_invalid", 401, "The bank's signature is missing, wrong or too old."),
    ConfirmationConflict => (56, "payment.confirmation_conflict", 409, "This confirmation id was already received with different content."),
    ReferenceFileInvalid => (57, "reference.file_invalid", 422, "The reference file is not valid; nothing was imported."),
    RiskRulesInvalid => (58, "risk.rules_invalid", 422, "The risk rules cannot be used; nothing was saved."),
    RiskListInvalid => (59, "risk.list_invalid", 422, "The list is not valid; nothing was saved."),
    RiskRatesInvalid => (60, "risk.rates_invalid", 422, "The lane rate table is not valid; nothing was saved."),
    RiskModelInvalid => (61, "risk.model_invalid", 422, "The risk model cannot be read; nothing was saved."),
    ManifestTooLarge => (62, "manifest.too_large", 422, "The cargo report holds more consignments, goods or containers than one report may; split it."),
    ManifestDuplicate => (63, "manifest.duplicate", 409, "This carrier already lodged a cargo report with this reference."),
    // Operations.
    Unavailable => (64, "service.unavailable", 503, "The service is temporarily unable to handle the request; try again."),
    Internal => (65, "service.internal", 500, "An internal error occurred; it has been logged."),
    // Added in wave 2 (numbers follow on; they are never reordered).
    AmountTooLarge => (66, "declaration.amount_too_large", 422, "An amount is larger than this administration accepts."),
    MethodNotAllowed => (67, "request.method_not_allowed", 405, "This address does not take this method; the Allow header lists those it takes."),
    RequestTimeout => (68, "request.timeout", 408, "The request was not received in time; send it again."),
    AccountNotAuthorised => (69, "ledger.account_not_authorised", 403, "This account's holder has not authorised you to use it."),
    PointerUnresolved => (70, "declaration.pointer_unresolved", 422, "A pointer of the correction does not name a part of the declaration that the correction carries."),
    ProcedureNotAccepted => (71, "declaration.procedure_not_accepted", 422, "The procedure (DE 1/10) is not one this administration accepts."),
    ProfileInvalid => (72, "administration.profile_invalid", 422, "The administration's profile has a mistake; each is named with its line and column."),
    LpcoMissing => (73, "lpco.document_missing", 422, "A goods item lacks a licence, permit, certificate or other document a partner agency requires."),
    LpcoUnknown => (74, "lpco.unknown", 422, "The licence, permit or certificate cited is not one an agency issued: check its code and reference."),
    LpcoNotHolder => (75, "lpco.not_holder", 422, "The licence, permit or certificate cited was issued to another party."),
    LpcoNotInForce => (76, "lpco.not_in_force", 422, "The licence, permit or certificate cited is not in force on the date."),
    LpcoGoodsNotCovered => (77, "lpco.goods_not_covered", 422, "The licence, permit or certificate cited does not cover these goods."),
    LpcoBalanceExceeded => (78, "lpco.balance_exceeded", 422, "The quantity is more than what is left of the licence, permit or certificate."),
    LpcoNotIssued => (79, "lpco.not_issued", 422, "The document is applied for and not issued yet: the agency has not decided."),
    LpcoUnknownType => (80, "lpco.unknown_type", 422, "No partner agency issues a document of this code."),
    LpcoOtherAgency => (81, "lpco.other_agency", 403, "This belongs to another agency; only its own officers may act on it."),
    LpcoApplicationClosed => (82, "lpco.application_closed", 409, "The application is already decided; it cannot be decided again."),
    AgencyUnknown => (83, "agency.unknown", 422, "No partner agency has this code; the administration registers agencies."),
    AgencyInvalid => (84, "agency.invalid", 422, "The agency or its document type is not valid; nothing was saved."),
    DocumentTypeNotAccepted => (85, "document.type_not_accepted", 415, "The file is not a PDF, PNG, JPEG or XML document, or not what its Content-Type says."),
    DocumentUnknown => (86, "document.unknown", 422, "No document you uploaded has this SHA-256; upload it first."),
    EntrySummaryNotEns => (87, "entry_summary.not_entry_summary", 422, "This is not an entry summary declaration (CC315A) or its amendment (CC313A) in the ICS namespace."),
    EntrySummarySchema => (88, "entry_summary.schema", 422, "The entry summary declaration departs from the ICS schema; each departure is named at its place."),
    EntrySummaryRule => (89, "entry_summary.rule", 422, "The entry summary declaration breaks an ICS business rule; each is named with its ICS error number and place."),
    EntrySummaryUnknown => (90, "entry_summary.unknown", 404, "No entry summary declaration of yours has this MRN."),
    EntrySummaryDuplicate => (91, "entry_summary.duplicate", 409, "You already lodged an entry summary declaration with this reference; amend it (CC313A) under its MRN."),
    ReferralUnknown => (92, "referral.unknown", 404, "No referral of yours has this id."),
    ReferralStepRefused => (93, "referral.step_refused", 409, "The referral cannot take this step where it stands."),
    DoNotLoad => (94, "entry_summary.do_not_load", 422, "Customs ordered this consignment not to be loaded: its declarations are refused until the order is lifted."),
    TransitNotNcts => (95, "transit.not_ncts", 422, "This is not an NCTS phase 5 message (CC015C, CC007C, …) in the NCTS namespace."),
    TransitWrongMessage => (96, "transit.wrong_message", 422, "This NCTS message is not the one this address takes."),
    TransitSchema => (97, "transit.schema", 422, "The transit message departs from the NCTS phase 5 schema; each departure is named at its place."),
    TransitUnknown => (98, "transit.unknown", 404, "No transit movement of yours has this MRN."),
    TransitStepRefused => (99, "transit.step_refused", 409, "The transit movement cannot take this step where it stands."),
    TransitDuplicate => (100, "transit.duplicate", 409, "You already lodged a departure declaration with this LRN at this office of departure."),
    TransitGuaranteeRefused => (101, "transit.guarantee_refused", 422, "The guarantee named cannot secure this movement."),
}

/// The OpenAPI schema of a code: the stable strings of the table, each with its number, status and sentence.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for ErrorCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        let listed: Vec<String> = ErrorCode::ALL
            .iter()
            .map(|c| {
                format!(
                    "{} `{}` ({}): {}",
                    c.number(),
                    c.code(),
                    c.http_status(),
                    c.message()
                )
            })
            .collect();
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(ErrorCode::ALL.iter().map(|c| c.code())))
            .description(Some(format!(
                "A stable error code (GET /api/v1/error-codes gives each one's number, HTTP status and sentence): {}.",
                listed.join("; ")
            )))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for ErrorCode {}

/// One reported problem: a code, where it is (XPath or JSON pointer), and a sentence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    #[serde(serialize_with = "serialize_code")]
    pub code: ErrorCode,
    /// XPath (XML) or JSON pointer (JSON) of the offending field; empty when the whole document is concerned.
    pub pointer: String,
    pub message: String,
    /// The WCO/UK data element number of the offending field where it is known, e.g. `6/14` (commodity code).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_element: Option<&'static str>,
    /// The ICS error number of a business rule of an entry summary declaration (as HMRC answers it, e.g. 8149).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<u16>,
}

fn serialize_code<S: serde::Serializer>(
    code: &ErrorCode,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(code.code())
}

impl Problem {
    /// A problem with the table's default message.
    pub fn new(code: ErrorCode, pointer: impl Into<String>) -> Self {
        Self {
            code,
            pointer: pointer.into(),
            message: code.message().to_owned(),
            data_element: None,
            number: None,
        }
    }

    /// A problem with a specific sentence (which should still read well to a trader).
    pub fn with_message(
        code: ErrorCode,
        pointer: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            code,
            pointer: pointer.into(),
            message: message.into(),
            data_element: None,
            number: None,
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.pointer.is_empty(), self.data_element) {
            (true, _) => write!(f, "{}: {}", self.code.code(), self.message),
            (false, None) => write!(
                f,
                "{} at {}: {}",
                self.code.code(),
                self.pointer,
                self.message
            ),
            (false, Some(de)) => write!(
                f,
                "{} at {} (DE {de}): {}",
                self.code.code(),
                self.pointer,
                self.message
            ),
        }
    }
}

impl std::error::Error for Problem {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_dotted_and_statuses_are_errors() {
        let mut seen = HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.code()), "duplicate code {}", code.code());
            assert!(
                code.code().contains('.'),
                "{} should be area.name",
                code.code()
            );
            assert!(
                (400..600).contains(&code.http_status()),
                "{} status",
                code.code()
            );
            assert!(
                code.message().ends_with('.'),
                "{} message should be a sentence",
                code.code()
            );
        }
    }

    /// Numbers never change meaning: every row is pinned in `pinned.txt` (number, code), no number is used twice,
    /// and a pinned pair never disappears.
    #[test]
    fn numbers_are_pinned_and_never_reused() {
        let pinned: Vec<(u16, &str)> = include_str!("../pinned.txt")
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .map(|l| {
                let (number, code) = l.split_once(' ').expect("NUMBER CODE");
                (number.parse().expect("a number"), code.trim())
            })
            .collect();
        let mut numbers = HashSet::new();
        for code in ErrorCode::ALL {
            assert!(
                numbers.insert(code.number()),
                "number {} used twice",
                code.number()
            );
            assert!(
                pinned.contains(&(code.number(), code.code())),
                "{} {} is not in pinned.txt: add the line",
                code.number(),
                code.code()
            );
            assert_eq!(ErrorCode::from_number(code.number()), Some(*code));
        }
        for (number, code) in &pinned {
            assert_eq!(
                ErrorCode::from_number(*number).map(ErrorCode::code),
                Some(*code),
                "pinned number {number} must keep meaning {code}"
            );
        }
    }
}
