//! `miroir serve`: the bundled scenarios and themes (embedded in the
//! binary) or folders on disk, served until SIGINT or SIGTERM.

use crate::library::{self, Library};
use crate::session::{MemoryStore, RedisStore, SessionStore};
use crate::web::server::{Limits, RESERVED_FILES};
use crate::web::{self, AppState, Config, ServeError};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Exit code when the address cannot be listened on.
pub(crate) const EXIT_ADDRESS_TAKEN: u8 = 3;

pub(crate) struct Options {
    pub addr: SocketAddr,
    pub scenarios: Option<PathBuf>,
    pub themes: Option<PathBuf>,
    pub secure_cookies: bool,
    pub json_logs: bool,
    pub trainer_passphrase: Option<String>,
    pub watch: bool,
    pub frame_ancestors: Vec<String>,
    pub page_cache_mb: u64,
    pub sessions_mb: u64,
    /// Sessions in this Redis instead of in memory.
    pub redis: Option<String>,
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub limits: Limits,
}

pub(crate) fn run(mut opts: Options) -> ExitCode {
    init_logs(opts.json_logs);
    crate::web::security::log_panics_by_place();
    let mut frame_ancestors = Vec::new();
    for origin in &opts.frame_ancestors {
        match crate::web::security::check_frame_ancestor(origin) {
            Ok(o) => frame_ancestors.push(o),
            Err(e) => {
                eprintln!("error: --frame-ancestors: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let folders = if opts.watch {
        // Watching needs a scenarios folder: the given one, else ./scenarios.
        // Themes are watched when there is a folder (the given one, else
        // ./themes if it exists); without one, the bundled themes serve.
        let scenarios = opts.scenarios.clone().unwrap_or_else(|| PathBuf::from("scenarios"));
        let themes = opts.themes.clone().or_else(|| Some(PathBuf::from("themes")).filter(|d| d.is_dir()));
        for dir in std::iter::once(&scenarios).chain(themes.as_ref()) {
            if !dir.is_dir() {
                eprintln!(
                    "error: --watch reloads folders on disk: {} is not a folder\n  = help: pass --scenarios DIR (and --themes DIR for a themes folder)",
                    dir.display()
                );
                return ExitCode::from(2);
            }
        }
        opts.scenarios = Some(scenarios.clone());
        opts.themes = themes.clone();
        Some(crate::web::watch::Folders { scenarios, themes })
    } else {
        None
    };
    let library = match load(opts.scenarios.as_ref(), opts.themes.as_ref()) {
        Ok(lib) => lib,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    if !library.diagnostics.is_empty() {
        eprintln!("{}", library.render_diagnostics());
    }
    let broken = library.broken_files().len();
    let served = library.scenarios.len();
    if broken > 0 {
        eprintln!("warning: {broken} file(s) have errors (above) and are not served; serving the {served} valid scenario(s)");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let redis = match &opts.redis {
        None => None,
        Some(url) => match runtime.block_on(open_redis(url)) {
            Ok(store) => Some(Arc::new(store)),
            Err(message) => {
                eprintln!("error: --redis: {message}");
                return ExitCode::from(2);
            }
        },
    };
    let store: Arc<dyn SessionStore> = match &redis {
        Some(redis) => redis.clone(),
        None => Arc::new(MemoryStore::new(opts.sessions_mb << 20, crate::session::IDLE)),
    };
    let mut limits = opts.limits;
    limits.max_connections = fit_open_files(limits.max_connections);
    let state = AppState::new(
        library,
        store,
        Config {
            secure_cookies: opts.secure_cookies,
            trainer_passphrase: opts.trainer_passphrase,
            frame_ancestors,
            page_cache_bytes: opts.page_cache_mb.saturating_mul(1 << 20),
            trusted_proxies: opts.trusted_proxies,
            limits,
            ..Config::default()
        },
    );
    if let Some(redis) = &redis {
        // Workshops and limits too, before the first request.
        runtime.block_on(state.share_through_redis(redis));
    }
    eprintln!("miroir: serving {served} scenario(s) on http://{}/ (Ctrl-C to stop)", opts.addr);
    let _watching = match folders {
        Some(folders) => {
            let _guard = runtime.enter();
            match crate::web::watch::spawn(state.clone(), folders) {
                Ok(guard) => {
                    let author = state.url(crate::web::routes::AUTHOR);
                    eprintln!("miroir: watching the scenarios and themes folders; the author pages are at {author}");
                    Some(guard)
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
        None => None,
    };
    match runtime.block_on(web::serve(state, opts.addr)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(ServeError::Bind(addr, e)) => {
            eprintln!(
                "error: cannot listen on {addr}: {e}\n  = help: another program (perhaps another miroir) uses this port; choose another with --addr, such as --addr 127.0.0.1:8081"
            );
            ExitCode::from(EXIT_ADDRESS_TAKEN)
        }
        Err(ServeError::Io(e)) => {
            eprintln!("error: the server stopped: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The Redis session store; a Redis that does not answer yet is only a
/// warning (pages say "service indisponible" until it does), a malformed
/// URL an error. The URL is never printed: it may hold a password.
async fn open_redis(url: &str) -> Result<RedisStore, String> {
    let store = RedisStore::open(url, crate::session::IDLE).map_err(|e| e.0)?;
    match store.ping().await {
        Ok(()) => eprintln!("miroir: sessions in Redis"),
        Err(e) => {
            eprintln!("warning: sessions in Redis, which does not answer yet ({e}); pages needing a session answer 503 until it does")
        }
    }
    Ok(store)
}

/// Raises the open-file limit to what `max` connections need, as far as
/// the hard limit allows; below that, lowers the cap to fit, and says so:
/// past the open-file limit, connections could not even be refused and
/// visitors would wait in vain.
fn fit_open_files(max: u32) -> u32 {
    let wanted = u64::from(max) + RESERVED_FILES;
    match rlimit::increase_nofile_limit(wanted) {
        Ok(limit) if limit >= wanted => max,
        Ok(limit) => {
            let fits = u32::try_from(limit.saturating_sub(RESERVED_FILES)).unwrap_or(max).clamp(1, max);
            eprintln!(
                "warning: the open-file limit ({limit}) allows only {fits} connection(s) at once, not {max}; beyond, visitors get \"Service momentanément indisponible\"\n  = help: raise it to at least {wanted}: `ulimit -n {wanted}` before miroir serve, or LimitNOFILE={wanted} in its systemd unit; or lower --max-connections"
            );
            fits
        }
        Err(e) => {
            eprintln!("warning: cannot read or raise the open-file limit: {e}");
            max
        }
    }
}

/// The library from folders on disk, or the embedded one.
pub(crate) fn load(scenarios: Option<&PathBuf>, themes: Option<&PathBuf>) -> Result<Library, String> {
    let scenario_files = match scenarios {
        Some(dir) => library::scenarios_over(dir).map_err(|e| format!("cannot read scenarios folder {}: {e}", dir.display()))?,
        None => library::embedded_scenarios(),
    };
    let theme_files = match themes {
        Some(dir) => library::themes_over(dir).map_err(|e| format!("cannot read themes folder {}: {e}", dir.display()))?,
        None => library::embedded_themes(),
    };
    Ok(Library::load(&scenario_files, &theme_files))
}

fn init_logs(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colours only for a terminal: a log file or journal gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr);
    let _ = if json { builder.json().try_init() } else { builder.try_init() };
}
