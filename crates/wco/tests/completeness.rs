//! Completeness from the schemas, not from the corpus: walking the XSD files (not Aduana's table), a document is
//! built that uses every element and attribute the schemas allow — each with a value valid for its simple type —
//! once as a declaration (function code 9) and once as a correction (function code 13, COR). libxml2 accepts each
//! (else the builder is wrong); Aduana reads it, writes it back, libxml2 accepts what it wrote, and every value comes
//! out again at the same path. The JSON twin carries the same: JSON → model → XML gives the same document.

mod xsd;

use std::collections::BTreeMap;
use xsd::{Body, Description, Facets};

/// Values for the fields the model interprets, where a value merely valid for the simple type would not do (the
/// reader checks codes, identifiers and the declaration's consistency). Keyed by the path's last steps.
const VALUES: &[(&str, &str)] = &[
    ("Declaration/FunctionCode", "9"),
    ("Declaration/FunctionalReferenceID", "COMPLETE-1"),
    ("Declaration/TypeCode", "IMA"),
    ("Declaration/ID", "25GB53T2CGAY90LAA1"),
    ("Declaration/GoodsItemQuantity", "1"),
    ("Declaration/TotalPackageQuantity", "1"),
    ("GovernmentAgencyGoodsItem/SequenceNumeric", "1"),
    ("Classification/ID", "85109000"),
    ("Classification/IdentificationTypeCode", "TSP"),
    ("CountryCode", "US"),
    ("RegistrationNationalityCode", "GB"),
    ("CountrySubDivisionCode", "US-NY"),
    ("RoutingCountryCode", "FR"),
    ("ExportCountry/ID", "US"),
    ("CurrencyTypeCode", "USD"),
    ("RateNumeric", "0.8"),
    ("@currencyID", "GBP"),
    ("@unitCode", "KGM"),
    ("@formatCode", "102"),
    ("DateTimeString", "20261201"),
    ("@languageID", "en"),
    ("Declarant/ID", "GB603202734852"),
    ("Exporter/ID", "US123456789000"),
    ("Importer/ID", "GB603202734852"),
    ("Seller/ID", "US123456789000"),
    ("Buyer/ID", "GB603202734852"),
    ("Consignor/ID", "US123456789000"),
    ("Consignee/ID", "GB603202734852"),
    ("Carrier/ID", "GB603202734852"),
    ("Agent/ID", "GB603202734852"),
    ("Submitter/ID", "GB603202734852"),
    ("AuthorisationHolder/ID", "GB603202734852"),
    ("DomesticDutyTaxParty/ID", "GB603202734852"),
    ("AEOMutualRecognitionParty/ID", "GB603202734852"),
    ("Manufacturer/ID", "US123456789000"),
    ("Payer/ID", "GB603202734852"),
    ("Warehouse/ID", "GB603202734852"),
    ("Authenticator/ID", "GB603202734852"),
    ("FiscalReferenceID", "GB603202734852"),
    ("RoleCode", "FR1"),
    ("DutyTaxFee/TypeCode", "A00"),
    ("DutyTaxFee/DutyRegimeCode", "100"),
    ("DutyTaxFee/SpecificTaxBaseQuantity", "1"),
    ("Payment/MethodCode", "A"),
    ("GovernmentProcedure/CurrentCode", "40"),
    ("GovernmentProcedure/PreviousCode", "00"),
    ("TransactionNatureCode", "1"),
    ("Origin/TypeCode", "1"),
    ("ValuationMethodCode", "1"),
    ("AdditionalDocument/CategoryCode", "N"),
    ("AdditionalDocument/TypeCode", "935"),
    ("AdditionalDocument/ID", "INV-1"),
    ("Pointer/SequenceNumeric", "1"),
    ("Pointer/DocumentSectionCode", "42A"),
    ("Pointer/TagID", "360"),
    ("Amendment/ChangeReasonCode", "32"),
    ("StatementTypeCode", "AES"),
    ("WCODataModelVersionCode", "3.6"),
    ("WCOTypeName", "DEC"),
];

