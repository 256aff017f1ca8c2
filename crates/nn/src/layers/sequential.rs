//! A chain of modules, each fed the previous one's output. Children are named by position, so
//! the parameters of the first child are `0.weight`, `0.bias`, as in PyTorch.

use autograd::Var;

use crate::module::{Ctx, Module, ParamSpec};
use crate::params::Params;

#[derive(Default)]
pub struct Sequential {
    layers: Vec<Box<dyn Module>>,
}

impl Sequential {
    pub fn new() -> Sequential {
        Sequential::default()
    }

    /// The chain with `layer` appended.
    pub fn push(mut self, layer: impl Module + 'static) -> Sequential {
        self.layers.push(Box::new(layer));
        self
    }

    pub fn layers(&self) -> &[Box<dyn Module>] {
        &self.layers
    }
}

impl Module for Sequential {
    fn describe(&self) -> String {
        let inner: Vec<String> = self.layers.iter().map(|l| l.describe()).collect();
        format!("Sequential[{}]", inner.join(", "))
    }

    fn param_specs(&self) -> Vec<ParamSpec> {
        let mut specs = Vec::new();
        for (k, layer) in self.layers.iter().enumerate() {
            for mut spec in layer.param_specs() {
                spec.name = format!("{k}.{}", spec.name);
                specs.push(spec);
            }
        }
        specs
    }

    fn forward(&self, ctx: &Ctx, x: &Var) -> Var {
        self.run(ctx, x, self.layers.len())
    }

    /// The output of every layer but the last.
    fn features(&self, params: &Params, x: &Var) -> Var {
        self.run(&Ctx::new(params), x, self.layers.len().saturating_sub(1))
    }
}

impl Sequential {
    /// The first `count` layers applied to `x`.
    fn run(&self, ctx: &Ctx, x: &Var, count: usize) -> Var {
        let mut h = x.clone();
        for (k, layer) in self.layers.iter().take(count).enumerate() {
            h = layer.forward(&ctx.child(&k.to_string()), &h);
        }
        h
    }
}
