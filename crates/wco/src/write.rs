//! The declaration model written back as WCO DEC-DMS 2 XML, in the element order of `WCO_DEC_2_DMS.xsd`: what the
//! reader maps comes back out, so XML → model → XML → model holds (tested over the whole HMRC corpus, and the written
//! XML validated against the schemas). Pure: model in, element tree or text out.

use crate::dom::{Element, NS_DECLARATION, NS_DECLARATION_DS, NS_METADATA};
use declaration::*;
use rust_decimal::Decimal;
use std::sync::Arc;

/// Builds the document as an element tree (serialised by `kept::serialize`): the reader's residue check compares a
/// document read with this tree directly, with no second parse.
struct Xml {
    stack: Vec<Element>,
    declaration: Arc<str>,
    data_structures: Arc<str>,
}

impl Xml {
    /// The MetaData envelope up to the Declaration.
    fn envelope() -> Xml {
        let metadata: Arc<str> = Arc::from(NS_METADATA);
        let leaf = |name: &str, text: &str| Element {
            namespace: Some(Arc::clone(&metadata)),
            name: name.to_owned(),
            text: text.to_owned(),
            ..Element::default()
        };
        let root = Element {
            namespace: Some(Arc::clone(&metadata)),
            name: "MetaData".to_owned(),
            children: vec![
                leaf("WCODataModelVersionCode", "3.6"),
                leaf("WCOTypeName", "DEC"),
            ],
            ..Element::default()
        };
        Xml {
            stack: vec![root],
            declaration: Arc::from(NS_DECLARATION),
            data_structures: Arc::from(NS_DECLARATION_DS),
        }
    }

    fn element(&self, name: &str) -> Element {
        Element {
            namespace: Some(Arc::clone(&self.declaration)),
            name: name.to_owned(),
            ..Element::default()
        }
    }

    fn push(&mut self, element: Element) {
        self.stack
            .last_mut()
            .expect("the envelope is never closed")
            .children
            .push(element);
    }

