//! The declaration model written back as WCO DEC-DMS 2 XML, in the element order of `WCO_DEC_2_DMS.xsd`: what the
//! reader maps comes back out, so XML → model → XML → model holds (tested over the whole HMRC corpus, and the written
//! XML validated against the schemas). Pure: model in, text out.

use crate::escape;
use declaration::*;
use rust_decimal::Decimal;

const NS_DECLARATION_DS: &str = "urn:wco:datamodel:WCO:Declaration_DS:DMS:2";

struct Xml {
    out: String,
    depth: usize,
}

impl Xml {
    fn open(&mut self, name: &str) {
        self.indent();
        self.out.push_str(&format!("<{name}>\n"));
        self.depth += 1;
    }
    fn close(&mut self, name: &str) {
        self.depth -= 1;
        self.indent();
        self.out.push_str(&format!("</{name}>\n"));
    }
    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }
    fn text(&mut self, name: &str, value: &str) {
        self.indent();
        self.out
            .push_str(&format!("<{name}>{}</{name}>\n", escape(value)));
    }
    fn opt(&mut self, name: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.text(name, v);
        }
    }
    fn with_attribute(&mut self, name: &str, attribute: &str, value: &str, text: &str) {
        self.indent();
        self.out.push_str(&format!(
            "<{name} {attribute}=\"{}\">{}</{name}>\n",
            escape(value),
            escape(text)
        ));
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
            self.indent();
            self.out.push_str(&format!(
                "<{name}><ds:DateTimeString formatCode=\"{format}\">{}</ds:DateTimeString></{name}>\n",
                escape(v)
            ));
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
            if let Some(q) = d.write_off_quantity {
                self.open("WriteOff");
                self.text("QuantityQuantity", &q.to_string());
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

/// The declaration as a WCO DEC-DMS 2 document in its MetaData envelope.
pub fn write_declaration(d: &Declaration) -> String {
    let mut x = Xml {
        out: String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<md:MetaData \
             xmlns:md=\"urn:wco:datamodel:WCO:DocumentMetaData-DMS:2\" \
             xmlns=\"urn:wco:datamodel:WCO:DEC-DMS:2\" ",
        ),
        depth: 1,
    };
    x.out
        .push_str(&format!("xmlns:ds=\"{NS_DECLARATION_DS}\">\n"));
    x.out
        .push_str("  <md:WCODataModelVersionCode>3.6</md:WCODataModelVersionCode>\n");
    x.out.push_str("  <md:WCOTypeName>DEC</md:WCOTypeName>\n");
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
    for a in &d.amendments {
        x.open("Amendment");
        x.text("ChangeReasonCode", &a.change_reason_code);
        x.pointers(&a.pointers);
        x.close("Amendment");
    }
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
    let s = &d.goods_shipment;
    x.open("GoodsShipment");
    x.opt(
        "TransactionNatureCode",
        s.transaction_nature_code.as_deref(),
    );
    x.party("Buyer", s.buyer.as_ref());
    x.party("Consignee", s.consignee.as_ref());
    if let Some(c) = &s.consignment {
        x.open("Consignment");
        x.opt("ContainerCode", c.container_code.as_deref());
        x.transport_means(
            "ArrivalTransportMeans",
            c.arrival_transport_means.as_ref(),
            false,
        );
        x.transport_means(
            "DepartureTransportMeans",
            c.departure_transport_means.as_ref(),
            false,
        );
        if let Some(l) = &c.goods_location {
            x.open("GoodsLocation");
            x.opt("Name", l.name.as_deref());
            x.opt("TypeCode", l.type_code.as_deref());
            if l.address_type_code.is_some() || l.country_code.is_some() {
                x.open("Address");
                x.opt("TypeCode", l.address_type_code.as_deref());
                x.opt("CountryCode", l.country_code.as_ref().map(Country::as_str));
                x.close("Address");
            }
            x.close("GoodsLocation");
        }
        x.transport_equipment(&c.transport_equipment, true);
        x.close("Consignment");
    }
    if let Some(v) = &s.customs_valuation {
        x.open("CustomsValuation");
        x.amount("FreightChargeAmount", v.freight_charge_amount.as_ref());
        x.charge_deductions(&v.charge_deductions);
        x.close("CustomsValuation");
    }
    x.wrapped(
        "Destination",
        "CountryCode",
        s.destination_country.as_ref().map(Country::as_str),
    );
    x.role_parties(&s.domestic_duty_tax_parties);
    x.wrapped(
        "ExportCountry",
        "ID",
        s.export_country.as_ref().map(Country::as_str),
    );
    for item in &s.goods_items {
        x.goods_item(item);
    }
    x.party("Importer", s.importer.as_ref());
    x.previous_documents(&s.previous_documents);
    x.party("Seller", s.seller.as_ref());
    if let Some(t) = &s.trade_terms {
        x.open("TradeTerms");
        x.opt("ConditionCode", t.condition_code.as_deref());
        x.opt("LocationID", t.location_id.as_deref());
        x.close("TradeTerms");
    }
    x.wrapped("UCR", "TraderAssignedReferenceID", s.ucr.as_deref());
    if let Some(w) = &s.warehouse {
        x.open("Warehouse");
        x.opt("ID", w.id.as_deref());
        x.opt("TypeCode", w.type_code.as_deref());
        x.close("Warehouse");
    }
    x.close("GoodsShipment");
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
    x.out.push_str("</md:MetaData>\n");
    x.out
}
