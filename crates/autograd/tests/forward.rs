//! Forward values of the newer ops against independent references: values computed with
//! Python's `math` module in f64 (`math.log1p`, `math.expm1`, `math.erf`, …, written out
//! below), or a straightforward loop.

use std::f64::consts::LN_2;

use autograd::Var;
use tensor::Tensor;

fn var(values: &[f64]) -> Var {
    Var::leaf(Tensor::from_slice(values, &[values.len()]).unwrap())
}

/// Element-wise agreement to a relative 1e-14 (absolute below 1e-300).
fn assert_close(actual: &Var, expected: &[f64], what: &str) {
    let actual = actual.value().to_vec::<f64>();
    assert_eq!(actual.len(), expected.len(), "{what}: length");
    for (k, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!(
            (a - e).abs() <= 1e-14 * e.abs() + 1e-300,
            "{what}[{k}]: {a} vs {e}"
        );
    }
}

const XS: [f64; 5] = [-3.0, -0.5, 1e-10, 0.7, 2.0];

#[test]
fn log1p_and_expm1_keep_tiny_arguments_exact() {
    let x = var(&[-0.5, 1e-10, 0.7, 2.0]);
    assert_close(
        &x.log1p(),
        &[
            -LN_2,
            9.999999999500001e-11,
            0.5306282510621704,
            1.0986122886681096,
        ],
        "log1p",
    );
    assert_close(
        &var(&XS).expm1(),
        &[
            -0.950212931632136,
            -0.3934693402873666,
            1.00000000005e-10,
            1.0137527074704764,
            6.38905609893065,
        ],
        "expm1",
    );
}

#[test]
fn softplus_is_stable_at_both_ends() {
    // Naively ln(1 + e^800) is inf and ln(1 + e^−30) rounds to 9.3e-14 with 2 digits lost;
    // the reference is ln1p(e^−|x|) + max(x, 0).
    let x = var(&[-30.0, -3.0, 0.0, 0.7, 40.0, 800.0]);
    assert_close(
        &x.softplus(),
        &[
            9.357622968839737e-14,
            0.04858735157374206,
            LN_2,
            1.103186048885458,
            40.0,
            800.0,
        ],
        "softplus",
    );
    let f32_large = Var::leaf(Tensor::from_slice(&[100.0f32, -100.0], &[2]).unwrap());
    let y = f32_large.softplus().value().to_vec::<f32>();
    assert_eq!(y[0], 100.0);
    assert!(y[1] > 0.0 && y[1] < 1e-40, "{}", y[1]);
}

#[test]
fn erf_against_python() {
    assert_close(
        &var(&XS).erf(),
        &[
            -0.9999779095030014,
            -0.5204998778130465,
            1.1283791670955126e-10,
            0.6778011938374184,
            0.9953222650189527,
        ],
        "erf",
    );
}

#[test]
fn activations_against_python() {
    let x = var(&XS);
    assert_close(
        &x.elu(0.5),
        &[-0.475106465816068, -0.1967346701436833, 1e-10, 0.7, 2.0],
        "elu",
    );
    assert_close(
        &x.gelu(),
        &[
            -0.00404969409489031,
            -0.15426876936299344,
            5.000000000398942e-11,
            0.5306254434438489,
            1.9544997361036416,
        ],
        "gelu",
    );
    assert_close(
        &x.gelu_tanh(),
        &[
            -0.0036373920817729943,
            -0.15428599017485606,
            5.000000000398942e-11,
            0.5305701347051167,
            1.954597694087775,
        ],
        "gelu_tanh",
    );
    assert_close(
        &x.silu(),
        &[
            -0.14227761953270035,
            -0.1887703343990727,
            5.00000000025e-11,
            0.46773144051771626,
            1.7615941559557646,
        ],
        "silu",
    );
}

fn matrix(values: &[f64], shape: &[usize]) -> Var {
    Var::leaf(Tensor::from_slice(values, shape).unwrap())
}

