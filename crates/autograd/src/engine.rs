//! The reverse pass: from seeds on the outputs to gradients on the inputs.
//!
//! 1. **Order.** A depth-first walk from the outputs lists every node in post-order (each
//!    after all of its inputs) and marks which nodes *reach* a requested input. Reversed,
//!    post-order is a topological order: every node comes before its inputs.
//! 2. **Sweep.** In that order each reaching node takes its accumulated gradient `g`, asks its
//!    primitive for the VJPs of the inputs that reach, sums each back to its input's shape
//!    (broadcasting is undone here and nowhere else), and adds it to that input's gradient.
//!    A `broadcast_to` node that is not a requested input is looked through: its consumers'
//!    gradients go straight to what it broadcasts, each summed on the way (`destination`).
//!
//! The sweep runs in grad mode `create_graph`: with it on, every VJP and every accumulation
//! is recorded, so the gradients are `Var`s with a graph of their own — differentiable again.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

use smallvec::SmallVec;

use crate::mode::{is_grad_enabled, with_grad_mode};
use crate::var::Var;

/// What to do with an input (one that requires a gradient) the outputs do not depend on.
///
/// This applies only to inputs that require gradients: for those, every operation applied
/// to them under grad mode was recorded, so an input the sweep does not reach is one the
/// outputs truly do not depend on, and zero is its exact gradient. An input that does not
/// require a gradient is always [`GradError::NotDifferentiable`], whatever this says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Unused {
    /// Its gradient is zeros of its shape (the mathematical answer).
    #[default]
    Zeros,
    /// Report it as [`GradError::Unused`] (catches a miswired graph).
    Error,
}

/// Options of [`grad_with`].
#[derive(Clone, Copy, Debug, Default)]
pub struct GradOptions {
    /// Record the backward pass, so the gradients can be differentiated again.
    pub create_graph: bool,
    pub unused: Unused,
}

/// Why a gradient could not be computed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GradError {
    /// A non-scalar output was given no seed.
    NonScalarOutput { output: usize, shape: Vec<usize> },
    /// A seed does not have its output's shape.
    SeedShape {
        output: usize,
        output_shape: Vec<usize>,
        seed_shape: Vec<usize>,
    },
    /// The number of seeds differs from the number of outputs.
    SeedCount { outputs: usize, seeds: usize },
    /// An input the outputs do not depend on, with [`Unused::Error`].
    Unused { input: usize, shape: Vec<usize> },
    /// An input that does not require a gradient (a constant, a detached value, or a result
    /// computed only from such values): nothing computed from it was recorded, so the
    /// engine cannot tell what the outputs' derivative with respect to it is.
    NotDifferentiable { input: usize, shape: Vec<usize> },
}

impl fmt::Display for GradError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GradError::NonScalarOutput { output, shape } => write!(
                f,
                "grad: output {output} has shape {shape:?}; a non-scalar output needs an explicit seed"
            ),
            GradError::SeedShape {
                output,
                output_shape,
                seed_shape,
            } => write!(
                f,
                "grad: seed {output} has shape {seed_shape:?} but its output has shape {output_shape:?}"
            ),
            GradError::SeedCount { outputs, seeds } => {
                write!(f, "grad: {outputs} outputs but {seeds} seeds")
            }
            GradError::Unused { input, shape } => write!(
                f,
                "grad: the outputs do not depend on input {input} (shape {shape:?})"
            ),
            GradError::NotDifferentiable { input, shape } => write!(
                f,
                "grad: input {input} (shape {shape:?}) does not require a gradient, so no \
                 operation on it was recorded; make it a leaf (`Var::leaf`) before computing \
                 the outputs from it"
            ),
        }
    }
}

impl std::error::Error for GradError {}

