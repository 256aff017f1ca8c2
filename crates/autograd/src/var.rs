//! [`Var`]: a tensor value plus the node that produced it.
//!
//! A `Var` is an `Arc`: cloning it is cheap, and the graph is nothing but `Var`s pointing at
//! their inputs. There is no tape: each result holds what its backward rule needs (its
//! inputs and a [`Primitive`]), so graphs can be built on any number of threads at once, and
//! a graph is freed as soon as the last `Var` referring to it is dropped. Nodes point only to
//! older nodes, so no cycle can form.

use std::fmt;
use std::sync::{Arc, Mutex};

use smallvec::SmallVec;
use tensor::{DType, Tensor};

use crate::mode::is_grad_enabled;
use crate::primitive::Primitive;

/// A tensor that remembers how it was computed.
#[derive(Clone)]
pub struct Var(Arc<VarNode>);

struct VarNode {
    value: Tensor,
    requires_grad: bool,
    grad_fn: Option<Node>,
    /// Gradient accumulated by [`Var::backward`] (leaves only).
    grad: Mutex<Option<Tensor>>,
}

/// How a non-leaf `Var` was made: the operation and its inputs.
pub(crate) struct Node {
    pub op: Box<dyn Primitive>,
    /// Inline up to three: the most any primitive takes (`linear`'s x, W, b; `sub_mul`'s
    /// x, a, b), so that recording a node allocates only the node.
    pub inputs: SmallVec<[Var; 3]>,
}

impl Var {
    /// A leaf (a variable made by the user, not by an operation).
    pub fn new(value: Tensor, requires_grad: bool) -> Var {
        Var(Arc::new(VarNode {
            value,
            requires_grad,
            grad_fn: None,
            grad: Mutex::new(None),
        }))
    }

    /// A leaf that requires gradients: a parameter, or an input to differentiate by.
    pub fn leaf(value: Tensor) -> Var {
        Var::new(value, true)
    }

    /// A constant: data, masks, anything not differentiated.
    pub fn constant(value: Tensor) -> Var {
        Var::new(value, false)
    }

    /// A 0-d constant of `dtype`.
    pub fn scalar(value: f64, dtype: DType) -> Var {
        Var::constant(Tensor::scalar_of(value, dtype))
    }

    /// Records the result `value` of `op` applied to `inputs`, if grad mode is on and any
    /// input requires a gradient; otherwise returns `value` as a constant.
    ///
    /// This is how every primitive's forward pass ends, and how a user adds a primitive of
    /// their own: compute the value with `tensor` kernels, then record it with an `op` whose
    /// [`Primitive::vjp`] is written in `Var` operations.
    pub fn record(value: Tensor, op: impl Primitive, inputs: &[&Var]) -> Var {
        if crate::anomaly::is_anomaly_enabled() {
            crate::anomaly::check_forward(op.name(), &value, inputs);
        }
        if !(is_grad_enabled() && inputs.iter().any(|v| v.requires_grad())) {
            return Var::constant(value);
        }
        Var(Arc::new(VarNode {
            value,
            requires_grad: true,
            grad_fn: Some(Node {
                op: Box::new(op),
                inputs: inputs.iter().map(|&v| v.clone()).collect(),
            }),
            grad: Mutex::new(None),
        }))
    }

    /// The value.
    pub fn value(&self) -> &Tensor {
        &self.0.value
    }

    pub fn shape(&self) -> &[usize] {
        self.0.value.shape()
    }

    pub fn ndim(&self) -> usize {
        self.0.value.ndim()
    }

    pub fn numel(&self) -> usize {
        self.0.value.numel()
    }

    pub fn dtype(&self) -> DType {
        self.0.value.dtype()
    }

    /// The single element of a one-element `Var`, as `f64`.
    pub fn item(&self) -> f64 {
        self.0.value.item()
    }

    /// True if gradients flow to or through this `Var`.
    pub fn requires_grad(&self) -> bool {
        self.0.requires_grad
    }

    /// True for `Var`s made by the user rather than by an operation.
    pub fn is_leaf(&self) -> bool {
        self.0.grad_fn.is_none()
    }

