//! What every portal page shares (`templates/layout.html`): the language switcher, the navigation of the
//! signed-in role, who is signed in with the sign-out form, the error summary at the top of a form (the GOV.UK
//! design system's pattern: each error a link to its field) and the confirmation of what was just done.
//!
//! The language is the `aduana_lang` cookie's when it names one the administration offers, else the one
//! `Accept-Language` asks for (`AppState::wording`); `GET /language?lang=fr&back=/portal` sets the cookie.

use crate::policy::Role;
use crate::security::PortalSession;
use crate::{AppState, Caller};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use wording::Language;

/// The cookie keeping the language a user chose.
pub(crate) const LANGUAGE_COOKIE: &str = "aduana_lang";

/// An error of a form: the field it is at (its element id) and the sentence.
pub(crate) struct FieldError {
    pub field: String,
    pub message: String,
}

/// An API error's problems as form errors: a JSON pointer's first step names the field; the sentence in the
/// page's language when the error table has it (the problem's own words otherwise: they name values).
pub(crate) fn field_errors(error: &crate::error::ApiError, fallback: &str) -> Vec<FieldError> {
    if error.errors.is_empty() {
        return vec![FieldError {
            field: fallback.to_owned(),
            message: error.message.clone(),
        }];
    }
    error
        .errors
        .iter()
        .map(|p| FieldError {
            field: p
                .pointer
                .trim_start_matches('/')
                .split('/')
                .next()
                .filter(|f| {
                    !f.is_empty() && f.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                })
                .unwrap_or(fallback)
                .to_owned(),
            message: p.message.clone(),
        })
        .collect()
}

/// The refusal of an API handler a page called in-process, as the form's errors in the page's language: each
/// problem at the field `field_of` names for its pointer; an error without problems at `fallback`.
pub(crate) fn refusal_fields(
    t: Language,
    error: crate::error::ApiError,
    fallback: &str,
    field_of: impl Fn(&str) -> String,
) -> Vec<FieldError> {
    let error = crate::portal_declarations::in_language(t, error);
    if error.errors.is_empty() {
        return vec![FieldError {
            field: fallback.to_owned(),
            message: error.message,
        }];
    }
    error
        .errors
        .into_iter()
        .map(|p| FieldError {
            field: field_of(&p.pointer),
            message: p.message,
        })
        .collect()
}

/// One entry of the navigation.
pub(crate) struct NavLink {
    pub href: &'static str,
    pub id: &'static str,
    pub label: String,
    pub current: bool,
}

/// The parts of a page the layout draws.
pub(crate) struct Frame {
    pub t: Language,
    pub title: String,
    /// "Signed in as …"; none on public pages.
    pub who: Option<String>,
    pub csrf: String,
    pub home: &'static str,
    pub links: Vec<NavLink>,
    /// (code, name, chosen) of each language the administration offers.
    pub languages: Vec<(&'static str, &'static str, bool)>,
    /// This page's address, encoded for the switcher's `back`.
    pub back: String,
    /// This page's address as it is (a form's hidden `back`).
    pub back_path: String,
    pub errors: Vec<FieldError>,
    pub done: Option<String>,
}

fn language_name(language: Language) -> &'static str {
    match language {
        Language::En => "English",
        Language::Fr => "Français",
        Language::Es => "Español",
    }
}

