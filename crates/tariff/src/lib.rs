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

pub use assessment::{
    Assessment, ItemAssessment, TaxLine, TaxRegime, TaxTotal, assess, assess_with,
};
pub use calculator::{DutyCalculation, DutyCalculationRequest, calculate};
pub use measures::{Base, Claims, Condition, Measure, MeasureKind, Tariff, TariffError};
pub use nomenclature::{CodeError, Node, Nomenclature};
pub use valuation::{Apportionment, ExchangeRates, Valuation, ValuationError};

/// The demonstration reference data shipped with Aduana, one set per built-in administration profile: a tariff,
/// exchange rates and a nomenclature, written by us (illustrative, not any country's law). A profile names its set
/// (`[demonstration] reference_data`); real administrations import theirs (docs/tariff-csv.md).
pub mod demo {
    /// One set of demonstration reference files, as text.
    #[derive(Clone, Copy, Debug)]
    pub struct Set {
        pub name: &'static str,
        /// The national currency the exchange rates are quoted in.
        pub currency: &'static str,
        pub tariff_csv: &'static str,
        pub rates_csv: &'static str,
        pub nomenclature_csv: &'static str,
    }

    /// The UK demonstration (`demo-gb`): GBP, customs duty A00 and VAT B00.
    pub const GB: Set = Set {
        name: "gb",
        currency: "GBP",
        tariff_csv: include_str!("../demo/tariff.csv"),
        rates_csv: include_str!("../demo/exchange-rates.csv"),
        nomenclature_csv: include_str!("../demo/nomenclature.csv"),
    };

    /// The French-speaking demonstration in CFA francs (`demo-sn`): XOF, DD, RS, PCS and TVA. The nomenclature is
    /// the same HS demonstration file (its descriptions in English).
    pub const SN: Set = Set {
        name: "sn",
        currency: "XOF",
        tariff_csv: include_str!("../demo/sn/tariff.csv"),
        rates_csv: include_str!("../demo/sn/exchange-rates.csv"),
        nomenclature_csv: include_str!("../demo/nomenclature.csv"),
    };

    /// Every set, by the name a profile gives it.
    pub const SETS: &[Set] = &[GB, SN];

    pub fn set(name: &str) -> Option<Set> {
        SETS.iter().copied().find(|s| s.name == name)
    }

    impl Set {
        /// The tariff, parsed. The files are part of the build and tested, so parsing cannot fail at run time.
        pub fn tariff(&self) -> super::Tariff {
            super::Tariff::from_csv(self.tariff_csv).expect("the demo tariffs are valid (tested)")
        }

        /// The nomenclature: chapters and the headings the demo tariffs name. It describes; it is too partial to
        /// check declared codes with.
        pub fn nomenclature(&self) -> super::Nomenclature {
            super::Nomenclature::from_csv(self.nomenclature_csv)
                .expect("the demo nomenclature is valid (tested)")
        }

        pub fn exchange_rates(&self) -> super::ExchangeRates {
            super::ExchangeRates::from_csv(self.currency, self.rates_csv)
                .expect("the demo rates are valid (tested)")
        }
    }

    // The UK set's parts under their former names (tests and benchmarks of the tariff alone).
    pub const TARIFF_CSV: &str = GB.tariff_csv;
    pub const RATES_CSV: &str = GB.rates_csv;
    pub const NOMENCLATURE_CSV: &str = GB.nomenclature_csv;

    pub fn tariff() -> super::Tariff {
        GB.tariff()
    }

    pub fn nomenclature() -> super::Nomenclature {
        GB.nomenclature()
    }

    pub fn exchange_rates() -> super::ExchangeRates {
        GB.exchange_rates()
    }
}
