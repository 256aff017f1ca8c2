//! The Omniglot example's network, rebuilt from a checkpoint: its width (`hidden`) and head
//! (`ways`) come from the metadata, which a damaged or hostile file can set to anything. So they
//! are read strictly, bounded, and checked against the shapes of the tensors the file really
//! holds before the network (and the learner's tensors) are built: a file claiming
//! `hidden = 10000000` is an error naming the key, not a petabyte allocation.

use std::path::Path;

use meta::{Learner, MetaParams, Settings};
use nn::layers::Sequential;
use nn::{conv_net, Checkpoint, Downsample, Module};

/// The largest `hidden` (filters per convolution) a checkpoint may record.
pub const MAX_HIDDEN: u64 = 1024;
/// The largest `ways` (classes of the head) a checkpoint may record.
pub const MAX_WAYS: u64 = 4096;
/// Side of the images the network reads.
pub const IMAGE_SIZE: usize = 28;

/// MAML's Omniglot network for `ways` classes with `hidden` filters.
pub fn network(hidden: usize, ways: usize) -> Sequential {
    conv_net(1, hidden, ways, IMAGE_SIZE, Downsample::Stride2)
}

/// The network a checkpoint was trained with, and its number of ways, after checking the
/// metadata against the tensors `meta.theta.*`.
pub fn network_of(checkpoint: &Checkpoint, path: &Path) -> Result<(Sequential, usize), String> {
    let read = |key: &str, max: u64| {
        checkpoint
            .metadata_integer(key, 1..=max)
            .map_err(|e| format!("{e} (not an Omniglot checkpoint of this example?)"))
    };
    let (hidden, ways) = (
        read("hidden", MAX_HIDDEN)? as usize,
        read("ways", MAX_WAYS)? as usize,
    );
    let net = network(hidden, ways);
    // The specs are names and shapes only: nothing is allocated yet.
    for spec in net.param_specs() {
        let key = format!("meta.theta.{}", spec.name);
        let Some(found) = checkpoint.tensor(&key) else {
            return Err(format!("{}: tensor `{key}` is missing", path.display()));
        };
        if found.shape() != spec.shape.as_slice() {
            let implied = format!("hidden = {hidden}, ways = {ways}");
            return Err(format!(
                "{}: tensor `{key}` has shape {:?}, but the metadata ({implied}) implies {:?}",
                path.display(),
                found.shape(),
                spec.shape
            ));
        }
    }
    Ok((net, ways))
}

/// The learner, what it learned, its network and its ways, from a checkpoint already read.
pub fn restore(
    checkpoint: &Checkpoint,
    path: &Path,
    defaults: &Settings,
) -> Result<(Box<dyn Learner>, MetaParams, Sequential, usize), String> {
    let (net, ways) = network_of(checkpoint, path)?;
    let (learner, meta) =
        meta::restore_from(checkpoint, path, &net, defaults).map_err(|e| e.to_string())?;
    Ok((learner, meta, net, ways))
}
