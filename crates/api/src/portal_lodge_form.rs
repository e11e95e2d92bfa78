//! Lodging a standard import by form (issue 19, the trader's first item): the header a trader types (reference,
//! standard or pre-lodged, office, country of dispatch, mode at the border, currency, deferment account) and as
//! many goods items as the goods need (a row each; "add another item" gives one more without script). The form
//! becomes the declaration's JSON twin and is lodged as `POST /api/v1/declarations` lodges it: the same checks,
//! the same answer. Each error of the answer, whether its pointer is the twin's (`/goods_shipment/goods_items/1/…`)
//! or the assessment's XML path (`…/GovernmentAgencyGoodsItem[2]/…`), is linked to the field the trader typed.

use crate::declarations::lodge;
use crate::error::ApiError;
use crate::frame::{FieldError, Frame, refusal_fields};
use crate::portal::{field, posted_form, render};
use crate::security::PortalSession;
use crate::{AppState, Caller};
use askama::Template;
use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde_json::{Value, json};
use wording::Language;

/// Goods items a form may carry (DE 1/9 allows 999; a longer declaration is uploaded by the trader's software).
pub(crate) const MAX_ROWS: usize = 99;
/// Rows shown on a new form.
const FIRST_ROWS: usize = 2;
/// The form's body at most: every field of every row, generously.
const MAX_BODY: usize = 256 * 1024;

/// The fields of one goods item, in the order of the row.
const ITEM_FIELDS: [&str; 10] = [
    "description",
    "commodity",
    "origin",
    "price",
    "net",
    "gross",
    "packages",
    "kind",
    "procedure",
    "quantity",
];

/// Header fields kept when the form comes back.
const HEADER_FIELDS: [&str; 7] = [
    "lrn",
    "type",
    "office",
    "dispatch",
    "mode",
    "currency",
    "deferment",
];

