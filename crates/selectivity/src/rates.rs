//! Lanes with controlled rates, as customs administrations run them.
//!
//! Per office and regime the administration sets the share of declarations it expects in each control lane (red,
//! yellow, blue). The rules select what they select; when they select less than the expected share, declarations
//! the rules left green are *topped up* into the lanes short of their share, in the order red > yellow > blue, by
//! a draw passed in (so the decision stays deterministic and replayable). Authorised operators (AEO) are counted
//! apart and expected at a reduced share. When the rules already select more than the share, nothing is topped up
//! (a rule hit is never undone).
//!
//! How the top-up chooses: with `n` declarations seen in a population, `s_L` of them in lane L, and `g` of them
//! left green by the rules, a declaration the rules leave green goes to lane L with probability
//! `(target_L × (n + 1) − s_L) / (expected greens to come)`, clamped to [0, 1] — the deficit spread over the greens
//! expected, so that the observed share converges on the target without making every k-th declaration predictable.
//! The simulation test holds the observed shares within a stated tolerance over 100,000 declarations.
//!
//! **Architecture invariant**: pure. The counts ([`RateState`]) are passed in and returned; storage keeps them.

use crate::Lane;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Shares in basis points (1 % = 100).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaneRates {
    pub red: u32,
    pub yellow: u32,
    pub blue: u32,
    /// The share AEO declarations are expected at, as a percentage of the others' (e.g. 50).
    pub aeo_percent: u32,
    /// The minimum random rate: this share of the declarations no rule selects is drawn for a documentary check
    /// (yellow) whatever the counts, so that every population keeps being sampled (AEOs at `aeo_percent` of it).
    #[serde(default)]
    pub random: u32,
}

impl LaneRates {
    /// The minimum random rate for a population, in basis points.
    pub fn random_for(&self, aeo: bool) -> u32 {
        if aeo {
            self.random * self.aeo_percent / 100
        } else {
            self.random
        }
    }

    fn target(&self, lane: Lane, aeo: bool) -> f64 {
        let bp = match lane {
            Lane::Red => self.red,
            Lane::Yellow => self.yellow,
            Lane::Blue => self.blue,
            Lane::Green => 0,
        };
        let share = f64::from(bp) / 10_000.0;
        if aeo {
            share * f64::from(self.aeo_percent) / 100.0
        } else {
            share
        }
    }
}

/// Most (office, regime) rows a rate table may hold.
pub const MAX_RATE_ROWS: usize = 10_000;

/// The administration's rates: a default, and rows per office and regime (the first two digits of the procedure).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateTable {
    pub default: LaneRates,
    pub rows: BTreeMap<(String, String), LaneRates>,
}

impl RateTable {
    /// A CSV: a header `office,regime,red,yellow,blue,aeo_percent` (optionally `,random`), then rows; rates in
    /// percent with up to two decimals; an office or regime of `*` is the default. Errors name the line.
    pub fn parse(text: &str) -> Result<RateTable, String> {
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
        let columns = match lines.next() {
            Some((_, header)) if header.trim() == "office,regime,red,yellow,blue,aeo_percent" => 6,
            Some((_, header))
                if header.trim() == "office,regime,red,yellow,blue,aeo_percent,random" =>
            {
                7
            }
            Some((n, _)) => {
                return Err(format!(
                    "line {}: the header must be office,regime,red,yellow,blue,aeo_percent (and optionally ,random)",
                    n + 1
                ));
            }
            None => return Err("the rate table is empty".into()),
        };
        let mut table = RateTable {
            default: LaneRates {
                red: 0,
                yellow: 0,
                blue: 0,
                aeo_percent: 100,
                random: 0,
            },
            rows: BTreeMap::new(),
        };
        for (n, line) in lines {
            let line_no = n + 1;
            let cells: Vec<&str> = line.split(',').map(str::trim).collect();
            if cells.len() != columns {
                return Err(format!(
                    "line {line_no}: {columns} columns expected, found {}",
                    cells.len()
                ));
            }
            let percent = |i: usize, name: &str| -> Result<u32, String> {
                let text = cells[i];
                let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
                let valid = !whole.is_empty()
                    && whole.bytes().all(|b| b.is_ascii_digit())
                    && fraction.len() <= 2
                    && fraction.bytes().all(|b| b.is_ascii_digit());
                let bp = if valid {
                    whole.parse::<u32>().ok().and_then(|w| {
                        let f: u32 = format!("{fraction:0<2}").parse().ok()?;
                        w.checked_mul(100)?.checked_add(f)
                    })
                } else {
                    None
                };
                match bp {
                    Some(bp) if bp <= 10_000 => Ok(bp),
                    _ => Err(format!(
                        "line {line_no}, column {name}: {text:?} is not a percentage from 0 to 100 with at most two decimals"
                    )),
                }
            };
            let rates = LaneRates {
                red: percent(2, "red")?,
                yellow: percent(3, "yellow")?,
                blue: percent(4, "blue")?,
                aeo_percent: percent(5, "aeo_percent")? / 100,
                random: if columns == 7 {
                    percent(6, "random")?
                } else {
                    0
                },
            };
            if rates.red + rates.yellow + rates.blue > 10_000 {
                return Err(format!(
                    "line {line_no}: the lanes' shares add up to more than 100 %"
                ));
            }
            if cells[0] == "*" && cells[1] == "*" {
                table.default = rates;
            } else {
                if table.rows.len() >= MAX_RATE_ROWS {
                    return Err(format!("line {line_no}: more than {MAX_RATE_ROWS} rows"));
                }
                table
                    .rows
                    .insert((cells[0].to_owned(), cells[1].to_owned()), rates);
            }
        }
        Ok(table)
    }

