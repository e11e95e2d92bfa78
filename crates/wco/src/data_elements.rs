//! The WCO/UK data element (DE) numbers of the DEC-DMS 2 elements, as the HMRC samples' comments and the UK
//! Tariff's CDS guide name them, so that a problem reported at an XPath also says which data element it is about.
//! Matched on the XPath without positions: the longest listed path the pointer starts with wins, so a problem in
//! `Commodity/Classification/IdentificationTypeCode` is about DE 6/14 like the classification itself.

use error_table::Problem;

/// (XPath under `/MetaData/Declaration`, DE number). Elements with no single data element (wrappers such as
/// `GoodsShipment`) are not listed.
const TABLE: &[(&str, &str)] = &[
    ("FunctionCode", "1/1"),
    ("TypeCode", "1/1"),
    ("FunctionalReferenceID", "2/5"),
    ("GoodsItemQuantity", "1/9"),
    ("TotalPackageQuantity", "6/18"),
    ("InvoiceAmount", "4/11"),
    ("CurrencyExchange", "4/15"),
    ("DeclarationOfficeID", "5/12"),
    ("SupervisingOffice", "5/27"),
    ("ExitOffice", "5/12"),
    ("Declarant", "3/18"),
    ("Exporter", "3/2"),
    ("Agent/ID", "3/20"),
    ("Agent/FunctionCode", "3/21"),
    ("AuthorisationHolder", "3/39"),
    ("BorderTransportMeans/ModeCode", "7/4"),
    ("BorderTransportMeans/RegistrationNationalityCode", "7/15"),
    ("BorderTransportMeans", "7/14"),
    ("AdditionalDocument", "2/3"),
    ("AdditionalInformation", "2/2"),
    ("ObligationGuarantee/SecurityDetailsCode", "8/2"),
    ("ObligationGuarantee", "8/3"),
    ("Consignment/Carrier", "3/31"),
    ("Consignment/Freight", "4/2"),
    ("Consignment/Itinerary", "5/22"),
    ("GoodsShipment/TransactionNatureCode", "8/5"),
    ("GoodsShipment/Buyer", "3/26"),
    ("GoodsShipment/Seller", "3/24"),
    ("GoodsShipment/Importer", "3/15"),
    ("GoodsShipment/Consignee", "3/9"),
    ("GoodsShipment/Consignment/ContainerCode", "7/2"),
    ("GoodsShipment/Consignment/ArrivalTransportMeans", "7/9"),
    ("GoodsShipment/Consignment/DepartureTransportMeans", "7/7"),
    ("GoodsShipment/Consignment/GoodsLocation", "5/23"),
    ("GoodsShipment/Consignment/TransportEquipment", "7/10"),
    ("GoodsShipment/CustomsValuation", "4/9"),
    ("GoodsShipment/Destination", "5/8"),
    ("GoodsShipment/DomesticDutyTaxParty", "3/40"),
    ("GoodsShipment/ExportCountry", "5/14"),
    ("GoodsShipment/PreviousDocument", "2/1"),
    ("GoodsShipment/TradeTerms", "4/1"),
    ("GoodsShipment/UCR", "2/4"),
    ("GoodsShipment/Warehouse", "2/7"),
    (
        "GoodsShipment/GovernmentAgencyGoodsItem/SequenceNumeric",
        "1/6",
    ),
    (
        "GoodsShipment/GovernmentAgencyGoodsItem/StatisticalValueAmount",
        "99/6",
    ),
    (
        "GoodsShipment/GovernmentAgencyGoodsItem/AdditionalDocument",
        "2/3",
    ),
    (
        "GoodsShipment/GovernmentAgencyGoodsItem/AdditionalInformation",
        "2/2",
    ),
    (
        "GoodsShipment/GovernmentAgencyGoodsItem/PreviousDocument",
        "2/1",
    ),
    (
        "GoodsShipment/GovernmentAgencyGoodsItem/Commodity/Description",
        "6/8",
    ),
    (
        "GoodsShipment/GovernmentAgencyGoodsItem/Commodity/Classification",
        "6/14",
    ),
    (
        "GoodsShipment/GovernmentAgencyGoodsItem/Commodity/DutyTaxFee",
        "4/3",
    ),
    (
        "GoodsShipment/GovernmentAgencyGoodsItem/Commodity/DutyTaxFee/Payment/MethodCode",
        "4/8",
    ),
    (
        "GoodsShipment/GovernmentAgencyGoodsItem/Commodity/GoodsMeasure/GrossMassMeasure",
        "6/5",
    ),
    (
        "GoodsShipment/GovernmentAgencyGoodsItem/Commodity/GoodsMeasure/NetNetWeightMeasure",
        "6/1",
    ),
    (
        "GoodsShipment/GovernmentAgencyGoodsItem/Commodity/GoodsMeasure/TariffQuantity",
        "6/2",
    ),
    (
        "GoodsShipment/GovernmentAgencyGoodsItem/Commodity/InvoiceLine/ItemChargeAmount",
        "4/14",
    ),
    (
        "GoodsShipment/GovernmentAgencyGoodsItem/CustomsValuation/MethodCode",
        "4/16",
    ),
    (
        "GoodsShipment/GovernmentAgencyGoodsItem/CustomsValuation/ChargeDeduction",
        "4/9",
    ),
    (
        "GoodsShipment/GovernmentAgencyGoodsItem/GovernmentProcedure",
        "1/10",
    ),
    ("GoodsShipment/GovernmentAgencyGoodsItem/Origin", "5/16"),
    (
        "GoodsShipment/GovernmentAgencyGoodsItem/Packaging/QuantityQuantity",
        "6/10",
    ),
    (
        "GoodsShipment/GovernmentAgencyGoodsItem/Packaging/MarksNumbersID",
        "6/11",
    ),
    (
        "GoodsShipment/GovernmentAgencyGoodsItem/Packaging/TypeCode",
        "6/9",
    ),
    (
        "GoodsShipment/GovernmentAgencyGoodsItem/ExportCountry",
        "5/14",
    ),
    (
        "GoodsShipment/GovernmentAgencyGoodsItem/TransactionNatureCode",
        "8/5",
    ),
    ("GoodsShipment/GovernmentAgencyGoodsItem/Consignee", "3/9"),
    (
        "GoodsShipment/GovernmentAgencyGoodsItem/DomesticDutyTaxParty",
        "3/40",
    ),
];

