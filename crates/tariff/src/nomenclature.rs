//! The goods nomenclature: the Harmonized System (chapters, headings, subheadings) and the administration's national
//! subdivisions (8 and 10 digits), each with its description, its parent and its validity.
//!
//! The CSV layout is the public HS layout (`section,hscode,description,parent,level`, as in the HS 2022 data
//! package); national files use the same columns, may call the code column `commodity_code`, may leave `parent`
//! and `level` out (they follow from the code), and may add `valid_from` and `valid_to`. See docs/tariff-csv.md.
//!
//! A declared commodity code is valid on a date ([`Nomenclature::check`]) when the longest code of the
//! nomenclature that begins it is in force and is a leaf (it has no subdivisions in force). Digits declared beyond
//! a national leaf must be zeros (a 10-digit declaration of an 8-digit line); digits beyond an HS subheading that
//! the administration has not subdivided are the administration's business and are accepted.

use crate::measures::TariffError;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use time::Date;

/// Most codes one nomenclature may hold: the HS has about 7,000, a national tariff some 20,000–30,000.
pub const MAX_CODES: usize = 200_000;

/// One code of the nomenclature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Node {
    pub code: String,
    pub description: String,
    /// The code this one subdivides; `None` for a chapter.
    pub parent: Option<String>,
    /// Number of digits: 2 chapter, 4 heading, 6 subheading, 8 and 10 national subdivisions.
    pub level: u8,
    /// The HS section (Roman numeral), inherited by national subdivisions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<Date>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<Date>,
}

impl Node {
    pub fn in_force(&self, on: Date) -> bool {
        self.valid_from.is_none_or(|from| from <= on) && self.valid_to.is_none_or(|to| on <= to)
    }

    /// True for the administration's own subdivisions (more than 6 digits).
    pub fn is_national(&self) -> bool {
        self.level > 6
    }
}

/// Why a declared commodity code is not valid on a date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CodeError {
    /// No code of the nomenclature begins it, or it names a subdivision that does not exist.
    Unknown { nearest: Option<String> },
    /// It has subdivisions; one of them must be declared.
    NotLeaf { subdivisions: Vec<String> },
    /// It exists but is not in force on the date.
    NotInForce {
        valid_from: Option<Date>,
        valid_to: Option<Date>,
    },
}

