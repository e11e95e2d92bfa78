//! From the element tree to the declaration model. Every element the reader does not know is reported as
//! `declaration.unexpected_element` with its XPath, never dropped silently; every value goes through the newtypes
//! of the `declaration` crate.

use crate::dom::{Element, NS_DECLARATION, NS_DECLARATION_DS, NS_METADATA};
use declaration::*;
use error_table::{ErrorCode, Problem};
use rust_decimal::Decimal;

/// An element and where it is. The XPath is built only when asked for (an error, or descending into the
/// element's children): most elements are leaves read without error, and building every path was a measurable
/// share of lodgement time.
struct Node<'a> {
    element: &'a Element,
    /// The parent's XPath.
    parent: &'a str,
    /// `Some(k)` when the name repeats among siblings: the element is `Name[k]`.
    index: Option<usize>,
    path: std::cell::OnceCell<String>,
}

impl<'a> Node<'a> {
    fn root(element: &'a Element, path: &str) -> Node<'a> {
        let cell = std::cell::OnceCell::new();
        let _ = cell.set(path.to_owned());
        Node {
            element,
            parent: "",
            index: None,
            path: cell,
        }
    }

    fn name(&self) -> &str {
        &self.element.name
    }

    fn path(&self) -> &str {
        self.path.get_or_init(|| match self.index {
            Some(index) => format!("{}/{}[{index}]", self.parent, self.element.name),
            None => format!("{}/{}", self.parent, self.element.name),
        })
    }
}

#[derive(Default)]
struct Reader {
    problems: Vec<Problem>,
}

impl Reader {
    /// The children of `node`, each with its XPath (`Name[k]` when the name repeats among siblings).
    fn children<'n>(&mut self, node: &'n Node<'_>) -> Vec<Node<'n>> {
        let siblings = &node.element.children;
        let parent = node.path();
        let mut out = Vec::with_capacity(siblings.len());
        for (position, child) in siblings.iter().enumerate() {
            let same = |other: &&Element| other.name == child.name;
            let repeated = siblings.iter().filter(same).nth(1).is_some();
            let index = repeated.then(|| siblings[..position].iter().filter(same).count() + 1);
            let node = Node {
                element: child,
                parent,
                index,
                path: std::cell::OnceCell::new(),
            };
            // DateTimeString is typed in the Declaration_DS namespace by the schema; everything else is DEC-DMS.
            let allowed = child.namespace.as_deref() == Some(NS_DECLARATION)
                || (child.name == "DateTimeString"
                    && child.namespace.as_deref() == Some(NS_DECLARATION_DS));
            if !allowed {
                self.problems.push(Problem::with_message(
                    ErrorCode::UnexpectedElement,
                    node.path().to_owned(),
                    format!(
                        "The element {} is not in the WCO DEC-DMS 2 namespace ({NS_DECLARATION}).",
                        child.name
                    ),
                ));
                continue;
            }
            out.push(node);
        }
        out
    }

    /// An element the model does not interpret. The schema check before mapping has refused everything the
    /// schemas do not allow, so what reaches here is allowed: it is kept (`crate::kept`), not refused.
    fn unexpected(&mut self, _node: &Node) {}

    fn missing(&mut self, parent: &Node, name: &str) {
        self.problems.push(Problem::with_message(
            ErrorCode::MissingElement,
            format!("{}/{name}", parent.path()),
            format!("The element {name} is required in {}.", parent.name()),
        ));
    }

    fn problem_at(&mut self, path: &str, code: ErrorCode, message: &str) {
        self.problems.push(Problem::with_message(
            code,
            path.to_owned(),
            message.to_owned(),
        ));
    }

    /// A value parsed away from its node (read first, understood later), its error reported at `path`.
    fn value_at<T>(&mut self, path: &str, parsed: Result<T, CodeError>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(error) => {
                self.problem_at(path, error.code, &error.to_string());
                None
            }
        }
    }

    /// Stores `value` in `slot`, reporting a repeat if the slot was already filled.
    fn put<T>(&mut self, slot: &mut Option<T>, node: &Node, value: Option<T>) {
        if slot.is_some() {
            self.problems.push(Problem::with_message(
                ErrorCode::RepeatedElement,
                node.path().to_owned(),
                format!("The element {} may appear only once here.", node.name()),
            ));
        }
        if value.is_some() {
            *slot = value;
        }
    }

    /// The text of a leaf element, trimmed. Reports child elements as unexpected.
    fn text(&mut self, node: &Node) -> String {
        for child in self.children(node) {
            self.unexpected(&child);
        }
        node.element.text.trim().to_owned()
    }

    fn code<T>(&mut self, node: &Node, parse: impl Fn(&str) -> Result<T, CodeError>) -> Option<T> {
        let text = self.text(node);
        match parse(&text) {
            Ok(value) => Some(value),
            Err(error) => {
                self.problems.push(Problem::with_message(
                    error.code,
                    node.path().to_owned(),
                    error.to_string(),
                ));
                None
            }
        }
    }

    fn number<T: std::str::FromStr>(&mut self, node: &Node) -> Option<T> {
        let text = self.text(node);
        let ok = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
        match text.parse::<T>() {
            Ok(value) if ok => Some(value),
            _ => {
                self.problems.push(Problem::with_message(
                    ErrorCode::InvalidValue,
                    node.path().to_owned(),
                    format!("{} must be a whole number (got {text:?}).", node.name()),
                ));
                None
            }
        }
    }