/// Gradients of scalar `outputs` (summed) with respect to `inputs`.
///
/// - Every input must require a gradient (a [`Var::leaf`], or a result computed from one);
///   otherwise this returns [`GradError::NotDifferentiable`] naming it. Operations on values
///   that do not require gradients are not recorded, so from such an input the engine cannot
///   see what the outputs were computed from; rather than answer zeros (which would be wrong
///   as soon as the outputs do depend on it), it refuses, as PyTorch does. To differentiate
///   with respect to a gradient or another constant, make it a leaf first:
///   `Var::leaf(g.value().clone())`.
/// - An input that requires a gradient but that the outputs do not depend on gets zeros
///   (which, since everything computed from it was recorded, is then its exact gradient);
///   [`grad_with`] with [`Unused::Error`] reports it instead.
/// - An input may be listed more than once (one parameter under two names, as tied
///   weights are): each occurrence gets the full gradient.
///
/// ```
/// use autograd::{grad, Var};
/// use tensor::Tensor;
/// // y = x³  ⇒  dy/dx = 3x² = 12 at x = 2, and d²y/dx² = 6x = 12.
/// let x = Var::leaf(Tensor::scalar(2.0f64));
/// let y = &(&x * &x) * &x;
/// let dy = &grad(&[&y], &[&x], true)?[0];
/// assert_eq!(dy.item(), 12.0);
/// let d2y = &grad(&[dy], &[&x], false)?[0];
/// assert_eq!(d2y.item(), 12.0);
/// # Ok::<(), autograd::GradError>(())
/// ```
pub fn grad(outputs: &[&Var], inputs: &[&Var], create_graph: bool) -> Result<Vec<Var>, GradError> {
    let options = GradOptions {
        create_graph,
        unused: Unused::Zeros,
    };
    grad_with(outputs, &[], inputs, options)
}

/// The general form: `Σ_k ⟨seeds[k], outputs[k]⟩` differentiated with respect to `inputs`.
/// `seeds` may be empty when every output is a scalar (each then gets seed 1). Seeds are
/// `Var`s, so they may themselves require gradients (the double-VJP trick for `jvp`).
/// Inputs are treated as in [`grad`]: each must require a gradient, repeats are allowed,
/// and `options.unused` says what an input the outputs do not depend on gets.
pub fn grad_with(
    outputs: &[&Var],
    seeds: &[&Var],
    inputs: &[&Var],
    options: GradOptions,
) -> Result<Vec<Var>, GradError> {
    let seeds = make_seeds(outputs, seeds)?;
    if let Some(k) = inputs.iter().position(|v| !v.requires_grad()) {
        return Err(GradError::NotDifferentiable {
            input: k,
            shape: inputs[k].shape().to_vec(),
        });
    }
    let targets: IdMap<usize> = inputs
        .iter()
        .enumerate()
        .map(|(k, v)| (v.id(), k))
        .collect();
    let found = with_grad_mode(options.create_graph, || {
        sweep(outputs, seeds, &|v: &Var| targets.contains_key(&v.id()))
    });
    // Looked up, not removed: an input listed twice gets its gradient both times.
    inputs
        .iter()
        .enumerate()
        .map(|(k, input)| match found.get(&input.id()) {
            Some((_, g)) => Ok(g.clone()),
            None if options.unused == Unused::Zeros => {
                Ok(Var::constant(input.value().zeros_like()))
            }
            None => Err(GradError::Unused {
                input: k,
                shape: input.shape().to_vec(),
            }),
        })
        .collect()
}

impl Var {
    /// Computes the gradient of this scalar with respect to every leaf that requires one, and
    /// adds it to the leaf's [`Var::grad`] (as PyTorch's `backward()` does).
    ///
    /// # Panics
    /// If `self` is not a scalar (one element): use [`grad_with`] with a seed instead.
    #[track_caller]
    pub fn backward(&self) {
        if let Err(e) = self.try_backward() {
            panic!("{e}");
        }
    }

    /// [`Var::backward`] returning an error for a non-scalar instead of panicking.
    pub fn try_backward(&self) -> Result<(), GradError> {
        let seeds = make_seeds(&[self], &[])?;
        let is_leaf = |v: &Var| v.is_leaf() && v.requires_grad();
        let found = with_grad_mode(false, || sweep(&[self], seeds, &is_leaf));
        for (leaf, g) in found.values() {
            leaf.accumulate_grad(g.value());
        }
        Ok(())
    }
}

/// Checks or makes the seeds: 1 for each scalar output when none are given.
fn make_seeds(outputs: &[&Var], seeds: &[&Var]) -> Result<Vec<Var>, GradError> {
    if seeds.is_empty() {
        return outputs
            .iter()
            .enumerate()
            .map(|(k, out)| {
                if out.numel() != 1 {
                    return Err(GradError::NonScalarOutput {
                        output: k,
                        shape: out.shape().to_vec(),
                    });
                }
                Ok(Var::constant(out.value().ones_like()))
            })
            .collect();
    }
    if seeds.len() != outputs.len() {
        return Err(GradError::SeedCount {
            outputs: outputs.len(),
            seeds: seeds.len(),
        });
    }
    for (k, (out, seed)) in outputs.iter().zip(seeds).enumerate() {
        if out.shape() != seed.shape() {
            return Err(GradError::SeedShape {
                output: k,
                output_shape: out.shape().to_vec(),
                seed_shape: seed.shape().to_vec(),
            });
        }
    }
    Ok(seeds.iter().map(|&s| s.clone()).collect())
}

