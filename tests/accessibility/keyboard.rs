//! A keyboard-only walk of `impots/declaration-revenus`, from the
//! catalogue to the printable receipt: only Tab, Shift+Tab, Enter, Space
//! and typing into the focused element. At every Tab stop the focus must
//! be visible (an outline of 2 px or more, or a box shadow, that the
//! element does not have unfocused) and on screen; the skip link must lead
//! into the main content; after a refused submit the focus must be on the
//! error summary, whose links lead to the fields.

use crate::harness::{Page, Server};
use fantoccini::Client;
use fantoccini::key::Key;
use serde_json::{Value, json};

pub const SCENARIO: &str = "impots/declaration-revenus";

/// Records how each focusable element looks unfocused.
const PREPARE: &str = r#"
const sig = s => [s.outlineStyle, s.outlineWidth, s.outlineColor, s.boxShadow, s.backgroundColor, s.borderColor].join('|');
window.__miroirUnfocused = new WeakMap();
window.__miroirSeen = new WeakSet();
for (const el of document.querySelectorAll('a[href], button, input, select, textarea, [tabindex]')) {
  if (el !== document.activeElement) window.__miroirUnfocused.set(el, sig(getComputedStyle(el)));
}
"#;

/// Describes the focused element and how it shows its focus.
const FOCUSED: &str = r#"
const el = document.activeElement;
if (!el || el === document.body || el === document.documentElement) return { none: true };
const sig = s => [s.outlineStyle, s.outlineWidth, s.outlineColor, s.boxShadow, s.backgroundColor, s.borderColor].join('|');
const s = getComputedStyle(el);
const before = window.__miroirUnfocused ? window.__miroirUnfocused.get(el) : undefined;
const again = window.__miroirSeen ? window.__miroirSeen.has(el) : false;
if (window.__miroirSeen) window.__miroirSeen.add(el);
const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
const shadow = s.boxShadow !== 'none';
const r = el.getBoundingClientRect();
const text = (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().replace(/\s+/g, ' ').slice(0, 50);
return {
  none: false,
  what: el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.name ? '[name=' + el.name + ']' : '') + (text ? ' «' + text + '»' : ''),
  shown: (outline || shadow) && (before === undefined || before !== sig(s)),
  style: sig(s) + (el.matches(':focus-visible') ? '' : ' (not :focus-visible)'),
  again,
  before: before === undefined ? null : before,
  on_screen: r.width > 0 && r.height > 0 && r.bottom > 0 && r.top < window.innerHeight && r.right > 0 && r.left < window.innerWidth,
};
"#;

/// The keyboard walk, keeping what goes wrong.
pub struct Walk {
    c: Client,
    base: String,
    state: miroir::testing::web::Shared,
    pub tab_stops: usize,
    pub problems: Vec<String>,
}

impl Walk {
    pub fn new(c: Client, server: &Server) -> Walk {
        Walk { c, base: server.base.clone(), state: server.state.clone(), tab_stops: 0, problems: Vec::new() }
    }

    async fn prepare(&self) {
        self.c.js(PREPARE, vec![]).await;
    }

    async fn path(&self) -> String {
        self.c.current_url().await.unwrap().path().to_owned()
    }

    /// Checks the focused element shows its focus; returns its description.
    async fn check_focus(&mut self) -> Value {
        let f = self.c.js(FOCUSED, vec![]).await;
        if f["none"] == json!(true) {
            return f;
        }
        self.tab_stops += 1;
        let path = self.path().await;
        if f["shown"] != json!(true) {
            self.problems.push(format!(
                "keyboard: {path}: focus not visible on {} (focused: {}; unfocused: {})",
                f["what"], f["style"], f["before"]
            ));
        }
        if f["on_screen"] != json!(true) {
            self.problems.push(format!("keyboard: {path}: focused {} is off screen", f["what"]));
        }
        f
    }

    async fn key(&self, key: Key, shift: bool) {
        let k: char = key.into();
        self.c.press(&k.to_string(), shift).await;
    }

    /// Presses Tab (or Shift+Tab) and checks the focus.
    async fn tab(&mut self, shift: bool) -> Value {
        self.key(Key::Tab, shift).await;
        self.check_focus().await
    }

