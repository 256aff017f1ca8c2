//! What the example programs share on their command lines: the checks of numeric arguments,
//! and the flags that choose and set up a learner and the outer optimiser. One copy, so both
//! examples accept and refuse the same things.

use clap::builder::{PossibleValue, PossibleValuesParser};
use clap::ValueEnum;
use meta::learners::registry::{Settings, LEARNERS};
use nn::optim::{Momentum, Sgd};
use nn::{Adam, Optimizer};

/// A whole number ≥ 1, for counts such as `--shots` (clap turns the error into exit code 2).
pub fn positive<T: std::str::FromStr + PartialOrd + From<u8>>(text: &str) -> Result<T, String> {
    match text.parse::<T>() {
        Ok(n) if n >= T::from(1) => Ok(n),
        _ => Err(format!(
            "expected a whole number of at least 1, got `{text}`"
        )),
    }
}

/// A whole number ≥ 2 (a confidence interval needs two samples).
pub fn at_least_two<T: std::str::FromStr + PartialOrd + From<u8>>(text: &str) -> Result<T, String> {
    match text.parse::<T>() {
        Ok(n) if n >= T::from(2) => Ok(n),
        _ => Err(format!(
            "expected a whole number of at least 2, got `{text}`"
        )),
    }
}

/// A finite number > 0, for learning rates and step sizes (`nan`, `inf`, 0 and negatives are
/// refused).
pub fn finite_positive(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        _ => Err(format!("expected a finite number above 0, got `{text}`")),
    }
}

/// The most worker threads `--threads` accepts: far above any core count this runs on, far below
/// what starts to exhaust the system (each thread reserves a stack).
pub const MAX_THREADS: usize = 256;

/// A thread count from 1 to [`MAX_THREADS`].
pub fn thread_count(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=MAX_THREADS).contains(&n) => Ok(n),
        _ => Err(format!(
            "expected a whole number of threads from 1 to {MAX_THREADS}, got `{text}`"
        )),
    }
}

/// The flags that say what may happen to a checkpoint already in the output folder, and how a
/// run checks its numbers.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct RunArgs {
    /// Continue from this checkpoint (what was learned, optimiser state, iteration); the
    /// learning curve is cut back to that iteration. The run's settings must match the
    /// checkpoint's unless --allow-changed-settings is given.
    #[arg(long)]
    pub resume: Option<std::path::PathBuf>,
    /// Replace a checkpoint already in the output folder (without it, training refuses).
    #[arg(long, conflicts_with = "resume")]
    pub overwrite: bool,
    /// With --resume: accept settings (seed, episode, learning rates, …) that differ from those
    /// the checkpoint records.
    #[arg(long, requires = "resume")]
    pub allow_changed_settings: bool,
    /// Anomaly mode: report the first op whose value or gradient is NaN or infinite, with its
    /// input shapes and the ops leading to it (slow; for debugging).
    #[arg(long)]
    pub detect_anomaly: bool,
}

/// `--algo`'s parser: the registry's names, each listed in `--help` with its line.
fn learner_names() -> PossibleValuesParser {
    PossibleValuesParser::new(
        LEARNERS
            .iter()
            .map(|entry| PossibleValue::new(entry.name).help(entry.about)),
    )
}

/// The outer optimiser.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OuterOptimizer {
    Adam,
    Sgd,
    /// SGD with Nesterov momentum 0.9.
    Nesterov,
    /// Adam with decoupled weight decay 1e-4.
    Adamw,
}

