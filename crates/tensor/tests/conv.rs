//! conv2d and its two adjoints against plain loops, on random shapes, strides, padding and
//! layouts, in f32 and f64; the adjoint identities; the error messages.

mod common;

use proptest::prelude::*;
use tensor::conv::channels_last::CHANNELS_LAST_MIN;
use tensor::rand::{rngs::StdRng, SeedableRng};
use tensor::{Conv2dParams, DType, Tensor};

// ----- Naive references: the defining sums, one loop per index -----

#[derive(Clone, Copy, Debug)]
struct Sizes {
    n: usize,
    c: usize,
    o: usize,
    h: usize,
    w: usize,
    kh: usize,
    kw: usize,
    stride: (usize, usize),
    pad: (usize, usize),
}

impl Sizes {
    fn out_hw(&self) -> (usize, usize) {
        (
            (self.h + 2 * self.pad.0 - self.kh) / self.stride.0 + 1,
            (self.w + 2 * self.pad.1 - self.kw) / self.stride.1 + 1,
        )
    }
    fn params(&self) -> Conv2dParams {
        Conv2dParams {
            stride: self.stride,
            padding: self.pad,
        }
    }
    fn x_shape(&self) -> [usize; 4] {
        [self.n, self.c, self.h, self.w]
    }
    fn w_shape(&self) -> [usize; 4] {
        [self.o, self.c, self.kh, self.kw]
    }
    fn y_shape(&self) -> [usize; 4] {
        let (oh, ow) = self.out_hw();
        [self.n, self.o, oh, ow]
    }

