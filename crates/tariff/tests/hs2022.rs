//! The HS 2022 nomenclature of the shared material (the public HS data package layout) loads whole, and the
//! commodity codes of the HMRC sample declarations are checked against it.

use tariff::{CodeError, Nomenclature};

#[test]
fn the_hs_2022_nomenclature_loads_and_checks_the_hmrc_codes() {
    let Some(shared) = test_support::shared_dir() else {
        return;
    };
    let text = std::fs::read_to_string(shared.join("data/hs2022/harmonized-system.csv")).unwrap();
    let nomenclature = Nomenclature::from_csv(&text).unwrap();
    // 6,940 rows less the grand-total row.
    assert_eq!(nomenclature.len(), 6939);
    let day = time::macros::date!(2026 - 03 - 01);
    let chain: Vec<&str> = nomenclature
        .hierarchy("010121", day)
        .iter()
        .map(|n| n.code.as_str())
        .collect();
    assert_eq!(chain, ["01", "0101", "010121"]);
    assert_eq!(
        nomenclature.get("010121", day).unwrap().section.as_deref(),
        Some("I")
    );
    assert!(matches!(
        nomenclature.check("0101000000", day),
        Err(CodeError::NotLeaf { .. })
    ));
    assert_eq!(nomenclature.search("horses live", day, 5)[0].code, "0101");

    // Every code declared in the HMRC samples designates an HS 2022 subheading (national digits beyond it are
    // the administration's), except two samples that declare 9702 00, an HS 2017 subheading that HS 2022 split
    // into 9702 10 (more than 100 years old) and 9702 90: refusing them is right.
    let samples = test_support::hmrc_samples().unwrap();
    let (mut checked, mut refused) = (0, Vec::new());
    for file in test_support::hmrc_declaration_files(&samples) {
        let Ok(declaration) =
            wco::read_declaration(&std::fs::read(&file).unwrap(), &wco::Limits::default())
        else {
            continue;
        };
        for item in &declaration.goods_shipment.goods_items {
            if let Some(code) = item.commodity_code() {
                checked += 1;
                if let Err(error) = nomenclature.check(code.as_str(), day) {
                    refused.push(format!(
                        "{}: {}",
                        file.file_name().unwrap().to_string_lossy(),
                        error.sentence(code.as_str(), day)
                    ));
                }
            }
        }
    }
    println!(
        "HS 2022: {checked} declared codes checked, {} refused: {refused:#?}",
        refused.len()
    );
    assert!(checked > 150, "{checked}");
    assert_eq!(refused.len(), 2, "{refused:#?}");
    assert!(
        refused
            .iter()
            .all(|r| r.contains("9702") && r.contains("970210, 970290")),
        "{refused:#?}"
    );
}
