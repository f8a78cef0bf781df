//! Renders theme templates, then puts in what no theme may take out: the
//! simulation banner, the `[Simulation]` title prefix, the engine's style
//! sheet (loaded last, so the banner stays visible) and a noindex meta.
//!
//! Inside a theme, `{% extends "layout.html" %}` finds the nearest
//! `layout.html` up the theme's chain; `"base:layout.html"` names the one
//! of a given theme, so a theme can extend its parent's version of a
//! template it overrides.

use crate::theme::ThemeSet;
use minijinja::value::Value;
use minijinja::{Environment, UndefinedBehavior};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The banner every page carries.
pub const BANNER: &str =
    "Site d'entraînement — SIMULATION. Aucune information n'est transmise à l'administration. N'utilisez jamais vos vraies données.";
/// Every page title starts so.
pub const TITLE_PREFIX: &str = "[Simulation] ";
/// The engine's own assets, outside any theme.
pub const ENGINE_CSS: &str = include_str!("assets/miroir.css");
pub const FAVICON: &str = include_str!("assets/favicon.svg");

pub struct Renderer {
    envs: BTreeMap<String, Environment<'static>>,
    root: String,
}

impl Renderer {
    /// `root`: the path the site is mounted under, or nothing.
    pub fn new(themes: Arc<ThemeSet>, root: &str) -> Renderer {
        let mut envs = BTreeMap::new();
        for name in themes.names().map(str::to_owned).collect::<Vec<_>>() {
            let mut env = Environment::new();
            env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
            env.set_fuel(Some(2_000_000));
            crate::expr::add_filters(&mut env);
            let set = themes.clone();
            let own = name.clone();
            env.set_loader(move |requested| {
                let found = match requested.split_once(':') {
                    Some((theme, template)) => set.template(theme, template),
                    None => set.template(&own, requested),
                };
                Ok(found.map(str::to_owned))
            });
            env.add_global("root", root.to_owned());
            envs.insert(name, env);
        }
        Renderer { envs, root: root.to_owned() }
    }

    /// Renders `template` of `theme`, with the banner and title prefix.
    pub fn render(&self, theme: &str, template: &str, ctx: Value) -> Result<String, String> {
        let env = self
            .envs
            .get(theme)
            .or_else(|| self.envs.get(crate::theme::BASE))
            .ok_or_else(|| format!("no theme `{theme}`"))?;
        let t = env.get_template(template).map_err(|e| describe(&e))?;
        let html = t.render(ctx).map_err(|e| describe(&e))?;
        Ok(inject(&html, &self.root))
    }

    /// The catalogue's address as links write it after `{{ root }}`: `/`,
    /// or nothing under a base path (`/entrainement`, not `/entrainement/`).
    pub fn home(&self) -> &'static str {
        if self.root.is_empty() { "/" } else { "" }
    }

    pub fn has_template(&self, theme: &str, template: &str) -> bool {
        self.envs.get(theme).is_some_and(|env| env.get_template(template).is_ok())
    }
}

fn describe(e: &minijinja::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

/// Puts the banner, the title prefix, the engine style sheet and noindex
/// into a rendered page, whatever the theme did.
pub fn inject(html: &str, root: &str) -> String {
    let mut out = html.to_owned();
    let head_extra = format!(
        "<meta name=\"robots\" content=\"noindex, nofollow\"><link rel=\"icon\" href=\"{root}/_miroir/favicon.svg\" type=\"image/svg+xml\"><link rel=\"stylesheet\" href=\"{root}/_miroir/miroir.css\">"
    );
    // The title: prefixed, or made.
    match find_ci(&out, "<title>") {
        Some(i) => {
            let at = i + "<title>".len();
            if !out[at..].starts_with(TITLE_PREFIX) {
                out.insert_str(at, TITLE_PREFIX);
            }
        }
        None => {
            let title = format!("<title>{}</title>", TITLE_PREFIX.trim_end());
            match head_end(&out) {
                Some(i) => out.insert_str(i, &title),
                None => out.insert_str(0, &title),
            }
        }
    }
    // The engine's style sheet goes last in the head, so it wins.
    match find_ci(&out, "</head>") {
        Some(i) => out.insert_str(i, &head_extra),
        None => out.insert_str(0, &head_extra),
    }
    let banner = format!(
        "<section class=\"miroir-banner\" aria-label=\"Avertissement\"><p class=\"miroir-banner-text\">{BANNER}</p></section>"
    );
    match body_start(&out) {
        Some(i) => out.insert_str(i, &banner),
        None => out.insert_str(0, &banner),
    }
    out
}

fn find_ci(haystack: &str, needle: &str) -> Option<usize> {
    haystack.to_ascii_lowercase().find(needle)
}

fn head_end(html: &str) -> Option<usize> {
    let lower = html.to_ascii_lowercase();
    let start = lower.find("<head")?;
    lower[start..].find('>').map(|e| start + e + 1)
}

/// Just after the `<body ...>` opening tag.
fn body_start(html: &str) -> Option<usize> {
    let lower = html.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find("<body") {
        let start = from + i;
        let after = lower[start + 5..].chars().next();
        if matches!(after, Some('>') | Some(' ') | Some('\n') | Some('\t') | Some('\r')) {
            return lower[start..].find('>').map(|e| start + e + 1);
        }
        from = start + 5;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banner_and_prefix_are_always_there() {
        let page = inject("<html><head><title>Accueil</title></head><body class=\"x\"><p>Bonjour</p></body></html>", "");
        assert!(page.contains("<title>[Simulation] Accueil</title>"));
        assert!(page.contains("<body class=\"x\"><section class=\"miroir-banner\""));
        assert!(page.contains("/_miroir/miroir.css\"></head>"));
        // A page that forgets everything still gets them.
        let bare = inject("<p>rien</p>", "/sous");
        assert!(bare.contains("href=\"/sous/_miroir/miroir.css\""));
        assert!(bare.contains("[Simulation]") && bare.contains("SIMULATION"));
        // A `<bodyguard>` element is not the body.
        let tricky = inject("<html><head></head><bodyguard></bodyguard><body><p>x</p></body></html>", "");
        assert!(tricky.contains("<body><section class=\"miroir-banner\""));
    }
}
