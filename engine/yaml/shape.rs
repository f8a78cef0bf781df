//! Checks a located YAML tree against the JSON Schema generated from the
//! Rust types, and reports every mismatch with its position: unknown keys
//! (with a "did you mean"), missing keys, wrong types, unknown values.
//!
//! Only the schema subset that schemars emits for our own types is
//! understood: `$ref`, `type`, `properties`, `required`,
//! `additionalProperties`, `items`, `enum`, `const`, `anyOf`/`oneOf`,
//! `minimum`/`maximum`.

use super::{Located, Node};
use crate::diagnostic::{Diagnostic, Pos, did_you_mean};
use schemars::JsonSchema;
use serde_json::Value;

/// The JSON Schema of `T`, as `miroir schema` prints it.
pub(crate) fn schema_of<T: JsonSchema>() -> Value {
    schemars::generate::SchemaSettings::draft2020_12().into_generator().into_root_schema_for::<T>().to_value()
}

/// Every shape problem of `tree` against `T`'s schema.
#[cfg_attr(not(test), allow(dead_code))] // used by the unit tests
pub(crate) fn check<T: JsonSchema>(file: &str, tree: &Located<Node>) -> Vec<Diagnostic> {
    check_against(file, tree, &schema_of::<T>())
}

/// Every shape problem of `tree` against an already generated schema.
pub(crate) fn check_against(file: &str, tree: &Located<Node>, root: &Value) -> Vec<Diagnostic> {
    let noun = root.get("title").and_then(Value::as_str).map(humanize);
    let mut walker = Walker { root, file, out: Vec::new() };
    walker.check(root, tree, noun.as_deref().unwrap_or("document"));
    walker.out
}

struct Walker<'a> {
    root: &'a Value,
    file: &'a str,
    out: Vec<Diagnostic>,
}

impl<'a> Walker<'a> {
    /// Follows `$ref`s, remembering the last definition name as a noun.
    fn resolve(&self, mut schema: &'a Value, mut noun: String) -> (&'a Value, String) {
        for _ in 0..32 {
            let Some(reference) = schema.get("$ref").and_then(Value::as_str) else { break };
            let name = reference.rsplit('/').next().unwrap_or(reference);
            match self.root.pointer(reference.trim_start_matches('#')) {
                Some(target) => {
                    schema = target;
                    noun = humanize(name);
                }
                None => break,
            }
        }
        (schema, noun)
    }

    fn error(&mut self, pos: Pos, len: u32, message: String, hint: Option<String>) {
        let mut d = Diagnostic::error(self.file, pos, message).with_width(len as usize);
        d.hint = hint;
        self.out.push(d);
    }

    fn check(&mut self, schema: &'a Value, node: &Located<Node>, noun: &str) {
        let (schema, noun) = self.resolve(schema, noun.to_owned());
        if schema.as_bool() == Some(true) {
            return;
        }
        if let Some(branches) = schema.get("anyOf").or_else(|| schema.get("oneOf")).and_then(Value::as_array) {
            self.check_branches(branches, node, &noun);
            return;
        }
        let types = types_of(schema);
        if !types.is_empty() && !types.iter().any(|t| fits(t, &node.value)) {
            let expected = types.iter().map(|t| type_phrase(t)).collect::<Vec<_>>().join(" or ");
            self.error(node.pos, node.len, format!("expected {expected}, found {}", describe(&node.value)), None);
            return;
        }
        if let Some(allowed) = allowed_values(schema) {
            self.check_value_in(&allowed, node);
            return;
        }
        match &node.value {
            Node::Map(entries) => self.check_map(schema, entries, node.pos, &noun),
            Node::Seq(items) => {
                if let Some(item_schema) = schema.get("items") {
                    for item in items {
                        self.check(item_schema, item, &noun);
                    }
                }
            }
            Node::Int(_) | Node::Float(_) => self.check_bounds(schema, node),
            _ => {}
        }
    }

    fn check_map(&mut self, schema: &'a Value, entries: &[(Located<String>, Located<Node>)], pos: Pos, noun: &str) {
        let properties = schema.get("properties").and_then(Value::as_object);
        let additional = schema.get("additionalProperties");
        for (key, value) in entries {
            if let Some(prop) = properties.and_then(|p| p.get(&key.value)) {
                self.check(prop, value, &key.value);
            } else if let Some(extra) = additional.filter(|a| a.is_object()) {
                self.check(extra, value, noun);
            } else if additional.and_then(Value::as_bool) == Some(false) {
                let known: Vec<&str> = properties.map(|p| p.keys().map(String::as_str).collect()).unwrap_or_default();
                let hint = match did_you_mean(&key.value, known.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("known keys here: {}", list(&known)),
                };
                self.error(key.pos, key.len, format!("unknown key `{}` in {noun}", key.value), Some(hint));
            }
        }
        if let Some(required) = schema.get("required").and_then(Value::as_array) {
            for name in required.iter().filter_map(Value::as_str) {
                if !entries.iter().any(|(k, _)| k.value == name) {
                    self.error(pos, 1, format!("missing key `{name}` in {noun}"), Some(format!("add `{name}:` to this {noun}")));
                }
            }
        }
    }

