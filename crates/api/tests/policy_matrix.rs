//! Every route × every caller, built from the router's own policy table: no token, each role, and a trader of
//! another party. The answer must follow the table — 401 without a token on a protected route, 403 for a role the
//! table does not list, never 401/403 for a role it lists — and another party's declaration must be "not found".
//! A route added without a row in the table is refused by the router itself (deny by default); this test fails if
//! the table and the answers ever disagree.

mod common;

use api::policy::{Access, Role};
use common::{Backend, TestApp, json};

const DECLARANT: &str = "GB603202734852";

#[tokio::test]
async fn every_route_answers_every_caller_as_the_policy_table_says() {
    let app = TestApp::spawn_with(Backend::Sqlite, |p| {
        p.rules = selectivity::RuleSet::parse("random 0% then yellow").unwrap()
    })
    .await;
    let mut tokens: Vec<(Option<Role>, Option<String>)> = vec![(None, None)];
    for role in Role::ALL {
        let party = (role == Role::Trader).then_some(DECLARANT);
        tokens.push((Some(role), Some(app.user(role.as_str(), party).await)));
    }
    let stranger = app.user("trader", Some("GB000000000009")).await;
    // A declaration of the declarant, to address routes with an {id}.
    let owner = tokens[1].1.clone().unwrap();
    let (_, lodged) = json(
        app.lodge_xml(&owner, include_bytes!("../../wco/tests/minimal.xml"))
            .await,
    )
    .await;
    let id = lodged["id"].as_str().expect("lodged").to_owned();

    let mut checked = 0;
    let mut failures = Vec::new();
    for rule in api::policy::table() {
        let path = rule
            .path
            .replace("{id}", &id)
            .replace("{code}", "851090")
            .replace("{reference}", "PO-NONE")
            .replace("{refund}", "no-refund")
            .replace("{receipt}", "RC-NONE")
            .replace("{account}", "deferment:0000001");
        for (role, token) in &tokens {
            let mut request = app
                .client
                .request(rule.method.clone(), format!("{}{path}", app.base));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            if rule.method == axum::http::Method::POST {
                request = request
                    .header("content-type", "application/json")
                    .body("{}");
            }
            let status = request.send().await.unwrap().status().as_u16();
            checked += 1;
            let expected_ok = match (rule.access, role) {
                (Access::Public, _) => true,
                (Access::Roles(_), None) => false,
                (Access::Roles(roles), Some(role)) => roles.contains(role),
            };
            let denied = status == 401 || status == 403;
            // The bank webhook is public but authenticated by the bank's signature: 401 without one.
            let webhook = rule.path == "/api/v1/bank/confirmations";
            let right = if webhook {
                status == 401
            } else if expected_ok {
                !denied
            } else if role.is_none() {
                status == 401
            } else {
                status == 403
            };
            if !right {
                failures.push(format!(
                    "{} {} as {role:?}: {status}",
                    rule.method, rule.path
                ));
            }
        }
        // Another party's trader never sees the declaration's data.
        if rule.path.contains("{id}")
            && matches!(rule.access, Access::Roles(roles) if roles.contains(&Role::Trader))
        {
            let mut request = app
                .client
                .request(rule.method.clone(), format!("{}{path}", app.base))
                .bearer_auth(&stranger);
            if rule.method == axum::http::Method::POST {
                request = request
                    .header("content-type", "application/json")
                    .body("{}");
            }
            let status = request.send().await.unwrap().status().as_u16();
            checked += 1;
            if status != 404 {
                failures.push(format!(
                    "{} {} as another party's trader: {status}",
                    rule.method, rule.path
                ));
            }
        }
    }
    println!("policy matrix: {checked} requests checked");
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(checked > 150, "{checked}");
}
