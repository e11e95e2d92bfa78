//! The e-duty calculator: "what would I pay for this?" before shipping.
//!
//! A [`DutyCalculationRequest`] (commodity code, origin, value, quantities, date and the claims a declaration
//! would make) is turned into a one-item import declaration and assessed by [`crate::assess_with`], the same code the
//! clearance pipeline runs, so the calculator can never disagree with the assessment of a real declaration.

use crate::assessment::{TaxLine, TaxTotal};
use crate::{ExchangeRates, Tariff};
use declaration::model::*;
use declaration::{Amount, CommodityCode, Country, Currency, Lrn};
use error_table::{ErrorCode, Problem};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::Date;

/// Most quantities one calculation may carry.
pub const MAX_QUANTITIES: usize = 8;
/// Most additional procedure or statement codes one calculation may carry.
pub const MAX_CLAIMS: usize = 16;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MoneyInput {
    /// A decimal string, e.g. "1250.00".
    pub amount: String,
    /// ISO 4217.
    pub currency: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct QuantityInput {
    /// UN/ECE Rec. 20 unit: KGM, LTR, LPA, NAR, …
    pub unit: String,
    /// A decimal string.
    pub value: String,
}

/// What a trader asks the calculator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DutyCalculationRequest {
    /// 6 to 10 digits.
    pub commodity_code: String,
    /// Country of origin (ISO 3166-1 alpha-2).
    #[serde(default)]
    pub origin: Option<String>,
    /// DE 4/17 preference, e.g. 100 (none) or 300 (tariff preference).
    #[serde(default)]
    pub preference: Option<String>,
    /// The customs value (or the price paid when no adjustment applies), in any currency with a published rate.
    pub customs_value: MoneyInput,
    #[serde(default)]
    pub quantities: Vec<QuantityInput>,
    /// The date of the tariff to apply (YYYY-MM-DD); today when absent.
    #[serde(default)]
    pub date: Option<String>,
    /// DE 1/10, e.g. "40" (release for free circulation, the default).
    #[serde(default)]
    pub procedure: Option<String>,
    /// DE 1/11 codes claimed, e.g. ["C07"].
    #[serde(default)]
    pub additional_procedures: Vec<String>,
    /// DE 2/2 statement codes claimed, e.g. ["NIDOM"].
    #[serde(default)]
    pub statements: Vec<String>,
    /// DE 2/3 documents held, category and type, e.g. ["N954"] for an EUR.1 proof of origin.
    #[serde(default)]
    pub documents: Vec<String>,
    /// DE 8/1 tariff quota order number claimed, e.g. "054321".
    #[serde(default)]
    pub quota_order_id: Option<String>,
}

/// What the calculator answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DutyCalculation {
    pub commodity_code: String,
    pub date: String,
    pub currency: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub customs_value: Decimal,
    pub valuation: String,
    pub taxes: Vec<TaxLine>,
    pub totals: Vec<TaxTotal>,
    #[serde(with = "rust_decimal::serde::str")]
    pub total: Decimal,
}

fn invalid(pointer: &str, message: impl Into<String>) -> Problem {
    Problem::with_message(ErrorCode::InvalidRequest, pointer, message.into())
}

