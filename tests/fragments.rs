//! A field's markup is kept by content (`web::fragments`): the same field
//! again costs a lookup. It must never come back stale: another value,
//! error or theme is other markup, and a theme's own `field.html` is used.

mod common;

use common::Client;
use miroir::testing::files::FileSet;
use miroir::testing::library::{self, Library};

fn scenario(theme: &str) -> String {
    format!(
        r#"
title: Un montant
operator: demo
theme: {theme}
summary: Un champ, deux thèmes.
level: debutant
duration_minutes: 1
valid_as_of: 2026-12
steps:
  - id: montant
    kind: form
    title: Votre montant
    fields:
      - {{ name: montant, label: Montant, type: money, min: 0 }}
    next: fin
  - id: fin
    kind: receipt
    title: Envoyé
tests:
  - name: nominal
    answers:
      montant: {{ montant: "12" }}
    ends_at: fin
"#
    )
}

/// Two scenarios with the same field: one on the base theme, one on a
/// theme whose `field.html` writes a mark of its own.
fn library() -> Library {
    let mut themes = library::embedded_themes();
    themes.files.extend(
        FileSet::from_memory(
            "tests/themes",
            &[
                ("marque/theme.yaml", "label: Service marqué\n"),
                ("marque/templates/field.html", "<p class=\"marque\">{{ f.label_html|safe }} [{{ f.value }}]{% if f.error_html %} ({{ f.error_html|safe }}){% endif %}</p>"),
            ],
        )
        .files,
    );
    let mut scenarios = library::embedded_scenarios();
    let (base, marked) = (scenario("base"), scenario("marque"));
    scenarios.files.extend(FileSet::from_memory("mem", &[("demo/base.yaml", base.as_str()), ("demo/marque.yaml", marked.as_str())]).files);
    let lib = Library::load(&scenarios, &themes);
    assert!(lib.diagnostics.is_empty(), "{}", lib.render_diagnostics());
    lib
}

#[tokio::test]
async fn a_kept_field_is_never_shown_stale() {
    let lib = library();
    let mut a = Client::new(lib);
    let mut b = Client::with_state(a.state.clone());
    let first = a.post_follow("/scenarios/demo/base/commencer", &[]).await;
    assert!(first.body.contains("id=\"champ-montant\" name=\"montant\" value=\"\""), "{}", first.body);
    // A refused value comes back, with its error, to its visitor only.
    let refused = a.post("/scenarios/demo/base/etape/montant", &[("montant", "douze")]).await;
    assert!(refused.body.contains("value=\"douze\"") && refused.body.contains("field-has-error"), "{}", refused.body);
    let other = b.post_follow("/scenarios/demo/base/commencer", &[]).await;
    assert!(
        other.body.contains("value=\"\"") && !other.body.contains("douze") && !other.body.contains("field-has-error"),
        "{}",
        other.body
    );
    let again = a.post("/scenarios/demo/base/etape/montant", &[("montant", "-3")]).await;
    assert!(again.body.contains("value=\"-3\"") && !again.body.contains("douze"), "{}", again.body);
    // The same field on another theme: that theme's markup, never the
    // base theme's kept one.
    let marked = a.post_follow("/scenarios/demo/marque/commencer", &[]).await;
    assert!(marked.body.contains("<p class=\"marque\">Montant []</p>"), "{}", marked.body);
    assert!(!marked.body.contains("champ-montant"), "{}", marked.body);
    let marked = a.post("/scenarios/demo/marque/etape/montant", &[("montant", "douze")]).await;
    assert!(marked.body.contains("<p class=\"marque\">Montant [douze] ("), "{}", marked.body);
}