/// The pages of each role: (address, id, message).
fn pages_of(role: Option<Role>) -> &'static [(&'static str, &'static str, &'static str)] {
    const PUBLIC: &[(&str, &str, &str)] = &[
        ("/duty-calculator", "tariff", "page-tariff"),
        ("/status", "status", "page-status-check"),
        ("/release-times", "release-times", "page-release-times"),
        ("/information", "information", "page-information"),
        ("/enquiry", "enquiry", "page-enquiry"),
        ("/login", "sign-in", "page-sign-in"),
    ];
    match role {
        None => PUBLIC,
        Some(Role::Trader) => &[
            ("/portal", "declarations", "page-declarations"),
            ("/portal/lodge", "lodge", "page-lodge"),
            ("/portal/applications", "applications", "page-applications"),
            ("/portal/referrals", "referrals", "page-referrals"),
            ("/portal/arrivals", "arrivals", "page-arrivals"),
            ("/portal/transit", "transit", "page-transit"),
            ("/duty-calculator", "tariff", "page-tariff"),
        ],
        Some(Role::Officer) => &[
            ("/portal/queue", "queue", "page-queue"),
            ("/portal", "declarations", "page-declarations"),
            ("/portal/refunds", "refunds", "page-refunds"),
            ("/portal/referrals", "referrals", "page-referrals"),
            ("/portal/arrivals", "arrivals", "page-arrivals"),
            ("/portal/transit", "transit", "page-transit"),
            ("/portal/enquiries", "enquiries", "page-enquiries"),
            ("/portal/kpis", "kpis", "page-kpis"),
            ("/release-times", "release-times", "page-release-times"),
            ("/duty-calculator", "tariff", "page-tariff"),
        ],
        Some(Role::RiskAnalyst) => &[
            ("/portal/risk/rules", "rules", "page-risk-rules"),
            ("/portal/risk/hit-rates", "hit-rates", "page-hit-rates"),
            ("/portal/risk/lists", "lists", "page-risk-lists"),
            ("/portal/risk/rates", "rates", "page-risk-rates"),
            ("/portal/risk/models", "models", "page-risk-models"),
            ("/portal/referrals", "referrals", "page-referrals"),
            ("/portal/kpis", "kpis", "page-kpis"),
            ("/portal", "declarations", "page-declarations"),
            ("/release-times", "release-times", "page-release-times"),
        ],
        Some(Role::Auditor) => &[
            ("/portal/audit", "audit", "page-audit"),
            ("/portal", "declarations", "page-declarations"),
            ("/portal/arrivals", "arrivals", "page-arrivals"),
            ("/portal/transit", "transit", "page-transit"),
            ("/portal/kpis", "kpis", "page-kpis"),
        ],
        Some(Role::Agency) => &[
            ("/portal/agency", "agency", "page-agency"),
            ("/portal/lpco-types", "lpco-types", "page-lpco-types"),
        ],
        Some(Role::Admin) => &[
            ("/portal/users", "users", "page-users"),
            (
                "/portal/representations",
                "representations",
                "page-representations",
            ),
            ("/portal/audit", "audit", "page-audit"),
            ("/portal/agencies", "agencies", "page-agencies"),
            ("/portal/lpco-types", "lpco-types", "page-lpco-types"),
            ("/portal/publications", "publications", "page-publications"),
            ("/portal/enquiries", "enquiries", "page-enquiries"),
            ("/portal/kpis", "kpis", "page-kpis"),
        ],
        Some(Role::Bank) => &[],
    }
}

impl Frame {
    fn build(
        state: &AppState,
        headers: &HeaderMap,
        uri: &Uri,
        title: String,
        role: Option<Role>,
    ) -> Frame {
        let t = state.wording(headers).language;
        let path = uri.path();
        let links = pages_of(role)
            .iter()
            .map(|(href, id, message)| NavLink {
                href,
                id,
                label: t.get(message),
                current: path == *href,
            })
            .collect();
        let pipeline = state.pipeline();
        let offered = if pipeline.administration.languages.is_empty() {
            vec![Language::En]
        } else {
            pipeline.administration.languages.clone()
        };
        let here = uri.path_and_query().map_or(path, |p| p.as_str());
        Frame {
            t,
            title,
            who: None,
            csrf: String::new(),
            home: if role.is_some() {
                "/portal"
            } else {
                "/duty-calculator"
            },
            links,
            languages: offered
                .into_iter()
                .map(|l| (l.code(), language_name(l), l == t))
                .collect(),
            back: url_encode(here),
            back_path: here.to_owned(),
            errors: Vec::new(),
            done: None,
        }
    }

    /// The frame of a page for someone signed in.
    pub(crate) fn signed_in(
        state: &AppState,
        caller: &Caller,
        session: &PortalSession,
        headers: &HeaderMap,
        uri: &Uri,
        title: String,
    ) -> Frame {
        let mut frame = Self::build(state, headers, uri, title, Some(caller.role));
        let role = frame.t.get(&format!("role-{}", caller.role.as_str()));
        let role_text = match &caller.user.party {
            Some(party) => format!("{role}, {party}"),
            None => role,
        };
        frame.who = Some(frame.t.text(
            "page-signed-in",
            &[("name", &caller.user.name), ("role", &role_text)],
        ));
        frame.csrf = session.csrf_token.clone();
        frame
    }

    /// The frame of a public page.
    pub(crate) fn public(state: &AppState, headers: &HeaderMap, uri: &Uri, title: String) -> Frame {
        Self::build(state, headers, uri, title, None)
    }

    pub(crate) fn with_errors(mut self, errors: Vec<FieldError>) -> Frame {
        self.errors = errors;
        self
    }