    fn open(&mut self, name: &str) {
        let element = self.element(name);
        self.stack.push(element);
    }
    fn close(&mut self, name: &str) {
        let element = self.stack.pop().expect("opened");
        debug_assert_eq!(element.name, name);
        self.push(element);
    }
    fn text(&mut self, name: &str, value: &str) {
        let mut element = self.element(name);
        element.text = value.to_owned();
        self.push(element);
    }
    /// The finished document.
    fn finish(mut self) -> Element {
        while self.stack.len() > 1 {
            let element = self.stack.pop().expect("checked");
            self.push(element);
        }
        self.stack.pop().expect("the envelope")
    }
    fn opt(&mut self, name: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.text(name, v);
        }
    }
    fn with_attribute(&mut self, name: &str, attribute: &str, value: &str, text: &str) {
        let mut element = self.element(name);
        element
            .attributes
            .push((attribute.to_owned(), value.to_owned()));
        element.text = text.to_owned();
        self.push(element);
    }
    fn amount(&mut self, name: &str, amount: Option<&Amount>) {
        if let Some(a) = amount {
            self.with_attribute(
                name,
                "currencyID",
                a.currency.as_str(),
                &a.value.to_string(),
            );
        }
    }
    fn measure(&mut self, name: &str, measure: Option<&Measure>) {
        if let Some(m) = measure {
            match &m.unit_code {
                Some(unit) => self.with_attribute(name, "unitCode", unit, &m.value.to_string()),
                None => self.text(name, &m.value.to_string()),
            }
        }
    }
    fn mass(&mut self, name: &str, kg: Option<Decimal>) {
        if let Some(kg) = kg {
            self.with_attribute(name, "unitCode", "KGM", &kg.to_string());
        }
    }
    fn date_time(&mut self, name: &str, value: Option<&str>) {
        if let Some(v) = value {
            // Format 102 is a date (CCYYMMDD); 304 a date and time with its zone, as HMRC sends them.
            let format = if v.len() == 8 && v.bytes().all(|b| b.is_ascii_digit()) {
                "102"
            } else {
                "304"
            };
            let mut element = self.element(name);
            element.children.push(Element {
                namespace: Some(Arc::clone(&self.data_structures)),
                name: "DateTimeString".to_owned(),
                attributes: vec![("formatCode".to_owned(), format.to_owned())],
                text: v.to_owned(),
                ..Element::default()
            });
            self.push(element);
        }
    }
    fn wrapped(&mut self, outer: &str, inner: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.open(outer);
            self.text(inner, v);
            self.close(outer);
        }
    }
    fn party(&mut self, name: &str, party: Option<&Party>) {
        let Some(p) = party else { return };
        self.open(name);
        self.opt("Name", p.name.as_deref());
        self.opt("ID", p.id.as_ref().map(PartyId::as_str));
        if let Some(a) = &p.address {
            self.open("Address");
            self.opt("CityName", a.city_name.as_deref());
            self.opt("CountryCode", a.country_code.as_ref().map(Country::as_str));
            self.opt("Line", a.line.as_deref());
            self.opt("PostcodeID", a.postcode_id.as_deref());
            self.close("Address");
        }
        self.close(name);
    }
    fn transport_means(&mut self, name: &str, means: Option<&TransportMeans>, nationality: bool) {
        let Some(m) = means else { return };
        self.open(name);
        self.opt("ID", m.id.as_deref());
        self.opt(
            "IdentificationTypeCode",
            m.identification_type_code.as_deref(),
        );
        if nationality {
            self.opt(
                "RegistrationNationalityCode",
                m.registration_nationality_code
                    .as_ref()
                    .map(Country::as_str),
            );
        }
        self.opt("ModeCode", m.mode_code.as_deref());
        self.close(name);
    }
    fn pointers(&mut self, pointers: &[Pointer]) {
        for p in pointers {
            self.open("Pointer");
            self.opt(
                "SequenceNumeric",
                p.sequence_numeric.map(|n| n.to_string()).as_deref(),
            );
            self.opt("DocumentSectionCode", p.document_section_code.as_deref());
            self.opt("TagID", p.tag_id.as_deref());
            self.close("Pointer");
        }
    }
    fn additional_documents(&mut self, documents: &[AdditionalDocument]) {
        for d in documents {
            self.open("AdditionalDocument");
            self.text("CategoryCode", &d.category_code);
            self.opt("ID", d.id.as_deref());
            self.opt("Name", d.name.as_deref());
            self.text("TypeCode", &d.type_code);
            self.opt("LPCOExemptionCode", d.lpco_exemption_code.as_deref());
            if let Some(q) = &d.write_off_quantity {
                self.open("WriteOff");
                self.measure("QuantityQuantity", Some(q));
                self.close("WriteOff");
            }
            self.close("AdditionalDocument");
        }
    }
    fn additional_information(&mut self, information: &[AdditionalInformation], pointers: bool) {
        for i in information {
            self.open("AdditionalInformation");
            self.opt("StatementCode", i.statement_code.as_deref());
            self.opt("StatementDescription", i.statement_description.as_deref());
            self.opt("StatementTypeCode", i.statement_type_code.as_deref());
            if pointers {
                self.pointers(&i.pointers);
            }
            self.close("AdditionalInformation");
        }
    }
    fn charge_deductions(&mut self, deductions: &[ChargeDeduction]) {
        for d in deductions {
            self.open("ChargeDeduction");
            self.text("ChargesTypeCode", &d.charges_type_code);
            self.amount("OtherChargeDeductionAmount", Some(&d.amount));
            self.close("ChargeDeduction");
        }
    }
    fn role_parties(&mut self, parties: &[RoleParty]) {
        for p in parties {
            self.open("DomesticDutyTaxParty");
            self.text("ID", p.id.as_str());
            self.text("RoleCode", &p.role_code);
            self.close("DomesticDutyTaxParty");
        }
    }
    fn previous_documents(&mut self, documents: &[PreviousDocument]) {
        for d in documents {
            self.open("PreviousDocument");
            self.text("CategoryCode", &d.category_code);
            self.text("ID", &d.id);
            self.text("TypeCode", &d.type_code);
            self.opt(
                "LineNumeric",
                d.line_numeric.map(|n| n.to_string()).as_deref(),
            );
            self.close("PreviousDocument");
        }
    }
    fn transport_equipment(&mut self, equipment: &[TransportEquipment], seals: bool) {
        for e in equipment {
            self.open("TransportEquipment");
            self.text("SequenceNumeric", &e.sequence_numeric.to_string());
            self.opt("ID", e.id.as_deref());
            if seals {
                for s in &e.seals {
                    self.open("Seal");
                    self.text("SequenceNumeric", &s.sequence_numeric.to_string());
                    self.text("ID", &s.id);
                    self.close("Seal");
                }
            }
            self.close("TransportEquipment");
        }
    }
    fn amendments(&mut self, amendments: &[Amendment]) {
        for a in amendments {
            self.open("Amendment");
            self.text("ChangeReasonCode", &a.change_reason_code);
            self.pointers(&a.pointers);
            self.close("Amendment");
        }
    }

    fn goods_shipment(&mut self, s: &GoodsShipment) {
        self.open("GoodsShipment");
        self.opt(
            "TransactionNatureCode",
            s.transaction_nature_code.as_deref(),
        );
        self.party("Buyer", s.buyer.as_ref());
        self.party("Consignee", s.consignee.as_ref());
        if let Some(c) = &s.consignment {
            self.open("Consignment");
            self.opt("ContainerCode", c.container_code.as_deref());
            self.transport_means(
                "ArrivalTransportMeans",
                c.arrival_transport_means.as_ref(),
                false,
            );
            self.transport_means(
                "DepartureTransportMeans",
                c.departure_transport_means.as_ref(),
                false,
            );
            if let Some(l) = &c.goods_location {
                self.open("GoodsLocation");
                self.opt("Name", l.name.as_deref());
                self.opt("TypeCode", l.type_code.as_deref());
                if l.address_type_code.is_some() || l.country_code.is_some() {
                    self.open("Address");
                    self.opt("TypeCode", l.address_type_code.as_deref());
                    self.opt("CountryCode", l.country_code.as_ref().map(Country::as_str));
                    self.close("Address");
                }
                self.close("GoodsLocation");
            }
            self.transport_equipment(&c.transport_equipment, true);
            self.close("Consignment");
        }
        if let Some(v) = &s.customs_valuation {
            self.open("CustomsValuation");
            self.amount("FreightChargeAmount", v.freight_charge_amount.as_ref());
            self.charge_deductions(&v.charge_deductions);
            self.close("CustomsValuation");
        }
        self.wrapped(
            "Destination",
            "CountryCode",
            s.destination_country.as_ref().map(Country::as_str),
        );
        self.role_parties(&s.domestic_duty_tax_parties);
        self.wrapped(
            "ExportCountry",
            "ID",
            s.export_country.as_ref().map(Country::as_str),
        );
        for item in &s.goods_items {
            self.goods_item(item);
        }
        self.party("Importer", s.importer.as_ref());
        self.previous_documents(&s.previous_documents);
        self.party("Seller", s.seller.as_ref());
        if let Some(t) = &s.trade_terms {
            self.open("TradeTerms");
            self.opt("ConditionCode", t.condition_code.as_deref());
            self.opt("LocationID", t.location_id.as_deref());
            self.close("TradeTerms");
        }
        self.wrapped("UCR", "TraderAssignedReferenceID", s.ucr.as_deref());
        if let Some(w) = &s.warehouse {
            self.open("Warehouse");
            self.opt("ID", w.id.as_deref());
            self.opt("TypeCode", w.type_code.as_deref());
            self.close("Warehouse");
        }
        self.close("GoodsShipment");
    }

    fn goods_item(&mut self, item: &GoodsItem) {
        self.open("GovernmentAgencyGoodsItem");
        self.amount("CustomsValueAmount", item.customs_value_amount.as_ref());
        self.text("SequenceNumeric", &item.sequence_numeric.to_string());
        self.amount(
            "StatisticalValueAmount",
            item.statistical_value_amount.as_ref(),
        );
        self.opt(
            "TransactionNatureCode",
            item.transaction_nature_code.as_deref(),
        );
        self.additional_documents(&item.additional_documents);
        self.additional_information(&item.additional_information, false);
        self.open("Commodity");
        self.opt("Description", item.description.as_deref());
        for c in &item.classifications {
            self.open("Classification");
            self.text("ID", &c.id);
            self.text("IdentificationTypeCode", &c.identification_type_code);
            self.close("Classification");
        }
        for f in &item.duty_tax_fees {
            self.open("DutyTaxFee");
            self.opt("DutyRegimeCode", f.duty_regime_code.as_deref());
            self.measure(
                "SpecificTaxBaseQuantity",
                f.specific_tax_base_quantity.as_ref(),
            );
            self.opt("TypeCode", f.type_code.as_deref());
            self.opt("QuotaOrderID", f.quota_order_id.as_deref());
            if f.payment_method_code.is_some()
                || f.tax_assessed_amount.is_some()
                || f.payment_amount.is_some()
            {
                self.open("Payment");
                self.opt("MethodCode", f.payment_method_code.as_deref());
                self.amount("TaxAssessedAmount", f.tax_assessed_amount.as_ref());
                self.amount("PaymentAmount", f.payment_amount.as_ref());
                self.close("Payment");
            }
            self.close("DutyTaxFee");
        }
        if item.gross_mass_kg.is_some()
            || item.net_mass_kg.is_some()
            || item.tariff_quantity.is_some()
        {
            self.open("GoodsMeasure");
            self.mass("GrossMassMeasure", item.gross_mass_kg);
            self.mass("NetNetWeightMeasure", item.net_mass_kg);
            self.measure("TariffQuantity", item.tariff_quantity.as_ref());
            self.close("GoodsMeasure");
        }
        if item.item_charge_amount.is_some() {
            self.open("InvoiceLine");
            self.amount("ItemChargeAmount", item.item_charge_amount.as_ref());
            self.close("InvoiceLine");
        }
        self.transport_equipment(&item.transport_equipment, false);
        self.close("Commodity");
        self.party("Consignee", item.consignee.as_ref());
        if item.valuation_method_code.is_some() || !item.charge_deductions.is_empty() {
            self.open("CustomsValuation");
            self.opt("MethodCode", item.valuation_method_code.as_deref());
            self.charge_deductions(&item.charge_deductions);
            self.close("CustomsValuation");
        }
        self.role_parties(&item.domestic_duty_tax_parties);
        self.wrapped(
            "ExportCountry",
            "ID",
            item.export_country.as_ref().map(Country::as_str),
        );
        for p in &item.procedures {
            self.open("GovernmentProcedure");
            self.text("CurrentCode", &p.current_code);
            self.opt("PreviousCode", p.previous_code.as_deref());
            self.close("GovernmentProcedure");
        }
        for o in &item.origins {
            self.open("Origin");
            self.text("CountryCode", o.country_code.as_str());
            self.text("TypeCode", &o.type_code);
            self.close("Origin");
        }
        for p in &item.packaging {
            self.open("Packaging");
            self.text("SequenceNumeric", &p.sequence_numeric.to_string());
            self.opt("MarksNumbersID", p.marks_numbers_id.as_deref());
            self.opt(
                "QuantityQuantity",
                p.quantity.map(|q| q.to_string()).as_deref(),
            );
            self.opt("TypeCode", p.type_code.as_deref());
            self.close("Packaging");
        }
        self.previous_documents(&item.previous_documents);
        self.wrapped(
            "ValuationAdjustment",
            "AdditionCode",
            item.valuation_adjustment_code.as_deref(),
        );
        self.close("GovernmentAgencyGoodsItem");
    }
}

