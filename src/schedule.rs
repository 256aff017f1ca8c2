//! The outer learning-rate schedule on the examples' command lines: `--lr-schedule` with
//! `--lr-decay-every` and `--lr-decay` for the step schedule. One copy, so both examples build
//! the same [`nn::optim::Schedule`] from the same flags and record it in their checkpoints the
//! same way (a resumed run must continue the schedule it started, so the schedule is part of
//! the settings `--resume` compares).

use clap::ValueEnum;
use nn::optim::{Constant, Cosine, Schedule, StepDecay};

use crate::cli::{finite_positive, positive};

/// How the outer learning rate changes over a run of `--iters` meta-iterations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LrSchedule {
    /// `--outer-lr` throughout.
    Constant,
    /// Cosine decay from `--outer-lr` to zero over `--iters` (Loshchilov & Hutter 2017).
    Cosine,
    /// `--outer-lr` multiplied by `--lr-decay` every `--lr-decay-every` iterations (Snell et
    /// al. 2017 halve theirs every 2,000 episodes).
    Step,
}

/// The step schedule's flags (unused by the other schedules).
#[derive(clap::Args, Debug, Clone)]
pub struct StepDecayArgs {
    /// With `--lr-schedule step`: iterations between two decays of the learning rate.
    #[arg(long, default_value_t = 2000, value_parser = positive::<u64>)]
    pub lr_decay_every: u64,
    /// With `--lr-schedule step`: the factor applied at each decay.
    #[arg(long, default_value_t = 0.5, value_parser = finite_positive)]
    pub lr_decay: f64,
}

impl LrSchedule {
    /// The rate at each step (from 0: meta-iteration `i` takes the rate of step `i − 1`) of a
    /// run of `iters` iterations starting at `base`.
    pub fn build(self, base: f64, iters: u64, decay: &StepDecayArgs) -> Box<dyn Schedule> {
        match self {
            LrSchedule::Constant => Box::new(Constant(base)),
            LrSchedule::Cosine => Box::new(Cosine {
                base,
                min: 0.0,
                total: iters as usize,
            }),
            LrSchedule::Step => Box::new(StepDecay {
                base,
                every: decay.lr_decay_every as usize,
                gamma: decay.lr_decay,
            }),
        }
    }

    /// What of the schedule a checkpoint records, for `--resume` to compare: its name, and
    /// what its rates depend on besides `--outer-lr` (the cosine's length, which is `--iters`;
    /// the step's period and factor).
    pub fn settings(self, iters: u64, decay: &StepDecayArgs) -> Vec<(&'static str, String)> {
        let name = format!("{self:?}").to_lowercase();
        let mut settings = vec![("lr_schedule", name)];
        match self {
            LrSchedule::Constant => {}
            LrSchedule::Cosine => settings.push(("cosine_iters", iters.to_string())),
            LrSchedule::Step => settings.extend([
                ("lr_decay_every", decay.lr_decay_every.to_string()),
                ("lr_decay", decay.lr_decay.to_string()),
            ]),
        }
        settings
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[arg(long, value_enum, default_value_t = LrSchedule::Constant)]
        lr_schedule: LrSchedule,
        #[command(flatten)]
        decay: StepDecayArgs,
    }

    fn parse(flags: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("x").chain(flags.iter().copied())).unwrap()
    }

    #[test]
    fn the_step_schedule_halves_at_each_boundary_and_not_before() {
        let cli = parse(&["--lr-schedule", "step", "--lr-decay-every", "2000"]);
        let schedule = cli.lr_schedule.build(1e-3, 10_000, &cli.decay);
        let rates: Vec<f64> = [0, 1999, 2000, 3999, 4000, 9999]
            .iter()
            .map(|&step| schedule.learning_rate(step))
            .collect();
        // 1e-3 · 0.5^⌊step / 2000⌋; halving is exact in binary floating point.
        assert_eq!(rates, [1e-3, 1e-3, 5e-4, 5e-4, 2.5e-4, 6.25e-5]);
        assert_eq!(
            cli.lr_schedule.settings(10_000, &cli.decay),
            [
                ("lr_schedule", "step".to_string()),
                ("lr_decay_every", "2000".to_string()),
                ("lr_decay", "0.5".to_string()),
            ]
        );
    }

    #[test]
    fn other_factors_and_schedules_follow_their_flags() {
        let cli = parse(&[
            "--lr-schedule",
            "step",
            "--lr-decay-every",
            "3",
            "--lr-decay",
            "0.1",
        ]);
        let schedule = cli.lr_schedule.build(2.0, 100, &cli.decay);
        assert_eq!(schedule.learning_rate(2), 2.0);
        assert!((schedule.learning_rate(3) - 0.2).abs() < 1e-15);
        assert!((schedule.learning_rate(6) - 0.02).abs() < 1e-15);

        let constant = parse(&[]);
        assert_eq!(
            constant
                .lr_schedule
                .build(0.3, 100, &constant.decay)
                .learning_rate(99),
            0.3
        );
        assert_eq!(
            constant.lr_schedule.settings(100, &constant.decay),
            [("lr_schedule", "constant".to_string())]
        );
        // Cosine: the base at 0, half of it halfway, zero at the end.
        let cosine = parse(&["--lr-schedule", "cosine"]);
        let schedule = cosine.lr_schedule.build(1.0, 100, &cosine.decay);
        assert_eq!(schedule.learning_rate(0), 1.0);
        assert!((schedule.learning_rate(50) - 0.5).abs() < 1e-15);
        assert_eq!(schedule.learning_rate(100), 0.0);
        assert_eq!(
            cosine.lr_schedule.settings(100, &cosine.decay)[1],
            ("cosine_iters", "100".to_string())
        );
    }

    #[test]
    fn a_decay_period_of_zero_or_a_bad_factor_is_refused() {
        for flags in [
            ["--lr-decay-every", "0"],
            ["--lr-decay", "0"],
            ["--lr-decay", "nan"],
            ["--lr-decay", "-0.5"],
        ] {
            assert!(
                Cli::try_parse_from(std::iter::once("x").chain(flags)).is_err(),
                "{flags:?}"
            );
        }
    }
}
