//! Every example of the documentation is checked. A YAML, HTML or CSS block
//! is preceded by a marker saying what it is:
//!
//! - `<!-- check: scenario -->`: a whole scenario, which must load without a
//!   diagnostic and pass its walkthroughs (`file=PATH`: and equal that file;
//!   `themes=doc`: with the theme files of the same document);
//! - `<!-- check: theme path=NAME/... -->`: a file of a theme;
//! - `<!-- check: persona | send | group path=... | includes | tests -->`:
//!   a fragment, put into a small scenario made to hold it.

mod common;

use common::Client;
use miroir::testing::files::FileSet;
use miroir::testing::library::{self, Library};

struct Block {
    marker: String,
    text: String,
}

/// The code blocks of a markdown file, with the marker before each.
fn blocks(markdown: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut marker = String::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match &mut current {
            None if line.starts_with("<!-- check:") => {
                marker = line.trim_start_matches("<!-- check:").trim_end_matches("-->").trim().to_owned();
            }
            None if line.starts_with("```") && line.len() > 3 => current = Some(String::new()),
            None if line.starts_with("```") => current = Some(String::new()),
            Some(block) if line == "```" => {
                out.push(Block { marker: std::mem::take(&mut marker), text: std::mem::take(block) });
                current = None;
            }
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
            None => {}
        }
    }
    out
}

fn option<'a>(marker: &'a str, key: &str) -> Option<&'a str> {
    marker.split_whitespace().find_map(|w| w.strip_prefix(&format!("{key}=")))
}

const HEADER: &str =
    "title: Exemple\noperator: demo\nsummary: Exemple de la documentation.\nlevel: debutant\nduration_minutes: 5\nvalid_as_of: 2026-04\n";

fn indent(text: &str, by: usize) -> String {
    text.lines().map(|l| if l.is_empty() { String::new() } else { format!("{}{l}", " ".repeat(by)) }).collect::<Vec<_>>().join("\n") + "\n"
}

/// A scenario holding a fragment of the format reference.
fn wrap(kind: &str, fragment: &str) -> String {
    match kind {
        "persona" => format!("{HEADER}{fragment}steps:\n  - {{ id: fin, kind: receipt, title: Fin }}\n"),
        "send" => format!(
            "{HEADER}steps:\n  - id: demande\n    kind: form\n    title: Demande\n    fields:\n      - {{ name: courriel, label: Courriel, type: email }}\n{}    next: attente\n  - {{ id: attente, kind: info, title: Attente, wait_for_link: true }}\n  - {{ id: espace-active, kind: receipt, title: Activé }}\n  - {{ id: lien-expire, kind: incident, title: Expiré }}\n",
            indent(fragment, 4)
        ),
        "includes" => format!(
            "{HEADER}{fragment}steps:\n  - {{ id: debut, kind: info, title: Début, next: fc-choix }}\n  - {{ id: accueil, kind: receipt, title: Accueil }}\n"
        ),
        "tests" => format!(
            "{HEADER}steps:\n  - id: connexion\n    kind: login\n    title: Connexion\n    fields:\n      - {{ name: numero_fiscal, label: Numéro fiscal, type: numero_fiscal, expect: persona.numero_fiscal }}\n      - {{ name: mot_de_passe, label: Mot de passe, type: password, expect: persona.mot_de_passe }}\n    send:\n      - {{ channel: email, from: Démo, subject: Lien, body: \"{{{{ link }}}}\", link: {{ label: Activer, goto: accuse }} }}\n    next: attente\n  - {{ id: attente, kind: info, title: Attente, wait_for_link: true }}\n  - {{ id: accuse, kind: receipt, title: Fin }}\n{fragment}"
        ),
        other => panic!("no wrapper for `{other}`"),
    }
}

fn assert_clean(lib: &Library, what: &str) {
    assert!(lib.diagnostics.is_empty(), "{what}:\n{}", lib.render_diagnostics());
    assert!(!lib.scenarios.is_empty(), "{what}: nothing loaded");
    assert_eq!(lib.walkthroughs_run, lib.walkthroughs_passed, "{what}");
}