/// The declaration as a WCO DEC-DMS 2 document in its MetaData envelope: its typed fields, and what it keeps of
/// the rest of the schema put back in schema order.
pub fn write_declaration(d: &Declaration) -> String {
    crate::kept::serialize(&declaration_tree(d))
}

/// The declaration's document as an element tree: typed fields and kept rest.
pub(crate) fn declaration_tree(d: &Declaration) -> Element {
    with_kept(typed_declaration(d), &d.kept)
}

/// The typed fields of a declaration, as XML.
pub(crate) fn typed_declaration(d: &Declaration) -> Element {
    let mut x = Xml::envelope();
    x.open("Declaration");
    x.date_time("AcceptanceDateTime", d.acceptance_date_time.as_deref());
    x.text("FunctionCode", d.function_code.wco_code());
    x.text("FunctionalReferenceID", d.lrn.as_str());
    x.opt("ID", d.id.as_deref());
    x.date_time("IssueDateTime", d.issue_date_time.as_deref());
    x.text("TypeCode", &d.type_code.to_string());
    x.opt(
        "GoodsItemQuantity",
        d.goods_item_quantity.map(|n| n.to_string()).as_deref(),
    );
    x.opt("DeclarationOfficeID", d.declaration_office_id.as_deref());
    x.amount("InvoiceAmount", d.invoice_amount.as_ref());
    x.opt(
        "TotalPackageQuantity",
        d.total_package_quantity.map(|n| n.to_string()).as_deref(),
    );
    x.party("Submitter", d.submitter.as_ref());
    x.additional_documents(&d.additional_documents);
    x.additional_information(&d.additional_information, true);
    if let Some(agent) = &d.agent {
        x.open("Agent");
        x.opt("ID", agent.id.as_ref().map(PartyId::as_str));
        x.opt("FunctionCode", agent.function_code.as_deref());
        x.close("Agent");
    }
    x.amendments(&d.amendments);
    for h in &d.authorisation_holders {
        x.open("AuthorisationHolder");
        x.text("ID", h.id.as_str());
        x.text("CategoryCode", &h.category_code);
        x.close("AuthorisationHolder");
    }
    x.transport_means(
        "BorderTransportMeans",
        d.border_transport_means.as_ref(),
        true,
    );
    if let Some(c) = &d.consignment {
        x.open("Consignment");
        x.party("Carrier", c.carrier.as_ref());
        x.wrapped(
            "Freight",
            "PaymentMethodCode",
            c.freight_payment_method_code.as_deref(),
        );
        for (i, country) in c.itinerary.iter().enumerate() {
            x.open("Itinerary");
            x.text("SequenceNumeric", &(i + 1).to_string());
            x.text("RoutingCountryCode", country.as_str());
            x.close("Itinerary");
        }
        x.close("Consignment");
    }
    for e in &d.currency_exchanges {
        x.open("CurrencyExchange");
        x.text("CurrencyTypeCode", e.currency.as_str());
        x.text("RateNumeric", &e.rate.to_string());
        x.close("CurrencyExchange");
    }
    x.party("Declarant", d.declarant.as_ref());
    x.wrapped("ExitOffice", "ID", d.exit_office_id.as_deref());
    x.party("Exporter", d.exporter.as_ref());
    x.goods_shipment(&d.goods_shipment);
    for g in &d.obligation_guarantees {
        x.open("ObligationGuarantee");
        x.opt("ID", g.id.as_deref());
        x.opt("ReferenceID", g.reference_id.as_deref());
        x.opt("SecurityDetailsCode", g.security_details_code.as_deref());
        x.close("ObligationGuarantee");
    }
    x.wrapped(
        "SupervisingOffice",
        "ID",
        d.supervising_office_id.as_deref(),
    );
    x.close("Declaration");
    x.finish()
}

