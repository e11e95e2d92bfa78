//! DE 4/8, method of payment: what each letter means for settlement, as the administration's table.

use declaration::PaymentMethod;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How a tax line is settled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Settles {
    /// Paid before release (cash, card, transfer, a payment order through a bank).
    Immediate,
    /// Paid at once from the trader's cash account with customs.
    CashAccount,
    /// Deferred to the period's end on the deferment account the declaration names (DE 2/6).
    Deferred,
    /// Secured by the guarantee the declaration names (DE 8/3), not collected.
    Guaranteed,
}

impl Settles {
    pub const ALL: [Settles; 4] = [
        Settles::Immediate,
        Settles::CashAccount,
        Settles::Deferred,
        Settles::Guaranteed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Settles::Immediate => "immediate",
            Settles::CashAccount => "cash_account",
            Settles::Deferred => "deferred",
            Settles::Guaranteed => "guaranteed",
        }
    }

    pub fn parse(text: &str) -> Option<Settles> {
        Settles::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// The administration's reading of DE 4/8: letters not in the table are paid before release.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Methods {
    table: BTreeMap<PaymentMethod, Settles>,
}

impl Methods {
    /// The UK CDS reading (Appendix 2 of the CDS tariff): E, F and G deferred (deferment, postponed VAT); M, R and S
    /// secured (cash deposit, guarantee of the account, individual guarantee); P from the cash account; everything
    /// else (A cash, B card, C cheque, D other, H transfer, …) paid before release.
    pub fn uk() -> Methods {
        let mut table = BTreeMap::new();
        for (letters, settles) in [
            ("EFG", Settles::Deferred),
            ("MRS", Settles::Guaranteed),
            ("P", Settles::CashAccount),
        ] {
            for letter in letters.chars() {
                table.insert(
                    PaymentMethod::parse(&letter.to_string()).expect("a capital letter"),
                    settles,
                );
            }
        }
        Methods { table }
    }

    /// A table of the administration's own (its configuration).
    pub fn new(table: BTreeMap<PaymentMethod, Settles>) -> Methods {
        Methods { table }
    }

    pub fn settles(&self, method: PaymentMethod) -> Settles {
        self.table
            .get(&method)
            .copied()
            .unwrap_or(Settles::Immediate)
    }

    /// The letters read otherwise than "paid before release", for documentation and configuration checks.
    pub fn entries(&self) -> impl Iterator<Item = (PaymentMethod, Settles)> + '_ {
        self.table.iter().map(|(m, s)| (*m, *s))
    }
}

impl Default for Methods {
    fn default() -> Self {
        Methods::uk()
    }
}
