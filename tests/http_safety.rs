//! Safety over HTTP: headers on every response, cross-site POSTs refused,
//! answers escaped, bodies limited, broken cookies survived, real data
//! refused, and a theme that tries to drop the banner.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{Client, unescape};
use miroir::testing::files::FileSet;
use miroir::testing::library::{self, Library};
use miroir::testing::web::render::{BANNER, TITLE_PREFIX};

const NOTE: &str = r#"
title: Laisser un message
operator: demo
theme: sournois
summary: Un champ de texte libre, et un récapitulatif.
level: debutant
duration_minutes: 2
valid_as_of: 2026-04
steps:
  - id: message
    kind: form
    title: Votre message
    fields:
      - { name: texte, label: Message, type: text }
      - { name: details, label: Précisions, type: textarea, required: false }
      - { name: nir, label: Numéro de sécurité sociale, type: nir, required: false }
      - { name: piece, label: Pièce jointe, type: file, required: false, accept: [pdf, jpg] }
    next: recap
  - id: recap
    kind: review
    title: Récapitulatif
    next: fin
  - id: fin
    kind: receipt
    title: Envoyé
tests:
  - name: nominal
    answers:
      message: { texte: bonjour }
    ends_at: fin
  - name: un numéro fictif est accepté
    answers:
      message: { texte: bonjour, nir: "{{ persona.nir }}" }
    ends_at: fin
"#;

/// The bundled library, plus a scenario on a theme that tries to hide the
/// banner and the title prefix.
fn library_with_sneaky_theme() -> Library {
    let mut themes = library::embedded_themes();
    themes.files.extend(
        FileSet::from_memory(
            "tests/themes",
            &[
                ("sournois/theme.yaml", "label: Service officiel\n"),
                (
                    "sournois/templates/layout.html",
                    "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>Service officiel</title>\
                     <link rel=\"stylesheet\" href=\"/static/sournois/hide.css\"></head>\
                     <body><main id=\"contenu\">{% block content %}{% endblock %}</main></body></html>",
                ),
                ("sournois/static/hide.css", ".miroir-banner { display: none !important; } section { visibility: hidden !important; }"),
            ],
        )
        .files,
    );
    let mut scenarios = library::embedded_scenarios();
    scenarios.files.extend(FileSet::from_memory("mem", &[("demo/note.yaml", NOTE)]).files);
    let lib = Library::load(&scenarios, &themes);
    assert!(lib.diagnostics.is_empty(), "{}", lib.render_diagnostics());
    lib
}

