//! The key performance indicators of the dashboard (issue 19, item 7): declarations lodged per day by lane, the
//! time from lodgement to release (its distribution over the period and its trend week by week), and the revenue
//! posted per day. Pure: the storage gives the raw figures (counts per day and lane, lodgement and release times,
//! revenue transfers), these functions put them in order, fill the days without any and compute the statistics.

use rust_decimal::Decimal;
use selectivity::Lane;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

/// Declarations lodged on one day (UTC), by lane (those not yet laned under `None`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayVolume {
    pub day: Date,
    pub green: u64,
    pub yellow: u64,
    pub red: u64,
    pub blue: u64,
    pub other: u64,
}

impl DayVolume {
    fn empty(day: Date) -> Self {
        Self {
            day,
            green: 0,
            yellow: 0,
            red: 0,
            blue: 0,
            other: 0,
        }
    }

    pub fn total(&self) -> u64 {
        self.green
            .saturating_add(self.yellow)
            .saturating_add(self.red)
            .saturating_add(self.blue)
            .saturating_add(self.other)
    }
}

/// Each day from `first` to `last` (inclusive) with its counts (`counts`: day, lane, declarations; a day or lane
/// may come several times); days outside are ignored.
pub fn volumes(first: Date, last: Date, counts: &[(Date, Option<Lane>, u64)]) -> Vec<DayVolume> {
    let mut days = Vec::new();
    let mut day = first;
    while day <= last {
        days.push(DayVolume::empty(day));
        match day.next_day() {
            Some(next) => day = next,
            None => break,
        }
    }
    for (day, lane, n) in counts {
        let Some(index) = usize::try_from((*day - first).whole_days())
            .ok()
            .filter(|_| *day >= first)
        else {
            continue;
        };
        let Some(entry) = days.get_mut(index) else {
            continue;
        };
        let slot = match lane {
            Some(Lane::Green) => &mut entry.green,
            Some(Lane::Yellow) => &mut entry.yellow,
            Some(Lane::Red) => &mut entry.red,
            Some(Lane::Blue) => &mut entry.blue,
            None => &mut entry.other,
        };
        *slot = slot.saturating_add(*n);
    }
    days
}

/// The classes of the distribution of lodgement-to-release times, by their upper bound in seconds (the last has
/// none).
pub const RELEASE_CLASSES: [Option<i64>; 7] = [
    Some(60),
    Some(15 * 60),
    Some(3600),
    Some(4 * 3600),
    Some(24 * 3600),
    Some(3 * 24 * 3600),
    None,
];

/// How many releases took up to each class's bound (and more than the previous one's).
pub fn release_distribution(seconds: &[i64]) -> Vec<u64> {
    let mut counts = vec![0u64; RELEASE_CLASSES.len()];
    for s in seconds {
        let class = RELEASE_CLASSES
            .iter()
            .position(|bound| bound.is_none_or(|b| *s <= b))
            .unwrap_or(RELEASE_CLASSES.len() - 1);
        counts[class] = counts[class].saturating_add(1);
    }
    counts
}

/// The lodgement-to-release time of the declarations released in one week.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WeekTrend {
    /// The first day of the week (the period's weeks end on its last day).
    pub starts: Date,
    pub released: u64,
    pub mean_seconds: Option<f64>,
    pub median_seconds: Option<i64>,
}

/// The `weeks` weeks ending at `until`, each with the releases in it (`releases`: released at, seconds from
/// lodgement); releases outside are ignored.
pub fn weekly_trend(
    until: OffsetDateTime,
    weeks: u32,
    releases: &[(OffsetDateTime, i64)],
) -> Vec<WeekTrend> {
    let week = time::Duration::days(7);
    let start = until - week * weeks;
    let mut buckets: Vec<Vec<i64>> = vec![Vec::new(); weeks as usize];
    for (at, seconds) in releases {
        if *at < start || *at >= until {
            continue;
        }
        let index = usize::try_from((*at - start).whole_days() / 7).unwrap_or(usize::MAX);
        if let Some(bucket) = buckets.get_mut(index) {
            bucket.push(*seconds);
        }
    }
    buckets
        .into_iter()
        .enumerate()
        .map(|(i, mut seconds)| {
            seconds.sort_unstable();
            let released = seconds.len() as u64;
            let mean_seconds = (!seconds.is_empty())
                .then(|| seconds.iter().map(|s| *s as f64).sum::<f64>() / seconds.len() as f64);
            WeekTrend {
                starts: (start + week * i as u32).date(),
                released,
                mean_seconds,
                median_seconds: (!seconds.is_empty()).then(|| seconds[(seconds.len() - 1) / 2]),
            }
        })
        .collect()
}