    /// A declared number: exact, non-negative, and below the schema's 16 digits (`declaration::MAX_DECLARED_DIGITS`).
    /// A mass (DE 6/1, 6/5): kilograms, so a `unitCode` other than `KGM` is refused rather than read as kilograms.
    fn kilograms(&mut self, node: &Node) -> Option<Decimal> {
        if let Some(unit) = node.element.attribute("unitCode")
            && unit.trim() != "KGM"
        {
            self.problems.push(Problem::with_message(
                ErrorCode::InvalidValue,
                format!("{}/@unitCode", node.path()),
                format!(
                    "{} is declared in kilograms: its unitCode is KGM (or left out), not {unit:?}.",
                    node.name()
                ),
            ));
            return None;
        }
        self.decimal(node)
    }

    fn decimal(&mut self, node: &Node) -> Option<Decimal> {
        let value = self.code(node, parse_decimal)?;
        if !declaration::within_declared_limit(value) {
            self.problems.push(Problem::with_message(
                ErrorCode::AmountTooLarge,
                node.path().to_owned(),
                format!(
                    "{} has more than {} digits before the point; the schema allows at most {} in all.",
                    node.name(),
                    declaration::MAX_DECLARED_DIGITS,
                    declaration::MAX_DECLARED_DIGITS
                ),
            ));
            return None;
        }
        Some(value)
    }

    fn amount(&mut self, node: &Node) -> Option<Amount> {
        let value = self.decimal(node)?;
        let Some(currency) = node.element.attribute("currencyID") else {
            self.problems.push(Problem::with_message(
                ErrorCode::InvalidAmount,
                format!("{}/@currencyID", node.path()),
                format!("{} needs a currencyID attribute.", node.name()),
            ));
            return None;
        };
        match Currency::parse(currency).and_then(|currency| Amount::new(value, currency)) {
            Ok(amount) => Some(amount),
            Err(error) => {
                self.problems.push(Problem::with_message(
                    error.code,
                    format!("{}/@currencyID", node.path()),
                    error.to_string(),
                ));
                None
            }
        }
    }

    fn measure(&mut self, node: &Node) -> Option<Measure> {
        let value = self.decimal(node)?;
        Some(Measure {
            value,
            unit_code: node.element.attribute("unitCode").map(str::to_owned),
        })
    }

    /// A wrapper with one child `child` holding a value (e.g. `Destination/CountryCode`).
    fn wrapped<T>(
        &mut self,
        node: &Node,
        child: &str,
        read: impl Fn(&mut Reader, &Node) -> Option<T>,
    ) -> Option<T> {
        let mut value = None;
        for c in self.children(node) {
            if c.name() == child {
                let v = read(self, &c);
                self.put(&mut value, &c, v);
            } else {
                self.unexpected(&c);
            }
        }
        if value.is_none()
            && !self
                .problems
                .iter()
                .any(|p| p.pointer.starts_with(node.path()))
        {
            self.missing(node, child);
        }
        value
    }
}

/// What a DEC-DMS 2 document holds: a declaration (function code 9) or a function code 13 message about one.
#[derive(Clone, Debug, PartialEq)]
pub enum Message {
    Declaration(Box<Declaration>),
    Additional(Box<AdditionalMessage>),
}

/// Maps the root element (an `md:MetaData` envelope) to a declaration. A function code 13 message is refused here
/// with `declaration.unsupported_function_code` and where to send it instead; [`message`] reads both.
/// The refusal of a function code 13 message sent where a declaration is lodged.
pub(crate) fn not_a_declaration() -> Problem {
    Problem::with_message(
        ErrorCode::UnsupportedFunctionCode,
        "/MetaData/Declaration/FunctionCode",
        "Function code 13 (a correction, invalidation or goods presentation) cannot be lodged as a new \
         declaration: send it about the declaration it names, e.g. an invalidation to \
         /api/v1/declarations/{id}/cancellation.",
    )
}

/// Maps the root element (an `md:MetaData` envelope) to a declaration or a function code 13 message.
pub fn message(root: &Element) -> Result<Message, Vec<Problem>> {
    if root.name != "MetaData" || root.namespace.as_deref() != Some(NS_METADATA) {
        let found = match &root.namespace {
            Some(ns) => format!("{{{ns}}}{}", root.name),
            None => root.name.clone(),
        };
        return Err(vec![Problem::with_message(
            ErrorCode::XmlWrongEnvelope,
            format!("/{}", root.name),
            format!("The root element must be md:MetaData in {NS_METADATA}; found {found}."),
        )]);
    }
    let mut reader = Reader::default();
    let mut found = None;
    for (position, child) in root.children.iter().enumerate() {
        let path = format!("/MetaData/{}", child.name);
        match (child.namespace.as_deref(), child.name.as_str()) {
            (
                Some(NS_METADATA),
                "WCODataModelVersionCode"
                | "WCOTypeName"
                | "ResponsibleCountryCode"
                | "ResponsibleAgencyName"
                | "AgencyAssignedCustomizationCode"
                | "AgencyAssignedCustomizationVersionCode",
            ) => {}
            (Some(NS_DECLARATION), "Declaration") if found.is_none() => found = Some(position),
            _ => reader.problems.push(Problem::with_message(
                ErrorCode::UnexpectedElement,
                path,
                format!(
                    "The element {} is not expected in the MetaData envelope.",
                    child.name
                ),
            )),
        }
    }
    let Some(position) = found else {
        return Err(vec![Problem::with_message(
            ErrorCode::XmlWrongEnvelope,
            "/MetaData/Declaration",
            format!("The MetaData envelope must hold a Declaration in {NS_DECLARATION}."),
        )]);
    };
    let node = Node::root(&root.children[position], "/MetaData/Declaration");
    let message = read_declaration(&mut reader, &node);
    match message {
        Some(message) if reader.problems.is_empty() => Ok(message),
        _ => Err(reader.problems),
    }
}