    pub(crate) fn with_done(mut self, done: Option<String>) -> Frame {
        self.done = done;
        self
    }

    /// Whether the error summary names the field `name` (a template marks it).
    pub(crate) fn has_error(&self, name: &str) -> bool {
        self.errors.iter().any(|e| e.field == name)
    }
}

/// Percent-encodes everything but unreserved characters and `/`.
pub(crate) fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A local address to go back to: a path of this site, never another site's (`//host`, `/\host`).
pub(crate) fn local_path(back: Option<&str>) -> &str {
    match back {
        Some(b)
            if b.starts_with('/')
                && !b.starts_with("//")
                && !b.contains('\\')
                && b.len() <= 512 =>
        {
            b
        }
        _ => "/",
    }
}

#[derive(serde::Deserialize)]
pub struct LanguageQuery {
    lang: Option<String>,
    back: Option<String>,
}

/// `GET /language?lang=fr&back=/portal`: keeps the language chosen in a cookie (a year) and goes back.
#[utoipa::path(
    get,
    path = "/language",
    tag = "portal",
    summary = "Choose the portal's language",
    description = "Sets the `aduana_lang` cookie to `lang` (one of the administration's languages: en, fr, es) and answers 303 to `back`, a path of this site (anything else goes to /). The cookie comes before `Accept-Language`.",
    params(("lang" = String, Query), ("back" = Option<String>, Query)),
    responses((status = 303, description = "Back to the page"))
)]
pub async fn choose_language(
    State(state): State<AppState>,
    Query(query): Query<LanguageQuery>,
) -> Response {
    let offered = state.pipeline().administration.languages.clone();
    let mut response = Redirect::to(local_path(query.back.as_deref())).into_response();
    if let Some(language) = query
        .lang
        .as_deref()
        .and_then(Language::parse)
        .filter(|l| offered.is_empty() || offered.contains(l))
    {
        let secure = if state.config.secure_cookies {
            "; Secure"
        } else {
            ""
        };
        if let Ok(value) = HeaderValue::from_str(&format!(
            "{LANGUAGE_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax{secure}",
            language.code()
        )) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// `GET /assets/aduana.css`: the portal's stylesheet.
#[utoipa::path(
    get,
    path = "/assets/aduana.css",
    tag = "portal",
    summary = "The portal's stylesheet",
    responses((status = 200, description = "CSS", content((String = "text/css"))))
)]
pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../assets/aduana.css"),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_gone_back_to() {
        for (back, to) in [
            (
                Some("/portal/declarations/x?y=1"),
                "/portal/declarations/x?y=1",
            ),
            (Some("//evil.example/"), "/"),
            (Some("/\\evil.example"), "/"),
            (Some("https://evil.example/"), "/"),
            (None, "/"),
        ] {
            assert_eq!(local_path(back), to, "{back:?}");
        }
    }

    #[test]
    fn addresses_are_encoded_for_a_query() {
        assert_eq!(
            url_encode("/portal?status=released&lane=red"),
            "/portal%3Fstatus%3Dreleased%26lane%3Dred"
        );
    }
}

/// Every message a page asks for exists: the literal ids in the templates and the portal's code, and the ids
/// made from a status, lane, event, role, stage or agency standing.
#[cfg(test)]
mod catalogue {
    use wording::Language;

