//! layer_norm, group_norm, conv2d_grouped, adaptive_avg_pool2d.

use crate::{assert_close, assert_close_abs, block, matrix, var};

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
