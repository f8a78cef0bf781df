//! The markup of a step's fields, kept by content. A field's markup is a
//! pure function of its view (label, value, error, options...) and of the
//! theme's `field.html`, so a field shown again as it was (the other
//! fields of a page after a submit, every field on a second visit, the
//! same question for another learner) costs a lookup instead of a render.
//! On the income step of the tax return, with sixteen fields, rendering
//! them was most of the page.
//!
//! `field.html` therefore sees only `f`, `tiles` and the globals (not the
//! page's other values), which docs/themes.md says. Fragments are bounded
//! in bytes and forgotten after a quarter of an hour unread; one store per
//! loaded library, so a reload of the themes starts an empty one.

use super::fingerprint::Fingerprints;
use super::view_value::Field;
use minijinja::value::Value;
use minijinja::{Error, State, context};
use std::time::Duration;

/// The template a field is written by.
const FIELD_TEMPLATE: &str = "field.html";

/// At most this many bytes of fields are kept.
const MAX_BYTES: u64 = 16 << 20;

pub(crate) struct Fragments {
    kept: moka::sync::Cache<u128, Value>,
    keys: Fingerprints,
}

impl Fragments {
    pub(crate) fn new() -> Fragments {
        let kept = moka::sync::Cache::builder()
            .max_capacity(MAX_BYTES)
            .weigher(|_, html: &Value| u32::try_from(html.as_str().map_or(0, str::len)).unwrap_or(u32::MAX))
            .time_to_idle(Duration::from_secs(15 * 60))
            .build();
        Fragments { kept, keys: Fingerprints::new() }
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
}
