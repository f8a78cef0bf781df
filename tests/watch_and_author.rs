//! Hot reload (`serve --watch`) and the author pages: a changed file is
//! reloaded, a broken one keeps its last good version live with its
//! diagnostics on the author page only, and rehearsals of unchanged
//! scenarios go on.

mod common;
#[path = "common/raw.rs"]
mod raw;

use axum::http::StatusCode;
use common::Client;
use miroir::testing::files::FileSet;
use miroir::testing::library::Library;
use miroir::testing::web::{AppState, watch};
use std::path::Path;
use std::time::{Duration, Instant};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Waits until `ready` holds, or fails after ten seconds.
async fn eventually(what: &str, ready: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_keeps_the_last_good_version_and_unchanged_rehearsals() {
    let dir = tempfile::tempdir().unwrap();
    let scenarios = dir.path().join("scenarios");
    let themes = dir.path().join("themes");
    copy_dir(Path::new("themes"), &themes);
    std::fs::create_dir_all(scenarios.join("demo")).unwrap();
    let good = std::fs::read_to_string("tests/broken/demo/good.yaml").unwrap();
    std::fs::write(scenarios.join("demo/good.yaml"), &good).unwrap();
    std::fs::write(scenarios.join("demo/autre.yaml"), good.replace("Un scénario correct", "Un autre scénario")).unwrap();

    let load = || Library::load(&FileSet::from_dir(&scenarios, "scenarios").unwrap(), &FileSet::from_dir(&themes, "themes").unwrap());
    let state = AppState::in_memory(load());
    let _watching = watch::spawn(state.clone(), watch::Folders { scenarios: scenarios.clone(), themes: Some(themes.clone()) }).unwrap();
    let mut c = Client::with_state(state.clone());
    c.post_follow("/scenarios/demo/good/commencer", &[]).await;
    c.post_follow("/scenarios/demo/autre/commencer", &[]).await;
    c.post_follow("/scenarios/demo/autre/etape/question", &[("compte", "non")]).await;

    // A change is reloaded: the changed scenario's rehearsal restarts, the
    // other one goes on where it was.
    std::fs::write(scenarios.join("demo/good.yaml"), good.replace("title: Terminé", "title: C'est fini")).unwrap();
    let st = state.clone();
    eventually("the change is loaded", move || {
        st.loaded().library.get("demo/good").is_some_and(|s| s.steps[2].title.source() == "C'est fini")
    })
    .await;
    let page = c.get_follow("/scenarios/demo/good/etape").await;
    assert!(page.body.contains("Ce scénario a été mis à jour"), "{}", page.body);
    let page = c.get_follow("/scenarios/demo/autre/etape").await;
    assert!(page.body.contains("Créer un compte"), "the other rehearsal goes on: {}", page.body);

    // A broken file keeps its last good version live.
    std::fs::write(scenarios.join("demo/good.yaml"), good.replace("    kind: form", "    kind: form\n    nxet: fin")).unwrap();
    let st = state.clone();
    // The whole broken file: a reload already under way may have read it
    // half written, and the next one puts that right.
    eventually("the break is seen", move || st.loaded().library.diagnostics.iter().any(|d| d.message.contains("nxet"))).await;
    let loaded = state.loaded();
    assert_eq!(loaded.library.kept, vec!["demo/good".to_owned()]);
    assert_eq!(loaded.library.get("demo/good").unwrap().steps[2].title.source(), "C'est fini");
    let page = c.get_follow("/scenarios/demo/good/etape").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("nxet") && !page.body.contains("unknown key"), "never shown to learners");
    let author = c.get("/auteur").await;
    assert!(common::unescape(&author.body).contains("/demo/good.yaml:22:5: error: unknown key `nxet` in step"), "{}", author.body);
    assert!(author.body.contains("la dernière version valide reste servie"));
    let author = c.get("/auteur/scenarios/demo/good").await;
    assert!(author.body.contains("unknown key `nxet`"));

    // Fixed again: served as written.
    std::fs::write(scenarios.join("demo/good.yaml"), &good).unwrap();
    let st = state.clone();
    eventually("the fix is loaded", move || st.loaded().library.error_count() == 0).await;
    assert!(state.loaded().library.kept.is_empty());
}

