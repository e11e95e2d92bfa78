//! The ICS schemas of CC315A and CC313A as a table (`schema_table.rs`, rendered from HMRC's XSDs by the tests),
//! checked by [`message_schema`]: every element in its place and number, no text where a group is, no
//! attributes, and every value within its simple type's facets.

use crate::{Kind, Message, Node, schema_table};
use message_schema::{Root, Schema};

pub use message_schema::SchemaError;
pub use message_schema::schema::MAX_ERRORS;

static ICS: Schema = Schema::new(&[&schema_table::CC315A, &schema_table::CC313A]);

/// The root of `kind`'s schema.
pub fn root(kind: Kind) -> &'static Root {
    match kind {
        Kind::Declaration => &schema_table::CC315A,
        Kind::Amendment => &schema_table::CC313A,
    }
}

/// The message's departures from its schema, in document order (at most [`MAX_ERRORS`]).
pub fn validate(message: &Message) -> Vec<SchemaError> {
    ICS.validate(root(message.kind), &message.root)
}

/// An element's value as its schema type reads it (see [`Schema::value`]).
pub fn value(node: &Node) -> String {
    ICS.value(node)
}
