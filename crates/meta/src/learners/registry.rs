//! The learners by name: what `--algo` accepts in both examples, what a checkpoint's `learner`
//! metadata says, and one line on each for `--help`.
//!
//! A learner is built from [`Settings`], which hold every knob any learner has; each learner
//! reads the ones it uses and reports them back as [`Learner::settings`], so a checkpoint
//! records exactly what defines it. Adding a learner is one [`Entry`] here.

use nn::learned::CoordinatewiseLstm;

use crate::learners::rules::{
    Base, FixedRate, LayerStepRates, LstmRule, PerParameterRate, RateInit, SimilarityScaled,
};
use crate::learners::{
    Cnp, GradientLearner, Learner, MamlPlusPlus, Pgn, Prototypical, Reptile, Siamese, Tape,
};

/// Every setting of every learner, with the defaults of the sinusoid experiments.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// Inner steps during meta-training.
    pub inner_steps: usize,
    /// MAML's and Reptile's fixed step size; MAML++'s starting rates; the familiar-task step
    /// of the similarity rule.
    pub inner_lr: f64,
    /// How Meta-SGD's α starts (only used when a run starts, so not recorded).
    pub alpha_init: RateInit,
    /// Meta-SGD: one α per inner step.
    pub per_step_alpha: bool,
    /// MAML++: iterations over which the multi-step loss anneals to the last step.
    pub multi_step_iters: u64,
    /// MAML++: iterations of first-order meta-gradient before second order.
    pub first_order_iters: u64,
    /// Similarity rule: how many training-task embeddings are remembered.
    pub similarity_memory: usize,
    /// Similarity rule: c (default: the step of a familiar task is `inner_lr`, or α itself
    /// with Meta-SGD's α, i.e. c = (1 + d)·inner_lr or 1 + d).
    pub similarity_c: Option<f64>,
    /// Similarity rule: d.
    pub similarity_d: f64,
    /// Similarity rule: learn c and d.
    pub learn_similarity: bool,
    /// Conditional neural process: hidden width of encoder and decoder, and the size of r.
    pub cnp_width: usize,
    /// Learned LSTM optimiser: units per layer (20 in Andrychowicz et al.).
    pub lstm_hidden: usize,
    /// Learned LSTM optimiser: stacked layers (2).
    pub lstm_layers: usize,
    /// Learned LSTM optimiser: the factor s on its output, θ + s·LSTM(g) (0.1).
    pub lstm_output_scale: f64,
    /// Optimisation-based learners: meta-gradient by recomputing the inner steps one at a time
    /// ([`Unroll`](crate::learners::Unroll)) instead of recording them all. The same
    /// meta-gradient up to rounding, so not recorded in checkpoints: a run may resume with or
    /// without it.
    pub recompute: bool,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            inner_steps: 1,
            inner_lr: 0.01,
            alpha_init: RateInit::Uniform {
                low: 0.005,
                high: 0.1,
            },
            per_step_alpha: false,
            multi_step_iters: 0,
            first_order_iters: 0,
            similarity_memory: 500,
            similarity_c: None,
            similarity_d: 1.0,
            learn_similarity: true,
            cnp_width: 128,
            lstm_hidden: 20,
            lstm_layers: 2,
            lstm_output_scale: 0.1,
            recompute: false,
        }
    }
}

/// A learner's name, a line about it, and how to build it.
pub struct Entry {
    pub name: &'static str,
    pub about: &'static str,
    pub build: fn(&Settings) -> Box<dyn Learner>,
}

