//! Where an evaluation's answers go right and wrong: scores by construction
//! ([`Breakdown::by_construction`]), on conversation follow-ups, and the words abstentions did
//! not understand ([`Breakdown::abstention_words`]).

use std::collections::{BTreeMap, HashMap};

use super::constructions::Construction;

/// How one question was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The answer's rows match the gold query's.
    Correct,
    /// The answer ran but its rows do not match.
    Wrong,
    /// The generator declined to answer.
    Abstained,
    /// The generator failed, or its SQL did not run.
    Error,
}

impl Outcome {
    /// The outcome's name in reports: `correct`, `wrong`, `abstained` or `error`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Correct => "correct",
            Self::Wrong => "wrong",
            Self::Abstained => "abstained",
            Self::Error => "error",
        }
    }
}

/// Counts of outcomes for one group of questions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Questions.
    pub total: usize,
    /// Correct answers.
    pub correct: usize,
    /// Abstentions.
    pub abstained: usize,
    /// Wrong answers.
    pub wrong: usize,
    /// Errors (generator failures, SQL that did not run).
    pub errors: usize,
}

impl Tally {
    /// Counts one outcome.
    pub fn add(&mut self, outcome: Outcome) {
        self.total += 1;
        match outcome {
            Outcome::Correct => self.correct += 1,
            Outcome::Wrong => self.wrong += 1,
            Outcome::Abstained => self.abstained += 1,
            Outcome::Error => self.errors += 1,
        }
    }

    /// Questions that got an answer (every one but the abstentions).
    pub fn answered(&self) -> usize {
        self.total - self.abstained
    }

    /// Share of the questions answered correctly (0 when there are none).
    pub fn accuracy(&self) -> f64 {
        ratio(self.correct, self.total)
    }

    /// Share of the answers that are wrong (0 when nothing was answered).
    pub fn wrong_per_answered(&self) -> f64 {
        ratio(self.wrong, self.answered())
    }

    /// The tally as a JSON object.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "total": self.total,
            "correct": self.correct,
            "abstained": self.abstained,
            "wrong": self.wrong,
            "errors": self.errors,
            "execution_accuracy": self.accuracy(),
            "wrong_per_answered": self.wrong_per_answered(),
        })
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Scores by construction, on follow-up turns, and the unknown words of abstentions.
#[derive(Debug, Clone, Default)]
pub struct Breakdown {
    by_construction: BTreeMap<Construction, Tally>,
    follow_ups: Tally,
    abstentions: usize,
    abstentions_with_words: usize,
    words: HashMap<String, usize>,
}

impl Breakdown {
    /// Counts one question: its constructions (with [`Construction::FollowUp`] for a turn after
    /// the first), its outcome and, for an abstention, the words it did not understand.
    pub fn record(
        &mut self,
        constructions: &[Construction],
        outcome: Outcome,
        unknown_words: &[String],
    ) {
        for c in constructions {
            self.by_construction.entry(*c).or_default().add(outcome);
            if *c == Construction::FollowUp {
                self.follow_ups.add(outcome);
            }
        }
        if outcome == Outcome::Abstained {
            self.abstentions += 1;
            if !unknown_words.is_empty() {
                self.abstentions_with_words += 1;
            }
            // A word counts once per question.
            let mut seen: Vec<String> = unknown_words.iter().map(|w| w.to_lowercase()).collect();
            seen.sort();
            seen.dedup();
            for w in seen {
                *self.words.entry(w).or_default() += 1;
            }
        }
    }

    /// The tally of every construction seen, in [`Construction::ALL`] order.
    pub fn by_construction(&self) -> impl Iterator<Item = (Construction, &Tally)> {
        self.by_construction.iter().map(|(c, t)| (*c, t))
    }

    /// The tally of follow-up turns (every conversation turn after the first).
    pub fn follow_ups(&self) -> &Tally {
        &self.follow_ups
    }

    /// Abstentions counted, and how many of them named words they did not understand.
    pub fn abstentions(&self) -> (usize, usize) {
        (self.abstentions, self.abstentions_with_words)
    }

    /// The `n` unknown words most abstentions named (lower case), most frequent first, ties
    /// in alphabetical order, each with the number of abstentions naming it.
    pub fn abstention_words(&self, n: usize) -> Vec<(&str, usize)> {
        let mut words: Vec<(&str, usize)> =
            self.words.iter().map(|(w, c)| (w.as_str(), *c)).collect();
        words.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        words.truncate(n);
        words
    }

    /// `by_construction` as a JSON object keyed by construction name.
    pub fn by_construction_json(&self) -> serde_json::Value {
        self.by_construction()
            .map(|(c, t)| (c.name().to_string(), t.to_json()))
            .collect::<serde_json::Map<_, _>>()
            .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tallies_constructions_follow_ups_and_words() {
        let mut b = Breakdown::default();
        let join = [Construction::Join];
        let follow = [Construction::Join, Construction::FollowUp];
        b.record(&join, Outcome::Correct, &[]);
        b.record(&follow, Outcome::Wrong, &[]);
        b.record(
            &follow,
            Outcome::Abstained,
            &["Churn".into(), "churn".into()],
        );
        b.record(
            &[Construction::Simple],
            Outcome::Abstained,
            &["churn".into(), "aov".into()],
        );
        b.record(&[Construction::Simple], Outcome::Abstained, &[]);
        let t = b
            .by_construction()
            .find(|(c, _)| *c == Construction::Join)
            .expect("join counted")
            .1;
        assert_eq!((t.total, t.correct, t.wrong, t.abstained), (3, 1, 1, 1));
        assert_eq!(t.answered(), 2);
        assert!((t.wrong_per_answered() - 0.5).abs() < 1e-9);
        let f = b.follow_ups();
        assert_eq!((f.total, f.answered(), f.wrong), (2, 1, 1));
        assert_eq!(b.abstentions(), (3, 2));
        assert_eq!(b.abstention_words(10), vec![("churn", 2), ("aov", 1)]);
        assert_eq!(b.abstention_words(1), vec![("churn", 2)]);
        let json = b.by_construction_json();
        assert_eq!(json["join"]["wrong"], 1);
        assert_eq!(json["follow-up"]["total"], 2);
        // Constructions come out in report order.
        let order: Vec<Construction> = b.by_construction().map(|(c, _)| c).collect();
        assert_eq!(
            order,
            vec![
                Construction::Join,
                Construction::Simple,
                Construction::FollowUp
            ]
        );
    }
}
