//! The fleet: every copy of every secret the manifest's routes name, and
//! whether each is current. `routes` (the `[sync.NAME]` tables), `status`
//! (the model of a copy: cells, no I/O), `survey` (reading a route's source
//! and targets once and comparing them) and `plan` (what `sync` writes). The
//! commands `status`, `sync` and `rotation` call it and render its results.

pub mod budget;
pub mod ledger;
pub mod plan;
pub mod routes;
mod shadow;
pub mod status;
pub mod survey;

pub use survey::{Dates, Survey, Unread, cells, compare, select, survey};
