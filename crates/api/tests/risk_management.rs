//! Risk management through the API (issue #5), on SQLite and PostgreSQL: analysts keep watch lists and the AEO
//! register, save rule sets (checked, with line and column on error; versioned with validity dates), set the lane
//! rate table, store models and choose one; each lodgement decides with the set in force and records its basis
//! (rules version, model version and score, rate population); a restart keeps all of it, including today's rate
//! counts; the hit-rate report groups by model version.

mod common;

use common::{Backend, TestApp, backends, json, with_lrn};
use serde_json::{Value, json};

const DECLARANT: &str = "GB603202734852";
const MINIMAL: &[u8] = include_bytes!("../../wco/tests/minimal.xml");

async fn send(app: &TestApp, method: &str, token: &str, path: &str, body: Value) -> (u16, Value) {
    let client = reqwest::Client::new();
    let request = client
        .request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            format!("{}{path}", app.base),
        )
        .bearer_auth(token);
    let request = if body.is_null() {
        request
    } else {
        request.json(&body)
    };
    json(request.send().await.unwrap()).await
}

/// Lodges the minimal declaration under `lrn`; returns its id and its lane-assigned event's data and reason.
async fn lodge(app: &TestApp, trader: &str, officer: &str, lrn: &str) -> (String, Value, String) {
    let (status, lodged) = json(app.lodge_xml(trader, &with_lrn(MINIMAL, lrn)).await).await;
    assert_eq!(status, 201, "{lodged}");
    let id = lodged["id"].as_str().unwrap().to_owned();
    let (_, full) = json(
        app.get(officer, &format!("/api/v1/declarations/{id}"))
            .await,
    )
    .await;
    let event = full["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "lane_assigned")
        .unwrap_or_else(|| panic!("no lane: {full}"))
        .clone();
    (
        id,
        event["data"].clone(),
        event["reason"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn analysts_manage_rules_lists_rates_and_models_and_lodgements_follow() {
    for backend in backends() {
        run(backend).await;
    }
}

async fn run(backend: Backend) {
    // No built-in random selection, so that every lane below is the stored set's doing.
    let app = TestApp::spawn_with(backend, |p| {
        p.rules = selectivity::RuleSet::parse("random 0% then yellow").unwrap()
    })
    .await;
    let analyst = app.user("risk_analyst", None).await;
    let officer = app.user("officer", None).await;
    let auditor = app.user("auditor", None).await;
    let trader = app.user("trader", Some(DECLARANT)).await;

    // Rules naming a list that does not exist yet: refused with the list's position.
    let watch_rule = "rule W1 \"Declarant on the watch list\" when declarant in list \"watch\" and not aeo then red\n";
    let (status, body) = send(
        &app,
        "POST",
        &analyst,
        "/api/v1/risk/rules/check",
        json!({"text": watch_rule}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["code"], "risk.rules_invalid", "{body}");
    assert_eq!(
        body["errors"][0]["pointer"], "/text/line/1/column/62",
        "{body}"
    );
    // A syntax error: line and column in the pointer and the sentence.
    let (status, body) = send(
        &app,
        "POST",
        &analyst,
        "/api/v1/risk/rules",
        json!({"text": "rule A1 when origin = \"CN\" then red\nrule A2 when colour = \"red\" then red"}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["pointer"], "/text/line/2/column/14");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("line 2, column 14: Expected a field"),
        "{body}"
    );
    // A list with a bad entry is refused whole, with a pointer to the entry.
    let (status, body) = send(
        &app,
        "PUT",
        &analyst,
        "/api/v1/risk/lists/watch",
        json!({"entries": ["GB1", " "]}),
    )
    .await;
    assert_eq!(
        (status, body["errors"][0]["pointer"].as_str()),
        (422, Some("/entries/1")),
        "{body}"
    );
    let (status, body) = send(
        &app,
        "PUT",
        &analyst,
        "/api/v1/risk/lists/watch",
        json!({"entries": [DECLARANT, "GB000000000001", DECLARANT], "comment": "intelligence report 42"}),
    )
    .await;
    assert_eq!(
        (status, body["version"].as_i64(), body["entries"].as_u64()),
        (200, Some(1), Some(2)),
        "{body}"
    );
    // The AEO register exists (empty for now).
    let (status, _) = send(
        &app,
        "PUT",
        &analyst,
        "/api/v1/risk/lists/aeo",
        json!({"entries": []}),
    )
    .await;
    assert_eq!(status, 200);

    // Validity in the past is refused; a future rule set is stored but not in force.
    let (status, body) = send(
        &app,
        "POST",
        &analyst,
        "/api/v1/risk/rules",
        json!({"text": watch_rule, "valid_from": "2020-01-01"}),
    )
    .await;
    assert_eq!(
        (status, body["errors"][0]["pointer"].as_str()),
        (422, Some("/valid_from")),
        "{body}"
    );
    let (status, body) = send(
        &app,
        "POST",
        &analyst,
        "/api/v1/risk/rules",
        json!({"text": "rule F1 when origin = \"US\" then red", "valid_from": "2999-01-01", "comment": "later"}),
    )
    .await;
    assert_eq!(
        (status, body["version"].as_i64(), &body["in_force_today"]),
        (201, Some(1), &json!(false)),
        "{body}"
    );
    let (status, body) = send(
        &app,
        "POST",
        &analyst,
        "/api/v1/risk/rules",
        json!({"text": watch_rule, "comment": "watch list in force"}),
    )
    .await;
    assert_eq!(
        (status, body["version"].as_i64(), &body["in_force_today"]),
        (201, Some(2), &json!(true)),
        "{body}"
    );

    // A declaration by the watched declarant goes red, and says which rules version decided.
    let (_, data, reason) = lodge(&app, &trader, &officer, "RISK-1").await;
    assert_eq!(data["lane"], "red", "{data}");
    assert_eq!(data["hits"][0]["rule"], "W1");
    assert_eq!(data["basis"]["rules_version"], 2, "{data}");
    assert!(reason.contains("Risk rules version 2"), "{reason}");

    // On the AEO register, the same declarant is no longer selected by W1 (`not aeo`).
    send(
        &app,
        "PUT",
        &analyst,
        "/api/v1/risk/lists/aeo",
        json!({"entries": [DECLARANT]}),
    )
    .await;
    let (_, data, _) = lodge(&app, &trader, &officer, "RISK-2").await;
    assert_eq!(data["lane"], "green", "{data}");

    // Lane rates: every other declaration expected in yellow, none for AEOs: an AEO's stays green...
    let (status, body) = send(
        &app,
        "PUT",
        &analyst,
        "/api/v1/risk/rates",
        json!({"csv": "office,regime,red,yellow,blue,aeo_percent\n*,*,0,150,0,0\n"}),
    )
    .await;
    assert_eq!(
        (status, body["errors"][0]["code"].as_str()),
        (422, Some("risk.rates_invalid")),
        "{body}"
    );
    let (status, _) = send(
        &app,
        "PUT",
        &analyst,
        "/api/v1/risk/rates",
        json!({"csv": "office,regime,red,yellow,blue,aeo_percent\n*,*,0,100,0,0\n", "comment": "full documentary checks this week"}),
    )
    .await;
    assert_eq!(status, 200);
    let (_, data, _) = lodge(&app, &trader, &officer, "RISK-3").await;
    assert_eq!(data["lane"], "green", "{data}");
    assert_eq!(data["basis"]["rate"]["population"], "*/*/aeo", "{data}");
    // ... another declarant's is topped up into yellow by the rate, with the reason.
    send(
        &app,
        "PUT",
        &analyst,
        "/api/v1/risk/lists/aeo",
        json!({"entries": []}),
    )
    .await;
    let (topped_id, data, reason) = lodge(&app, &trader, &officer, "RISK-4").await;
    assert_eq!(
        (data["lane"].as_str(), data["hits"][0]["rule"].as_str()),
        (Some("red"), Some("W1")),
        "{data}"
    );
    send(
        &app,
        "PUT",
        &analyst,
        "/api/v1/risk/lists/watch",
        json!({"entries": []}),
    )
    .await;
    let (topped_id2, data, reason2) = lodge(&app, &trader, &officer, "RISK-5").await;
    assert_eq!(data["lane"], "yellow", "{data}");
    assert_eq!(
        data["basis"]["rate"],
        json!({"population": "*/*/other", "rule_lane": "green", "topped_up": true})
    );
    assert!(reason2.contains("controlled rate"), "{reason2}");
    assert!(!reason.is_empty());
    let _ = topped_id;
    let (_, rates) = json(app.get(&analyst, "/api/v1/risk/rates").await).await;
    let today = rates["today"].as_array().unwrap();
    let other = today
        .iter()
        .find(|p| p["population"] == "*/*/other")
        .unwrap();
    assert_eq!(
        (
            other["seen"].as_u64(),
            other["yellow"].as_u64(),
            other["red"].as_u64()
        ),
        (Some(2), Some(1), Some(1)),
        "{rates}"
    );

    // Models: stored, chosen, used; every decision carries the model's version and score.
    let client = reqwest::Client::new();
    let response = client
        .post(format!(
            "{}/api/v1/risk/models?name=tiny&comment=test",
            app.base
        ))
        .bearer_auth(&analyst)
        .header("content-type", "application/json")
        .body("{\"not\": \"a model\"}")
        .send()
        .await
        .unwrap();
    let (status, body) = json(response).await;
    assert_eq!(
        (status, body["errors"][0]["code"].as_str()),
        (422, Some("risk.model_invalid")),
        "{body}"
    );
    let response = client
        .post(format!(
            "{}/api/v1/risk/models?name=tiny&comment=test",
            app.base
        ))
        .bearer_auth(&analyst)
        .header("content-type", "application/json")
        .body(common::tiny_model())
        .send()
        .await
        .unwrap();
    let (status, body) = json(response).await;
    assert_eq!((status, body["version"].as_i64()), (201, Some(1)), "{body}");
    let (status, body) = send(
        &app,
        "PUT",
        &analyst,
        "/api/v1/risk/model-choice",
        json!({"name": "nope"}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = send(
        &app,
        "PUT",
        &analyst,
        "/api/v1/risk/model-choice",
        json!({"name": "tiny", "version": 1}),
    )
    .await;
    assert_eq!(
        (status, body["in_use"].as_str()),
        (200, Some("tiny v1")),
        "{body}"
    );
    let (scored_id, data, reason) = lodge(&app, &trader, &officer, "RISK-6").await;
    assert_eq!(data["basis"]["model"], "tiny v1", "{data}");
    assert!(data["basis"]["score"].as_str().is_some(), "{data}");
    assert!(reason.contains("Risk model tiny v1 scored"), "{reason}");

    // Control results feed the report per selector (the top-up) and per model version.
    for (id, result) in [
        (&topped_id2, json!({"result": "no_irregularity"})),
        (
            &scored_id,
            json!({"result": "irregularity", "irregularity_type": "valuation", "additional_duty": "12.50"}),
        ),
    ] {
        let (_, declaration) = json(
            app.get(&officer, &format!("/api/v1/declarations/{id}"))
                .await,
        )
        .await;
        if declaration["status"] == "under_control" {
            let (status, body) = json(
                app.post(
                    &officer,
                    &format!("/api/v1/declarations/{id}/control-results"),
                    result,
                )
                .await,
            )
            .await;
            assert_eq!(status, 200, "{body}");
        }
    }
    let (status, report) = json(app.get(&analyst, "/api/v1/reports/rule-hits").await).await;
    assert_eq!(status, 200);
    let top_up = report["selectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["selector"] == "rate-top-up")
        .unwrap_or_else(|| panic!("{report}"));
    assert!(top_up["selected"].as_u64().unwrap() >= 2, "{report}");
    assert_eq!(report["models"][0]["model"], "tiny v1", "{report}");
    assert_eq!(report["models"][0]["scored"], 1, "{report}");

    // Auditors read; the trail holds every save.
    let (status, rules) = json(app.get(&auditor, "/api/v1/risk/rules").await).await;
    assert_eq!(
        (status, rules["in_force"].as_i64()),
        (200, Some(2)),
        "{rules}"
    );
    assert_eq!(rules["versions"].as_array().unwrap().len(), 2);
    let (_, version) = json(app.get(&auditor, "/api/v1/risk/rules/2").await).await;
    assert_eq!(version["text"], watch_rule);
    assert_eq!(version["comment"], "watch list in force");
    let (status, _) = json(app.get(&auditor, "/api/v1/risk/rules/9").await).await;
    assert_eq!(status, 404);
    let (_, lists) = json(app.get(&auditor, "/api/v1/risk/lists").await).await;
    assert_eq!(lists["lists"].as_array().unwrap().len(), 2, "{lists}");
    let (_, entries) = json(app.get(&auditor, "/api/v1/risk/lists/aeo").await).await;
    assert_eq!(
        (entries["version"].as_i64(), &entries["entries"]),
        (Some(3), &json!([])),
        "{entries}"
    );
    let (_, trail) = json(app.get(&auditor, "/api/v1/audit/entries?limit=1000").await).await;
    let saves: Vec<&str> = trail["entries"]
        .as_array()
        .unwrap_or_else(|| panic!("{trail}"))
        .iter()
        .filter_map(|e| e["subject"].as_str())
        .filter(|s| s.starts_with("risk/"))
        .collect();
    // 5 list versions, 2 rule sets, 1 rate table, 1 model, 1 choice; the refused saves left no trace.
    assert_eq!(saves.len(), 10, "{saves:?}");
    assert!(saves.contains(&"risk/rules/rules/2"), "{saves:?}");

    // A restart: the same rules, lists, rates, model and today's rate counts.
    let url = app.url().to_owned();
    let again = TestApp::spawn_on(backend, &url).await;
    let (_, rules) = json(again.get(&analyst, "/api/v1/risk/rules").await).await;
    assert_eq!(rules["in_force"], 2, "{rules}");
    let (_, models) = json(again.get(&analyst, "/api/v1/risk/models").await).await;
    assert_eq!(models["in_use"], "tiny v1", "{models}");
    let (_, rates) = json(again.get(&analyst, "/api/v1/risk/rates").await).await;
    let other = rates["today"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["population"] == "*/*/other")
        .unwrap_or_else(|| panic!("{rates}"));
    assert!(other["seen"].as_u64().unwrap() >= 3, "{rates}");
}