fn read_declaration(r: &mut Reader, node: &Node) -> Option<Message> {
    let mut function_code = None;
    let mut lrn = None;
    let mut type_code = None;
    let mut id = None;
    let mut goods_item_quantity = None;
    let mut total_package_quantity = None;
    let mut invoice_amount = None;
    let mut currency_exchanges = Vec::new();
    let mut declaration_office_id = None;
    let mut supervising_office_id = None;
    let mut exit_office_id = None;
    let mut declarant = None;
    let mut exporter = None;
    let mut agent = None;
    let mut submitter = None;
    let mut authorisation_holders = Vec::new();
    let mut border_transport_means = None;
    let mut additional_documents = Vec::new();
    let mut additional_information = Vec::new();
    let mut obligation_guarantees = Vec::new();
    let mut amendments = Vec::new();
    let mut consignment = None;
    let mut issue_date_time = None;
    let mut acceptance_date_time = None;
    let mut goods_shipment = None;

    for c in r.children(node) {
        match c.name() {
            "FunctionCode" => {
                let text = r.text(&c);
                let value = FunctionCode::parse(&text);
                if value.is_none() {
                    r.problems.push(Problem::with_message(
                        ErrorCode::UnsupportedFunctionCode,
                        c.path().to_owned(),
                        format!("Function code {text:?} is not accepted: use 9 (original) or 13 (amendment)."),
                    ));
                }
                r.put(&mut function_code, &c, value);
            }
            "FunctionalReferenceID" => {
                let v = r.code(&c, Lrn::parse);
                r.put(&mut lrn, &c, v);
            }
            // Read once the function code is known: a declaration type for 9, a message type for 13.
            "TypeCode" => {
                let v = Some((r.text(&c), c.path().to_owned()));
                r.put(&mut type_code, &c, v);
            }
            "ID" => {
                let v = Some((r.text(&c), c.path().to_owned()));
                r.put(&mut id, &c, v);
            }
            "GoodsItemQuantity" => {
                let v = r.number(&c);
                r.put(&mut goods_item_quantity, &c, v);
            }
            "TotalPackageQuantity" => {
                let v = r.number(&c);
                r.put(&mut total_package_quantity, &c, v);
            }
            "InvoiceAmount" => {
                let v = r.amount(&c);
                r.put(&mut invoice_amount, &c, v);
            }
            "CurrencyExchange" => {
                if let Some(exchange) = currency_exchange(r, &c) {
                    currency_exchanges.push(exchange);
                }
            }
            "DeclarationOfficeID" => {
                let v = Some(r.text(&c));
                r.put(&mut declaration_office_id, &c, v);
            }
            "SupervisingOffice" => {
                let v = r.wrapped(&c, "ID", |r, n| Some(r.text(n)));
                r.put(&mut supervising_office_id, &c, v);
            }
            "ExitOffice" => {
                let v = r.wrapped(&c, "ID", |r, n| Some(r.text(n)));
                r.put(&mut exit_office_id, &c, v);
            }
            "Declarant" => {
                let v = Some(party(r, &c));
                r.put(&mut declarant, &c, v);
            }
            "Exporter" => {
                let v = Some(party(r, &c));
                r.put(&mut exporter, &c, v);
            }
            "Submitter" => {
                let v = Some(party(r, &c));
                r.put(&mut submitter, &c, v);
            }
            "Agent" => {
                let mut value = Agent {
                    id: None,
                    function_code: None,
                };
                for g in r.children(&c) {
                    match g.name() {
                        "ID" => {
                            let v = r.code(&g, PartyId::parse);
                            r.put(&mut value.id, &g, v);
                        }
                        "FunctionCode" => {
                            let v = Some(r.text(&g));
                            r.put(&mut value.function_code, &g, v);
                        }
                        _ => r.unexpected(&g),
                    }
                }
                r.put(&mut agent, &c, Some(value));
            }
            "AuthorisationHolder" => {
                let mut holder_id = None;
                let mut category = None;
                for g in r.children(&c) {
                    match g.name() {
                        "ID" => {
                            let v = r.code(&g, PartyId::parse);
                            r.put(&mut holder_id, &g, v);
                        }
                        "CategoryCode" => {
                            let v = Some(r.text(&g));
                            r.put(&mut category, &g, v);
                        }
                        _ => r.unexpected(&g),
                    }
                }
                match (holder_id, category) {
                    (Some(id), Some(category_code)) => {
                        authorisation_holders.push(AuthorisationHolder { id, category_code })
                    }
                    (None, _) if !has(c.element, "ID") => r.missing(&c, "ID"),
                    (_, None) if !has(c.element, "CategoryCode") => r.missing(&c, "CategoryCode"),
                    _ => {}
                }
            }
            "BorderTransportMeans" => {
                let v = Some(transport_means(r, &c));
                r.put(&mut border_transport_means, &c, v);
            }
            "AdditionalDocument" => additional_documents.extend(additional_document(r, &c)),
            "AdditionalInformation" => additional_information.push(additional_info(r, &c)),
            "ObligationGuarantee" => {
                let mut guarantee = ObligationGuarantee::default();
                for g in r.children(&c) {
                    match g.name() {
                        "ID" => {
                            let v = Some(r.text(&g));
                            r.put(&mut guarantee.id, &g, v);
                        }
                        "ReferenceID" => {
                            let v = Some(r.text(&g));
                            r.put(&mut guarantee.reference_id, &g, v);
                        }
                        "SecurityDetailsCode" => {
                            let v = Some(r.text(&g));
                            r.put(&mut guarantee.security_details_code, &g, v);
                        }
                        _ => r.unexpected(&g),
                    }
                }
                obligation_guarantees.push(guarantee);
            }
            "Amendment" => {
                let mut change_reason_code = None;
                let mut pointers = Vec::new();
                for g in r.children(&c) {
                    match g.name() {
                        "ChangeReasonCode" => {
                            let v = Some(r.text(&g));
                            r.put(&mut change_reason_code, &g, v);
                        }
                        "Pointer" => pointers.push(pointer(r, &g)),
                        _ => r.unexpected(&g),
                    }
                }
                match change_reason_code {
                    Some(change_reason_code) => amendments.push(Amendment {
                        change_reason_code,
                        pointers,
                    }),
                    None => r.missing(&c, "ChangeReasonCode"),
                }
            }
            "Consignment" => {
                let mut value = DeclarationConsignment::default();
                for g in r.children(&c) {
                    match g.name() {
                        "Carrier" => {
                            let v = Some(party(r, &g));
                            r.put(&mut value.carrier, &g, v);
                        }
                        "Freight" => {
                            let v = r.wrapped(&g, "PaymentMethodCode", |r, n| Some(r.text(n)));
                            r.put(&mut value.freight_payment_method_code, &g, v);
                        }
                        "Itinerary" => {
                            for h in r.children(&g) {
                                match h.name() {
                                    "SequenceNumeric" => {
                                        r.number::<u32>(&h);
                                    }
                                    "RoutingCountryCode" => {
                                        value.itinerary.extend(r.code(&h, Country::parse))
                                    }
                                    _ => r.unexpected(&h),
                                }
                            }
                        }
                        _ => r.unexpected(&g),
                    }
                }
                r.put(&mut consignment, &c, Some(value));
            }
            "IssueDateTime" => {
                let v = r.wrapped(&c, "DateTimeString", |r, n| Some(r.text(n)));
                r.put(&mut issue_date_time, &c, v);
            }
            "AcceptanceDateTime" => {
                let v = r.wrapped(&c, "DateTimeString", |r, n| Some(r.text(n)));
                r.put(&mut acceptance_date_time, &c, v);
            }
            "GoodsShipment" => {
                let v = Some(read_goods_shipment(r, &c));
                r.put(&mut goods_shipment, &c, v);
            }
            _ => r.unexpected(&c),
        }
    }

    if function_code == Some(FunctionCode::Amendment) {
        let type_code = match &type_code {
            Some((text, path)) => {
                let value = AdditionalMessageType::parse(text);
                if value.is_none() {
                    r.problems.push(Problem::with_message(
                        ErrorCode::UnsupportedDeclarationType,
                        path.clone(),
                        format!(
                            "A function code 13 message has type COR (correction), INV (invalidation) or GPR \
                             (goods presentation), not {text:?}."
                        ),
                    ));
                }
                value
            }
            None => {
                if !has(node.element, "TypeCode") {
                    r.missing(node, "TypeCode");
                }
                None
            }
        };
        let declaration_id = match &id {
            Some((text, path)) => r.value_at(path, Mrn::parse(text)),
            None => {
                if !has(node.element, "ID") {
                    r.problem_at(
                        node.path(),
                        ErrorCode::MissingElement,
                        "A function code 13 message names the declaration it concerns by its MRN in ID.",
                    );
                }
                None
            }
        };
        if lrn.is_none() && !has(node.element, "FunctionalReferenceID") {
            r.missing(node, "FunctionalReferenceID");
        }
        return Some(Message::Additional(Box::new(AdditionalMessage {
            functional_reference_id: lrn?,
            type_code: type_code?,
            declaration_id: declaration_id?,
            goods_item_quantity,
            total_package_quantity,
            submitter,
            additional_information,
            amendments,
            goods_shipment,
            kept: Vec::new(),
        })));
    }
    let type_code = match &type_code {
        Some((text, path)) => {
            let value = DeclarationType::parse(text);
            if value.is_none() {
                r.problems.push(Problem::with_message(
                    ErrorCode::UnsupportedDeclarationType,
                    path.clone(),
                    format!(
                        "Declaration type {text:?} is not IM, EX or CO followed by an additional type letter \
                         ({}).",
                        DeclarationType::ADDITIONAL_TYPES
                    ),
                ));
            }
            value
        }
        None => None,
    };
    for (slot_empty, name) in [
        (
            function_code.is_none() && !has(node.element, "FunctionCode"),
            "FunctionCode",
        ),
        (
            lrn.is_none() && !has(node.element, "FunctionalReferenceID"),
            "FunctionalReferenceID",
        ),
        (
            type_code.is_none() && !has(node.element, "TypeCode"),
            "TypeCode",
        ),
        (
            goods_shipment.is_none() && !has(node.element, "GoodsShipment"),
            "GoodsShipment",
        ),
    ] {
        if slot_empty {
            r.missing(node, name);
        }
    }

    Some(Message::Declaration(Box::new(Declaration {
        function_code: function_code?,
        lrn: lrn?,
        type_code: type_code?,
        id: id.map(|(text, _)| text),
        goods_item_quantity,
        total_package_quantity,
        invoice_amount,
        currency_exchanges,
        declaration_office_id,
        supervising_office_id,
        exit_office_id,
        declarant,
        exporter,
        agent,
        submitter,
        authorisation_holders,
        border_transport_means,
        additional_documents,
        additional_information,
        obligation_guarantees,
        amendments,
        consignment,
        issue_date_time,
        acceptance_date_time,
        goods_shipment: goods_shipment?,
        kept: Vec::new(),
    })))
}

