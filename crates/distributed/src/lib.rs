//! `distributed`: meta-training and evaluation shared among processes and hosts, over MPI.
//!
//! The trainer in `meta` already cuts a meta-batch into fixed-size chunks and adds their
//! gradients along a fixed tree over the chunk indices; its [`Cluster`] seam lets each process
//! compute a contiguous range of the chunks, add the subtrees within it and receive the
//! others' partial sums (`meta::training::cluster` explains why that is bit for bit the
//! single-process step). This crate puts that seam over MPI and adds what a
//! launched job needs around it. Read it in this order:
//!
//! 1. [`launcher`] — was this process started by `mpirun`, and as which rank of how many;
//! 2. `mpi_cluster` (with the `mpi` feature) — [`Cluster`] over MPI's `MPI_Allgatherv`, and
//!    stopping every rank when one fails;
//! 3. [`agree`] — every rank checks at start that all run the same configuration on the same
//!    data, and names what differs.
//!
//! Without the `mpi` feature (the default) [`join`] gives a cluster of one, and refuses to run
//! under `mpirun` with more than one rank — each rank would otherwise train alone and
//! overwrite the others' checkpoints. The four core crates never depend on this one.

pub mod agree;
pub mod launcher;
#[cfg(feature = "mpi")]
mod mpi_cluster;

pub use agree::{agree, describe_folder};
pub use meta::{Cluster, SingleProcess};

/// This process's place in the job, for the whole of `main`: holds MPI open while it lives
/// (dropping it finalises MPI), and hands out the [`Cluster`] the trainer shares work with.
pub struct Session {
    #[cfg(feature = "mpi")]
    mpi: Option<mpi_cluster::MpiCluster>,
}

/// Joins the job this process was launched in: an MPI job under `mpirun` (with the `mpi`
/// feature), otherwise a cluster of one. Under MPI, ranks other than 0 have their standard
/// output sent to `/dev/null` from here on (their standard error stays, for errors).
///
/// # Errors
/// Built without the `mpi` feature but launched as one of several ranks; MPI that cannot be
/// initialised with the thread support the trainer needs.
pub fn join() -> Result<Session, String> {
    let launch = launcher::launched_by_mpi();
    #[cfg(feature = "mpi")]
    {
        let mpi = match launch {
            Some(_) => Some(mpi_cluster::MpiCluster::initialise()?),
            None => None,
        };
        Ok(Session { mpi })
    }
    #[cfg(not(feature = "mpi"))]
    {
        match launch {
            Some(launch) if launch.size > 1 => Err(format!(
                "this program was built without MPI support, but {} started it as rank {} of {} \
                 ({}={}): every rank would train alone and write over the others' files. \
                 Rebuild with `--features mpi` (see the README, \"Training across processes\")",
                launch.launcher, launch.rank, launch.size, launch.variable, launch.size
            )),
            _ => Ok(Session {}),
        }
    }
}

impl Session {
    /// The processes of the job: MPI's world, or [`SingleProcess`].
    pub fn cluster(&self) -> &dyn Cluster {
        #[cfg(feature = "mpi")]
        if let Some(mpi) = &self.mpi {
            return mpi;
        }
        &SingleProcess
    }

    /// Reports `message` and ends the program with exit code 1. In a job of several ranks the
    /// message names this rank and every rank is stopped (`MPI_Abort`): the others would
    /// otherwise wait forever for this one at their next exchange.
    pub fn fail(&self, message: &str) -> ! {
        #[cfg(feature = "mpi")]
        if let Some(mpi) = &self.mpi {
            mpi.abort(message);
        }
        eprintln!("error: {message}");
        std::process::exit(1)
    }
}

/// "communication: … per meta-iteration" for a job of several ranks: the time spent in the
/// exchange over `iterations` meta-steps (the transfer, and waiting for the slowest rank), and
/// the bytes each rank sent per step. `None` for a single process.
pub fn communication(
    cluster: &dyn Cluster,
    exchange: std::time::Duration,
    bytes: u64,
    iterations: u64,
) -> Option<String> {
    let iterations = iterations.max(1) as f64;
    (cluster.size() > 1).then(|| {
        format!(
            "communication: {:.2} ms per meta-iteration, {:.1} kB sent per rank per \
             meta-iteration ({} ranks)",
            1e3 * exchange.as_secs_f64() / iterations,
            bytes as f64 / iterations / 1e3,
            cluster.size()
        )
    })
}
