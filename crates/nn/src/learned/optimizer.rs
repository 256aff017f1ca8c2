//! A meta-trained coordinatewise LSTM used as an ordinary optimiser: frozen weights, loaded from
//! a checkpoint, behind the [`Optimizer`] trait like SGD or Adam.
//!
//! The step runs the LSTM under `no_grad` (nothing is recorded: the weights are not being
//! trained here) and keeps the LSTM's hidden and cell states from one step to the next, one
//! row per coordinate, so the parameters must keep their names and shapes between steps.

use autograd::{no_grad, Var};

use crate::checkpoint::Checkpoint;
use crate::error::NnError;
use crate::layers::LstmState;
use crate::learned::{state_from_params, state_to_params, CoordinatewiseLstm};
use crate::optim::{assert_matching, Optimizer};
use crate::params::Params;

/// The checkpoint metadata key naming what the file holds.
const KIND: &str = "learned_optimizer";

/// A frozen coordinatewise LSTM optimiser.
#[derive(Clone, Debug)]
pub struct LearnedOptimizer {
    pub lstm: CoordinatewiseLstm,
    weights: Params,
    /// The per-coordinate LSTM state, from the first step on.
    state: Option<Vec<LstmState>>,
}

impl LearnedOptimizer {
    /// An optimiser with `weights` (copied as constants) and a fresh state.
    pub fn new(lstm: CoordinatewiseLstm, weights: &Params) -> LearnedOptimizer {
        LearnedOptimizer {
            lstm,
            weights: weights.detach(),
            state: None,
        }
    }

    pub fn weights(&self) -> &Params {
        &self.weights
    }

    /// Forgets the LSTM state: the next step starts a new optimisation.
    pub fn reset(&mut self) {
        self.state = None;
    }

    /// A checkpoint holding the weights (under `lstm.`) and the optimiser's shape (metadata).
    pub fn to_checkpoint(&self) -> Checkpoint {
        let mut checkpoint = Checkpoint::new();
        checkpoint.add_params("lstm", &self.weights);
        checkpoint.set_metadata(KIND, "coordinatewise-lstm");
        checkpoint.set_metadata("hidden", self.lstm.hidden.to_string());
        checkpoint.set_metadata("layers", self.lstm.layers.to_string());
        checkpoint.set_metadata("p", self.lstm.p.to_string());
        checkpoint.set_metadata("output_scale", self.lstm.output_scale.to_string());
        checkpoint
    }

    /// The optimiser saved by [`LearnedOptimizer::to_checkpoint`].
    ///
    /// # Errors
    /// If the file does not hold a learned optimiser, or a weight is missing or misshapen; the
    /// message names the file and the entry.
    pub fn from_checkpoint(checkpoint: &Checkpoint) -> Result<LearnedOptimizer, NnError> {
        if checkpoint.metadata(KIND) != Some("coordinatewise-lstm") {
            return Err(checkpoint.error(
                None,
                format!(
                    "no `{KIND} = coordinatewise-lstm` in the metadata: not a learned optimiser"
                ),
            ));
        }
        fn read<T: std::str::FromStr>(c: &Checkpoint, key: &str) -> Result<T, NnError> {
            c.metadata(key)
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| c.error(None, format!("no readable `{key}` in the metadata")))
        }
        let lstm = CoordinatewiseLstm {
            hidden: read(checkpoint, "hidden")?,
            layers: read(checkpoint, "layers")?,
            p: read(checkpoint, "p")?,
            output_scale: read(checkpoint, "output_scale")?,
        };
        // The expected names and shapes come from a fresh initialisation of that shape.
        let dtype = checkpoint
            .tensor("lstm.out.bias")
            .map(|t| t.dtype())
            .ok_or_else(|| checkpoint.error(Some("lstm.out.bias"), "missing".into()))?;
        let mut rng = rand::SeedableRng::seed_from_u64(0);
        let expected = lstm.init(dtype, &mut rng);
        let weights = checkpoint.params_like("lstm", &expected)?;
        Ok(LearnedOptimizer::new(lstm, &weights))
    }
}

impl Optimizer for LearnedOptimizer {
    fn step(&mut self, params: &Params, grads: &Params) -> Params {
        assert_matching("LearnedOptimizer::step", params, grads);
        let n = params.numel();
        let dtype = params
            .iter()
            .next()
            .map(|(_, v)| v.dtype())
            .expect("at least one parameter");
        let state = self
            .state
            .take()
            .unwrap_or_else(|| self.lstm.zero_state(n, dtype));
        let (next, state) = no_grad(|| {
            self.lstm
                .step(&self.weights, &params.detach(), &grads.detach(), &state)
        });
        self.state = Some(state);
        next.to_leaves()
    }

    /// The output scale s of θ′ = θ + s·LSTM(g).
    fn learning_rate(&self) -> f64 {
        self.lstm.output_scale
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.lstm.output_scale = lr;
    }

    /// The LSTM's state (`h.<layer>`, `c.<layer>`), empty before the first step.
    fn state(&self) -> Params {
        match &self.state {
            Some(state) => state_to_params(state).map(|_, v| Var::constant(v.value().clone())),
            None => Params::new(),
        }
    }

    fn load_state(&mut self, state: &Params) -> Result<(), NnError> {
        if state.is_empty() {
            self.state = None;
            return Ok(());
        }
        crate::optim::check_state(state, &["h.", "c."])?;
        let restored =
            state_from_params(state, self.lstm.layers).ok_or_else(|| NnError::MissingParam {
                name: "h.<layer> / c.<layer>".into(),
                model: "learned optimiser state".into(),
            })?;
        for s in &restored {
            let want = [s.h.shape()[0], self.lstm.hidden];
            for v in [&s.h, &s.c] {
                if v.shape() != want {
                    return Err(NnError::ParamShape {
                        name: "learned optimiser state".into(),
                        expected: want.to_vec(),
                        found: v.shape().to_vec(),
                    });
                }
            }
        }
        self.state = Some(restored);
        Ok(())
    }
}
