//! Protocol tests: a real Verdict on loopback, driven with the Octane
//! clients' request sequences (protocol §8) and every acceptance case of
//! protocol §9, on SQLite and on PostgreSQL.

mod harness;

mod auth;
mod links;
mod processing;
mod push;
mod queue;
mod reads;
