//! Lodging a standard import by the portal's form over HTTP with a session, on SQLite and PostgreSQL: rows added
//! without script keep what was typed, blank rows are not declared, each error is linked to the field of the row
//! it concerns (whether the form, the JSON twin's reader or the assessment found it), and what is lodged is the
//! declaration the API would have stored from the same goods. The trader's list then filters by the day lodged.

mod common;

use common::{TestApp, json};
use reqwest::header;

mod browser;
use browser::{hidden_csrf, linked, portal_user, session};

const DECLARANT: &str = "GB603202734852";

/// The form's fields: the header, goods item 1 and goods item 3 (row 2 left blank), with `changes` on top.
fn fields(csrf: &str, changes: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = [
        ("csrf", csrf),
        ("rows", "3"),
        ("lrn", "FORM-1"),
        ("type", "A"),
        ("dispatch", "us"),
        ("mode", "1"),
        ("currency", "GBP"),
        ("item-1-description", "Shaver parts"),
        ("item-1-commodity", "8510 9000"),
        ("item-1-origin", "us"),
        ("item-1-price", "1000"),
        ("item-1-net", "10.5"),
        ("item-1-gross", "12"),
        ("item-1-packages", "2"),
        ("item-1-kind", "pk"),
        ("item-1-procedure", "4000"),
        ("item-2-procedure", "4000"),
        ("item-3-description", "More shaver parts"),
        ("item-3-commodity", "85109000"),
        ("item-3-origin", "CN"),
        ("item-3-price", "250.50"),
        ("item-3-net", "3"),
        ("item-3-packages", "1"),
        ("item-3-kind", "CT"),
        ("item-3-procedure", "4000"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    for (name, value) in changes {
        match fields.iter_mut().find(|(k, _)| k == name) {
            Some(field) => field.1 = (*value).to_owned(),
            None => fields.push(((*name).to_owned(), (*value).to_owned())),
        }
    }
    fields
}

#[tokio::test]
async fn a_trader_lodges_an_import_with_several_goods_items_by_form() {
    for backend in common::backends() {
        let app = TestApp::spawn(backend).await;
        portal_user(&app, "Tom Trader", "trader", Some(DECLARANT), "tom").await;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let cookie = session(&app, &client, "tom").await;
        let get = |path: &str| {
            client
                .get(format!("{}{path}", app.base))
                .header(header::COOKIE, &cookie)
                .send()
        };
        let post = |form: Vec<(String, String)>| {
            client
                .post(format!("{}/portal/lodge/import", app.base))
                .header(header::COOKIE, &cookie)
                .header(header::ORIGIN, &app.base)
                .form(&form)
                .send()
        };
        let page = get("/portal/lodge/import").await.unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(
            html.contains("id=\"item-2-description\"")
                && !html.contains("id=\"item-3-description\"")
        );
        let csrf = hidden_csrf(&html);

        // One more row, without script: what was typed is kept.
        let more = post(fields(&csrf, &[("rows", "2"), ("more", "1")]))
            .await
            .unwrap();
        assert_eq!(more.status(), 200);
        let html = more.text().await.unwrap();
        assert!(html.contains("id=\"item-3-description\""), "a third row");
        assert!(html.contains("value=\"Shaver parts\""), "typed values kept");

        // Errors, each at its row's field: a count of packages that is no number (the form's own check)…
        let refused = post(fields(&csrf, &[("item-3-packages", "two")]))
            .await
            .unwrap();
        assert_eq!(refused.status(), 422);
        let html = refused.text().await.unwrap();
        assert_eq!(linked(&html), ["item-3-packages"], "{html}");
        assert!(
            html.contains("value=\"More shaver parts\""),
            "typed values kept"
        );
        // …a country that is none (the JSON twin's reader: goods item 2 is row 3)…
        let refused = post(fields(&csrf, &[("item-3-origin", "Q1")]))
            .await
            .unwrap();
        assert_eq!(refused.status(), 422);
        assert_eq!(linked(&refused.text().await.unwrap()), ["item-3-origin"]);
        // …and nothing but blank rows.
        let blank: Vec<(String, String)> = fields(&csrf, &[])
            .into_iter()
            .filter(|(k, _)| !k.starts_with("item-") || k.ends_with("-procedure"))
            .collect();
        let refused = post(blank).await.unwrap();
        assert_eq!(refused.status(), 422);
        assert_eq!(
            linked(&refused.text().await.unwrap()),
            ["item-1-description"]
        );

        // Lodged: the declaration's page, and the declaration holds the two goods items typed, in order.
        let lodged = post(fields(&csrf, &[])).await.unwrap();
        assert_eq!(lodged.status(), 303, "{}", lodged.text().await.unwrap());
        let location = lodged.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(location.ends_with("?done=lodged"), "{location}");
        let id = location
            .trim_start_matches("/portal/declarations/")
            .trim_end_matches("?done=lodged")
            .to_owned();
        assert_eq!(get(&location).await.unwrap().status(), 200);
        let token = app.user("trader", Some(DECLARANT)).await;
        let (status, view) =
            json(app.get(&token, &format!("/api/v1/declarations/{id}")).await).await;
        assert_eq!(status, 200, "{view}");
        let declaration = &view["declaration"];
        assert_eq!(declaration["lrn"], "FORM-1");
        assert_eq!(declaration["type_code"], "IMA");
        assert_eq!(declaration["declarant"]["id"], DECLARANT);
        assert_eq!(declaration["goods_item_quantity"], 2);
        assert_eq!(declaration["goods_shipment"]["export_country"], "US");
        let items = declaration["goods_shipment"]["goods_items"]
            .as_array()
            .unwrap();
        assert_eq!(items.len(), 2, "{declaration}");
        assert_eq!(items[0]["classifications"][0]["id"], "85109000");
        assert_eq!(items[0]["net_mass_kg"], "10.5");
        assert_eq!(items[0]["packaging"][0]["quantity"], 2);
        assert_eq!(items[0]["packaging"][0]["type_code"], "PK");
        assert_eq!(items[1]["sequence_numeric"], 2);
        assert_eq!(items[1]["origins"][0]["country_code"], "CN");
        assert_eq!(items[1]["item_charge_amount"]["value"], "250.50");
        assert_eq!(items[1]["procedures"][0]["current_code"], "40");
        assert_eq!(items[1]["procedures"][0]["previous_code"], "00");

        // The trader's list by the day lodged (the administration's local days: a day either side of today's UTC
        // date holds today's lodgement wherever the office is); a date that is none is an error at its field.
        let today = time::OffsetDateTime::now_utc().date();
        let day = |d: time::Date| d.to_string();
        let listed = |html: &str| html.contains(">FORM-1</a>");
        let around = format!(
            "/portal?from={}&to={}",
            day(today.previous_day().unwrap()),
            day(today.next_day().unwrap())
        );
        assert!(listed(&get(&around).await.unwrap().text().await.unwrap()));
        let later = format!("/portal?from={}", day(today + time::Duration::days(2)));
        let html = get(&later).await.unwrap().text().await.unwrap();
        assert!(!listed(&html) && html.contains("id=\"none\""), "{html}");
        let earlier = format!("/portal?to={}", day(today - time::Duration::days(2)));
        assert!(!listed(&get(&earlier).await.unwrap().text().await.unwrap()));
        let html = get("/portal?from=31%2F12%2F2026")
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(linked(&html), ["from"]);
        assert!(listed(&html), "an unreadable date filters nothing");

        // The same reference again is the API's answer too (another declaration under a used LRN).
        let again = post(fields(&csrf, &[("item-1-price", "999")]))
            .await
            .unwrap();
        assert_eq!(again.status(), 409);
        assert_eq!(linked(&again.text().await.unwrap()), ["lrn"]);
    }
}