    const SOURCES: &[&str] = &[
        include_str!("../templates/layout.html"),
        include_str!("../templates/declarations.html"),
        include_str!("../templates/declaration.html"),
        include_str!("../templates/lodge.html"),
        include_str!("../templates/lodge_form.html"),
        include_str!("../templates/duty_calculator.html"),
        include_str!("../templates/queue.html"),
        include_str!("../templates/kpis.html"),
        include_str!("../templates/information.html"),
        include_str!("../templates/publication.html"),
        include_str!("../templates/publications.html"),
        include_str!("../templates/enquiry.html"),
        include_str!("../templates/enquiry_answer.html"),
        include_str!("../templates/enquiries.html"),
        include_str!("../templates/agencies.html"),
        include_str!("../templates/lpco_types.html"),
        include_str!("../templates/referrals.html"),
        include_str!("../templates/arrivals.html"),
        include_str!("../templates/transit.html"),
        include_str!("../templates/risk_lists.html"),
        include_str!("../templates/risk_rates.html"),
        include_str!("../templates/risk_models.html"),
        include_str!("../templates/status.html"),
        include_str!("../templates/release_times.html"),
        include_str!("../templates/audit.html"),
        include_str!("../templates/users.html"),
        include_str!("../templates/refunds.html"),
        include_str!("../templates/risk_rules.html"),
        include_str!("../templates/hit_rates.html"),
        include_str!("../templates/user.html"),
        include_str!("../templates/representations.html"),
        include_str!("../templates/sw_applications.html"),
        include_str!("../templates/sw_agency.html"),
        include_str!("../templates/sw_application.html"),
        include_str!("../templates/login.html"),
        include_str!("frame.rs"),
        include_str!("portal.rs"),
        include_str!("portal_declarations.rs"),
        include_str!("portal_public.rs"),
        include_str!("portal_audit.rs"),
        include_str!("portal_admin.rs"),
        include_str!("portal_refunds.rs"),
        include_str!("portal_risk.rs"),
        include_str!("portal_inspection.rs"),
        include_str!("portal_lodge_form.rs"),
        include_str!("public.rs"),
        include_str!("portal_queue.rs"),
        include_str!("portal_kpis.rs"),
        include_str!("portal_publications.rs"),
        include_str!("portal_enquiries.rs"),
        include_str!("portal_agencies.rs"),
        include_str!("portal_lpco_types.rs"),
        include_str!("portal_referrals.rs"),
        include_str!("portal_arrivals.rs"),
        include_str!("portal_transit.rs"),
        include_str!("portal_risk_lists.rs"),
        include_str!("portal_risk_rates.rs"),
        include_str!("portal_risk_models.rs"),
        include_str!("users.rs"),
        include_str!("portal_sw.rs"),
    ];

    fn has(language: Language, id: &str) -> bool {
        language.text(id, &[]) != id
    }

    #[test]
    fn every_message_a_page_names_is_in_the_catalogues() {
        let mut missing = Vec::new();
        for source in SOURCES {
            let mut rest = *source;
            while let Some(start) = rest.find('"') {
                let after = &rest[start + 1..];
                let Some(end) = after.find('"') else { break };
                let id = &after[..end];
                let prefixed = ["page-", "unit-", "stage-", "mode-", "role-", "event-"]
                    .iter()
                    .any(|p| id.starts_with(p) && id.len() > p.len());
                if prefixed
                    && id.chars().all(|c| {
                        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_'
                    })
                    && !id.ends_with('-')
                    && !has(Language::En, id)
                {
                    missing.push(id.to_owned());
                }
                rest = &after[end + 1..];
            }
        }
        let mut made = Vec::new();
        made.extend(
            workflow::Status::ALL
                .iter()
                .map(|s| format!("status-{}", s.as_str())),
        );
        made.extend(
            selectivity::Lane::ALL
                .iter()
                .map(|l| format!("lane-{}", l.as_str())),
        );
        made.extend(
            workflow::EventKind::TYPE_NAMES
                .iter()
                .map(|e| format!("event-{e}")),
        );
        made.extend(
            crate::policy::Role::ALL
                .iter()
                .map(|r| format!("role-{}", r.as_str())),
        );
        made.extend(["system", "cli"].iter().map(|r| format!("role-{r}")));
        made.extend(
            workflow::study::STAGES
                .iter()
                .map(|(s, _, _)| format!("stage-{s}"))
                .filter(|s| {
                    crate::portal_public::SEQUENCE
                        .iter()
                        .any(|q| s.ends_with(q))
                }),
        );
        for standing in [
            "awaited",
            "released",
            "held_for_inspection",
            "joint_inspection",
            "refused",
        ] {
            made.push(format!("agency-standing-{standing}"));
        }
        for lane in ["red", "yellow"] {
            made.push(format!("page-queue-{lane}"));
        }
        for kind in administration::publication::Kind::ALL {
            made.push(format!("publication-kind-{}", kind.as_str()));
        }
        for stage in administration::publication::Stage::ALL {
            made.push(format!("publication-stage-{}", stage.as_str()));
        }
        for refusal in administration::publication::Refusal::ALL {
            made.push(refusal.message_id().to_owned());
        }
        for refusal in administration::enquiry::Refusal::ALL {
            made.push(refusal.message_id().to_owned());
        }
        for done in [
            "lodged",
            "arrival",
            "cancellation",
            "payment-order",
            "control-result",
            "lane",
            "release",
            "exit",
            "amendment",
        ] {
            made.push(format!("page-done-{done}"));
        }
        for language in Language::ALL {
            missing.extend(
                made.iter()
                    .filter(|id| !has(language, id))
                    .map(|id| format!("{}:{id}", language.code())),
            );
        }
        assert!(missing.is_empty(), "messages missing: {missing:?}");
    }
}
