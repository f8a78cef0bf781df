//! What the suite runs on: the tools it needs (found, or a clear failure
//! saying how to install them), the miroir server served in-process on a
//! free loopback port with a tap that keeps every HTML page it sends, and
//! Debian's Chromium driven headless through chromedriver.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::Response;
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::{Client, ClientBuilder, Locator};
use miroir::testing::library::Library;
use miroir::testing::web::{AppState, Shared};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How to get what the suite needs, said when something is missing.
pub const INSTALL: &str = "Chromium and chromedriver are needed: apt-get install chromium chromium-driver; \
the Nu Html Checker needs Java: apt-get install default-jre-headless; \
axe-core and vnu-jar come from npm: cd tools && npm ci. (.ci/run does all of this.)";

/// The programs and files of the suite.
#[derive(Clone)]
pub struct Tools {
    pub chromium: PathBuf,
    pub chromedriver: PathBuf,
    pub java: PathBuf,
    /// `axe.min.js`, injected into each page.
    pub axe: PathBuf,
    /// The Nu Html Checker.
    pub vnu: PathBuf,
}

fn in_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(program)).find(|p| p.is_file())
}

/// `MIROIR_<NAME>` if set, else `default`, else the program in `PATH`.
fn program(var: &str, default: &str, name: &str) -> Option<PathBuf> {
    match std::env::var_os(var) {
        Some(p) => Some(PathBuf::from(p)),
        None if Path::new(default).is_file() => Some(PathBuf::from(default)),
        None => in_path(name),
    }
    .filter(|p| p.is_file())
}

impl Tools {
    /// Finds every tool, or fails (never skips) naming what is missing and
    /// how to install it.
    pub fn find() -> Tools {
        let tools_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/node_modules");
        let chromium = program("MIROIR_CHROMIUM", "/usr/bin/chromium", "chromium");
        let chromedriver = program("MIROIR_CHROMEDRIVER", "/usr/bin/chromedriver", "chromedriver");
        let java = program("MIROIR_JAVA", "/usr/bin/java", "java");
        let axe = Some(tools_dir.join("axe-core/axe.min.js")).filter(|p| p.is_file());
        let vnu = Some(tools_dir.join("vnu-jar/build/dist/vnu.jar")).filter(|p| p.is_file());
        let mut missing = Vec::new();
        for (what, found) in [
            ("chromium (/usr/bin/chromium or MIROIR_CHROMIUM)", chromium.is_some()),
            ("chromedriver (in PATH or MIROIR_CHROMEDRIVER)", chromedriver.is_some()),
            ("java (in PATH or MIROIR_JAVA)", java.is_some()),
            ("tools/node_modules/axe-core/axe.min.js", axe.is_some()),
            ("tools/node_modules/vnu-jar/build/dist/vnu.jar", vnu.is_some()),
        ] {
            if !found {
                missing.push(what);
            }
        }
        assert!(missing.is_empty(), "\n\nThe browser accessibility suite cannot run: missing {}.\n{INSTALL}\n\n", missing.join(", "));
        Tools {
            chromium: chromium.unwrap(),
            chromedriver: chromedriver.unwrap(),
            java: java.unwrap(),
            axe: axe.unwrap(),
            vnu: vnu.unwrap(),
        }
    }
}

