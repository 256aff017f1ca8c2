//! Max and average pooling and their adjoints against plain loops, on random shapes, windows
//! and layouts, in f32 and f64; adjoint identities; NaN and ties; the error messages.

use proptest::prelude::*;
use tensor::rand::{rngs::StdRng, Rng, SeedableRng};
use tensor::{DType, Tensor};

#[derive(Clone, Copy, Debug)]
struct Window {
    shape: [usize; 4],
    kernel: (usize, usize),
    stride: (usize, usize),
    pad: (usize, usize),
}

impl Window {
    fn out_shape(&self) -> [usize; 4] {
        let [n, c, h, w] = self.shape;
        [
            n,
            c,
            (h + 2 * self.pad.0 - self.kernel.0) / self.stride.0 + 1,
            (w + 2 * self.pad.1 - self.kernel.1) / self.stride.1 + 1,
        ]
    }

    /// For each output in row-major order, the flat input indices of its window's real
    /// (non-padding) elements in row-major order.
    fn windows(&self) -> Vec<Vec<usize>> {
        let [n, c, h, w] = self.shape;
        let [_, _, oh, ow] = self.out_shape();
        let mut all = Vec::new();
        for plane in 0..n * c {
            for i in 0..oh {
                for j in 0..ow {
                    let mut members = Vec::new();
                    for u in 0..self.kernel.0 {
                        for v in 0..self.kernel.1 {
                            let r = (i * self.stride.0 + u) as isize - self.pad.0 as isize;
                            let s = (j * self.stride.1 + v) as isize - self.pad.1 as isize;
                            if r >= 0 && s >= 0 && (r as usize) < h && (s as usize) < w {
                                members.push((plane * h + r as usize) * w + s as usize);
                            }
                        }
                    }
                    all.push(members);
                }
            }
        }
        all
    }

    fn kernel_len(&self) -> f64 {
        (self.kernel.0 * self.kernel.1) as f64
    }
}

/// The maximum of each window and the index of the first element that attains it (the first
/// NaN if there is one).
fn max_naive(win: &Window, x: &[f64]) -> (Vec<f64>, Vec<usize>) {
    win.windows()
        .iter()
        .map(|members| {
            if let Some(&k) = members.iter().find(|&&k| x[k].is_nan()) {
                return (f64::NAN, k);
            }
            let mut best = members[0];
            for &k in members {
                if x[k] > x[best] {
                    best = k;
                }
            }
            (x[best], best)
        })
        .unzip()
}

fn avg_naive(win: &Window, x: &[f64]) -> Vec<f64> {
    let windows = win.windows();
    windows
        .iter()
        .map(|m| m.iter().map(|&k| x[k]).sum::<f64>() / win.kernel_len())
        .collect()
}

/// x̄[k] = Σ over the windows holding k of g / (kh·kw).
fn avg_backward_naive(win: &Window, g: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; win.shape.iter().product()];
    for (members, &gv) in win.windows().iter().zip(g) {
        for &k in members {
            out[k] += gv / win.kernel_len();
        }
    }
    out
}

fn scatter_naive(len: usize, indices: &[usize], g: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; len];
    for (&k, &gv) in indices.iter().zip(g) {
        out[k] += gv;
    }
    out
}

fn assert_close(what: &str, got: &[f64], want: &[f64], rel: f64) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= rel * (1.0 + w.abs()),
            "{what}: element {k}: got {g}, want {w}"
        );
    }
}

/// What values an operand holds.
#[derive(Clone, Copy, Debug)]
enum Values {
    /// Uniform in [-1, 1).
    Plain,
    /// Multiples of 1/4 in [-1, 1], so windows often have equal maxima.
    Ties,
    /// As `Ties`, with about one NaN in eight.
    TiesAndNans,
}

