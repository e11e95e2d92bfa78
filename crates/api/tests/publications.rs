//! The administration's own pages over HTTP on SQLite and PostgreSQL (publications, the enquiry point, partner
//! agencies, risk lists). What the administration publishes: an administrator publishes a fee and a
//! draft rule (refusals at their fields), anyone reads them without signing in and comments on the draft while it
//! is open (the comment form's CSRF token in a cookie), the final text closes the comments, and every
//! administrator's writing is in the audit trail.

mod common;

use common::TestApp;
use reqwest::header;

mod browser;
use browser::{hidden_csrf, linked, portal_user, session, set_cookie};

#[tokio::test]
async fn a_draft_rule_is_published_commented_on_and_made_final() {
    for backend in common::backends() {
        let app = TestApp::spawn(backend).await;
        portal_user(&app, "Ada Admin", "admin", None, "ada").await;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let cookie = session(&app, &client, "ada").await;
        let page = client
            .get(format!("{}/portal/publications", app.base))
            .header(header::COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        let status = page.status();
        let body = page.text().await.unwrap();
        assert_eq!(status, 200, "{body}");
        let csrf = hidden_csrf(&body);
        let publish = async |fields: &[(&str, &str)]| {
            let mut form = vec![("csrf", csrf.as_str())];
            form.extend_from_slice(fields);
            client
                .post(format!("{}/portal/publications", app.base))
                .header(header::COOKIE, &cookie)
                .header(header::ORIGIN, &app.base)
                .form(&form)
                .send()
                .await
                .unwrap()
        };
        let fee = [
            ("kind", "fee"),
            ("reference", "FEE-2027-01"),
            ("title", "Processing fee"),
            ("body", "GBP 10 per declaration.\n\nWaived for AEOs."),
        ];
        assert_eq!(publish(&fee).await.status(), 303);
        // The same reference again, a rule without its comment period: each at its field.
        let again = publish(&fee).await;
        assert_eq!(again.status(), 422);
        assert_eq!(linked(&again.text().await.unwrap()), ["reference"]);
        let undated = publish(&[
            ("kind", "rule"),
            ("reference", "RULE-7"),
            ("title", "Advance rulings"),
            ("body", "Draft."),
        ])
        .await;
        assert_eq!(undated.status(), 422);
        assert_eq!(linked(&undated.text().await.unwrap()), ["comments_until"]);
        let until = (time::OffsetDateTime::now_utc().date() + time::Duration::days(30)).to_string();
        let rule = [
            ("kind", "rule"),
            ("reference", "RULE-7"),
            ("title", "Advance rulings"),
            (
                "body",
                "Applications are decided within 90 days.\nRulings are valid for 3 years.",
            ),
            ("comments_until", until.as_str()),
        ];
        assert_eq!(publish(&rule).await.status(), 303);

        // Anyone reads them, without signing in.
        let public = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let list = public
            .get(format!("{}/information", app.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(list.contains(">Processing fee</a>") && list.contains(">Advance rulings</a>"));
        let href = list
            .split("<a href=\"/information/")
            .find(|s| s.contains("\">Advance rulings</a>"))
            .unwrap();
        let id = href[..href.find('"').unwrap()].to_owned();
        let path = format!("{}/information/{id}", app.base);
        let page = public.get(&path).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let comment_cookie = set_cookie(&page, "aduana_comment_csrf");
        let html = page.text().await.unwrap();
        assert!(html.contains("Draft open for comment") && html.contains("<br>Rulings are valid"));
        let comment_csrf = hidden_csrf(&html);
        let comment = async |cookie: Option<&str>, fields: &[(&str, &str)]| {
            let mut form = vec![("csrf", comment_csrf.as_str())];
            form.extend_from_slice(fields);
            let mut request = public
                .post(format!("{path}/comments"))
                .header(header::ORIGIN, &app.base)
                .form(&form);
            if let Some(cookie) = cookie {
                request = request.header(header::COOKIE, cookie);
            }
            request.send().await.unwrap()
        };
        let words = [
            ("name", "Ana Broker"),
            ("organisation", "Brokers' Association"),
            ("text", "Please decide within 60 days."),
        ];
        // Without the form's cookie: refused, nothing stored.
        assert_eq!(comment(None, &words).await.status(), 403);
        let empty = comment(
            Some(&comment_cookie),
            &[("name", "Ana Broker"), ("text", " ")],
        )
        .await;
        assert_eq!(empty.status(), 422);
        assert_eq!(linked(&empty.text().await.unwrap()), ["text"]);
        assert_eq!(comment(Some(&comment_cookie), &words).await.status(), 303);
        let html = public
            .get(&path)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("Comments received: 1"), "{html}");
        assert!(
            html.contains("Ana Broker, Brokers&#39; Association")
                || html.contains("Ana Broker, Brokers&#x27; Association"),
            "{html}"
        );

        // The final text closes the comments.
        let finalise = client
            .post(format!("{}/portal/publications/{id}/final", app.base))
            .header(header::COOKIE, &cookie)
            .header(header::ORIGIN, &app.base)
            .form(&[
                ("csrf", csrf.as_str()),
                ("final_text", "Applications are decided within 60 days."),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(finalise.status(), 303);
        let page = public.get(&path).send().await.unwrap();
        let html = page.text().await.unwrap();
        assert!(html.contains("Final text published") && html.contains("within 60 days"));
        assert!(
            !html.contains("id=\"send-comment\""),
            "no comment form once final"
        );
        let late = comment(Some(&comment_cookie), &words).await;
        assert_eq!(late.status(), 422);
        assert!(
            late.text()
                .await
                .unwrap()
                .contains("no longer takes comments")
        );
        let again = client
            .post(format!("{}/portal/publications/{id}/final", app.base))
            .header(header::COOKIE, &cookie)
            .header(header::ORIGIN, &app.base)
            .form(&[("csrf", csrf.as_str()), ("final_text", "Another text.")])
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 422);

        // The administrator's writing is in the audit trail; the comments are not the administration's acts.
        let trail = app.store.audit_entries(0, 1000).await.unwrap();
        let actions: Vec<&str> = trail
            .iter()
            .filter(|e| e.subject.starts_with("publication/"))
            .map(|e| e.action.as_str())
            .collect();
        assert_eq!(
            actions,
            ["publication.save", "publication.save", "publication.final"]
        );
        // An unknown publication is not found.
        let missing = public
            .get(format!("{}/information/nothing", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status(), 404);
    }
}

/// The enquiry point: anyone asks without an account (refusals at their fields, the form's CSRF cookie), reads
/// the answer with the reference and code given and nothing with a wrong code; an officer answers once, audited.
#[tokio::test]
async fn a_question_to_the_enquiry_point_is_answered_once() {
    for backend in common::backends() {
        let app = TestApp::spawn(backend).await;
        let public = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let form = public
            .get(format!("{}/enquiry", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(form.status(), 200);
        let cookie = set_cookie(&form, "aduana_enquiry_csrf");
        let csrf = hidden_csrf(&form.text().await.unwrap());
        let ask = async |cookie: Option<&str>, fields: &[(&str, &str)]| {
            let mut form = vec![("csrf", csrf.as_str())];
            form.extend_from_slice(fields);
            let mut request = public
                .post(format!("{}/enquiry", app.base))
                .header(header::ORIGIN, &app.base)
                .form(&form);
            if let Some(cookie) = cookie {
                request = request.header(header::COOKIE, cookie);
            }
            request.send().await.unwrap()
        };
        let question = [
            ("name", "Ana Importer"),
            ("email", "ana@example.org"),
            ("subject", "Fees for pre-lodged declarations"),
            ("question", "Is there a fee for a pre-lodged declaration?"),
        ];
        assert_eq!(ask(None, &question).await.status(), 403);
        let bad = ask(
            Some(&cookie),
            &[("name", "Ana"), ("email", "ana@"), ("subject", "Fees")],
        )
        .await;
        assert_eq!(bad.status(), 422);
        assert_eq!(linked(&bad.text().await.unwrap()), ["email", "question"]);
        let asked = ask(Some(&cookie), &question).await;
        assert_eq!(asked.status(), 303);
        let location = asked.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            location.starts_with("/enquiry/answer?reference=ENQ-"),
            "{location}"
        );
        let page = async |path: &str| {
            public
                .get(format!("{}{path}", app.base))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        };
        let html = page(&location).await;
        assert!(
            html.contains("Your question is received.") && html.contains("id=\"waiting\""),
            "{html}"
        );
        assert!(html.contains("Is there a fee for a pre-lodged declaration?"));
        // A wrong code reads nothing.
        let reference = location
            .split("reference=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap()
            .to_owned();
        let html = page(&format!(
            "/enquiry/answer?reference={reference}&code=WRONGCODE2"
        ))
        .await;
        assert!(
            html.contains("No enquiry has this reference and code.")
                && !html.contains("pre-lodged")
        );

        // An officer answers it, once.
        portal_user(&app, "Officer Olga", "officer", None, "olga").await;
        let officer = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let session_cookie = session(&app, &officer, "olga").await;
        let open = officer
            .get(format!("{}/portal/enquiries", app.base))
            .header(header::COOKIE, &session_cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(open.contains("Fees for pre-lodged declarations"));
        let officer_csrf = hidden_csrf(&open);
        let action = open.split("action=\"/portal/enquiries/").nth(1).unwrap();
        let id = action[..action.find('/').unwrap()].to_owned();
        let answer = async |text: &str| {
            officer
                .post(format!("{}/portal/enquiries/{id}/answer", app.base))
                .header(header::COOKIE, &session_cookie)
                .header(header::ORIGIN, &app.base)
                .form(&[("csrf", officer_csrf.as_str()), ("answer", text)])
                .send()
                .await
                .unwrap()
        };
        let empty = answer(" ").await;
        assert_eq!(empty.status(), 422);
        assert_eq!(
            linked(&empty.text().await.unwrap()),
            [format!("answer-{id}")]
        );
        assert_eq!(
            answer("No: the same fee as any declaration.")
                .await
                .status(),
            303
        );
        assert_eq!(answer("Another answer.").await.status(), 422);
        let html = page(&location).await;
        assert!(
            html.contains("No: the same fee as any declaration.")
                && !html.contains("id=\"waiting\"")
        );
        let trail = app.store.audit_entries(0, 1000).await.unwrap();
        let answered: Vec<&str> = trail
            .iter()
            .filter(|e| e.subject.starts_with("enquiry/"))
            .map(|e| e.action.as_str())
            .collect();
        assert_eq!(answered, ["enquiry.answer"]);
    }
}

/// The administrator registers partner agencies in the portal, with the API's checks at their fields.
#[tokio::test]
async fn an_administrator_registers_a_partner_agency() {
    for backend in common::backends() {
        let app = TestApp::spawn(backend).await;
        portal_user(&app, "Ada Admin", "admin", None, "ada").await;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let cookie = session(&app, &client, "ada").await;
        let get = async || {
            client
                .get(format!("{}/portal/agencies", app.base))
                .header(header::COOKIE, &cookie)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        };
        let html = get().await;
        assert!(html.contains("id=\"none\""), "{html}");
        let csrf = hidden_csrf(&html);
        let save = async |fields: &[(&str, &str)]| {
            let mut form = vec![("csrf", csrf.as_str())];
            form.extend_from_slice(fields);
            client
                .post(format!("{}/portal/agencies", app.base))
                .header(header::COOKIE, &cookie)
                .header(header::ORIGIN, &app.base)
                .form(&form)
                .send()
                .await
                .unwrap()
        };
        let bad = save(&[("code", "v"), ("name", "Veterinary service")]).await;
        assert_eq!(bad.status(), 422);
        assert_eq!(linked(&bad.text().await.unwrap()), ["code"]);
        let keyless = save(&[
            ("code", "VET"),
            ("name", "Veterinary service"),
            ("delivery", "webhook"),
            ("url", "https://vet.example.org/events"),
        ])
        .await;
        assert_eq!(keyless.status(), 422);
        assert_eq!(linked(&keyless.text().await.unwrap()), ["webhook_secret"]);
        let saved = save(&[
            ("code", "vet"),
            ("name", "Veterinary service"),
            ("contact", "vet@example.org"),
            ("delivery", "feed"),
        ])
        .await;
        assert_eq!(saved.status(), 303);
        let html = get().await;
        assert!(
            html.contains(
                "<th scope=\"row\">VET</th><td>Veterinary service</td><td>vet@example.org</td>"
            ),
            "{html}"
        );
        let trail = app.store.audit_entries(0, 1000).await.unwrap();
        assert!(trail.iter().any(|e| e.action == "agency.save"));
    }
}

/// The risk analyst keeps a watch list in the portal (blank lines ignored, duplicates once, a bad entry at its
/// field); an auditor reads it without a form.
#[tokio::test]
async fn an_analyst_keeps_a_watch_list_that_an_auditor_reads() {
    for backend in common::backends() {
        let app = TestApp::spawn(backend).await;
        portal_user(&app, "Analyst Ana", "risk_analyst", None, "ana").await;
        portal_user(&app, "Auditor Abe", "auditor", None, "abe").await;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let ana = session(&app, &client, "ana").await;
        let get = async |cookie: &str, path: &str| {
            client
                .get(format!("{}{path}", app.base))
                .header(header::COOKIE, cookie)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        };
        let html = get(&ana, "/portal/risk/lists").await;
        let csrf = hidden_csrf(&html);
        let save = async |entries: &str| {
            client
                .post(format!("{}/portal/risk/lists", app.base))
                .header(header::COOKIE, &ana)
                .header(header::ORIGIN, &app.base)
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("name", "watch"),
                    ("entries", entries),
                    ("comment", "Intelligence report 12"),
                ])
                .send()
                .await
                .unwrap()
        };
        let long = "X".repeat(65);
        let refused = save(&format!("GB123\n{long}")).await;
        assert_eq!(refused.status(), 422);
        let html = refused.text().await.unwrap();
        assert_eq!(linked(&html), ["entries"]);
        assert!(html.contains(&long), "what was typed is given back");
        assert_eq!(save("GB123\n\nGB456\r\nGB123\n").await.status(), 303);
        let html = get(&ana, "/portal/risk/lists?name=watch").await;
        assert!(
            html.contains("<td class=\"amount\">1</td><td class=\"amount\">2</td>"),
            "{html}"
        );
        assert!(html.contains(">GB123\nGB456</textarea>"), "{html}");
        let abe = session(&app, &client, "abe").await;
        let html = get(&abe, "/portal/risk/lists?name=watch").await;
        assert!(
            !html.contains("id=\"save-list\"")
                && html.contains("<pre id=\"entries\">GB123\nGB456</pre>"),
            "{html}"
        );
    }
}

/// The analyst sets the lane rate table in the portal (an error names its line at the table); an auditor reads it.
#[tokio::test]
async fn an_analyst_sets_the_lane_rates_that_an_auditor_reads() {
    for backend in common::backends() {
        let app = TestApp::spawn(backend).await;
        portal_user(&app, "Analyst Ana", "risk_analyst", None, "ana").await;
        portal_user(&app, "Auditor Abe", "auditor", None, "abe").await;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let ana = session(&app, &client, "ana").await;
        let get = async |cookie: &str| {
            client
                .get(format!("{}/portal/risk/rates", app.base))
                .header(header::COOKIE, cookie)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        };
        let html = get(&ana).await;
        assert!(html.contains("No rate table is in force"), "{html}");
        let csrf = hidden_csrf(&html);
        let save = async |csv: &str| {
            client
                .post(format!("{}/portal/risk/rates", app.base))
                .header(header::COOKIE, &ana)
                .header(header::ORIGIN, &app.base)
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("csv", csv),
                    ("comment", "Week 49"),
                ])
                .send()
                .await
                .unwrap()
        };
        let bad = save("office,regime,red,yellow,blue,aeo_percent\n*,*,0,150,0,0\n").await;
        assert_eq!(bad.status(), 422);
        let html = bad.text().await.unwrap();
        assert_eq!(linked(&html), ["csv"]);
        assert!(
            html.contains(">office,regime,red,yellow,blue,aeo_percent\n*,*,0,150,0,0\n</textarea>")
        );
        let table = "office,regime,red,yellow,blue,aeo_percent\n*,*,2,8,5,50\n";
        assert_eq!(save(table).await.status(), 303);
        let html = get(&ana).await;
        assert!(html.contains("Version 1 in force"), "{html}");
        let abe = session(&app, &client, "abe").await;
        let html = get(&abe).await;
        assert!(
            !html.contains("id=\"save-rates\"") && html.contains("*,*,2,8,5,50"),
            "{html}"
        );
    }
}

/// The analyst puts a stored model in use in the portal, then decides without one; an auditor reads the choice.
#[tokio::test]
async fn an_analyst_chooses_the_model_in_use() {
    for backend in common::backends() {
        let app = TestApp::spawn(backend).await;
        portal_user(&app, "Analyst Ana", "risk_analyst", None, "ana").await;
        portal_user(&app, "Auditor Abe", "auditor", None, "abe").await;
        let analyst = app.user("risk_analyst", None).await;
        let stored = app
            .client
            .post(format!(
                "{}/api/v1/risk/models?name=tiny&comment=week%2049",
                app.base
            ))
            .bearer_auth(&analyst)
            .header("content-type", "application/json")
            .body(common::tiny_model())
            .send()
            .await
            .unwrap();
        assert_eq!(stored.status(), 201);
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let ana = session(&app, &client, "ana").await;
        let get = async |cookie: &str| {
            client
                .get(format!("{}/portal/risk/models", app.base))
                .header(header::COOKIE, cookie)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        };
        let html = get(&ana).await;
        assert!(
            html.contains("No model is in use") && html.contains("id=\"use-tiny-1\""),
            "{html}"
        );
        let csrf = hidden_csrf(&html);
        let choose = async |fields: &[(&str, &str)]| {
            let mut form = vec![("csrf", csrf.as_str())];
            form.extend_from_slice(fields);
            client
                .post(format!("{}/portal/risk/models/choice", app.base))
                .header(header::COOKIE, &ana)
                .header(header::ORIGIN, &app.base)
                .form(&form)
                .send()
                .await
                .unwrap()
        };
        let missing = choose(&[("name", "nothing"), ("version", "3")]).await;
        assert_eq!(missing.status(), 422);
        assert_eq!(linked(&missing.text().await.unwrap()), ["models"]);
        assert_eq!(
            choose(&[("name", "tiny"), ("version", "1")]).await.status(),
            303
        );
        let abe = session(&app, &client, "abe").await;
        let html = get(&abe).await;
        assert!(
            html.contains("In use: tiny v1.") && !html.contains("id=\"use-tiny-1\""),
            "{html}"
        );
        assert_eq!(choose(&[("name", "")]).await.status(), 303);
        assert!(get(&ana).await.contains("No model is in use"));
    }
}

/// The administrator keeps the Single Window's document types in the portal (a wrong number, unit, field or
/// status code each at its field, in French too); an agency's officer sees and changes its own types only.
#[tokio::test]
async fn document_types_are_kept_by_the_administrator_and_their_agency() {
    for backend in common::backends() {
        let app = TestApp::spawn(backend).await;
        portal_user(&app, "Ada Admin", "admin", None, "ada").await;
        portal_user(&app, "Vera Vet", "agency", Some("VET"), "vera").await;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let ada = session(&app, &client, "ada").await;
        let get = async |cookie: &str, path: &str| {
            client
                .get(format!("{}{path}", app.base))
                .header(header::COOKIE, cookie)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        };
        let html = get(&ada, "/portal/lpco-types").await;
        assert!(html.contains("id=\"no-agency\""), "{html}");
        let csrf = hidden_csrf(&html);
        let post = async |cookie: &str, path: &str, language: &str, fields: &[(&str, &str)]| {
            let mut form = vec![("csrf", csrf.as_str())];
            form.extend_from_slice(fields);
            client
                .post(format!("{}{path}", app.base))
                .header(header::COOKIE, cookie)
                .header(header::ORIGIN, &app.base)
                .header(header::ACCEPT_LANGUAGE, language)
                .form(&form)
                .send()
                .await
                .unwrap()
        };
        for (code, name) in [("VET", "Veterinary service"), ("PHA", "Plant health")] {
            let saved = post(
                &ada,
                "/portal/agencies",
                "en",
                &[("code", code), ("name", name), ("delivery", "feed")],
            )
            .await;
            assert_eq!(saved.status(), 303);
        }
        let html = get(&ada, "/portal/lpco-types").await;
        // A new type's form offers the UK reading of the status codes.
        assert!(
            html.contains("id=\"applied_for\" name=\"applied_for\" value=\"LP\""),
            "{html}"
        );
        let uk = lpco::Statuses::uk();
        let (held, exempt, not_required) = (
            uk.held.join(" "),
            uk.exempt.join(" "),
            uk.not_required.join(" "),
        );
        let form = |days: &'static str, unit: &'static str, fields: &'static str| {
            vec![
                ("code", "c640"),
                ("agency", "VET"),
                ("kind", "certificate"),
                ("title", "Common health entry document"),
                ("validity_days", days),
                ("balance_unit", unit),
                ("uses", "single"),
                ("when_missing", "hold"),
                ("fields", fields),
                ("held", held.as_str()),
                ("applied_for", "LP"),
                ("exempt", exempt.as_str()),
                ("not_required", not_required.as_str()),
            ]
        };
        let not_a_number = post(&ada, "/portal/lpco-types", "en", &form("ten", "", "")).await;
        assert_eq!(not_a_number.status(), 422);
        assert_eq!(
            linked(&not_a_number.text().await.unwrap()),
            ["validity_days"]
        );
        let mut wrong = form(
            "0",
            "kg9",
            "Bad Name: Establishment\nvessel: Vessel\nvessel: Again",
        );
        wrong[10] = ("applied_for", "LP AE");
        let refused = post(&ada, "/portal/lpco-types", "fr", &wrong).await;
        assert_eq!(refused.status(), 422);
        let html = refused.text().await.unwrap();
        assert_eq!(
            linked(&html),
            ["validity_days", "balance_unit", "fields", "held"]
        );
        assert!(
            html.contains("Jours de validité : un nombre entier de 1 à 3660.")
                && html.contains("Bad Name: Establishment\nvessel: Vessel"),
            "in French, what was typed given back: {html}"
        );
        let good = form(
            "30",
            "",
            "establishment: Approved establishment *\nvessel: Vessel",
        );
        assert_eq!(
            post(&ada, "/portal/lpco-types", "en", &good).await.status(),
            303
        );
        let html = get(&ada, "/portal/lpco-types?done=C640").await;
        assert!(
            html.contains("Document type C640 saved.")
                && html.contains("<th scope=\"row\">C640</th><td>VET</td><td>certificate</td><td>Common health entry document</td><td class=\"amount\">30</td><td></td><td>one declaration</td><td>waits for the agency</td><td>Approved establishment, Vessel</td>"),
            "{html}"
        );
        // Changing it: the form filled with it.
        let html = get(&ada, "/portal/lpco-types?code=C640").await;
        assert!(
            html.contains(">establishment: Approved establishment *\nvessel: Vessel</textarea>"),
            "{html}"
        );
        let stored = app.store.lpco_types().await.unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].when_missing, lpco::WhenMissing::Hold);
        assert!(stored[0].fields[0].required && !stored[0].fields[1].required);

        // The agency's officer: its types only, its agency only; another agency's type is refused at the code.
        let vera = session(&app, &client, "vera").await;
        let mut plant = good.clone();
        plant[0] = ("code", "N851");
        plant[1] = ("agency", "PHA");
        assert_eq!(
            post(&ada, "/portal/lpco-types", "en", &plant)
                .await
                .status(),
            303
        );
        let html = get(&vera, "/portal/lpco-types").await;
        assert!(
            html.contains("<th scope=\"row\">C640</th>")
                && !html.contains("<th scope=\"row\">N851</th>")
                && html.contains("<option value=\"VET\"")
                && !html.contains("<option value=\"PHA\""),
            "{html}"
        );
        let csrf_vera = hidden_csrf(&html);
        let mut form_vera = vec![("csrf", csrf_vera.as_str())];
        form_vera.extend_from_slice(&plant[1..]);
        form_vera.push(("code", "N851"));
        let theirs = client
            .post(format!("{}/portal/lpco-types", app.base))
            .header(header::COOKIE, &vera)
            .header(header::ORIGIN, &app.base)
            .form(&form_vera)
            .send()
            .await
            .unwrap();
        let status = theirs.status();
        let html = theirs.text().await.unwrap();
        assert_eq!(status, 403, "{html}");
        assert_eq!(linked(&html), ["code"]);
        let trail = app.store.audit_entries(0, 1000).await.unwrap();
        assert_eq!(
            trail
                .iter()
                .filter(|e| e.action == "lpco.type_save")
                .count(),
            2,
            "{trail:?}"
        );
    }
}

