//! Anomaly mode: find the operation where a NaN or an infinity starts (PyTorch's
//! `detect_anomaly`).
//!
//! A non-finite meta-loss says that something went wrong, not where: one `log` of a zero
//! somewhere in the inner loop poisons every value computed after it. With anomaly mode on,
//! every primitive checks its result as it is computed (forward) and every backward rule checks
//! the gradients it returns; the first one that turns finite inputs into a non-finite result is
//! kept as an [`Anomaly`]: the op's name, its input shapes and the chain of ops that led to it.
//! [`take_anomaly`] hands it over (and clears it).
//!
//! The switch is process-wide, not per thread like [`crate::no_grad`]: the tasks of a
//! meta-batch run on rayon's worker threads, which a per-thread switch would not reach. It is
//! off by default and costs one relaxed atomic load per op when off; when on, each op also
//! reads its whole result, so runs are several times slower — a debugging tool.
//!
//! ```
//! use autograd::{anomaly, Var};
//! use tensor::Tensor;
//! anomaly::set_detect_anomaly(true);
//! let x = Var::leaf(Tensor::from_vec(vec![1.0f64, 0.0], &[2]).unwrap());
//! let y = x.log().sum(&[0], false); // log 0 = −inf: the anomaly starts here
//! anomaly::set_detect_anomaly(false);
//! let found = anomaly::take_anomaly().unwrap();
//! assert_eq!(found.op, "log");
//! assert!(found.to_string().contains("forward of `log`"));
//! # drop(y);
//! ```

use std::cell::Cell;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use tensor::Tensor;

use crate::var::Var;

static ENABLED: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// True while this thread runs a backward rule: the ops inside it are not checked one by
    /// one, the gradients the rule returns are (so the report names the primitive whose
    /// derivative is not finite, not the `div` its rule happens to use).
    static IN_RULE: Cell<bool> = const { Cell::new(false) };
}
static FIRST: Mutex<Option<Anomaly>> = Mutex::new(None);

/// The longest chain of ops reported before the anomaly.
const CHAIN_LENGTH: usize = 12;

/// Where a non-finite value was first produced.
#[derive(Clone, Debug, PartialEq)]
pub struct Anomaly {
    /// Forward (the op's value) or backward (the gradient its rule returned).
    pub phase: Phase,
    /// The primitive's name.
    pub op: &'static str,
    /// The shapes of the op's inputs.
    pub input_shapes: Vec<Vec<usize>>,
    /// For a backward anomaly, the input whose gradient is not finite.
    pub input: Option<usize>,
    /// The first non-finite value found (NaN, inf or −inf).
    pub value: f64,
    /// The ops that made the op's first recorded input, oldest first (at most a dozen).
    pub chain: Vec<&'static str>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Forward,
    Backward,
}

impl fmt::Display for Anomaly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shapes: Vec<String> = self.input_shapes.iter().map(|s| format!("{s:?}")).collect();
        match (self.phase, self.input) {
            (Phase::Backward, Some(k)) => write!(
                f,
                "backward of `{}` gave a non-finite gradient ({}) for its input {k} from a finite \
                 incoming gradient",
                self.op, self.value
            )?,
            _ => write!(
                f,
                "forward of `{}` produced a non-finite value ({}) from finite inputs",
                self.op, self.value
            )?,
        }
        write!(f, "; input shapes {}", shapes.join(", "))?;
        if !self.chain.is_empty() {
            write!(
                f,
                "; ops leading to it: {} → {}",
                self.chain.join(" → "),
                self.op
            )?;
        }
        Ok(())
    }
}

/// Turns anomaly mode on or off for the whole process; turning it on forgets any anomaly
/// not yet taken.
pub fn set_detect_anomaly(enabled: bool) {
    if enabled {
        *FIRST.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
    ENABLED.store(enabled, Ordering::Relaxed);
}

/// True while anomaly mode is on.
pub fn is_anomaly_enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// The first anomaly found since anomaly mode was turned on (or since the last call), if any.
pub fn take_anomaly() -> Option<Anomaly> {
    FIRST.lock().unwrap_or_else(|e| e.into_inner()).take()
}

/// The first non-finite element of `t`, if any.
pub fn first_non_finite(t: &Tensor) -> Option<f64> {
    t.to_vec::<f64>().into_iter().find(|v| !v.is_finite())
}

/// Forward check: `value`, just computed by `op` from `inputs`. Reported only where the
/// anomaly starts: an input made by an op that is itself not finite was reported there.
pub(crate) fn check_forward(op: &'static str, value: &Tensor, inputs: &[&Var]) {
    if IN_RULE.with(Cell::get) {
        return;
    }
    let Some(bad) = first_non_finite(value) else {
        return;
    };
    let inherited = inputs
        .iter()
        .any(|v| v.op_name().is_some() && first_non_finite(v.value()).is_some());
    if !inherited {
        report(Anomaly {
            phase: Phase::Forward,
            op,
            input_shapes: inputs.iter().map(|v| v.shape().to_vec()).collect(),
            input: None,
            value: bad,
            chain: chain(inputs.iter().copied()),
        });
    }
}

/// Backward check: the gradients `input_grads` that the rule of `output`'s op returned from the
/// incoming gradient `grad`. A non-finite incoming gradient was reported where it started.
pub(crate) fn check_backward(
    output: &Var,
    inputs: &[Var],
    grad: &Var,
    input_grads: &[Option<Var>],
) {
    if first_non_finite(grad.value()).is_some() {
        return;
    }
    for (k, input_grad) in input_grads.iter().enumerate() {
        let Some(bad) = input_grad
            .as_ref()
            .and_then(|g| first_non_finite(g.value()))
        else {
            continue;
        };
        report(Anomaly {
            phase: Phase::Backward,
            op: output.op_name().unwrap_or("?"),
            input_shapes: inputs.iter().map(|v| v.shape().to_vec()).collect(),
            input: Some(k),
            value: bad,
            chain: chain(inputs.iter()),
        });
        return;
    }
}

/// Runs the backward rule `rule` with the per-op forward checks off (see `IN_RULE`).
pub(crate) fn in_rule<R>(rule: impl FnOnce() -> R) -> R {
    let previous = IN_RULE.with(|flag| flag.replace(true));
    let result = rule();
    IN_RULE.with(|flag| flag.set(previous));
    result
}

fn report(anomaly: Anomaly) {
    let mut first = FIRST.lock().unwrap_or_else(|e| e.into_inner());
    if first.is_none() {
        *first = Some(anomaly);
    }
}

/// The ops that made the first recorded input, then its first recorded input, and so on,
/// oldest first.
fn chain<'a>(inputs: impl Iterator<Item = &'a Var>) -> Vec<&'static str> {
    let mut names = Vec::new();
    let mut current = inputs.into_iter().find(|v| v.op_name().is_some()).cloned();
    while let Some(var) = current.take() {
        let Some(name) = var.op_name() else { break };
        names.push(name);
        if names.len() == CHAIN_LENGTH {
            break;
        }
        current = var
            .node()
            .and_then(|node| node.inputs.iter().find(|v| v.op_name().is_some()))
            .cloned();
    }
    names.reverse();
    names
}
