//! The officer's queue over HTTP with a portal session, on SQLite and PostgreSQL: declarations under control by
//! priority (the rule set's priority lines: perishable goods, then authorised operators) and then oldest first,
//! read a page at a time by the queue index with no row lost or shown twice; the priority kept when an officer
//! changes the lane; the office filter.

mod common;

use common::{TestApp, json};
use reqwest::header;

mod browser;
use browser::{hidden_csrf, portal_user, session};

const MINIMAL: &str = include_str!("../../wco/tests/minimal.xml");

fn declaration(lrn: &str, commodity: &str) -> Vec<u8> {
    MINIMAL
        .replace("MINIMAL-1", lrn)
        .replace("85109000", commodity)
        .into_bytes()
}

/// A declaration lodged at customs office `office` (DE 5/12).
fn at_office(lrn: &str, office: &str) -> Vec<u8> {
    MINIMAL
        .replace("MINIMAL-1", lrn)
        .replace(
            "<GoodsItemQuantity>1</GoodsItemQuantity>",
            &format!("<GoodsItemQuantity>1</GoodsItemQuantity><DeclarationOfficeID>{office}</DeclarationOfficeID>"),
        )
        .into_bytes()
}

/// The queue page at `path`: the LRNs in order, each with its priority's name, and the next page's address.
async fn queue_page(
    app: &TestApp,
    client: &reqwest::Client,
    cookie: &str,
    path: &str,
) -> (Vec<(String, String)>, Option<String>) {
    let (rows, next, _) = queue_html(app, client, cookie, path).await;
    (rows, next)
}

/// The examiners the queue page at `path` shows, in order.
async fn examiners(
    app: &TestApp,
    client: &reqwest::Client,
    cookie: &str,
    path: &str,
) -> Vec<String> {
    let (_, _, html) = queue_html(app, client, cookie, path).await;
    html.split("<td class=\"examiner\">")
        .skip(1)
        .map(|cell| cell[..cell.find('<').unwrap()].to_owned())
        .collect()
}

