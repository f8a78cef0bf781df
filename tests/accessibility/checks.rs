//! The checks run on each page: axe-core at the WCAG 2.1 A and AA tags,
//! the layout at 320 CSS pixels and at 200 % zoom, and, once at the end,
//! the Nu Html Checker over every HTML page the server sent.

use crate::harness::{AXE_PATH, HEIGHT, Page, Served, Tools, WIDTH, temp_dir};
use fantoccini::Client;
use fantoccini::wd::{PrintConfiguration, PrintSize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The axe-core tags the suite holds every page to.
pub const AXE_TAGS: [&str; 4] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

/// Widths the layout must hold at without horizontal scrolling: 320 CSS
/// pixels (WCAG 1.4.10), and 640, which is what a 1280-pixel window shows
/// at 200 % zoom (WCAG 1.4.4): zooming shrinks the viewport in CSS pixels.
pub const LAYOUT_WIDTHS: [(u32, &str); 2] = [(320, "320 px wide"), (640, "200 % zoom (640 CSS px)")];

/// Adds axe-core to the page from the suite's server; answers when it ran
/// or failed to load.
const LOAD_AXE: &str = r#"
const done = arguments[arguments.length - 1];
const s = document.createElement('script');
s.src = arguments[0];
s.onload = () => done(true);
s.onerror = () => done(false);
document.head.append(s);
"#;

const RUN_AXE: &str = r#"
const done = arguments[arguments.length - 1];
axe.run(document, { runOnly: { type: 'tag', values: arguments[0] }, resultTypes: ['violations'] })
  .then(r => done(r.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({ target: n.target.join(' '), summary: n.failureSummary })),
  }))))
  .catch(e => done({ error: String(e) }));
"#;

const MEASURE: &str = r#"
const d = document.documentElement;
const width = d.clientWidth;
const out = { inner: window.innerWidth, client: width, scroll: d.scrollWidth, over: [] };
if (d.scrollWidth > width) {
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > width + 0.5 && out.over.length < 6) {
      out.over.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
        (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : '') +
        ' (right edge at ' + Math.round(r.right) + ' px)');
    }
  }
}
return out;
"#;

/// The shape of the page the browser shows: its path and every element with
/// its attributes (digits folded, values left out) and where text is, not
/// the text itself. Two walkthroughs reaching the same step with other
/// names and amounts give the same shape; an error, another field or
/// another branch gives another.
const SHAPE: &str = r#"
const parts = [location.pathname.replace(/[0-9]+/g, '0')];
const walk = (el) => {
  for (const n of el.childNodes) {
    if (n.nodeType === 1) {
      let s = n.tagName;
      for (const a of [...n.attributes].sort((x, y) => x.name < y.name ? -1 : 1)) {
        if (a.name !== 'value') s += ' ' + a.name + '=' + a.value.replace(/[0-9]+/g, '0');
      }
      parts.push(s); walk(n); parts.push('/');
    } else if (n.nodeType === 3 && n.textContent.trim()) parts.push('#');
  }
};
walk(document.body);
return parts.join('\n');
"#;

/// The most the banner, toolbar, header and step train may take on a phone.
const PHONE_CHROME: i64 = 300;

/// The page shapes checked so far, by every browser of the crawl.
pub type Shapes = std::sync::Arc<std::sync::Mutex<std::collections::HashSet<u64>>>;

pub struct Checker {
    pub client: Client,
    axe_source: String,
    /// Every page checked: a label and its path.
    pub pages: Vec<String>,
    /// Pages visited whose shape (see [`SHAPE`]) was already checked.
    pub same_shape: usize,
    /// The shapes checked, shared by the browsers crawling side by side.
    shapes: Shapes,
    pub axe_violations: usize,
    pub layout_problems: usize,
    /// Printable pages printed to A4 PDF, and those that broke a rule.
    pub printed: usize,
    /// Step pages measured at phone size.
    pub phone_checked: usize,
    pub print_problems: usize,
    pub problems: Vec<String>,
    screenshots: Option<PathBuf>,
}

impl Checker {
    pub fn new(client: Client, tools: &Tools, shapes: Shapes) -> Checker {
        let axe_source = std::fs::read_to_string(&tools.axe).unwrap();
        let screenshots = std::env::var_os("MIROIR_SCREENSHOTS").map(|dir| {
            let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(dir);
            std::fs::create_dir_all(&dir).unwrap();
            dir
        });
        Checker {
            client,
            axe_source,
            pages: Vec::new(),
            same_shape: 0,
            shapes,
            axe_violations: 0,
            layout_problems: 0,
            printed: 0,
            phone_checked: 0,
            print_problems: 0,
            problems: Vec::new(),
            screenshots,
        }
    }

    /// Adds what `other`, a browser crawling beside this one, found.
    pub fn absorb(&mut self, other: Checker) {
        self.pages.extend(other.pages);
        self.same_shape += other.same_shape;
        self.axe_violations += other.axe_violations;
        self.layout_problems += other.layout_problems;
        self.printed += other.printed;
        self.phone_checked += other.phone_checked;
        self.print_problems += other.print_problems;
        self.problems.extend(other.problems);
    }

