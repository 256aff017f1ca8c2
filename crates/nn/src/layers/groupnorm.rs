//! Layer norm and group norm: normalisation by each sample's own statistics, with no running
//! averages and nothing that depends on the rest of the batch — what MAML variants without
//! batch norm use. Both are composites in `autograd` (`Var::layer_norm`, `Var::group_norm`),
//! so second derivatives through them (a meta-gradient) need nothing more.

use autograd::Var;

use crate::init::Init;
use crate::module::{Ctx, Module, ParamSpec};

/// Layer normalisation over the trailing axes `normalized_shape`: each sample by its own
/// mean and variance, then `weight` (γ, initially 1) and `bias` (β, initially 0) of shape
/// `normalized_shape`.
#[derive(Clone, Debug)]
pub struct LayerNorm {
    pub normalized_shape: Vec<usize>,
    /// Added to the variance before the square root.
    pub eps: f64,
    /// Learn γ and β.
    pub affine: bool,
}

impl LayerNorm {
    pub fn new(normalized_shape: &[usize]) -> LayerNorm {
        LayerNorm {
            normalized_shape: normalized_shape.to_vec(),
            eps: 1e-5,
            affine: true,
        }
    }
}

impl Module for LayerNorm {
    fn describe(&self) -> String {
        format!("LayerNorm({:?})", self.normalized_shape)
    }

    fn param_specs(&self) -> Vec<ParamSpec> {
        if !self.affine {
            return Vec::new();
        }
        vec![
            ParamSpec::new("weight", &self.normalized_shape, Init::Constant(1.0)),
            ParamSpec::new("bias", &self.normalized_shape, Init::Constant(0.0)),
        ]
    }

    fn forward(&self, ctx: &Ctx, x: &Var) -> Var {
        let shape = &self.normalized_shape;
        let weight = self.affine.then(|| ctx.param(self, "weight", shape));
        let bias = self.affine.then(|| ctx.param(self, "bias", shape));
        x.layer_norm(shape, weight, bias, self.eps)
    }
}

/// Group normalisation of `[N, C, …]` inputs: the channels in `groups` consecutive groups,
/// each sample's group normalised by its own mean and variance, then a per-channel `weight`
/// (γ, initially 1) and `bias` (β, initially 0), each `[C]`.
#[derive(Clone, Debug)]
pub struct GroupNorm {
    pub groups: usize,
    pub channels: usize,
    /// Added to the variance before the square root.
    pub eps: f64,
    /// Learn γ and β.
    pub affine: bool,
}

impl GroupNorm {
    /// # Panics
    /// If `groups` does not divide `channels`.
    pub fn new(groups: usize, channels: usize) -> GroupNorm {
        assert!(
            groups > 0 && channels.is_multiple_of(groups),
            "GroupNorm: {groups} groups do not divide {channels} channels"
        );
        GroupNorm {
            groups,
            channels,
            eps: 1e-5,
            affine: true,
        }
    }
}

impl Module for GroupNorm {
    fn describe(&self) -> String {
        format!(
            "GroupNorm({} groups, {} channels)",
            self.groups, self.channels
        )
    }

    fn param_specs(&self) -> Vec<ParamSpec> {
        if !self.affine {
            return Vec::new();
        }
        vec![
            ParamSpec::new("weight", &[self.channels], Init::Constant(1.0)),
            ParamSpec::new("bias", &[self.channels], Init::Constant(0.0)),
        ]
    }

    fn forward(&self, ctx: &Ctx, x: &Var) -> Var {
        assert!(
            x.ndim() >= 2 && x.shape()[1] == self.channels,
            "{}: input has shape {:?}, expected [N, {}, …]",
            self.describe(),
            x.shape(),
            self.channels
        );
        let weight = self
            .affine
            .then(|| ctx.param(self, "weight", &[self.channels]));
        let bias = self
            .affine
            .then(|| ctx.param(self, "bias", &[self.channels]));
        x.group_norm(self.groups, weight, bias, self.eps)
    }
}