/// Values of the given kind, laid out as picked by `layout` (0 contiguous, 1 transposed,
/// 2 narrowed, 3 permuted).
fn operand(shape: [usize; 4], layout: u8, kind: Values, dtype: DType, rng: &mut StdRng) -> Tensor {
    let [a, b, c, d] = shape;
    let stored = match layout % 4 {
        0 => [a, b, c, d],
        1 => [a, b, d, c],
        2 => [a, b, c, d + 2],
        _ => [b, a, c, d],
    };
    let count = stored.iter().product();
    let values: Vec<f64> = (0..count)
        .map(|_| {
            let v: f64 = rng.random_range(-1.0..1.0);
            match kind {
                Values::Plain => v,
                Values::TiesAndNans if rng.random_range(0..8) == 0 => f64::NAN,
                Values::Ties | Values::TiesAndNans => (v * 4.0).round() / 4.0,
            }
        })
        .collect();
    let t = Tensor::from_vec(values, &stored).unwrap().to_dtype(dtype);
    let t = match layout % 4 {
        0 => t,
        1 => t.transpose(2, 3),
        2 => t.narrow(3, 1, d),
        _ => t.permute(&[1, 0, 2, 3]),
    };
    assert_eq!(t.shape(), shape);
    t
}

fn windows() -> impl Strategy<Value = Window> {
    (
        (0usize..4, 0usize..4, 1usize..10, 1usize..10),
        (
            1usize..4,
            1usize..4,
            1usize..4,
            1usize..4,
            0usize..3,
            0usize..3,
        ),
    )
        .prop_filter_map(
            "a valid window",
            |((n, c, h, w), (kh, kw, sh, sw, ph, pw))| {
                let win = Window {
                    shape: [n, c, h, w],
                    kernel: (kh, kw),
                    stride: (sh, sw),
                    pad: (ph, pw),
                };
                (ph < kh && pw < kw && kh <= h + 2 * ph && kw <= w + 2 * pw).then_some(win)
            },
        )
}

fn dtype() -> impl Strategy<Value = DType> {
    prop_oneof![Just(DType::F32), Just(DType::F64)]
}

fn rel(dtype: DType) -> f64 {
    match dtype {
        DType::F32 => 1e-5,
        DType::F64 => 1e-13,
    }
}