    /// Calls `f(n, o, i, j, c, u, v, h, w)` for every term of the convolution sum whose input
    /// position `(h, w)` is inside the image (padding terms are zero).
    #[allow(clippy::too_many_arguments)]
    fn for_each_term(
        &self,
        mut f: impl FnMut(usize, usize, usize, usize, usize, usize, usize, usize, usize),
    ) {
        let (oh, ow) = self.out_hw();
        for n in 0..self.n {
            for o in 0..self.o {
                for i in 0..oh {
                    for j in 0..ow {
                        for c in 0..self.c {
                            for u in 0..self.kh {
                                for v in 0..self.kw {
                                    let h = (i * self.stride.0 + u) as isize - self.pad.0 as isize;
                                    let w = (j * self.stride.1 + v) as isize - self.pad.1 as isize;
                                    if h >= 0
                                        && w >= 0
                                        && (h as usize) < self.h
                                        && (w as usize) < self.w
                                    {
                                        f(n, o, i, j, c, u, v, h as usize, w as usize);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn flat(shape: [usize; 4], index: [usize; 4]) -> usize {
    ((index[0] * shape[1] + index[1]) * shape[2] + index[2]) * shape[3] + index[3]
}

/// The expected values and, per element, Σ|terms| (the scale of its rounding error).
struct Expected {
    values: Vec<f64>,
    magnitude: Vec<f64>,
    terms: usize,
}

/// y[n, o, i, j] = Σ_{c, u, v} x[n, c, i·s + u − p, j·s + v − p] · w[o, c, u, v]
fn conv_naive(s: &Sizes, x: &[f64], w: &[f64]) -> Expected {
    let len = s.y_shape().iter().product();
    let (mut values, mut magnitude) = (vec![0.0; len], vec![0.0; len]);
    s.for_each_term(|n, o, i, j, c, u, v, h, ww| {
        let term = x[flat(s.x_shape(), [n, c, h, ww])] * w[flat(s.w_shape(), [o, c, u, v])];
        values[flat(s.y_shape(), [n, o, i, j])] += term;
        magnitude[flat(s.y_shape(), [n, o, i, j])] += term.abs();
    });
    Expected {
        values,
        magnitude,
        terms: s.c * s.kh * s.kw,
    }
}

/// x̄[n, c, h, w] = Σ of g[n, o, i, j] · w[o, c, u, v] over the terms that read x[n, c, h, w].
fn input_grad_naive(s: &Sizes, g: &[f64], w: &[f64]) -> Expected {
    let len = s.x_shape().iter().product();
    let (mut values, mut magnitude) = (vec![0.0; len], vec![0.0; len]);
    s.for_each_term(|n, o, i, j, c, u, v, h, ww| {
        let term = g[flat(s.y_shape(), [n, o, i, j])] * w[flat(s.w_shape(), [o, c, u, v])];
        values[flat(s.x_shape(), [n, c, h, ww])] += term;
        magnitude[flat(s.x_shape(), [n, c, h, ww])] += term.abs();
    });
    Expected {
        values,
        magnitude,
        terms: s.o * s.kh * s.kw,
    }
}

/// w̄[o, c, u, v] = Σ_{n, i, j} g[n, o, i, j] · x[n, c, i·s + u − p, j·s + v − p]
fn weight_grad_naive(s: &Sizes, g: &[f64], x: &[f64]) -> Expected {
    let len = s.w_shape().iter().product();
    let (mut values, mut magnitude) = (vec![0.0; len], vec![0.0; len]);
    s.for_each_term(|n, o, i, j, c, u, v, h, ww| {
        let term = g[flat(s.y_shape(), [n, o, i, j])] * x[flat(s.x_shape(), [n, c, h, ww])];
        values[flat(s.w_shape(), [o, c, u, v])] += term;
        magnitude[flat(s.w_shape(), [o, c, u, v])] += term.abs();
    });
    let (oh, ow) = s.out_hw();
    Expected {
        values,
        magnitude,
        terms: s.n * oh * ow,
    }
}

/// Every element within the rounding bound of a sum of `terms` products in `dtype`:
/// (terms + 2)·ε·Σ|terms| (a rigorous bound for any summation order).
fn assert_close(what: &str, got: &Tensor, want: &Expected, shape: [usize; 4]) {
    assert_eq!(got.shape(), shape, "{what}: shape");
    let eps = match got.dtype() {
        DType::F32 => f32::EPSILON as f64,
        DType::F64 => f64::EPSILON,
    };
    for (k, (g, (w, m))) in got
        .to_vec::<f64>()
        .iter()
        .zip(want.values.iter().zip(&want.magnitude))
        .enumerate()
    {
        let tol = (want.terms as f64 + 2.0) * eps * m + 1e-300;
        assert!(
            (g - w).abs() <= tol,
            "{what}: element {k}: got {g}, want {w} (tol {tol:e})"
        );
    }
}

// ----- Random operands, contiguous or not -----

/// A tensor of `shape` with uniform values in [-1, 1), laid out as picked by `layout`:
/// 0 contiguous, 1 the last two axes transposed, 2 narrowed out of a wider last axis,
/// 3 the first two axes permuted.
fn operand(shape: [usize; 4], layout: u8, dtype: DType, rng: &mut StdRng) -> Tensor {
    let [a, b, c, d] = shape;
    let t = match layout % 4 {
        0 => Tensor::rand_uniform(&shape, -1.0, 1.0, dtype, rng),
        1 => Tensor::rand_uniform(&[a, b, d, c], -1.0, 1.0, dtype, rng).transpose(2, 3),
        2 => Tensor::rand_uniform(&[a, b, c, d + 3], -1.0, 1.0, dtype, rng).narrow(3, 1, d),
        _ => Tensor::rand_uniform(&[b, a, c, d], -1.0, 1.0, dtype, rng).permute(&[1, 0, 2, 3]),
    };
    assert_eq!(t.shape(), shape);
    t
}

fn sizes() -> impl Strategy<Value = Sizes> {
    sizes_with_channels(0..4)
}

/// Sizes with enough input channels for the channels-last lowering.
fn deep_sizes() -> impl Strategy<Value = Sizes> {
    sizes_with_channels(CHANNELS_LAST_MIN..CHANNELS_LAST_MIN + 5)
}

fn sizes_with_channels(channels: std::ops::Range<usize>) -> impl Strategy<Value = Sizes> {
    (
        (0usize..4, channels, 1usize..5),
        (1usize..10, 1usize..10, 1usize..4, 1usize..4),
        (1usize..4, 1usize..4, 0usize..3, 0usize..3),
    )
        .prop_filter_map(
            "kernel fits the padded input",
            |((n, c, o), (h, w, kh, kw), (sh, sw, ph, pw))| {
                let s = Sizes {
                    n,
                    c,
                    o,
                    h,
                    w,
                    kh,
                    kw,
                    stride: (sh, sw),
                    pad: (ph, pw),
                };
                (kh <= h + 2 * ph && kw <= w + 2 * pw).then_some(s)
            },
        )
}

fn dtype() -> impl Strategy<Value = DType> {
    prop_oneof![Just(DType::F32), Just(DType::F64)]
}

/// Runs all three ops on the sizes and checks each against its naive loop.
fn check_all(s: &Sizes, dtype: DType, layouts: [u8; 3], seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let x = operand(s.x_shape(), layouts[0], dtype, &mut rng);
    let w = operand(s.w_shape(), layouts[1], dtype, &mut rng);
    let g = operand(s.y_shape(), layouts[2], dtype, &mut rng);
    let (xv, wv, gv) = (x.to_vec::<f64>(), w.to_vec::<f64>(), g.to_vec::<f64>());
    let p = s.params();

    let y = x.conv2d(&w, p);
    assert_close("conv2d", &y, &conv_naive(s, &xv, &wv), s.y_shape());
    let gx = Tensor::conv2d_input_grad(&g, &w, (s.h, s.w), p);
    assert_close(
        "conv2d_input_grad",
        &gx,
        &input_grad_naive(s, &gv, &wv),
        s.x_shape(),
    );
    let gw = Tensor::conv2d_weight_grad(&g, &x, (s.kh, s.kw), p);
    assert_close(
        "conv2d_weight_grad",
        &gw,
        &weight_grad_naive(s, &gv, &xv),
        s.w_shape(),
    );
}

fn dot(a: &Tensor, b: &Tensor) -> f64 {
    a.to_vec::<f64>()
        .iter()
        .zip(b.to_vec::<f64>())
        .map(|(x, y)| x * y)
        .sum()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn all_three_match_naive_loops(
        s in sizes(),
        dtype in dtype(),
        layouts in any::<[u8; 3]>(),
        seed in any::<u64>(),
    ) {
        check_all(&s, dtype, layouts, seed);
    }

    #[test]
    fn all_three_match_naive_loops_channels_last(
        s in deep_sizes(),
        dtype in dtype(),
        layouts in any::<[u8; 3]>(),
        seed in any::<u64>(),
    ) {
        check_all(&s, dtype, layouts, seed);
    }

    /// ⟨conv2d(x, w), g⟩ = ⟨x, conv2d_input_grad(g, w)⟩ = ⟨w, conv2d_weight_grad(g, x)⟩,
    /// to within the rounding of the triple sum (scaled by the same sum over |x|, |w|, |g|).
    #[test]
    fn adjoint_identities(s in sizes(), layouts in any::<[u8; 3]>(), seed in any::<u64>()) {
        let mut rng = StdRng::seed_from_u64(seed);
        let x = operand(s.x_shape(), layouts[0], DType::F64, &mut rng);
        let w = operand(s.w_shape(), layouts[1], DType::F64, &mut rng);
        let g = operand(s.y_shape(), layouts[2], DType::F64, &mut rng);
        let p = s.params();
        let lhs = dot(&x.conv2d(&w, p), &g);
        let via_input = dot(&x, &Tensor::conv2d_input_grad(&g, &w, (s.h, s.w), p));
        let via_weight = dot(&w, &Tensor::conv2d_weight_grad(&g, &x, (s.kh, s.kw), p));
        let scale = dot(&x.abs().conv2d(&w.abs(), p), &g.abs());
        let tol = 1e-13 * (1.0 + scale);
        prop_assert!((lhs - via_input).abs() <= tol, "{lhs} vs {via_input}");
        prop_assert!((lhs - via_weight).abs() <= tol, "{lhs} vs {via_weight}");
    }
}

// ----- The batching paths: several chunks, threads, one image per GEMM -----

#[test]
fn many_chunks_on_threads_match_naive_loops() {
    // A 7×7 output plane: 6 images per chunk, 7 chunks, enough work for threads; 3 input
    // channels are lowered channels-first, `CHANNELS_LAST_MIN` channels-last.
    for c in [3, CHANNELS_LAST_MIN] {
        let s = Sizes {
            n: 40,
            c,
            o: 8,
            h: 7,
            w: 7,
            kh: 3,
            kw: 3,
            stride: (1, 1),
            pad: (1, 1),
        };
        for dtype in [DType::F32, DType::F64] {
            check_all(&s, dtype, [0, 0, 0], 1);
            check_all(&s, dtype, [3, 1, 2], 2);
        }
    }
}

#[test]
fn wide_planes_use_one_image_per_gemm() {
    // A 20×20 output plane fills a GEMM alone: the direct paths (and, for a contiguous
    // grad_out, reading it in place).
    let s = Sizes {
        n: 3,
        c: 2,
        o: 5,
        h: 20,
        w: 20,
        kh: 3,
        kw: 3,
        stride: (1, 1),
        pad: (1, 1),
    };
    for dtype in [DType::F32, DType::F64] {
        check_all(&s, dtype, [0, 0, 0], 3);
        check_all(&s, dtype, [1, 3, 1], 4);
    }
}

#[test]
fn omniglot_shapes_match_naive_loops() {
    // Channels first at 6 channels, channels last at 64 (as in MAML's net).
    for (c, hw) in [(1, 28), (6, 14), (6, 7), (6, 4), (64, 14), (64, 7), (64, 4)] {
        let s = Sizes {
            n: 9,
            c,
            o: 6,
            h: hw,
            w: hw,
            kh: 3,
            kw: 3,
            stride: (2, 2),
            pad: (1, 1),
        };
        check_all(&s, DType::F32, [0, 0, 0], hw as u64);
    }
}

#[test]
fn results_do_not_depend_on_the_number_of_threads() {
    // Both lowerings: channels-first at 8 input channels, and channels-last.
    for c in [8, CHANNELS_LAST_MIN] {
        same_results_on_any_number_of_threads(c);
    }
}

fn same_results_on_any_number_of_threads(c: usize) {
    let s = Sizes {
        n: 40,
        c,
        o: 16,
        h: 9,
        w: 9,
        kh: 3,
        kw: 3,
        stride: (1, 1),
        pad: (1, 1),
    };
    let mut rng = StdRng::seed_from_u64(5);
    let x = operand(s.x_shape(), 0, DType::F32, &mut rng);
    let w = operand(s.w_shape(), 0, DType::F32, &mut rng);
    let g = operand(s.y_shape(), 0, DType::F32, &mut rng);
    let p = s.params();
    // On a pool of `threads`; with `serial`, kept on one of its threads (`tensor::parallel`).
    let run = |threads: usize, serial: bool| {
        let all = || {
            [
                x.conv2d(&w, p).to_vec::<f32>(),
                Tensor::conv2d_input_grad(&g, &w, (s.h, s.w), p).to_vec::<f32>(),
                Tensor::conv2d_weight_grad(&g, &x, (s.kh, s.kw), p).to_vec::<f32>(),
            ]
        };
        common::on_threads(threads, || tensor::parallel::serial_if(serial, all))
    };
    let one = run(1, false);
    for threads in [2, 3, 5] {
        assert!(
            run(threads, false) == one,
            "results differ with {threads} threads"
        );
        assert!(
            run(threads, true) == one,
            "serial results differ with {threads} threads"
        );
    }
}

#[test]
fn size_zero_axes_give_zeros() {
    let f = DType::F64;
    let y = Tensor::zeros(&[0, 2, 5, 5], f)
        .conv2d(&Tensor::ones(&[3, 2, 3, 3], f), Conv2dParams::default());
    assert_eq!(y.shape(), &[0, 3, 3, 3]);
    let y = Tensor::ones(&[2, 0, 5, 5], f)
        .conv2d(&Tensor::ones(&[3, 0, 3, 3], f), Conv2dParams::default());
    assert_eq!(
        (y.shape(), y.to_vec::<f64>().iter().all(|&v| v == 0.0)),
        (&[2, 3, 3, 3][..], true)
    );
    let gw = Tensor::conv2d_weight_grad(
        &Tensor::ones(&[0, 3, 3, 3], f),
        &Tensor::ones(&[0, 2, 5, 5], f),
        (3, 3),
        Conv2dParams::default(),
    );
    assert_eq!(
        (gw.shape(), gw.to_vec::<f64>().iter().all(|&v| v == 0.0)),
        (&[3, 2, 3, 3][..], true)
    );
}

// ----- Errors -----

fn conv_err(x: &[usize], w: &[usize], p: Conv2dParams) -> String {
    Tensor::zeros(x, DType::F32)
        .try_conv2d(&Tensor::zeros(w, DType::F32), p)
        .unwrap_err()
        .to_string()
}

#[test]
fn shape_errors_name_the_op_and_shapes() {
    let p = Conv2dParams::default();
    assert_eq!(
        conv_err(&[2, 3, 8, 8], &[4, 2, 3, 3], p),
        "conv2d: input [2, 3, 8, 8] and weight [4, 2, 3, 3]: input has 3 channels, weight expects 2"
    );
    assert_eq!(
        conv_err(&[3, 8, 8], &[4, 3, 3, 3], p),
        "conv2d: input [3, 8, 8] and weight [4, 3, 3, 3]: input must be 4-d [N, C, H, W]"
    );
    assert_eq!(
        conv_err(&[1, 3, 8, 8], &[4, 3, 3], p),
        "conv2d: input [1, 3, 8, 8] and weight [4, 3, 3]: weight must be 4-d [O, C, kh, kw]"
    );
    assert_eq!(
        conv_err(&[1, 1, 2, 2], &[1, 1, 5, 3], Conv2dParams::new(1, 1)),
        "conv2d: input [1, 1, 2, 2] and weight [1, 1, 5, 3]: kernel 5×3 is larger than the padded input 4×4"
    );
    let zero_stride = Conv2dParams {
        stride: (1, 0),
        padding: (0, 0),
    };
    assert_eq!(
        conv_err(&[1, 1, 4, 4], &[1, 1, 3, 3], zero_stride),
        "conv2d: input [1, 1, 4, 4] and weight [1, 1, 3, 3]: stride must be at least 1, got (1, 0)"
    );
    assert_eq!(
        conv_err(&[1, 1, 4, 4], &[1, 1, 0, 3], p),
        "conv2d: input [1, 1, 4, 4] and weight [1, 1, 0, 3]: kernel must be at least 1×1, got (0, 3)"
    );
    let mixed = Tensor::zeros(&[1, 1, 4, 4], DType::F32)
        .try_conv2d(&Tensor::zeros(&[1, 1, 3, 3], DType::F64), p);
    assert_eq!(
        mixed.unwrap_err().to_string(),
        "conv2d: element types differ: f32 and f64"
    );

    let g = Tensor::zeros(&[2, 5, 6, 6], DType::F32);
    let w = Tensor::zeros(&[4, 3, 3, 3], DType::F32);
    assert_eq!(
        Tensor::try_conv2d_input_grad(&g, &w, (8, 8), p)
            .unwrap_err()
            .to_string(),
        "conv2d_input_grad: grad_out [2, 5, 6, 6] and weight [4, 3, 3, 3] (input 8×8): \
         grad_out has 5 channels, weight has 4 output channels"
    );
    let g = Tensor::zeros(&[2, 4, 6, 6], DType::F32);
    let x = Tensor::zeros(&[2, 3, 8, 8], DType::F32);
    assert_eq!(
        Tensor::try_conv2d_weight_grad(&g, &x, (3, 3), Conv2dParams::new(2, 0))
            .unwrap_err()
            .to_string(),
        "conv2d_weight_grad: grad_out [2, 4, 6, 6] and input [2, 3, 8, 8] (kernel 3×3): \
         input 8×8 and kernel 3×3 give a 3×3 output, not 6×6"
    );
}

#[test]
#[should_panic(
    expected = "conv2d: input [2, 3, 8, 8] and weight [4, 2, 3, 3]: input has 3 channels"
)]
fn conv2d_panics_with_the_message() {
    let _ = Tensor::zeros(&[2, 3, 8, 8], DType::F32).conv2d(
        &Tensor::zeros(&[4, 2, 3, 3], DType::F32),
        Conv2dParams::default(),
    );
}

/// The forward convolution writes into a recycled buffer without zeroing it first: NaN left
/// there by an earlier output of the same size must not leak into the result.
#[test]
fn conv2d_in_a_recycled_buffer_overwrites_every_element() {
    let mut rng = StdRng::seed_from_u64(5);
    // The Omniglot net's second layer on a few images; and one image (a different chunking).
    for batch in [6, 1] {
        let x = Tensor::rand_uniform(&[batch, 8, 14, 14], -1.0, 1.0, DType::F32, &mut rng);
        let w = Tensor::rand_uniform(&[16, 8, 3, 3], -1.0, 1.0, DType::F32, &mut rng);
        let p = Conv2dParams::new(2, 1);
        let clean = x.conv2d(&w, p).to_vec::<f32>();
        let poisoned = x.mul_scalar(f64::NAN).conv2d(&w, p);
        assert!(poisoned.to_vec::<f32>().iter().all(|v| v.is_nan()));
        drop(poisoned);
        assert_eq!(x.conv2d(&w, p).to_vec::<f32>(), clean, "batch {batch}");
    }
}
