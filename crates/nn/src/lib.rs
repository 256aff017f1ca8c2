//! `nn` (to be written).