/// The reverse sweep. Returns every node for which `is_target` holds and that the outputs
/// depend on, with its gradient, keyed by [`Var::id`].
fn sweep(outputs: &[&Var], seeds: Vec<Var>, is_target: &dyn Fn(&Var) -> bool) -> IdMap<(Var, Var)> {
    let order = Order::new(outputs, is_target);
    let mut grads: Vec<Option<Var>> = vec![None; order.vars.len()];
    for (out, seed) in outputs.iter().zip(seeds) {
        if let Some(&p) = order.position.get(&out.id()) {
            grads[p] = Some(add_grad(grads[p].take(), seed));
        }
    }
    let mut found = IdMap::default();
    for p in (0..order.vars.len()).rev() {
        let Some(g) = grads[p].take() else { continue };
        let var = order.vars[p];
        if order.is_target[p] {
            found.insert(var.id(), (var.clone(), g.clone()));
        }
        let Some(node) = var.node() else { continue };
        let edges = order.edges(p);
        let needs: SmallVec<[bool; 3]> = edges.iter().map(|&q| order.reaches(q)).collect();
        if !needs.contains(&true) {
            continue;
        }
        // The shape each input's gradient ends up as: the input's own, or, where the edge
        // looks through a broadcast, the shape of what was broadcast.
        let sums: SmallVec<[&[usize]; 3]> = (node.inputs.iter().zip(edges))
            .map(|(input, &q)| match q {
                NOT_IN_ORDER => input.shape(),
                q => order.vars[q].shape(),
            })
            .collect();
        // A one-input rule may add its gradient into what its input already has, in place
        // (`Primitive::add_vjp_into`), when only plain values are wanted (and anomaly mode
        // is not checking each rule's result).
        let plain = !is_grad_enabled() && !crate::anomaly::is_anomaly_enabled();
        if plain && needs[..] == [true] && sums[0] == node.inputs[0].shape() {
            let sum = grads[edges[0]]
                .as_mut()
                .and_then(Var::unique_constant_value);
            if sum.is_some_and(|sum| node.op.add_vjp_into(sum, g.value())) {
                continue;
            }
        }
        let rule = || node.op.vjp_summed(&node.inputs, var, &g, &needs, &sums);
        let input_grads = if crate::anomaly::is_anomaly_enabled() {
            let input_grads = crate::anomaly::in_rule(rule);
            crate::anomaly::check_backward(var, &node.inputs, &g, &input_grads);
            input_grads
        } else {
            rule()
        };
        for ((&q, &shape), input_grad) in edges.iter().zip(&sums).zip(input_grads) {
            let (true, Some(mut input_grad)) = (order.reaches(q), input_grad) else {
                continue;
            };
            if input_grad.shape() != shape {
                input_grad = input_grad.sum_to(shape);
            }
            grads[q] = Some(add_grad(grads[q].take(), input_grad));
        }
    }
    found
}

/// `sum + g`, or `g` when there is nothing yet.
///
/// When nothing is being recorded the sum is a constant that only this sweep holds, so `g` is
/// added into its buffer instead of allocating a new one.
fn add_grad(sum: Option<Var>, g: Var) -> Var {
    match sum {
        None => g,
        Some(mut sum) if !is_grad_enabled() => {
            match sum.unique_constant_value() {
                Some(value) if value.shape() == g.shape() => value.add_assign(g.value()),
                _ => return &sum + &g,
            }
            sum
        }
        Some(sum) => &sum + &g,
    }
}

/// Marks an input that is not in the order (it requires no gradient).
const NOT_IN_ORDER: usize = usize::MAX;

/// The nodes reachable from the outputs, in post-order, which of them reach a target, and
/// each node's inputs as positions in the order.
///
/// Everything the sweep needs is worked out here, once per node, so the sweep itself does no
/// hashing: it only indexes vectors. The nodes are borrowed, not cloned: the outputs keep the
/// whole graph alive while the engine runs.
struct Order<'a> {
    vars: Vec<&'a Var>,
    /// Position of each node, by [`Var::id`] (only the outputs are looked up after `new`).
    position: IdMap<usize>,
    is_target: Vec<bool>,
    reaches: Vec<bool>,
    /// `edges[edge_start[p]..edge_start[p + 1]]`: the position of each input of node `p`,
    /// or `NOT_IN_ORDER`.
    edges: Vec<usize>,
    edge_start: Vec<usize>,
}

