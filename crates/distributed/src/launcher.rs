//! Whether an MPI launcher started this process, read from the environment it sets.
//!
//! `mpirun` gives each process its rank and the job's size in environment variables before
//! `MPI_Init` runs: Open MPI sets `OMPI_COMM_WORLD_RANK` / `OMPI_COMM_WORLD_SIZE`, the PMI
//! launchers (MPICH's Hydra, Intel MPI, Slurm's `srun --mpi=pmi2`) `PMI_RANK` / `PMI_SIZE`.
//! Reading them needs no MPI library, so a program built without MPI can still tell that it
//! was launched as one rank of many, and say so instead of training alone.

/// What the launcher told this process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Launch {
    pub rank: usize,
    pub size: usize,
    /// Which launcher family, for messages ("Open MPI's mpirun").
    pub launcher: &'static str,
    /// The variable the size was read from.
    pub variable: &'static str,
}

/// The launchers we recognise: (name, rank variable, size variable).
const LAUNCHERS: [(&str, &str, &str); 2] = [
    (
        "Open MPI's mpirun",
        "OMPI_COMM_WORLD_RANK",
        "OMPI_COMM_WORLD_SIZE",
    ),
    ("a PMI launcher (mpiexec, srun)", "PMI_RANK", "PMI_SIZE"),
];

/// This process's rank and job size if an MPI launcher started it.
pub fn launched_by_mpi() -> Option<Launch> {
    launched_with(|name| std::env::var(name).ok())
}

/// [`launched_by_mpi`] reading variables through `read` (for tests).
pub fn launched_with(read: impl Fn(&str) -> Option<String>) -> Option<Launch> {
    LAUNCHERS.iter().find_map(|&(launcher, rank, size)| {
        let number = |name: &str| read(name)?.trim().parse::<usize>().ok();
        Some(Launch {
            rank: number(rank).unwrap_or(0),
            size: number(size)?,
            launcher,
            variable: size,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(pairs: &[(&str, &str)]) -> Option<Launch> {
        launched_with(|name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn open_mpi_and_pmi_launches_are_recognised() {
        let open_mpi = with(&[("OMPI_COMM_WORLD_SIZE", "4"), ("OMPI_COMM_WORLD_RANK", "3")]);
        assert_eq!(open_mpi.map(|l| (l.rank, l.size)), Some((3, 4)));
        let pmi = with(&[("PMI_SIZE", "2"), ("PMI_RANK", "1")]).unwrap();
        assert_eq!((pmi.rank, pmi.size, pmi.variable), (1, 2, "PMI_SIZE"));
    }

    #[test]
    fn no_launcher_or_unreadable_size_is_no_launch() {
        assert_eq!(with(&[]), None);
        assert_eq!(with(&[("OMPI_COMM_WORLD_SIZE", "many")]), None);
    }
}