/// Checks every example of one document; returns how many.
fn check_document(path: &str) -> usize {
    let text = std::fs::read_to_string(path).unwrap();
    let blocks = blocks(&text);
    let mut theme_files: Vec<(String, String)> = Vec::new();
    let mut group: Option<(String, String)> = None;
    let mut checked = 0;
    for b in blocks.iter().filter(|b| b.marker.starts_with("theme")) {
        let file = option(&b.marker, "path").expect("theme blocks name their path");
        theme_files.push((file.to_owned(), b.text.clone()));
        checked += 1;
    }
    let doc_themes = || {
        let entries: Vec<(&str, &str)> = theme_files.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
        library::embedded_themes().overlaid(FileSet::from_memory("docs", &entries))
    };
    for (i, b) in blocks.iter().enumerate() {
        let what = format!("{path}, example {} ({})", i + 1, b.marker);
        let kind = b.marker.split_whitespace().next().unwrap_or_default();
        let themes = if option(&b.marker, "themes") == Some("doc") {
            doc_themes()
        } else if path.ends_with("guide.md") {
            library::themes_over(std::path::Path::new("examples/custom/themes")).unwrap()
        } else {
            library::embedded_themes()
        };
        let files: Vec<(String, String)> = match kind {
            "scenario" => {
                if let Some(file) = option(&b.marker, "file") {
                    assert_eq!(b.text, std::fs::read_to_string(file).unwrap(), "{what} must equal {file}");
                }
                vec![("demo/exemple.yaml".into(), b.text.clone())]
            }
            "persona" | "send" | "tests" => vec![("demo/exemple.yaml".into(), wrap(kind, &b.text))],
            "group" => {
                group = Some((option(&b.marker, "path").unwrap().to_owned(), b.text.clone()));
                checked += 1;
                continue;
            }
            "includes" => {
                let mut files = vec![("demo/exemple.yaml".into(), wrap(kind, &b.text))];
                files.push(group.clone().expect("the group example comes first"));
                files
            }
            "theme" => continue,
            "" => continue, // shell commands and folder trees are not examples of the format
            other => panic!("{what}: unknown marker `{other}`"),
        };
        let entries: Vec<(&str, &str)> = files.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
        let lib = Library::load(&FileSet::from_memory("docs", &entries), &themes);
        assert_clean(&lib, &what);
        checked += 1;
    }
    checked
}

#[test]
fn every_example_of_the_format_reference_works() {
    assert_eq!(check_document("docs/format.md"), 12);
}

#[test]
fn every_example_of_the_tutorial_works() {
    assert_eq!(check_document("docs/guide.md"), 7);
}

#[test]
fn every_example_of_the_theme_guide_works() {
    assert_eq!(check_document("docs/themes.md"), 5);
}

/// The theme of the guide renders, header and document included.
#[tokio::test]
async fn the_theme_guide_s_theme_is_served() {
    let text = std::fs::read_to_string("docs/themes.md").unwrap();
    let blocks = blocks(&text);
    let theme_files: Vec<(String, String)> = blocks
        .iter()
        .filter(|b| b.marker.starts_with("theme"))
        .map(|b| (option(&b.marker, "path").unwrap().to_owned(), b.text.clone()))
        .collect();
    let scenario = &blocks.iter().find(|b| b.marker.starts_with("scenario")).unwrap().text;
    let entries: Vec<(&str, &str)> = theme_files.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
    let themes = library::embedded_themes().overlaid(FileSet::from_memory("docs", &entries));
    let lib = Library::load(&FileSet::from_memory("docs", &[("ville/attestation.yaml", scenario)]), &themes);
    let mut c = Client::new(lib);
    let page = c.post_follow("/scenarios/ville/attestation/commencer", &[]).await;
    assert!(page.body.contains("Vos démarches, de chez vous"));
    assert!(page.body.contains("/static/ma-ville/ma-ville.css"));
    let css = c.get("/static/ma-ville/ma-ville.css").await;
    assert!(css.body.contains("--header: #0b4f3c"));
    c.post_follow("/scenarios/ville/attestation/etape/demande", &[("motif", "Banque")]).await;
    let doc = c.get("/scenarios/ville/attestation/document").await;
    assert!(doc.body.contains("Attestation de domicile") && doc.body.contains("aria-label=\"Code QR\""));
}

/// The custom example folder checks clean from the command line.
#[test]
fn the_custom_example_checks_clean() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_miroir"))
        .args(["check", "examples/custom/scenarios", "--themes", "examples/custom/themes"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("1 scenario valid, 3 of 3 walkthroughs passed"), "{stdout}");
}
