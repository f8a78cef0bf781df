//! miroir serves *sites miroir*: sandboxed, step-by-step replicas of French
//! online administrative procedures, filled with fictitious personas, so
//! that aidants numériques can rehearse a procedure without touching real
//! personal data.
//!
//! Data flows one way, and each module only uses the ones listed before it:
//! YAML text ([`yaml`]) -> scenario model ([`scenario`]) -> rehearsal
//! engine ([`rehearsal`], pure Rust) -> web layer -> theme templates.

pub mod cli;
pub mod date_rule;
pub mod diagnostic;
pub mod expr;
pub mod field;
pub mod files;
pub mod french;
pub mod handout;
pub mod library;
pub mod memory;
pub mod persona;
pub mod rehearsal;
pub mod scenario;
pub mod session;
pub mod theme;
pub mod walkthrough;
pub mod web;
pub mod workshop;
pub mod yaml;
