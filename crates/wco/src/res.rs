//! WCO RES notifications out (`WCO_RES_2_DMS.xsd` inside the `DocumentMetaData_2_DMS.xsd` envelope), in the shapes
//! of HMRC's DMS notifications: receipt (DMSRCV, function code 02), acceptance (DMSACC, 01), rejection (DMSREJ, 03),
//! documents requested (DMSDOC, 06), physical examination (DMSCTL, 05), tax assessment per goods item and tax type
//! (DMSTAX, 13), release (DMSROG, 08), cancellation (DMSINV, 10), the result of a control (DMSRES, 07: what the
//! inspection found, as additional information) and an amendment accepted (DMSREQ, 11, status 39, the new version).
//! Several notifications go in one document: the envelope allows any number of `Response` elements, in order.
//!
//! Pure: the caller passes times as text (`YYYYMMDDHHMMSSZ`, format code 304) and the values to write.

use crate::escape;

/// One notification.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Notification {
    pub kind: Kind,
    /// Unique per notification (at most 35 characters).
    pub id: String,
    /// When it was issued, `YYYYMMDDHHMMSSZ`.
    pub issued_at: String,
    /// The trader's reference (DE 2/5) and the MRN once issued.
    pub lrn: String,
    pub mrn: Option<String>,
    pub version: u32,
    /// Errors of a rejection: (validation code of at most 8 characters, description of at most 512).
    pub errors: Vec<(String, String)>,
    /// Duties and taxes of an assessment, per goods item.
    pub items: Vec<Item>,
    /// Free texts for the trader (a control's outcome and the officer's remarks), at most 512 characters each.
    pub statements: Vec<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Kind {
    #[default]
    Receipt,
    Acceptance,
    Rejection,
    DocumentsRequested,
    Examination,
    TaxAssessment,
    Release,
    Cancellation,
    ControlResult,
    AmendmentAccepted,
}

impl Kind {
    /// The DMS function code.
    pub fn function_code(self) -> &'static str {
        match self {
            Kind::Acceptance => "01",
            Kind::Receipt => "02",
            Kind::Rejection => "03",
            Kind::Examination => "05",
            Kind::DocumentsRequested => "06",
            Kind::ControlResult => "07",
            Kind::Release => "08",
            Kind::Cancellation => "10",
            Kind::AmendmentAccepted => "11",
            Kind::TaxAssessment => "13",
        }
    }
}

/// A goods item's duties and taxes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Item {
    pub sequence: u32,
    pub taxes: Vec<Tax>,
}

/// One tax line: amounts as decimal text, the rate in percent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tax {
    pub type_code: String,
    pub base: String,
    pub rate_percent: String,
    pub assessed: String,
    /// What is payable now (zero when deferred or guaranteed).
    pub payable: String,
    pub currency: String,
}

/// At most `n` characters, without the control characters XML 1.0 cannot hold (a notification is ours to word).
fn clip(text: &str, n: usize) -> String {
    text.chars()
        .filter(|c| *c as u32 >= 0x20 || matches!(c, '\t' | '\n' | '\r'))
        .take(n)
        .collect()
}

fn element(out: &mut String, indent: usize, name: &str, text: &str) {
    out.push_str(&"  ".repeat(indent));
    out.push_str(&format!("<{name}>{}</{name}>\n", escape(text)));
}

fn date_time(out: &mut String, indent: usize, name: &str, at: &str) {
    out.push_str(&"  ".repeat(indent));
    out.push_str(&format!(
        "<{name}><ds:DateTimeString formatCode=\"304\">{}</ds:DateTimeString></{name}>\n",
        escape(&clip(at, 35))
    ));
}

fn amount(out: &mut String, indent: usize, name: &str, value: &str, currency: &str) {
    out.push_str(&"  ".repeat(indent));
    out.push_str(&format!(
        "<{name} currencyID=\"{}\">{}</{name}>\n",
        escape(currency),
        escape(value)
    ));
}

