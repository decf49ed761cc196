//! The hotline's three rates (三率: response, resolution, satisfaction) of a hospital or a
//! district over a period, and their rank (三率排名). Pure: the caller reads the complaints.

use chrono::NaiveDateTime;
use serde::Serialize;

/// What one complaint adds to its row.
#[derive(Debug, Clone)]
pub struct Item {
    /// When it was first acknowledged or forwarded (forwarding acknowledges).
    pub responded_at: Option<NaiveDateTime>,
    /// Its filing time plus the limit of `complaint.unanswered` for its jurisdiction.
    pub respond_by: NaiveDateTime,
    /// The last callback: (resolved, satisfaction).
    pub callback: Option<(bool, String)>,
    /// Its answer was late (a `complaint.overdue` case, or an answer due and not given).
    pub overdue: bool,
    /// A callback reopened it at least once.
    pub reopened: bool,
}

/// The counts of one row and the rates they give, in percent.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Tally {
    /// Complaints filed in the period (duplicates merged into another left out)
    pub filed: u32,
    /// Of those, the ones whose response is due: responded, or past the limit unanswered
    pub response_due: u32,
    /// Acknowledged or forwarded within the limit
    pub responded_in_time: u32,
    /// Called back (回访) at least once
    pub called_back: u32,
    /// Of those called back, resolved at the last callback
    pub resolved: u32,
    /// Of those called back, satisfied or basically satisfied at the last callback
    pub satisfied: u32,
    /// Answered late or not by the answer deadline
    pub overdue: u32,
    /// Reopened by a callback at least once
    pub reopened: u32,
}

impl Tally {
    pub fn add(&mut self, item: &Item, now: NaiveDateTime) {
        self.filed += 1;
        match item.responded_at {
            Some(at) => {
                self.response_due += 1;
                self.responded_in_time += u32::from(at <= item.respond_by);
            }
            None if now >= item.respond_by => self.response_due += 1,
            None => {}
        }
        if let Some((resolved, satisfaction)) = &item.callback {
            self.called_back += 1;
            self.resolved += u32::from(*resolved);
            self.satisfied += u32::from(matches!(
                satisfaction.as_str(),
                "satisfied" | "basically_satisfied"
            ));
        }
        self.overdue += u32::from(item.overdue);
        self.reopened += u32::from(item.reopened);
    }

    pub fn response_rate(&self) -> Option<f64> {
        percent(self.responded_in_time, self.response_due)
    }

    pub fn resolution_rate(&self) -> Option<f64> {
        percent(self.resolved, self.called_back)
    }

    pub fn satisfaction_rate(&self) -> Option<f64> {
        percent(self.satisfied, self.called_back)
    }

    /// The mean of the rates there is something to count for; `None` when there is none.
    pub fn score(&self) -> Option<f64> {
        let rates: Vec<f64> = [
            self.response_rate(),
            self.resolution_rate(),
            self.satisfaction_rate(),
        ]
        .into_iter()
        .flatten()
        .collect();
        (!rates.is_empty()).then(|| rates.iter().sum::<f64>() / rates.len() as f64)
    }
}

fn percent(part: u32, whole: u32) -> Option<f64> {
    (whole > 0).then(|| f64::from(part) * 100.0 / f64::from(whole))
}

/// Ranks by score, best first: equal scores share a rank and the next rank skips (1, 1, 3);
/// a row without a score has no rank. Returns the ranks in the order of `scores`.
pub fn ranks(scores: &[Option<f64>]) -> Vec<Option<u32>> {
    // Scores are compared at a tenth of a percent, as they are shown.
    let key = |s: f64| (s * 10.0).round() as i64;
    scores
        .iter()
        .map(|s| {
            s.map(|s| {
                let better = scores
                    .iter()
                    .flatten()
                    .filter(|o| key(**o) > key(s))
                    .count();
                u32::try_from(better).unwrap_or(u32::MAX) + 1
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, NaiveDate};

    fn t(h: i64) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2022, 9, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .expect("a time")
            + Duration::hours(h)
    }

    fn item(responded: Option<i64>, callback: Option<(bool, &str)>) -> Item {
        Item {
            responded_at: responded.map(t),
            respond_by: t(24),
            callback: callback.map(|(r, s)| (r, s.to_string())),
            overdue: false,
            reopened: false,
        }
    }

    #[test]
    fn the_response_counts_at_the_limit_and_waits_for_it() {
        let mut tally = Tally::default();
        tally.add(&item(Some(24), None), t(30)); // exactly at the limit: in time
        tally.add(&item(Some(25), None), t(30)); // late
        tally.add(&item(None, None), t(23)); // not yet due: not counted
        assert_eq!(tally.filed, 3);
        assert_eq!(tally.response_due, 2);
        assert_eq!(tally.responded_in_time, 1);
        assert_eq!(tally.response_rate(), Some(50.0));
        tally.add(&item(None, None), t(24)); // due now, unanswered
        assert_eq!(tally.response_due, 3);
        assert_eq!(tally.resolution_rate(), None, "nobody was called back");
    }

    #[test]
    fn resolution_and_satisfaction_count_the_called_back_only() {
        let mut tally = Tally::default();
        tally.add(&item(Some(1), Some((true, "satisfied"))), t(99));
        tally.add(&item(Some(1), Some((true, "basically_satisfied"))), t(99));
        tally.add(&item(Some(1), Some((false, "unsatisfied"))), t(99));
        tally.add(&item(Some(1), None), t(99));
        assert_eq!(tally.called_back, 3);
        assert_eq!(tally.resolved, 2);
        assert_eq!(tally.satisfied, 2);
        let r = tally.resolution_rate().expect("a rate");
        assert!((r - 200.0 / 3.0).abs() < 1e-9);
        // (100 + 66.7 + 66.7) / 3
        assert!((tally.score().expect("a score") - (100.0 + 400.0 / 3.0) / 3.0).abs() < 1e-9);
    }

    #[test]
    fn equal_scores_share_a_rank_and_a_row_without_one_has_none() {
        assert_eq!(
            ranks(&[Some(80.0), None, Some(90.0), Some(80.0), Some(10.0)]),
            vec![Some(2), None, Some(1), Some(2), Some(4)]
        );
        assert_eq!(ranks(&[Some(80.04), Some(80.0)]), vec![Some(1), Some(1)]);
    }
}
