//! The schema description the reader, writer and JSON twin are driven by (`crates/wco/src/schema/table.rs`) is what
//! the XSD files give: generated from them here, and compared with the checked-in table. `ADUANA_BLESS=1` writes
//! the table instead of comparing (after a schema update).

mod xsd;

fn schema_dir() -> Option<std::path::PathBuf> {
    test_support::hmrc_samples().map(|samples| samples.join("../schemas/wco/declaration"))
}

#[test]
fn the_checked_in_table_is_what_the_schemas_give() {
    let Some(dir) = schema_dir() else {
        return;
    };
    let rendered = xsd::render(&xsd::describe(&dir));
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/schema/table.rs");
    if std::env::var_os("ADUANA_BLESS").is_some() {
        std::fs::write(&path, &rendered).unwrap();
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap();
    assert!(
        checked_in == rendered,
        "src/schema/table.rs differs from what the XSDs give: regenerate it with \
         ADUANA_BLESS=1 cargo test -p wco --test schema_table"
    );
}

#[test]
fn the_table_describes_every_element_of_the_schema() {
    let Some(dir) = schema_dir() else {
        return;
    };
    let description = xsd::describe(&dir);
    let elements = description
        .types
        .iter()
        .map(|t| match &t.body {
            xsd::Body::Complex(children) => children.len(),
            xsd::Body::Simple { .. } => 0,
        })
        .sum::<usize>();
    // 460 xs:element in WCO_DEC_2_DMS.xsd (the Declaration itself is the envelope's child), 5 DateTimeString in the
    // DS schema, 6 metadata elements.
    assert_eq!(elements, 459 + 5 + 6 + 1, "element positions described");
    assert_eq!(wco::schema::types().len(), description.types.len());
}

/// `CANCEL.xsd` (the invalidation's schema) is a restriction: every element path it allows is in the table.
#[test]
fn the_cancel_schema_allows_nothing_the_table_does_not() {
    let Some(dir) = schema_dir() else {
        return;
    };
    let text = std::fs::read_to_string(dir.join("CANCEL.xsd")).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    let xs = |n: &roxmltree::Node, name: &str| {
        n.is_element() && n.tag_name().namespace() == Some(xsd::XS) && n.tag_name().name() == name
    };
    let named = |name: &str| {
        doc.root_element()
            .children()
            .find(|n| xs(n, "complexType") && n.attribute("name") == Some(name))
    };
    fn walk<'a>(
        node: roxmltree::Node<'a, 'a>,
        path: &str,
        named: &dyn Fn(&str) -> Option<roxmltree::Node<'a, 'a>>,
        xs: &dyn Fn(&roxmltree::Node, &str) -> bool,
        seen: &mut usize,
    ) {
        for element in node.descendants().filter(|n| xs(n, "element")) {
            // Only the elements of this level: their own subtrees are walked below.
            let parent_elem = element.ancestors().skip(1).find(|a| {
                xs(a, "element") || xs(a, "complexType") && a.attribute("name").is_some()
            });
            if parent_elem.map(|p| p.id()) != Some(node.id()) {
                continue;
            }
            let name = element.attribute("name").unwrap();
            let here = if path.is_empty() {
                name.to_owned()
            } else {
                format!("{path}/{name}")
            };
            assert!(
                wco::schema::type_at(&here).is_some(),
                "CANCEL.xsd allows {here}, which the table does not have"
            );
            *seen += 1;
            match element
                .attribute("type")
                .and_then(|t| named(t.trim_start_matches("ds:")))
            {
                Some(ty) => walk(ty, &here, named, xs, seen),
                None => walk(element, &here, named, xs, seen),
            }
        }
    }
    let declaration = named("Declaration").unwrap();
    let mut seen = 0;
    walk(declaration, "Declaration", &named, &xs, &mut seen);
    // Every xs:element of the file but the root Declaration was reached.
    let elements = doc.descendants().filter(|n| xs(n, "element")).count();
    assert_eq!(seen, elements - 1, "element paths of CANCEL.xsd walked");
    println!("{seen} element paths of CANCEL.xsd are in the table");
}
