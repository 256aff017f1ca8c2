//! Whether kernels may split their work across rayon's threads.
//!
//! Large kernels (a GEMM, a convolution over many images, an element-wise op on a big tensor)
//! split themselves across threads. When the caller already keeps every thread busy with
//! independent jobs — the meta-trainer running one task per job, say — that inner splitting
//! only adds work: jobs pushed for threads that never come to take them, and the other
//! thread's caches disturbed when they do. [`serial`] turns it off for the current thread.
//!
//! Results do not change: every kernel cuts its work by the shapes alone and combines the
//! pieces in a fixed order, whichever thread ran them (see the notes in `matmul::gemm` and
//! `conv::lowering`).

use std::cell::Cell;

thread_local! {
    static SERIAL: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with this crate's kernels kept on the calling thread (and restores the previous
/// setting afterwards, also if `f` panics).
///
/// ```
/// use tensor::{parallel, DType, Tensor};
/// let a = Tensor::ones(&[300, 300], DType::F32);
/// // Big enough to split across threads, but computed here, with the same result.
/// let product = parallel::serial(|| a.matmul(&a));
/// assert_eq!(product.to_vec::<f32>(), a.matmul(&a).to_vec::<f32>());
/// assert!(!parallel::is_serial());
/// ```
pub fn serial<R>(f: impl FnOnce() -> R) -> R {
    /// Puts the old setting back when dropped, on unwinding too.
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            SERIAL.set(self.0);
        }
    }
    let _restore = Restore(SERIAL.replace(true));
    f()
}

/// [`serial`] if `keep_here`, else plain `f()`: for a caller that decides per call whether its
/// own jobs already fill the threads.
pub fn serial_if<R>(keep_here: bool, f: impl FnOnce() -> R) -> R {
    if keep_here {
        serial(f)
    } else {
        f()
    }
}

/// True inside [`serial`] on this thread.
pub fn is_serial() -> bool {
    SERIAL.get()
}

/// True if a kernel with enough work to split (`worth_it`) may split it across threads.
pub(crate) fn split(worth_it: bool) -> bool {
    worth_it && !is_serial()
}
