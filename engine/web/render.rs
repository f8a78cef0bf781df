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
pub(crate) const ENGINE_CSS: &str = include_str!("assets/miroir.css");
pub(crate) const FAVICON: &str = include_str!("assets/favicon.svg");

/// The functions of page templates, besides the expressions' own: not
/// given to theme documents (which the checker reads as expressions).
pub(crate) const PAGE_FUNCTIONS: &[&str] = &[RENDER_FIELD, RENDER_FIELDS, KEPT];
const RENDER_FIELD: &str = "render_field";
const RENDER_FIELDS: &str = "render_fields";
const KEPT: &str = "render_kept";

pub(crate) struct Renderer {
    envs: BTreeMap<String, Environment<'static>>,
    root: String,
    marks: Marks,
    /// The globals, also put in each page's context: a name the context
    /// lacks is looked for in every frame (block, loop, include) before the
    /// globals, and `root` is read a dozen times a page.
    globals: [(&'static str, Value); 2],
}

impl Renderer {
    /// `root`: the path the site is mounted under, or nothing.
    pub(crate) fn new(themes: Arc<ThemeSet>, root: &str) -> Renderer {
        let mut envs = BTreeMap::new();
        let globals = [("root", Value::from(root)), ("routes", super::routes::for_templates(root))];
        let fragments = Arc::new(super::fragments::Fragments::new());
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
            let (kept, theme) = (fragments.clone(), name.clone());
            // `{{ render_field(f, tiles) }}`: a field's markup, kept by content.
            env.add_function(RENDER_FIELD, move |state: &minijinja::State, f: Value, tiles: Option<bool>| {
                kept.field(state, &theme, f, tiles.unwrap_or(false))
            });
            // `{{ render_fields(view.fields, tiles) }}`: all of them, one
            // call (a loop's turn and a call cost more than a kept field).
            let (kept, theme) = (fragments.clone(), name.clone());
            env.add_function(RENDER_FIELDS, move |state: &minijinja::State, fields: Value, tiles: Option<bool>| {
                kept.fields(state, &theme, &fields, tiles.unwrap_or(false))
            });
            // `{{ render_kept("toolbar.html") }}`: what `{% include %}` writes,
            // kept by the values of the names the template reads.
            let (kept, theme) = (fragments.clone(), name.clone());
            env.add_function(KEPT, move |state: &minijinja::State, template: &str| kept.template(state, &theme, template));
            for (name, value) in &globals {
                env.add_global(*name, value.clone());
            }
            envs.insert(name, env);
        }
        Renderer { envs, root: root.to_owned(), marks: Marks::new(root), globals }
    }

    /// Renders `template` of `theme`, with the banner and title prefix.
    pub(crate) fn render(&self, theme: &str, template: &str, ctx: Value) -> Result<String, String> {
        let env = self.envs.get(theme).or_else(|| self.envs.get(crate::theme::BASE)).ok_or_else(|| format!("no theme `{theme}`"))?;
        let t = env.get_template(template).map_err(|e| describe(&e))?;
        let html = t.render(ctx).map_err(|e| describe(&e))?;
        Ok(self.marks.put_into(&html))
    }

    /// A page's context, starting with the globals.
    pub(crate) fn context(&self) -> Ctx {
        self.globals.iter().fold(Ctx::default(), |ctx, (name, value)| ctx.with(name, value.clone()))
    }

    /// The catalogue's address as links write it after `{{ root }}`: `/`,
    /// or nothing under a base path (`/entrainement`, not `/entrainement/`).
    pub(crate) fn home(&self) -> &'static str {
        if self.root.is_empty() { "/" } else { "" }
    }

    /// The names of the templates' globals (the same in every theme).
    #[cfg(test)]
    pub(super) fn global_names(&self) -> Vec<String> {
        self.envs.values().next().map(|env| env.globals().map(|(name, _)| name.to_owned()).collect()).unwrap_or_default()
    }

