//! RES notifications for every lifecycle event validate against `WCO_RES_2_DMS.xsd` (libxml2 through lxml, with the
//! Python in `ADUANA_LXML_PYTHON`; `.ci/run` makes one), including texts that need escaping and long values that must
//! be clipped to the schema's lengths.

use wco::res::{Item, Kind, Notification, Tax, write};

fn every_kind() -> Vec<Notification> {
    let base = Notification {
        id: "0123456789abcdef0123456789abcdef-1".into(),
        issued_at: "20261129153055Z".into(),
        lrn: "TT_IM01b_v1.7_220322_1".into(),
        mrn: Some("26GB000000000001J5".into()),
        version: 1,
        ..Notification::default()
    };
    let mut out = Vec::new();
    for kind in [
        Kind::Receipt,
        Kind::Acceptance,
        Kind::DocumentsRequested,
        Kind::Examination,
        Kind::Release,
        Kind::Cancellation,
    ] {
        out.push(Notification {
            kind,
            mrn: (kind != Kind::Receipt).then(|| "26GB000000000001J5".into()),
            ..base.clone()
        });
    }
    out.push(Notification {
        kind: Kind::ControlResult,
        statements: vec![
            "Control result: irregularity.".into(),
            "Irregularity: classification & <valuation>.".into(),
            "Remarks: ".to_owned() + &"r".repeat(700),
        ],
        ..base.clone()
    });
    out.push(Notification {
        kind: Kind::AmendmentAccepted,
        version: 2,
        ..base.clone()
    });
    out.push(Notification {
        kind: Kind::Rejection,
        mrn: None,
        lrn: "A & <B> \"C\" — ünïcode, and a reference far longer than thirty-five characters".into(),
        errors: vec![
            (
                "ADU00015".into(),
                "declaration.invalid_country: The country code is not an ISO 3166-1 alpha-2 code. (at /MetaData/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[1]/Origin/CountryCode)".into(),
            ),
            ("ADU00099-too-long".into(), "x".repeat(600)),
        ],
        ..base.clone()
    });
    out.push(Notification {
        kind: Kind::TaxAssessment,
        items: vec![Item {
            sequence: 1,
            taxes: vec![
                Tax {
                    type_code: "A00".into(),
                    base: "1000.00".into(),
                    rate_percent: "2.00".into(),
                    assessed: "20.00".into(),
                    payable: "0.00".into(),
                    currency: "GBP".into(),
                },
                Tax {
                    type_code: "B00".into(),
                    base: "1020.00".into(),
                    rate_percent: "20.00".into(),
                    assessed: "204.00".into(),
                    payable: "204.00".into(),
                    currency: "GBP".into(),
                },
            ],
        }],
        ..base
    });
    out
}

#[test]
fn every_notification_validates_against_the_res_schema() {
    let document = write(&every_kind(), "GB", "Aduana demo administration");
    assert_eq!(document.matches("<Response>").count(), 10);
    for code in ["01", "02", "03", "05", "06", "07", "08", "10", "11", "13"] {
        assert!(
            document.contains(&format!("<FunctionCode>{code}</FunctionCode>")),
            "{code}"
        );
    }
    assert!(document.contains("A &amp; &lt;B&gt; &quot;C&quot;"));
    assert!(document.contains("<NameCode>39</NameCode>"));
    assert!(document.contains("classification &amp; &lt;valuation&gt;"));
    if test_support::hmrc_samples().is_none() {
        return;
    }
    let Some(python) = test_support::lxml_python() else {
        return;
    };
    let path = tempfile_dir().join("res.xml");
    std::fs::write(&path, &document).unwrap();
    let verdicts =
        test_support::xsd_verdicts(&python, test_support::Schemas::Notification, &[path]);
    assert!(verdicts[0].valid, "{:?}\n{document}", verdicts[0].error);
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("aduana-res-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
