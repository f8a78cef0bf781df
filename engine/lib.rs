//! miroir serves *sites miroir*: sandboxed, step-by-step replicas of French
//! online administrative procedures, filled with fictitious personas, so
//! that aidants numériques can rehearse a procedure without touching real
//! personal data.
//!
//! Data flows one way: YAML text ([`yaml`]) -> scenario model
//! ([`scenario`]) -> rehearsal engine ([`rehearsal`], pure Rust) -> web
//! layer ([`web`]), which renders [`theme`] templates. Each module uses only
//! those before it in this order, lowest first (`tests/layering.rs` holds
//! the code to it):
//!
//! [`diagnostic`], [`memory`], [`french`], [`files`], [`yaml`],
//! [`date_rule`], [`persona`], [`field`], [`expr`], [`theme`],
//! [`scenario`], [`rehearsal`], [`session`], [`workshop`], [`walkthrough`],
//! [`library`], [`handout`], [`web`], [`cli`].

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
