//! Inspection management (ASYCUDA's allocation of examiners, the WCO guidelines on non-intrusive inspection):
//! which examiner takes a declaration under control, and what an examination found (the inspection act).
//!
//! **Allocation** balances the workload: the examiner with the fewest open inspections takes the next
//! declaration; among equals the choice rotates by a hash of the declaration and the examiner, so that nobody
//! (trader or examiner) can predict or arrange who examines what, while any server, given the same workloads,
//! chooses the same examiner. **The act** records per goods item the quantity and description found, the seals
//! checked, samples taken and the images uploaded (by their SHA-256); its outcome is the control result. Pure.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The most goods items an act describes, images it cites, seals it lists.
pub const MAX_FINDINGS: usize = 999;
pub const MAX_IMAGES: usize = 20;
pub const MAX_SEALS: usize = 50;
/// The longest text of a field of the act.
pub const MAX_TEXT: usize = 500;

/// What was found for one goods item.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemFinding {
    /// The goods item's number (1-based, DE 1/6).
    pub item: u32,
    /// The quantity found, in the item's unit, when counted or weighed.
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub quantity_found: Option<Decimal>,
    /// The goods as the examiner describes them.
    #[serde(default)]
    pub description_found: String,
}

/// An examination's record.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InspectionAct {
    #[serde(default)]
    pub findings: Vec<ItemFinding>,
    /// Whether the seals were checked, and whether they were intact.
    #[serde(default)]
    pub seals_checked: bool,
    #[serde(default)]
    pub seals_intact: bool,
    #[serde(default)]
    pub seal_numbers: Vec<String>,
    /// Whether samples were taken, and what.
    #[serde(default)]
    pub samples_taken: bool,
    #[serde(default)]
    pub sample_description: String,
    /// Photos or scanner images, uploaded as documents: their SHA-256.
    #[serde(default)]
    pub images: Vec<String>,
}

/// A fault of an act: a JSON pointer into it and a sentence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActFault {
    pub pointer: String,
    pub message: String,
}

fn fault(pointer: impl Into<String>, message: impl Into<String>) -> ActFault {
    ActFault {
        pointer: pointer.into(),
        message: message.into(),
    }
}

