//! Themes: a folder of minijinja templates and static assets, under
//! `themes/<name>/`, which may extend another theme. A template or asset
//! missing from a theme is looked up in the theme it extends, and so on
//! down to `base`.
//!
//! Layout of a theme folder:
//! - `theme.yaml`: `label` (the fictional service name) and `extends`;
//! - `templates/*.html`: page templates, `templates/documents/*.html`:
//!   printable documents;
//! - `static/*`: CSS, images, fonts, served under `/static/<theme>/`.

use crate::diagnostic::{Diagnostic, Pos};
use crate::files::FileSet;
use crate::yaml::{self, Located};
use schemars::JsonSchema;
use serde::Deserialize;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// The theme every other one ends up extending.
pub(crate) const BASE: &str = "base";

/// `theme.yaml`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Theme")]
pub(crate) struct ThemeFile {
    /// The fictional service name shown in the header, e.g. "Impôts — simulation".
    pub label: Located<String>,
    /// The theme this one builds on (default `base`; none for `base` itself).
    #[serde(default)]
    pub extends: Option<Located<String>>,
    /// What the theme evokes, for authors.
    #[allow(dead_code)] // for authors; the loader does not read it
    #[serde(default)]
    pub description: Option<String>,
}

/// A static file of a theme.
#[derive(Clone, Debug)]
pub struct Asset {
    pub bytes: Cow<'static, [u8]>,
    pub content_type: &'static str,
}

#[derive(Clone, Debug)]
pub struct Theme {
    pub name: String,
    pub label: String,
    pub extends: Option<String>,
    /// Template name (`step.html`, `documents/avis.html`) to source.
    pub templates: BTreeMap<String, String>,
    /// Template name to the file it was read from, for diagnostics.
    pub files: BTreeMap<String, String>,
    /// Asset path (`style.css`) to content.
    pub assets: BTreeMap<String, Asset>,
}

/// Every loaded theme.
#[derive(Clone, Debug, Default)]
pub struct ThemeSet {
    themes: BTreeMap<String, Theme>,
}

static THEME_SCHEMA: LazyLock<serde_json::Value> = LazyLock::new(yaml::shape::schema_of::<ThemeFile>);

impl ThemeSet {
    /// Loads every theme of `files`; a broken theme is left out and reported.
    pub fn load(files: &FileSet) -> (ThemeSet, Vec<Diagnostic>) {
        let mut diagnostics = Vec::new();
        let mut themes = BTreeMap::new();
        let mut by_theme: BTreeMap<&str, Vec<&crate::files::SourceFile>> = BTreeMap::new();
        for f in &files.files {
            if let Some((theme, _)) = f.path.split_once('/') {
                by_theme.entry(theme).or_default().push(f);
            }
        }
        for (name, theme_files) in by_theme {
            let Some(meta_file) = theme_files.iter().find(|f| f.path == format!("{name}/theme.yaml")) else {
                let dir = parent_of(&theme_files[0].display, name);
                diagnostics.push(
                    Diagnostic::error(format!("{dir}/theme.yaml"), Pos::UNKNOWN, format!("theme `{name}` has no theme.yaml"))
                        .with_hint("add a theme.yaml with at least `label:`"),
                );
                continue;
            };
            let meta: ThemeFile =
                match meta_file.text().map_err(|d| vec![d]).and_then(|text| yaml::read_checked(&meta_file.display, text, &THEME_SCHEMA)) {
                    Ok(meta) => meta,
                    Err(d) => {
                        diagnostics.extend(d);
                        continue;
                    }
                };
            let mut theme = Theme {
                name: name.to_owned(),
                label: meta.label.value.clone(),
                extends: match meta.extends {
                    Some(e) => Some(e.value),
                    None if name != BASE => Some(BASE.to_owned()),
                    None => None,
                },
                templates: BTreeMap::new(),
                files: BTreeMap::new(),
                assets: BTreeMap::new(),
            };
            let mut broken = false;
            for f in theme_files {
                let rest = &f.path[name.len() + 1..];
                if let Some(template) = rest.strip_prefix("templates/") {
                    match f.text() {
                        Ok(text) => match check_template(&f.display, template, text) {
                            Ok(()) => {
                                theme.templates.insert(template.to_owned(), text.to_owned());
                                theme.files.insert(template.to_owned(), f.display.clone());
                            }
                            Err(d) => {
                                diagnostics.push(d);
                                broken = true;
                            }
                        },
                        Err(d) => {
                            diagnostics.push(d);
                            broken = true;
                        }
                    }
                } else if let Some(asset) = rest.strip_prefix("static/") {
                    theme.assets.insert(asset.to_owned(), Asset { bytes: f.bytes.clone(), content_type: content_type(asset) });
                }
            }
            if !broken {
                themes.insert(name.to_owned(), theme);
            }
        }
        let mut set = ThemeSet { themes };
        set.drop_broken_parents(files, &mut diagnostics);
        (set, diagnostics)
    }