#[tokio::test]
async fn the_author_page_draws_the_flow_and_starts_anywhere() {
    let mut c = Client::embedded();
    let page = c.get("/auteur/scenarios/impots/declaration-revenus").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"flow\""));
    assert!(page.body.contains("après 3 échecs"));
    assert!(page.body.contains("<code>persona.numero_fiscal</code>"));
    let other = c.get("/auteur/scenarios/impots/declaration-revenus?graine=77").await;
    assert!(other.body.contains("La personne du personnage n° 77"));
    assert_ne!(page.between("<code>persona.nom</code></dt><dd>", "</dd>"), other.between("<code>persona.nom</code></dt><dd>", "</dd>"));
    // Start at the income step, the earlier answers filled from a walkthrough.
    let reply = c.post("/auteur/scenarios/impots/declaration-revenus/commencer/revenus", &[]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.location(), "/scenarios/impots/declaration-revenus/etape/revenus");
    let review = c.post_follow("/scenarios/impots/declaration-revenus/etape/revenus", &[("1AJ", "25000")]).await;
    assert!(review.body.contains("Récapitulatif de votre déclaration"));
    assert!(review.body.contains("Vérifiez vos informations personnelles"), "the earlier step is answered");
    let index = c.get("/auteur").await;
    assert!(index.body.contains("Déclarer ses revenus en ligne") && index.body.contains("Valide"));
}

/// A trainer sees how current a scenario is: the month it was checked and
/// the pages it was checked against, each source of the file listed.
#[tokio::test]
async fn the_author_page_says_when_and_against_what_a_scenario_was_checked() {
    let mut c = Client::embedded();
    let library = miroir::testing::library::Library::embedded();
    for s in library.scenarios.values() {
        let page = c.get(&format!("/auteur/scenarios/{}", s.id)).await;
        let section = page.between("<h2 id=\"sources\">", "</section>").unwrap_or_else(|| panic!("{}: no sources section", s.id));
        let section = common::unescape(&section);
        assert!(section.contains(&format!("Vérifié sur le site réel en <strong>{}</strong>", s.checked_on())), "{}: {section}", s.id);
        assert!(!s.sources.is_empty(), "{}: a bundled scenario names its sources", s.id);
        for src in &s.sources {
            assert!(section.contains(src.as_str()), "{}: source not shown: {src}", s.id);
        }
    }
    let caf = library.scenarios.values().find(|s| s.valid_as_of.len() == 7).unwrap();
    let month = caf.checked_on();
    assert!(month.split(' ').count() == 2 && month.ends_with(&caf.valid_as_of[..4]), "{month}");
}

