//! The reverse pass: from seeds on the outputs to gradients on the inputs.
//!
//! 1. **Order.** A depth-first walk from the outputs lists every node in post-order (each
//!    after all of its inputs) and marks which nodes *reach* a requested input. Reversed,
//!    post-order is a topological order: every node comes before its inputs.
//! 2. **Sweep.** In that order each reaching node takes its accumulated gradient `g`, asks its
//!    primitive for the VJPs of the inputs that reach, sums each back to its input's shape
//!    (broadcasting is undone here and nowhere else), and adds it to that input's gradient.
//!
//! The sweep runs in grad mode `create_graph`: with it on, every VJP and every accumulation
//! is recorded, so the gradients are `Var`s with a graph of their own — differentiable again.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

use smallvec::SmallVec;

use crate::mode::with_grad_mode;
use crate::var::Var;

/// What to do with an input the outputs do not depend on.
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
        }
    }
}

impl std::error::Error for GradError {}

/// Gradients of scalar `outputs` (summed) with respect to `inputs`. An input the outputs do
/// not depend on gets zeros.
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
pub fn grad_with(
    outputs: &[&Var],
    seeds: &[&Var],
    inputs: &[&Var],
    options: GradOptions,
) -> Result<Vec<Var>, GradError> {
    let seeds = make_seeds(outputs, seeds)?;
    let targets: IdMap<usize> = inputs
        .iter()
        .enumerate()
        .map(|(k, v)| (v.id(), k))
        .collect();
    let mut found = with_grad_mode(options.create_graph, || {
        sweep(outputs, seeds, &|v: &Var| targets.contains_key(&v.id()))
    });
    inputs
        .iter()
        .enumerate()
        .map(|(k, input)| match found.remove(&input.id()) {
            Some((_, g)) => Ok(g),
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
        let var = &order.vars[p];
        if is_target(var) {
            found.insert(var.id(), (var.clone(), g.clone()));
        }
        let Some(node) = var.node() else { continue };
        let needs: SmallVec<[bool; 2]> = node
            .inputs
            .iter()
            .map(|input| order.reaches_target(input))
            .collect();
        if !needs.contains(&true) {
            continue;
        }
        let input_grads = node.op.vjp(&node.inputs, var, &g, &needs);
        for ((input, need), input_grad) in node.inputs.iter().zip(needs).zip(input_grads) {
            let (true, Some(mut input_grad)) = (need, input_grad) else {
                continue;
            };
            if input_grad.shape() != input.shape() {
                input_grad = input_grad.sum_to(input.shape());
            }
            let q = order.position[&input.id()];
            grads[q] = Some(add_grad(grads[q].take(), input_grad));
        }
    }
    found
}

/// `sum + g`, or `g` when there is nothing yet.
fn add_grad(sum: Option<Var>, g: Var) -> Var {
    match sum {
        Some(sum) => &sum + &g,
        None => g,
    }
}

/// The nodes reachable from the outputs, in post-order, and which of them reach a target.
struct Order {
    vars: Vec<Var>,
    position: IdMap<usize>,
    reaches: Vec<bool>,
}

impl Order {
    fn new(outputs: &[&Var], is_target: &dyn Fn(&Var) -> bool) -> Order {
        let mut order = Order {
            vars: Vec::new(),
            position: IdMap::default(),
            reaches: Vec::new(),
        };
        let mut visited: IdMap<()> = IdMap::default();
        // (var, inputs done): a var is pushed once to expand, and again to finish after its
        // inputs. In a DAG every input is finished before the var that uses it.
        let mut stack: Vec<(Var, bool)> = outputs
            .iter()
            .filter(|v| v.requires_grad())
            .map(|&v| (v.clone(), false))
            .collect();
        while let Some((var, inputs_done)) = stack.pop() {
            if inputs_done {
                let reaches = is_target(&var)
                    || var
                        .node()
                        .is_some_and(|node| node.inputs.iter().any(|i| order.reaches_target(i)));
                order.position.insert(var.id(), order.vars.len());
                order.vars.push(var);
                order.reaches.push(reaches);
                continue;
            }
            if visited.insert(var.id(), ()).is_some() {
                continue;
            }
            let inputs: SmallVec<[Var; 2]> = match var.node() {
                Some(node) => node
                    .inputs
                    .iter()
                    .filter(|i| i.requires_grad())
                    .cloned()
                    .collect(),
                None => SmallVec::new(),
            };
            stack.push((var, true));
            stack.extend(inputs.into_iter().map(|i| (i, false)));
        }
        order
    }

    fn reaches_target(&self, var: &Var) -> bool {
        self.position
            .get(&var.id())
            .is_some_and(|&p| self.reaches[p])
    }
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
