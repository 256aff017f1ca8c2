//! Stopping a run at its first non-finite meta-loss, with a message that says what happened,
//! what was kept, and (in anomaly mode, `--detect-anomaly`) which op the NaN started in.

use std::path::Path;

/// Turns anomaly mode on if the user asked for it (`--detect-anomaly`).
pub fn detect_anomaly(enabled: bool) {
    if enabled {
        autograd::anomaly::set_detect_anomaly(true);
        println!("anomaly mode: every op checks its value and gradient (slow)");
    }
}

/// `Ok` while `meta_loss` is finite; otherwise the error that stops the run. `last_saved` is
/// the checkpoint on disk and its iteration, if one was written or resumed from.
pub fn check_meta_loss(
    iteration: u64,
    meta_loss: f64,
    last_saved: Option<(u64, &Path)>,
) -> Result<(), String> {
    if meta_loss.is_finite() {
        return Ok(());
    }
    let kept = match last_saved {
        Some((at, path)) => format!(
            "the last good checkpoint, {} (iteration {at}), is kept",
            path.display()
        ),
        None => "no checkpoint was written".to_string(),
    };
    let cause = match autograd::anomaly::take_anomaly() {
        Some(anomaly) => format!("anomaly: {anomaly}"),
        None if autograd::anomaly::is_anomaly_enabled() => {
            "anomaly mode found no op that made it (a non-finite input?)".to_string()
        }
        None => "rerun with --detect-anomaly to find the op where it starts".to_string(),
    };
    Err(format!(
        "iteration {iteration}: the meta-loss is {meta_loss}; training stopped and nothing was \
         saved for this iteration; {kept}. {cause}"
    ))
}
