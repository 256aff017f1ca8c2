//! `meta` (to be written).
