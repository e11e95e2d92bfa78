//! The goods declaration as Aduana understands it, and the codes it is made of.
//!
//! [`model`] holds the declaration: a tree aligned with the WCO Data Model 3.6 (the classes of the WCO DEC-DMS 2
//! message), with field names that follow the WCO class and attribute names in snake case. Its serde form is the
//! documented JSON twin of the XML message (docs/json-twin.md).
//!
//! [`codes`] holds the newtypes: a commodity code, country, currency, LRN, MRN, party identifier or amount that is
//! invalid cannot be constructed, so the rest of the system never re-checks them.
//!
//! **Architecture invariant**: this crate is pure. No IO, no clock, no randomness.

pub mod codes;
pub mod model;

pub use codes::*;
pub use model::*;