fn has(element: &Element, name: &str) -> bool {
    element.children.iter().any(|c| c.name == name)
}

fn currency_exchange(r: &mut Reader, node: &Node) -> Option<CurrencyExchange> {
    let mut currency = None;
    let mut rate = None;
    for c in r.children(node) {
        match c.name() {
            "CurrencyTypeCode" => {
                let v = r.code(&c, Currency::parse);
                r.put(&mut currency, &c, v);
            }
            "RateNumeric" => {
                let v = r.decimal(&c);
                r.put(&mut rate, &c, v);
            }
            _ => r.unexpected(&c),
        }
    }
    if currency.is_none() && !has(node.element, "CurrencyTypeCode") {
        r.missing(node, "CurrencyTypeCode");
    }
    if rate.is_none() && !has(node.element, "RateNumeric") {
        r.missing(node, "RateNumeric");
    }
    Some(CurrencyExchange {
        currency: currency?,
        rate: rate?,
    })
}

fn party(r: &mut Reader, node: &Node) -> Party {
    let mut party = Party::default();
    for c in r.children(node) {
        match c.name() {
            "ID" => {
                let v = r.code(&c, PartyId::parse);
                r.put(&mut party.id, &c, v);
            }
            "Name" => {
                let v = Some(r.text(&c));
                r.put(&mut party.name, &c, v);
            }
            "Address" => {
                let mut address = Address::default();
                for g in r.children(&c) {
                    match g.name() {
                        "Line" => {
                            let v = Some(r.text(&g));
                            r.put(&mut address.line, &g, v);
                        }
                        "CityName" => {
                            let v = Some(r.text(&g));
                            r.put(&mut address.city_name, &g, v);
                        }
                        "PostcodeID" => {
                            let v = Some(r.text(&g));
                            r.put(&mut address.postcode_id, &g, v);
                        }
                        "CountryCode" => {
                            let v = r.code(&g, Country::parse);
                            r.put(&mut address.country_code, &g, v);
                        }
                        _ => r.unexpected(&g),
                    }
                }
                r.put(&mut party.address, &c, Some(address));
            }
            _ => r.unexpected(&c),
        }
    }
    party
}