/// A function code 13 message as a WCO DEC-DMS 2 document: the same envelope and element order as a declaration.
pub fn write_additional_message(m: &AdditionalMessage) -> String {
    crate::kept::serialize(&additional_message_tree(m))
}

/// The message's document as an element tree: typed fields and kept rest.
pub(crate) fn additional_message_tree(m: &AdditionalMessage) -> Element {
    with_kept(typed_additional_message(m), &m.kept)
}

/// What the model keeps beyond its typed fields, merged into `xml` (the typed fields written). The readers accept
/// only kept items the schema has a place for, so the merge does not fail on a model they made.
fn with_kept(mut tree: Element, kept: &[Kept]) -> Element {
    if !kept.is_empty() {
        // Nothing is lost if it ever failed: the model's typed fields are still written.
        let _ = crate::kept::merge(&mut tree, kept);
    }
    tree
}

pub(crate) fn typed_additional_message(m: &AdditionalMessage) -> Element {
    let mut x = Xml::envelope();
    x.open("Declaration");
    x.text("FunctionCode", FunctionCode::Amendment.wco_code());
    x.text("FunctionalReferenceID", m.functional_reference_id.as_str());
    x.text("ID", m.declaration_id.as_str());
    x.text("TypeCode", m.type_code.wco_code());
    x.opt(
        "GoodsItemQuantity",
        m.goods_item_quantity.map(|n| n.to_string()).as_deref(),
    );
    x.opt(
        "TotalPackageQuantity",
        m.total_package_quantity.map(|n| n.to_string()).as_deref(),
    );
    x.party("Submitter", m.submitter.as_ref());
    x.additional_information(&m.additional_information, true);
    x.amendments(&m.amendments);
    if let Some(s) = &m.goods_shipment {
        x.goods_shipment(s);
    }
    x.close("Declaration");
    x.finish()
}

/// Either kind of DEC-DMS 2 message, written back.
pub fn write_message(message: &crate::Message) -> String {
    match message {
        crate::Message::Declaration(d) => write_declaration(d),
        crate::Message::Additional(m) => write_additional_message(m),
    }
}