/// Reads the request into a one-item import declaration and its date (`today` when none is given).
pub fn declaration_for(
    request: &DutyCalculationRequest,
    today: Date,
) -> Result<(Declaration, Date), Vec<Problem>> {
    let mut problems = Vec::new();
    let code = match CommodityCode::parse(request.commodity_code.trim()) {
        Ok(code) => Some(code),
        Err(_) => {
            problems.push(Problem::with_message(
                ErrorCode::InvalidCommodityCode,
                "/commodity_code",
                format!(
                    "{:?} is not a commodity code: write 6, 8 or 10 digits.",
                    request.commodity_code
                ),
            ));
            None
        }
    };
    let origin = match request
        .origin
        .as_deref()
        .map(str::trim)
        .filter(|o| !o.is_empty())
    {
        None => None,
        Some(text) => match Country::parse(text) {
            Ok(country) => Some(country),
            Err(_) => {
                problems.push(Problem::with_message(
                    ErrorCode::InvalidCountry,
                    "/origin",
                    format!("{text:?} is not a country code such as CN or US."),
                ));
                None
            }
        },
    };
    let value = match (
        declaration::parse_decimal(request.customs_value.amount.trim()),
        Currency::parse(request.customs_value.currency.trim()),
    ) {
        // The same ceiling as a declared amount (16 digits, the schema's): nothing larger is computed with.
        (Ok(value), Ok(_)) if !declaration::within_declared_limit(value) => {
            problems.push(Problem::with_message(
                ErrorCode::AmountTooLarge,
                "/customs_value/amount",
                format!(
                    "{} has more than {} digits before the point; a customs value has at most {}.",
                    request.customs_value.amount.trim(),
                    declaration::MAX_DECLARED_DIGITS,
                    declaration::MAX_DECLARED_DIGITS
                ),
            ));
            None
        }
        (Ok(value), Ok(currency)) => Some(Amount { value, currency }),
        (Err(_), _) => {
            problems.push(Problem::with_message(
                ErrorCode::InvalidAmount,
                "/customs_value/amount",
                format!(
                    "{:?} is not an amount: write a non-negative decimal number such as 1250.00.",
                    request.customs_value.amount
                ),
            ));
            None
        }
        (_, Err(_)) => {
            problems.push(Problem::with_message(
                ErrorCode::InvalidCurrency,
                "/customs_value/currency",
                format!(
                    "{:?} is not a currency code such as GBP or USD.",
                    request.customs_value.currency
                ),
            ));
            None
        }
    };
    let date = match request
        .date
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        None => Some(today),
        Some(text) => {
            match Date::parse(
                text,
                time::macros::format_description!("[year]-[month]-[day]"),
            ) {
                // Years 1 to 9999: `-0001-01-01` parses as a date but is none a tariff has.
                Ok(date) if (1..=9999).contains(&date.year()) => Some(date),
                _ => {
                    problems.push(invalid(
                        "/date",
                        format!(
                            "{text:?} is not a date written YYYY-MM-DD, in the years 1 to 9999."
                        ),
                    ));
                    None
                }
            }
        }
    };
    if request.quantities.len() > MAX_QUANTITIES {
        problems.push(invalid(
            "/quantities",
            format!("At most {MAX_QUANTITIES} quantities may be given."),
        ));
    }
    let mut net_mass = None;
    let mut quantities = Vec::new();
    for (index, quantity) in request.quantities.iter().enumerate().take(MAX_QUANTITIES) {
        let unit = quantity.unit.trim();
        if unit.is_empty() || unit.len() > 3 || !unit.bytes().all(|b| b.is_ascii_alphanumeric()) {
            problems.push(invalid(
                &format!("/quantities/{index}/unit"),
                format!("{unit:?} is not a unit code such as KGM, LTR, LPA or NAR."),
            ));
            continue;
        }
        match declaration::parse_decimal(quantity.value.trim()) {
            Ok(value) if !declaration::within_declared_limit(value) => {
                problems.push(Problem::with_message(
                    ErrorCode::AmountTooLarge,
                    format!("/quantities/{index}/value"),
                    format!(
                        "A quantity has at most {} digits before the point.",
                        declaration::MAX_DECLARED_DIGITS
                    ),
                ))
            }
            Ok(value) if unit == "KGM" => net_mass = Some(value),
            Ok(value) => quantities.push(declaration::model::Measure {
                value,
                unit_code: Some(unit.to_owned()),
            }),
            Err(_) => problems.push(invalid(
                &format!("/quantities/{index}/value"),
                format!(
                    "{:?} is not a quantity: write a non-negative decimal number.",
                    quantity.value
                ),
            )),
        }
    }
    let code_list = |codes: &[String], pointer: &str, problems: &mut Vec<Problem>| {
        if codes.len() > MAX_CLAIMS {
            problems.push(invalid(
                pointer,
                format!("At most {MAX_CLAIMS} codes may be given."),
            ));
        }
        codes
            .iter()
            .take(MAX_CLAIMS)
            .enumerate()
            .filter_map(|(index, code)| {
                let code = code.trim();
                if code.is_empty()
                    || code.len() > 8
                    || !code.bytes().all(|b| b.is_ascii_alphanumeric())
                {
                    problems.push(invalid(
                        &format!("{pointer}/{index}"),
                        format!("{code:?} is not a code of letters and digits."),
                    ));
                    None
                } else {
                    Some(code.to_owned())
                }
            })
            .collect::<Vec<_>>()
    };
    let additional_procedures = code_list(
        &request.additional_procedures,
        "/additional_procedures",
        &mut problems,
    );
    let statements = code_list(&request.statements, "/statements", &mut problems);
    let documents = code_list(&request.documents, "/documents", &mut problems);
    for (index, document) in documents.iter().enumerate() {
        if document.len() != 4 {
            problems.push(invalid(
                &format!("/documents/{index}"),
                format!(
                    "{document:?} is not a document code: write its category and type, e.g. N954."
                ),
            ));
        }
    }
    let quota = request
        .quota_order_id
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty());
    if let Some(quota) = quota
        && (quota.len() != 6 || !quota.bytes().all(|b| b.is_ascii_digit()))
    {
        problems.push(invalid(
            "/quota_order_id",
            format!("{quota:?} is not a quota order number: write six digits."),
        ));
    }
    let procedure = request
        .procedure
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .unwrap_or("40");
    if procedure.len() != 2 || !procedure.bytes().all(|b| b.is_ascii_digit()) {
        problems.push(invalid(
            "/procedure",
            format!("{procedure:?} is not a procedure code: write two digits such as 40."),
        ));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let (Some(code), Some(value), Some(date)) = (code, value, date) else {
        unreachable!("every None above pushed a problem");
    };

    let code = code.as_str();
    let mut classifications = vec![Classification {
        id: code[..code.len().min(8)].to_owned(),
        identification_type_code: "TSP".into(),
    }];
    if code.len() == 10 {
        classifications.push(Classification {
            id: code[8..].to_owned(),
            identification_type_code: "TRC".into(),
        });
    }
    let mut procedures = vec![Procedure {
        current_code: procedure.to_owned(),
        previous_code: Some("00".into()),
    }];
    procedures.extend(additional_procedures.into_iter().map(|code| Procedure {
        current_code: code,
        previous_code: None,
    }));
    let mut duty_tax_fees = vec![DutyTaxFee {
        duty_regime_code: request.preference.clone().filter(|p| !p.trim().is_empty()),
        quota_order_id: quota.map(str::to_owned),
        ..DutyTaxFee::default()
    }];
    duty_tax_fees.extend(quantities.into_iter().map(|q| DutyTaxFee {
        specific_tax_base_quantity: Some(q),
        ..DutyTaxFee::default()
    }));
    let item = GoodsItem {
        sequence_numeric: 1,
        classifications,
        duty_tax_fees,
        net_mass_kg: net_mass,
        item_charge_amount: Some(value),
        procedures,
        origins: origin
            .into_iter()
            .map(|country_code| Origin {
                country_code,
                type_code: "1".into(),
            })
            .collect(),
        additional_documents: documents
            .into_iter()
            .map(|code| AdditionalDocument {
                category_code: code[..1].to_owned(),
                type_code: code[1..].to_owned(),
                id: None,
                name: None,
                lpco_exemption_code: None,
                write_off_quantity: None,
            })
            .collect(),
        additional_information: statements
            .into_iter()
            .map(|code| AdditionalInformation {
                statement_code: Some(code),
                ..AdditionalInformation::default()
            })
            .collect(),
        ..GoodsItem::default()
    };
    let declaration = Declaration {
        function_code: FunctionCode::Original,
        lrn: Lrn::parse("DUTY-CALCULATION").expect("a valid LRN"),
        type_code: DeclarationType::parse("IMA").expect("a valid type"),
        id: None,
        goods_item_quantity: Some(1),
        total_package_quantity: None,
        invoice_amount: None,
        currency_exchanges: Vec::new(),
        declaration_office_id: None,
        supervising_office_id: None,
        exit_office_id: None,
        declarant: None,
        exporter: None,
        agent: None,
        submitter: None,
        authorisation_holders: Vec::new(),
        border_transport_means: None,
        additional_documents: Vec::new(),
        additional_information: Vec::new(),
        obligation_guarantees: Vec::new(),
        amendments: Vec::new(),
        consignment: None,
        issue_date_time: None,
        acceptance_date_time: None,
        kept: Vec::new(),
        goods_shipment: GoodsShipment {
            goods_items: vec![item],
            ..GoodsShipment::default()
        },
    };
    Ok((declaration, date))
}

