//! `y = x·Wᵀ + b`.

use autograd::Var;

use crate::init::Init;
use crate::module::{Ctx, Module, ParamSpec};

/// A fully connected layer. Weight `[out, in]` (PyTorch's layout), bias `[out]`.
///
/// Parameters may carry leading task axes (`[B, out, in]`, `[B, out]`) with inputs
/// `[B, K, in]`: the matmul is then batched, one parameter set per task.
#[derive(Clone, Debug)]
pub struct Linear {
    pub in_features: usize,
    pub out_features: usize,
    pub bias: bool,
    pub weight_init: Init,
    pub bias_init: Init,
}

impl Linear {
    /// With PyTorch's default initialisation: weight and bias uniform in ±1/√in.
    pub fn new(in_features: usize, out_features: usize) -> Linear {
        let bound = 1.0 / (in_features as f64).sqrt();
        Linear {
            in_features,
            out_features,
            bias: true,
            weight_init: Init::Uniform {
                low: -bound,
                high: bound,
            },
            bias_init: Init::Uniform {
                low: -bound,
                high: bound,
            },
        }
    }

    /// The same layer with other initialisers.
    pub fn with_init(mut self, weight: Init, bias: Init) -> Linear {
        self.weight_init = weight;
        self.bias_init = bias;
        self
    }
}

impl Module for Linear {
    fn describe(&self) -> String {
        format!("Linear({} → {})", self.in_features, self.out_features)
    }

    fn param_specs(&self) -> Vec<ParamSpec> {
        let mut specs = vec![ParamSpec::new(
            "weight",
            &[self.out_features, self.in_features],
            self.weight_init,
        )];
        if self.bias {
            specs.push(ParamSpec::new("bias", &[self.out_features], self.bias_init));
        }
        specs
    }

    fn forward(&self, ctx: &Ctx, x: &Var) -> Var {
        assert!(
            x.shape().last() == Some(&self.in_features),
            "{}: input has shape {:?}, expected last axis {}",
            self.describe(),
            x.shape(),
            self.in_features
        );
        let weight = ctx.param(self, "weight", &[self.out_features, self.in_features]);
        // With task axes the weight is [B, out, in] and the bias [B, out]: `linear` adds each
        // task's bias to each of its rows.
        let bias = self
            .bias
            .then(|| ctx.param(self, "bias", &[self.out_features]));
        x.linear(weight, bias)
    }
}