async fn queue_html(
    app: &TestApp,
    client: &reqwest::Client,
    cookie: &str,
    path: &str,
) -> (Vec<(String, String)>, Option<String>, String) {
    let response = client
        .get(format!("{}{path}", app.base))
        .header(header::COOKIE, cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    let html = response.text().await.unwrap();
    let mut rows = Vec::new();
    for row in html.split("<tr data-id=").skip(1) {
        let priority = row
            .split("<span class=\"tag priority\">")
            .nth(1)
            .filter(|_| row.find("tag priority") < row.find("</td>"))
            .map(|p| p[..p.find('<').unwrap()].to_owned())
            .unwrap_or_default();
        let link = row.split("<a href=\"/portal/declarations/").nth(1).unwrap();
        let text = &link[link.find("\">").unwrap() + 2..];
        let lrn = text[..text.find('<').unwrap()].to_owned();
        rows.push((lrn, priority));
    }
    let next = html
        .split("id=\"next\"")
        .next()
        .filter(|_| html.contains("id=\"next\""))
        .and_then(|before| before.rsplit("href=\"").next())
        .map(|href| href[..href.find('"').unwrap()].replace("&#38;", "&"));
    (rows, next, html)
}

#[tokio::test]
async fn the_queue_serves_priority_goods_first_then_the_longest_waiting_a_page_at_a_time() {
    for backend in common::backends() {
        let app = TestApp::spawn_with(backend, |p| {
            p.rules = selectivity::RuleSet::parse(
                "rule R1 \"Everything examined\" when value >= 0 then red\n\
                 priority P1 \"Perishable goods\" when commodity starts_with \"03\" or commodity starts_with \"07\"\n\
                 priority P2 \"Express consignment\" when declarant in list \"express\"\n",
            )
            .unwrap();
        })
        .await;
        let trader = app.user("trader", Some("GB603202734852")).await;
        // 30 declarations, lodged while no officer has an account (nobody can examine them yet): every third one
        // fish or vegetables, the others shaver parts, lodged in order.
        let mut perishable = Vec::new();
        let mut others = Vec::new();
        for n in 0..30 {
            let lrn = format!("Q-{n:02}");
            let commodity = match n % 6 {
                0 => "03021100",
                3 => "07020000",
                _ => "85109000",
            };
            let (status, body) =
                json(app.lodge_xml(&trader, &declaration(&lrn, commodity)).await).await;
            assert_eq!(status, 201, "{lrn}: {body}");
            assert_eq!(body["status"], "under_control", "{lrn}: {body}");
            if n % 3 == 0 {
                perishable.push(lrn);
            } else {
                others.push(lrn);
            }
        }
        portal_user(&app, "Officer Olga", "officer", None, "olga").await;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let cookie = session(&app, &client, "olga").await;
        let unallocated = examiners(&app, &client, &cookie, "/portal/queue?lane=red").await;
        assert_eq!(unallocated, vec!["not allocated".to_owned(); 25]);

        // Page one: the ten perishable first, oldest first, then the first fifteen others; page two the rest.
        let (first, next) = queue_page(&app, &client, &cookie, "/portal/queue?lane=red").await;
        assert_eq!(first.len(), 25);
        let next = next.expect("a second page");
        assert!(next.contains("after="), "{next}");
        let (second, last) = queue_page(&app, &client, &cookie, &next).await;
        assert_eq!(last, None);
        let order: Vec<&str> = first
            .iter()
            .chain(&second)
            .map(|(l, _)| l.as_str())
            .collect();
        let expected: Vec<&str> = perishable
            .iter()
            .chain(&others)
            .map(String::as_str)
            .collect();
        assert_eq!(order, expected);
        for (lrn, priority) in first.iter().chain(&second) {
            let wanted = if perishable.contains(lrn) {
                "Perishable goods"
            } else {
                ""
            };
            assert_eq!(priority, wanted, "{lrn}");
        }

        // The queue's button allocates the page's declarations: to Olga, the only officer.
        let page = client
            .get(format!("{}/portal/queue?lane=red", app.base))
            .header(header::COOKIE, &cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let form = &page[page.find("/portal/queue/allocation").unwrap()..];
        let mut fields = vec![
            ("csrf".to_owned(), hidden_csrf(form)),
            ("back".to_owned(), "/portal/queue?lane=red".to_owned()),
        ];
        for hidden in form.split("name=\"id\" value=\"").skip(1) {
            fields.push((
                "id".to_owned(),
                hidden[..hidden.find('"').unwrap()].to_owned(),
            ));
        }
        assert_eq!(fields.len(), 27);
        let allocated = client
            .post(format!("{}/portal/queue/allocation", app.base))
            .header(header::COOKIE, &cookie)
            .header(header::ORIGIN, &app.base)
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_eq!(allocated.status(), 303);
        assert_eq!(
            examiners(&app, &client, &cookie, "/portal/queue?lane=red").await,
            vec!["Officer Olga".to_owned(); 25]
        );

        // Officers by office: Dora works at Dover, Lee at Leeds Bradford, Olga at any office. Declarations lodged
        // at Dover get their examiner with their lane, from Dover's officers and Olga: Dora, the least loaded.
        portal_user(&app, "Officer Dora", "officer", None, "dora").await;
        portal_user(&app, "Officer Lee", "officer", None, "lee").await;
        portal_user(&app, "Trader Tim", "trader", Some("GB603202734852"), "tim").await;
        let profile = administration::built_in_profile("demo-gb").unwrap();
        let users = app.store.users().await.unwrap();
        let id_of = |login: &str| {
            users
                .iter()
                .find(|u| u.login.as_deref() == Some(login))
                .unwrap()
                .id
                .clone()
        };
        let now = time::OffsetDateTime::now_utc();
        let cli = storage::Actor::cli();
        for (login, office) in [("dora", "GB000060"), ("lee", "GBLBA001")] {
            api::users::set_office(
                &app.store,
                &cli,
                &id_of(login),
                office,
                &profile.offices,
                now,
            )
            .await
            .unwrap();
        }
        for (login, office, refusal) in [
            ("dora", "XX000001", api::users::Refusal::OfficeUnknown),
            ("tim", "GB000060", api::users::Refusal::OfficeNotOfficer),
        ] {
            match api::users::set_office(
                &app.store,
                &cli,
                &id_of(login),
                office,
                &profile.offices,
                now,
            )
            .await
            {
                Err(api::users::UsersError::Refused(r)) => assert_eq!(r, [refusal], "{login}"),
                other => panic!("{login} {office}: {other:?}"),
            }
        }
        for n in 0..4 {
            let (status, body) = json(
                app.lodge_xml(&trader, &at_office(&format!("DOVER-{n}"), "GB000060"))
                    .await,
            )
            .await;
            assert_eq!(status, 201, "{body}");
        }
        let path = "/portal/queue?lane=red&office=GB000060";
        let (at_dover, _) = queue_page(&app, &client, &cookie, path).await;
        let lrns: Vec<&str> = at_dover.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(lrns, ["DOVER-0", "DOVER-1", "DOVER-2", "DOVER-3"]);
        assert_eq!(
            examiners(&app, &client, &cookie, path).await,
            vec!["Officer Dora".to_owned(); 4]
        );

        // The decision's reason names the priority, and an officer's new lane keeps it.
        let id = app
            .store
            .declaration_id_by_lrn("GB603202734852", "Q-03")
            .await
            .unwrap()
            .unwrap();
        let officer = app.user("officer", None).await;
        let (_, detail) = json(
            app.get(&officer, &format!("/api/v1/declarations/{id}"))
                .await,
        )
        .await;
        let reason = detail.to_string();
        assert!(
            reason.contains("Queue priority P1: Perishable goods."),
            "{reason}"
        );
        let (status, body) = json(
            app.post(
                &officer,
                &format!("/api/v1/declarations/{id}/lane"),
                serde_json::json!({"lane": "yellow", "reason": "Documents suffice"}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let (yellow, _) = queue_page(&app, &client, &cookie, "/portal/queue?lane=yellow").await;
        assert_eq!(yellow, [("Q-03".to_owned(), "Perishable goods".to_owned())]);
        let (red, _) = queue_page(&app, &client, &cookie, "/portal/queue?lane=red").await;
        assert_eq!(red[0].0, "Q-00");
        assert_eq!(red[1].0, "Q-06");

        // No declaration names Leeds Bradford: its queue is empty; an office the administration does not have is
        // no filter.
        let (at_leeds, _) = queue_page(
            &app,
            &client,
            &cookie,
            "/portal/queue?lane=red&office=GBLBA001",
        )
        .await;
        assert!(at_leeds.is_empty(), "{at_leeds:?}");
        let (unknown, _) =
            queue_page(&app, &client, &cookie, "/portal/queue?lane=red&office=XX").await;
        assert_eq!(unknown.len(), 25);
    }
}

/// The declarations list by the day lodged: over 600 declarations spread over 20 days (copies of lodged ones,
/// every time shifted, their serials after those of the originals lodged today: serials and lodging times in
/// different orders, as after an import of history), any window read page by page lists exactly those lodged
/// within it, newest lodged first, and a trader's window only its own.
#[tokio::test]
async fn a_list_by_dates_holds_exactly_the_declarations_lodged_within_them() {
    for backend in common::backends() {
        let app = TestApp::spawn(backend).await;
        let trader = app.user("trader", Some("GB603202734852")).await;
        for n in 0..3 {
            let (status, body) = json(
                app.lodge_xml(&trader, &declaration(&format!("D-{n}"), "85109000"))
                    .await,
            )
            .await;
            assert_eq!(status, 201, "{body}");
        }
        let templates = app.store.seed_templates().await.unwrap();
        let now = time::OffsetDateTime::now_utc();
        let country = declaration::Country::parse("GB").unwrap();
        app.store
            .seed_copies(
                &templates,
                &storage::seed::Copies {
                    count: 600,
                    first: now - time::Duration::days(20),
                    last: now - time::Duration::days(1),
                    country: &country,
                    with_versions: false,
                },
                |_| {},
            )
            .await
            .unwrap();
        let all = |party: Option<&str>| storage::ListFilter {
            party: party.map(str::to_owned),
            status: None,
            lane: None,
            from: None,
            to: None,
            before_serial: None,
            limit: 10_000,
        };
        let every = app.store.list(&all(None)).await.unwrap();
        assert_eq!(every.len(), 603);
        let mut rng = 7u64;
        let mut next = |below: i64| {
            rng = rng
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (rng >> 33) as i64 % below
        };
        for case in 0..24 {
            let from = now - time::Duration::hours(next(21 * 24));
            let to = from + time::Duration::hours(1 + next(5 * 24));
            let (from, to) = (storage::format_time(from), storage::format_time(to));
            let party = (case % 3 == 0).then_some("GB603202734852");
            let mut within: Vec<&storage::DeclarationRow> = every
                .iter()
                .filter(|r| r.lodged_at >= from && r.lodged_at < to)
                .filter(|r| party.is_none_or(|p| r.declarant == p))
                .collect();
            within.sort_by(|a, b| (&b.lodged_at, b.serial).cmp(&(&a.lodged_at, a.serial)));
            let expected: Vec<String> = within.iter().map(|r| r.id.clone()).collect();
            // Read 25 a page, as the portal does.
            let mut listed = Vec::new();
            let mut before = None;
            loop {
                let page = app
                    .store
                    .list(&storage::ListFilter {
                        from: Some(from.clone()),
                        to: Some(to.clone()),
                        before_serial: before,
                        limit: 25,
                        ..all(party)
                    })
                    .await
                    .unwrap();
                listed.extend(page.iter().map(|r| r.id.clone()));
                match page.last() {
                    Some(last) if page.len() == 25 => before = Some(last.serial),
                    _ => break,
                }
            }
            assert_eq!(listed, expected, "{backend:?}: from {from} to {to}");
        }
    }
}