/// Revenue posted on one day (UTC): what was credited to the revenue accounts less what was taken from them
/// (refunds, reversals).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayRevenue {
    pub day: Date,
    pub net: Decimal,
}

/// Each day from `first` to `last` with its revenue (`movements`: day, amount, whether credited to revenue);
/// `None` when a sum would overflow.
pub fn revenue(
    first: Date,
    last: Date,
    movements: &[(Date, Decimal, bool)],
) -> Option<Vec<DayRevenue>> {
    let mut days = Vec::new();
    let mut day = first;
    while day <= last {
        days.push(DayRevenue {
            day,
            net: Decimal::ZERO,
        });
        match day.next_day() {
            Some(next) => day = next,
            None => break,
        }
    }
    for (day, amount, credited) in movements {
        if *day < first {
            continue;
        }
        let Some(entry) = usize::try_from((*day - first).whole_days())
            .ok()
            .and_then(|i| days.get_mut(i))
        else {
            continue;
        };
        entry.net = if *credited {
            entry.net.checked_add(*amount)?
        } else {
            entry.net.checked_sub(*amount)?
        };
    }
    Some(days)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn every_day_of_the_period_is_shown_with_its_lanes() {
        let counts = [
            (date!(2026 - 11 - 02), Some(Lane::Red), 2),
            (date!(2026 - 11 - 02), Some(Lane::Green), 5),
            (date!(2026 - 11 - 02), Some(Lane::Green), 1),
            (date!(2026 - 11 - 04), None, 3),
            (date!(2026 - 10 - 31), Some(Lane::Green), 9),
            (date!(2026 - 11 - 05), Some(Lane::Green), 9),
        ];
        let days = volumes(date!(2026 - 11 - 01), date!(2026 - 11 - 04), &counts);
        assert_eq!(days.len(), 4);
        assert_eq!(days[0].total(), 0);
        assert_eq!((days[1].green, days[1].red, days[1].total()), (6, 2, 8));
        assert_eq!((days[3].other, days[3].total()), (3, 3));
    }

    #[test]
    fn releases_fall_in_their_class_and_week() {
        assert_eq!(
            release_distribution(&[0, 60, 61, 3600, 3601, 90_000, 1_000_000]),
            [2, 1, 1, 1, 0, 1, 1]
        );
        let until = datetime!(2026-11-29 00:00 UTC);
        let trend = weekly_trend(
            until,
            2,
            &[
                (datetime!(2026-11-15 00:00 UTC), 100),
                (datetime!(2026-11-21 23:59 UTC), 300),
                (datetime!(2026-11-20 12:00 UTC), 200),
                (datetime!(2026-11-22 00:00 UTC), 50),
                (datetime!(2026-11-29 00:00 UTC), 1),
                (datetime!(2026-11-14 23:59 UTC), 1),
            ],
        );
        assert_eq!(trend.len(), 2);
        assert_eq!(trend[0].starts, date!(2026 - 11 - 15));
        assert_eq!(
            (
                trend[0].released,
                trend[0].mean_seconds,
                trend[0].median_seconds
            ),
            (3, Some(200.0), Some(200))
        );
        assert_eq!((trend[1].released, trend[1].median_seconds), (1, Some(50)));
    }

    #[test]
    fn revenue_is_credits_less_debits_per_day_without_overflow() {
        let d = date!(2026 - 11 - 02);
        let days = revenue(
            date!(2026 - 11 - 01),
            d,
            &[
                (d, Decimal::new(10_000, 2), true),
                (d, Decimal::new(2_550, 2), false),
            ],
        )
        .unwrap();
        assert_eq!(days[0].net, Decimal::ZERO);
        assert_eq!(days[1].net, Decimal::new(7_450, 2));
        assert!(revenue(d, d, &[(d, Decimal::MAX, true), (d, Decimal::MAX, true)]).is_none());
    }
}
