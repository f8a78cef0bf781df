//! Accessibility proved in a real browser (RGAA 4.1 / WCAG 2.1 AA).
//!
//! miroir's router is served in-process on a free loopback port (the same
//! router `miroir serve` runs, so that the suite can read the session
//! store), and Debian's Chromium is driven headless through chromedriver:
//!
//! - every page of every bundled scenario is visited (each walkthrough
//!   played, each form of the happy path also sent empty, the review's
//!   "Modifier", the receipt and its document, the persona card, the inbox
//!   and its messages, the confirmation pages, the session-expired page)
//!   with the site's own pages (catalogue, accessibility statement, error
//!   pages), and each is checked by axe-core at the WCAG 2.1 A and AA tags
//!   and for horizontal scrolling at 320 CSS px and at 200 % zoom;
//! - every HTML response the server sent is validated by the Nu Html
//!   Checker;
//! - a keyboard-only walk checks the focus at every Tab stop.
//!
//! Needs the `browser` feature, Chromium, chromedriver, Java and
//! `npm ci` in `tools/`; without them it fails saying how to install them:
//!
//! ```sh
//! cargo test --features browser --test accessibility -- --nocapture
//! ```
//!
//! `MIROIR_SCREENSHOTS=docs/screenshots` also saves the README's screenshots.

mod checks;
mod crawl;
mod harness;
mod keyboard;

use checks::{AXE_TAGS, Checker};
use harness::{Page, Server, Tools, with_browser};
use miroir::testing::scenario::Scenario;
use std::sync::Arc;

/// Writes the report next to the test's other outputs, and prints it.
fn report(name: &str, summary: &str, details: &[String]) {
    println!("{summary}");
    let file = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}.txt"));
    let _ = std::fs::write(&file, format!("{summary}\n\n{}\n", details.join("\n")));
    println!("(report: {})", file.display());
}

/// The accessibility statement names the versions of the tools that
/// tools/package.json pins: a problem per version it does not name.
fn statement_names_the_tools(statement: &str) -> Vec<String> {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/package.json");
    let manifest: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(manifest).unwrap()).unwrap();
    [("axe-core", "axe-core "), ("vnu-jar", "Nu Html Checker (vnu) ")]
        .into_iter()
        .filter_map(|(package, named)| {
            let version = manifest["dependencies"][package].as_str().unwrap_or_default();
            let expected = format!("{named}{version}");
            (!statement.contains(&expected))
                .then(|| format!("statement: /accessibilite should say «{expected}», the version tools/package.json pins"))
        })
        .collect()
}