/// The flags of a learner. Unset values take the example's defaults for the chosen learner.
#[derive(clap::Args, Debug, Clone)]
pub struct LearnerArgs {
    /// Meta-learner.
    #[arg(long, default_value = "metasgd", value_parser = learner_names())]
    pub algo: String,
    /// Inner steps during meta-training (default: per learner).
    #[arg(long, value_parser = positive::<usize>)]
    pub inner_steps: Option<usize>,
    /// Inner step size: MAML's and Reptile's fixed rate, MAML++'s starting rates, the similarity
    /// rule's familiar-task step (default: per learner and example).
    #[arg(long, value_parser = finite_positive)]
    pub inner_lr: Option<f64>,
    /// Meta-SGD: a separate learned α for each inner step.
    #[arg(long)]
    pub per_step_alpha: bool,
    /// Outer optimiser.
    #[arg(long, value_enum, default_value_t = OuterOptimizer::Adam)]
    pub outer_optimizer: OuterOptimizer,
    /// MAML++: iterations over which the multi-step loss anneals to the last step (default:
    /// a tenth of the run).
    #[arg(long)]
    pub multi_step_iters: Option<u64>,
    /// MAML++: iterations of first-order meta-gradient before second order (default: per
    /// example).
    #[arg(long)]
    pub first_order_iters: Option<u64>,
    /// Similarity rule: how many meta-training task embeddings it remembers.
    #[arg(long, default_value_t = 500, value_parser = positive::<usize>)]
    pub similarity_memory: usize,
    /// Similarity rule: c of the step c / (√α* + d) (default: a familiar task steps as MAML).
    #[arg(long, value_parser = finite_positive)]
    pub similarity_c: Option<f64>,
    /// Similarity rule: d of the step c / (√α* + d).
    #[arg(long, default_value_t = 1.0, value_parser = finite_positive)]
    pub similarity_d: f64,
    /// Similarity rule: keep c and d fixed instead of learning them.
    #[arg(long)]
    pub fixed_similarity: bool,
    /// Conditional neural process: hidden width of encoder and decoder, and the size of r
    /// (default: per example).
    #[arg(long, value_parser = positive::<usize>)]
    pub cnp_width: Option<usize>,
    /// Optimisation-based learners: compute the meta-gradient by recomputing the inner steps
    /// one at a time in a reverse sweep, instead of recording them all: memory of one inner
    /// step instead of all of them, for about n−1 more first-order inner steps of time. The same
    /// meta-gradient up to rounding (not recorded in checkpoints; a run may resume either way).
    #[arg(long)]
    pub recompute: bool,
}

impl LearnerArgs {
    /// The learner's settings: `defaults` (the example's, for this learner) with the flags
    /// given put in place.
    pub fn settings(&self, defaults: Settings) -> Settings {
        Settings {
            inner_steps: self.inner_steps.unwrap_or(defaults.inner_steps),
            inner_lr: self.inner_lr.unwrap_or(defaults.inner_lr),
            per_step_alpha: self.per_step_alpha || defaults.per_step_alpha,
            multi_step_iters: self.multi_step_iters.unwrap_or(defaults.multi_step_iters),
            first_order_iters: self.first_order_iters.unwrap_or(defaults.first_order_iters),
            similarity_memory: self.similarity_memory,
            similarity_c: self.similarity_c.or(defaults.similarity_c),
            similarity_d: self.similarity_d,
            learn_similarity: !self.fixed_similarity,
            cnp_width: self.cnp_width.unwrap_or(defaults.cnp_width),
            recompute: self.recompute || defaults.recompute,
            ..defaults
        }
    }

    /// The outer optimiser with learning rate `lr`.
    pub fn optimizer(&self, lr: f64) -> Box<dyn Optimizer> {
        match self.outer_optimizer {
            OuterOptimizer::Adam => Box::new(Adam::new(lr)),
            OuterOptimizer::Sgd => Box::new(Sgd::new(lr)),
            OuterOptimizer::Adamw => Box::new(Adam::adamw(lr, 1e-4)),
            OuterOptimizer::Nesterov => {
                Box::new(Sgd::new(lr).with_momentum(Momentum::Nesterov(0.9)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_checked() {
        assert_eq!(positive::<u64>("3"), Ok(3));
        assert!(positive::<u64>("0").is_err());
        assert!(positive::<usize>("-1").is_err());
        assert!(at_least_two::<usize>("1").is_err());
        assert_eq!(finite_positive("0.5"), Ok(0.5));
        assert_eq!(thread_count("3"), Ok(3));
        for bad in ["0", "257", "100000", "-1", "x"] {
            let message = thread_count(bad).unwrap_err();
            assert!(
                message.contains(bad) && message.contains("256"),
                "{message}"
            );
        }
        for bad in ["nan", "inf", "-inf", "0", "-0.1", "x"] {
            let message = finite_positive(bad).unwrap_err();
            assert!(message.contains(bad), "{message}");
        }
    }

    #[test]
    fn every_registered_learner_builds_from_the_flags() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            learner: LearnerArgs,
        }
        for entry in LEARNERS {
            let cli =
                Cli::try_parse_from(["x", "--algo", entry.name, "--inner-steps", "2"]).unwrap();
            let settings = cli.learner.settings(Settings::default());
            assert_eq!(settings.inner_steps, 2);
            let learner = meta::registry::build(&cli.learner.algo, &settings).unwrap();
            assert_eq!(learner.name(), entry.name);
        }
        // Recomputation is off unless asked for.
        let recompute = |args: &[&str]| {
            let cli = Cli::try_parse_from(args).unwrap();
            cli.learner.settings(Settings::default()).recompute
        };
        assert!(!recompute(&["x", "--algo", "maml"]));
        assert!(recompute(&["x", "--algo", "maml", "--recompute"]));
        assert!(Cli::try_parse_from(["x", "--algo", "nope"]).is_err());
        assert!(Cli::try_parse_from(["x", "--inner-lr", "nan"]).is_err());
    }
}