impl CodeError {
    /// A sentence a trader understands.
    pub fn sentence(&self, code: &str, date: Date) -> String {
        match self {
            CodeError::Unknown {
                nearest: Some(nearest),
            } => format!(
                "The commodity code {code} is not in the nomenclature in force on {date}; {nearest} is, but has no \
                 subdivision {code}."
            ),
            CodeError::Unknown { nearest: None } => {
                format!("The commodity code {code} is not in the nomenclature in force on {date}.")
            }
            CodeError::NotLeaf { subdivisions } => {
                let shown: Vec<&str> = subdivisions.iter().take(6).map(String::as_str).collect();
                let more = if subdivisions.len() > shown.len() {
                    format!(" and {} more", subdivisions.len() - shown.len())
                } else {
                    String::new()
                };
                format!(
                    "The commodity code {code} is subdivided; declare one of its subdivisions ({}{more}).",
                    shown.join(", ")
                )
            }
            CodeError::NotInForce {
                valid_from,
                valid_to,
            } => {
                let from = valid_from.map_or("the beginning".to_owned(), |d| d.to_string());
                let to = valid_to.map_or("further notice".to_owned(), |d| d.to_string());
                format!("The commodity code {code} is valid from {from} until {to}, not on {date}.")
            }
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Nomenclature {
    nodes: BTreeMap<String, Vec<Node>>,
    children: HashMap<String, Vec<String>>,
}

const COLUMNS: &[&str] = &[
    "section",
    "hscode",
    "commodity_code",
    "description",
    "parent",
    "level",
    "valid_from",
    "valid_to",
];

impl Nomenclature {
    /// Reads one nomenclature file (HS or national layout). All or nothing.
    pub fn from_csv(text: &str) -> Result<Nomenclature, TariffError> {
        let mut nomenclature = Nomenclature::default();
        nomenclature.add_csv(text)?;
        Ok(nomenclature)
    }

    /// Adds the codes of another file (national subdivisions over the HS). All or nothing: on error `self` is
    /// unchanged.
    pub fn add_csv(&mut self, text: &str) -> Result<usize, TariffError> {
        let (mut reader, index) = crate::csv_file::open(text, COLUMNS)?;
        let code_column = if index.contains_key("hscode") {
            "hscode"
        } else {
            "commodity_code"
        };
        for required in [code_column, "description"] {
            if !index.contains_key(required) {
                return Err(TariffError {
                    line: 1,
                    column: Some(required.to_owned()),
                    message: format!(
                        "The column {required:?} is required (the code column may be called hscode or commodity_code)."
                    ),
                });
            }
        }
        let mut added = Vec::new();
        for record in reader.records() {
            let record = record.map_err(crate::csv_file::record_error)?;
            let line = record.position().map_or(0, |p| p.line() as usize);
            let cell = |name: &str| {
                index
                    .get(name)
                    .and_then(|i| record.get(*i))
                    .filter(|v| !v.is_empty())
            };
            let fail = |name: &str, message: String| TariffError {
                line,
                column: Some(name.to_owned()),
                message,
            };
            let code = cell(code_column).unwrap_or_default();
            // The HS data package ends with a grand-total row that is not a code.
            if code == "TOTAL" {
                continue;
            }
            if !matches!(code.len(), 2 | 4 | 6 | 8 | 10)
                || !code.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(fail(
                    code_column,
                    format!("{code:?} must be 2, 4, 6, 8 or 10 digits."),
                ));
            }
            if self.len() + added.len() >= MAX_CODES {
                return Err(fail(
                    code_column,
                    format!("A nomenclature may hold at most {MAX_CODES} codes."),
                ));
            }
            let description = cell("description")
                .ok_or_else(|| fail("description", "Every code needs a description.".into()))?;
            if description.len() > 2000 {
                return Err(fail(
                    "description",
                    "A description may be at most 2,000 characters.".into(),
                ));
            }
            let parent = match cell("parent") {
                Some("TOTAL") | None if code.len() == 2 => None,
                Some(parent) => {
                    if parent.len() >= code.len() || !code.starts_with(parent) {
                        return Err(fail(
                            "parent",
                            format!(
                                "{parent:?} cannot be the parent of {code}: it must begin the code."
                            ),
                        ));
                    }
                    Some(parent.to_owned())
                }
                // National files may leave the parent out: the code without its last two digits.
                None => Some(code[..code.len() - 2].to_owned()),
            };
            if let Some(level) = cell("level")
                && level != code.len().to_string()
            {
                return Err(fail(
                    "level",
                    format!(
                        "The level {level} does not match the {} digits of {code}.",
                        code.len()
                    ),
                ));
            }
            let date = |name: &str| -> Result<Option<Date>, TariffError> {
                cell(name)
                    .map(|v| {
                        crate::csv_file::date(v).ok_or_else(|| {
                            fail(name, format!("{v:?} is not a date written YYYY-MM-DD."))
                        })
                    })
                    .transpose()
            };
            let valid_from = date("valid_from")?;
            let valid_to = date("valid_to")?;
            if let (Some(from), Some(to)) = (valid_from, valid_to)
                && to < from
            {
                return Err(fail("valid_to", "valid_to is before valid_from.".into()));
            }
            added.push(Node {
                code: code.to_owned(),
                description: description.to_owned(),
                parent,
                level: code.len() as u8,
                section: cell("section").map(str::to_owned),
                valid_from,
                valid_to,
            });
        }
        // Sections are written on HS rows; national rows inherit their ancestor's.
        let count = added.len();
        for node in added {
            let node = Node {
                section: node.section.clone().or_else(|| {
                    node.parent
                        .as_deref()
                        .and_then(|p| self.latest(p))
                        .and_then(|p| p.section.clone())
                }),
                ..node
            };
            if let Some(parent) = &node.parent {
                let siblings = self.children.entry(parent.clone()).or_default();
                if !siblings.contains(&node.code) {
                    siblings.push(node.code.clone());
                }
            }
            self.nodes.entry(node.code.clone()).or_default().push(node);
        }
        Ok(count)
    }

    /// Number of codes (versions of one code counted once).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    fn latest(&self, code: &str) -> Option<&Node> {
        self.nodes.get(code).and_then(|versions| versions.last())
    }

    /// The version of `code` in force on `date`.
    pub fn get(&self, code: &str, date: Date) -> Option<&Node> {
        self.nodes
            .get(code)
            .and_then(|versions| versions.iter().rev().find(|n| n.in_force(date)))
    }

    /// The chain from the chapter down to `code` (inclusive), as in force on `date`.
    pub fn hierarchy(&self, code: &str, date: Date) -> Vec<&Node> {
        let mut chain = Vec::new();
        let mut next = self.get(code, date);
        while let Some(node) = next {
            chain.push(node);
            next = node.parent.as_deref().and_then(|p| self.get(p, date));
            if chain.len() > 6 {
                break;
            }
        }
        chain.reverse();
        chain
    }

    /// The subdivisions of `code` in force on `date`, in code order.
    pub fn children(&self, code: &str, date: Date) -> Vec<&Node> {
        let mut out: Vec<&Node> = self
            .children
            .get(code)
            .into_iter()
            .flatten()
            .filter_map(|c| self.get(c, date))
            .collect();
        out.sort_by(|a, b| a.code.cmp(&b.code));
        out
    }

    /// Checks a declared commodity code (6 to 10 digits) on `date`; returns the leaf it designates.
    pub fn check(&self, code: &str, date: Date) -> Result<&Node, CodeError> {
        let mut any_version = None;
        let nearest = (2..=code.len().min(10))
            .rev()
            .filter_map(|len| code.get(..len))
            .find_map(|prefix| {
                if any_version.is_none() && self.nodes.contains_key(prefix) {
                    any_version = Some(prefix);
                }
                self.get(prefix, date)
            });
        let Some(node) = nearest else {
            return Err(match any_version.and_then(|c| self.latest(c)) {
                Some(node) => CodeError::NotInForce {
                    valid_from: node.valid_from,
                    valid_to: node.valid_to,
                },
                None => CodeError::Unknown { nearest: None },
            });
        };
        let rest = &code[node.code.len()..];
        // A longer code exists but not on this date: say so rather than "unknown".
        if let Some(longer) = any_version
            && longer.len() > node.code.len()
            && let Some(version) = self.latest(longer)
        {
            return Err(CodeError::NotInForce {
                valid_from: version.valid_from,
                valid_to: version.valid_to,
            });
        }
        let subdivisions = self.children(&node.code, date);
        let padding = rest.bytes().all(|b| b == b'0');
        if !subdivisions.is_empty() {
            return Err(if padding {
                CodeError::NotLeaf {
                    subdivisions: subdivisions.iter().map(|n| n.code.clone()).collect(),
                }
            } else {
                CodeError::Unknown {
                    nearest: Some(node.code.clone()),
                }
            });
        }
        if node.is_national() && !padding {
            return Err(CodeError::Unknown {
                nearest: Some(node.code.clone()),
            });
        }
        if node.level < 6 && !padding {
            // A chapter or heading without subheadings in this nomenclature cannot carry a longer code.
            return Err(CodeError::Unknown {
                nearest: Some(node.code.clone()),
            });
        }
        Ok(node)
    }

    /// Codes in force on `date` whose description holds every word of `query` (case-insensitive), or whose code
    /// begins with `query` when it is digits; broader codes first, at most `limit`.
    pub fn search(&self, query: &str, date: Date, limit: usize) -> Vec<&Node> {
        let query = query.trim();
        if query.is_empty() {
            return Vec::new();
        }
        if query.bytes().all(|b| b.is_ascii_digit()) {
            return self
                .nodes
                .range(query.to_owned()..)
                .take_while(|(code, _)| code.starts_with(query))
                .filter_map(|(code, _)| self.get(code, date))
                .take(limit)
                .collect();
        }
        let words: Vec<String> = query
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect();
        let mut found: Vec<&Node> = self
            .nodes
            .keys()
            .filter_map(|code| self.get(code, date))
            .filter(|node| {
                let description = node.description.to_lowercase();
                words.iter().all(|w| description.contains(w.as_str()))
            })
            .collect();
        found.sort_by(|a, b| a.level.cmp(&b.level).then_with(|| a.code.cmp(&b.code)));
        found.truncate(limit);
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const HS: &str = "section,hscode,description,parent,level\n\
        XVI,85,Electrical machinery,TOTAL,2\n\
        XVI,8510,\"Shavers, hair clippers\",85,4\n\
        XVI,851010,Shavers,8510,6\n\
        XVI,851090,Parts,8510,6\n\
        XVI,8511,Ignition equipment,85,4\n\
        TOTAL,TOTAL,Total of all HS2022 commodities,TOTAL,5\n";

    const NATIONAL: &str = "commodity_code,description,valid_from,valid_to\n\
        85101010,Shavers for export markets,,2025-12-31\n\
        85101090,Other shavers,,\n\
        85101020,Shavers with batteries,2026-01-01,\n";

    fn nomenclature() -> Nomenclature {
        let mut n = Nomenclature::from_csv(HS).unwrap();
        n.add_csv(NATIONAL).unwrap();
        n
    }

    #[test]
    fn codes_are_checked_for_existence_leaves_and_dates() {
        let n = nomenclature();
        let day = date!(2026 - 03 - 01);
        // (declared code, expected leaf or error kind)
        let cases: &[(&str, Result<&str, &str>)] = &[
            ("8510900000", Ok("851090")),
            ("85109012", Ok("851090")), // HS leaf not subdivided nationally: national digits accepted
            ("8510109000", Ok("85101090")),
            ("8510102000", Ok("85101020")),
            ("8510100000", Err("not_leaf")),
            ("8510000000", Err("not_leaf")),
            ("8510101000", Err("not_in_force")), // ended 2025-12-31
            ("8510105000", Err("unknown")),
            ("8510109011", Err("unknown")), // digits beyond a national leaf must be zeros
            ("8511000000", Ok("8511")),     // a heading without subheadings is a leaf here
            ("8511120000", Err("unknown")),
            ("9999000000", Err("unknown")),
        ];
        for (code, expected) in cases {
            let got = match n.check(code, day) {
                Ok(node) => Ok(node.code.as_str()),
                Err(CodeError::NotLeaf { .. }) => Err("not_leaf"),
                Err(CodeError::NotInForce { .. }) => Err("not_in_force"),
                Err(CodeError::Unknown { .. }) => Err("unknown"),
            };
            assert_eq!(&got, expected, "{code}");
        }
        assert!(n.check("8510101000", date!(2025 - 06 - 01)).is_ok());
        assert!(matches!(
            n.check("8510102000", date!(2025 - 06 - 01)),
            Err(CodeError::NotInForce { .. })
        ));
    }

    #[test]
    fn hierarchy_children_sections_and_search() {
        let n = nomenclature();
        let day = date!(2026 - 03 - 01);
        let chain: Vec<&str> = n
            .hierarchy("85101090", day)
            .iter()
            .map(|n| n.code.as_str())
            .collect();
        assert_eq!(chain, ["85", "8510", "851010", "85101090"]);
        assert_eq!(
            n.get("85101090", day).unwrap().section.as_deref(),
            Some("XVI")
        );
        let children: Vec<&str> = n
            .children("851010", day)
            .iter()
            .map(|n| n.code.as_str())
            .collect();
        assert_eq!(children, ["85101020", "85101090"]);
        let found: Vec<&str> = n
            .search("SHAVERS", day, 10)
            .iter()
            .map(|n| n.code.as_str())
            .collect();
        assert_eq!(found, ["8510", "851010", "85101020", "85101090"]);
        assert_eq!(n.search("8511", day, 10).len(), 1);
        assert!(n.search("   ", day, 10).is_empty());
        assert_eq!(n.len(), 8);
    }

    #[test]
    fn bad_files_are_refused_whole_with_line_and_column() {
        let cases: &[(&str, usize, &str)] = &[
            ("hscode,description\n851,Odd\n", 2, "hscode"),
            ("hscode,description\n8510,\n", 2, "description"),
            (
                "hscode,description,parent\n851010,Shavers,8511\n",
                2,
                "parent",
            ),
            ("hscode,description,level\n851010,Shavers,4\n", 2, "level"),
            (
                "commodity_code,description,valid_from\n85101010,X,2026-13-01\n",
                2,
                "valid_from",
            ),
            ("hscode,description,colour\n", 1, "colour"),
            ("section,description\n", 1, "commodity_code"),
        ];
        for (text, line, column) in cases {
            let mut n = nomenclature();
            let before = n.clone();
            let error = n.add_csv(text).unwrap_err();
            assert_eq!(
                (error.line, error.column.as_deref()),
                (*line, Some(*column)),
                "{text}"
            );
            assert_eq!(n, before, "a refused file changes nothing");
        }
    }
}
