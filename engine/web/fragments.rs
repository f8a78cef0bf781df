//! Parts of pages kept by content. A field's markup is a pure function of
//! its view (label, value, error, options...) and of the theme's
//! `field.html`, so a field shown again as it was (the other fields of a
//! page after a submit, every field on a second visit, the same question
//! for another learner) costs a lookup instead of a render. On the income
//! step of the tax return, with sixteen fields, rendering them was most of
//! the page. `field.html` therefore sees only `f`, `tiles` and the globals
//! (not the page's other values), which docs/themes.md says.
//!
//! `{{ render_kept("toolbar.html") }}` does for any template what this
//! does for fields: the template writes what `{% include %}` would, and
//! its markup is kept by the values of the names it reads (found once, by
//! reading the template). The toolbar, the step train and the footer change from
//! learner to learner and step to step only through a handful of values.
//!
//! Fragments are bounded in bytes and forgotten after a quarter of an hour
//! unread; one store per loaded library, so a reload of the themes starts
//! an empty one.

use super::fingerprint::{Fingerprints, feed, key};
use super::view_value::Field;
use minijinja::value::Value;
use minijinja::{Environment, Error, ErrorKind, State, context};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// The template a field is written by.
const FIELD_TEMPLATE: &str = "field.html";

/// At most this many bytes of fragments are kept.
const MAX_BYTES: u64 = 16 << 20;

pub(crate) struct Fragments {
    kept: moka::sync::Cache<u128, Value>,
    keys: Fingerprints,
    /// What each template written by `render_kept()` reads, by theme,
    /// then name (found without making a key).
    reads: RwLock<HashMap<String, HashMap<String, Arc<Reads>>>>,
}

impl Fragments {
    pub(crate) fn new() -> Fragments {
        let kept = moka::sync::Cache::builder()
            .max_capacity(MAX_BYTES)
            .weigher(|_, html: &Value| u32::try_from(html.as_str().map_or(0, str::len)).unwrap_or(u32::MAX))
            .time_to_idle(Duration::from_secs(15 * 60))
            .build();
        Fragments { kept, keys: Fingerprints::new(), reads: RwLock::default() }
    }

    /// The markup of field `f` in `theme`, as its `field.html` writes it:
    /// kept, or rendered and kept. A value that is not a step's field (a
    /// theme may call this with a map of its own) is rendered every time.
    pub(crate) fn field(&self, state: &State, theme: &str, f: Value, tiles: bool) -> Result<Value, Error> {
        let key = f.downcast_object_ref::<Field>().map(|field| self.keys.of(&(theme, tiles, field.view())));
        if let Some(html) = key.and_then(|k| self.kept.get(&k)) {
            return Ok(html);
        }
        let html = Value::from_safe_string(state.env().get_template(FIELD_TEMPLATE)?.render(context! { f => f, tiles => tiles })?);
        if let Some(k) = key {
            self.kept.insert(k, html.clone());
        }
        Ok(html)
    }

    /// The markup of every field of `fields`, one after the other.
    pub(crate) fn fields(&self, state: &State, theme: &str, fields: &Value, tiles: bool) -> Result<Value, Error> {
        let mut out = String::new();
        for f in fields.try_iter()? {
            out.push_str(self.field(state, theme, f, tiles)?.as_str().unwrap_or_default());
        }
        Ok(Value::from_safe_string(out))
    }

    /// What template `name` of `theme` writes with the values `state` has
    /// for the names it reads: kept, or rendered and kept. A value that
    /// cannot be fingerprinted (a function of the page's own) makes it
    /// rendered every time.
    pub(crate) fn template(&self, state: &State, theme: &str, name: &str) -> Result<Value, Error> {
        let reads = self.reads_of(state.env(), theme, name)?;
        let mut hash = self.keys.hasher();
        (theme, name).hash(&mut hash);
        let mut keyed = true;
        for path in &reads.paths {
            keyed = keyed && path.feed(state, &mut hash).is_ok();
        }
        let key = keyed.then(|| key(&hash));
        if let Some(html) = key.and_then(|k| self.kept.get(&k)) {
            return Ok(html);
        }
        // The names it reads, whole, as `{% include %}` would see them.
        let ctx = Value::from_pairs(reads.names.iter().filter_map(|n| Some((n.as_str(), state.lookup(n)?))));
        let html = Value::from_safe_string(state.env().get_template(name)?.render(ctx)?);
        if let Some(k) = key {
            self.kept.insert(k, html.clone());
        }
        Ok(html)
    }

    fn reads_of(&self, env: &Environment, theme: &str, name: &str) -> Result<Arc<Reads>, Error> {
        if let Some(reads) = self.reads.read().ok().and_then(|r| r.get(theme)?.get(name).cloned()) {
            return Ok(reads);
        }
        let reads = Arc::new(Reads::of(env, name)?);
        if let Ok(mut all) = self.reads.write() {
            all.entry(theme.to_owned()).or_default().insert(name.to_owned(), reads.clone());
        }
        Ok(reads)
    }
}

/// The names a template reads, and the attribute paths under them.
struct Reads {
    /// `toolbar.html` reads `urls.card`, `unread`...: the values at those
    /// paths make the key.
    paths: Vec<Path>,
    /// The first name of each path, given whole to the template.
    names: Vec<String>,
}

