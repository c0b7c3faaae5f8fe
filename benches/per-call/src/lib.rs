//! Nothing here: the comparison is `benches/per_call.rs`.
