//! The [`Module`] trait: a model is a *description* (layer sizes, strides…) plus a pure
//! function of explicit parameters. The same module runs with θ and with the adapted θ', or
//! with a batch of per-task parameter sets, without copying or mutating anything.
//!
//! A forward pass reads its parameters through a [`Ctx`], which also says whether the model
//! is training (batch norm, dropout) and where to keep running statistics.

use std::sync::Mutex;

use autograd::Var;
use rand::rngs::StdRng;
use tensor::{DType, Tensor};

use crate::error::NnError;
use crate::init::Init;
use crate::params::Params;

/// One parameter a module expects: its name (relative to the module), shape and initialiser.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamSpec {
    pub name: String,
    pub shape: Vec<usize>,
    pub init: Init,
}

impl ParamSpec {
    pub fn new(name: impl Into<String>, shape: &[usize], init: Init) -> ParamSpec {
        ParamSpec {
            name: name.into(),
            shape: shape.to_vec(),
            init,
        }
    }
}

/// A layer or a model.
pub trait Module: Send + Sync {
    /// A short description for messages: `Linear(1 → 40)`.
    fn describe(&self) -> String;

    /// The parameters this module expects, with full names (children prefixed `child.`).
    fn param_specs(&self) -> Vec<ParamSpec>;

    /// The forward pass, reading parameters from `ctx`.
    fn forward(&self, ctx: &Ctx, x: &Var) -> Var;

    /// Fresh parameters: every spec drawn from its initialiser, as leaves requiring gradients.
    fn init(&self, rng: &mut StdRng, dtype: DType) -> Params {
        self.param_specs()
            .into_iter()
            .map(|spec| {
                (
                    spec.name,
                    Var::leaf(spec.init.sample(&spec.shape, dtype, rng)),
                )
            })
            .collect()
    }

    /// Checks that `params` holds exactly this module's parameters with their shapes.
    fn check(&self, params: &Params) -> Result<(), NnError> {
        let specs = self.param_specs();
        for spec in &specs {
            let var = params
                .get(&spec.name)
                .ok_or_else(|| NnError::MissingParam {
                    name: spec.name.clone(),
                    model: self.describe(),
                })?;
            if var.shape() != spec.shape.as_slice() {
                return Err(NnError::ParamShape {
                    name: spec.name.clone(),
                    expected: spec.shape.clone(),
                    found: var.shape().to_vec(),
                });
            }
        }
        if let Some(extra) = params.names().find(|n| !specs.iter().any(|s| s.name == *n)) {
            return Err(NnError::UnexpectedParam {
                name: extra.to_string(),
                model: self.describe(),
            });
        }
        Ok(())
    }

    /// The forward pass in training mode with no running statistics: the usual call.
    fn apply(&self, params: &Params, x: &Var) -> Var {
        self.forward(&Ctx::new(params), x)
    }

    /// The representation the model's last layer reads (its "penultimate features"), in
    /// training mode. By default the output itself; a [`Sequential`](crate::layers::Sequential)
    /// stops before its last layer.
    fn features(&self, params: &Params, x: &Var) -> Var {
        self.apply(params, x)
    }
}

/// Running statistics kept by layers such as batch norm, by full name. Shared behind a mutex
/// so a forward pass (which takes `&self`) can update them.
#[derive(Debug, Default)]
pub struct State {
    buffers: Mutex<Vec<(String, Tensor)>>,
}

impl State {
    pub fn new() -> State {
        State::default()
    }

    pub fn get(&self, name: &str) -> Option<Tensor> {
        let buffers = self.buffers.lock().expect("state lock poisoned");
        buffers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.clone())
    }

    pub fn set(&self, name: &str, value: Tensor) {
        let mut buffers = self.buffers.lock().expect("state lock poisoned");
        match buffers.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => buffers.push((name.to_string(), value)),
        }
    }

    /// All buffers, as constants (for checkpoints).
    pub fn to_params(&self) -> Params {
        let buffers = self.buffers.lock().expect("state lock poisoned");
        buffers
            .iter()
            .map(|(n, t)| (n.clone(), Var::constant(t.clone())))
            .collect()
    }
}

/// What a forward pass reads: the parameters, the mode, and optional state and randomness.
#[derive(Clone)]
pub struct Ctx<'a> {
    params: &'a Params,
    prefix: String,
    training: bool,
    state: Option<&'a State>,
    rng: Option<&'a Mutex<StdRng>>,
}

impl<'a> Ctx<'a> {
    /// Training mode, no running statistics, no randomness.
    pub fn new(params: &'a Params) -> Ctx<'a> {
        Ctx {
            params,
            prefix: String::new(),
            training: true,
            state: None,
            rng: None,
        }
    }

    /// The same context in evaluation mode (`training = false`).
    pub fn eval(mut self) -> Ctx<'a> {
        self.training = false;
        self
    }

    /// The same context with running statistics kept in `state`.
    pub fn with_state(mut self, state: &'a State) -> Ctx<'a> {
        self.state = Some(state);
        self
    }

    /// The same context with a seeded generator (for dropout).
    pub fn with_rng(mut self, rng: &'a Mutex<StdRng>) -> Ctx<'a> {
        self.rng = Some(rng);
        self
    }

    pub fn training(&self) -> bool {
        self.training
    }

    pub fn state(&self) -> Option<&'a State> {
        self.state
    }

    pub fn rng(&self) -> Option<&'a Mutex<StdRng>> {
        self.rng
    }

    /// The full name of this module's parameter `name`: `0.weight` inside child `0`.
    pub fn full_name(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// The context of child `name`: its parameters are `name.*`.
    pub fn child(&self, name: &str) -> Ctx<'a> {
        Ctx {
            prefix: format!("{}{name}.", self.prefix),
            ..self.clone()
        }
    }

    /// This module's parameter `name`, whose trailing axes must be `shape` (leading axes, if
    /// any, are per-task batch axes).
    ///
    /// # Panics
    /// If it is missing or has the wrong shape; the message names the module, the parameter
    /// and both shapes.
    pub fn param(&self, module: &dyn Module, name: &str, shape: &[usize]) -> &'a Var {
        // Found without building the full name (this runs for every parameter of every
        // forward pass): the entry whose name is the prefix followed by `name`.
        let found = self
            .params
            .iter()
            .find(|(n, _)| n.strip_prefix(self.prefix.as_str()) == Some(name))
            .map(|(_, v)| v);
        let var = found.unwrap_or_else(|| {
            let full = self.full_name(name);
            panic!(
                "{}: missing parameter `{full}` (have: {})",
                module.describe(),
                self.params.names().collect::<Vec<_>>().join(", ")
            )
        });
        let trailing = var.shape().len() >= shape.len()
            && var.shape()[var.shape().len() - shape.len()..] == *shape;
        assert!(
            trailing,
            "{}: parameter `{}` has shape {:?}, expected {shape:?} (optionally with leading task axes)",
            module.describe(),
            self.full_name(name),
            var.shape()
        );
        var
    }
}
