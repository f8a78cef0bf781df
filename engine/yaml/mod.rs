//! Reading YAML safely, with positions.
//!
//! Every file is read twice. First into a generic tree of located nodes,
//! which is checked against the JSON Schema of the Rust types (see
//! [`shape`]) so that *every* unknown key or wrong type in a file is
//! reported, not only the first one serde meets. Then, once the shape is
//! right, into the typed model through serde derive, keeping positions with
//! [`Located`]. Both reads share the same limits: files over 1 MiB, alias
//! bombs and nesting deeper than 64 levels are refused with a clear error.

pub(crate) mod shape;

use crate::diagnostic::{Diagnostic, Pos};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::{self, Deserialize, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;

/// Larger files are refused before parsing.
pub(crate) const MAX_FILE_BYTES: usize = 1 << 20;
/// Deeper nesting is refused: no honest scenario needs it.
pub(crate) const MAX_DEPTH: usize = 64;

/// The parser options shared by every read: strict booleans (`yes` is a
/// string, not `true`), and tight budgets against hostile input.
fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        strict_booleans: true,
        with_snippet: false,
        leading_zero_numbers_as_strings: true,
        budget: serde_saphyr::budget! {
            max_depth: MAX_DEPTH,
            max_events: 400_000,
            max_nodes: 200_000,
            max_aliases: 2_000,
            max_anchors: 2_000,
            max_documents: 1,
            max_total_scalar_bytes: 4 * MAX_FILE_BYTES,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: 50_000,
            max_alias_expansions_per_anchor: 500,
            max_replay_stack_depth: 16,
        },
    }
}

/// A value with the position it was written at.
#[derive(Clone, Debug, PartialEq)]
pub struct Located<T> {
    pub value: T,
    pub pos: Pos,
    /// Length in characters of the written value, for underlining.
    pub len: u32,
}

impl<T> Located<T> {
    pub fn new(value: T, pos: Pos) -> Located<T> {
        Located { value, pos, len: 1 }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Located<U> {
        Located { value: f(self.value), pos: self.pos, len: self.len }
    }
}

impl<T> Deref for Located<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Located<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let spanned = serde_saphyr::Spanned::<T>::deserialize(d)?;
        let at = spanned.referenced;
        Ok(Located { value: spanned.value, pos: Pos::new(at.line() as u32, at.column() as u32), len: at.span().len().max(1) as u32 })
    }
}

impl<T: JsonSchema> JsonSchema for Located<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}

/// A YAML value of any shape, with positions everywhere.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Node {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Located<Node>>),
    Map(Vec<(Located<String>, Located<Node>)>),
}