struct Row {
    number: usize,
    values: Vec<(&'static str, String)>,
}

impl Row {
    fn value(&self, name: &str) -> &str {
        self.values
            .iter()
            .find(|(k, _)| *k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// The element id (and form name) of this row's field.
    fn id(&self, name: &str) -> String {
        format!("item-{}-{name}", self.number)
    }

    fn is_blank(&self) -> bool {
        self.values
            .iter()
            .all(|(k, v)| v.trim().is_empty() || *k == "procedure" || *k == "unit")
    }
}

#[derive(Template)]
#[template(path = "lodge_form.html")]
struct LodgeFormPage {
    t: Language,
    frame: Frame,
    typed: Vec<(String, String)>,
    rows: Vec<Row>,
    /// (code, name) of the profile's offices.
    offices: Vec<(String, String)>,
    procedures: Vec<String>,
    modes: Vec<(String, String)>,
    can_add: bool,
}

impl LodgeFormPage {
    fn typed(&self, name: &str) -> &str {
        self.typed
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

fn rows_of(fields: &[(String, String)], count: usize, default_procedure: &str) -> Vec<Row> {
    (1..=count)
        .map(|number| Row {
            number,
            values: ITEM_FIELDS
                .iter()
                .chain(["unit"].iter())
                .map(|name| {
                    let value = field(fields, &format!("item-{number}-{name}")).trim();
                    let value = if value.is_empty() && *name == "procedure" {
                        default_procedure
                    } else {
                        value
                    };
                    (*name, value.to_owned())
                })
                .collect(),
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn page(
    state: &AppState,
    caller: &Caller,
    session: &PortalSession,
    headers: &HeaderMap,
    uri: &Uri,
    fields: &[(String, String)],
    rows: usize,
    errors: Vec<FieldError>,
    code: StatusCode,
) -> Result<Response, ApiError> {
    let t = state.wording(headers).language;
    let pipeline = state.pipeline();
    let profile = &pipeline.administration;
    let procedures = profile.codes.procedures.clone();
    let default_procedure = procedures
        .iter()
        .find(|p| p.as_str() == "4000")
        .or(procedures.first())
        .cloned()
        .unwrap_or_default();
    let mut typed: Vec<(String, String)> = HEADER_FIELDS
        .iter()
        .map(|n| ((*n).to_owned(), field(fields, n).trim().to_owned()))
        .collect();
    for (name, value) in &mut typed {
        if value.is_empty() && name == "currency" {
            *value = profile.currency.code.to_string();
        }
        if value.is_empty() && name == "type" {
            *value = "A".to_owned();
        }
    }
    let frame = Frame::signed_in(
        state,
        caller,
        session,
        headers,
        uri,
        t.get("page-lodge-form"),
    )
    .with_errors(errors);
    Ok((
        code,
        Html(render(&LodgeFormPage {
            t,
            frame,
            typed,
            rows: rows_of(fields, rows.clamp(1, MAX_ROWS), &default_procedure),
            offices: profile
                .offices
                .iter()
                .map(|o| (o.code.clone(), o.name.clone()))
                .collect(),
            procedures,
            modes: ["1", "2", "3", "4", "5", "7", "8", "9"]
                .iter()
                .map(|m| ((*m).to_owned(), t.get(&format!("mode-{m}"))))
                .collect(),
            can_add: rows < MAX_ROWS,
        })?),
    )
        .into_response())
}

/// `GET /portal/lodge/import`.
#[utoipa::path(
    get,
    path = "/portal/lodge/import",
    tag = "portal",
    summary = "Lodge a standard import by form (page)",
    description = "A form for a standard (or pre-lodged) import: the header and a row per goods item (two to start; more on request, up to 99). Traders.",
    responses((status = 200, description = "The page", content((String = "text/html")))),
    security(("session" = []))
)]
pub async fn show(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    page(
        &state,
        &caller,
        &session,
        &headers,
        &uri,
        &[],
        FIRST_ROWS,
        Vec::new(),
        StatusCode::OK,
    )
}

/// A field's error when its text is not a whole number.
fn whole_number(t: Language, row: &Row, name: &str) -> Result<Option<u64>, FieldError> {
    let text = row.value(name);
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<u64>().map(Some).map_err(|_| FieldError {
        field: row.id(name),
        message: t.text(
            "page-lodge-form-whole-number",
            &[("item", &row.number.to_string())],
        ),
    })
}

/// The declaration's JSON twin from the form: the caller declares, each non-blank row is a goods item in order.
/// Answers the twin and, for each goods item, its row's number; or the errors of fields that cannot be put in it.
fn twin(
    t: Language,
    declarant: &str,
    typed: &[(String, String)],
    rows: &[Row],
) -> Result<(Value, Vec<usize>), Vec<FieldError>> {
    let get = |name: &str| field(typed, name).trim();
    let currency = get("currency").to_uppercase();
    let deferment = get("deferment");
    let mut errors = Vec::new();
    let mut items = Vec::new();
    let mut numbers = Vec::new();
    for row in rows.iter().filter(|r| !r.is_blank()) {
        let sequence = items.len() + 1;
        let mut item = json!({ "sequence_numeric": sequence });
        let optional = |value: &str| (!value.is_empty()).then(|| value.to_owned());
        if let Some(description) = optional(row.value("description")) {
            item["description"] = json!(description);
        }
        if let Some(code) = optional(row.value("commodity")) {
            item["classifications"] =
                json!([{"id": code.replace([' ', '.'], ""), "identification_type_code": "TSP"}]);
        }
        if let Some(origin) = optional(row.value("origin")) {
            item["origins"] = json!([{"country_code": origin.to_uppercase(), "type_code": "1"}]);
        }
        if let Some(price) = optional(row.value("price")) {
            item["item_charge_amount"] = json!({"value": price, "currency": currency});
        }
        if let Some(net) = optional(row.value("net")) {
            item["net_mass_kg"] = json!(net);
        }
        if let Some(gross) = optional(row.value("gross")) {
            item["gross_mass_kg"] = json!(gross);
        }
        match whole_number(t, row, "packages") {
            Ok(packages) => {
                let kind = row.value("kind").to_uppercase();
                if packages.is_some() || !kind.is_empty() {
                    let mut packaging = json!({"sequence_numeric": 1});
                    if let Some(n) = packages {
                        packaging["quantity"] = json!(n);
                    }
                    if !kind.is_empty() {
                        packaging["type_code"] = json!(kind);
                    }
                    item["packaging"] = json!([packaging]);
                }
            }
            Err(error) => errors.push(error),
        }
        let procedure = row.value("procedure");
        if !procedure.is_empty() {
            let (current, previous) = procedure.split_at(procedure.len().min(2));
            let mut entry = json!({"current_code": current});
            if !previous.is_empty() {
                entry["previous_code"] = json!(previous);
            }
            item["procedures"] = json!([entry]);
        }
        if let Some(quantity) = optional(row.value("quantity")) {
            item["tariff_quantity"] =
                json!({"value": quantity, "unit_code": row.value("unit").to_uppercase()});
        }
        if !deferment.is_empty() {
            item["duty_tax_fees"] = json!([{"payment_method_code": "E"}]);
        }
        items.push(item);
        numbers.push(row.number);
    }
    if items.is_empty() {
        errors.push(FieldError {
            field: "item-1-description".to_owned(),
            message: t.get("page-lodge-form-no-items"),
        });
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let additional_type = if get("type") == "D" { "D" } else { "A" };
    let mut declaration = json!({
        "function_code": "original",
        "lrn": get("lrn"),
        "type_code": format!("IM{additional_type}"),
        "goods_item_quantity": items.len(),
        "declarant": {"id": declarant},
        "goods_shipment": {"goods_items": items},
    });
    if !get("office").is_empty() {
        declaration["declaration_office_id"] = json!(get("office"));
    }
    if !get("dispatch").is_empty() {
        declaration["goods_shipment"]["export_country"] = json!(get("dispatch").to_uppercase());
    }
    if !get("mode").is_empty() {
        declaration["border_transport_means"] = json!({"mode_code": get("mode")});
    }
    if !deferment.is_empty() {
        declaration["additional_documents"] =
            json!([{"category_code": "1", "type_code": "DAN", "id": deferment}]);
    }
    Ok((declaration, numbers))
}

/// The form field an error's pointer is at: `numbers[k]` is the row of goods item k + 1.
fn field_at(pointer: &str, numbers: &[usize]) -> String {
    let item = |k: usize, name: &str| {
        numbers
            .get(k)
            .map_or_else(|| "lrn".to_owned(), |n| format!("item-{n}-{name}"))
    };
    // The twin's pointer: /goods_shipment/goods_items/{k}/{field}/…
    if let Some(rest) = pointer.strip_prefix("/goods_shipment/goods_items/") {
        let mut steps = rest.split('/');
        let k = steps.next().and_then(|s| s.parse::<usize>().ok());
        let name = match steps.next().unwrap_or("") {
            "classifications" => "commodity",
            "origins" => "origin",
            "item_charge_amount" => "price",
            "net_mass_kg" => "net",
            "gross_mass_kg" => "gross",
            "packaging" => match steps.nth(1) {
                Some("type_code") => "kind",
                _ => "packages",
            },
            "procedures" => "procedure",
            "tariff_quantity" => "quantity",
            "duty_tax_fees" => return "deferment".to_owned(),
            _ => "description",
        };
        return k.map_or_else(|| "item-1-description".to_owned(), |k| item(k, name));
    }
    // The XML path of the assessment and the schema: …/GovernmentAgencyGoodsItem[k]/…
    if let Some(at) = pointer.find("GovernmentAgencyGoodsItem") {
        let rest = &pointer[at + "GovernmentAgencyGoodsItem".len()..];
        let (k, rest) = match rest.strip_prefix('[') {
            Some(indexed) => {
                let close = indexed.find(']').unwrap_or(indexed.len());
                (
                    indexed[..close].parse::<usize>().unwrap_or(1),
                    &indexed[close..],
                )
            }
            None => (1, rest),
        };
        let name = if rest.contains("Classification") {
            "commodity"
        } else if rest.contains("Origin") {
            "origin"
        } else if rest.contains("InvoiceLine") || rest.contains("ItemChargeAmount") {
            "price"
        } else if rest.contains("NetNetWeightMeasure") {
            "net"
        } else if rest.contains("GrossMassMeasure") {
            "gross"
        } else if rest.contains("TariffQuantity") {
            "quantity"
        } else if rest.contains("Packaging") {
            if rest.contains("TypeCode") {
                "kind"
            } else {
                "packages"
            }
        } else if rest.contains("GovernmentProcedure") {
            "procedure"
        } else if rest.contains("DutyTaxFee") {
            return "deferment".to_owned();
        } else {
            "description"
        };
        return item(k.saturating_sub(1), name);
    }
    let header = [
        ("declaration_office_id", "office"),
        ("DeclarationOfficeID", "office"),
        ("export_country", "dispatch"),
        ("ExportCountry", "dispatch"),
        ("border_transport_means", "mode"),
        ("BorderTransportMeans", "mode"),
        ("additional_documents", "deferment"),
        ("AdditionalDocument", "deferment"),
        ("type_code", "type"),
        ("TypeCode", "type"),
        ("currency", "currency"),
    ];
    header
        .iter()
        .find(|(key, _)| pointer.contains(key))
        .map_or_else(|| "lrn".to_owned(), |(_, name)| (*name).to_owned())
}

/// `POST /portal/lodge/import`: the form (urlencoded); `more` asks for one more row instead of lodging.
#[utoipa::path(
    post,
    path = "/portal/lodge/import",
    tag = "portal",
    summary = "Lodge a standard import by form",
    description = "urlencoded: `csrf`, `rows`, the header (`lrn`, `type` A or D, `office`, `dispatch`, `mode`, `currency`, `deferment`) and per row `item-N-description`, `-commodity`, `-origin`, `-price`, `-net`, `-gross`, `-packages`, `-kind`, `-procedure`, `-quantity`, `-unit`. With `more`: the form again with one more row. Otherwise the declaration is lodged as `POST /api/v1/declarations` lodges its JSON twin: 303 to its page; refused: 4xx with the form, each error linked to its field.",
    request_body(content((String = "application/x-www-form-urlencoded"))),
    responses((status = 303, description = "Lodged: the declaration's page"), (status = 403, description = "CSRF token missing or wrong (auth.csrf_invalid)", body = crate::error::ErrorBody), (status = 422, description = "Refused: the form again with the errors", content((String = "text/html")))),
    security(("session" = []))
)]
pub async fn submit(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Result<Response, ApiError> {
    let fields = posted_form(&headers, &session, &body, MAX_BODY)?;
    let t = state.wording(&headers).language;
    let rows = field(&fields, "rows")
        .parse::<usize>()
        .unwrap_or(FIRST_ROWS)
        .clamp(1, MAX_ROWS);
    let again = |rows: usize, errors: Vec<FieldError>, code: StatusCode| {
        page(
            &state, &caller, &session, &headers, &uri, &fields, rows, errors, code,
        )
    };
    if !field(&fields, "more").is_empty() {
        return again((rows + 1).min(MAX_ROWS), Vec::new(), StatusCode::OK);
    }
    let typed: Vec<(String, String)> = HEADER_FIELDS
        .iter()
        .map(|n| ((*n).to_owned(), field(&fields, n).to_owned()))
        .collect();
    let declarant = caller.user.party.clone().unwrap_or_default();
    let (twin, numbers) = match twin(t, &declarant, &typed, &rows_of(&fields, rows, "")) {
        Ok(built) => built,
        Err(errors) => return again(rows, errors, StatusCode::UNPROCESSABLE_ENTITY),
    };
    let mut lodge_headers = HeaderMap::new();
    lodge_headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let body = serde_json::to_vec(&twin).map_err(ApiError::internal)?;
    match lodge::lodge(
        State(state.clone()),
        Extension(caller.clone()),
        lodge_headers,
        Body::from(body),
    )
    .await
    {
        Ok(response) => {
            let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
                .await
                .map_err(ApiError::internal)?;
            let answer: Value = serde_json::from_slice(&bytes).map_err(ApiError::internal)?;
            let id = answer["id"].as_str().unwrap_or_default();
            Ok(Redirect::to(&format!("/portal/declarations/{id}?done=lodged")).into_response())
        }
        Err(error) => {
            let code = error.status();
            let mut errors = refusal_fields(t, error, "lrn", |p| field_at(p, &numbers));
            errors.truncate(20);
            again(rows, errors, code)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::field_at;

    #[test]
    fn pointers_of_the_twin_and_of_the_xml_reach_the_row_typed() {
        // Rows 1 and 3 were filled in (row 2 left blank): goods items 1 and 2.
        let numbers = [1, 3];
        for (pointer, field) in [
            (
                "/goods_shipment/goods_items/1/classifications/0/id",
                "item-3-commodity",
            ),
            (
                "/goods_shipment/goods_items/0/origins/0/country_code",
                "item-1-origin",
            ),
            (
                "/goods_shipment/goods_items/1/packaging/0/type_code",
                "item-3-kind",
            ),
            (
                "/goods_shipment/goods_items/1/packaging/0/quantity",
                "item-3-packages",
            ),
            (
                "/MetaData/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[2]/Commodity/Classification",
                "item-3-commodity",
            ),
            (
                "/MetaData/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[1]/Commodity/GoodsMeasure/NetNetWeightMeasure",
                "item-1-net",
            ),
            (
                "/MetaData/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[2]/Commodity/GoodsMeasure/TariffQuantity",
                "item-3-quantity",
            ),
            ("/lrn", "lrn"),
            ("/declaration_office_id", "office"),
            ("/goods_shipment/export_country", "dispatch"),
            (
                "/MetaData/Declaration/AdditionalDocument[1]/ID",
                "deferment",
            ),
            ("", "lrn"),
        ] {
            assert_eq!(field_at(pointer, &numbers), field, "{pointer}");
        }
    }
}
