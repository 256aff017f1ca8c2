//! Buffer recycling: the output buffers of kernels come from a per-thread stock of buffers
//! freed by earlier tensors.
//!
//! A training loop allocates the same shapes every iteration. Without reuse, each large
//! output is fresh memory from the allocator; glibc returns freed large blocks to the
//! operating system (`munmap`, or trimming the heap), and every page of the next allocation
//! is then faulted in and zeroed by the kernel again. In the vectorised Meta-SGD step that was
//! over a fifth of the run time; mid-sized blocks (a few KiB, the activations of a small
//! network), which glibc does not cache per thread, cost another few percent. Keeping freed
//! buffers for the next tensor of a similar size removes both costs.
//!
//! Rules: only buffers of at least [`MIN_ELEMENTS`] are kept (glibc's per-thread cache
//! already serves smaller blocks quickly). Buffers are sorted into size classes, four per
//! doubling (256, 320, 384, 448, 512, 640, …); a request is rounded up to its class and
//! served by any buffer of that class, so a buffer is at most 25% larger than asked for, and
//! finding one is an index, not a search. A thread keeps at most [`MAX_BYTES`], and at most
//! `MAX_PER_CLASS` buffers of one class; a buffer freed beyond that goes back to the
//! allocator. Buffers are kept by the thread that frees them, so there is no locking.
//!
//! A kept buffer also keeps its old contents, so a kernel that overwrites every element of
//! its output (a matrix product, say) can ask for [`scratch`] and skip zeroing it first.

use std::cell::RefCell;
use std::mem::MaybeUninit;

use rayon::prelude::*;

use crate::element::Element;
use crate::storage::Storage;

/// Buffers smaller than this (in elements) are left to the allocator.
pub const MIN_ELEMENTS: usize = 256;
/// At most this many bytes of free buffers are kept per thread.
pub const MAX_BYTES: usize = 64 << 20;

/// At most this many buffers of one size class are kept per thread. A training step frees
/// the tensors its tape held and allocates as many again, and an unrolled loop holds many
/// of one shape: the learned optimiser's 20-step truncation keeps several hundred
/// `[320, 20]` gate tensors until its backward pass. With a cap of 64 the rest went back to
/// the allocator and came again fresh, zero-filled by [`scratch`] (7% of that run's time in
/// `memset`, 2% with this cap). Buffers made on another thread and freed here (a gradient
/// handed back to the caller) can also pile up; [`MAX_BYTES`] bounds what they hold.
const MAX_PER_CLASS: usize = 1024;

/// Size classes per doubling.
const CLASSES_PER_DOUBLING: usize = 4;

/// The class of the smallest buffers that hold `len` elements (`len ≥ MIN_ELEMENTS`), and
/// that class's capacity: `2^e · (4 + q) / 4` for `q` in 0..4.
fn class_up(len: usize) -> (usize, usize) {
    let mut class = class_down(len);
    if capacity_of(class) < len {
        class += 1;
    }
    (class, capacity_of(class))
}

/// The class of the largest buffers that a buffer of `capacity` can stand in for.
fn class_down(capacity: usize) -> usize {
    let e = usize::BITS - 1 - capacity.leading_zeros(); // 2^e ≤ capacity < 2^(e+1)
    let q = (capacity >> (e - 2)) & 3; // the two bits after the leading one
    let base = MIN_ELEMENTS.trailing_zeros();
    (e - base) as usize * CLASSES_PER_DOUBLING + q
}

fn capacity_of(class: usize) -> usize {
    let (e, q) = (class / CLASSES_PER_DOUBLING, class % CLASSES_PER_DOUBLING);
    (MIN_ELEMENTS << e) / 4 * (4 + q)
}

/// The free buffers of one element type, by size class.
#[derive(Default)]
pub struct Shelf<T> {
    classes: Vec<Vec<Vec<T>>>,
}

#[derive(Default)]
struct Recycler {
    f32: Shelf<f32>,
    f64: Shelf<f64>,
    bytes: usize,
}

thread_local! {
    static RECYCLER: RefCell<Recycler> = RefCell::new(Recycler::default());
}

/// The shelf of `T` in `recycler`.
fn shelf<T: Element>(recycler: &mut Recycler) -> &mut Shelf<T> {
    // Each element type has its own shelf; `Element` knows which is which.
    T::free_list(&mut recycler.f32, &mut recycler.f64)
}