fn transport_means(r: &mut Reader, node: &Node) -> TransportMeans {
    let mut means = TransportMeans::default();
    for c in r.children(node) {
        match c.name() {
            "ID" => {
                let v = Some(r.text(&c));
                r.put(&mut means.id, &c, v);
            }
            "IdentificationTypeCode" => {
                let v = Some(r.text(&c));
                r.put(&mut means.identification_type_code, &c, v);
            }
            "ModeCode" => {
                let v = Some(r.text(&c));
                r.put(&mut means.mode_code, &c, v);
            }
            "RegistrationNationalityCode" => {
                let v = r.code(&c, Country::parse);
                r.put(&mut means.registration_nationality_code, &c, v);
            }
            _ => r.unexpected(&c),
        }
    }
    means
}

fn additional_document(r: &mut Reader, node: &Node) -> Option<AdditionalDocument> {
    let mut category_code = None;
    let mut type_code = None;
    let mut document = AdditionalDocument {
        category_code: String::new(),
        type_code: String::new(),
        id: None,
        name: None,
        lpco_exemption_code: None,
        write_off_quantity: None,
    };
    for c in r.children(node) {
        match c.name() {
            "CategoryCode" => {
                let v = Some(r.text(&c));
                r.put(&mut category_code, &c, v);
            }
            "TypeCode" => {
                let v = Some(r.text(&c));
                r.put(&mut type_code, &c, v);
            }
            "ID" => {
                let v = Some(r.text(&c));
                r.put(&mut document.id, &c, v);
            }
            "Name" => {
                let v = Some(r.text(&c));
                r.put(&mut document.name, &c, v);
            }
            "LPCOExemptionCode" => {
                let v = Some(r.text(&c));
                r.put(&mut document.lpco_exemption_code, &c, v);
            }
            "WriteOff" => {
                let v = r.wrapped(&c, "QuantityQuantity", |r, n| r.measure(n));
                r.put(&mut document.write_off_quantity, &c, v);
            }
            _ => r.unexpected(&c),
        }
    }
    if category_code.is_none() {
        r.missing(node, "CategoryCode");
    }
    if type_code.is_none() {
        r.missing(node, "TypeCode");
    }
    document.category_code = category_code?;
    document.type_code = type_code?;
    Some(document)
}

fn pointer(r: &mut Reader, node: &Node) -> Pointer {
    let mut pointer = Pointer::default();
    for c in r.children(node) {
        match c.name() {
            "SequenceNumeric" => {
                let v = r.number(&c);
                r.put(&mut pointer.sequence_numeric, &c, v);
            }
            "DocumentSectionCode" => {
                let v = Some(r.text(&c));
                r.put(&mut pointer.document_section_code, &c, v);
            }
            "TagID" => {
                let v = Some(r.text(&c));
                r.put(&mut pointer.tag_id, &c, v);
            }
            _ => r.unexpected(&c),
        }
    }
    pointer
}

fn additional_info(r: &mut Reader, node: &Node) -> AdditionalInformation {
    let mut info = AdditionalInformation::default();
    for c in r.children(node) {
        match c.name() {
            "StatementCode" => {
                let v = Some(r.text(&c));
                r.put(&mut info.statement_code, &c, v);
            }
            "StatementDescription" => {
                let v = Some(r.text(&c));
                r.put(&mut info.statement_description, &c, v);
            }
            "StatementTypeCode" => {
                let v = Some(r.text(&c));
                r.put(&mut info.statement_type_code, &c, v);
            }
            "Pointer" => info.pointers.push(pointer(r, &c)),
            _ => r.unexpected(&c),
        }
    }
    info
}