/// Equal element by element, NaN equal to NaN.
fn same(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x == y || (x.is_nan() && y.is_nan()))
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn max_pool_matches_naive_loops(
        win in windows(),
        dtype in dtype(),
        layout in any::<u8>(),
        kind in prop_oneof![Just(Values::Plain), Just(Values::Ties), Just(Values::TiesAndNans)],
        seed in any::<u64>(),
    ) {
        let mut rng = StdRng::seed_from_u64(seed);
        let x = operand(win.shape, layout, kind, dtype, &mut rng);
        let xv = x.to_vec::<f64>();
        let (y, indices) = x.max_pool2d_with_indices(win.kernel, win.stride, win.pad);
        let (want, want_indices) = max_naive(&win, &xv);
        prop_assert_eq!(y.shape(), &win.out_shape());
        prop_assert!(same(&y.to_vec::<f64>(), &want)); // a max is exact
        prop_assert_eq!(&indices, &want_indices);
        prop_assert!(same(&x.max_pool2d(win.kernel, win.stride, win.pad).to_vec::<f64>(), &want));

        // Backward: a scatter-add of grad_out at the indices; the gather at the same indices
        // gives back the pooled values.
        let g = operand(win.out_shape(), layout / 4, Values::Plain, dtype, &mut rng);
        let gx = Tensor::max_pool2d_backward(&g, &indices, x.shape());
        prop_assert_eq!(gx.shape(), x.shape());
        let want_gx = scatter_naive(xv.len(), &indices, &g.to_vec::<f64>());
        assert_close("max_pool2d_backward", &gx.to_vec::<f64>(), &want_gx, rel(dtype));
        prop_assert!(same(&x.max_pool2d_gather(&indices, y.shape()).to_vec::<f64>(), &want));
    }

    #[test]
    fn avg_pool_matches_naive_loops(
        win in windows(),
        dtype in dtype(),
        layouts in any::<[u8; 2]>(),
        seed in any::<u64>(),
    ) {
        let mut rng = StdRng::seed_from_u64(seed);
        let x = operand(win.shape, layouts[0], Values::Plain, dtype, &mut rng);
        let y = x.avg_pool2d(win.kernel, win.stride, win.pad);
        prop_assert_eq!(y.shape(), &win.out_shape());
        assert_close("avg_pool2d", &y.to_vec::<f64>(), &avg_naive(&win, &x.to_vec::<f64>()), rel(dtype));

        let g = operand(win.out_shape(), layouts[1], Values::Plain, dtype, &mut rng);
        let gx = Tensor::avg_pool2d_backward(&g, x.shape(), win.kernel, win.stride, win.pad);
        prop_assert_eq!(gx.shape(), x.shape());
        let want = avg_backward_naive(&win, &g.to_vec::<f64>());
        assert_close("avg_pool2d_backward", &gx.to_vec::<f64>(), &want, rel(dtype));
    }

    /// ⟨avg(x), g⟩ = ⟨x, avg_backward(g)⟩ and ⟨backward(g, idx), a⟩ = ⟨g, gather(a, idx)⟩.
    #[test]
    fn adjoint_identities(win in windows(), layouts in any::<[u8; 3]>(), seed in any::<u64>()) {
        let mut rng = StdRng::seed_from_u64(seed);
        let x = operand(win.shape, layouts[0], Values::Plain, DType::F64, &mut rng);
        let g = operand(win.out_shape(), layouts[1], Values::Plain, DType::F64, &mut rng);
        let a = operand(win.shape, layouts[2], Values::Plain, DType::F64, &mut rng);
        let (xv, gv, av) = (x.to_vec::<f64>(), g.to_vec::<f64>(), a.to_vec::<f64>());
        let scale = 1e-13 * (1.0 + xv.len() as f64 + gv.len() as f64);

        let pooled = x.avg_pool2d(win.kernel, win.stride, win.pad).to_vec::<f64>();
        let spread = Tensor::avg_pool2d_backward(&g, x.shape(), win.kernel, win.stride, win.pad);
        let (lhs, rhs) = (dot(&pooled, &gv), dot(&xv, &spread.to_vec::<f64>()));
        prop_assert!((lhs - rhs).abs() <= scale, "avg: {lhs} vs {rhs}");

        let (_, indices) = x.max_pool2d_with_indices(win.kernel, win.stride, win.pad);
        let scattered = Tensor::max_pool2d_backward(&g, &indices, x.shape()).to_vec::<f64>();
        let gathered = a.max_pool2d_gather(&indices, g.shape()).to_vec::<f64>();
        let (lhs, rhs) = (dot(&scattered, &av), dot(&gv, &gathered));
        prop_assert!((lhs - rhs).abs() <= scale, "max: {lhs} vs {rhs}");
    }
}

#[test]
fn large_inputs_on_threads_match_naive_loops() {
    // 2×64 planes of 28×28: above the threshold for spreading planes over threads.
    let win = Window {
        shape: [2, 64, 28, 28],
        kernel: (2, 2),
        stride: (2, 2),
        pad: (0, 0),
    };
    let mut rng = StdRng::seed_from_u64(7);
    let x = operand(win.shape, 3, Values::Ties, DType::F32, &mut rng);
    let xv = x.to_vec::<f64>();
    let (y, indices) = x.max_pool2d_with_indices(win.kernel, win.stride, win.pad);
    let (want, want_indices) = max_naive(&win, &xv);
    assert!(same(&y.to_vec::<f64>(), &want), "max_pool2d values differ");
    assert!(indices == want_indices, "max_pool2d indices differ");
    let g = operand(win.out_shape(), 0, Values::Plain, DType::F32, &mut rng);
    let gx = Tensor::max_pool2d_backward(&g, &indices, x.shape()).to_vec::<f64>();
    assert_close(
        "max backward",
        &gx,
        &scatter_naive(xv.len(), &indices, &g.to_vec::<f64>()),
        1e-6,
    );
    let avg = x
        .avg_pool2d(win.kernel, win.stride, win.pad)
        .to_vec::<f64>();
    assert_close("avg", &avg, &avg_naive(&win, &xv), 1e-6);
    let gx = Tensor::avg_pool2d_backward(&g, x.shape(), win.kernel, win.stride, win.pad);
    assert_close(
        "avg backward",
        &gx.to_vec::<f64>(),
        &avg_backward_naive(&win, &g.to_vec::<f64>()),
        1e-6,
    );
}

