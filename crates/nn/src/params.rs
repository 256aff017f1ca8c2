//! [`Params`]: an ordered, named collection of `Var`s — a model's parameters, its gradients,
//! Meta-SGD's learning rates, or an adapted copy θ'.
//!
//! Meta-learning runs one model with many parameter sets, so parameter sets are values to map
//! and zip rather than fields inside layers. The inner step of Meta-SGD is one line:
//!
//! ```
//! use autograd::{grad, Var};
//! use nn::Params;
//! use tensor::{DType, Tensor};
//!
//! let theta = Params::from_iter([("w", Var::leaf(Tensor::full(&[2], 1.0, DType::F64)))]);
//! let alpha = theta.map(|_, p| Var::leaf(p.value().full_like(0.1)));
//! let loss = theta.get("w").unwrap().square().sum_all();
//! let g = theta.gradients(&grad(&[&loss], &theta.vars(), true).unwrap());
//! // θ' = θ − α ⊙ g
//! let adapted = theta.zip3(&alpha, &g, |t, a, g| t - &(a * g));
//! assert_eq!(adapted.get("w").unwrap().value().to_vec::<f64>(), [0.8, 0.8]);
//! ```

use std::fmt;

use autograd::Var;
use tensor::{DType, Tensor};

/// Named `Var`s in a fixed order.
#[derive(Clone, Default)]
pub struct Params {
    entries: Vec<(String, Var)>,
}

impl Params {
    pub fn new() -> Params {
        Params::default()
    }

    /// Adds `var` under `name`.
    ///
    /// # Panics
    /// If `name` is already present (two parameters with one name is a model bug).
    pub fn insert(&mut self, name: impl Into<String>, var: Var) {
        let name = name.into();
        assert!(
            self.get(&name).is_none(),
            "params: duplicate parameter name `{name}`"
        );
        self.entries.push((name, var));
    }

    /// The parameter called `name`.
    pub fn get(&self, name: &str) -> Option<&Var> {
        self.entries.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The parameter called `name`.
    ///
    /// # Panics
    /// If there is none; the message lists the names there are.
    pub fn expect(&self, name: &str) -> &Var {
        self.get(name).unwrap_or_else(|| {
            panic!(
                "params: no parameter `{name}` (have: {})",
                self.names().collect::<Vec<_>>().join(", ")
            )
        })
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The total number of scalar elements (what papers call the parameter count).
    pub fn numel(&self) -> usize {
        self.entries.iter().map(|(_, v)| v.numel()).sum()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(n, _)| n.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Var)> {
        self.entries.iter().map(|(n, v)| (n.as_str(), v))
    }

    /// References to the `Var`s in order, as [`autograd::grad`] takes them.
    pub fn vars(&self) -> Vec<&Var> {
        self.entries.iter().map(|(_, v)| v).collect()
    }

    /// The values in order.
    pub fn tensors(&self) -> Vec<Tensor> {
        self.entries
            .iter()
            .map(|(_, v)| v.value().clone())
            .collect()
    }

    /// `f(name, var)` for each entry, keeping the names.
    pub fn map(&self, mut f: impl FnMut(&str, &Var) -> Var) -> Params {
        Params {
            entries: self
                .entries
                .iter()
                .map(|(n, v)| (n.clone(), f(n, v)))
                .collect(),
        }
    }

    /// `f(a, b)` for entries of the same name in `self` and `other`.
    ///
    /// # Panics
    /// If the two do not have the same names in the same order.
    pub fn zip(&self, other: &Params, mut f: impl FnMut(&Var, &Var) -> Var) -> Params {
        self.assert_same_names("zip", other);
        Params {
            entries: self
                .entries
                .iter()
                .zip(&other.entries)
                .map(|((n, a), (_, b))| (n.clone(), f(a, b)))
                .collect(),
        }
    }

    /// `f(a, b, c)` for entries of the same name in three collections.
    ///
    /// # Panics
    /// As [`Params::zip`].
    pub fn zip3(
        &self,
        b: &Params,
        c: &Params,
        mut f: impl FnMut(&Var, &Var, &Var) -> Var,
    ) -> Params {
        self.assert_same_names("zip3", b);
        self.assert_same_names("zip3", c);
        let entries = self.entries.iter().zip(&b.entries).zip(&c.entries);
        Params {
            entries: entries
                .map(|(((n, x), (_, y)), (_, z))| (n.clone(), f(x, y, z)))
                .collect(),
        }
    }

    /// The `Var`s of `grads` (in this collection's order, as [`autograd::grad`] returns them)
    /// under this collection's names.
    ///
    /// # Panics
    /// If the counts differ.
    pub fn gradients(&self, grads: &[Var]) -> Params {
        assert_eq!(
            grads.len(),
            self.len(),
            "params: {} gradients for {} parameters",
            grads.len(),
            self.len()
        );
        Params {
            entries: self
                .entries
                .iter()
                .zip(grads)
                .map(|((n, _), g)| (n.clone(), g.clone()))
                .collect(),
        }
    }

    /// The same values as constants, cut from any graph.
    pub fn detach(&self) -> Params {
        self.map(|_, v| v.detach())
    }

    /// The same values as fresh leaves that require gradients (the start of a training step).
    pub fn to_leaves(&self) -> Params {
        self.map(|_, v| Var::leaf(v.value().clone()))
    }

    /// The values converted to `dtype`, as leaves if the originals required gradients.
    pub fn to_dtype(&self, dtype: DType) -> Params {
        self.map(|_, v| Var::new(v.value().to_dtype(dtype), v.requires_grad()))
    }

    /// The entries whose names start with `prefix.`, with the prefix removed.
    pub fn scoped(&self, prefix: &str) -> Params {
        let dotted = format!("{prefix}.");
        let entries = self.entries.iter().filter_map(|(n, v)| {
            n.strip_prefix(&dotted)
                .map(|rest| (rest.to_string(), v.clone()))
        });
        Params {
            entries: entries.collect(),
        }
    }

    /// All entries of `other` added under `prefix.name`.
    pub fn extend_prefixed(&mut self, prefix: &str, other: &Params) {
        for (name, var) in other.iter() {
            self.insert(format!("{prefix}.{name}"), var.clone());
        }
    }

    /// Panics unless `other` has exactly these names in this order.
    fn assert_same_names(&self, op: &str, other: &Params) {
        let same =
            self.len() == other.len() && self.names().zip(other.names()).all(|(a, b)| a == b);
        assert!(
            same,
            "params::{op}: names differ: [{}] vs [{}]",
            self.names().collect::<Vec<_>>().join(", "),
            other.names().collect::<Vec<_>>().join(", ")
        );
    }
}

impl<S: Into<String>> FromIterator<(S, Var)> for Params {
    fn from_iter<I: IntoIterator<Item = (S, Var)>>(iter: I) -> Params {
        let mut params = Params::new();
        for (name, var) in iter {
            params.insert(name, var);
        }
        params
    }
}

impl fmt::Debug for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Params ({} tensors, {} elements)",
            self.len(),
            self.numel()
        )?;
        for (name, var) in self.iter() {
            writeln!(f, "  {name}: {:?} {}", var.shape(), var.dtype())?;
        }
        Ok(())
    }
}
