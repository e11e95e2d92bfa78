//! The schema table the product checks messages with is the ICS schemas' own: rendered again from the XSDs here,
//! it must equal `src/schema_table.rs` (`ADUANA_BLESS=1` writes it).

mod xsd;

#[test]
fn the_schema_table_is_rendered_from_the_ics_schemas() {
    let Some(shared) = test_support::shared_dir() else {
        return;
    };
    let table = xsd::Table::read(&shared.join("conformance/hmrc-ens/schemas")).render();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/schema_table.rs");
    if std::env::var_os("ADUANA_BLESS").is_some() {
        std::fs::write(&path, &table).unwrap();
    }
    let kept = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        kept == table,
        "src/schema_table.rs differs from what the ICS schemas give: render it again with ADUANA_BLESS=1"
    );
}
