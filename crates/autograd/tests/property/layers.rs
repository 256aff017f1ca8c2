//! Normalisation, convolution and pooling, and the composites that `nn` builds from primitives.

use autograd::ConvGrouping;
use tensor::conv::Conv2dParams;

use crate::strategies::{
    fixed, same_shape,
    Domain::{Any, Positive, Separated},
};
use crate::Case;

pub fn cases() -> Vec<Case> {
    vec![
        // ----- normalisation -----
        Case {
            name: "normalize_channels",
            inputs: || fixed(&[(&[3, 2, 2], Any)]),
            f: |x| x[0].normalize_channels(1e-3).sin(),
            order: 3,
        },
        Case {
            name: "normalize_channels, 4-d with an affine map",
            inputs: || fixed(&[(&[2, 3, 2, 2], Any), (&[1, 3, 1, 1], Any)]),
            f: |x| (&x[0].normalize_channels(0.1) * &x[1]).tanh(),
            order: 3,
        },
        Case {
            name: "layer_norm with weight and bias",
            inputs: || fixed(&[(&[2, 2, 3], Any), (&[2, 3], Any), (&[2, 3], Any)]),
            f: |x| {
                x[0].layer_norm(&[2, 3], Some(&x[1]), Some(&x[2]), 1e-3)
                    .sin()
            },
            order: 3,
        },
        Case {
            name: "layer_norm over the last axis, no affine",
            inputs: || fixed(&[(&[3, 4], Any)]),
            f: |x| x[0].layer_norm(&[4], None, None, 0.1).square(),
            order: 3,
        },
        Case {
            name: "group_norm",
            inputs: || fixed(&[(&[2, 4, 2, 1], Any), (&[4], Any), (&[4], Any)]),
            f: |x| x[0].group_norm(2, Some(&x[1]), Some(&x[2]), 1e-3).tanh(),
            order: 3,
        },
        Case {
            name: "group_norm, one channel per group (instance norm)",
            inputs: || fixed(&[(&[1, 2, 3], Any)]),
            f: |x| x[0].group_norm(2, None, None, 0.1).sin(),
            order: 3,
        },
        // ----- convolution and pooling -----
        Case {
            name: "conv2d",
            inputs: || fixed(&[(&[1, 2, 4, 4], Any), (&[2, 2, 3, 3], Any)]),
            f: |x| x[0].conv2d(&x[1], Conv2dParams::new(1, 1)).tanh(),
            order: 3,
        },
        Case {
            name: "conv2d stride 2",
            inputs: || fixed(&[(&[2, 1, 5, 5], Any), (&[2, 1, 3, 3], Any)]),
            f: |x| x[0].conv2d(&x[1], Conv2dParams::new(2, 1)).square(),
            order: 3,
        },
        Case {
            // Enough input channels for the channels-last lowering, which the Omniglot net's
            // 64-channel layers take (`tensor::conv::channels_last`).
            name: "conv2d with 16 input channels",
            inputs: || fixed(&[(&[1, 16, 3, 3], Any), (&[2, 16, 2, 2], Any)]),
            f: |x| x[0].conv2d(&x[1], Conv2dParams::new(2, 1)).tanh(),
            order: 3,
        },
        Case {
            name: "conv2d, dilation 2",
            inputs: || fixed(&[(&[1, 2, 6, 5], Any), (&[2, 2, 2, 2], Any)]),
            f: |x| {
                let grouping = ConvGrouping {
                    dilation: (2, 2),
                    groups: 1,
                };
                x[0].conv2d_grouped(&x[1], Conv2dParams::new(1, 1), grouping)
                    .tanh()
            },
            order: 3,
        },
        Case {
            name: "conv2d, 2 groups, stride 2",
            inputs: || fixed(&[(&[1, 4, 4, 4], Any), (&[4, 2, 2, 2], Any)]),
            f: |x| {
                let grouping = ConvGrouping {
                    dilation: (1, 1),
                    groups: 2,
                };
                x[0].conv2d_grouped(&x[1], Conv2dParams::new(2, 1), grouping)
                    .sin()
            },
            order: 3,
        },
        Case {
            name: "depthwise conv2d, dilated along W",
            inputs: || fixed(&[(&[2, 3, 4, 4], Any), (&[3, 1, 3, 2], Any)]),
            f: |x| {
                let grouping = ConvGrouping {
                    dilation: (1, 2),
                    groups: 3,
                };
                x[0].conv2d_grouped(&x[1], Conv2dParams::new(1, 1), grouping)
                    .square()
            },
            order: 3,
        },
        Case {
            name: "adaptive_avg_pool2d (overlapping bins)",
            inputs: || fixed(&[(&[1, 2, 5, 4], Any)]),
            f: |x| x[0].adaptive_avg_pool2d((3, 3)).square(),
            order: 3,
        },
        Case {
            name: "max_pool2d",
            inputs: || fixed(&[(&[1, 2, 4, 4], Separated)]),
            f: |x| x[0].max_pool2d((2, 2), (2, 2), (0, 0)).square(),
            order: 2,
        },
        Case {
            name: "avg_pool2d",
            inputs: || fixed(&[(&[1, 1, 4, 4], Any)]),
            f: |x| x[0].avg_pool2d((2, 2), (1, 1), (1, 1)).square(),
            order: 3,
        },
        // ----- composites -----
        Case {
            name: "square",
            inputs: || same_shape(&[Any]),
            f: |x| x[0].square(),
            order: 3,
        },
        Case {
            name: "sqrt",
            inputs: || same_shape(&[Positive]),
            f: |x| x[0].sqrt(),
            order: 3,
        },
        Case {
            name: "abs",
            inputs: || same_shape(&[Separated]),
            f: |x| x[0].abs().square(),
            order: 2,
        },
        Case {
            name: "leaky_relu",
            inputs: || same_shape(&[Separated]),
            f: |x| x[0].leaky_relu(0.1).square(),
            order: 2,
        },
        Case {
            name: "maximum",
            inputs: || same_shape(&[Separated, Separated]),
            f: |x| {
                x[0].maximum(&x[1].mul_scalar(1.01).add_scalar(0.05))
                    .square()
            },
            order: 2,
        },
        Case {
            name: "softmax",
            inputs: || fixed(&[(&[2, 3], Any)]),
            f: |x| x[0].softmax(-1),
            order: 3,
        },
        Case {
            name: "log_softmax",
            inputs: || fixed(&[(&[2, 3], Any)]),
            f: |x| x[0].log_softmax(-1),
            order: 3,
        },
        Case {
            name: "logsumexp",
            inputs: || fixed(&[(&[3, 2], Any)]),
            f: |x| x[0].logsumexp(&[0], false),
            order: 3,
        },
        Case {
            name: "mse",
            inputs: || fixed(&[(&[4, 1], Any), (&[4, 1], Any)]),
            f: |x| (&x[0] - &x[1]).square().mean_all(),
            order: 3,
        },
        Case {
            name: "cross-entropy",
            inputs: || fixed(&[(&[3, 4], Any)]),
            f: |x| {
                // −mean log p(label): labels 2, 0, 3.
                let log_p = x[0].log_softmax(-1);
                log_p.gather(1, &[2, 0, 3], &[3, 1]).mean_all().neg()
            },
            order: 3,
        },
        Case {
            name: "batch-norm normalisation",
            inputs: || fixed(&[(&[4, 2], Any), (&[2], Positive), (&[2], Any)]),
            f: |x| {
                // (x − mean) / √(var + ε) · γ + β over the batch axis.
                let mean = x[0].mean(&[0], true);
                let centered = &x[0] - &mean;
                let var = centered.square().mean(&[0], true);
                let normalised = &centered / &var.add_scalar(1e-5).sqrt();
                &(&normalised * &x[1]) + &x[2]
            },
            order: 3,
        },
        Case {
            name: "two-layer MLP",
            inputs: || fixed(&[(&[3, 1], Any), (&[1, 4], Any), (&[4], Any), (&[4, 1], Any)]),
            f: |x| {
                let hidden = (&x[0].matmul(&x[1]) + &x[2]).tanh();
                hidden.matmul(&x[3]).square().mean_all()
            },
            order: 3,
        },
    ]
}