/// The 2 × 3 × 4 test tensor, values chosen with zeros and mixed signs.
fn block() -> (Vec<f64>, Var) {
    let values: Vec<f64> = (0..24)
        .map(|k| {
            if k % 7 == 3 {
                0.0
            } else {
                0.3 * k as f64 - 3.1
            }
        })
        .collect();
    let v = matrix(&values, &[2, 3, 4]);
    (values, v)
}

#[test]
fn prod_against_a_loop_zeros_included() {
    let (values, x) = block();
    // Over axis 1 of [2, 3, 4]: out[i][k] = Π_j x[i][j][k].
    let mut expected = vec![1.0; 8];
    for i in 0..2 {
        for j in 0..3 {
            for k in 0..4 {
                expected[i * 4 + k] *= values[(i * 3 + j) * 4 + k];
            }
        }
    }
    assert_close(&x.prod(&[1], false), &expected, "prod over axis 1");
    assert_eq!(x.prod(&[1], true).shape(), [2, 1, 4]);
    // Over axes 0 and 2 (a merged reduction of 8 elements per output).
    let mut expected = vec![1.0; 3];
    for (flat, v) in values.iter().enumerate() {
        expected[(flat / 4) % 3] *= v;
    }
    assert_close(&x.prod(&[0, -1], false), &expected, "prod over axes 0, 2");
    let total: f64 = values.iter().product();
    assert_close(&x.prod(&[0, 1, 2], false), &[total], "prod over all");
    // The gradient at a single zero is the product of the others (not 0/0).
    let x = var(&[2.0, 0.0, -3.0]);
    let g = autograd::grad(&[&x.prod(&[0], false)], &[&x], false).unwrap();
    assert_eq!(g[0].value().to_vec::<f64>(), [0.0, -6.0, 0.0]);
}

#[test]
fn var_std_and_norm_against_loops() {
    let (values, x) = block();
    // Over the last axis, rows of 4.
    let rows: Vec<&[f64]> = values.chunks(4).collect();
    let mean = |r: &[f64]| r.iter().sum::<f64>() / r.len() as f64;
    let ss = |r: &[f64]| r.iter().map(|v| (v - mean(r)).powi(2)).sum::<f64>();
    let unbiased: Vec<f64> = rows.iter().map(|r| ss(r) / 3.0).collect();
    let population: Vec<f64> = rows.iter().map(|r| ss(r) / 4.0).collect();
    assert_close(&x.var(&[-1], 1, false), &unbiased, "var, correction 1");
    assert_close(&x.var(&[-1], 0, false), &population, "var, correction 0");
    let std: Vec<f64> = unbiased.iter().map(|v| v.sqrt()).collect();
    assert_close(&x.std(&[2], 1, false), &std, "std");
    let l1: Vec<f64> = rows
        .iter()
        .map(|r| r.iter().map(|v| v.abs()).sum())
        .collect();
    let l2: Vec<f64> = rows
        .iter()
        .map(|r| r.iter().map(|v| v * v).sum::<f64>().sqrt())
        .collect();
    let linf: Vec<f64> = rows
        .iter()
        .map(|r| r.iter().fold(0.0, |m: f64, v| m.max(v.abs())))
        .collect();
    assert_close(&x.norm(1.0, &[-1], false), &l1, "norm 1");
    assert_close(&x.norm(2.0, &[-1], false), &l2, "norm 2");
    assert_close(&x.norm(f64::INFINITY, &[-1], false), &linf, "norm inf");
}

#[test]
fn norms_at_zero_have_the_zero_subgradient_at_every_order() {
    for p in [1.0, 2.0, f64::INFINITY] {
        let x = var(&[0.0, 0.0, 0.0]);
        let n = x.norm(p, &[0], false);
        assert_eq!(n.item(), 0.0);
        let g = autograd::grad(&[&n], &[&x], true).unwrap().remove(0);
        assert_eq!(g.value().to_vec::<f64>(), [0.0; 3], "p = {p}");
        if g.requires_grad() {
            let h = autograd::grad(&[&g.sum_all()], &[&x], false).unwrap();
            assert_eq!(h[0].value().to_vec::<f64>(), [0.0; 3], "p = {p}");
        }
    }
}