fn previous_document(r: &mut Reader, node: &Node) -> Option<PreviousDocument> {
    let mut category_code = None;
    let mut type_code = None;
    let mut id = None;
    let mut line_numeric = None;
    for c in r.children(node) {
        match c.name() {
            "CategoryCode" => {
                let v = Some(r.text(&c));
                r.put(&mut category_code, &c, v);
            }
            "TypeCode" => {
                let v = Some(r.text(&c));
                r.put(&mut type_code, &c, v);
            }
            "ID" => {
                let v = Some(r.text(&c));
                r.put(&mut id, &c, v);
            }
            "LineNumeric" => {
                let v = r.number(&c);
                r.put(&mut line_numeric, &c, v);
            }
            _ => r.unexpected(&c),
        }
    }
    for (missing, name) in [
        (category_code.is_none(), "CategoryCode"),
        (type_code.is_none(), "TypeCode"),
        (id.is_none(), "ID"),
    ] {
        if missing {
            r.missing(node, name);
        }
    }
    Some(PreviousDocument {
        category_code: category_code?,
        type_code: type_code?,
        id: id?,
        line_numeric,
    })
}

fn role_party(r: &mut Reader, node: &Node) -> Option<RoleParty> {
    let mut id = None;
    let mut role_code = None;
    for c in r.children(node) {
        match c.name() {
            "ID" => {
                let v = r.code(&c, PartyId::parse);
                r.put(&mut id, &c, v);
            }
            "RoleCode" => {
                let v = Some(r.text(&c));
                r.put(&mut role_code, &c, v);
            }
            _ => r.unexpected(&c),
        }
    }
    if role_code.is_none() {
        r.missing(node, "RoleCode");
    }
    Some(RoleParty {
        id: id?,
        role_code: role_code?,
    })
}

fn transport_equipment(r: &mut Reader, node: &Node) -> Option<TransportEquipment> {
    let mut sequence = None;
    let mut equipment = TransportEquipment::default();
    for c in r.children(node) {
        match c.name() {
            "SequenceNumeric" => {
                let v = r.number(&c);
                r.put(&mut sequence, &c, v);
            }
            "ID" => {
                let v = Some(r.text(&c));
                r.put(&mut equipment.id, &c, v);
            }
            "Seal" => {
                let mut seal_sequence = None;
                let mut seal_id = None;
                for g in r.children(&c) {
                    match g.name() {
                        "SequenceNumeric" => {
                            let v = r.number(&g);
                            r.put(&mut seal_sequence, &g, v);
                        }
                        "ID" => {
                            let v = Some(r.text(&g));
                            r.put(&mut seal_id, &g, v);
                        }
                        _ => r.unexpected(&g),
                    }
                }
                if let (Some(sequence_numeric), Some(id)) = (seal_sequence, seal_id) {
                    equipment.seals.push(Seal {
                        sequence_numeric,
                        id,
                    });
                } else {
                    r.missing(&c, "SequenceNumeric and ID");
                }
            }
            _ => r.unexpected(&c),
        }
    }
    if sequence.is_none() && !has(node.element, "SequenceNumeric") {
        r.missing(node, "SequenceNumeric");
    }
    equipment.sequence_numeric = sequence?;
    Some(equipment)
}

fn charge_deduction(r: &mut Reader, node: &Node) -> Option<ChargeDeduction> {
    let mut type_code = None;
    let mut amount = None;
    for c in r.children(node) {
        match c.name() {
            "ChargesTypeCode" => {
                let v = Some(r.text(&c));
                r.put(&mut type_code, &c, v);
            }
            "OtherChargeDeductionAmount" => {
                let v = r.amount(&c);
                r.put(&mut amount, &c, v);
            }
            _ => r.unexpected(&c),
        }
    }
    if type_code.is_none() {
        r.missing(node, "ChargesTypeCode");
    }
    if amount.is_none() && !has(node.element, "OtherChargeDeductionAmount") {
        r.missing(node, "OtherChargeDeductionAmount");
    }
    Some(ChargeDeduction {
        charges_type_code: type_code?,
        amount: amount?,
    })
}

fn read_goods_shipment(r: &mut Reader, node: &Node) -> GoodsShipment {
    let mut shipment = GoodsShipment::default();
    for c in r.children(node) {
        match c.name() {
            "TransactionNatureCode" => {
                let v = Some(r.text(&c));
                r.put(&mut shipment.transaction_nature_code, &c, v);
            }
            "Importer" => {
                let v = Some(party(r, &c));
                r.put(&mut shipment.importer, &c, v);
            }
            "Seller" => {
                let v = Some(party(r, &c));
                r.put(&mut shipment.seller, &c, v);
            }
            "Buyer" => {
                let v = Some(party(r, &c));
                r.put(&mut shipment.buyer, &c, v);
            }
            "Consignee" => {
                let v = Some(party(r, &c));
                r.put(&mut shipment.consignee, &c, v);
            }
            "Consignment" => {
                let v = Some(goods_consignment(r, &c));
                r.put(&mut shipment.consignment, &c, v);
            }
            "Destination" => {
                let v = r.wrapped(&c, "CountryCode", |r, n| r.code(n, Country::parse));
                r.put(&mut shipment.destination_country, &c, v);
            }
            "ExportCountry" => {
                let v = r.wrapped(&c, "ID", |r, n| r.code(n, Country::parse));
                r.put(&mut shipment.export_country, &c, v);
            }
            "TradeTerms" => {
                let mut terms = TradeTerms::default();
                for g in r.children(&c) {
                    match g.name() {
                        "ConditionCode" => {
                            let v = Some(r.text(&g));
                            r.put(&mut terms.condition_code, &g, v);
                        }
                        "LocationID" => {
                            let v = Some(r.text(&g));
                            r.put(&mut terms.location_id, &g, v);
                        }
                        _ => r.unexpected(&g),
                    }
                }
                r.put(&mut shipment.trade_terms, &c, Some(terms));
            }
            "PreviousDocument" => shipment.previous_documents.extend(previous_document(r, &c)),
            "UCR" => {
                let v = r.wrapped(&c, "TraderAssignedReferenceID", |r, n| Some(r.text(n)));
                r.put(&mut shipment.ucr, &c, v);
            }
            "Warehouse" => {
                let mut warehouse = Warehouse::default();
                for g in r.children(&c) {
                    match g.name() {
                        "ID" => {
                            let v = Some(r.text(&g));
                            r.put(&mut warehouse.id, &g, v);
                        }
                        "TypeCode" => {
                            let v = Some(r.text(&g));
                            r.put(&mut warehouse.type_code, &g, v);
                        }
                        _ => r.unexpected(&g),
                    }
                }
                r.put(&mut shipment.warehouse, &c, Some(warehouse));
            }
            "DomesticDutyTaxParty" => shipment.domestic_duty_tax_parties.extend(role_party(r, &c)),
            "CustomsValuation" => {
                let mut valuation = ShipmentValuation::default();
                for g in r.children(&c) {
                    match g.name() {
                        "FreightChargeAmount" => {
                            let v = r.amount(&g);
                            r.put(&mut valuation.freight_charge_amount, &g, v);
                        }
                        "ChargeDeduction" => {
                            valuation.charge_deductions.extend(charge_deduction(r, &g))
                        }
                        _ => r.unexpected(&g),
                    }
                }
                r.put(&mut shipment.customs_valuation, &c, Some(valuation));
            }
            "GovernmentAgencyGoodsItem" => {
                if shipment.goods_items.len() > MAX_GOODS_ITEMS {
                    continue; // reported once by the rules; do not spend effort on the rest
                }
                shipment.goods_items.push(goods_item(r, &c));
            }
            _ => r.unexpected(&c),
        }
    }
    shipment
}

