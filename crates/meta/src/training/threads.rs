//! Running a training loop on the worker threads themselves.
//!
//! A meta-step cuts its meta-batch into chunks that run on rayon's threads
//! ([`crate::training::trainer`]). Called from a thread outside the pool (a program's main
//! thread), each step hands every chunk to the pool and sleeps until they are all done: two
//! hand-overs between threads per step, each a wake-up through the kernel. With the step itself
//! running on one of the pool's threads ([`run_on_pool`]), that thread takes the first chunk at
//! once and the other threads take the rest. For short steps (the vectorised sinusoid step is
//! two chunks of a few hundred microseconds) the hand-overs are a visible share of the time.
//!
//! Between two steps the thread that runs the loop works alone for a while (summing the
//! chunks' gradients, the optimiser step, drawing the next tasks), and rayon puts an idle
//! thread to sleep after a few dozen polls; waking it for the next step's chunk costs a futex
//! wake (and, on a virtual machine, resuming a halted virtual CPU), and the woken thread starts
//! on cold caches. So after each step's parallel part the trainer calls [`keep_awake`]: the
//! pool's other threads keep polling for work for up to [`SPIN_FOR`] instead of sleeping, and
//! take the next chunk within a microsecond. Runtimes for parallel loops do the same: GNU
//! OpenMP spins 300,000 rounds before it sleeps (`GOMP_SPINCOUNT`), Intel's for 200 ms
//! (`KMP_BLOCKTIME`). The price is that much CPU time on the other cores, at most
//! [`SPIN_FOR`] per step. (What both measures gained is in `docs/results.md`.)

use std::time::{Duration, Instant};

/// Stack size of the pool's threads: a program's main thread gets 8 MiB, and a training loop
/// moved onto the pool should not find less.
const STACK_BYTES: usize = 8 << 20;

/// Runs `work` on a thread of a new rayon pool of `threads` threads (default: one per core),
/// so that the parallel work inside it, meta-steps included, uses that pool and starts on
/// the calling thread.
///
/// # Errors
/// If the operating system refuses to start the threads.
pub fn run_on_pool<R: Send>(
    threads: Option<usize>,
    work: impl FnOnce() -> R + Send,
) -> Result<R, String> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .stack_size(STACK_BYTES)
        .build()
        .map_err(|e| format!("cannot start the worker threads: {e}"))?;
    Ok(pool.install(work))
}

/// How long the pool's other threads poll for work after [`keep_awake`] before they go back
/// to rayon's own idling (a few dozen polls, then sleep). A sinusoid step's serial part is
/// ≈ 30 µs; an Omniglot step's is a few milliseconds, and after this long they sleep.
pub const SPIN_FOR: Duration = Duration::from_millis(1);

/// Keeps the other threads of the current pool busy-polling for work for up to
/// [`SPIN_FOR`], so that the next parallel job reaches them at once. Does nothing unless
/// called from a thread of a pool with more than one thread (the training loop run by
/// [`run_on_pool`]): a caller outside the pool waits for the pool anyway, and spinning
/// threads would only compete with it for the cores.
///
/// Each thread polls with [`rayon::yield_now`], which runs a job if there is one, and stops
/// polling after the first job it runs, or after [`SPIN_FOR`]. Nothing computed depends on
/// which thread runs what, so results are unchanged.
pub fn keep_awake() {
    let Some(caller) = rayon::current_thread_index() else {
        return;
    };
    if rayon::current_num_threads() < 2 {
        return;
    }
    // One poller per thread of the pool; the caller's own copy returns at once (the caller
    // has its own work, and would only reach this job while waiting for another).
    rayon::spawn_broadcast(move |context| {
        if context.index() != caller {
            poll_for_work(SPIN_FOR);
        }
    });
}

/// Runs the first job the pool offers within `limit`, polling without sleeping; returns
/// whether one was run.
fn poll_for_work(limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if rayon::yield_now() == Some(rayon::Yield::Executed) {
            return true;
        }
        std::hint::spin_loop();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_runs_on_the_pool_with_the_threads_asked_for() {
        let (inside, threads) = run_on_pool(Some(3), || {
            (rayon::current_thread_index(), rayon::current_num_threads())
        })
        .unwrap();
        assert!(inside.is_some(), "the work ran outside the pool");
        assert_eq!(threads, 3);
    }

    #[test]
    fn polling_runs_a_pending_job() {
        // One thread: the job spawned here can only run when this thread polls for it.
        let (found, ran) = run_on_pool(Some(1), || {
            let ran = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            let flag = ran.clone();
            rayon::spawn(move || flag.store(true, std::sync::atomic::Ordering::SeqCst));
            let found = poll_for_work(Duration::from_secs(60));
            (found, ran.load(std::sync::atomic::Ordering::SeqCst))
        })
        .unwrap();
        assert!(
            found && ran,
            "the pending job was not run (found: {found}, ran: {ran})"
        );
    }

    #[test]
    fn polling_ends_after_its_limit_without_work() {
        // Outside a pool there is never any work: the poll must give up by itself.
        let start = Instant::now();
        assert!(!poll_for_work(Duration::from_millis(5)));
        assert!(start.elapsed() >= Duration::from_millis(5));
    }

    #[test]
    fn a_single_thread_pool_is_left_alone() {
        // With no other thread to keep awake, nothing may be queued: a poller queued for
        // this very thread would show up as work here.
        let queued = run_on_pool(Some(1), || {
            keep_awake();
            rayon::yield_now()
        })
        .unwrap();
        assert_eq!(queued, Some(rayon::Yield::Idle));
    }
}