    /// Removes themes whose `extends` names nothing or loops.
    fn drop_broken_parents(&mut self, files: &FileSet, diagnostics: &mut Vec<Diagnostic>) {
        loop {
            let bad = self.themes.values().find_map(|t| {
                let parent = t.extends.as_deref()?;
                if !self.themes.contains_key(parent) {
                    return Some((t.name.clone(), format!("theme `{}` extends `{parent}`, which does not exist", t.name)));
                }
                let mut seen = vec![t.name.as_str()];
                let mut at = Some(parent);
                while let Some(p) = at {
                    if seen.contains(&p) {
                        return Some((t.name.clone(), format!("theme `{}` extends itself through `{p}`", t.name)));
                    }
                    seen.push(p);
                    at = self.themes.get(p).and_then(|x| x.extends.as_deref());
                }
                None
            });
            let Some((name, message)) = bad else { break };
            let file = files.get(&format!("{name}/theme.yaml")).map_or_else(|| format!("{name}/theme.yaml"), |f| f.display.clone());
            diagnostics.push(Diagnostic::error(file, Pos::UNKNOWN, message).with_hint("name an existing theme in `extends`"));
            self.themes.remove(&name);
        }
    }

    /// Adds or replaces a theme (a last good version, on reload).
    pub fn insert(&mut self, theme: Theme) {
        self.themes.insert(theme.name.clone(), theme);
    }

    pub fn has(&self, theme: &str) -> bool {
        self.themes.contains_key(theme)
    }

    pub fn get(&self, theme: &str) -> Option<&Theme> {
        self.themes.get(theme)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.themes.keys().map(String::as_str)
    }

    /// The theme and its ancestors, nearest first.
    pub fn chain(&self, theme: &str) -> Vec<&Theme> {
        let mut out: Vec<&Theme> = Vec::new();
        let mut at = self.themes.get(theme);
        while let Some(t) = at {
            if out.iter().any(|seen| seen.name == t.name) {
                break;
            }
            out.push(t);
            at = t.extends.as_deref().and_then(|p| self.themes.get(p));
        }
        out
    }

    /// A template's source, from the theme or the nearest ancestor that has it.
    pub fn template(&self, theme: &str, name: &str) -> Option<&str> {
        self.chain(theme).into_iter().find_map(|t| t.templates.get(name).map(String::as_str))
    }

    /// The file a template was read from, as `template` finds it.
    pub fn template_file(&self, theme: &str, name: &str) -> Option<&str> {
        self.chain(theme).into_iter().find(|t| t.templates.contains_key(name)).and_then(|t| t.files.get(name).map(String::as_str))
    }

    pub fn asset(&self, theme: &str, path: &str) -> Option<&Asset> {
        self.chain(theme).into_iter().find_map(|t| t.assets.get(path))
    }
}

fn parent_of(display: &str, theme: &str) -> String {
    match display.find(&format!("{theme}/")) {
        Some(i) => display[..i + theme.len()].to_owned(),
        None => theme.to_owned(),
    }
}

/// Parses a template to report syntax errors with their line.
fn check_template(display: &str, name: &str, source: &str) -> Result<(), Diagnostic> {
    crate::expr::check_line_lengths(source).map_err(|e| Diagnostic::error(display, Pos::UNKNOWN, format!("template: {e}")))?;
    let env = minijinja::Environment::new();
    match env.template_from_named_str(name, source) {
        Ok(_) => Ok(()),
        Err(e) => {
            let line = e.line().unwrap_or(0) as u32;
            let message = match e.detail() {
                Some(detail) => format!("template {}: {detail}", e.kind()),
                None => format!("template {}", e.kind()),
            };
            Err(Diagnostic::error(display, Pos::new(line, 1), message))
        }
    }
}

pub(crate) fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("").to_ascii_lowercase().as_str() {
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        "json" => "application/json",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inheritance_and_errors() {
        let files = FileSet::from_memory(
            "themes",
            &[
                ("base/theme.yaml", "label: Base\n"),
                ("base/templates/page.html", "<p>{{ x }}</p>"),
                ("base/static/style.css", "body{}"),
                ("impots/theme.yaml", "label: Impôts — simulation\n"),
                ("impots/templates/step.html", "{% extends 'page.html' %}"),
                ("broken/theme.yaml", "label: B\n"),
                ("broken/templates/x.html", "{% if %}"),
                ("orphan/theme.yaml", "label: O\nextends: nowhere\n"),
            ],
        );
        let (set, diags) = ThemeSet::load(&files);
        assert!(set.has("impots") && !set.has("broken") && !set.has("orphan"));
        assert_eq!(set.template("impots", "page.html"), Some("<p>{{ x }}</p>"));
        assert!(set.asset("impots", "style.css").is_some());
        let lines: Vec<String> = diags.iter().map(|d| d.headline()).collect();
        assert_eq!(
            lines,
            vec![
                "themes/broken/templates/x.html:1:1: error: template syntax error: unexpected end of block",
                "themes/orphan/theme.yaml: error: theme `orphan` extends `nowhere`, which does not exist",
            ]
        );
    }
}