#[test]
#[should_panic(expected = "norm: p must be 1, 2 or infinity, got 3 (input shape [2])")]
fn other_norms_are_refused() {
    var(&[1.0, 2.0]).norm(3.0, &[0], false);
}

#[test]
fn cumsum_flip_roll_repeat_by_hand() {
    let x = matrix(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
    assert_close(&x.cumsum(1), &[1.0, 3.0, 6.0, 4.0, 9.0, 15.0], "cumsum 1");
    assert_close(&x.cumsum(-2), &[1.0, 2.0, 3.0, 5.0, 7.0, 9.0], "cumsum 0");
    assert_close(&x.flip(&[1]), &[3.0, 2.0, 1.0, 6.0, 5.0, 4.0], "flip 1");
    assert_close(
        &x.flip(&[0, 1]),
        &[6.0, 5.0, 4.0, 3.0, 2.0, 1.0],
        "flip both",
    );
    // Roll right by 1 along the rows, and by −4 ≡ 2 (mod 3).
    assert_close(&x.roll(1, 1), &[3.0, 1.0, 2.0, 6.0, 4.0, 5.0], "roll 1");
    assert_close(&x.roll(-4, 1), &[2.0, 3.0, 1.0, 5.0, 6.0, 4.0], "roll -4");
    assert_close(
        &x.roll(1, 0),
        &[4.0, 5.0, 6.0, 1.0, 2.0, 3.0],
        "roll axis 0",
    );
    let r = x.repeat(&[2, 1, 2]);
    assert_eq!(r.shape(), [2, 2, 6]);
    let row0 = [1.0, 2.0, 3.0, 1.0, 2.0, 3.0];
    let row1 = [4.0, 5.0, 6.0, 4.0, 5.0, 6.0];
    let expected: Vec<f64> = [row0, row1, row0, row1].concat();
    assert_close(&r, &expected, "repeat");
    // Gradient of a repeat: each element was copied 4 times.
    let g = autograd::grad(&[&r.sum_all()], &[&x], false).unwrap();
    assert_eq!(g[0].value().to_vec::<f64>(), [4.0; 6]);
}

#[test]
fn where_masked_fill_and_tensor_clamp_by_hand() {
    let a = var(&[1.0, 2.0, 3.0]);
    let b = var(&[-1.0, -2.0, -3.0]);
    let picked = Var::where_mask(&[true, false, true], &[3], &a, &b);
    assert_close(&picked, &[1.0, -2.0, 3.0], "where_mask");
    let g = autograd::grad(&[&picked.sum_all()], &[&a, &b], false).unwrap();
    assert_eq!(g[0].value().to_vec::<f64>(), [1.0, 0.0, 1.0]);
    assert_eq!(g[1].value().to_vec::<f64>(), [0.0, 1.0, 0.0]);
    let x = matrix(&[1.0, 2.0, 3.0, 4.0], &[2, 2]);
    assert_close(
        &x.masked_fill(&[false, true], &[2], 9.0),
        &[1.0, 9.0, 3.0, 9.0],
        "masked_fill",
    );
    let x = var(&[-2.0, 0.5, 3.0, 1.0]);
    let low = var(&[-1.0, 0.0, 0.0, 2.0]);
    let high = var(&[1.0, 1.0, 2.0, 1.5]);
    // Clamped below, inside, clamped above, and low > high (the result is high).
    let y = x.clamp_between(&low, &high);
    assert_close(&y, &[-1.0, 0.5, 2.0, 1.5], "clamp_between");
    let g = autograd::grad(&[&y.sum_all()], &[&x, &low, &high], false).unwrap();
    assert_eq!(g[0].value().to_vec::<f64>(), [0.0, 1.0, 0.0, 0.0]);
    assert_eq!(g[1].value().to_vec::<f64>(), [1.0, 0.0, 0.0, 0.0]);
    assert_eq!(g[2].value().to_vec::<f64>(), [0.0, 0.0, 1.0, 1.0]);
}

/// `(v − mean) / √(var + eps) · w + b` over one slice, by a loop.
fn standardized(slice: &[f64], eps: f64) -> Vec<f64> {
    let n = slice.len() as f64;
    let mean = slice.iter().sum::<f64>() / n;
    let var = slice.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    slice
        .iter()
        .map(|v| (v - mean) / (var + eps).sqrt())
        .collect()
}

#[test]
fn layer_norm_and_group_norm_against_loops() {
    let (values, x) = block(); // [2, 3, 4]
    let eps = 1e-3;
    // Layer norm over [3, 4]: each sample of 12, then weight and bias of shape [3, 4].
    let w: Vec<f64> = (0..12).map(|k| 0.5 + 0.1 * k as f64).collect();
    let b: Vec<f64> = (0..12).map(|k| 0.2 * k as f64 - 1.0).collect();
    let expected: Vec<f64> = values
        .chunks(12)
        .flat_map(|sample| standardized(sample, eps))
        .enumerate()
        .map(|(k, v)| v * w[k % 12] + b[k % 12])
        .collect();
    let (wv, bv) = (matrix(&w, &[3, 4]), matrix(&b, &[3, 4]));
    assert_close(
        &x.layer_norm(&[3, 4], Some(&wv), Some(&bv), eps),
        &expected,
        "layer_norm",
    );
    let last_axis: Vec<f64> = values
        .chunks(4)
        .flat_map(|row| standardized(row, eps))
        .collect();
    assert_close(
        &x.layer_norm(&[4], None, None, eps),
        &last_axis,
        "layer_norm, last axis",
    );
    // Group norm of [N = 2, C = 4, 3] in 2 groups: each sample's channels {0, 1} and {2, 3}
    // (6 values each), then a per-channel weight and bias.
    let x = matrix(&values, &[2, 4, 3]);
    let cw = [1.0, -0.5, 2.0, 0.25];
    let cb = [0.0, 1.0, -1.0, 0.5];
    let expected: Vec<f64> = values
        .chunks(6)
        .flat_map(|group| standardized(group, eps))
        .enumerate()
        .map(|(k, v)| {
            let channel = (k / 3) % 4;
            v * cw[channel] + cb[channel]
        })
        .collect();
    let y = x.group_norm(2, Some(&var(&cw)), Some(&var(&cb)), eps);
    assert_close(&y, &expected, "group_norm");
}

#[test]
#[should_panic(expected = "group_norm: 3 groups for an input of shape [2, 4, 3]")]
fn group_norm_needs_groups_that_divide_the_channels() {
    matrix(&[0.0; 24], &[2, 4, 3]).group_norm(3, None, None, 1e-5);
}

/// A convolution by its definition, one output at a time:
/// `y[n, o, i, j] = Σ_{c in o's group, u, v} x[n, c, i·s − p + u·d, j·s − p + v·d] · w[o, c', u, v]`.
fn conv_by_loops(
    x: (&[f64], [usize; 4]),
    w: (&[f64], [usize; 4]),
    stride: usize,
    padding: usize,
    dilation: (usize, usize),
    groups: usize,
) -> (Vec<f64>, [usize; 4]) {
    let ((xv, [n, c, h, wd]), (wv, [o, cg, kh, kw])) = (x, w);
    let span = |k: usize, d: usize| (k - 1) * d + 1;
    let ho = (h + 2 * padding - span(kh, dilation.0)) / stride + 1;
    let wo = (wd + 2 * padding - span(kw, dilation.1)) / stride + 1;
    let per_out = o / groups;
    let mut y = vec![0.0; n * o * ho * wo];
    for b in 0..n {
        for oc in 0..o {
            let group = oc / per_out;
            for i in 0..ho {
                for j in 0..wo {
                    let mut sum = 0.0;
                    for cc in 0..cg {
                        let ic = group * cg + cc;
                        for u in 0..kh {
                            for v in 0..kw {
                                let r = (i * stride + u * dilation.0) as isize - padding as isize;
                                let s = (j * stride + v * dilation.1) as isize - padding as isize;
                                if r < 0 || s < 0 || r >= h as isize || s >= wd as isize {
                                    continue;
                                }
                                let xi = ((b * c + ic) * h + r as usize) * wd + s as usize;
                                sum += xv[xi] * wv[((oc * cg + cc) * kh + u) * kw + v];
                            }
                        }
                    }
                    y[((b * o + oc) * ho + i) * wo + j] = sum;
                }
            }
        }
    }
    (y, [n, o, ho, wo])
}

#[test]
fn grouped_and_dilated_conv2d_against_loops() {
    use autograd::ConvGrouping;
    use tensor::conv::Conv2dParams;
    let values = |count: usize, scale: f64| -> Vec<f64> {
        (0..count)
            .map(|k| ((k * 37 % 11) as f64 - 5.0) * scale)
            .collect()
    };
    // (input shape, weight shape, stride, padding, dilation, groups)
    type ConvCase = ([usize; 4], [usize; 4], usize, usize, (usize, usize), usize);
    let cases: [ConvCase; 4] = [
        ([1, 2, 7, 6], [3, 2, 3, 2], 1, 0, (2, 3), 1),
        ([2, 4, 5, 5], [6, 2, 2, 3], 2, 1, (1, 1), 2),
        ([1, 3, 6, 6], [3, 1, 3, 3], 1, 2, (2, 2), 3),
        ([2, 4, 5, 4], [8, 1, 2, 2], 1, 1, (1, 2), 4),
    ];
    for (xs, ws, stride, padding, dilation, groups) in cases {
        let (xv, wv) = (
            values(xs.iter().product(), 0.1),
            values(ws.iter().product(), 0.3),
        );
        let (expected, shape) =
            conv_by_loops((&xv, xs), (&wv, ws), stride, padding, dilation, groups);
        let x = matrix(&xv, &xs);
        let w = matrix(&wv, &ws);
        let y = x.conv2d_grouped(
            &w,
            Conv2dParams::new(stride, padding),
            ConvGrouping { dilation, groups },
        );
        assert_eq!(y.shape(), shape);
        assert_close_abs(&y, &expected, 1e-12, "conv2d_grouped");
    }
}

/// Element-wise agreement to an absolute tolerance (for sums that may cancel to 0).
fn assert_close_abs(actual: &Var, expected: &[f64], tol: f64, what: &str) {
    let actual = actual.value().to_vec::<f64>();
    assert_eq!(actual.len(), expected.len(), "{what}: length");
    for (k, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!((a - e).abs() <= tol, "{what}[{k}]: {a} vs {e}");
    }
}

#[test]
fn adaptive_avg_pool2d_against_loops() {
    let (h, w) = (5, 7);
    let xv: Vec<f64> = (0..2 * h * w).map(|k| (k as f64 * 0.37).sin()).collect();
    let x = matrix(&xv, &[1, 2, h, w]);
    for (oh, ow) in [(3, 2), (5, 7), (1, 1), (2, 4)] {
        let mut expected = Vec::new();
        for c in 0..2 {
            for i in 0..oh {
                let (r0, r1) = (i * h / oh, ((i + 1) * h).div_ceil(oh));
                for j in 0..ow {
                    let (s0, s1) = (j * w / ow, ((j + 1) * w).div_ceil(ow));
                    let mut sum = 0.0;
                    for r in r0..r1 {
                        for s in s0..s1 {
                            sum += xv[(c * h + r) * w + s];
                        }
                    }
                    expected.push(sum / ((r1 - r0) * (s1 - s0)) as f64);
                }
            }
        }
        let y = x.adaptive_avg_pool2d((oh, ow));
        assert_eq!(y.shape(), [1, 2, oh, ow]);
        assert_close_abs(&y, &expected, 1e-14, "adaptive_avg_pool2d");
    }
}