    async fn focused_is(&self, css: &str) -> bool {
        self.c.js("return document.activeElement !== null && document.activeElement.matches(arguments[0]);", vec![json!(css)]).await
            == json!(true)
    }

    /// Tabs (forward, or backward with Shift) until the focus is on an
    /// element matching `css`; fails if the focus comes round again first
    /// (Tab past the page's end leaves the page for the browser's own UI).
    async fn tab_to_(&mut self, css: &str, backward: bool) {
        if self.focused_is(css).await {
            return;
        }
        self.c.js("window.__miroirSeen = new WeakSet();", vec![]).await;
        for _ in 0..150 {
            let f = self.tab(backward).await;
            if self.focused_is(css).await {
                return;
            }
            if f["again"] == json!(true) || f["none"] == json!(true) {
                break;
            }
        }
        let way = if backward { "Shift+Tab" } else { "Tab" };
        panic!("keyboard: {}: {way} went round the page without reaching `{css}`", self.path().await);
    }

    async fn tab_to(&mut self, css: &str) {
        self.tab_to_(css, false).await;
    }

    async fn back_to(&mut self, css: &str) {
        self.tab_to_(css, true).await;
    }

    /// Presses `key` on the focused element, which leads to another page.
    async fn activate(&self, key: Key, what: &str) {
        let c = self.c.clone();
        self.c.leave(what, async move { c.press(&char::from(key).to_string(), false).await }).await;
        self.prepare().await;
    }

    /// Tabs to `css` and presses `key` on it, which leads to another page.
    async fn press_on(&mut self, css: &str, key: Key, what: &str) {
        self.tab_to(css).await;
        self.activate(key, what).await;
    }

    /// Tabs to the form's button and presses `key` on it.
    async fn send_form(&mut self, key: Key, what: &str) {
        self.press_on("#formulaire [type='submit']", key, what).await;
    }

    async fn type_text(&self, text: &str) {
        self.c.press(text, false).await;
    }

    /// First Tab of a page: the skip link, shown; Enter: into the main
    /// content; the next Tab stays inside it.
    async fn skip_link(&mut self) {
        let path = self.path().await;
        let first = self.tab(false).await;
        if !self.focused_is("a[href='#contenu']").await {
            self.problems.push(format!("keyboard: {path}: the first Tab goes to {}, not the skip link", first["what"]));
            return;
        }
        self.key(Key::Enter, false).await;
        if !self.focused_is("#contenu").await {
            self.problems.push(format!("keyboard: {path}: the skip link does not move the focus to the content"));
        }
        self.tab(false).await;
        if !self.focused_is("#contenu *").await {
            self.problems.push(format!("keyboard: {path}: after the skip link, Tab leaves the content"));
        }
    }

    /// The value of `label` on the persona card, as the page shows it.
    async fn card_value(&self, label: &str) -> String {
        let v = self
            .c
            .js(
                "for (const row of document.querySelectorAll('dt')) { if (row.textContent.trim() === arguments[0]) \
                 return row.nextElementSibling.textContent.trim(); } return null;",
                vec![json!(label)],
            )
            .await;
        v.as_str().unwrap_or_else(|| panic!("keyboard: no «{label}» on the persona card")).to_owned()
    }

