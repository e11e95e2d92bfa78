//! The national tariff and the arithmetic of assessment.
//!
//! - [`measures`]: the measures of a tariff (ad valorem, specific, compound; minimum and maximum; by origin and
//!   preference; with validity dates), read from the spreadsheet-friendly CSV layout documented in
//!   docs/tariff-csv.md, all or nothing.
//! - [`valuation`]: the customs value of each goods item: transaction value converted to the national currency,
//!   plus additions and minus deductions, with shipment-level costs apportioned by value.
//! - [`assessment`]: duties and taxes per goods item and tax type, each with its base, rate, amount and a sentence
//!   that names the measure applied, reliefs taken off.
//! - [`nomenclature`]: the HS and national codes with descriptions, hierarchy and validity; code checks and search.
//! - [`calculator`]: the e-duty calculator, a what-if that runs the same assessment on a one-item declaration.
//!
//! The demo tariff ([`demo`]) is ours, written for the walkthrough and tests; real administrations load theirs.
//!
//! **Architecture invariant**: pure. Money is `rust_decimal::Decimal`, never floating point; the date of
//! assessment is passed in; no file is read here (the CLI reads files and hands over their text).

pub mod assessment;
pub mod calculator;
mod csv_file;
pub mod measures;
pub mod nomenclature;
pub mod valuation;

pub use assessment::{Assessment, ItemAssessment, TaxLine, TaxTotal, assess, assess_with};
pub use calculator::{DutyCalculation, DutyCalculationRequest, calculate};
pub use measures::{Base, Claims, Condition, Measure, MeasureKind, Tariff, TariffError};
pub use nomenclature::{CodeError, Node, Nomenclature};
pub use valuation::{Apportionment, ExchangeRates, Valuation, ValuationError};

/// The demo tariff and exchange rates shipped with Aduana (national currency GBP, the HMRC samples' currency).
pub mod demo {
    pub const TARIFF_CSV: &str = include_str!("../demo/tariff.csv");
    pub const RATES_CSV: &str = include_str!("../demo/exchange-rates.csv");
    pub const NOMENCLATURE_CSV: &str = include_str!("../demo/nomenclature.csv");
    pub const NATIONAL_CURRENCY: &str = "GBP";

    /// The demo tariff, parsed. The file is part of the build and tested, so parsing cannot fail at run time.
    pub fn tariff() -> super::Tariff {
        super::Tariff::from_csv(TARIFF_CSV).expect("the demo tariff is valid (tested)")
    }

    /// The demo nomenclature: chapters and the headings the demo tariff names. It describes; it is too partial to
    /// check declared codes with.
    pub fn nomenclature() -> super::Nomenclature {
        super::Nomenclature::from_csv(NOMENCLATURE_CSV)
            .expect("the demo nomenclature is valid (tested)")
    }

    pub fn exchange_rates() -> super::ExchangeRates {
        super::ExchangeRates::from_csv(NATIONAL_CURRENCY, RATES_CSV)
            .expect("the demo rates are valid (tested)")
    }
}