    fn check_branches(&mut self, branches: &'a [Value], node: &Located<Node>, noun: &str) {
        let candidates: Vec<&Value> = branches
            .iter()
            .filter(|b| {
                let (b, _) = self.resolve(b, String::new());
                branch_fits(b, &node.value)
            })
            .collect();
        match candidates.as_slice() {
            [] => {
                let mut kinds: Vec<&str> = Vec::new();
                for b in branches {
                    let (b, _) = self.resolve(b, String::new());
                    for t in types_of(b).iter().chain(const_types(b).iter()) {
                        let phrase = type_phrase(t);
                        if !kinds.contains(&phrase) {
                            kinds.push(phrase);
                        }
                    }
                }
                self.error(node.pos, node.len, format!("expected {}, found {}", kinds.join(" or "), describe(&node.value)), None);
            }
            [only] => self.check(only, node, noun),
            many => {
                // Several branches take this kind of value: an enum of
                // constants, or structs told apart by their keys.
                let mut values = Vec::new();
                let mut all_constants = true;
                for b in many {
                    let (b, _) = self.resolve(b, String::new());
                    match allowed_values(b) {
                        Some(v) => values.extend(v),
                        None => all_constants = false,
                    }
                }
                if all_constants {
                    self.check_value_in(&values, node);
                    return;
                }
                // One-key mappings, one per variant (`{ money: 1..2 }`): the
                // key picks the branch.
                if let (Some(tags), Node::Map(entries)) = (single_keys(self, many), &node.value) {
                    if let Some((branch, _)) = tags.iter().find(|(_, k)| entries.iter().any(|(e, _)| e.value == *k)) {
                        self.check(branch, node, noun);
                        return;
                    }
                    let names: Vec<&str> = tags.iter().map(|(_, k)| k.as_str()).collect();
                    for (key, _) in entries {
                        let hint = match did_you_mean(&key.value, names.iter().copied()) {
                            Some(s) => format!("did you mean `{s}`? expected one of: {}", list(&names)),
                            None => format!("expected one of: {}", list(&names)),
                        };
                        self.error(key.pos, key.len, format!("unknown key `{}` in {noun}", key.value), Some(hint));
                    }
                    if entries.is_empty() {
                        self.error(node.pos, node.len, format!("expected one of: {}", list(&names)), None);
                    }
                    return;
                }
                let mut best: Option<Vec<Diagnostic>> = None;
                for b in many {
                    let mut trial = Walker { root: self.root, file: self.file, out: Vec::new() };
                    trial.check(b, node, noun);
                    if trial.out.is_empty() {
                        return;
                    }
                    if best.as_ref().is_none_or(|e| trial.out.len() < e.len()) {
                        best = Some(trial.out);
                    }
                }
                self.out.extend(best.unwrap_or_default());
            }
        }
    }

    fn check_value_in(&mut self, allowed: &[Value], node: &Located<Node>) {
        let text = scalar_text(&node.value);
        let ok = allowed.iter().any(|v| match v {
            Value::String(s) => text.as_deref() == Some(s.as_str()),
            Value::Null => node.value == Node::Null,
            other => text.as_deref() == Some(other.to_string().as_str()),
        });
        if ok {
            return;
        }
        let names: Vec<String> = allowed.iter().map(|v| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string())).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let shown = text.clone().unwrap_or_else(|| describe(&node.value));
        let hint = match text.as_deref().and_then(|t| did_you_mean(t, refs.iter().copied())) {
            Some(s) => format!("did you mean `{s}`? expected one of: {}", list(&refs)),
            None => format!("expected one of: {}", list(&refs)),
        };
        self.error(node.pos, node.len, format!("unknown value `{shown}`"), Some(hint));
    }

    fn check_bounds(&mut self, schema: &Value, node: &Located<Node>) {
        let value = match node.value {
            Node::Int(i) => i as f64,
            Node::Float(f) => f,
            _ => return,
        };
        if let Some(min) = schema.get("minimum").and_then(Value::as_f64)
            && value < min
        {
            self.error(node.pos, node.len, format!("{value} is below the minimum of {min}"), None);
        }
        if let Some(max) = schema.get("maximum").and_then(Value::as_f64)
            && value > max
        {
            self.error(node.pos, node.len, format!("{value} is above the maximum of {max}"), None);
        }
    }
}

/// When every branch is an object with exactly one required key, the
/// branches and their keys.
fn single_keys<'a>(w: &Walker<'a>, branches: &[&'a Value]) -> Option<Vec<(&'a Value, String)>> {
    branches
        .iter()
        .map(|b| {
            let (resolved, _) = w.resolve(b, String::new());
            let required = resolved.get("required")?.as_array()?;
            let props = resolved.get("properties")?.as_object()?;
            match (required.as_slice(), props.len()) {
                ([only], 1) => Some((*b, only.as_str()?.to_owned())),
                _ => None,
            }
        })
        .collect()
}

