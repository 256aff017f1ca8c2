//! [`Cluster`] over MPI: `MPI_Allgatherv` and `MPI_Sendrecv` on `MPI_COMM_WORLD`.
//!
//! A meta-step's partial sums travel by recursive doubling over `MPI_Sendrecv` when the ranks
//! hold whole subtrees of the chunk tree, and by `MPI_Allgatherv` otherwise
//! (`meta::training::cluster::tree_sum_among`).
//!
//! Threads: MPI is initialised in `main`, but the training loop runs on a rayon thread
//! (`meta::run_on_pool`). So we ask for `MPI_THREAD_SERIALIZED` (any thread may call MPI, one
//! at a time) and make "one at a time" true with a mutex around every call.
//!
//! Failure: Open MPI's default error handler on `MPI_COMM_WORLD` is `MPI_ERRORS_ARE_FATAL`,
//! so a failed exchange ends the job, and `mpirun` stops every rank when one exits without
//! finalising or dies from a signal, naming it ("mpirun noticed that process rank 1 … exited
//! on signal 9"). Open MPI 4 cannot do more: there is no way to drop a dead rank and go on
//! (ULFM, the fault-tolerant MPI extension, is not in Debian's build). What we add: an error
//! or a panic on one rank prints its rank and calls `MPI_Abort`, so the others stop at once
//! instead of waiting at their next exchange; and only rank 0 writes checkpoints, atomically,
//! so the last one survives whatever happens and `--resume` continues from it.

use std::fs::OpenOptions;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use meta::Cluster;
use mpi::collective::CommunicatorCollectives;
use mpi::datatype::PartitionMut;
use mpi::environment::{Threading, Universe};
use mpi::point_to_point::{send_receive, send_receive_into};
use mpi::topology::{Communicator, Rank, SimpleCommunicator};
use mpi::Count;

/// This process's view of `MPI_COMM_WORLD`. Holds MPI open: dropping it finalises MPI.
pub struct MpiCluster {
    rank: usize,
    size: usize,
    /// Serialises the calls into MPI (see the module notes).
    calls: Mutex<()>,
    exchange_nanos: AtomicU64,
    bytes_sent: AtomicU64,
    /// Declared last, dropped last: `MPI_Finalize`.
    _universe: Universe,
}

impl MpiCluster {
    /// Initialises MPI, sends the standard output of ranks other than 0 to `/dev/null`, and
    /// makes a panic on any rank stop the whole job.
    pub fn initialise() -> Result<MpiCluster, String> {
        let (universe, threading) = mpi::initialize_with_threading(Threading::Serialized)
            .ok_or("MPI was already initialised")?;
        if threading < Threading::Serialized {
            return Err(format!(
                "the MPI library offers thread support {threading:?}; the trainer calls MPI \
                 from a worker thread and needs at least Serialized"
            ));
        }
        let world = universe.world();
        let (rank, size) = (world.rank() as usize, world.size() as usize);
        if rank != 0 {
            silence_stdout()?;
        }
        if size > 1 {
            abort_on_panic(rank, size);
        }
        Ok(MpiCluster {
            rank,
            size,
            calls: Mutex::new(()),
            exchange_nanos: AtomicU64::new(0),
            bytes_sent: AtomicU64::new(0),
            _universe: universe,
        })
    }

    /// Prints `message` with this rank's number and stops every rank of the job.
    pub fn abort(&self, message: &str) -> ! {
        if self.size > 1 {
            eprintln!(
                "error (rank {} of {}): {message}; stopping every rank",
                self.rank, self.size
            );
        } else {
            eprintln!("error: {message}");
        }
        SimpleCommunicator::world().abort(1)
    }
}

impl Cluster for MpiCluster {
    fn rank(&self) -> usize {
        self.rank
    }

    fn size(&self) -> usize {
        self.size
    }