/// A kept buffer with room for `len` elements (its old contents still in it), or else a new
/// empty one with the capacity of `len`'s class.
fn reuse<T: Element>(len: usize) -> Vec<T> {
    if len < MIN_ELEMENTS {
        return Vec::with_capacity(len);
    }
    let (class, capacity) = class_up(len);
    let kept = RECYCLER
        .try_with(|recycler| {
            let mut recycler = recycler.borrow_mut();
            let buffer = shelf::<T>(&mut recycler).classes.get_mut(class)?.pop()?;
            recycler.bytes -= buffer.capacity() * std::mem::size_of::<T>();
            Some(buffer)
        })
        .ok()
        .flatten();
    kept.unwrap_or_else(|| Vec::with_capacity(capacity))
}

/// An empty vector with room for `len` elements, reusing a freed buffer when one fits.
pub fn with_capacity<T: Element>(len: usize) -> Vec<T> {
    let mut buffer = reuse(len);
    buffer.clear();
    buffer
}

/// `len` zeros, in a reused buffer when one fits.
pub fn zeros<T: Element>(len: usize) -> Vec<T> {
    let mut out = with_capacity(len);
    zero_fill_to(&mut out, len);
    out
}

/// `len` elements of unspecified value (whatever an earlier tensor left in a reused buffer,
/// or zeros), for a kernel that writes every element before reading any.
pub fn scratch<T: Element>(len: usize) -> Vec<T> {
    let mut buffer = reuse::<T>(len);
    // Elements up to the old length hold old values (still valid numbers); any beyond it are
    // filled with zeros.
    buffer.truncate(len);
    zero_fill_to(&mut buffer, len);
    buffer
}

/// Grows `buffer` (at most `len` long) to `len` with zeros. A fresh buffer is mostly untouched
/// memory: writing it costs a page fault and a clearing per page on top of the zeros, so a
/// large fill is split across rayon's threads.
fn zero_fill_to<T: Element>(buffer: &mut Vec<T>, len: usize) {
    let old = buffer.len();
    if !crate::parallel::split(len - old >= crate::unary::PARALLEL_MIN_ELEMENTS) {
        buffer.resize(len, T::ZERO);
        return;
    }
    buffer.reserve(len - old);
    buffer.spare_capacity_mut()[..len - old]
        .par_chunks_mut(1 << 14)
        .for_each(|piece| piece.iter_mut().for_each(|slot| _ = slot.write(T::ZERO)));
    // SAFETY: the loop above wrote the `len - old` elements after the first `old`.
    unsafe { buffer.set_len(len) };
}

/// The first `len` items of `iter` (exactly `len` expected) in a reused buffer when one fits.
pub fn collect<T: Element>(len: usize, iter: impl Iterator<Item = T>) -> Vec<T> {
    let mut out = with_capacity(len);
    extend(&mut out, len, iter);
    out
}

/// Appends the first `len` items of `iter` (exactly `len` expected) to `out`.
///
/// Written straight into the buffer's spare capacity: `Vec::extend` keeps the length up to
/// date item by item, which stopped element-wise loops such as `x · c` from vectorising
/// (4× slower on a 40 × 40 tensor).
pub fn extend<T: Element>(out: &mut Vec<T>, len: usize, iter: impl Iterator<Item = T>) {
    out.reserve(len);
    let start = out.len();
    let mut written = 0;
    for (slot, value) in out.spare_capacity_mut()[..len].iter_mut().zip(iter) {
        slot.write(value);
        written += 1;
    }
    // SAFETY: the loop above initialised the `written` elements after the first `start`.
    unsafe { out.set_len(start + written) };
}

/// Writes the first `dst.len()` items of `iter` into `dst`, one run of an element-wise kernel
/// (see [`crate::walk::collect_runs`]).
///
/// # Panics
/// If `iter` ends early: the slots must all be written before the buffer is read.
#[inline(always)]
pub(crate) fn write_run<T: Element>(dst: &mut [MaybeUninit<T>], iter: impl Iterator<Item = T>) {
    let mut written = 0;
    for (slot, value) in dst.iter_mut().zip(iter) {
        slot.write(value);
        written += 1;
    }
    assert_eq!(
        written,
        dst.len(),
        "an element-wise run left slots unwritten"
    );
}

/// Hands a working buffer that never became a tensor back to this thread's recycler (a tensor's
/// buffer goes back by itself when its storage is dropped).
pub fn give_back<T: Element>(buffer: Vec<T>) {
    recycle(buffer);
}

