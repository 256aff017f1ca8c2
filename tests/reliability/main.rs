//! The reliability suite: the example programs run as a user runs them — spawned processes in
//! fresh temporary folders — against the ways a run can lose or spoil work: training again into
//! a folder that holds a checkpoint, bad numbers on the command line, a resume with other
//! settings, a run that goes NaN, damaged checkpoints, a kill during a save. Each case asserts
//! the exit code, the message, and that the checkpoint already there is intact byte for byte.
//! Runs are tiny (a few iterations, small networks), so the whole suite takes little time.

mod harness;
mod learned_optimizer;
mod omniglot;
mod sinusoid;