/// The DE number of the element at `xpath` (a pointer such as
/// `/MetaData/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[2]/Commodity/Classification[1]/ID`), if known.
pub fn of(xpath: &str) -> Option<&'static str> {
    let rest = xpath.strip_prefix("/MetaData/Declaration/")?;
    let mut plain = String::with_capacity(rest.len());
    let mut in_position = false;
    for c in rest.chars() {
        match c {
            '[' => in_position = true,
            ']' => in_position = false,
            c if !in_position => plain.push(c),
            _ => {}
        }
    }
    TABLE
        .iter()
        .filter(|(path, _)| {
            plain == *path
                || plain
                    .strip_prefix(path)
                    .is_some_and(|tail| tail.starts_with('/'))
        })
        .max_by_key(|(path, _)| path.len())
        .map(|(_, de)| *de)
}

/// Fills in the data element of every problem whose XPath names one.
pub fn annotate(problems: &mut [Problem]) {
    for problem in problems {
        if problem.data_element.is_none() {
            problem.data_element = of(&problem.pointer);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_longest_listed_path_decides() {
        let cases = [
            ("/MetaData/Declaration/FunctionalReferenceID", Some("2/5")),
            (
                "/MetaData/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[2]/Commodity/Classification[1]/ID",
                Some("6/14"),
            ),
            (
                "/MetaData/Declaration/GoodsShipment/GovernmentAgencyGoodsItem/Commodity/DutyTaxFee[3]/Payment/MethodCode",
                Some("4/8"),
            ),
            (
                "/MetaData/Declaration/GoodsShipment/GovernmentAgencyGoodsItem/Commodity/DutyTaxFee/TypeCode",
                Some("4/3"),
            ),
            ("/MetaData/Declaration/Agent/ID", Some("3/20")),
            ("/MetaData/Declaration/GoodsShipment", None),
            // A prefix of a name is not its parent.
            ("/MetaData/Declaration/DeclarantX", None),
            ("/goods_shipment/goods_items/0", None),
            ("", None),
        ];
        for (xpath, de) in cases {
            assert_eq!(super::of(xpath), de, "{xpath}");
        }
    }
}