/// Answers a duty calculation with the tariff and rates given, taxes computed as the administration's `regime`
/// says (as the pipeline computes them).
pub fn calculate(
    request: &DutyCalculationRequest,
    tariff: &Tariff,
    rates: &ExchangeRates,
    regime: &crate::TaxRegime,
    today: Date,
) -> Result<DutyCalculation, Vec<Problem>> {
    let (declaration, date) = declaration_for(request, today)?;
    let assessment = crate::assess_with(
        &declaration,
        tariff,
        rates,
        date,
        crate::Apportionment::ByValue,
        regime,
    )
    .map_err(|problems| {
        problems
            .into_iter()
            .map(|mut p| {
                // Pointers into the synthetic declaration mean nothing to the caller: point at the request.
                p.pointer = match p.code {
                    ErrorCode::ExchangeRateUnknown => "/customs_value/currency".into(),
                    ErrorCode::AmountTooLarge => "/customs_value/amount".into(),
                    ErrorCode::MissingElement => "/quantities".into(),
                    _ => "/commodity_code".into(),
                };
                p
            })
            .collect::<Vec<_>>()
    })?;
    let item = assessment
        .items
        .into_iter()
        .next()
        .expect("one item in, one item out");
    Ok(DutyCalculation {
        commodity_code: item.commodity_code.unwrap_or_default(),
        date: date.to_string(),
        currency: assessment.currency,
        customs_value: item.customs_value,
        valuation: item.valuation,
        total: item
            .taxes
            .iter()
            .try_fold(Decimal::ZERO, |sum, t| sum.checked_add(t.amount))
            .ok_or_else(|| vec![crate::valuation::too_large("/customs_value/amount")])?,
        taxes: item.taxes,
        totals: assessment.totals,
    })
}
