//! miroir serves *sites miroir*: sandboxed, step-by-step replicas of French
//! online administrative procedures, filled with fictitious personas, so
//! that aidants numériques can rehearse a procedure without touching real
//! personal data.
//!
//! The public API is the `pub use` list below: the bundled [`Library`],
//! the session stores, and the web layer's [`router`], [`AppState`],
//! [`Config`] and `serve*` functions, enough to mount miroir inside another
//! axum application (`examples/embed.rs`) and to run the `miroir` binary
//! ([`run`]). The modules themselves are private.
//!
//! Data flows one way: YAML text (`yaml`) -> scenario model
//! (`scenario`) -> rehearsal engine (`rehearsal`, pure Rust) -> web
//! layer (`web`), which renders `theme` templates. Each module uses only
//! those before it in this order, lowest first (`tests/layering.rs` holds
//! the code to it):
//!
//! `diagnostic`, `memory`, `french`, `files`, `yaml`,
//! `date_rule`, `persona`, `field`, `expr`, `theme`,
//! `scenario`, `rehearsal`, `session`, `workshop`, `walkthrough`,
//! `library`, `handout`, `web`, `cli`.

#![warn(missing_docs, unreachable_pub)]

mod cli;
mod date_rule;
mod diagnostic;
mod expr;
mod field;
mod files;
mod french;
mod handout;
mod library;
mod memory;
mod persona;
mod rehearsal;
mod scenario;
mod session;
mod theme;
mod walkthrough;
mod web;
mod workshop;
mod yaml;

pub use cli::main as run;
pub use files::{FileSet, SourceFile};
pub use library::Library;
pub use memory::without_huge_pages;
pub use session::{MemoryStore, RedisStore, SessionStore};
pub use web::server::{Limits, serve as serve_app};
pub use web::{AppState, Config, ServeError, Shared, router, serve, serve_on, shutdown_signal};

/// Not part of the API: engine internals re-exported for the crate's own
/// tests, benches and fuzz targets, which may change without notice.
#[doc(hidden)]
pub mod testing {
    /// Expressions.
    pub mod expr {
        pub use crate::expr::{Expr, plain};
        /// The names expressions read.
        pub mod names {
            pub use crate::expr::names::Root;
        }
    }
    /// Field types.
    pub mod field {
        pub use crate::field::{FieldType, Problem, REAL_DATA_MESSAGE};
    }
    /// Source files.
    pub mod files {
        pub use crate::files::{FileSet, SourceFile};
    }
    /// Loading scenarios and themes.
    pub mod library {
        pub use crate::library::{
            GROUP_SUFFIX, INTERNAL_ERROR, Library, embedded_scenarios, embedded_themes, scenarios_over, themes_over, with_bundled_groups,
        };
    }
    /// Personas.
    pub mod persona {
        pub use crate::persona::{Persona, format_date, generate, parse_date};
        /// Identifiers.
        pub mod ids {
            pub use crate::persona::ids::{format_numero_fiscal, numero_fiscal_key, numero_fiscal_valid};
        }
        /// What a scenario asks of its persona.
        pub mod spec {
            pub use crate::persona::spec::IntRange;
        }
    }
    /// The rehearsal engine.
    pub mod rehearsal {
        pub use crate::rehearsal::{LIST_ACTION, LinkOutcome, Outcome, Rehearsal, Stage};
        /// Messages sent to the persona.
        pub mod inbox {
            pub use crate::rehearsal::inbox::{code, message};
        }
        /// What a page shows.
        pub mod view {
            pub use crate::rehearsal::view::card;
        }
    }
    /// The scenario model.
    pub mod scenario {
        pub use crate::scenario::{PERSONA_CACHE_BYTES, Scenario, StepKind, persona_cache_bytes};
    }
    /// Session stores.
    pub mod session {
        pub use crate::session::{IDLE, MAX_REHEARSALS, MemoryStore, RedisStore, Session, SessionStore};
        /// The Redis store's encoding.
        pub mod redis {
            pub use crate::session::redis::{decode, encode};
        }
    }
    /// Walkthroughs.
    pub mod walkthrough {
        pub use crate::walkthrough::{Move, Next, Script, clock, reach, replay_to, run, start};
    }
    /// The web layer.
    pub mod web {
        pub use crate::web::{AppState, Config, Shared, router, serve_on, shutdown_signal};
        /// Peer addresses.
        pub mod address {
            pub use crate::web::address::parse_trusted;
        }
        /// The server's clock.
        pub mod clock {
            pub use crate::web::clock::now;
        }
        /// Page rendering.
        pub mod render {
            pub use crate::web::render::{BANNER, TITLE_PREFIX};
        }
        /// Security headers and panics.
        pub mod security {
            pub use crate::web::security::{check_frame_ancestor, log_panics_by_place, wrap};
        }
        /// The accept loop.
        pub mod server {
            pub use crate::web::server::{Limits, serve};
        }
        /// Reloading on change.
        pub mod watch {
            pub use crate::web::watch::{Folders, spawn};
        }
    }
}