fn goods_consignment(r: &mut Reader, node: &Node) -> Consignment {
    let mut consignment = Consignment::default();
    for c in r.children(node) {
        match c.name() {
            "ContainerCode" => {
                let v = Some(r.text(&c));
                r.put(&mut consignment.container_code, &c, v);
            }
            "ArrivalTransportMeans" => {
                let v = Some(transport_means(r, &c));
                r.put(&mut consignment.arrival_transport_means, &c, v);
            }
            "DepartureTransportMeans" => {
                let v = Some(transport_means(r, &c));
                r.put(&mut consignment.departure_transport_means, &c, v);
            }
            "GoodsLocation" => {
                let mut location = GoodsLocation::default();
                for g in r.children(&c) {
                    match g.name() {
                        "Name" => {
                            let v = Some(r.text(&g));
                            r.put(&mut location.name, &g, v);
                        }
                        "TypeCode" => {
                            let v = Some(r.text(&g));
                            r.put(&mut location.type_code, &g, v);
                        }
                        "Address" => {
                            for h in r.children(&g) {
                                match h.name() {
                                    "TypeCode" => {
                                        let v = Some(r.text(&h));
                                        r.put(&mut location.address_type_code, &h, v);
                                    }
                                    "CountryCode" => {
                                        let v = r.code(&h, Country::parse);
                                        r.put(&mut location.country_code, &h, v);
                                    }
                                    _ => r.unexpected(&h),
                                }
                            }
                        }
                        _ => r.unexpected(&g),
                    }
                }
                r.put(&mut consignment.goods_location, &c, Some(location));
            }
            "TransportEquipment" => consignment
                .transport_equipment
                .extend(transport_equipment(r, &c)),
            _ => r.unexpected(&c),
        }
    }
    consignment
}