fn assert_security_headers(page: &common::Page, what: &str) {
    let csp = page.header("content-security-policy");
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{what}: {csp}");
    assert_eq!(page.header("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(page.header("referrer-policy"), "same-origin", "{what}");
    assert_eq!(page.header("x-robots-tag"), "noindex, nofollow", "{what}");
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let mut c = Client::embedded();
    let started = c.post("/scenarios/impots/declaration-revenus/commencer", &[]).await;
    let paths = [
        "/",
        "/scenarios/impots/declaration-revenus",
        "/scenarios/impots/declaration-revenus/etape/connexion",
        "/scenarios/impots/declaration-revenus/fiche",
        "/scenarios/impots/declaration-revenus/messagerie",
        "/static/base/base.css",
        "/_miroir/miroir.css",
        "/robots.txt",
        "/healthz",
        "/accessibilite",
        "/nulle-part",
    ];
    assert_security_headers(&started, "POST commencer");
    for path in paths {
        let page = c.get(path).await;
        assert_security_headers(&page, path);
    }
}

#[tokio::test]
async fn cross_site_posts_are_refused() {
    let mut c = Client::embedded();
    let request = Request::post("/scenarios/impots/declaration-revenus/commencer")
        .header("sec-fetch-site", "cross-site")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::empty())
        .unwrap();
    let page = c.send(request).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("Action refusée"));
    assert!(page.body.contains(BANNER));
    assert!(page.header(header::SET_COOKIE.as_str()).is_empty(), "nothing started");
    let request = Request::post("/indices")
        .header(header::HOST, "miroir.example.org")
        .header(header::ORIGIN, "https://evil.example")
        .body(Body::empty())
        .unwrap();
    assert_eq!(c.send(request).await.status, StatusCode::FORBIDDEN);
    // The same site is welcome.
    let request = Request::post("/indices")
        .header(header::HOST, "miroir.example.org")
        .header(header::ORIGIN, "http://miroir.example.org")
        .body(Body::empty())
        .unwrap();
    assert_eq!(c.send(request).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_script_typed_as_an_answer_comes_back_escaped() {
    let mut c = Client::new(library_with_sneaky_theme());
    c.post_follow("/scenarios/demo/note/commencer", &[]).await;
    let page = c.post_follow("/scenarios/demo/note/etape/message", &[("texte", "<script>alert(1)</script>")]).await;
    assert!(page.body.contains("<dd>&lt;script&gt;alert(1)&lt;&#x2f;script&gt;</dd>"), "{}", page.body);
    assert!(!page.body.contains("<script>alert(1)"));
    // Re-shown in an input after a refusal (of another field: a refused
    // identifier is not shown again at all), still escaped.
    let mut c = Client::new(library_with_sneaky_theme());
    c.post_follow("/scenarios/demo/note/commencer", &[]).await;
    let page = c.post("/scenarios/demo/note/etape/message", &[("texte", "\"><script>alert(1)</script>"), ("nir", "123")]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("<script>alert(1)"));
    assert!(page.body.contains("&quot;&gt;&lt;script&gt;"));
    let page = c.post("/scenarios/demo/note/etape/message", &[("texte", "x"), ("nir", "\"><script>alert(1)</script>")]).await;
    assert!(!page.body.contains("<script>alert(1)") && !page.body.contains("&lt;script&gt;alert(1)"));
}

#[tokio::test]
async fn a_simulated_upload_keeps_the_file_name_only() {
    let mut c = Client::new(library_with_sneaky_theme());
    let page = c.post_follow("/scenarios/demo/note/commencer", &[]).await;
    assert!(page.body.contains("type=\"file\""));
    assert!(page.body.contains("seul le nom du fichier est envoyé"));
    let page = c.post_follow("/scenarios/demo/note/etape/message", &[("texte", "x"), ("piece", "C:\\fakepath\\bulletin-2026.pdf")]).await;
    assert!(page.body.contains("<dd>Fichier joint : bulletin-2026.pdf</dd>"), "{}", page.body);
    let refused = {
        c.post_follow("/scenarios/demo/note/precedent", &[]).await;
        c.post("/scenarios/demo/note/etape/message", &[("texte", "x"), ("piece", "virus.exe")]).await
    };
    assert!(unescape(&refused.body).contains("Ce format de fichier n'est pas accepté."));
}

#[tokio::test]
async fn someone_s_real_nir_is_refused_and_not_shown_again() {
    let mut c = Client::new(library_with_sneaky_theme());
    c.post_follow("/scenarios/demo/note/commencer", &[]).await;
    let real = "2 55 08 14 168 025 38";
    let page = c.post("/scenarios/demo/note/etape/message", &[("texte", "x"), ("nir", real)]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(unescape(&page.body).contains("N'utilisez pas de vraies données : reprenez celles de la fiche personnage."));
    assert!(!page.body.contains("2 55 08 14 168 025 38") && !page.body.contains("255081416802538"));
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let mut c = Client::embedded();
    c.post_follow("/scenarios/impots/declaration-revenus/commencer", &[]).await;
    let big = "a".repeat(100 * 1024);
    let page = c.post("/scenarios/impots/declaration-revenus/etape/connexion", &[("numero_fiscal", &big)]).await;
    assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(page.body.contains("Envoi trop volumineux"));
    // A long value under the limit is refused by the field's own limit.
    let long = "1".repeat(5_000);
    let page = c.post("/scenarios/impots/declaration-revenus/etape/connexion", &[("numero_fiscal", &long)]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(unescape(&page.body).contains("Ce champ ne doit pas dépasser 200 caractères."));
}

#[tokio::test]
async fn tampered_and_expired_cookies_start_cleanly() {
    for cookie in ["miroir=pas-un-identifiant", "miroir=%00%ff", "miroir=5a8e0f6c-1b2c-4d3e-8f90-123456789abc"] {
        let mut c = Client::embedded();
        c.cookie = Some(cookie.to_owned());
        let page = c.get("/scenarios/impots/declaration-revenus/etape/connexion").await;
        assert_eq!(page.status, StatusCode::OK, "{cookie}");
        assert!(page.body.contains("Votre session a expiré"), "{cookie}");
        let new = c.cookie.clone().unwrap();
        assert_ne!(new, cookie);
        // The new session works.
        let page = c.post_follow("/scenarios/impots/declaration-revenus/commencer", &[]).await;
        assert!(page.body.contains("Connexion à votre espace Finances publiques"));
    }
    // Without any cookie, the scenario page is where one starts.
    let mut c = Client::embedded();
    let page = c.get("/scenarios/impots/declaration-revenus/etape/connexion").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/scenarios/impots/declaration-revenus");
}

#[tokio::test]
async fn the_session_cookie_is_locked_down() {
    let mut c = Client::embedded();
    let page = c.post("/scenarios/impots/declaration-revenus/commencer", &[]).await;
    let cookie = page.header("set-cookie");
    assert!(cookie.starts_with("miroir="));
    for part in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    assert!(!cookie.contains("Secure"));
    let mut c = Client::embedded();
    c.headers.push(("x-forwarded-proto".into(), "https".into()));
    let page = c.post("/scenarios/impots/declaration-revenus/commencer", &[]).await;
    assert!(page.header("set-cookie").contains("Secure"));
}

/// The catalogue is kept like a step page, by what it shows: each visitor
/// sees their own rehearsals marked, never another's.
#[tokio::test]
async fn the_kept_catalogue_marks_each_visitors_own_rehearsals() {
    let mut c = Client::new(library_with_sneaky_theme());
    let before = c.get("/").await;
    assert_eq!(before.body.matches("Entraînement en cours").count(), 0);
    c.post_follow("/scenarios/impots/declaration-revenus/commencer", &[]).await;
    assert_eq!(c.get("/").await.body.matches("Entraînement en cours").count(), 1);
    c.post_follow("/scenarios/demo/note/commencer", &[]).await;
    assert_eq!(c.get("/").await.body.matches("Entraînement en cours").count(), 2);
    let mut other = Client::with_state(c.state.clone());
    assert_eq!(other.get("/").await.body, before.body, "a new visitor on the same server");
    other.post_follow("/scenarios/demo/note/commencer", &[]).await;
    let theirs = other.get("/").await.body;
    assert_eq!(theirs.matches("Entraînement en cours").count(), 1);
    assert!(theirs.contains("Entraînement en cours</strong>"));
    assert_eq!(c.get("/").await.body.matches("Entraînement en cours").count(), 2, "the first visitor's, still");
}

#[tokio::test]
async fn one_visitor_runs_several_scenarios() {
    let mut c = Client::new(library_with_sneaky_theme());
    c.post_follow("/scenarios/impots/declaration-revenus/commencer", &[]).await;
    c.post_follow("/scenarios/demo/note/commencer", &[]).await;
    let catalogue = c.get("/").await;
    assert_eq!(catalogue.body.matches("Entraînement en cours").count(), 2);
    let page = c.get_follow("/scenarios/impots/declaration-revenus/etape").await;
    assert!(page.body.contains("Connexion à votre espace Finances publiques"));
}

#[tokio::test]
async fn no_theme_can_remove_the_banner_or_the_title_prefix() {
    let mut c = Client::new(library_with_sneaky_theme());
    let page = c.post_follow("/scenarios/demo/note/commencer", &[]).await;
    assert_eq!(page.title(), format!("{TITLE_PREFIX}Service officiel"));
    let body_at = page.body.find("<body>").unwrap();
    let banner =
        format!("<section class=\"miroir-banner\" aria-label=\"Avertissement\"><p class=\"miroir-banner-text\">{BANNER}</p></section>");
    assert_eq!(page.body.find(&banner), Some(body_at + "<body>".len()));
    // The engine's style sheet comes after the theme's, and wins.
    let theme_css = page.body.find("/static/sournois/hide.css").unwrap();
    let engine_css = page.body.find("/_miroir/miroir.css").unwrap();
    assert!(engine_css > theme_css);
    let css = c.get("/_miroir/miroir.css").await.body;
    assert!(css.contains("html body section.miroir-banner[aria-label] {\n  display: block !important;"));
    assert!(css.contains("visibility: visible !important;"));
}

#[tokio::test]
async fn static_assets_are_cached_and_safe_from_traversal() {
    let mut c = Client::embedded();
    let css = c.get("/static/base/base.css").await;
    assert_eq!(css.status, StatusCode::OK);
    assert_eq!(css.header("content-type"), "text/css; charset=utf-8");
    assert_eq!(css.header("cache-control"), "public, max-age=3600");
    for path in [
        "/static/base/../../Cargo.toml",
        "/static/base/%2e%2e/%2e%2e/Cargo.toml",
        "/static/base/..%2f..%2fCargo.toml",
        "/static/base//etc/passwd",
        "/static/nope/base.css",
        "/static/base/theme.yaml",
    ] {
        let page = c.get(path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!page.body.contains("[package]"));
    }
}

#[tokio::test]
async fn robots_and_health() {
    let mut c = Client::embedded();
    let robots = c.get("/robots.txt").await;
    assert_eq!(robots.body, "User-agent: *\nDisallow: /\n");
    let health = c.get("/healthz").await;
    let json: serde_json::Value = serde_json::from_str(&health.body).unwrap();
    assert_eq!(json["status"], "ok");
    assert!(json["scenarios"].as_u64().unwrap() >= 1);
}

#[tokio::test]
async fn unknown_pages_are_404_in_french() {
    let mut c = Client::embedded();
    let page = c.get("/scenarios/impots/inconnu").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.body.contains("Page introuvable"));
    let page = c.get("/n/importe/quoi").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.body.contains(BANNER));
}

/// Opens a workshop; returns its trainer token.
async fn open_workshop(c: &mut Client) -> String {
    let reply = c.post("/atelier/nouveau", &[("nom", "Atelier"), ("scenarios", "impots/declaration-revenus")]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    reply.location().trim_start_matches("/atelier/animation/").to_owned()
}

/// Older browsers send neither `Sec-Fetch-Site` nor `Origin` with a POST:
/// their `Referer` (sent to this site only, `Referrer-Policy: same-origin`)
/// must name this site, and without any of the three the POST is refused.
#[tokio::test]
async fn posts_without_origin_or_fetch_metadata_need_a_referer_of_this_site() {
    let mut c = Client::embedded();
    let token = open_workshop(&mut c).await;
    let action = format!("/atelier/animation/{token}/recommencer");
    let post = |referer: Option<&str>| {
        let mut request = Request::post(&action).header(header::HOST, "miroir.example.org");
        if let Some(r) = referer {
            request = request.header(header::REFERER, r);
        }
        request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded").body(Body::empty()).unwrap()
    };
    for referer in [None, Some("https://evil.example/atelier"), Some("http://miroir.example.org.evil.example/"), Some("pas une adresse")] {
        let page = c.send(post(referer)).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{referer:?}");
        assert!(page.body.contains("Action refusée"), "{referer:?}");
    }
    let page = c.send(post(Some(&format!("http://miroir.example.org/atelier/animation/{token}")))).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    // A learner's action too, and without even a Host to compare with.
    let request = Request::post("/scenarios/impots/declaration-revenus/commencer").body(Body::empty()).unwrap();
    assert_eq!(c.send(request).await.status, StatusCode::FORBIDDEN);
    // Reading stays open to all.
    let request = Request::get("/scenarios/impots/declaration-revenus").body(Body::empty()).unwrap();
    assert_eq!(c.send(request).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_hints_button_leads_back_to_pages_of_this_site_only() {
    let mut c = Client::embedded();
    for away in [
        "/\t/evil.example",
        "/\n/evil.example",
        "/\r\n/evil.example",
        "/ /evil.example",
        "//evil.example/",
        "/\\evil.example",
        "https://evil.example/",
        "/%2F/evil.example",
        "/%09/evil.example",
        "/scenarios/../..//evil.example",
        "javascript:alert(1)",
        "",
    ] {
        let reply = c.post("/indices", &[("retour", away)]).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{away:?}");
        assert_eq!(reply.location(), "/", "{away:?}");
    }
    for own in ["/", "/scenarios/impots/declaration-revenus/etape/connexion", "/scenarios/impots/declaration-revenus/messagerie/0"] {
        let reply = c.post("/indices", &[("retour", own)]).await;
        assert_eq!(reply.location(), own);
    }
}

/// NUL and control characters typed or pasted in a field are dropped: not
/// kept, not shown back; a multi-line text keeps its lines and tabs.
#[tokio::test]
async fn control_characters_in_fields_are_stripped() {
    let mut c = Client::new(library_with_sneaky_theme());
    c.post_follow("/scenarios/demo/note/commencer", &[]).await;
    let page = c
        .post_follow(
            "/scenarios/demo/note/etape/message",
            &[("texte", "bon\u{0}jour\u{1b}[31m\u{7f}\u{85}\tici"), ("details", "ligne 1\r\nligne\t2\u{0}\u{8}\r\n")],
        )
        .await;
    assert!(page.body.contains("<dd>bonjour[31m ici</dd>"), "{}", page.body);
    let session = uuid::Uuid::parse_str(c.cookie.as_deref().unwrap().trim_start_matches("miroir=")).unwrap();
    let answers = c.state.store.load(session).await.unwrap().unwrap().rehearsals["demo/note"].answers.clone();
    assert_eq!(&answers["texte"], "bonjour[31m ici");
    assert_eq!(&answers["details"], "ligne 1\nligne\t2\n");
    // Shown back after a refusal: without them either.
    c.post_follow("/scenarios/demo/note/precedent", &[]).await;
    let long = format!("\u{0}{}", "x".repeat(250));
    let refused = c.post("/scenarios/demo/note/etape/message", &[("texte", &long)]).await;
    assert!(unescape(&refused.body).contains("Ce champ ne doit pas dépasser 200 caractères."), "{}", refused.body);
    assert!(!refused.body.contains('\u{0}') && !refused.body.contains("&#0;") && refused.body.contains(&"x".repeat(250)));
}
