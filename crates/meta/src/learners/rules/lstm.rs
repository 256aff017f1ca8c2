//! A learned optimiser as the inner step (Andrychowicz et al. 2016; in the few-shot setting of
//! Ravi & Larochelle 2017): the coordinatewise LSTM of [`nn::learned`] reads each coordinate's
//! support gradient and outputs its step,
//!
//! ```text
//! θₛ₊₁ = θₛ + s · LSTM(preprocess(gₛ), stateₛ)        one batch row per coordinate of θ
//! ```
//!
//! The LSTM's weights are learned jointly with θ (`lstm.*` in `MetaParams::learned`); its
//! hidden and cell states are the task's [`RuleState`] (`h.<layer>`, `c.<layer>`), zero before
//! the first step and on the tape after it, so the meta-gradient runs back through every step's
//! state as well as through θ. With a stacked pass (`tasks > 0`) the task axis is simply more
//! coordinates: each task's θ gets its own rows.

use nn::layers::LstmState;
use nn::learned::{state_from_params, state_to_params, CoordinatewiseLstm};
use nn::Params;
use rand::rngs::StdRng;
use tensor::DType;

use crate::learners::rule::{RuleState, Step, TaskStart, UpdateRule};

/// θ + s·LSTM(g), the LSTM's weights learned.
#[derive(Clone, Copy, Debug)]
pub struct LstmRule {
    pub lstm: CoordinatewiseLstm,
}

impl LstmRule {
    fn state(&self, state: &RuleState) -> Vec<LstmState> {
        state_from_params(&state.vars, self.lstm.layers)
            .expect("lstm rule: `begin` sets up one h and c per layer")
    }
}

impl UpdateRule for LstmRule {
    fn init_learned(
        &self,
        _theta: &Params,
        _steps: usize,
        dtype: DType,
        rng: &mut StdRng,
    ) -> Params {
        let mut learned = Params::new();
        learned.extend_prefixed("lstm", &self.lstm.init(dtype, rng));
        learned
    }

    fn begin(&self, start: &TaskStart) -> RuleState {
        let dtype = start.theta.vars()[0].dtype();
        let zero = self.lstm.zero_state(start.theta.numel(), dtype);
        RuleState {
            vars: state_to_params(&zero),
            memo: None,
        }
    }

    fn step(&self, step: &Step, state: &mut RuleState) -> Params {
        let weights = step.learned.scoped("lstm");
        let (theta, next) = self
            .lstm
            .step(&weights, step.theta, step.grads, &self.state(state));
        state.vars = state_to_params(&next);
        theta
    }

    fn settings(&self) -> Vec<(String, String)> {
        vec![
            ("lstm_hidden".into(), self.lstm.hidden.to_string()),
            ("lstm_layers".into(), self.lstm.layers.to_string()),
            (
                "lstm_output_scale".into(),
                self.lstm.output_scale.to_string(),
            ),
        ]
    }
}
