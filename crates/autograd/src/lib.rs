//! `autograd` (to be written).
