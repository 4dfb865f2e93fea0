//! azrecon: a reconciler for the Azure control plane of a private AI edge.
//!
//! The crate is a functional core (manifest -> desired ARM bodies -> normalise -> diff -> plan)
//! wrapped in an imperative shell (the ARM client, the executor and the ARM emulator).
//! `ARCHITECTURE.md` maps the modules and the invariants each one keeps.

pub mod arm;
pub mod certificates;
pub mod checks;
pub mod diff;
pub mod emulator;
pub mod engine;
mod graph;
pub mod kinds;
pub mod manifest;
pub mod plan;
pub mod render;
