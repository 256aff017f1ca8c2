//! Shape-only layers between the convolutional body and a linear head.

use autograd::Var;

use crate::module::{Ctx, Module, ParamSpec};

/// Merges every axis from `start` on: `[N, C, H, W]` → `[N, C·H·W]` with `start = 1`.
#[derive(Clone, Copy, Debug)]
pub struct Flatten {
    pub start: usize,
}

impl Module for Flatten {
    fn describe(&self) -> String {
        format!("Flatten(from axis {})", self.start)
    }
    fn param_specs(&self) -> Vec<ParamSpec> {
        Vec::new()
    }
    fn forward(&self, _: &Ctx, x: &Var) -> Var {
        x.flatten_from(self.start)
    }
}

/// The mean over the two spatial axes: `[N, C, H, W]` → `[N, C]` (MAML's Omniglot network
/// averages its last feature map this way before the linear head).
#[derive(Clone, Copy, Debug, Default)]
pub struct SpatialMean;

impl Module for SpatialMean {
    fn describe(&self) -> String {
        "SpatialMean".into()
    }
    fn param_specs(&self) -> Vec<ParamSpec> {
        Vec::new()
    }
    fn forward(&self, _: &Ctx, x: &Var) -> Var {
        assert!(
            x.ndim() == 4,
            "SpatialMean: expected [N, C, H, W], got {:?}",
            x.shape()
        );
        x.mean(&[2, 3], false)
    }
}
