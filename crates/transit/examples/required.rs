//! Prints the elements a P5 message requires, nested (a development aid for writing messages):
//! `cargo run -p transit --example required CC029C`.
use message_schema::{Content, Particle};
fn show(p: &'static [Particle], depth: usize) {
    for x in p {
        if x.min == 0 && depth > 0 {
            continue;
        }
        let m = if x.min == 0 { "?" } else { "" };
        match x.content {
            Content::Complex(inner) => {
                println!("{}{}{} {{", "  ".repeat(depth), x.name, m);
                show(inner, depth + 1);
            }
            Content::Simple(f) => println!(
                "{}{}{} {:?} {:?} {:?}",
                "  ".repeat(depth),
                x.name,
                m,
                f.base,
                f.patterns,
                &f.enumeration[..f.enumeration.len().min(5)]
            ),
        }
    }
}
fn main() {
    for name in std::env::args().skip(1) {
        println!("== {name}");
        show(transit::P5.root(&name).unwrap().particles, 0);
    }
}