/// Splits the scenarios in two lanes of about as many walkthroughs, the
/// first never empty; each keeps the library's order.
fn halves(scenarios: Vec<Arc<Scenario>>) -> (Vec<Arc<Scenario>>, Vec<Arc<Scenario>>) {
    let mut by_size: Vec<usize> = (0..scenarios.len()).collect();
    by_size.sort_by_key(|&i| std::cmp::Reverse(scenarios[i].tests.len()));
    let (mut lane, mut weight) = (vec![0u8; scenarios.len()], [0usize; 2]);
    for i in by_size {
        let l = usize::from(weight[1] < weight[0]);
        lane[i] = l as u8;
        weight[l] += scenarios[i].tests.len();
    }
    let (mut first, mut second) = (Vec::new(), Vec::new());
    for (s, l) in scenarios.into_iter().zip(lane) {
        if l == 0 { first.push(s) } else { second.push(s) }
    }
    (first, second)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_passes_axe_the_html_checker_and_the_layout_checks() {
    let tools = Tools::find();
    let server = Arc::new(Server::start(&tools).await);
    let library = &server.state.loaded().library;
    // `MIROIR_A11Y_SCENARIOS=caf/,ants/permis` crawls only the scenarios
    // whose id starts with one of these, to retry a fix quickly; the report
    // says so, and CI never sets it.
    let only: Vec<String> = std::env::var("MIROIR_A11Y_SCENARIOS")
        .map(|v| v.split(',').map(str::trim).filter(|p| !p.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default();
    let scenarios: Vec<_> =
        library.scenarios.values().filter(|s| only.is_empty() || only.iter().any(|p| s.id.starts_with(p.as_str()))).cloned().collect();
    assert!(!scenarios.is_empty());
    if !only.is_empty() {
        println!("accessibility: only the scenarios starting with {only:?} (MIROIR_A11Y_SCENARIOS)");
    }
    let walkthroughs: usize = scenarios.iter().map(|s| s.tests.len()).sum();
    let scenarios_crawled = scenarios.len();
    // Two browsers crawl side by side, each with half of the scenarios (by
    // their walkthroughs), the first also with the site's own pages: on two
    // cores one browser leaves about a third of the machine idle, waiting
    // on WebDriver's round trips.
    let (first, second) = halves(scenarios);
    let shapes = checks::Shapes::default();
    let crawl = |lane: Vec<Arc<Scenario>>, site: bool| {
        let (srv, axe_tools, shapes) = (server.clone(), tools.clone(), shapes.clone());
        with_browser(&tools, move |client| async move {
            let mut ch = Checker::new(client, &axe_tools, shapes);
            if site {
                crawl::site_pages(&mut ch, &srv, "").await;
            }
            for s in &lane {
                crawl::scenario(&mut ch, &srv, s).await;
            }
            if site {
                ch.client.open(&srv.url("/")).await;
                ch.check("catalogue, with rehearsals under way").await;
                crawl::workshop_and_author_pages(&mut ch, &srv, &lane[0]).await;
                crawl::session_expired(&mut ch, &srv, &lane[0]).await;
            }
            ch
        })
    };
    let (mut checker, other) = tokio::join!(crawl(first, true), crawl(second, false));
    checker.absorb(other);
    let served = server.served();
    let html = checks::validate_html(&tools, &served);
    let statement = served.iter().find(|p| p.path == "/accessibilite").expect("the accessibility statement was served");
    let mut problems = statement_names_the_tools(&statement.body);
    let summary = format!(
        "accessibility: {} scenarios, {walkthroughs} walkthroughs; {} pages checked in Chromium ({} more visited, of a shape already checked): \
         axe-core ({}) violations: {}, horizontal scrolling at 320 px or 200 % or chrome too tall at 375 px ({} step pages): {}; \
         printed on A4: {} pages, problems (no Imprimer button, too many sheets): {}; \
         Nu Html Checker: {} HTML responses ({} distinct documents), errors: {}",
        scenarios_crawled,
        checker.pages.len(),
        checker.same_shape,
        AXE_TAGS.join(", "),
        checker.axe_violations,
        checker.phone_checked,
        checker.layout_problems,
        checker.printed,
        checker.print_problems,
        html.responses,
        html.documents,
        html.errors.len(),
    );
    problems.extend(checker.problems.iter().cloned());
    problems.extend(html.errors);
    let mut details = checker.pages.clone();
    details.extend(problems.iter().cloned());
    report("accessibility-pages", &summary, &details);
    assert!(problems.is_empty(), "\n{summary}\n\n{}\n", problems.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyboard_only_walk_with_visible_focus() {
    let tools = Tools::find();
    let server = Arc::new(Server::start(&tools).await);
    let srv = server.clone();
    let walk = with_browser(&tools, move |client| async move {
        let mut walk = keyboard::Walk::new(client, &srv);
        walk.run().await;
        walk
    })
    .await;
    let summary = format!(
        "keyboard: {} from the catalogue to the receipt's document with Tab, Shift+Tab, Enter and Space: \
         {} focus stops checked, problems: {}",
        keyboard::SCENARIO,
        walk.tab_stops,
        walk.problems.len()
    );
    report("accessibility-keyboard", &summary, &walk.problems);
    assert!(walk.problems.is_empty(), "\n{summary}\n\n{}\n", walk.problems.join("\n"));
}