    /// The rates for an office and regime: the exact row, else the office's `*` row, else the default.
    pub fn rates(&self, office: &str, regime: &str) -> LaneRates {
        self.rows
            .get(&(office.to_owned(), regime.to_owned()))
            .or_else(|| self.rows.get(&(office.to_owned(), "*".to_owned())))
            .or_else(|| self.rows.get(&("*".to_owned(), regime.to_owned())))
            .copied()
            .unwrap_or(self.default)
    }
}

/// What has been decided so far in one population (office, regime, AEO or not).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateState {
    pub seen: u64,
    /// Left green by the rules.
    pub rule_green: u64,
    /// In each control lane, by rule or top-up: red, yellow, blue.
    pub selected: [u64; 3],
}

const CONTROL_LANES: [Lane; 3] = [Lane::Red, Lane::Yellow, Lane::Blue];

impl RateState {
    /// Counts a decision already taken (replaying the day's decisions after a restart).
    pub fn record(&mut self, rule_lane: Lane, lane: Lane) {
        self.seen += 1;
        let index = |lane: Lane| CONTROL_LANES.iter().position(|l| *l == lane);
        if let Some(i) = index(rule_lane) {
            self.selected[i] += 1;
            return;
        }
        self.rule_green += 1;
        if let Some(i) = index(lane) {
            self.selected[i] += 1;
        }
    }
}

/// Most populations one day's counts may hold (offices × regimes × AEO or not).
pub const MAX_POPULATIONS: usize = 100_000;

/// The counts of every population for one UTC day: the controller aims at the shares over each day, and starts
/// afresh the next.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RateBook {
    day: Option<time::Date>,
    states: BTreeMap<String, RateState>,
}

impl RateBook {
    /// The name of a population: office, regime (first two digits of the procedure) and AEO or not.
    pub fn population(office: &str, regime: &str, aeo: bool) -> String {
        format!("{office}/{regime}/{}", if aeo { "aeo" } else { "other" })
    }

    /// The counts of `population` on `day` (a new day empties the book). `None` when the book is full: the
    /// declaration is then not topped up.
    pub fn state(&mut self, day: time::Date, population: &str) -> Option<&mut RateState> {
        if self.day != Some(day) {
            self.day = Some(day);
            self.states.clear();
        }
        if !self.states.contains_key(population) && self.states.len() >= MAX_POPULATIONS {
            return None;
        }
        Some(self.states.entry(population.to_owned()).or_default())
    }

    /// The counts so far today, per population.
    pub fn states(&self) -> impl Iterator<Item = (&str, &RateState)> {
        self.states.iter().map(|(k, v)| (k.as_str(), v))
    }
}

/// The lane after top-up, and whether the top-up chose it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateDecision {
    pub lane: Lane,
    pub topped_up: bool,
}