    /// The whole walk.
    pub async fn run(&mut self) {
        let scenario = format!("/scenarios/{SCENARIO}");
        self.c.open(&format!("{}/", self.base)).await;
        self.prepare().await;
        self.skip_link().await;
        self.press_on(&format!("a[href='{scenario}']"), Key::Enter, "the scenario's link").await;

        self.press_on(&format!("form[action='{scenario}/commencer'] button"), Key::Space, "« Commencer l'entraînement »").await;
        assert!(self.path().await.ends_with("/etape/connexion"), "keyboard: not on the login step");
        // Play the happy path's persona (single, no children): its path is
        // the one this walk takes.
        let sid = crate::crawl::browser_session(&self.c).await;
        let loaded = self.state.loaded();
        let s = loaded.library.get(SCENARIO).expect("the bundled scenario");
        let mut session = std::sync::Arc::unwrap_or_clone(self.state.store.load(sid).await.unwrap().expect("the browser's session"));
        session.put(miroir::testing::walkthrough::start(s, 0, miroir::testing::web::clock::now()));
        self.state.store.save(sid, session.into()).await.unwrap();
        self.skip_link().await;

        // The credentials, read on the persona card: back up to the toolbar.
        self.back_to("a[href$='/fiche']").await;
        self.activate(Key::Enter, "« Fiche personnage »").await;
        let numero_fiscal = self.card_value("Numéro fiscal").await.replace(' ', "");
        let password = self.card_value("Mot de passe").await;
        self.press_on("main a[href*='/etape/']", Key::Enter, "« Revenir à la démarche »").await;

        // A refused submit: the password left empty.
        self.tab_to("input[name='numero_fiscal']").await;
        self.type_text(&numero_fiscal).await;
        self.send_form(Key::Enter, "the login button").await;
        let path = self.path().await;
        if self.focused_is(".error-summary").await {
            self.check_focus().await;
        } else {
            self.problems.push(format!("keyboard: {path}: after a refused submit the focus is not on the error summary"));
        }
        // The summary's link leads to the field.
        self.tab(false).await;
        assert!(self.focused_is(".error-summary a").await, "keyboard: {path}: Tab from the error summary does not reach its links");
        self.key(Key::Enter, false).await;
        if !self.focused_is("input[name='mot_de_passe']").await {
            self.problems.push(format!("keyboard: {path}: the error summary's link does not move the focus to the field"));
            self.tab_to("input[name='mot_de_passe']").await;
        }
        self.check_focus().await;
        self.type_text(&password).await;
        // Shift+Tab goes back to the numéro fiscal, kept.
        self.tab(true).await;
        assert!(self.focused_is("input[name='numero_fiscal']").await, "keyboard: {path}: Shift+Tab does not go back a field");
        let kept = self.c.js("return document.activeElement.value;", vec![]).await;
        if kept != json!(numero_fiscal) {
            self.type_text(&numero_fiscal).await;
        }
        self.tab(false).await;
        assert!(self.focused_is("input[name='mot_de_passe']").await);
        // Enter in a field sends the form.
        self.activate(Key::Enter, "Enter in the password field").await;
        assert!(self.path().await.ends_with("/etape/code-securite"), "keyboard: the login did not pass");

        // The code, read in the inbox.
        self.press_on("a[href$='/messagerie']", Key::Enter, "« Messagerie »").await;
        self.press_on("a[href$='/messagerie/0']", Key::Enter, "the code's message").await;
        let code = self.c.js("return document.querySelector('.code').textContent.trim();", vec![]).await;
        let code = code.as_str().expect("a code in the message").to_owned();
        self.press_on("main a[href*='/etape/']", Key::Enter, "« Revenir à la démarche »").await;
        self.tab_to("input[name='code']").await;
        self.type_text(&code).await;
        self.activate(Key::Enter, "Enter in the code field").await;

        // Welcome page, then the form: a radio button chosen with Space.
        self.send_form(Key::Enter, "« Déclarer mes revenus »").await;
        self.tab_to("input[name='adresse_identique'][value='oui']").await;
        self.key(Key::Space, false).await;
        assert!(
            self.c.js("return document.activeElement.checked;", vec![]).await == json!(true),
            "keyboard: Space did not choose the radio button"
        );
        self.send_form(Key::Enter, "« Continuer » on the personal details").await;
        // The rubriques to declare, pre-ticked as the persona's income.
        self.send_form(Key::Enter, "« Continuer » on the rubriques").await;
        // Pre-filled salaries; then the review, past its « Modifier » buttons.
        self.send_form(Key::Enter, "« Continuer » on the salaries").await;
        assert!(self.path().await.ends_with("/etape/recapitulatif"), "keyboard: not on the review");
        self.send_form(Key::Space, "« Continuer vers la signature »").await;
        // The signature: a checkbox ticked with Space.
        self.tab_to("input[name='certifie']").await;
        self.key(Key::Space, false).await;
        self.send_form(Key::Enter, "« Signer ma déclaration »").await;
        assert!(self.path().await.ends_with("/etape/accuse"), "keyboard: the declaration was not sent");
        self.press_on("a[href$='/document']", Key::Enter, "the receipt's document").await;
        self.tab_to("a[href*='/etape/']").await;
    }
}
