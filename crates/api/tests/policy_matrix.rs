//! Every route × every caller, built from the router's own policy table: no token, each role, a trader of
//! another party, and tokens of each allowed role limited to the route's scope or to another one. The answer must
//! follow the table — 401 without a token on a protected route, 403 for a role the table does not list or a
//! token without the route's scope, never 401/403 for a role it lists with the scope — and another party's
//! declaration must be "not found". Session routes (the portal) refuse every bearer token; the bank webhook
//! answers 401 to anyone without the bank's signature. A route added without a row in the table is refused by
//! the router itself (deny by default); this test fails if the table and the answers ever disagree.

mod common;

use api::policy::{Access, Role, Scope};
use common::{TestApp, json};

const DECLARANT: &str = "GB603202734852";

/// A trader acts for the declarant; an agency officer for its agency.
fn party_of(role: Role) -> Option<&'static str> {
    match role {
        Role::Trader => Some(DECLARANT),
        Role::Agency => Some("VET"),
        _ => None,
    }
}

#[tokio::test]
async fn every_route_answers_every_caller_as_the_policy_table_says() {
    for backend in common::backends() {
        let app = TestApp::spawn_with(backend, |p| {
            p.rules = selectivity::RuleSet::parse("random 0% then yellow").unwrap()
        })
        .await;
        let mut tokens: Vec<(Option<Role>, Option<String>)> = vec![(None, None)];
        for role in Role::ALL {
            let party = party_of(role);
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

        // For each role and scope, a token of that role holding that scope alone.
        let mut scoped = std::collections::HashMap::new();
        for role in Role::ALL {
            let party = party_of(role);
            for scope in Scope::ALL {
                let token = app
                    .user_with_token(role.as_str(), party, &[scope.as_str()], None)
                    .await;
                scoped.insert((role, scope), token);
            }
        }

        // Redirects are answers here (the portal sends a caller without a session to the sign-in page).
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
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
                .replace("{account}", "deferment:0000001")
                .replace("{version}", "1")
                .replace("{name}", "watch")
                .replace(
                    "{sha256}",
                    "0000000000000000000000000000000000000000000000000000000000000000",
                );
            for (role, token) in &tokens {
                let mut request =
                    client.request(rule.method.clone(), format!("{}{path}", app.base));
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
                let denied = status == 401 || status == 403;
                let right = match (rule.access, role) {
                    // The sign-in, comment and enquiry forms are public, but a post without the form's CSRF token (and
                    // its cookie) is refused.
                    (Access::Public, _)
                        if ["/login", "/information/{id}/comments", "/enquiry"]
                            .contains(&rule.path)
                            && rule.method == axum::http::Method::POST =>
                    {
                        status == 403
                    }
                    (Access::Public, _) => !denied,
                    // The bank webhook is authenticated by the bank's signature: 401 without one, token or not.
                    (Access::Signed, _) => status == 401,
                    // No portal session: a page sends to the sign-in page, a form post is refused.
                    (Access::Session(_), _) => {
                        if rule.method == axum::http::Method::GET {
                            status == 303
                        } else {
                            status == 401
                        }
                    }
                    (Access::Roles(_), None) => status == 401,
                    (Access::Roles(roles), Some(role)) if roles.contains(role) => !denied,
                    (Access::Roles(_), Some(_)) => status == 403,
                };
                if !right {
                    failures.push(format!(
                        "{} {} as {role:?}: {status}",
                        rule.method, rule.path
                    ));
                }
            }
            // Scopes: an allowed role's token with the route's scope passes, with any other scope alone it is refused.
            if let Access::Roles(roles) = rule.access {
                for role in roles {
                    for scope in Scope::ALL {
                        let mut request = client
                            .request(rule.method.clone(), format!("{}{path}", app.base))
                            .bearer_auth(&scoped[&(*role, scope)]);
                        if rule.method == axum::http::Method::POST {
                            request = request
                                .header("content-type", "application/json")
                                .body("{}");
                        }
                        let response = request.send().await.unwrap();
                        let status = response.status().as_u16();
                        let body = response.text().await.unwrap();
                        checked += 1;
                        let right = if scope == rule.scope {
                            status != 401 && status != 403
                        } else {
                            status == 403 && body.contains("auth.scope_missing")
                        };
                        if !right {
                            failures.push(format!(
                                "{} {} as {role:?} with scope {}: {status}",
                                rule.method,
                                rule.path,
                                scope.as_str()
                            ));
                        }
                    }
                }
            }
            // Another party's trader never sees the declaration's data.
            if rule.path.contains("{id}")
                && matches!(rule.access, Access::Roles(roles) if roles.contains(&Role::Trader))
            {
                let mut request = client
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
        assert!(checked > 500, "{checked}");
    }
}