/// Gives a buffer back for reuse on this thread (dropped instead if it is small or the recycler
/// is full). Its contents stay, for [`scratch`].
fn recycle<T: Element>(buffer: Vec<T>) {
    let bytes = buffer.capacity() * std::mem::size_of::<T>();
    if buffer.capacity() < MIN_ELEMENTS {
        return;
    }
    let _ = RECYCLER.try_with(|recycler| {
        let mut recycler = recycler.borrow_mut();
        if recycler.bytes + bytes > MAX_BYTES {
            return;
        }
        let class = class_down(buffer.capacity());
        let classes = &mut shelf::<T>(&mut recycler).classes;
        if classes.len() <= class {
            classes.resize_with(class + 1, Vec::new);
        }
        if classes[class].len() >= MAX_PER_CLASS {
            return;
        }
        classes[class].push(buffer);
        recycler.bytes += bytes;
    });
}

impl Drop for Storage {
    fn drop(&mut self) {
        match self {
            Storage::F32(v) => recycle(std::mem::take(v)),
            Storage::F64(v) => recycle(std::mem::take(v)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_classes_round_up_by_at_most_a_quarter() {
        let m = MIN_ELEMENTS;
        assert_eq!(class_up(m), (0, m));
        assert_eq!(class_up(m + 1), (1, m + m / 4));
        assert_eq!(class_up(m + m / 4), (1, m + m / 4));
        assert_eq!(class_up(m + 3 * m / 4), (3, m + 3 * m / 4));
        assert_eq!(class_up(m + 3 * m / 4 + 1), (4, 2 * m));
        assert_eq!(class_down(2 * m - 1), 3);
        for len in MIN_ELEMENTS..20 * MIN_ELEMENTS {
            let (class, capacity) = class_up(len);
            assert!(
                capacity >= len && capacity <= len + len / 4,
                "{len} → {capacity}"
            );
            assert_eq!(class_down(capacity), class);
            // A buffer of any capacity serves requests of its floor class.
            assert!(capacity_of(class_down(len)) <= len);
        }
    }

    #[test]
    fn a_freed_buffer_is_reused_for_the_same_size() {
        let first = zeros::<f32>(10_000);
        let address = first.as_ptr();
        drop(Storage::F32(first));
        let second = with_capacity::<f32>(10_000);
        assert_eq!(second.as_ptr(), address);
        assert!(second.is_empty());
        // A much smaller request does not take the big buffer.
        assert!(second.capacity() <= 10_000 + 10_000 / 4);
        drop(Storage::F32(second));
        let smaller = with_capacity::<f32>(4_000);
        assert_ne!(smaller.as_ptr(), address);
    }

    #[test]
    fn scratch_keeps_old_values_and_fills_any_new_tail_with_zeros() {
        let mut first = zeros::<f64>(10_000);
        first.fill(f64::NAN);
        let address = first.as_ptr();
        drop(Storage::F64(first));
        // Shorter than the old contents: old values, no zeroing.
        let shorter = scratch::<f64>(9_000);
        assert_eq!((shorter.as_ptr(), shorter.len()), (address, 9_000));
        assert!(shorter.iter().all(|v| v.is_nan()));
        drop(Storage::F64(shorter));
        // Longer than what was last stored: the tail past the old length is zero.
        let longer = scratch::<f64>(10_000);
        assert_eq!(longer.as_ptr(), address);
        assert!(longer[..9_000].iter().all(|v| v.is_nan()));
        assert!(longer[9_000..].iter().all(|&v| v == 0.0));
    }

    #[test]
    fn a_class_keeps_at_most_max_per_class_buffers() {
        let len = 3 * MIN_ELEMENTS; // a class of its own in this test
        let buffers: Vec<Vec<f32>> = (0..MAX_PER_CLASS + 10).map(|_| zeros(len)).collect();
        for buffer in buffers {
            drop(Storage::F32(buffer));
        }
        let (class, _) = class_up(len);
        RECYCLER
            .with(|recycler| assert_eq!(recycler.borrow().f32.classes[class].len(), MAX_PER_CLASS));
    }

    #[test]
    fn small_buffers_are_left_to_the_allocator() {
        drop(Storage::F64(zeros::<f64>(100)));
        RECYCLER.with(|recycler| {
            assert!(recycler
                .borrow()
                .f64
                .classes
                .iter()
                .flatten()
                .all(|v| v.capacity() >= MIN_ELEMENTS))
        });
    }
}