/// A multipart form as a browser sends it: (name, file name, bytes) per part.
fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----aduana-test-boundary-7c1e";
    let mut body = Vec::new();
    for (name, file, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match file {
            Some(file) => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\nContent-Type: application/json\r\n\r\n").as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// The analyst uploads a trained model in the portal (a bad name and a file that is no model each at its field,
/// in Spanish too); it is stored as the next version of its name, not used until chosen; an auditor has no form.
#[tokio::test]
async fn an_analyst_uploads_a_trained_model() {
    for backend in common::backends() {
        let app = TestApp::spawn(backend).await;
        portal_user(&app, "Analyst Ana", "risk_analyst", None, "ana").await;
        portal_user(&app, "Auditor Abe", "auditor", None, "abe").await;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let ana = session(&app, &client, "ana").await;
        let get = async |cookie: &str| {
            client
                .get(format!("{}/portal/risk/models", app.base))
                .header(header::COOKIE, cookie)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        };
        let html = get(&ana).await;
        assert!(html.contains("id=\"store-model\""), "{html}");
        let csrf = hidden_csrf(&html);
        let model = common::tiny_model();
        let upload = async |name: &str, file: &[u8], language: &str, token: &str| {
            let (kind, body) = multipart(&[
                ("csrf", None, token.as_bytes()),
                ("name", None, name.as_bytes()),
                ("comment", None, b"week 49"),
                ("model", Some("model.json"), file),
            ]);
            client
                .post(format!("{}/portal/risk/models", app.base))
                .header(header::COOKIE, &ana)
                .header(header::ORIGIN, &app.base)
                .header(header::ACCEPT_LANGUAGE, language)
                .header(header::CONTENT_TYPE, kind)
                .body(body)
                .send()
                .await
                .unwrap()
        };
        let forged = upload("tiny", model.as_bytes(), "en", "not-the-token").await;
        assert_eq!(forged.status(), 403);
        let unnamed = upload("", model.as_bytes(), "es", &csrf).await;
        assert_eq!(unnamed.status(), 422);
        let html = unnamed.text().await.unwrap();
        assert_eq!(linked(&html), ["model_name"]);
        assert!(html.contains("Dé un nombre al modelo"), "{html}");
        let no_model = upload("tiny", b"{\"not\": \"a model\"}", "en", &csrf).await;
        assert_eq!(no_model.status(), 422);
        let html = no_model.text().await.unwrap();
        assert_eq!(linked(&html), ["model_file"]);
        assert!(html.contains("The risk model cannot be read; nothing was saved."));
        for _ in 0..2 {
            assert_eq!(
                upload("tiny", model.as_bytes(), "en", &csrf).await.status(),
                303
            );
        }
        let html = get(&ana).await;
        assert!(
            html.contains("id=\"use-tiny-1\"")
                && html.contains("id=\"use-tiny-2\"")
                && html.contains("No model is in use"),
            "stored twice, in use once chosen: {html}"
        );
        let abe = session(&app, &client, "abe").await;
        assert!(!get(&abe).await.contains("id=\"store-model\""));
    }
}
