//! prod, var, std, norm, cumsum; flip, roll, repeat; where_mask, masked_fill, clamp_between.

use autograd::Var;

use crate::{assert_close, block, matrix, var};

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