/// A value valid for `facets` (and for the reader where [`VALUES`] names the place).
fn value(path: &str, facets: &Facets, exact: &[(&str, &str)]) -> String {
    if let Some((_, v)) = exact.iter().find(|(p, _)| *p == path) {
        return (*v).to_owned();
    }
    let path_key = path;
    let best = VALUES
        .iter()
        .filter(|(suffix, _)| {
            path_key == *suffix
                || path_key.ends_with(&format!("/{suffix}"))
                || (suffix.starts_with('@') && path_key.ends_with(suffix))
        })
        .max_by_key(|(suffix, _)| suffix.len());
    if let Some((_, v)) = best {
        return (*v).to_owned();
    }
    if let Some(first) = facets.enumeration.first() {
        return first.clone();
    }
    match facets.base {
        "Decimal" => return "1".to_owned(),
        "Boolean" => return "true".to_owned(),
        "Language" => return "en".to_owned(),
        "AnyUri" => return "urn:aduana:x".to_owned(),
        _ => {}
    }
    let mut character = 'A';
    for group in &facets.patterns {
        match group[0].as_str() {
            "([0-9])*" => character = '1',
            "[A-Z]{3}" => return "GBP".to_owned(),
            ".{1,3}" => return "5".to_owned(),
            r"(20\d{6})(\d{6}(Z|[-+]\d\d))?" => return "20261201".to_owned(),
            literal if literal.chars().all(|c| c.is_ascii_alphanumeric()) => {
                return literal.to_owned();
            }
            _ => {}
        }
    }
    let length = facets.length.unwrap_or_else(|| {
        2.clamp(
            facets.min_length.unwrap_or(1),
            facets.max_length.unwrap_or(2),
        )
    });
    std::iter::repeat_n(character, length as usize).collect()
}