    /// The same value, cut from the graph: a constant.
    pub fn detach(&self) -> Var {
        Var::constant(self.0.value.clone())
    }

    /// The name of the operation that made this `Var`, if any.
    pub fn op_name(&self) -> Option<&'static str> {
        self.0.grad_fn.as_ref().map(|node| node.op.name())
    }

    /// The names of the operations in the graph that made this `Var`, each once, sorted
    /// (empty for a leaf or a constant). For tests and graph dumps: it walks the whole graph.
    pub fn graph_ops(&self) -> Vec<&'static str> {
        let mut seen = std::collections::HashSet::new();
        let mut names = std::collections::BTreeSet::new();
        let mut stack = vec![self];
        while let Some(var) = stack.pop() {
            if !seen.insert(var.id()) {
                continue;
            }
            if let Some(node) = var.node() {
                names.insert(node.op.name());
                stack.extend(node.inputs.iter());
            }
        }
        names.into_iter().collect()
    }

    /// The gradient accumulated by [`Var::backward`], if any.
    pub fn grad(&self) -> Option<Tensor> {
        self.0.grad.lock().expect("grad lock poisoned").clone()
    }

    /// Clears the accumulated gradient.
    pub fn zero_grad(&self) {
        *self.0.grad.lock().expect("grad lock poisoned") = None;
    }

    /// Adds `g` to the accumulated gradient.
    pub(crate) fn accumulate_grad(&self, g: &Tensor) {
        let mut slot = self.0.grad.lock().expect("grad lock poisoned");
        *slot = Some(match slot.take() {
            Some(sum) => sum.add(g),
            None => g.clone(),
        });
    }

    /// The value, mutably, if this is a constant that nothing else refers to (so changing it
    /// cannot be observed elsewhere). The engine uses it to accumulate gradients in place.
    pub(crate) fn unique_constant_value(&mut self) -> Option<&mut Tensor> {
        let node = Arc::get_mut(&mut self.0)?;
        (node.grad_fn.is_none() && !node.requires_grad).then_some(&mut node.value)
    }

    /// The node that made this `Var` (`None` for leaves and constants).
    pub(crate) fn node(&self) -> Option<&Node> {
        self.0.grad_fn.as_ref()
    }

    /// An identity for this `Var` while it is alive (the address of its shared node).
    pub fn id(&self) -> usize {
        Arc::as_ptr(&self.0) as usize
    }

    /// True when both are the same `Var` (not merely equal values).
    pub fn same(&self, other: &Var) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// A weak handle, to observe (in tests) that a graph has been freed.
    pub fn downgrade(&self) -> WeakVar {
        WeakVar(Arc::downgrade(&self.0))
    }
}

/// A handle that does not keep a `Var` alive.
pub struct WeakVar(std::sync::Weak<VarNode>);

impl WeakVar {
    /// True while some `Var` still holds the node.
    pub fn is_alive(&self) -> bool {
        self.0.strong_count() > 0
    }
}

// NOTE: dropping the last `Var` of a long chain would drop its input, whose drop drops its
// input, and so on: a recursion as deep as the graph, which can overflow the stack. Instead we
// unlink inputs into an explicit stack and drop them one at a time.
impl Drop for VarNode {
    fn drop(&mut self) {
        let Some(node) = self.grad_fn.take() else {
            return;
        };
        // Inline room for a few levels of a typical graph, so dropping a node allocates
        // nothing unless it frees a long chain.
        let mut pending: SmallVec<[Var; 8]> = node.inputs.into_iter().collect();
        while let Some(var) = pending.pop() {
            // Only if we hold the last reference does dropping it free anything.
            if let Some(mut inner) = Arc::into_inner(var.0) {
                if let Some(node) = inner.grad_fn.take() {
                    pending.extend(node.inputs);
                }
            }
        }
    }
}

impl fmt::Debug for Var {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.op_name() {
            Some(op) => write!(f, "Var(op = {op}) {}", self.value()),
            None if self.requires_grad() => write!(f, "Var(leaf) {}", self.value()),
            None => write!(f, "Var(constant) {}", self.value()),
        }
    }
}

impl fmt::Display for Var {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}