    /// Two collective calls: every rank's length (`MPI_Allgather` of one count each), then
    /// the bytes themselves into one buffer at those offsets (`MPI_Allgatherv`).
    fn all_gather(&self, mine: &[u8]) -> Vec<Vec<u8>> {
        let _serial = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        let started = Instant::now();
        let world = SimpleCommunicator::world();
        // NOTE: an empty Rust slice points at address 1 (dangling, aligned for bytes), which is
        // also the value of Open MPI's `MPI_IN_PLACE`: an empty send or receive buffer would be
        // read as "in place". So every part travels with one leading byte, and no buffer is
        // ever empty.
        let mine = [&[0xA5][..], mine].concat();
        let length = Count::try_from(mine.len()).unwrap_or_else(|_| {
            panic!(
                "all_gather: {} bytes is more than MPI counts in one message",
                mine.len()
            )
        });
        let mut lengths = vec![0 as Count; self.size];
        world.all_gather_into(&length, &mut lengths[..]);
        let offsets: Vec<Count> = lengths
            .iter()
            .scan(0 as Count, |next, &n| {
                let at = *next;
                *next += n;
                Some(at)
            })
            .collect();
        let total: usize = lengths.iter().map(|&n| n as usize).sum();
        let mut all = vec![0u8; total];
        {
            let mut partition = PartitionMut::new(&mut all[..], &lengths[..], &offsets[..]);
            world.all_gather_varcount_into(&mine[..], &mut partition);
        }
        let elapsed = started.elapsed().as_nanos() as u64;
        self.exchange_nanos.fetch_add(elapsed, Ordering::Relaxed);
        self.bytes_sent
            .fetch_add(mine.len() as u64, Ordering::Relaxed);
        lengths
            .iter()
            .zip(&offsets)
            .map(|(&n, &at)| all[at as usize + 1..(at + n) as usize].to_vec())
            .collect()
    }

    /// `MPI_Sendrecv` with `partner`, twice: the lengths, then the bytes (each with the
    /// leading byte of [`Cluster::all_gather`] above, for the same reason).
    fn swap(&self, partner: usize, mine: &[u8]) -> Vec<u8> {
        let _serial = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        let started = Instant::now();
        let world = SimpleCommunicator::world();
        let other = world.process_at_rank(partner as Rank);
        let mine = [&[0xA5][..], mine].concat();
        let (length, _): (u64, _) = send_receive(&(mine.len() as u64), &other, &other);
        let mut theirs = vec![0u8; length as usize];
        send_receive_into(&mine[..], &other, &mut theirs[..], &other);
        self.exchange_nanos
            .fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
        self.bytes_sent
            .fetch_add(mine.len() as u64, Ordering::Relaxed);
        theirs.split_off(1)
    }

    fn exchange_time(&self) -> Duration {
        Duration::from_nanos(self.exchange_nanos.load(Ordering::Relaxed))
    }

    fn bytes_sent(&self) -> u64 {
        self.bytes_sent.load(Ordering::Relaxed)
    }
}

/// Points file descriptor 1 at `/dev/null`: ranks other than 0 print nothing, without every
/// `println!` of the programs asking which rank it is on. (Closing the descriptor instead
/// would let the next opened file take number 1 and receive the output.)
fn silence_stdout() -> Result<(), String> {
    let null = OpenOptions::new()
        .write(true)
        .open("/dev/null")
        .map_err(|e| format!("cannot open /dev/null to silence this rank's output: {e}"))?;
    // SAFETY: dup2 on two valid descriptors; it does not touch Rust-owned memory. `null`
    // closes its own descriptor when dropped; descriptor 1 keeps the duplicate.
    if unsafe { libc::dup2(null.as_raw_fd(), 1) } < 0 {
        return Err(format!(
            "cannot silence this rank's output: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

/// After the usual panic message, say which rank panicked and stop the job: unwinding would
/// finalise MPI on this rank while the others wait for it at their next exchange.
fn abort_on_panic(rank: usize, size: usize) {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        report(info);
        eprintln!("rank {rank} of {size} panicked; stopping every rank");
        SimpleCommunicator::world().abort(101);
    }));
}