/// The XML of an element of type `ty` at `path` with every child and attribute the schema allows, and the
/// `(path, value)` of each value it holds.
#[allow(clippy::too_many_arguments)]
fn build(
    d: &Description,
    exact: &[(&str, &str)],
    name: &str,
    prefix: &str,
    ty: usize,
    path: &str,
    values: &mut Vec<(String, String, &'static str)>,
    out: &mut String,
) {
    assert!(
        path.matches('/').count() < 20,
        "{path}: the schema is not a tree?"
    );
    match &d.types[ty].body {
        Body::Simple {
            value: facets,
            attributes,
        } => {
            out.push_str(&format!("<{prefix}{name}"));
            for a in attributes {
                let at = format!("{path}/@{}", a.name);
                let v = value(&at, &a.value, exact);
                out.push_str(&format!(" {}=\"{v}\"", a.name));
                values.push((at, v, a.value.base));
            }
            let v = value(path, facets, exact);
            out.push_str(&format!(">{v}</{prefix}{name}>"));
            values.push((path.to_owned(), v, facets.base));
        }
        Body::Complex(children) => {
            out.push_str(&format!("<{prefix}{name}>"));
            for c in children {
                let prefix = match c.ns {
                    "Metadata" => "md:",
                    "DeclarationDs" => "ds:",
                    _ => "",
                };
                build(
                    d,
                    exact,
                    &c.name,
                    prefix,
                    c.ty,
                    &format!("{path}/{}", c.name),
                    values,
                    out,
                );
            }
            out.push_str(&format!("</{prefix}{name}>"));
        }
    }
}

/// The document using everything, `exact` values at the paths it names.
fn maximal(
    d: &Description,
    exact: &[(&str, &str)],
) -> (String, Vec<(String, String, &'static str)>) {
    let mut values = Vec::new();
    let mut body = String::new();
    build(
        d,
        exact,
        "MetaData",
        "md:",
        d.envelope,
        "/MetaData",
        &mut values,
        &mut body,
    );
    let body = body.replacen(
        "<md:MetaData>",
        &format!(
            "<md:MetaData xmlns:md=\"{}\" xmlns=\"{}\" xmlns:ds=\"{}\">",
            xsd::NS_MD,
            xsd::NS_DEC,
            xsd::NS_DS
        ),
        1,
    );
    (
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{body}"),
        values,
    )
}

/// Every value of a document by path (`Name[k]` where a name repeats, as the reader's pointers say it).
fn values_of(xml: &str) -> BTreeMap<String, Vec<String>> {
    let doc = roxmltree::Document::parse(xml).unwrap();
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    fn walk(node: roxmltree::Node, path: &str, out: &mut BTreeMap<String, Vec<String>>) {
        for a in node.attributes() {
            out.entry(format!("{path}/@{}", a.name()))
                .or_default()
                .push(a.value().to_owned());
        }
        let elements: Vec<_> = node.children().filter(|c| c.is_element()).collect();
        if elements.is_empty() {
            out.entry(path.to_owned())
                .or_default()
                .push(node.text().unwrap_or_default().to_owned());
        }
        for child in elements {
            walk(child, &format!("{path}/{}", child.tag_name().name()), out);
        }
    }
    walk(doc.root_element(), "/MetaData", &mut out);
    out
}

fn same_value(expected: &str, found: &str, base: &str) -> bool {
    match base {
        "Decimal" => expected.parse::<rust_decimal::Decimal>().ok() == found.parse().ok(),
        _ => expected.trim() == found.trim(),
    }
}

fn check(xml: &str, values: &[(String, String, &'static str)], python: Option<&str>, what: &str) {
    let dir = std::env::temp_dir().join(format!("aduana-complete-{}-{what}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let built = dir.join("built.xml");
    std::fs::write(&built, xml).unwrap();
    let limits = wco::Limits::default();
    let model = wco::read_message(xml.as_bytes(), &limits)
        .unwrap_or_else(|p| panic!("{what}: Aduana refuses a document the schemas allow: {p:#?}"));
    let written = wco::write::write_message(&model);
    let again = wco::read_message(written.as_bytes(), &limits)
        .unwrap_or_else(|p| panic!("{what}: Aduana refuses what it wrote: {p:#?}\n{written}"));
    assert_eq!(again, model, "{what}: XML → model → XML → model");
    // The JSON twin carries everything too.
    let from_json = match &model {
        wco::Message::Declaration(d) => {
            wco::json::read_declaration(&serde_json::to_vec(d).unwrap())
                .map(|d| wco::Message::Declaration(Box::new(d)))
        }
        wco::Message::Additional(m) => {
            wco::json::read_additional_message(&serde_json::to_vec(m).unwrap())
                .map(|m| wco::Message::Additional(Box::new(m)))
        }
    }
    .unwrap_or_else(|p| panic!("{what}: the JSON twin is refused: {p:#?}"));
    assert_eq!(
        wco::write::write_message(&from_json),
        written,
        "{what}: the JSON twin"
    );
    // Every value, at its path, in what Aduana wrote.
    let found = values_of(&written);
    let mut lost = Vec::new();
    for (path, expected, base) in values {
        let ok = found
            .get(path)
            .is_some_and(|values| values.iter().any(|v| same_value(expected, v, base)));
        if !ok {
            lost.push(format!(
                "{path} = {expected:?} (written: {:?})",
                found.get(path)
            ));
        }
    }
    assert!(
        lost.is_empty(),
        "{what}: {} values lost:\n{}",
        lost.len(),
        lost.join("\n")
    );
    println!(
        "{what}: {} values at {} paths read and written back",
        values.len(),
        found.len()
    );
    if let Some(python) = python {
        let out = dir.join("written.xml");
        std::fs::write(&out, &written).unwrap();
        let verdicts = test_support::xsd_verdicts(
            python,
            test_support::Schemas::Declaration,
            &[built.clone(), out.clone()],
        );
        assert!(
            verdicts[0].valid,
            "{what}: the built document is not valid: {:?}",
            verdicts[0].error
        );
        assert!(
            verdicts[1].valid,
            "{what}: what Aduana wrote is not valid: {:?}",
            verdicts[1].error
        );
    }
}

fn description() -> Option<Description> {
    let samples = test_support::hmrc_samples()?;
    Some(xsd::describe(&samples.join("../schemas/wco/declaration")))
}

#[test]
fn a_declaration_using_every_element_the_schemas_allow_is_read_and_written_back_whole() {
    let Some(d) = description() else { return };
    let python = test_support::lxml_python();
    let (xml, values) = maximal(&d, &[]);
    // Every element position of the schemas is in the document.
    assert!(values.len() > 1_000, "{} values", values.len());
    check(&xml, &values, python.as_deref(), "declaration");
}

#[test]
fn a_correction_using_every_element_the_schemas_allow_is_read_and_written_back_whole() {
    let Some(d) = description() else { return };
    let python = test_support::lxml_python();
    let (xml, values) = maximal(
        &d,
        &[
            ("/MetaData/Declaration/FunctionCode", "13"),
            ("/MetaData/Declaration/TypeCode", "COR"),
        ],
    );
    check(&xml, &values, python.as_deref(), "correction");
}
