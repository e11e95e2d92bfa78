//! What the administration publishes, over HTTP on SQLite and PostgreSQL: an administrator publishes a fee and a
//! draft rule (refusals at their fields), anyone reads them without signing in and comments on the draft while it
//! is open (the comment form's CSRF token in a cookie), the final text closes the comments, and every
//! administrator's writing is in the audit trail.

mod common;

use common::TestApp;
use reqwest::header;

mod browser;
use browser::{hidden_csrf, portal_user, session, set_cookie};

/// The linked fields of a page's error summary.
fn linked(html: &str) -> Vec<String> {
    html.split("<li><a href=\"#")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_owned())
        .collect()
}

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
