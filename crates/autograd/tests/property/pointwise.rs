//! Element-wise primitives and the fused ones (`sub_mul`, `mul_sum_to`, `relu_backward`,
//! `sigmoid_backward`, `tanh_backward`).

use autograd::Var;
use tensor::Tensor;

use crate::strategies::{
    broadcast_pair, fixed, same_shape,
    Domain::{Any, Positive, Separated},
};
use crate::Case;

pub fn cases() -> Vec<Case> {
    vec![
        // ----- element-wise primitives -----
        Case {
            name: "neg",
            inputs: || same_shape(&[Any]),
            f: |x| x[0].neg(),
            order: 3,
        },
        Case {
            name: "exp",
            inputs: || same_shape(&[Any]),
            f: |x| x[0].exp(),
            order: 3,
        },
        Case {
            name: "log",
            inputs: || same_shape(&[Positive]),
            f: |x| x[0].log(),
            order: 3,
        },
        Case {
            name: "sin",
            inputs: || same_shape(&[Any]),
            f: |x| x[0].sin(),
            order: 3,
        },
        Case {
            name: "cos",
            inputs: || same_shape(&[Any]),
            f: |x| x[0].cos(),
            order: 3,
        },
        Case {
            name: "tanh",
            inputs: || same_shape(&[Any]),
            f: |x| x[0].tanh(),
            order: 3,
        },
        Case {
            name: "sigmoid",
            inputs: || same_shape(&[Any]),
            f: |x| x[0].sigmoid(),
            order: 3,
        },
        Case {
            name: "relu",
            inputs: || same_shape(&[Separated]),
            f: |x| x[0].relu(),
            order: 2,
        },
        Case {
            name: "powf 2.5",
            inputs: || same_shape(&[Positive]),
            f: |x| x[0].powf(2.5),
            order: 3,
        },
        Case {
            name: "powf −1.5",
            inputs: || same_shape(&[Positive]),
            f: |x| x[0].powf(-1.5),
            order: 3,
        },
        Case {
            name: "add_scalar",
            inputs: || same_shape(&[Any]),
            f: |x| x[0].add_scalar(0.7),
            order: 3,
        },
        Case {
            name: "mul_scalar",
            inputs: || same_shape(&[Any]),
            f: |x| x[0].mul_scalar(-1.3),
            order: 3,
        },
        Case {
            name: "log1p",
            inputs: || same_shape(&[Any]),
            f: |x| x[0].mul_scalar(0.4).log1p(),
            order: 3,
        },
        Case {
            name: "expm1",
            inputs: || same_shape(&[Any]),
            f: |x| x[0].expm1(),
            order: 3,
        },
        Case {
            name: "softplus",
            inputs: || same_shape(&[Any]),
            f: |x| x[0].softplus(),
            order: 3,
        },
        Case {
            // Arguments up to ±40, where the stable form matters for the forward value.
            name: "softplus, large arguments",
            inputs: || same_shape(&[Any]),
            f: |x| x[0].mul_scalar(20.0).softplus(),
            order: 3,
        },
        Case {
            name: "erf",
            inputs: || same_shape(&[Any]),
            f: |x| x[0].erf(),
            order: 3,
        },
        // ----- activations (composites) -----
        Case {
            name: "elu",
            inputs: || same_shape(&[Separated]),
            f: |x| x[0].elu(0.7),
            order: 3,
        },
        Case {
            name: "gelu",
            inputs: || same_shape(&[Any]),
            f: |x| x[0].gelu(),
            order: 3,
        },
        Case {
            name: "gelu_tanh",
            inputs: || same_shape(&[Any]),
            f: |x| x[0].gelu_tanh(),
            order: 3,
        },
        Case {
            name: "silu",
            inputs: || same_shape(&[Any]),
            f: |x| x[0].silu(),
            order: 3,
        },
        Case {
            name: "add",
            inputs: || broadcast_pair(&[Any, Any]),
            f: |x| &x[0] + &x[1],
            order: 3,
        },
        Case {
            name: "sub",
            inputs: || broadcast_pair(&[Any, Any]),
            f: |x| &x[0] - &x[1],
            order: 3,
        },
        Case {
            name: "mul",
            inputs: || broadcast_pair(&[Any, Any]),
            f: |x| &x[0] * &x[1],
            order: 3,
        },
        Case {
            name: "div",
            inputs: || broadcast_pair(&[Any, Positive]),
            f: |x| &x[0] / &x[1],
            order: 3,
        },
        Case {
            name: "select",
            inputs: || same_shape(&[Separated, Any, Any]),
            f: |x| {
                let mask = x[0].value().gt_mask(&Tensor::scalar(0.0f64));
                Var::select(&mask, &x[1], &x[2])
            },
            order: 3,
        },
        // ----- fused primitives -----
        Case {
            name: "sub_mul",
            inputs: || same_shape(&[Any, Any, Any]),
            f: |x| x[0].sub_mul(&x[1], &x[2]),
            order: 3,
        },
        Case {
            name: "sub_mul (broadcast step size)",
            inputs: || fixed(&[(&[2, 3], Any), (&[3], Any), (&[2, 3], Any)]),
            f: |x| x[0].sub_mul(&x[1], &x[2]).square(),
            order: 3,
        },
        Case {
            name: "sub_mul, step size broadcast over tasks by a broadcast_to node",
            inputs: || fixed(&[(&[2, 3], Any), (&[3], Any), (&[2, 3], Any)]),
            f: |x| x[0].sub_mul(&x[1].broadcast_to(&[2, 3]), &x[2]).square(),
            order: 3,
        },
        Case {
            name: "mul_sum_to (per channel)",
            inputs: || fixed(&[(&[2, 3, 2, 2], Any), (&[2, 3, 2, 2], Any)]),
            f: |x| x[0].mul_sum_to(&x[1], &[1, 3, 1, 1]).square(),
            order: 3,
        },
        Case {
            name: "mul_sum_to (over a leading task axis)",
            inputs: || fixed(&[(&[3, 2, 4], Any), (&[3, 2, 4], Any)]),
            f: |x| x[0].mul_sum_to(&x[1], &[2, 4]).square(),
            order: 3,
        },
        Case {
            name: "mul_sum_to (a broadcast factor)",
            inputs: || fixed(&[(&[2, 3], Any), (&[3], Any)]),
            f: |x| x[0].mul_sum_to(&x[1], &[3]).square(),
            order: 3,
        },
        Case {
            name: "relu_backward",
            inputs: || same_shape(&[Any, Separated]),
            f: |x| x[0].relu_backward(x[1].value()).square(),
            order: 3,
        },
        // The backward passes of sigmoid and tanh as functions of both the gradient and the
        // output (the `sigmoid` and `tanh` cases reach them only with y tied to x).
        Case {
            name: "sigmoid_backward",
            inputs: || same_shape(&[Any, Any]),
            f: |x| x[0].sigmoid_backward(&x[1]).square(),
            order: 3,
        },
        Case {
            name: "tanh_backward",
            inputs: || same_shape(&[Any, Any]),
            f: |x| x[0].tanh_backward(&x[1]).square(),
            order: 3,
        },
    ]
}