    async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        url.path().to_owned()
    }

    /// Checks the page the browser shows.
    pub async fn check(&mut self, label: &str) {
        let path = self.path().await;
        let where_ = format!("{label} ({path})");
        // A page of the same shape as one checked (another walkthrough's
        // persona on the same step) would give the same findings: the
        // crawl plays every walkthrough, and checks each shape once.
        let shape = self.client.js(SHAPE, vec![]).await;
        let shape = std::hash::BuildHasher::hash_one(
            &std::hash::BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default(),
            shape.as_str().unwrap_or_default(),
        );
        if !self.shapes.lock().unwrap().insert(shape) {
            self.same_shape += 1;
            return;
        }
        self.axe(&where_).await;
        self.layout(&where_).await;
        self.pages.push(where_);
    }

    async fn axe(&mut self, where_: &str) {
        let c = &self.client;
        if c.js("return typeof window.axe;", vec![]).await != json!("object")
            && c.execute_async(LOAD_AXE, vec![json!(AXE_PATH)]).await.unwrap_or_else(|e| panic!("axe-core not loaded on {where_}: {e}"))
                != json!(true)
        {
            // A page whose policy allows no script at all (`default-src
            // 'none'`: the bodies too large, the limits): through WebDriver.
            c.js(&self.axe_source, vec![]).await;
            assert_eq!(c.js("return typeof window.axe;", vec![]).await, json!("object"), "axe-core did not load on {where_}");
        }
        let result = c.execute_async(RUN_AXE, vec![json!(AXE_TAGS)]).await.unwrap_or_else(|e| panic!("axe-core failed on {where_}: {e}"));
        let Value::Array(violations) = result else { panic!("axe-core failed on {where_}: {result}") };
        for v in violations {
            for node in v["nodes"].as_array().into_iter().flatten() {
                self.axe_violations += 1;
                self.problems.push(format!(
                    "axe: {where_}: [{} {}] {}\n    at `{}`: {}",
                    v["id"].as_str().unwrap_or_default(),
                    v["impact"].as_str().unwrap_or("?"),
                    v["help"].as_str().unwrap_or_default(),
                    node["target"].as_str().unwrap_or_default(),
                    node["summary"].as_str().unwrap_or_default().replace('\n', " "),
                ));
            }
        }
    }

    async fn resize(&self, width: u32, height: u32) {
        self.client.set_window_size(width, height).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.client.js("return window.innerWidth;", vec![]).await != json!(width) {
            assert!(Instant::now() < deadline, "the window did not take the width {width}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    async fn layout(&mut self, where_: &str) {
        for (width, what) in LAYOUT_WIDTHS {
            self.resize(width, HEIGHT).await;
            let m = self.client.js(MEASURE, vec![]).await;
            if m["scroll"].as_u64() > m["client"].as_u64() {
                self.layout_problems += 1;
                let over: Vec<&str> = m["over"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
                self.problems.push(format!(
                    "layout: {where_}: scrolls horizontally at {what}: content {} px wide in {} px; too wide: {}",
                    m["scroll"],
                    m["client"],
                    over.join(", ")
                ));
            }
        }
        self.resize(WIDTH, HEIGHT).await;
    }

    /// On a phone (375 x 667 CSS px), what comes before the step's heading
    /// (banner, toolbar, header, step train) takes at most 300 px of the 667, so
    /// that the form starts on screen; the toolbar is one line.
    pub async fn phone_fold(&mut self, label: &str) {
        self.resize(375, 667).await;
        let m = self
            .client
            .js(
                "const h = document.querySelector('main h1'); const t = document.querySelector('.toolbar-list'); \
                 return { top: h ? Math.round(h.getBoundingClientRect().top + window.scrollY) : -1, \
                 toolbar: t ? Math.round(t.getBoundingClientRect().height) : 0 };",
                vec![],
            )
            .await;
        self.resize(WIDTH, HEIGHT).await;
        let (top, toolbar) = (m["top"].as_i64().unwrap_or(-1), m["toolbar"].as_i64().unwrap_or(0));
        self.phone_checked += 1;
        if !(0..=PHONE_CHROME).contains(&top) || toolbar > 40 {
            self.layout_problems += 1;
            let path = self.path().await;
            self.problems.push(format!(
                "phone: {label} ({path}): at 375 px the heading starts at {top} px (at most {PHONE_CHROME}), the toolbar is {toolbar} px high (one line: at most 40)"
            ));
        }
    }

    /// A printable page: its "Imprimer" button shows and calls the
    /// browser's print, and printed on A4 it takes at most `most` pages.
    pub async fn printable(&mut self, label: &str, most: usize) {
        let where_ = format!("{label} ({})", self.path().await);
        let c = &self.client;
        let clicked = c
            .js(
                "const b = document.querySelector('button[data-imprimer]'); if (!b || b.hidden) return 'no visible Imprimer button'; \
                 window.__printed = false; window.print = () => { window.__printed = true; }; b.click(); \
                 return window.__printed ? 'ok' : 'Imprimer did not call print';",
                vec![],
            )
            .await;
        if clicked != json!("ok") {
            self.print_problems += 1;
            self.problems.push(format!("print: {where_}: {}", clicked.as_str().unwrap_or_default()));
        }
        let a4 = PrintConfiguration::builder().size(PrintSize::A4).build().unwrap();
        let pdf = c.print(a4).await.unwrap_or_else(|e| panic!("printing {where_} failed: {e}"));
        let pages = pdf_pages(&pdf);
        self.printed += 1;
        if pages == 0 || pages > most {
            self.print_problems += 1;
            self.problems.push(format!("print: {where_}: {pages} A4 pages, at most {most} expected"));
        }
    }

    /// With `MIROIR_SCREENSHOTS=dir`, saves the whole page as `dir/name.png`.
    pub async fn screenshot(&self, name: &str) {
        let Some(dir) = &self.screenshots else { return };
        let width = 1024;
        self.resize(width, HEIGHT).await;
        // A window as tall as the page (its height is not quite the viewport's).
        for _ in 0..3 {
            let m = self.client.js("return [document.documentElement.scrollHeight, window.innerHeight, window.outerHeight];", vec![]).await;
            let (page, inner, outer) = (m[0].as_u64().unwrap(), m[1].as_u64().unwrap(), m[2].as_u64().unwrap());
            if inner >= page {
                break;
            }
            self.client.set_window_size(width, (outer + page - inner) as u32).await.unwrap();
        }
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
        self.resize(WIDTH, HEIGHT).await;
    }
}

/// What the Nu Html Checker found over the pages served.
pub struct HtmlReport {
    /// HTML responses the server sent.
    pub responses: usize,
    /// Distinct documents among them, each validated once.
    pub documents: usize,
    pub errors: Vec<String>,
}

/// Validates every distinct HTML page in `served` with the Nu Html
/// Checker, in one run of Java.
pub fn validate_html(tools: &Tools, served: &[Served]) -> HtmlReport {
    let dir = temp_dir("html");
    // Identical documents are validated once; each file keeps the requests
    // that got it.
    let mut files: BTreeMap<&str, (PathBuf, Vec<String>)> = BTreeMap::new();
    for s in served {
        let n = files.len();
        let entry = files.entry(s.body.as_str()).or_insert_with(|| (dir.join(format!("page-{n:04}.html")), Vec::new()));
        entry.1.push(format!("{} {} ({})", s.method, s.path, s.status));
    }
    for (body, (file, _)) in &files {
        std::fs::write(file, body).unwrap();
    }
    let mut args: Vec<PathBuf> = files.values().map(|(f, _)| f.clone()).collect();
    args.sort();
    let output = std::process::Command::new(&tools.java)
        .arg("-Xss4m")
        .arg("-jar")
        .arg(&tools.vnu)
        .args(["--errors-only", "--format", "json", "--stdout"])
        .args(&args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run the Nu Html Checker: {e}"));
    let text = String::from_utf8_lossy(&output.stdout);
    let report: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!("the Nu Html Checker said something unexpected ({e}):\n{text}\n{}", String::from_utf8_lossy(&output.stderr))
    });
    let by_file: BTreeMap<String, &Vec<String>> = files.values().map(|(f, requests)| (format!("file:{}", f.display()), requests)).collect();
    let mut errors = Vec::new();
    for m in report["messages"].as_array().into_iter().flatten() {
        if m["type"] != "error" && m["subType"] != "fatal" {
            continue;
        }
        let url = m["url"].as_str().unwrap_or_default();
        let requests = by_file.get(url).map_or_else(|| url.to_owned(), |r| summarize(r));
        errors.push(format!(
            "html: {requests}: line {}:{}: {}\n    {}",
            m["lastLine"],
            m["firstColumn"].as_u64().or(m["lastColumn"].as_u64()).unwrap_or(0),
            m["message"].as_str().unwrap_or_default(),
            m["extract"].as_str().unwrap_or_default().replace('\n', "↵"),
        ));
    }
    if errors.is_empty() {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        errors.push(format!("(the pages are kept in {})", dir.display()));
    }
    HtmlReport { responses: served.len(), documents: files.len(), errors }
}

fn summarize(requests: &[String]) -> String {
    match requests {
        [one] => one.clone(),
        [first, rest @ ..] => format!("{first} (and {} more identical)", rest.len()),
        [] => String::new(),
    }
}

/// The pages of a PDF as Chromium writes it: one `/Type /Page` object each.
fn pdf_pages(pdf: &[u8]) -> usize {
    let text = String::from_utf8_lossy(pdf);
    let mut rest = text.as_ref();
    let mut count = 0;
    while let Some(at) = rest.find("/Type /Page") {
        rest = &rest[at + "/Type /Page".len()..];
        if !rest.starts_with('s') {
            count += 1;
        }
    }
    count
}
