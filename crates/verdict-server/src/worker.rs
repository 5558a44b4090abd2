//! Task workers: claim queued test-results tasks with a lease, stream the
//! stored payload through the parser and apply it in one transaction.

mod checkpoint;
mod ci_target;
mod demand;
mod feed;
mod insight;
mod prepare;
pub mod process;
mod progress;
mod resolve;
mod runner;
mod write;

pub use ci_target::{
    Destination as CiDestination, destination as ci_destination, workspaces as ci_workspaces,
};
pub use demand::WriteDemand;
pub use progress::TaskProgress;
pub use runner::{NodeShared, spawn_workers};