impl Node {
    /// How a user would name this kind of value.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Node::Null => "nothing",
            Node::Bool(_) => "true/false",
            Node::Int(_) | Node::Float(_) => "a number",
            Node::Str(_) => "text",
            Node::Seq(_) => "a list",
            Node::Map(_) => "a mapping",
        }
    }

    /// The value under `key`, in a mapping.
    #[cfg_attr(not(test), allow(dead_code))] // used by the unit tests
    pub(crate) fn get(&self, key: &str) -> Option<&Located<Node>> {
        match self {
            Node::Map(entries) => entries.iter().find(|(k, _)| k.value == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct NodeVisitor;
        impl<'de> Visitor<'de> for NodeVisitor {
            type Value = Node;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_unit<E>(self) -> Result<Node, E> {
                Ok(Node::Null)
            }
            fn visit_none<E>(self) -> Result<Node, E> {
                Ok(Node::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
                Node::deserialize(d)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
                Ok(Node::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
                Ok(Node::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
                Ok(i64::try_from(v).map(Node::Int).unwrap_or(Node::Float(v as f64)))
            }
            fn visit_i128<E>(self, v: i128) -> Result<Node, E> {
                Ok(Node::Float(v as f64))
            }
            fn visit_u128<E>(self, v: u128) -> Result<Node, E> {
                Ok(Node::Float(v as f64))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
                Ok(Node::Float(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Node, E> {
                Ok(Node::Str(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Node, E> {
                Ok(Node::Str(v))
            }
            fn visit_bytes<E>(self, v: &[u8]) -> Result<Node, E> {
                Ok(Node::Str(String::from_utf8_lossy(v).into_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Located<Node>>()? {
                    items.push(item);
                }
                Ok(Node::Seq(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<Located<String>>()? {
                    let value = map.next_value::<Located<Node>>()?;
                    entries.push((key, value));
                }
                Ok(Node::Map(entries))
            }
        }
        d.deserialize_any(NodeVisitor)
    }
}

/// Reads `text` into a located tree, refusing oversized or hostile input.
#[cfg_attr(not(test), allow(dead_code))] // used by the unit tests
pub(crate) fn read_tree(file: &str, text: &str) -> Result<Located<Node>, Diagnostic> {
    check_size(file, text)?;
    on_big_stack(|| serde_saphyr::from_str_with_options::<Located<Node>>(text, options()).map_err(|e| to_diagnostic(file, text, &e)))
}

/// Reads `text` into a typed value through serde derive.
#[cfg_attr(not(test), allow(dead_code))] // used by the unit tests
pub(crate) fn read_typed<T: DeserializeOwned + Send>(file: &str, text: &str) -> Result<T, Diagnostic> {
    check_size(file, text)?;
    on_big_stack(|| serde_saphyr::from_str_with_options::<T>(text, options()).map_err(|e| to_diagnostic(file, text, &e)))
}

/// Reads a file fully checked: typed; and when that fails, its shape
/// against `schema` (generated from the same types), to report every
/// problem rather than serde's first. A file that reads is not walked a
/// second time: reading twice was half the time of `miroir check`.
pub(crate) fn read_checked<T: DeserializeOwned + Send>(file: &str, text: &str, schema: &serde_json::Value) -> Result<T, Vec<Diagnostic>> {
    check_size(file, text).map_err(|d| vec![d])?;
    on_big_stack(|| {
        let first = match serde_saphyr::from_str_with_options::<T>(text, options()) {
            Ok(value) => return Ok(value),
            Err(e) => to_diagnostic(file, text, &e),
        };
        let tree =
            serde_saphyr::from_str_with_options::<Located<Node>>(text, options()).map_err(|e| vec![to_diagnostic(file, text, &e)])?;
        let problems = shape::check_against(file, &tree, schema);
        Err(if problems.is_empty() { vec![first] } else { problems })
    })
}

/// Stack for reading YAML: a document nested 64 levels deep needs more
/// than a default 2 MiB thread stack in debug builds.
pub(crate) const READER_STACK: usize = 64 << 20;

thread_local! {
    static ON_READER_STACK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Says that the current thread was spawned with [`READER_STACK`] bytes of
/// stack: reading on it needs no thread of its own.
pub(crate) fn on_reader_stack() {
    ON_READER_STACK.set(true);
}

/// Runs `f` on a thread with [`READER_STACK`], the current one if it has it.
fn on_big_stack<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    if ON_READER_STACK.get() {
        return f();
    }
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("yaml-reader".into())
            .stack_size(READER_STACK)
            .spawn_scoped(scope, f)
            .expect("spawning the YAML reader thread")
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

fn check_size(file: &str, text: &str) -> Result<(), Diagnostic> {
    if text.len() > MAX_FILE_BYTES {
        return Err(Diagnostic::error(file, Pos::UNKNOWN, format!("file is too large ({} bytes, the limit is 1 MiB)", text.len()))
            .with_hint("split the procedure into several scenarios or step groups"));
    }
    Ok(())
}

/// Turns a parser error into a diagnostic with our own wording where the
/// parser's would puzzle an author.
fn to_diagnostic(file: &str, text: &str, err: &serde_saphyr::Error) -> Diagnostic {
    use serde_saphyr::Error as E;
    use serde_saphyr::budget::BudgetBreach;
    let mut inner = err.without_snippet();
    while let E::AliasError { error, .. } = inner {
        inner = error.without_snippet();
    }
    let pos = err.location().map(|l| Pos::new(l.line() as u32, l.column() as u32)).unwrap_or(Pos::UNKNOWN);
    let (message, hint): (String, Option<&str>) = match inner {
        E::Budget { breach: BudgetBreach::Depth { .. }, .. } => {
            (format!("nesting is deeper than {MAX_DEPTH} levels"), Some("flatten the structure; no scenario needs this depth"))
        }
        E::Budget { breach: BudgetBreach::Aliases { .. } | BudgetBreach::Anchors { .. }, .. }
        | E::AliasReplayLimitExceeded { .. }
        | E::AliasExpansionLimitExceeded { .. }
        | E::AliasReplayStackDepthExceeded { .. }
        | E::AliasReplayCounterOverflow { .. } => {
            ("too many alias expansions (an alias bomb?)".to_owned(), Some("write the values out instead of nesting aliases"))
        }
        E::Budget { .. } => {
            ("the file is too large or too complex to read".to_owned(), Some("split the procedure into several scenarios or step groups"))
        }
        E::MultipleDocuments { .. } => (
            "a scenario file holds a single YAML document".to_owned(),
            Some("remove the extra `---` line, or move the other document to its own file"),
        ),
        E::InvalidUtf8Input => ("the file is not valid UTF-8 text".to_owned(), Some("save the file as UTF-8")),
        E::UnknownAnchor { .. } => (plain_message(inner), Some("define the anchor (`&name`) before using it (`*name`)")),
        E::DuplicateMappingKey { key: Some(key), .. } => {
            let message = match first_key(text, key, pos) {
                Some(first) => format!("key `{key}` appears twice; first at {}:{}", first.line, first.col),
                None => format!("key `{key}` appears twice"),
            };
            (message, Some("remove one of the two entries"))
        }
        E::DuplicateMappingKey { .. } => (plain_message(inner), Some("remove one of the two entries")),
        _ if plain_message(inner).starts_with("mapping values are not allowed") => {
            (plain_message(inner), Some("a text holding `: ` must be quoted (\"...\") or written on the next lines after `|`"))
        }
        _ => (plain_message(inner), None),
    };
    let diagnostic = Diagnostic::error(file, pos, message);
    match hint {
        Some(h) => diagnostic.with_hint(h),
        None => diagnostic,
    }
}

/// Where `key` was first written in the mapping where it comes again at
/// `second`: earlier in the same flow mapping (`{ a: 1, a: 2 }`), or on an
/// earlier line at the same column of the same block mapping. The parser
/// only says where the second one is.
fn first_key(text: &str, key: &str, second: Pos) -> Option<Pos> {
    let lines: Vec<&str> = text.lines().collect();
    let at = second.line.checked_sub(1)? as usize;
    let col = second.col.checked_sub(1)? as usize;
    let written = [format!("{key}:"), format!("\"{key}\":"), format!("'{key}':")];
    let starts_key = |rest: &str| written.iter().any(|w| rest.starts_with(w.as_str()));
    // Same line, before it: a flow mapping.
    let line: Vec<char> = lines.get(at)?.chars().collect();
    for c in (0..col.min(line.len())).rev() {
        let rest: String = line[c..].iter().collect();
        let opens = c == 0 || matches!(line[c - 1], '{' | ',' | ' ');
        if opens && starts_key(&rest) && line[..c].contains(&'{') {
            return Some(Pos::new(second.line, c as u32 + 1));
        }
    }
    // Earlier lines of the same block mapping.
    for (i, l) in lines[..at].iter().enumerate().rev() {
        let chars: Vec<char> = l.chars().collect();
        // A key after `- ` starts a mapping inside a list item.
        let mut content = chars.iter().take_while(|c| **c == ' ').count();
        while chars.get(content) == Some(&'-') && chars.get(content + 1) == Some(&' ') {
            content += 2 + chars[content + 2..].iter().take_while(|c| **c == ' ').count();
        }
        let rest: String = chars.get(content..).map(|r| r.iter().collect()).unwrap_or_default();
        if rest.is_empty() || rest.starts_with('#') {
            continue;
        }
        if content < col {
            return None; // the mapping started below this line
        }
        if content == col && starts_key(&rest) {
            return Some(Pos::new(i as u32 + 1, col as u32 + 1));
        }
    }
    None
}

fn plain_message(err: &serde_saphyr::Error) -> String {
    use serde_saphyr::MessageFormatter;
    let text = serde_saphyr::DefaultMessageFormatter.format_message(err);
    text.chars().filter(|c| !c.is_control()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_keeps_positions() {
        let tree = read_tree("t.yaml", "a: 1\nb:\n  - x\n").unwrap();
        let b = tree.get("b").unwrap();
        assert_eq!(b.pos, Pos::new(3, 3));
        match &b.value {
            Node::Seq(items) => assert_eq!(items[0].pos, Pos::new(3, 5)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn booleans_are_strict() {
        let tree = read_tree("t.yaml", "a: yes\nb: true\n").unwrap();
        assert_eq!(tree.get("a").unwrap().value, Node::Str("yes".into()));
        assert_eq!(tree.get("b").unwrap().value, Node::Bool(true));
    }

    #[test]
    fn syntax_error_has_position() {
        let err = read_tree("t.yaml", "title: [unclosed\n").unwrap_err();
        assert_eq!(err.pos, Pos::new(1, 8));
        assert_eq!(err.message, "unclosed bracket '['");
    }

    #[test]
    fn duplicate_keys_name_the_first_one() {
        let err = read_tree("t.yaml", "steps:\n  - id: a\n    kind: info\n    # note\n    kind: form\n").unwrap_err();
        assert_eq!((err.pos, err.message.as_str()), (Pos::new(5, 5), "key `kind` appears twice; first at 3:5"));
        let err = read_tree("t.yaml", "a: 1\nb: { x: 1, y: 2, x: 3 }\n").unwrap_err();
        assert_eq!((err.pos, err.message.as_str()), (Pos::new(2, 18), "key `x` appears twice; first at 2:6"));
        let err = read_tree("t.yaml", "title: a\nsteps: []\ntitle: b\n").unwrap_err();
        assert_eq!(err.message, "key `title` appears twice; first at 1:1");
    }

    #[test]
    fn alias_bomb_is_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            text.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
        }
        let err = read_tree("t.yaml", &text).unwrap_err();
        assert_eq!(err.message, "too many alias expansions (an alias bomb?)");
    }

    #[test]
    fn nesting_of_64_levels_is_read() {
        let text = format!("{}{}", "[".repeat(63), "]".repeat(63));
        assert!(read_tree("t.yaml", &text).is_ok());
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = format!("{}{}", "[".repeat(100), "]".repeat(100));
        let err = read_tree("t.yaml", &text).unwrap_err();
        assert!(err.message.contains("deeper than 64"), "{}", err.message);
    }

    #[test]
    fn huge_file_is_refused() {
        let text = "a: b\n".repeat(MAX_FILE_BYTES / 4);
        let err = read_tree("t.yaml", &text).unwrap_err();
        assert!(err.message.starts_with("file is too large"));
    }
}

/// A YAML mapping read in the order it was written, keys located: for
/// authored maps whose order matters (computed values, persona fields).
#[derive(Clone, Debug, PartialEq)]
pub struct Pairs<V>(pub Vec<(Located<String>, V)>);

impl<V> Default for Pairs<V> {
    fn default() -> Self {
        Pairs(Vec::new())
    }
}

impl<V> Pairs<V> {
    pub fn iter(&self) -> impl Iterator<Item = &(Located<String>, V)> {
        self.0.iter()
    }

    pub fn get(&self, key: &str) -> Option<&V> {
        self.0.iter().find(|(k, _)| k.value == key).map(|(_, v)| v)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Pairs<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct PairsVisitor<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for PairsVisitor<V> {
            type Value = Pairs<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pairs<V>, A::Error> {
                let mut out = Vec::new();
                while let Some(key) = map.next_key::<Located<String>>()? {
                    out.push((key, map.next_value::<V>()?));
                }
                Ok(Pairs(out))
            }
        }
        d.deserialize_map(PairsVisitor(std::marker::PhantomData))
    }
}

impl<V: JsonSchema> JsonSchema for Pairs<V> {
    fn schema_name() -> Cow<'static, str> {
        format!("Map_of_{}", V::schema_name()).into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        schemars::json_schema!({
            "type": "object",
            "additionalProperties": generator.subschema_for::<V>(),
        })
    }
}
