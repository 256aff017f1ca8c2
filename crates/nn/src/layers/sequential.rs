//! A chain of modules, each fed the previous one's output. Children are named by position, so
//! the parameters of the first child are `0.weight`, `0.bias`, as in PyTorch.

use autograd::Var;

use crate::module::{Ctx, Module, ParamSpec};

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
        let mut h = x.clone();
        for (k, layer) in self.layers.iter().enumerate() {
            h = layer.forward(&ctx.child(&k.to_string()), &h);
        }
        h
    }
}
