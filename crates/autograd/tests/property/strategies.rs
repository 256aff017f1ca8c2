//! Random inputs for the table: values in a function's safe domain, and shapes (one shape for
//! all inputs, two shapes that broadcast, or fixed shapes for ops with structural constraints).

use proptest::prelude::*;
use tensor::Tensor;

/// Where an input's values are drawn from.
#[derive(Clone, Copy, Debug)]
pub enum Domain {
    /// Uniform in [−2, 2].
    Any,
    /// Uniform in [0.5, 2.5].
    Positive,
    /// Distinct values at least 0.2 apart and at least 0.1 from zero, in random order: safe
    /// for max, max-pool, relu and abs.
    Separated,
}

fn values(domain: Domain, n: usize) -> BoxedStrategy<Vec<f64>> {
    match domain {
        Domain::Any => prop::collection::vec(-2.0..2.0f64, n).boxed(),
        Domain::Positive => prop::collection::vec(0.5..2.5f64, n).boxed(),
        Domain::Separated => Just((0..n).collect::<Vec<_>>())
            .prop_shuffle()
            .prop_map(move |ranks| {
                // A grid 0.2 apart, centred on zero and shifted so no value is within 0.1 of it.
                let centre = (n as f64 - 1.0) / 2.0;
                let shift = if n % 2 == 1 { 0.1 } else { 0.0 };
                ranks
                    .iter()
                    .map(|&r| 0.2 * (r as f64 - centre) + shift)
                    .collect()
            })
            .boxed(),
    }
}

pub fn tensor(domain: Domain, shape: Vec<usize>) -> BoxedStrategy<Tensor> {
    let n = shape.iter().product();
    values(domain, n)
        .prop_map(move |v| Tensor::from_vec(v, &shape).unwrap())
        .boxed()
}

/// A random shape of 1–3 axes with at most `max_numel` elements.
fn shape(max_numel: usize) -> BoxedStrategy<Vec<usize>> {
    prop::collection::vec(1usize..4, 1..4)
        .prop_filter("small enough", move |s| {
            s.iter().product::<usize>() <= max_numel
        })
        .boxed()
}

/// Inputs of one shape each, from the given domains.
pub fn same_shape(domains: &'static [Domain]) -> BoxedStrategy<Vec<Tensor>> {
    shape(6)
        .prop_flat_map(move |s| {
            domains
                .iter()
                .map(|&d| tensor(d, s.clone()))
                .collect::<Vec<_>>()
        })
        .boxed()
}

/// Two inputs whose shapes broadcast against each other (some axes of the second set to 1,
/// leading axes possibly dropped).
pub fn broadcast_pair(domains: &'static [Domain; 2]) -> BoxedStrategy<Vec<Tensor>> {
    (shape(6), prop::collection::vec(any::<bool>(), 3), 0usize..2)
        .prop_flat_map(move |(s, ones, drop)| {
            let mut other: Vec<usize> = s
                .iter()
                .zip(&ones)
                .map(|(&n, &one)| if one { 1 } else { n })
                .collect();
            other.drain(..drop.min(other.len() - 1));
            vec![tensor(domains[0], s), tensor(domains[1], other)]
        })
        .boxed()
}

/// Fixed shapes (for ops with structural constraints: matmul, conv, pooling).
pub fn fixed(shapes: &'static [(&'static [usize], Domain)]) -> BoxedStrategy<Vec<Tensor>> {
    shapes
        .iter()
        .map(|&(s, d)| tensor(d, s.to_vec()))
        .collect::<Vec<_>>()
        .boxed()
}
