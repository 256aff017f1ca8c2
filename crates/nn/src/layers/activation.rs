//! Activation functions as parameter-free modules.

use autograd::Var;

use crate::module::{Ctx, Module, ParamSpec};

#[derive(Clone, Copy, Debug, Default)]
pub struct Relu;

impl Module for Relu {
    fn describe(&self) -> String {
        "ReLU".into()
    }
    fn param_specs(&self) -> Vec<ParamSpec> {
        Vec::new()
    }
    fn forward(&self, _: &Ctx, x: &Var) -> Var {
        x.relu()
    }
}

/// `x` if positive, else `slope · x`.
#[derive(Clone, Copy, Debug)]
pub struct LeakyRelu {
    pub slope: f64,
}

impl Module for LeakyRelu {
    fn describe(&self) -> String {
        format!("LeakyReLU({})", self.slope)
    }
    fn param_specs(&self) -> Vec<ParamSpec> {
        Vec::new()
    }
    fn forward(&self, _: &Ctx, x: &Var) -> Var {
        x.leaky_relu(self.slope)
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Tanh;

impl Module for Tanh {
    fn describe(&self) -> String {
        "Tanh".into()
    }
    fn param_specs(&self) -> Vec<ParamSpec> {
        Vec::new()
    }
    fn forward(&self, _: &Ctx, x: &Var) -> Var {
        x.tanh()
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Sigmoid;

impl Module for Sigmoid {
    fn describe(&self) -> String {
        "Sigmoid".into()
    }
    fn param_specs(&self) -> Vec<ParamSpec> {
        Vec::new()
    }
    fn forward(&self, _: &Ctx, x: &Var) -> Var {
        x.sigmoid()
    }
}
