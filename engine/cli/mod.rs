//! The `miroir` command line: `check`, `serve`, and the authoring tools.

mod author;
mod check;
pub(crate) mod serve;

use crate::web::server::Limits;
use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(name = "miroir", version, about = "Sites miroir: rehearse French online procedures with fictitious personas")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check scenario files: syntax, references, expressions, walkthroughs.
    Check {
        /// Scenario folders or files (default: the bundled scenarios).
        paths: Vec<PathBuf>,
        /// Themes folder (default: the bundled themes).
        #[arg(long)]
        themes: Option<PathBuf>,
    },
    /// Write a new scenario, commented, that passes `miroir check`.
    New {
        /// `<operator>/<name>`, such as `caf/prime-activite`.
        id: String,
        /// The scenarios folder to write into.
        #[arg(long, default_value = "scenarios")]
        dir: PathBuf,
    },
    /// Print the JSON Schema of scenario files, for editors.
    Schema {
        /// The schema of step group files (`*.group.yaml`) instead.
        #[arg(long)]
        group: bool,
    },
    /// Print the persona a seed gives in a scenario.
    Persona {
        /// The scenario's id, such as `impots/declaration-revenus`.
        #[arg(long)]
        scenario: String,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// JSON instead of YAML.
        #[arg(long)]
        json: bool,
        /// Read the scenarios of this folder instead of the bundled ones.
        #[arg(long)]
        scenarios: Option<PathBuf>,
    },
    /// Serve the scenarios: the bundled ones by default, embedded in the binary.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
        /// Serve the scenarios of this folder instead of the bundled ones.
        #[arg(long)]
        scenarios: Option<PathBuf>,
        /// Serve the themes of this folder instead of the bundled ones.
        #[arg(long)]
        themes: Option<PathBuf>,
        /// Always mark the session cookie `Secure` (for https without a proxy header).
        #[arg(long)]
        secure_cookies: bool,
        /// Log as JSON lines instead of text.
        #[arg(long)]
        json_logs: bool,
        /// Sites allowed to show miroir in a frame, such as https://www.ma-ville.fr (comma-separated).
        #[arg(long, value_delimiter = ',')]
        frame_ancestors: Vec<String>,
        /// Reload scenarios and themes from disk when a file changes.
        #[arg(long)]
        watch: bool,
        /// Megabytes of rendered step pages and catalogues kept for reloads (0: render every time).
        #[arg(long, default_value_t = 32, value_name = "MB")]
        page_cache_mb: u64,
        /// Megabytes of visitors' sessions kept in memory; beyond it the least used go first.
        #[arg(long, default_value_t = 256, value_name = "MB", value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
        sessions_mb: u64,
        /// Keep sessions in Redis (redis://HOST:PORT/DB), shared by every instance, instead of in memory.
        #[arg(long, env = "MIROIR_REDIS", hide_env_values = true, value_name = "URL")]
        redis: Option<String>,
        /// Opening a workshop asks for this passphrase (default: anyone may).
        #[arg(long, env = "MIROIR_TRAINER_PASSPHRASE", hide_env_values = true)]
        trainer_passphrase: Option<String>,
        /// Reverse proxies whose X-Forwarded-For names the client, for the per-address
        /// limits: IP addresses or CIDR ranges, comma-separated (default: none).
        #[arg(long, env = "MIROIR_TRUSTED_PROXIES", value_delimiter = ',', value_name = "ADDRESSES",
              value_parser = crate::web::address::parse_trusted)]
        trusted_proxies: Vec<ipnet::IpNet>,
        /// Connections open at once; beyond, a visitor is told to come back (503). Needs as many open files, plus 128.
        #[arg(long, default_value_t = Limits::default().max_connections, value_name = "N",
              value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
        max_connections: u32,
        // The timeouts, in seconds: hidden, for tests and unusual networks.
        /// Seconds from a request's first byte to the end of its header.
        #[arg(long, hide = true, default_value_t = Limits::default().header_timeout.as_secs(), value_parser = seconds())]
        header_timeout: u64,
        /// Seconds a connection may wait for a request (new or kept alive).
        #[arg(long, hide = true, default_value_t = Limits::default().idle_timeout.as_secs(), value_parser = seconds())]
        idle_timeout: u64,
        /// Seconds from a request's header to its answer, reading the body included.
        #[arg(long, hide = true, default_value_t = Limits::default().request_timeout.as_secs(), value_parser = seconds())]
        request_timeout: u64,
        /// Seconds a client may read nothing of its answer.
        #[arg(long, hide = true, default_value_t = Limits::default().write_timeout.as_secs(), value_parser = seconds())]
        write_timeout: u64,
        /// Seconds the requests under way have to finish after SIGTERM.
        #[arg(long, hide = true, default_value_t = Limits::default().shutdown_deadline.as_secs(), value_parser = seconds())]
        shutdown_deadline: u64,
    },
}

/// A timeout in whole seconds, at least one.
fn seconds() -> clap::builder::RangedU64ValueParser<u64> {
    clap::value_parser!(u64).range(1..=86_400)
}

/// Runs the command line; the process exit code is the result.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { paths, themes } => check::run(&paths, themes.as_deref()),
        Command::New { id, dir } => author::new(&id, &dir),
        Command::Schema { group } => author::schema(group),
        Command::Persona { scenario, seed, json, scenarios } => author::persona(&scenario, seed, json, scenarios.as_ref()),
        Command::Serve {
            addr,
            scenarios,
            themes,
            secure_cookies,
            json_logs,
            page_cache_mb,
            sessions_mb,
            redis,
            trainer_passphrase,
            watch,
            frame_ancestors,
            trusted_proxies,
            max_connections,
            header_timeout,
            idle_timeout,
            request_timeout,
            write_timeout,
            shutdown_deadline,
        } => serve::run(serve::Options {
            addr,
            scenarios,
            themes,
            secure_cookies,
            json_logs,
            trainer_passphrase,
            watch,
            frame_ancestors,
            page_cache_mb,
            sessions_mb,
            redis,
            trusted_proxies,
            limits: Limits {
                max_connections,
                header_timeout: Duration::from_secs(header_timeout),
                idle_timeout: Duration::from_secs(idle_timeout),
                request_timeout: Duration::from_secs(request_timeout),
                write_timeout: Duration::from_secs(write_timeout),
                shutdown_deadline: Duration::from_secs(shutdown_deadline),
            },
        }),
    }
}