#[test]
fn nan_propagates_and_padding_never_wins() {
    let nan = f64::NAN;
    // Row 0: [-3, NaN, -1]; row 1: [-2, -5, NaN]. 2×2 windows, stride 1, padding 1 → 3×4.
    let x = Tensor::from_vec(vec![-3.0, nan, -1.0, -2.0, -5.0, nan], &[1, 1, 2, 3]).unwrap();
    let (y, indices) = x.max_pool2d_with_indices((2, 2), (1, 1), (1, 1));
    let y = y.to_vec::<f64>();
    // The corner window holds x[0, 0] = −3 and three padding zeros: −3 wins.
    assert_eq!((y[0], indices[0]), (-3.0, 0));
    // The window over columns 0–1 of row 0 holds the NaN at index 1.
    assert!(y[1].is_nan() && indices[1] == 1);
    // The window over rows 0–1, columns 1–2 holds two NaNs: the first (index 1) is named.
    assert!(y[6].is_nan() && indices[6] == 1);
    // The bottom-left window holds only x[1, 0] = −2.
    assert_eq!((y[8], indices[8]), (-2.0, 3));
}

#[test]
fn errors_name_the_op_and_shapes() {
    let x = Tensor::zeros(&[1, 1, 4, 4], DType::F32);
    let err = |r: Result<Tensor, tensor::TensorError>| r.unwrap_err().to_string();
    assert_eq!(
        err(Tensor::zeros(&[4, 4], DType::F32).try_max_pool2d((2, 2), (2, 2), (0, 0))),
        "max_pool2d: input [4, 4] with kernel (2, 2), stride (2, 2), padding (0, 0): input must be 4-d [N, C, H, W]"
    );
    assert_eq!(
        err(x.try_avg_pool2d((5, 2), (1, 1), (0, 0))),
        "avg_pool2d: input [1, 1, 4, 4] with kernel (5, 2), stride (1, 1), padding (0, 0): \
         kernel 5×2 is larger than the padded input 4×4"
    );
    assert_eq!(
        err(x.try_avg_pool2d((2, 2), (0, 1), (0, 0))),
        "avg_pool2d: input [1, 1, 4, 4] with kernel (2, 2), stride (0, 1), padding (0, 0): \
         stride must be at least 1, got (0, 1)"
    );
    let g = Tensor::zeros(&[1, 1, 3, 3], DType::F32);
    assert_eq!(
        err(Tensor::try_avg_pool2d_backward(&g, &[1, 1, 4, 4], (2, 2), (2, 2), (0, 0))),
        "avg_pool2d_backward: grad_out [1, 1, 3, 3] and input shape [1, 1, 4, 4] with kernel (2, 2), \
         stride (2, 2), padding (0, 0): pooling gives [1, 1, 2, 2], not grad_out's shape"
    );
    let g = Tensor::zeros(&[1, 2, 1, 1], DType::F32);
    assert_eq!(
        err(Tensor::try_max_pool2d_backward(&g, &[0, 3], &[1, 2, 2, 2])),
        "max_pool2d_backward: grad_out [1, 2, 1, 1] and input shape [1, 2, 2, 2]: \
         index 3 of output 1 lies outside that output's (n, c) plane"
    );
    assert_eq!(
        err(Tensor::try_max_pool2d_backward(&g, &[0], &[1, 2, 2, 2])),
        "max_pool2d_backward: grad_out [1, 2, 1, 1] and input shape [1, 2, 2, 2]: 1 indices for 2 outputs"
    );
}
