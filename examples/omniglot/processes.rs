//! What `omniglot` does when it runs as several processes (`mpirun`, `--features mpi`): every
//! rank checks that all were given the same command and see the same images.

use meta::Cluster;

use crate::{setup, Command};

/// Checks that every rank runs `command` on the same data (`distributed::agree`). Collective;
/// returns at once for a single process.
pub fn agree(cluster: &dyn Cluster, command: &Command) -> Result<(), String> {
    if cluster.size() == 1 {
        return Ok(());
    }
    let folders = match command {
        Command::Train(args) => setup::roots(&args.data)?,
        Command::Eval(args) => setup::roots(&args.data)?,
        Command::Lake(args) => vec![args.runs.clone()],
    };
    distributed::agree(cluster, &format!("{command:#?}"), &folders)
}
