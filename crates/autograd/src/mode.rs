//! Grad mode: whether operations record themselves in the graph.
//!
//! Recording is on by default. [`no_grad`] turns it off for the duration of a closure
//! (evaluation, optimiser updates); the engine itself turns it on or off while it runs the
//! backward rules, which is exactly what `create_graph` means.
//!
//! The flag is per thread, like the rest of a graph's state is per `Var`: there is no global
//! tape. A closure run on rayon's worker threads does not inherit the caller's mode; call
//! `no_grad` inside the closure if that is what it needs.

use std::cell::Cell;

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
}

/// True when new operations are being recorded on this thread.
pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(Cell::get)
}

/// Runs `f` with recording set to `enabled`, restoring the previous mode afterwards (also if
/// `f` panics).
pub fn with_grad_mode<R>(enabled: bool, f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            GRAD_ENABLED.with(|flag| flag.set(self.0));
        }
    }
    let _restore = Restore(GRAD_ENABLED.with(|flag| flag.replace(enabled)));
    f()
}

/// Runs `f` without recording: results are constants, and nothing is kept alive for a
/// backward pass.
///
/// ```
/// use autograd::{no_grad, Var};
/// use tensor::{DType, Tensor};
/// let x = Var::leaf(Tensor::ones(&[3], DType::F64));
/// let y = no_grad(|| x.exp());
/// assert!(!y.requires_grad());
/// ```
pub fn no_grad<R>(f: impl FnOnce() -> R) -> R {
    with_grad_mode(false, f)
}