    pub(crate) fn has_template(&self, theme: &str, template: &str) -> bool {
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

/// A page's template context, built name by name. Looked up by binary
/// search: `context!` with `..` spreads scans each part in turn, and a page
/// looks up hundreds of names. The last value given for a name wins.
#[derive(Debug, Default)]
pub(crate) struct Ctx(Vec<(&'static str, Value)>);

impl Ctx {
    pub(crate) fn with(mut self, name: &'static str, value: impl Into<Value>) -> Ctx {
        // A context name hides the global of that name from every template
        // of the page, without an error: `{{ render_kept(..) }}` would call
        // the value. Names are constants, so any test rendering the page
        // catches it.
        debug_assert!(
            !crate::expr::names::FUNCTIONS.contains(&name) && !PAGE_FUNCTIONS.contains(&name),
            "the context name `{name}` hides the template function of that name"
        );
        self.0.push((name, value.into()));
        self
    }
}

impl From<Ctx> for Value {
    fn from(Ctx(mut names): Ctx) -> Value {
        names.reverse();
        names.sort_by_key(|(name, _)| order(name));
        names.dedup_by_key(|(name, _)| *name);
        Value::from_object(Sorted(names))
    }
}

/// Names are ordered by length first: most comparisons of a lookup stop
/// there, without comparing bytes (lookups were a tenth of a render).
fn order(name: &str) -> (usize, &str) {
    (name.len(), name)
}

#[derive(Debug)]
struct Sorted(Vec<(&'static str, Value)>);

impl minijinja::value::Object for Sorted {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.get_value_by_str(key.as_str()?)
    }

    fn get_value_by_str(self: &Arc<Self>, key: &str) -> Option<Value> {
        self.0.binary_search_by_key(&order(key), |(name, _)| order(name)).ok().map(|i| self.0[i].1.clone())
    }

    fn enumerate(self: &Arc<Self>) -> minijinja::value::Enumerator {
        minijinja::value::Enumerator::Values(self.0.iter().map(|(name, _)| Value::from(*name)).collect())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.0.len())
    }
}

/// Puts the banner, the title prefix, the engine style sheet and noindex
/// into a rendered page, whatever the theme did.
pub(crate) fn inject(html: &str, root: &str) -> String {
    Marks::new(root).put_into(html)
}

/// What the engine adds to every page, made once per site root.
struct Marks {
    head_extra: String,
    banner: String,
}

impl Marks {
    fn new(root: &str) -> Marks {
        let asset = |file: &str| super::routes::under(root, &super::routes::engine_asset(file));
        Marks {
            head_extra: format!(
                "<meta name=\"robots\" content=\"noindex, nofollow\"><link rel=\"icon\" href=\"{}\" type=\"image/svg+xml\"><link rel=\"stylesheet\" href=\"{}\">",
                asset("favicon.svg"),
                asset("miroir.css"),
            ),
            banner: format!(
                "<section class=\"miroir-banner\" aria-label=\"Avertissement\"><p class=\"miroir-banner-text\">{BANNER}</p></section>"
            ),
        }
    }

    /// One pass over the page: the places are found first (without a
    /// lowercased copy of it), then the page is copied once around them.
    fn put_into(&self, html: &str) -> String {
        let title: String;
        // (where, what), in any order; inserted in the order of `where`.
        let mut inserts: Vec<(usize, &str)> = Vec::with_capacity(3);
        match find_tag(html, "<title>", 0) {
            Some(i) => {
                let at = i + "<title>".len();
                if !html[at..].starts_with(TITLE_PREFIX) {
                    inserts.push((at, TITLE_PREFIX));
                }
            }
            None => {
                title = format!("<title>{}</title>", TITLE_PREFIX.trim_end());
                inserts.push((head_end(html).unwrap_or(0), &title));
            }
        }
        // The engine's style sheet goes last in the head, so it wins.
        inserts.push((find_tag(html, "</head>", 0).unwrap_or(0), &self.head_extra));
        inserts.push((body_start(html).unwrap_or(0), &self.banner));
        inserts.sort_by_key(|(at, _)| *at);
        let mut out = String::with_capacity(html.len() + inserts.iter().map(|(_, s)| s.len()).sum::<usize>());
        let mut from = 0;
        for (at, text) in &inserts {
            out.push_str(&html[from..*at]);
            out.push_str(text);
            from = *at;
        }
        out.push_str(&html[from..]);
        out
    }
}

/// Where `tag` (lowercase ASCII, starting with `<`) first occurs in `html`
/// from `from` on, in any case.
fn find_tag(html: &str, tag: &str, from: usize) -> Option<usize> {
    let (bytes, tag) = (html.as_bytes(), tag.as_bytes());
    let mut at = from;
    while let Some(i) = memchr::memchr(b'<', &bytes[at..]) {
        let start = at + i;
        if bytes.len() - start >= tag.len() && bytes[start..start + tag.len()].eq_ignore_ascii_case(tag) {
            return Some(start);
        }
        at = start + 1;
    }
    None
}

/// Just after the `<head ...>` opening tag.
fn head_end(html: &str) -> Option<usize> {
    let start = find_tag(html, "<head", 0)?;
    html[start..].find('>').map(|e| start + e + 1)
}

/// Just after the `<body ...>` opening tag.
fn body_start(html: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(start) = find_tag(html, "<body", from) {
        let after = html.as_bytes().get(start + 5);
        if matches!(after, Some(b'>' | b' ' | b'\n' | b'\t' | b'\r')) {
            return html[start..].find('>').map(|e| start + e + 1);
        }
        from = start + 5;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_context_finds_every_name_and_the_last_value_wins() {
        let ctx: Value = Ctx::default().with("b", 1).with("a", "x").with("b", 2).into();
        assert_eq!(ctx.get_attr("a").unwrap().as_str(), Some("x"));
        assert_eq!(ctx.get_attr("b").unwrap().as_i64(), Some(2));
        assert!(ctx.get_attr("c").unwrap().is_undefined());
        assert_eq!(ctx.len(), Some(2));
        let merged = minijinja::context! { c => 3, ..Ctx::default().with("a", 1) };
        assert_eq!(merged.get_attr("a").unwrap().as_i64(), Some(1));
    }

    #[test]
    #[should_panic(expected = "the context name `render_kept` hides the template function of that name")]
    fn a_context_name_may_not_hide_a_page_function() {
        let _ = Ctx::default().with("render_kept", 1);
    }

    #[test]
    #[should_panic(expected = "the context name `range` hides the template function of that name")]
    fn a_context_name_may_not_hide_a_builtin_function() {
        let _ = Ctx::default().with("range", 1);
    }

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
        // Tags in any case are found without lowercasing the page.
        let upper = inject("<HTML><HEAD><TITLE>Accueil</TITLE></HEAD><BODY><p>é</p></BODY></HTML>", "");
        assert!(upper.contains("<TITLE>[Simulation] Accueil</TITLE>"));
        assert!(upper.contains("/_miroir/miroir.css\"></HEAD>"));
        assert!(upper.contains("<BODY><section class=\"miroir-banner\""));
        let no_title = inject("<html><Head lang=\"fr\"><meta charset=\"utf-8\"></head><body></body></html>", "");
        assert!(no_title.starts_with("<html><Head lang=\"fr\"><title>[Simulation]</title><meta"));
    }
}