fn goods_item(r: &mut Reader, node: &Node) -> GoodsItem {
    let mut item = GoodsItem::default();
    let mut sequence = None;
    for c in r.children(node) {
        match c.name() {
            "SequenceNumeric" => {
                let v = r.number(&c);
                r.put(&mut sequence, &c, v);
            }
            "AdditionalDocument" => item.additional_documents.extend(additional_document(r, &c)),
            "AdditionalInformation" => item.additional_information.push(additional_info(r, &c)),
            "Commodity" => commodity(r, &c, &mut item),
            "Consignee" => {
                let v = Some(party(r, &c));
                r.put(&mut item.consignee, &c, v);
            }
            "CustomsValuation" => {
                for g in r.children(&c) {
                    match g.name() {
                        "MethodCode" => {
                            let v = Some(r.text(&g));
                            r.put(&mut item.valuation_method_code, &g, v);
                        }
                        "ChargeDeduction" => item.charge_deductions.extend(charge_deduction(r, &g)),
                        _ => r.unexpected(&g),
                    }
                }
            }
            "CustomsValueAmount" => {
                let v = r.amount(&c);
                r.put(&mut item.customs_value_amount, &c, v);
            }
            "StatisticalValueAmount" => {
                let v = r.amount(&c);
                r.put(&mut item.statistical_value_amount, &c, v);
            }
            "DomesticDutyTaxParty" => item.domestic_duty_tax_parties.extend(role_party(r, &c)),
            "ExportCountry" => {
                let v = r.wrapped(&c, "ID", |r, n| r.code(n, Country::parse));
                r.put(&mut item.export_country, &c, v);
            }
            "GovernmentProcedure" => {
                let mut current = None;
                let mut previous = None;
                for g in r.children(&c) {
                    match g.name() {
                        "CurrentCode" => {
                            let v = Some(r.text(&g));
                            r.put(&mut current, &g, v);
                        }
                        "PreviousCode" => {
                            let v = Some(r.text(&g));
                            r.put(&mut previous, &g, v);
                        }
                        _ => r.unexpected(&g),
                    }
                }
                match current {
                    Some(current_code) => item.procedures.push(Procedure {
                        current_code,
                        previous_code: previous,
                    }),
                    None => r.missing(&c, "CurrentCode"),
                }
            }
            "Origin" => {
                let mut country = None;
                let mut type_code = None;
                for g in r.children(&c) {
                    match g.name() {
                        "CountryCode" => {
                            let v = r.code(&g, Country::parse);
                            r.put(&mut country, &g, v);
                        }
                        "TypeCode" => {
                            let v = Some(r.text(&g));
                            r.put(&mut type_code, &g, v);
                        }
                        _ => r.unexpected(&g),
                    }
                }
                if let Some(country_code) = country {
                    item.origins.push(Origin {
                        country_code,
                        type_code: type_code.unwrap_or_else(|| "1".to_owned()),
                    });
                } else if !has(c.element, "CountryCode") {
                    r.missing(&c, "CountryCode");
                }
            }
            "Packaging" => {
                let mut packaging = Packaging::default();
                let mut sequence = None;
                for g in r.children(&c) {
                    match g.name() {
                        "SequenceNumeric" => {
                            let v = r.number(&g);
                            r.put(&mut sequence, &g, v);
                        }
                        "MarksNumbersID" => {
                            let v = Some(r.text(&g));
                            r.put(&mut packaging.marks_numbers_id, &g, v);
                        }
                        "QuantityQuantity" => {
                            let v = r.number(&g);
                            r.put(&mut packaging.quantity, &g, v);
                        }
                        "TypeCode" => {
                            let v = Some(r.text(&g));
                            r.put(&mut packaging.type_code, &g, v);
                        }
                        _ => r.unexpected(&g),
                    }
                }
                packaging.sequence_numeric = sequence.unwrap_or(1);
                item.packaging.push(packaging);
            }
            "PreviousDocument" => item.previous_documents.extend(previous_document(r, &c)),
            "TransactionNatureCode" => {
                let v = Some(r.text(&c));
                r.put(&mut item.transaction_nature_code, &c, v);
            }
            "ValuationAdjustment" => {
                let v = r.wrapped(&c, "AdditionCode", |r, n| Some(r.text(n)));
                r.put(&mut item.valuation_adjustment_code, &c, v);
            }
            _ => r.unexpected(&c),
        }
    }
    match sequence {
        Some(sequence) => item.sequence_numeric = sequence,
        None if !has(node.element, "SequenceNumeric") => r.missing(node, "SequenceNumeric"),
        None => {}
    }
    item
}

fn commodity(r: &mut Reader, node: &Node, item: &mut GoodsItem) {
    for c in r.children(node) {
        match c.name() {
            "Description" => {
                let v = Some(r.text(&c));
                r.put(&mut item.description, &c, v);
            }
            "Classification" => {
                let mut id = None;
                let mut type_code = None;
                for g in r.children(&c) {
                    match g.name() {
                        "ID" => {
                            let v = Some(r.text(&g));
                            r.put(&mut id, &g, v);
                        }
                        "IdentificationTypeCode" => {
                            let v = Some(r.text(&g));
                            r.put(&mut type_code, &g, v);
                        }
                        _ => r.unexpected(&g),
                    }
                }
                match (id, type_code) {
                    (Some(id), Some(identification_type_code)) => {
                        item.classifications.push(Classification {
                            id,
                            identification_type_code,
                        })
                    }
                    _ => r.missing(&c, "ID and IdentificationTypeCode"),
                }
            }
            "DutyTaxFee" => {
                let mut fee = DutyTaxFee::default();
                for g in r.children(&c) {
                    match g.name() {
                        "DutyRegimeCode" => {
                            let v = Some(r.text(&g));
                            r.put(&mut fee.duty_regime_code, &g, v);
                        }
                        "TypeCode" => {
                            let v = Some(r.text(&g));
                            r.put(&mut fee.type_code, &g, v);
                        }
                        "QuotaOrderID" => {
                            let v = Some(r.text(&g));
                            r.put(&mut fee.quota_order_id, &g, v);
                        }
                        "SpecificTaxBaseQuantity" => {
                            let v = r.measure(&g);
                            r.put(&mut fee.specific_tax_base_quantity, &g, v);
                        }
                        "Payment" => {
                            for h in r.children(&g) {
                                match h.name() {
                                    "MethodCode" => {
                                        let v = Some(r.text(&h));
                                        r.put(&mut fee.payment_method_code, &h, v);
                                    }
                                    "TaxAssessedAmount" => {
                                        let v = r.amount(&h);
                                        r.put(&mut fee.tax_assessed_amount, &h, v);
                                    }
                                    "PaymentAmount" => {
                                        let v = r.amount(&h);
                                        r.put(&mut fee.payment_amount, &h, v);
                                    }
                                    _ => r.unexpected(&h),
                                }
                            }
                        }
                        _ => r.unexpected(&g),
                    }
                }
                item.duty_tax_fees.push(fee);
            }
            "GoodsMeasure" => {
                for g in r.children(&c) {
                    match g.name() {
                        "GrossMassMeasure" => {
                            let v = r.kilograms(&g);
                            r.put(&mut item.gross_mass_kg, &g, v);
                        }
                        "NetNetWeightMeasure" => {
                            let v = r.kilograms(&g);
                            r.put(&mut item.net_mass_kg, &g, v);
                        }
                        "TariffQuantity" => {
                            let v = r.measure(&g);
                            r.put(&mut item.tariff_quantity, &g, v);
                        }
                        _ => r.unexpected(&g),
                    }
                }
            }
            "InvoiceLine" => {
                let v = r.wrapped(&c, "ItemChargeAmount", |r, n| r.amount(n));
                r.put(&mut item.item_charge_amount, &c, v);
            }
            "TransportEquipment" => item.transport_equipment.extend(transport_equipment(r, &c)),
            _ => r.unexpected(&c),
        }
    }
}