/// Decides the final lane of a declaration the rules sent to `rule_lane`, and counts it. `draw` is uniform in
/// [0, 1): for a replayable decision, derive it from a keyed hash of the declaration (as the random rule does).
pub fn top_up(
    rates: &LaneRates,
    aeo: bool,
    state: &mut RateState,
    rule_lane: Lane,
    draw: f64,
) -> RateDecision {
    let n = state.seen as f64;
    state.seen += 1;
    let index = |lane: Lane| CONTROL_LANES.iter().position(|l| *l == lane);
    if let Some(i) = index(rule_lane) {
        state.selected[i] += 1;
        return RateDecision {
            lane: rule_lane,
            topped_up: false,
        };
    }
    // The share of declarations the rules leave green, estimated so far (1 before any is seen).
    let green_share = if state.seen > 1 {
        (state.rule_green as f64 + 1.0) / (n + 1.0)
    } else {
        1.0
    };
    state.rule_green += 1;
    let mut threshold = 0.0;
    for (i, lane) in CONTROL_LANES.iter().enumerate() {
        let target = rates.target(*lane, aeo);
        if target <= 0.0 {
            continue;
        }
        // The deficit after this declaration, spread over the greens expected among the next declarations: over a
        // horizon of about 1/target declarations, so that a deficit is made up soon but not all at once.
        let deficit = target * (n + 1.0) - state.selected[i] as f64;
        let horizon = (1.0 / target).max(1.0) * green_share;
        let probability = ((target + deficit / horizon.max(1.0)) / green_share).clamp(0.0, 1.0);
        threshold += probability;
        if draw < threshold.min(1.0) {
            state.selected[i] += 1;
            return RateDecision {
                lane: *lane,
                topped_up: true,
            };
        }
    }
    RateDecision {
        lane: Lane::Green,
        topped_up: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SplitMix64: a fixed stream of draws in [0, 1).
    struct Draws(u64);
    impl Draws {
        fn next(&mut self) -> f64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            (z ^ (z >> 31)) as f64 / u64::MAX as f64
        }
    }

    const TABLE: &str = "\
# office,regime: red, yellow, blue in percent; AEO declarations at a percentage of those shares
office,regime,red,yellow,blue,aeo_percent
*,*,2,8,5,50
GB000060,40,1,4,3,50
GB000060,*,3,10,5,25
";

    #[test]
    fn a_replayed_book_counts_as_the_live_one() {
        let rates = LaneRates {
            red: 200,
            yellow: 800,
            blue: 500,
            aeo_percent: 50,
            random: 0,
        };
        let mut draws = Draws(7);
        let mut live = RateState::default();
        let mut replayed = RateState::default();
        for i in 0..5_000 {
            let rule_lane = if i % 97 == 0 { Lane::Red } else { Lane::Green };
            let decision = top_up(&rates, false, &mut live, rule_lane, draws.next());
            replayed.record(rule_lane, decision.lane);
        }
        assert_eq!(live, replayed);
        let day = time::Date::from_calendar_date(2026, time::Month::November, 29).unwrap();
        let mut book = RateBook::default();
        book.state(day, "GB000060/40/other").unwrap().seen = 3;
        assert_eq!(book.state(day, "GB000060/40/other").unwrap().seen, 3);
        let next = day.next_day().unwrap();
        assert_eq!(book.state(next, "GB000060/40/other").unwrap().seen, 0);
    }

    #[test]
    fn a_minimum_random_rate_column_is_optional() {
        let table = RateTable::parse(
            "office,regime,red,yellow,blue,aeo_percent,random\n*,*,2,8,5,50,1.5\nGB000060,*,3,10,5,25,0\n",
        )
        .unwrap();
        assert_eq!(table.rates("GB000099", "40").random, 150);
        assert_eq!(table.rates("GB000099", "40").random_for(true), 75);
        assert_eq!(table.rates("GB000060", "40").random, 0);
        let error =
            RateTable::parse("office,regime,red,yellow,blue,aeo_percent,random\n*,*,2,8,5,50\n")
                .unwrap_err();
        assert_eq!(error, "line 2: 7 columns expected, found 6");
        let error =
            RateTable::parse("office,regime,red,yellow,blue,aeo_percent,random\n*,*,2,8,5,50,x\n")
                .unwrap_err();
        assert!(error.starts_with("line 2, column random:"), "{error}");
    }

    #[test]
    fn the_rate_table_reads_and_answers_by_office_and_regime() {
        let table = RateTable::parse(TABLE).unwrap();
        assert_eq!(
            table.default,
            LaneRates {
                red: 200,
                yellow: 800,
                blue: 500,
                aeo_percent: 50,
                random: 0,
            }
        );
        assert_eq!(table.rates("GB000060", "40").red, 100);
        assert_eq!(table.rates("GB000060", "51").red, 300);
        assert_eq!(table.rates("GB000999", "40").red, 200);
        for (bad, expected) in [
            ("office,regime,red\n", "line 1: the header"),
            (
                "office,regime,red,yellow,blue,aeo_percent\n*,*,2,8,5\n",
                "line 2: 6 columns",
            ),
            (
                "office,regime,red,yellow,blue,aeo_percent\n*,*,2,8.125,5,50\n",
                "line 2, column yellow",
            ),
            (
                "office,regime,red,yellow,blue,aeo_percent\n*,*,60,50,5,50\n",
                "line 2: the lanes' shares",
            ),
        ] {
            let error = RateTable::parse(bad).unwrap_err();
            assert!(error.starts_with(expected), "{bad:?}: {error}");
        }
    }

    /// One population of `n` declarations whose rules select each lane at `rule_shares` (red, yellow, blue).
    fn simulate(
        rates: &LaneRates,
        aeo: bool,
        rule_shares: [f64; 3],
        n: usize,
        seed: u64,
    ) -> [f64; 3] {
        let mut state = RateState::default();
        let mut draws = Draws(seed);
        for _ in 0..n {
            let rule = draws.next();
            let rule_lane = if rule < rule_shares[0] {
                Lane::Red
            } else if rule < rule_shares[0] + rule_shares[1] {
                Lane::Yellow
            } else if rule < rule_shares[0] + rule_shares[1] + rule_shares[2] {
                Lane::Blue
            } else {
                Lane::Green
            };
            top_up(rates, aeo, &mut state, rule_lane, draws.next());
        }
        assert_eq!(state.seen as usize, n);
        state.selected.map(|s| s as f64 / n as f64)
    }

    /// The stated tolerance: within 0.1 percentage point of the configured share over 100,000 declarations.
    const TOLERANCE: f64 = 0.001;

    #[test]
    fn observed_rates_hold_the_configured_rates_over_100_000_declarations() {
        let table = RateTable::parse(TABLE).unwrap();
        let rates = table.default;
        // Rules selecting less than the targets: the top-up fills each lane to its share, for others and AEOs.
        for (aeo, factor) in [(false, 1.0), (true, 0.5)] {
            for seed in 1..=3 {
                let observed = simulate(&rates, aeo, [0.005, 0.02, 0.01], 100_000, seed);
                println!("aeo {aeo}, seed {seed}: observed {observed:?}");
                let targets = [0.02 * factor, 0.08 * factor, 0.05 * factor];
                for lane in 0..3 {
                    assert!(
                        (observed[lane] - targets[lane]).abs() <= TOLERANCE,
                        "aeo {aeo}, seed {seed}, lane {lane}: observed {} for {}",
                        observed[lane],
                        targets[lane]
                    );
                }
            }
        }
        // Rules already selecting more than the share: nothing topped up, nothing undone.
        let observed = simulate(&rates, false, [0.04, 0.02, 0.0], 100_000, 9);
        assert!((observed[0] - 0.04).abs() < 0.003, "{observed:?}");
        assert!((observed[1] - 0.08).abs() <= TOLERANCE, "{observed:?}");
        // No rates: no top-up at all.
        let none = LaneRates {
            red: 0,
            yellow: 0,
            blue: 0,
            aeo_percent: 100,
            random: 0,
        };
        let observed = simulate(&none, false, [0.0, 0.0, 0.0], 10_000, 4);
        assert_eq!(observed, [0.0, 0.0, 0.0]);
    }

    #[test]
    fn the_same_draws_give_the_same_lanes() {
        let rates = RateTable::parse(TABLE).unwrap().default;
        let run = || {
            let mut state = RateState::default();
            let mut draws = Draws(42);
            (0..1000)
                .map(|_| top_up(&rates, false, &mut state, Lane::Green, draws.next()).lane)
                .collect::<Vec<_>>()
        };
        assert_eq!(run(), run());
    }
}