impl InspectionAct {
    /// Checks the act against the declaration's number of goods items: items that exist, once each; quantities
    /// not negative; texts, seals and images within their limits; images named by a SHA-256.
    pub fn check(&self, items: usize) -> Result<(), ActFault> {
        if self.findings.len() > MAX_FINDINGS {
            return Err(fault(
                "/findings",
                format!("An act describes at most {MAX_FINDINGS} goods items."),
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for (n, finding) in self.findings.iter().enumerate() {
            if finding.item == 0 || finding.item as usize > items {
                return Err(fault(
                    format!("/findings/{n}/item"),
                    format!(
                        "Goods item {} is not in the declaration (it has {items}).",
                        finding.item
                    ),
                ));
            }
            if !seen.insert(finding.item) {
                return Err(fault(
                    format!("/findings/{n}/item"),
                    format!("Goods item {} is described twice.", finding.item),
                ));
            }
            if finding.quantity_found.is_some_and(|q| q.is_sign_negative()) {
                return Err(fault(
                    format!("/findings/{n}/quantity_found"),
                    "A quantity found is not negative.",
                ));
            }
            if finding.description_found.chars().count() > MAX_TEXT {
                return Err(fault(
                    format!("/findings/{n}/description_found"),
                    format!("A description is at most {MAX_TEXT} characters."),
                ));
            }
        }
        if self.seal_numbers.len() > MAX_SEALS
            || self
                .seal_numbers
                .iter()
                .any(|s| s.trim().is_empty() || s.chars().count() > 35)
        {
            return Err(fault(
                "/seal_numbers",
                format!("At most {MAX_SEALS} seal numbers, each of 1 to 35 characters."),
            ));
        }
        if self.sample_description.chars().count() > MAX_TEXT {
            return Err(fault(
                "/sample_description",
                format!("The samples' description is at most {MAX_TEXT} characters."),
            ));
        }
        if self.images.len() > MAX_IMAGES {
            return Err(fault(
                "/images",
                format!("An act cites at most {MAX_IMAGES} images."),
            ));
        }
        for (n, image) in self.images.iter().enumerate() {
            if image.len() != 64
                || !image
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
            {
                return Err(fault(
                    format!("/images/{n}"),
                    "An image is named by its SHA-256 (64 lowercase hex digits).",
                ));
            }
        }
        Ok(())
    }
}

fn rotation(declaration_id: &str, examiner: &str) -> [u8; 32] {
    Sha256::digest(format!("aduana-allocation:{declaration_id}:{examiner}").as_bytes()).into()
}

/// The examiner who takes `declaration_id`: of `examiners` (each with its open inspections), the least loaded;
/// among equals the one whose rotation hash with the declaration is lowest. None when there is no examiner.
pub fn allocate<'a>(declaration_id: &str, examiners: &'a [(String, u64)]) -> Option<&'a str> {
    examiners
        .iter()
        .min_by(|(a, load_a), (b, load_b)| {
            load_a
                .cmp(load_b)
                .then_with(|| rotation(declaration_id, a).cmp(&rotation(declaration_id, b)))
                .then_with(|| a.cmp(b))
        })
        .map(|(id, _)| id.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn examiners(loads: &[u64]) -> Vec<(String, u64)> {
        loads
            .iter()
            .enumerate()
            .map(|(n, l)| (format!("examiner-{n}"), *l))
            .collect()
    }

    #[test]
    fn the_least_loaded_examiner_takes_the_next_declaration() {
        let team = examiners(&[3, 1, 2]);
        assert_eq!(allocate("d-1", &team), Some("examiner-1"));
        assert_eq!(allocate("d-1", &[]), None);
    }

    #[test]
    fn among_equals_allocation_rotates_and_balances() {
        // Allocating 3,000 declarations one after the other, each to the least loaded: every examiner gets a
        // third, and who takes a given declaration is not the same examiner every time.
        let mut team = examiners(&[0, 0, 0]);
        let mut firsts = std::collections::BTreeSet::new();
        for n in 0..3000 {
            let id = format!("declaration-{n}");
            let chosen = allocate(&id, &team).unwrap().to_owned();
            if n % 3 == 0 {
                firsts.insert(chosen.clone());
            }
            team.iter_mut().find(|(e, _)| *e == chosen).unwrap().1 += 1;
        }
        assert!(team.iter().all(|(_, load)| *load == 1000), "{team:?}");
        assert_eq!(
            firsts.len(),
            3,
            "the first of each round is not always the same examiner"
        );
    }

    #[test]
    fn every_server_chooses_the_same_examiner() {
        let team = examiners(&[0, 0, 0, 0]);
        let reversed: Vec<_> = team.iter().rev().cloned().collect();
        for n in 0..100 {
            let id = format!("d-{n}");
            assert_eq!(allocate(&id, &team), allocate(&id, &reversed));
        }
    }

    #[test]
    fn an_act_names_items_of_the_declaration_once_and_images_by_hash() {
        let mut act = InspectionAct {
            findings: vec![ItemFinding {
                item: 1,
                quantity_found: Some(Decimal::from(10)),
                description_found: "Electric shavers".into(),
            }],
            images: vec!["a".repeat(64)],
            ..InspectionAct::default()
        };
        assert_eq!(act.check(1), Ok(()));
        assert_eq!(act.check(0).unwrap_err().pointer, "/findings/0/item");
        act.findings.push(act.findings[0].clone());
        assert_eq!(act.check(2).unwrap_err().pointer, "/findings/1/item");
        act.findings.pop();
        act.findings[0].quantity_found = Some(Decimal::from(-1));
        assert_eq!(
            act.check(1).unwrap_err().pointer,
            "/findings/0/quantity_found"
        );
        act.findings[0].quantity_found = None;
        act.images = vec!["not-a-hash".into()];
        assert_eq!(act.check(1).unwrap_err().pointer, "/images/0");
        act.images = vec!["b".repeat(64); MAX_IMAGES + 1];
        assert_eq!(act.check(1).unwrap_err().pointer, "/images");
    }
}
