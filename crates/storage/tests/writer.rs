//! The SQLite group-commit writer decides each lodgement of its batch against the ledger: a decision that
//! panics fails that lodgement alone, and the writer goes on with the next one (a panic used to stop the writer,
//! and with it every lodgement until a restart).

use storage::{Decided, Lodged, NewDeclaration, Store};

fn new(lrn: &str) -> NewDeclaration {
    NewDeclaration {
        declarant: "GB603202734852".into(),
        representative: None,
        lrn: lrn.into(),
        content_hash: format!("hash-{lrn}"),
        format: "json".into(),
        document: "{}".into(),
        model: "{}".into(),
        office: None,
        transport_mode: None,
        declaration_type: "IMA".into(),
        received_by: storage::Actor::new("u1", "trader"),
        accounts: Vec::new(),
        cited: Vec::new(),
        cargo: None,
    }
}

fn decided() -> Decided {
    let mut state = workflow::State::new();
    let lodged = workflow::EventKind::Lodged {
        pre_lodged: false,
        content_hash: "h".into(),
    };
    state.apply(&lodged);
    Decided {
        events: vec![workflow::Event {
            kind: lodged,
            at: time::OffsetDateTime::now_utc(),
            actor: workflow::Actor::system(),
            reason: "Declaration received.".into(),
        }],
        state,
        assessment: None,
        response: "{}".into(),
        opens: Vec::new(),
        transfers: Vec::new(),
        draws: Vec::new(),
    }
}

#[tokio::test]
async fn a_panicking_decision_fails_its_lodgement_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite://{}", dir.path().join("w.db").display()))
        .await
        .unwrap();
    let now = time::OffsetDateTime::now_utc();
    let failed = store
        .lodge(new("PANIC-1"), now, |_, _, _, _| {
            panic!("a decision that panics")
        })
        .await;
    assert!(failed.is_err(), "{failed:?}");
    let stored = store
        .lodge(new("FINE-1"), now, |_, _, _, _| decided())
        .await;
    assert!(matches!(stored, Ok(Lodged::Created { .. })), "{stored:?}");
    assert!(
        store
            .declaration_id_by_lrn("GB603202734852", "PANIC-1")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .declaration_id_by_lrn("GB603202734852", "FINE-1")
            .await
            .unwrap()
            .is_some()
    );
}

/// A `sqlite://PATH` URL creates the file when it does not exist (finding of issue 15), and a folder that does not
/// exist is refused with a sentence saying so.
#[tokio::test]
async fn a_sqlite_url_creates_its_file_and_names_a_missing_folder() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    let store = Store::open(&format!("sqlite://{}", path.display())).await;
    assert!(store.is_ok(), "{:?}", store.err());
    assert!(path.exists());
    let missing = Store::open(&format!(
        "sqlite://{}",
        dir.path().join("no/such/folder/x.db").display()
    ))
    .await
    .err()
    .unwrap()
    .to_string();
    assert!(missing.contains("does not exist"), "{missing}");
    let malformed = Store::open("mysql://localhost/x")
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(malformed.contains("sqlite://PATH"), "{malformed}");
}