/// Every learner, in the order `--help` lists them.
pub const LEARNERS: &[Entry] = &[
    Entry {
        name: "metasgd",
        about: "Meta-SGD: θ − α ⊙ g with α learned per parameter; second order",
        build: |s| gradient("metasgd", meta_sgd(s), s, Tape::SecondOrder),
    },
    Entry {
        name: "maml",
        about: "MAML: θ − lr·g with a fixed lr; second order",
        build: |s| {
            gradient(
                "maml",
                Box::new(FixedRate { lr: s.inner_lr }),
                s,
                Tape::SecondOrder,
            )
        },
    },
    Entry {
        name: "fomaml",
        about: "first-order MAML: MAML without the Hessian term",
        build: |s| {
            gradient(
                "fomaml",
                Box::new(FixedRate { lr: s.inner_lr }),
                s,
                Tape::FirstOrder,
            )
        },
    },
    Entry {
        name: "fometasgd",
        about: "first-order Meta-SGD: α still learned, no Hessian term",
        build: |s| gradient("fometasgd", meta_sgd(s), s, Tape::FirstOrder),
    },
    Entry {
        name: "mamlpp",
        about: "MAML++: learned per-layer per-step rates, multi-step loss, first-order warm-up",
        build: |s| {
            Box::new(MamlPlusPlus {
                rule: LayerStepRates { init: s.inner_lr },
                steps: s.inner_steps,
                multi_step_iters: s.multi_step_iters,
                first_order_iters: s.first_order_iters,
                recompute: s.recompute,
            })
        },
    },
    Entry {
        name: "reptile",
        about: "Reptile: k SGD steps per task, θ moves towards the adapted θ′; no second order",
        build: |s| {
            Box::new(Reptile {
                rule: FixedRate { lr: s.inner_lr },
                steps: s.inner_steps,
            })
        },
    },
    Entry {
        name: "similarity",
        about: "MAML with step c/(√α*+d), α* the task's similarity to remembered training tasks",
        build: |s| similarity("similarity", Base::Plain, s),
    },
    Entry {
        name: "similarity-metasgd",
        about: "Meta-SGD with its step scaled by c/(√α*+d), as `similarity`",
        build: |s| {
            let base = PerParameterRate {
                init: s.alpha_init,
                per_step: s.per_step_alpha,
            };
            similarity("similarity-metasgd", Base::PerParameter(base), s)
        },
    },
    Entry {
        name: "protonet",
        about: "prototypical networks: logits −‖f(x) − mean support embedding of the class‖²",
        build: |_| Box::new(Prototypical),
    },
    Entry {
        name: "siamese",
        about: "Siamese networks: σ(w·|f(a) − f(b)| + b) per pair, the most likely \"same\" class",
        build: |_| Box::new(Siamese),
    },
    Entry {
        name: "cnp",
        about: "conditional neural process: r = mean encoding of the support pairs, decoder gives μ and σ; no inner steps",
        build: |s| Box::new(Cnp { width: s.cnp_width }),
    },
    Entry {
        name: "pgn",
        about: "parameter-generating network: class weights generated from mean support embeddings; no inner steps",
        build: |_| Box::new(Pgn),
    },
    Entry {
        name: "lstm",
        about:
            "learned optimiser: a coordinatewise LSTM reads g and outputs the step; second order",
        build: |s| {
            let lstm = CoordinatewiseLstm {
                hidden: s.lstm_hidden,
                layers: s.lstm_layers,
                output_scale: s.lstm_output_scale,
                ..CoordinatewiseLstm::default()
            };
            gradient("lstm", Box::new(LstmRule { lstm }), s, Tape::SecondOrder)
        },
    },
];

fn gradient(
    name: &'static str,
    rule: Box<dyn crate::learners::UpdateRule>,
    settings: &Settings,
    tape: Tape,
) -> Box<dyn Learner> {
    Box::new(GradientLearner {
        name,
        rule,
        steps: settings.inner_steps,
        tape,
        recompute: settings.recompute,
    })
}

fn meta_sgd(settings: &Settings) -> Box<dyn crate::learners::UpdateRule> {
    Box::new(PerParameterRate {
        init: settings.alpha_init,
        per_step: settings.per_step_alpha,
    })
}

fn similarity(name: &'static str, base: Base, s: &Settings) -> Box<dyn Learner> {
    let familiar_step = match base {
        Base::Plain => s.inner_lr,
        Base::PerParameter(_) => 1.0,
    };
    let c = s
        .similarity_c
        .unwrap_or((1.0 + s.similarity_d) * familiar_step);
    let rule = SimilarityScaled::new(
        base,
        s.similarity_memory,
        c,
        s.similarity_d,
        s.learn_similarity,
    );
    gradient(name, Box::new(rule), s, Tape::SecondOrder)
}

/// The registry entry called `name`.
pub fn entry(name: &str) -> Option<&'static Entry> {
    LEARNERS.iter().find(|e| e.name == name)
}

/// The learner called `name` with `settings`.
///
/// # Errors
/// If no learner has that name; the message lists those there are.
pub fn build(name: &str, settings: &Settings) -> Result<Box<dyn Learner>, String> {
    let entry = entry(name).ok_or_else(|| {
        let names: Vec<&str> = LEARNERS.iter().map(|e| e.name).collect();
        format!("unknown learner `{name}` (known: {})", names.join(", "))
    })?;
    Ok((entry.build)(settings))
}