fn types_of(schema: &Value) -> Vec<String> {
    match schema.get("type") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

/// The JSON types of a branch made only of constants (`const` or `enum`).
fn const_types(schema: &Value) -> Vec<String> {
    allowed_values(schema)
        .unwrap_or_default()
        .iter()
        .map(|v| match v {
            Value::String(_) => "string",
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        })
        .map(str::to_owned)
        .collect()
}

fn allowed_values(schema: &Value) -> Option<Vec<Value>> {
    if let Some(c) = schema.get("const") {
        return Some(vec![c.clone()]);
    }
    schema.get("enum").and_then(Value::as_array).cloned()
}

fn branch_fits(branch: &Value, node: &Node) -> bool {
    if branch.as_bool() == Some(true) {
        return true;
    }
    let mut types = types_of(branch);
    types.extend(const_types(branch));
    if types.is_empty() {
        // A branch with nested anyOf: accept and let the recursion decide.
        return true;
    }
    types.iter().any(|t| fits(t, node))
}

/// Whether a node can become a value of JSON type `t`. Text accepts any
/// scalar, as serde-saphyr reads `24000` into a `String` field.
fn fits(t: &str, node: &Node) -> bool {
    match (t, node) {
        ("object", Node::Map(_)) | ("array", Node::Seq(_)) | ("boolean", Node::Bool(_)) | ("null", Node::Null) => true,
        ("string", Node::Str(_) | Node::Int(_) | Node::Float(_) | Node::Bool(_)) => true,
        ("integer", Node::Int(_)) | ("number", Node::Int(_) | Node::Float(_)) => true,
        ("integer", Node::Float(f)) => f.fract() == 0.0,
        _ => false,
    }
}

fn type_phrase(t: &str) -> &'static str {
    match t {
        "object" => "a mapping",
        "array" => "a list",
        "string" => "text",
        "integer" => "a whole number",
        "number" => "a number",
        "boolean" => "true or false",
        "null" => "nothing",
        _ => "another value",
    }
}

fn describe(node: &Node) -> String {
    match node {
        Node::Str(s) if s.chars().count() <= 40 => format!("text `{s}`"),
        Node::Int(i) => format!("the number {i}"),
        Node::Bool(b) => format!("`{b}`"),
        other => other.kind().to_owned(),
    }
}

fn scalar_text(node: &Node) -> Option<String> {
    match node {
        Node::Str(s) => Some(s.clone()),
        Node::Int(i) => Some(i.to_string()),
        Node::Float(f) => Some(f.to_string()),
        Node::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn list(items: &[&str]) -> String {
    items.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")
}

/// `StepFile` becomes "step", `OnFailure` becomes "on failure".
fn humanize(type_name: &str) -> String {
    let name = type_name.strip_suffix("File").unwrap_or(type_name);
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push(' ');
        }
        out.extend(c.to_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::read_tree;
    use serde::Deserialize;

    #[derive(Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct ThingFile {
        title: String,
        count: u32,
        #[serde(default)]
        kind: Option<Kind>,
        #[serde(default)]
        parts: Vec<PartFile>,
    }

    #[derive(Deserialize, JsonSchema)]
    #[serde(rename_all = "snake_case")]
    #[allow(dead_code)]
    enum Kind {
        Login,
        Form,
    }

    #[derive(Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct PartFile {
        id: String,
        #[serde(default)]
        next: Option<String>,
    }

    fn problems(text: &str) -> Vec<String> {
        let tree = read_tree("t.yaml", text).unwrap();
        check::<ThingFile>("t.yaml", &tree).iter().map(|d| format!("{}|{}", d.headline(), d.hint.clone().unwrap_or_default())).collect()
    }

    #[test]
    fn reports_every_problem_with_positions() {
        let got = problems("title: x\ncount: many\nkind: lgin\nparts:\n  - id: a\n    nxet: b\n  - nope: 1\n");
        assert_eq!(
            got,
            vec![
                "t.yaml:2:8: error: expected a whole number, found text `many`|",
                "t.yaml:3:7: error: unknown value `lgin`|did you mean `login`? expected one of: `login`, `form`",
                "t.yaml:6:5: error: unknown key `nxet` in part|did you mean `next`?",
                "t.yaml:7:5: error: unknown key `nope` in part|known keys here: `id`, `next`",
                "t.yaml:7:5: error: missing key `id` in part|add `id:` to this part",
            ]
        );
    }

    #[test]
    fn accepts_a_good_document() {
        assert!(problems("title: 2026\ncount: 3\nkind: form\nparts: [{id: a, next: b}]\n").is_empty());
    }

    #[test]
    fn missing_keys_at_root() {
        assert_eq!(problems("count: 1\n"), vec!["t.yaml:1:1: error: missing key `title` in thing|add `title:` to this thing"]);
    }
}
