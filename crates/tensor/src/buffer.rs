//! Buffer recycling: the output buffers of kernels come from a per-thread pool of buffers
//! freed by earlier tensors.
//!
//! A training loop allocates the same shapes every iteration. Without reuse, each large
//! output is fresh memory from the allocator; glibc returns freed large blocks to the
//! operating system (`munmap`, or trimming the heap), and every page of the next allocation
//! is then faulted in and zeroed by the kernel again. In the vectorised Meta-SGD step that was
//! over a fifth of the run time. Keeping freed buffers for the next tensor of the same size
//! removes that cost.
//!
//! Rules: only buffers of at least [`MIN_ELEMENTS`] are kept (the allocator already serves
//! small blocks from per-thread caches); a thread keeps at most [`MAX_BYTES`]; a request takes
//! a buffer whose capacity fits it within 25%, else allocates. Buffers are kept by the thread
//! that frees them, so there is no locking.

use std::cell::RefCell;

use crate::element::Element;
use crate::storage::Storage;

/// Buffers smaller than this (in elements) are left to the allocator.
pub const MIN_ELEMENTS: usize = 2048;
/// At most this many bytes of free buffers are kept per thread.
pub const MAX_BYTES: usize = 64 << 20;

#[derive(Default)]
struct Pool {
    f32: Vec<Vec<f32>>,
    f64: Vec<Vec<f64>>,
    bytes: usize,
}

thread_local! {
    static POOL: RefCell<Pool> = RefCell::new(Pool::default());
}

/// The free list of `T` in `pool`, as `Storage` variants of the two element types.
fn free_list<T: Element>(pool: &mut Pool) -> &mut Vec<Vec<T>> {
    // Each element type has its own list; `Storage` knows which is which.
    T::free_list(&mut pool.f32, &mut pool.f64)
}

/// An empty vector with room for `len` elements, reusing a freed buffer when one fits.
pub fn with_capacity<T: Element>(len: usize) -> Vec<T> {
    if len < MIN_ELEMENTS {
        return Vec::with_capacity(len);
    }
    let reused = POOL
        .try_with(|pool| {
            let mut pool = pool.borrow_mut();
            let list = free_list::<T>(&mut pool);
            let best = list
                .iter()
                .enumerate()
                .filter(|(_, v)| v.capacity() >= len && v.capacity() <= len + len / 4)
                .min_by_key(|(_, v)| v.capacity())
                .map(|(k, _)| k)?;
            let buffer = list.swap_remove(best);
            pool.bytes -= buffer.capacity() * std::mem::size_of::<T>();
            Some(buffer)
        })
        .ok()
        .flatten();
    reused.unwrap_or_else(|| Vec::with_capacity(len))
}

/// `len` zeros, in a reused buffer when one fits.
pub fn zeros<T: Element>(len: usize) -> Vec<T> {
    let mut out = with_capacity(len);
    out.resize(len, T::ZERO);
    out
}

/// The items of `iter` (exactly `len` of them expected) in a reused buffer when one fits.
pub fn collect<T: Element>(len: usize, iter: impl Iterator<Item = T>) -> Vec<T> {
    let mut out = with_capacity(len);
    out.extend(iter);
    out
}

/// Gives a buffer back for reuse on this thread (dropped instead if it is small or the pool
/// is full).
fn recycle<T: Element>(mut buffer: Vec<T>) {
    let bytes = buffer.capacity() * std::mem::size_of::<T>();
    if buffer.capacity() < MIN_ELEMENTS || bytes > MAX_BYTES {
        return;
    }
    buffer.clear();
    let _ = POOL.try_with(|pool| {
        let mut pool = pool.borrow_mut();
        // Make room by dropping the oldest buffers.
        while pool.bytes + bytes > MAX_BYTES {
            let Some(oldest) = oldest(&mut pool) else {
                break;
            };
            pool.bytes -= oldest;
        }
        pool.bytes += bytes;
        free_list::<T>(&mut pool).push(buffer);
    });
}

/// Drops the first buffer of the fuller list; returns its size in bytes.
fn oldest(pool: &mut Pool) -> Option<usize> {
    if pool.f32.len() >= pool.f64.len() && !pool.f32.is_empty() {
        Some(pool.f32.remove(0).capacity() * 4)
    } else if !pool.f64.is_empty() {
        Some(pool.f64.remove(0).capacity() * 8)
    } else {
        None
    }
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
    fn a_freed_buffer_is_reused_for_the_same_size() {
        let first = zeros::<f32>(10_000);
        let address = first.as_ptr();
        drop(Storage::F32(first));
        let second = with_capacity::<f32>(10_000);
        assert_eq!(second.as_ptr(), address);
        assert!(second.is_empty());
        // A much smaller request does not take the big buffer.
        drop(Storage::F32(second));
        let smaller = with_capacity::<f32>(4_000);
        assert_ne!(smaller.as_ptr(), address);
    }

    #[test]
    fn small_buffers_are_left_to_the_allocator() {
        drop(Storage::F64(zeros::<f64>(100)));
        POOL.with(|pool| {
            assert!(pool
                .borrow()
                .f64
                .iter()
                .all(|v| v.capacity() >= MIN_ELEMENTS))
        });
    }
}