/// One RES document holding `notifications` in order, from the administration of `country` (ISO 3166 alpha-2).
pub fn write(notifications: &[Notification], country: &str, agency: &str) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<md:MetaData \
         xmlns:md=\"urn:wco:datamodel:WCO:DocumentMetaData-DMS:2\" \
         xmlns=\"urn:wco:datamodel:WCO:RES-DMS:2\" \
         xmlns:ds=\"urn:wco:datamodel:WCO:Response_DS:DMS:2\">\n",
    );
    out.push_str("  <md:WCODataModelVersionCode>3.6</md:WCODataModelVersionCode>\n");
    out.push_str("  <md:WCOTypeName>RES</md:WCOTypeName>\n");
    out.push_str(&format!(
        "  <md:ResponsibleCountryCode>{}</md:ResponsibleCountryCode>\n",
        escape(&clip(country, 2))
    ));
    out.push_str(&format!(
        "  <md:ResponsibleAgencyName>{}</md:ResponsibleAgencyName>\n",
        escape(&clip(agency, 70))
    ));
    for n in notifications {
        out.push_str("  <Response>\n");
        element(&mut out, 2, "FunctionCode", n.kind.function_code());
        element(&mut out, 2, "FunctionalReferenceID", &clip(&n.id, 35));
        date_time(&mut out, 2, "IssueDateTime", &n.issued_at);
        for statement in &n.statements {
            out.push_str("    <AdditionalInformation>\n");
            element(&mut out, 3, "StatementDescription", &clip(statement, 512));
            out.push_str("    </AdditionalInformation>\n");
        }
        for (code, description) in &n.errors {
            out.push_str("    <Error>\n");
            element(&mut out, 3, "Description", &clip(description, 512));
            element(&mut out, 3, "ValidationCode", &clip(code, 8));
            out.push_str("    </Error>\n");
        }
        if n.kind == Kind::AmendmentAccepted {
            // Status 39: the amendment request is accepted (as in HMRC's DMSREQ).
            out.push_str("    <Status>\n");
            element(&mut out, 3, "NameCode", "39");
            out.push_str("    </Status>\n");
        }
        out.push_str("    <Declaration>\n");
        if n.kind == Kind::Acceptance {
            date_time(&mut out, 3, "AcceptanceDateTime", &n.issued_at);
        }
        if n.kind == Kind::Cancellation {
            date_time(&mut out, 3, "CancellationDateTime", &n.issued_at);
        }
        element(&mut out, 3, "FunctionalReferenceID", &clip(&n.lrn, 35));
        if let Some(mrn) = &n.mrn {
            element(&mut out, 3, "ID", &clip(mrn, 70));
        }
        if n.kind == Kind::Rejection {
            date_time(&mut out, 3, "RejectionDateTime", &n.issued_at);
        }
        element(&mut out, 3, "VersionID", &n.version.to_string());
        if !n.items.is_empty() {
            out.push_str("      <GoodsShipment>\n");
            for item in &n.items {
                out.push_str("        <GovernmentAgencyGoodsItem>\n");
                element(&mut out, 5, "SequenceNumeric", &item.sequence.to_string());
                out.push_str("          <Commodity>\n");
                for tax in &item.taxes {
                    out.push_str("            <DutyTaxFee>\n");
                    amount(
                        &mut out,
                        7,
                        "AdValoremTaxBaseAmount",
                        &tax.base,
                        &tax.currency,
                    );
                    element(&mut out, 7, "TaxRateNumeric", &tax.rate_percent);
                    element(&mut out, 7, "TypeCode", &clip(&tax.type_code, 3));
                    out.push_str("              <Payment>\n");
                    amount(
                        &mut out,
                        8,
                        "TaxAssessedAmount",
                        &tax.assessed,
                        &tax.currency,
                    );
                    amount(&mut out, 8, "PaymentAmount", &tax.payable, &tax.currency);
                    out.push_str("              </Payment>\n");
                    out.push_str("            </DutyTaxFee>\n");
                }
                out.push_str("          </Commodity>\n");
                out.push_str("        </GovernmentAgencyGoodsItem>\n");
            }
            out.push_str("      </GoodsShipment>\n");
        }
        out.push_str("    </Declaration>\n");
        out.push_str("  </Response>\n");
    }
    out.push_str("</md:MetaData>\n");
    out
}