impl Reads {
    fn of(env: &Environment, name: &str) -> Result<Reads, Error> {
        let template = env.get_template(name)?;
        if composes(template.source()) {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                format!(
                    "render_kept(\"{name}\"): a template written by render_kept() cannot include, import or extend another; use {{% include %}}"
                ),
            ));
        }
        let mut found: Vec<String> = template.undeclared_variables(true).into_iter().collect();
        found.sort();
        // `view` read whole covers `view.train`.
        let mut paths: Vec<Vec<String>> = Vec::new();
        for dotted in found {
            let path: Vec<String> = dotted.split('.').map(str::to_owned).collect();
            if !paths.last().is_some_and(|p| path.starts_with(p)) {
                paths.push(path);
            }
        }
        let mut names: Vec<String> = paths.iter().map(|p| p[0].clone()).collect();
        names.dedup();
        let global = |p: &[String]| match p {
            [name] => env.globals().find(|(g, _)| g == name).map(|(_, v)| v),
            _ => None,
        };
        let paths = paths.into_iter().map(|p| Path { global: global(&p), attrs: p }).collect();
        Ok(Reads { paths, names })
    }
}

/// A name and the attributes read under it: `urls.card`.
struct Path {
    attrs: Vec<String>,
    /// The environment's value for a name that is one of its globals (a
    /// function such as `range`, `routes`): the same for every page.
    global: Option<Value>,
}

impl Path {
    /// Feeds the value at the path. Where an attribute is missing (a
    /// method such as `items()` is read as one), the value above it is
    /// fed whole.
    fn feed(&self, state: &State, hash: &mut impl Hasher) -> Result<(), ()> {
        let mut value = state.lookup(&self.attrs[0]).unwrap_or(Value::UNDEFINED);
        if value.as_object().is_some() && self.global.as_ref() == Some(&value) {
            hash.write_u8(u8::MAX);
            return Ok(());
        }
        let mut depth = 1;
        for attr in &self.attrs[1..] {
            match value.get_attr(attr) {
                Ok(next) if !next.is_undefined() => value = next,
                _ => break,
            }
            depth += 1;
        }
        hash.write_usize(depth);
        feed(&value, hash)
    }
}

/// Whether a template includes, imports or extends another (what it reads
/// there is out of sight of `undeclared_variables`).
fn composes(source: &str) -> bool {
    source.split("{%").skip(1).any(|tag| {
        let word = tag.trim_start_matches(['-', '+']).trim_start();
        ["include", "import", "from", "extends"]
            .iter()
            .any(|w| word.strip_prefix(w).is_some_and(|rest| rest.starts_with(|c: char| c.is_whitespace())))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(templates: &[(&'static str, &'static str)]) -> Environment<'static> {
        let mut env = Environment::new();
        for (name, source) in templates {
            env.add_template(name, source).unwrap();
        }
        env
    }

    #[test]
    fn a_kept_template_reads_its_paths() {
        let env = env(&[(
            "t.html",
            "{{ root }}{% if scenario and scenario.real_site %}{{ scenario.real_site }}{% endif %}{{ urls.card }}{{ x.items() }}",
        )]);
        let reads = Reads::of(&env, "t.html").unwrap();
        let paths: Vec<String> = reads.paths.iter().map(|p| p.attrs.join(".")).collect();
        assert_eq!(paths, ["root", "scenario", "urls.card", "x.items"]);
        assert_eq!(reads.names, ["root", "scenario", "urls", "x"]);
    }

    #[test]
    fn a_kept_template_writes_what_include_writes_for_each_set_of_values() {
        let fragments = Arc::new(Fragments::new());
        let mut env = env(&[
            ("part.html", "{{ a.b }}|{{ c }}|{{ d.k }}|{{ range(2)|list|length }}"),
            ("kept.html", "{{ render_kept('part.html') }}"),
            ("included.html", "{% include 'part.html' %}"),
            ("composing.html", "<{% include 'part.html' %}>"),
            ("kept-composing.html", "{{ render_kept('composing.html') }}"),
        ]);
        let f = fragments.clone();
        env.add_function("render_kept", move |state: &State, name: &str| f.template(state, "t", name));
        let plain = context! { b => "<x>" };
        let safe = context! { b => Value::from_safe_string("<x>".into()) };
        let (one, two) = (context! { k => 1 }, context! { k => 2 });
        let cases = [
            (context! { a => plain.clone(), c => 1, d => one.clone() }, "&lt;x&gt;|1|1|2"),
            (context! { a => safe.clone(), c => 1, d => one.clone() }, "<x>|1|1|2"),
            (context! { a => plain.clone(), c => 1.0, d => one.clone() }, "&lt;x&gt;|1.0|1|2"),
            (context! { a => plain.clone(), c => 1, d => two.clone() }, "&lt;x&gt;|1|2|2"),
            // `a.b` missing: `a` is read whole.
            (context! { a => context! {}, c => "z", d => two.clone() }, "|z|2|2"),
            (context! { a => context! { e => 1 }, c => "z", d => two }, "|z|2|2"),
            // A function of the page's own: written every time, not kept.
            (context! { a => plain.clone(), c => Value::from_function(|| "f"), d => one.clone() }, ""),
            (context! { a => plain, c => 1, d => one }, "&lt;x&gt;|1|1|2"),
        ];
        for (ctx, written) in &cases {
            let included = env.get_template("included.html").unwrap().render(ctx).unwrap();
            for _ in 0..2 {
                assert_eq!(env.get_template("kept.html").unwrap().render(ctx).unwrap(), included, "{ctx:?}");
            }
            if !written.is_empty() {
                assert_eq!(included, *written);
            }
        }
        let refused = env.get_template("kept-composing.html").unwrap().render(context! {}).unwrap_err();
        assert!(
            refused.to_string().contains("render_kept(\"composing.html\"): a template written by render_kept() cannot include"),
            "{refused}"
        );
    }
}
