//! Readers, one module per input format: each reads its format and counts what it skips.

pub(crate) mod evtx;
