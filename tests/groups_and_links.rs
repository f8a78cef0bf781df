//! Step groups included by a scenario, and activation links followed from
//! the inbox, walked through the engine.

use miroir::testing::files::FileSet;
use miroir::testing::library::{self, Library};
use miroir::testing::persona;
use miroir::testing::rehearsal::{LinkOutcome, Outcome, Rehearsal, Stage};

const GROUP: &str = r#"
title: Connexion partagée
entry: partage-connexion
steps:
  - id: partage-connexion
    kind: login
    title: Connexion avec un compte partagé
    fields:
      - { name: partage_mdp, label: Mot de passe, type: password, expect: persona.mot_de_passe }
    next: $return
"#;

const SCENARIO: &str = r#"
title: Créer un espace
operator: demo
summary: Un compte créé, activé par un lien reçu par courriel.
level: debutant
duration_minutes: 5
valid_as_of: 2026-04
includes:
  - group: demo/partage
    then: courriel
steps:
  - id: choix
    kind: choice
    title: Comment voulez-vous continuer ?
    fields:
      - { name: mode, label: Mode, type: radio, options: [partage, direct] }
    next:
      - if: answers.mode == "partage"
        goto: partage-connexion
      - goto: courriel
  - id: courriel
    kind: form
    title: Votre adresse électronique
    fields:
      - { name: adresse, label: Adresse électronique, type: email, prefill: persona.email }
    send:
      - channel: email
        from: Démo
        subject: Activez votre espace
        body: "Cliquez sur le lien dans les 8 heures : {{ link }}"
        link: { label: Activer mon espace, goto: active, expired_goto: lien-expire }
        valid_minutes: 480
    next: attente
  - id: attente
    kind: info
    title: Consultez votre messagerie
    wait_for_link: true
  - id: active
    kind: receipt
    title: Votre espace est activé
  - id: lien-expire
    kind: incident
    title: Le lien a expiré
tests:
  - name: par le groupe puis le lien
    answers:
      choix: { mode: partage }
      partage-connexion: { partage_mdp: "{{ persona.mot_de_passe }}" }
      attente: { _link: follow }
    ends_at: active
  - name: lien trop vieux
    answers:
      choix: { mode: direct }
      attente: { _wait_minutes: "600", _link: follow }
    ends_at: lien-expire
"#;

fn lib() -> Library {
    let files = FileSet::from_memory("mem", &[("demo/partage.group.yaml", GROUP), ("demo/espace.yaml", SCENARIO)]);
    Library::load(&files, &library::embedded_themes())
}

#[test]
fn groups_and_links_check_clean_and_their_walkthroughs_pass() {
    let lib = lib();
    assert!(lib.diagnostics.is_empty(), "{}", lib.render_diagnostics());
    assert_eq!(lib.groups, vec!["demo/partage"]);
    assert_eq!((lib.walkthroughs_run, lib.walkthroughs_passed), (2, 2));
    let s = lib.get("demo/espace").unwrap();
    let step = &s.steps[s.step_index("partage-connexion").unwrap()];
    assert_eq!(step.origin.group.as_deref(), Some("demo/partage"));
    assert_eq!(step.origin.file, "mem/demo/partage.group.yaml");
}

#[test]
fn a_link_moves_on_once_and_not_after_it_expires() {
    let lib = lib();
    let s = lib.get("demo/espace").unwrap();
    let p = persona::generate(&s.persona, 1);
    let stage = Stage { scenario: s, persona: &p };
    let now = 1_775_030_400;
    let mut r = Rehearsal::start(s, 1, now);
    let go = |r: &mut Rehearsal, pairs: &[(&str, &str)]| {
        let form: Vec<(String, String)> = pairs.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        r.submit(stage, &form, now).unwrap()
    };
    assert_eq!(go(&mut r, &[("mode", "direct")]), Outcome::Moved);
    assert_eq!(go(&mut r, &[("adresse", &p.text("email"))]), Outcome::Moved);
    assert_eq!(r.current(s).id, "attente");
    assert_eq!(go(&mut r, &[]), Outcome::Waiting);
    let inbox = r.inbox_view(stage, now).unwrap();
    assert_eq!(inbox[0].link_label.as_deref(), Some("Activer mon espace"));
    assert!(miroir::testing::expr::plain(&inbox[0].body_html).contains("https://demo.example.org/activation/"));
    assert!(!inbox[0].read);
    assert_eq!(r.follow_link(s, 0, now), LinkOutcome::Moved);
    assert_eq!(r.current(s).id, "active");
    assert_eq!(r.follow_link(s, 0, now), LinkOutcome::AlreadyUsed);

    r.reset(s, now);
    go(&mut r, &[("mode", "direct")]);
    go(&mut r, &[("adresse", &p.text("email"))]);
    r.wait(8 * 60 + 1);
    assert_eq!(r.follow_link(s, 0, now), LinkOutcome::Expired);
    assert_eq!(r.current(s).id, "lien-expire");
}

#[test]
fn a_group_nobody_includes_is_still_checked() {
    let broken_group = GROUP.replace("next: $return", "next: $retrun");
    let files = FileSet::from_memory("mem", &[("demo/seul.group.yaml", &broken_group)]);
    let lib = Library::load(&files, &library::embedded_themes());
    let got: Vec<String> = lib.diagnostics.iter().map(|d| d.headline()).collect();
    assert_eq!(got, vec!["mem/demo/seul.group.yaml:10:11: error: no step `$retrun`"]);
}