impl<'a> Order<'a> {
    fn new(outputs: &[&'a Var], is_target: &dyn Fn(&Var) -> bool) -> Order<'a> {
        // Capacity for a small model's graph up front, so the vectors and the map do not
        // grow step by step (each step is an allocation and, for the map, a rehash).
        const EXPECTED_NODES: usize = 64;
        let mut order = Order {
            vars: Vec::with_capacity(EXPECTED_NODES),
            position: IdMap::with_capacity_and_hasher(EXPECTED_NODES, Default::default()),
            is_target: Vec::with_capacity(EXPECTED_NODES),
            reaches: Vec::with_capacity(EXPECTED_NODES),
            edges: Vec::with_capacity(2 * EXPECTED_NODES),
            edge_start: Vec::with_capacity(EXPECTED_NODES + 1),
        };
        order.edge_start.push(0);
        // (var, inputs done): a var is pushed once to expand, and again to finish after its
        // inputs. In a DAG every input is finished before the var that uses it. A var being
        // expanded is in `position` as `NOT_IN_ORDER` until it finishes (that is the visited
        // set: one map serves both).
        let mut stack: Vec<(&'a Var, bool)> = Vec::with_capacity(EXPECTED_NODES);
        stack.extend(
            outputs
                .iter()
                .filter(|v| v.requires_grad())
                .map(|&v| (v, false)),
        );
        while let Some((var, inputs_done)) = stack.pop() {
            if inputs_done {
                order.finish(var, is_target);
                continue;
            }
            match order.position.entry(var.id()) {
                Entry::Occupied(_) => continue,
                Entry::Vacant(slot) => slot.insert(NOT_IN_ORDER),
            };
            stack.push((var, true));
            if let Some(node) = var.node() {
                stack.extend(
                    node.inputs
                        .iter()
                        .filter(|i| i.requires_grad())
                        .map(|i| (destination(i, is_target), false)),
                );
            }
        }
        order
    }

    /// Appends `var`, whose inputs (their destinations) are all in the order already.
    fn finish(&mut self, var: &'a Var, is_target: &dyn Fn(&Var) -> bool) {
        let p = self.vars.len();
        let target = is_target(var);
        let mut reaches = target;
        for input in var.node().map_or(&[][..], |node| &node.inputs[..]) {
            let q = if input.requires_grad() {
                self.position[&destination(input, is_target).id()]
            } else {
                NOT_IN_ORDER
            };
            reaches |= self.reaches(q);
            self.edges.push(q);
        }
        self.edge_start.push(self.edges.len());
        self.position.insert(var.id(), p);
        self.vars.push(var);
        self.is_target.push(target);
        self.reaches.push(reaches);
    }

    /// The positions of node `p`'s inputs.
    fn edges(&self, p: usize) -> &[usize] {
        &self.edges[self.edge_start[p]..self.edge_start[p + 1]]
    }

    /// True if the node at position `q` (possibly `NOT_IN_ORDER`) reaches a target.
    fn reaches(&self, q: usize) -> bool {
        q != NOT_IN_ORDER && self.reaches[q]
    }
}

/// Where the sweep sends the gradient of `input`: `input` itself, or, when it is a broadcast
/// that is not a target, the `Var` it broadcasts (through any chain of broadcasts).
///
/// A broadcast's VJP sums its gradient back to its input's shape, and sums are linear: summing
/// each incoming gradient on its way through gives the same total as adding them all at the
/// broadcast's shape and summing once, while moving far less memory (a θ broadcast over a
/// stack of tasks takes several task-sized gradients). It also lets a rule fold the sum into
/// its own product ([`Primitive::vjp_summed`](crate::Primitive::vjp_summed)).
fn destination<'v>(input: &'v Var, is_target: &dyn Fn(&Var) -> bool) -> &'v Var {
    let mut var = input;
    while let Some(node) = var.node() {
        if !node.op.is_broadcast() || is_target(var) {
            break;
        }
        var = &node.inputs[0];
    }
    var
}

/// A hash map keyed by `Var` ids (addresses): they are already well spread, so hashing is one
/// multiplication instead of SipHash (the engine does several lookups per node).
type IdMap<V> = HashMap<usize, V, BuildHasherDefault<IdHasher>>;

#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_usize(&mut self, id: usize) {
        // Fibonacci hashing; addresses are 8- or 16-byte aligned, so shift the zeros out.
        self.0 = ((id >> 4) as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}