#[test]
fn watch_needs_a_scenarios_folder() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_miroir"))
        .args(["serve", "--watch", "--scenarios", "/nulle/part", "--addr", "127.0.0.1:1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("error: --watch reloads folders on disk: /nulle/part is not a folder"), "{stderr}");
}

/// A scenario of the author's own that includes the bundled FranceConnect
/// step group, without copying it.
const WITH_FRANCECONNECT: &str = r#"title: Se connecter avec FranceConnect
operator: demo
summary: Un scénario local qui inclut le groupe d'étapes FranceConnect livré avec miroir.
level: debutant
duration_minutes: 5
valid_as_of: 2026-12
includes:
  - group: franceconnect/connexion
    then: fin
steps:
  - id: accueil
    kind: choice
    title: Connexion
    fields:
      - { name: mode, label: Comment voulez-vous vous connecter ?, type: radio, options: [franceconnect] }
    next: fc-choix
  - id: fin
    kind: receipt
    title: Vous êtes connecté
tests:
  - name: par impots
    answers:
      accueil: { mode: franceconnect }
      fc-choix: { fc_fournisseur: impots }
      fc-impots: { fc_numero_fiscal: "{{ persona.numero_fiscal }}", fc_mdp_impots: "{{ persona.mot_de_passe }}" }
      fc-impots-code: { fc_code_impots: "{{ inbox.code }}" }
      fc-consentement: {}
    ends_at: fin
"#;

/// The "reloaded" lines a server has logged so far.
fn reloads(log: &Path) -> usize {
    std::fs::read_to_string(log).unwrap_or_default().matches("reloaded").count()
}

/// The tutorial's own command, `miroir serve --scenarios scenarios --watch`,
/// in a folder with no themes folder; then with one. Quiet folders are not
/// reloaded (reading them for a reload is no change); one save is one reload.
#[test]
fn the_tutorials_watch_loop_reloads_once_per_save_and_never_when_quiet() {
    for with_themes in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("scenarios/demo")).unwrap();
        std::fs::write(dir.path().join("scenarios/demo/connexion.yaml"), WITH_FRANCECONNECT).unwrap();
        let check =
            std::process::Command::new(env!("CARGO_BIN_EXE_miroir")).args(["check", "scenarios"]).current_dir(dir.path()).output().unwrap();
        assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
        if with_themes {
            copy_dir(Path::new("examples/custom/themes"), &dir.path().join("themes"));
        }
        let addr = raw::free_addr();
        let log = dir.path().join("serve.log");
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_miroir"))
            .args(["serve", "--scenarios", "scenarios", "--watch", "--addr", &addr.to_string()])
            .current_dir(dir.path())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let ready = raw::wait_ready(addr);
        let health = raw::request(addr, "GET", "/healthz", None, None).map(|r| r.body).unwrap_or_default();
        if !ready || !health.contains("\"scenarios\":1") {
            let _ = child.kill();
            panic!(
                "the server did not serve the scenario (themes folder: {with_themes}): {health}\n{}",
                std::fs::read_to_string(&log).unwrap()
            );
        }
        // A page served reads the files it needs: still no change.
        raw::request(addr, "GET", "/scenarios/demo/connexion", None, None).unwrap();
        std::thread::sleep(Duration::from_secs(3));
        let quiet = reloads(&log);
        std::fs::write(dir.path().join("scenarios/demo/connexion.yaml"), WITH_FRANCECONNECT.replace("Vous êtes connecté", "Connecté"))
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while reloads(&log) == 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_secs(2));
        let after_save = reloads(&log);
        let text = std::fs::read_to_string(&log).unwrap();
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!((quiet, after_save), (0, 1), "themes folder: {with_themes}; reloads when quiet, then after one save:\n{text}");
    }
}

#[tokio::test]
async fn the_first_step_starts_without_any_walkthrough() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("demo")).unwrap();
    std::fs::write(
        dir.path().join("demo/sans-essai.yaml"),
        "title: Sans parcours d'essai\noperator: demo\nsummary: Rien.\nlevel: debutant\nduration_minutes: 2\nvalid_as_of: 2026-11\n\
         steps:\n  - id: accueil\n    kind: info\n    title: Bienvenue\n    next: fin\n  - id: fin\n    kind: receipt\n    title: Terminé\n",
    )
    .unwrap();
    let files = FileSet::from_dir(dir.path(), "s").unwrap();
    let library = Library::load(&files, &miroir::testing::library::embedded_themes());
    assert_eq!(library.error_count(), 0, "{:?}", library.diagnostics);
    let mut c = Client::new(library);
    let author = c.get("/auteur/scenarios/demo/sans-essai").await;
    let body = common::unescape(&author.body);
    assert!(body.contains("/auteur/scenarios/demo/sans-essai/commencer/accueil\""), "{body}");
    assert!(!body.contains("/commencer/fin\""), "no walkthrough reaches the end");
    let reply = c.post("/auteur/scenarios/demo/sans-essai/commencer/accueil", &[]).await;
    assert_eq!(reply.location(), "/scenarios/demo/sans-essai/etape/accueil");
    let reply = c.post("/auteur/scenarios/demo/sans-essai/commencer/fin", &[]).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}