/// A fresh, empty folder under the system's temporary folder.
pub fn temp_dir(what: &str) -> PathBuf {
    static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("miroir-a11y-{}-{what}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// One HTML response the server sent, exactly as sent.
#[derive(Clone, Debug)]
pub struct Served {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub body: String,
}

type Tap = Arc<Mutex<Vec<Served>>>;

/// Keeps a copy of every HTML response, for the Nu Html Checker.
async fn tap(State(tap): State<Tap>, request: Request, next: Next) -> Response {
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let html = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/html"));
    if !html {
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.expect("a page body");
    let served = Served { method, path, status: parts.status.as_u16(), body: String::from_utf8_lossy(&bytes).into_owned() };
    tap.lock().unwrap().push(served);
    Response::from_parts(parts, Body::from(bytes))
}

/// Where the suite's server serves axe-core (not a route of miroir's).
pub const AXE_PATH: &str = "/__suite/axe.min.js";

/// miroir's router over the bundled library, served on a free loopback
/// port in this process, so that the suite can read the session store.
pub struct Server {
    pub base: String,
    pub state: Shared,
    served: Tap,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Server {
    /// Also serves axe-core at [`AXE_PATH`], from `tools`.
    pub async fn start(tools: &Tools) -> Server {
        let library = Library::embedded();
        assert!(library.diagnostics.is_empty(), "{}", library.render_diagnostics());
        let state = AppState::in_memory(library);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let served: Tap = Arc::default();
        // axe-core from the pages' own origin, which their policy allows
        // (`script-src 'self'`): Chromium then compiles it once, where
        // sending its 500 KB through WebDriver into each page parsed it
        // again every time (84 ms a page).
        let axe = std::fs::read_to_string(&tools.axe).unwrap();
        let axe = axum::routing::get(move || async move {
            ([(header::CONTENT_TYPE, "text/javascript"), (header::CACHE_CONTROL, "max-age=3600")], axe)
        });
        let app = axum::Router::new()
            .route(AXE_PATH, axe)
            .merge(miroir::testing::web::router(state.clone()))
            .layer(middleware::from_fn_with_state(served.clone(), tap));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(listener, app.into_make_service())
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        Server { base: format!("http://{addr}"), state, served, stop: Some(stop) }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Every HTML response sent so far.
    pub fn served(&self) -> Vec<Served> {
        self.served.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// chromedriver, started in its own process group so that it and the
/// Chromium it starts are ended together.
struct Driver {
    child: Child,
    /// Chromium's profile and chromedriver's log.
    dir: PathBuf,
}

unsafe extern "C" {
    /// libc's `kill(2)`.
    fn kill(pid: i32, signal: i32) -> i32;
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The group's id is chromedriver's pid: ends it and its browser.
        // (Not through the `kill` program: procps-ng 4.0.2 reads
        // `kill -TERM -<pgid>` wrongly and may signal every process.)
        let group = self.child.id() as i32;
        if group > 1 {
            const SIGTERM: i32 = 15;
            // SAFETY: a plain system call on a process group we made.
            unsafe { kill(-group, SIGTERM) };
        }
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A headless Chromium session at 1280 × 900 CSS pixels.
pub struct Browser {
    pub client: Client,
    driver: Option<Driver>,
}

pub const WIDTH: u32 = 1280;
pub const HEIGHT: u32 = 900;

impl Browser {
    /// Starts chromedriver and a Chromium session. A start can fail on a
    /// loaded machine (the other test launching its own browser): it is
    /// tried three times, each with a fresh chromedriver, and the last
    /// failure says what chromedriver logged.
    pub async fn start(tools: &Tools) -> Browser {
        // One launch at a time: two Chromiums starting together on two
        // cores is what makes a start fail.
        static LAUNCH: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
        let _one = LAUNCH.lock().await;
        let mut failures = Vec::new();
        for _ in 0..3 {
            match Browser::try_start(tools).await {
                Ok(browser) => return browser,
                Err(failure) => failures.push(failure),
            }
        }
        panic!("chromedriver could not start Chromium, three times:\n{}\n{INSTALL}", failures.join("\n\n"));
    }

    async fn try_start(tools: &Tools) -> Result<Browser, String> {
        let dir = temp_dir("browser");
        let profile = dir.join("profile");
        let log_path = dir.join("chromedriver.log");
        let log = std::fs::File::create(&log_path).unwrap();
        // Port 0: chromedriver takes a free port itself and says which,
        // so no other listener can take it between the choice and the bind.
        let child = Command::new(&tools.chromedriver)
            .arg("--port=0")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}\n{INSTALL}", tools.chromedriver.display()));
        let mut driver = Driver { child, dir };
        let failed = |what: String| format!("{what}; chromedriver's log:\n{}", std::fs::read_to_string(&log_path).unwrap_or_default());
        let deadline = Instant::now() + Duration::from_secs(20);
        let port = loop {
            let said = std::fs::read_to_string(&log_path).unwrap_or_default();
            if let Some(port) =
                said.split("started successfully on port ").nth(1).and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            {
                break port.parse::<u16>().map_err(|e| failed(format!("an unreadable port: {e}")))?;
            }
            if let Ok(Some(status)) = driver.child.try_wait() {
                return Err(failed(format!("chromedriver ended ({status})")));
            }
            if Instant::now() > deadline {
                return Err(failed("chromedriver did not say its port within 20 s".into()));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let args = [
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--force-device-scale-factor=1".to_owned(),
            "--lang=fr-FR".to_owned(),
            format!("--window-size={WIDTH},{HEIGHT}"),
            format!("--user-data-dir={}", profile.display()),
        ];
        let caps = json!({
            "goog:chromeOptions": { "binary": tools.chromium, "args": args },
            "pageLoadStrategy": "normal",
        });
        let caps = caps.as_object().unwrap().clone();
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = match ClientBuilder::new(connector).capabilities(caps).connect(&format!("http://127.0.0.1:{port}")).await {
            Ok(client) => client,
            Err(e) => return Err(failed(format!("no session on port {port}: {e}"))),
        };
        // The page keeps the focus of a visitor's window. Headless Chromium
        // 148 leaves a page opened by a form sent from the keyboard without
        // it (`document.hasFocus()` false), so that `:focus` matches nothing
        // there, not even the error summary the page focuses.
        let focus = Cdp("Emulation.setFocusEmulationEnabled", json!({ "enabled": true }));
        client.issue_cmd(focus).await.map_err(|e| failed(format!("focus emulation refused: {e}")))?;
        Ok(Browser { client, driver: Some(driver) })
    }

    /// Ends the session (and so Chromium), then chromedriver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        self.driver.take();
    }
}

/// A DevTools command, sent through chromedriver's `goog/cdp/execute`.
#[derive(Debug)]
struct Cdp(&'static str, Value);

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/goog/cdp/execute", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        (axum::http::Method::POST, Some(json!({ "cmd": self.0, "params": self.1 }).to_string()))
    }
}

/// Runs `body` with a browser, then always closes the browser, even when
/// `body` panics; the panic is passed on.
pub async fn with_browser<F, Fut, T>(tools: &Tools, body: F) -> T
where
    F: FnOnce(Client) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let browser = Browser::start(tools).await;
    let outcome = tokio::spawn(body(browser.client.clone())).await;
    browser.close().await;
    match outcome {
        Ok(value) => value,
        Err(e) => match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("the browser task failed: {e}"),
        },
    }
}

/// Small conveniences over the WebDriver client.
pub trait Page {
    /// Runs `script` (a function body), returns its result.
    async fn js(&self, script: &str, args: Vec<Value>) -> Value;
    /// Goes to `url` and waits for the page.
    async fn open(&self, url: &str);
    /// Does `act` (a click, a key) that leaves the page, and waits for the
    /// next page to be loaded. Panics naming `what` if no page comes.
    async fn leave<F: std::future::Future<Output = ()>>(&self, what: &str, act: F);
    /// Clicks the element `css` and waits for the page it leads to.
    async fn click_to(&self, css: &str);
    /// Whether an element matches `css`.
    async fn has(&self, css: &str) -> bool;
    /// Presses keys (see [`fantoccini::key::Key`]) one after the other;
    /// `shift` holds Shift down meanwhile.
    async fn press(&self, keys: &str, shift: bool);
}

impl Page for Client {
    async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.execute(script, args).await.unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    async fn open(&self, url: &str) {
        self.goto(url).await.unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
    }

    async fn leave<F: std::future::Future<Output = ()>>(&self, what: &str, act: F) {
        self.js("window.__miroirOld = true;", vec![]).await;
        act.await;
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            // A navigation under way can make a script fail: try again.
            let ready = self
                .execute("return window.__miroirOld === undefined && document.readyState === 'complete';", vec![])
                .await
                .ok()
                .and_then(|v| v.as_bool())
                .unwrap_or(false);
            if ready {
                return;
            }
            let url = self.current_url().await.map(|u| u.to_string()).unwrap_or_default();
            assert!(Instant::now() < deadline, "{what}: no new page came (still at {url})");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn click_to(&self, css: &str) {
        let element = self.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("no `{css}` on this page: {e}"));
        self.leave(&format!("click on `{css}`"), async {
            element.click().await.unwrap_or_else(|e| panic!("cannot click `{css}`: {e}"));
        })
        .await;
    }

    async fn has(&self, css: &str) -> bool {
        self.js("return document.querySelector(arguments[0]) !== null;", vec![json!(css)]).await == json!(true)
    }

    async fn press(&self, keys: &str, shift: bool) {
        let shift_key: char = fantoccini::key::Key::Shift.into();
        let mut actions = KeyActions::new("keyboard".to_owned());
        if shift {
            actions = actions.then(KeyAction::Down { value: shift_key });
        }
        for key in keys.chars() {
            actions = actions.then(KeyAction::Down { value: key }).then(KeyAction::Up { value: key });
        }
        if shift {
            actions = actions.then(KeyAction::Up { value: shift_key });
        }
        self.perform_actions(actions).await.unwrap_or_else(|e| panic!("keys not pressed: {e}"));
    }
}
