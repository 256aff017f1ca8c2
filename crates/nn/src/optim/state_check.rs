//! Checking a saved optimiser state against the parameters it will update, before the
//! optimiser takes it: a moment of the wrong shape or dtype would otherwise be found only by the
//! next step's assertion, deep in the update loop, after the run had announced a resume.
//!
//! Every optimiser here names its state `<kind>.<parameter>` (`m.theta.0.weight`,
//! `velocity.alpha.1.bias`) plus scalars without a dot (`step`). So the check needs to know no
//! optimiser: each per-parameter buffer must belong to a parameter and match its shape and
//! dtype; a kind present for one parameter must be present for all; a scalar must be a finite
//! whole number ≥ 0.

use std::collections::BTreeSet;

use crate::error::NnError;
use crate::params::Params;

/// Checks `state` (as [`super::Optimizer::state`] wrote it) against `params`.
///
/// # Errors
/// Names the state entry at fault and what it should have been.
pub fn check_state_against(state: &Params, params: &Params) -> Result<(), NnError> {
    let bad = |name: &str, message: String| NnError::Checkpoint {
        path: "optimizer state".into(),
        tensor: Some(name.to_string()),
        message,
    };
    let mut kinds = BTreeSet::new();
    let mut steps_taken = None;
    for (name, buffer) in state.iter() {
        let Some((kind, parameter)) = name.split_once('.') else {
            // A scalar such as Adam's step count.
            if buffer.numel() != 1 {
                return Err(bad(
                    name,
                    format!("has shape {:?}, expected a scalar", buffer.shape()),
                ));
            }
            let value = buffer.value().to_vec::<f64>()[0];
            if !(value.is_finite() && value >= 0.0 && value.fract() == 0.0 && value < 2f64.powi(53))
            {
                return Err(bad(
                    name,
                    format!("is {value}, expected a whole number ≥ 0"),
                ));
            }
            if value > 0.0 {
                steps_taken = Some((name.to_string(), value));
            }
            continue;
        };
        let Some(target) = params.get(parameter) else {
            return Err(bad(
                name,
                format!("is for `{parameter}`, which is not a parameter"),
            ));
        };
        if buffer.shape() != target.shape() || buffer.dtype() != target.dtype() {
            return Err(bad(
                name,
                format!(
                    "is {:?} {}, but parameter `{parameter}` is {:?} {}",
                    buffer.shape(),
                    buffer.dtype(),
                    target.shape(),
                    target.dtype()
                ),
            ));
        }
        kinds.insert(kind.to_string());
    }
    // A step count without any per-parameter buffer: moments lost, which Adam would silently
    // restart from zero with its bias correction already decayed.
    if let (Some((name, steps)), true, false) = (steps_taken, kinds.is_empty(), params.is_empty()) {
        return Err(bad(
            &name,
            format!("is {steps}, but the state holds no per-parameter buffers (moments missing)"),
        ));
    }
    for kind in &kinds {
        if let Some(missing) = params
            .names()
            .find(|p| state.get(&format!("{kind}.{p}")).is_none())
        {
            return Err(bad(
                &format!("{kind}.{missing}"),
                "is missing (the state has it for other parameters)".into(),
            ));
        }
    }
    Ok(())
}
