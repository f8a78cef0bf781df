//! The expression language of scenario files: minijinja expressions for
//! conditions, computed and expected values, and minijinja templates for the
//! texts authors write. One sandboxed environment serves them all: output is
//! HTML-escaped, undefined values are errors, every evaluation has a fuel
//! budget, and there is no loader, so author text can read no file.

pub(crate) mod names;

use minijinja::value::Value;
use minijinja::{AutoEscape, Environment, Error, ErrorKind, Expression, State, UndefinedBehavior};
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, LazyLock, OnceLock, RwLock};

/// Instructions an evaluation may run: enough for any honest scenario, far
/// too few for a loop that would hang a server.
pub(crate) const FUEL: u64 = 50_000;

/// The shared environment: filters and functions authors may use.
pub(crate) static ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|name| if name.ends_with(PLAIN) { AutoEscape::None } else { AutoEscape::Html });
    env.set_fuel(Some(FUEL));
    env.set_recursion_limit(32);
    add_filters(&mut env);
    // Author texts are found by name in TEXTS; the environment compiles each
    // once and keeps it. This loader reads no file.
    env.set_loader(|name| Ok(TEXTS.read().unwrap_or_else(|p| p.into_inner()).get(name).map(|s| s.to_string())));
    env
});

/// Every author text seen, by a name made from its content: the same text
/// in two scenarios, or a scenario reloaded, is compiled once.
static TEXTS: LazyLock<RwLock<HashMap<String, Arc<str>>>> = LazyLock::new(Default::default);

/// Compiled expressions, by source text.
static EXPRS: LazyLock<RwLock<HashMap<Arc<str>, Expr>>> = LazyLock::new(Default::default);

/// The name suffix of a text rendered without HTML escaping.
const PLAIN: &str = ".txt";

/// Registers miroir's filters and functions on `env` (the web layer's theme
/// environment uses them too).
pub(crate) fn add_filters(env: &mut Environment<'_>) {
    env.add_filter("money", |v: Value| money(&v));
    env.add_filter("number", |v: Value| number(&v));
    env.add_filter("nir", |v: String| crate::persona::ids::format_nir(&v));
    env.add_filter("iban", |v: String| crate::persona::ids::format_iban(&v));
    env.add_filter("masked_iban", |v: String| crate::persona::ids::mask_iban(&v));
    env.add_filter("numero_fiscal", |v: String| crate::persona::ids::format_numero_fiscal(&v));
    env.add_filter("phone", |v: String| crate::persona::ids::format_phone(&v));
    env.add_function("mois", month_label);
    // French grammar: `{{ mois(-1) | de }}` is « d'août 2026 », `{{ n | ans }}` « 1 an ».
    env.add_filter("de", |v: Value| crate::french::de(&v.to_string()));
    env.add_filter("ans", |v: i64| crate::french::years(v));
    env.add_filter("qr", qr_svg);
}

/// A QR code of `text` as inline SVG markup, labelled for screen readers.
pub(crate) fn qr_markup(text: &str) -> Result<String, ExprError> {
    Ok(qr_svg(text.to_owned())?.to_string())
}

fn qr_svg(text: String) -> Result<Value, Error> {
    let code = qrcode::QrCode::new(text.as_bytes())
        .map_err(|e| Error::new(ErrorKind::InvalidOperation, format!("no QR code for this text: {e}")))?;
    let svg = code.render::<qrcode::render::svg::Color>().min_dimensions(160, 160).quiet_zone(true).build();
    // Drop the XML prolog: the SVG goes inside an HTML page.
    let svg = svg.find("<svg").map_or(svg.as_str(), |i| &svg[i..]).to_owned();
    let labelled = svg.replacen("<svg", "<svg role=\"img\" aria-label=\"Code QR\" class=\"qr\"", 1);
    Ok(Value::from_safe_string(labelled))
}

/// Whole or decimal euros as French pages print them: `24 000 €`, `1 234,50 €`.
pub(crate) fn money(v: &Value) -> String {
    format!("{} €", number(v))
}

/// A number with French digit grouping (narrow no-break spaces) and a
/// decimal comma; cents only when there are some.
pub(crate) fn number(v: &Value) -> String {
    let f = match f64::try_from(v.clone()) {
        Ok(f) => f,
        Err(_) => return v.to_string(),
    };
    let negative = f < 0.0;
    let cents = (f.abs() * 100.0).round() as u64;
    let (units, rest) = (cents / 100, cents % 100);
    let digits = units.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push('\u{202f}');
        }
        grouped.push(c);
    }
    let sign = if negative { "-" } else { "" };
    if rest == 0 { format!("{sign}{grouped}") } else { format!("{sign}{grouped},{rest:02}") }
}

pub(crate) const MONTHS: [&str; 12] =
    ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"];

/// `mois(-2)`: the month two months before today, as `septembre 2026`.
fn month_label(state: &State, offset: i64) -> Result<String, Error> {
    let today = state.lookup("today").ok_or_else(|| Error::new(ErrorKind::UndefinedError, "`today` is not set"))?;
    let year = today.get_attr("year")?.as_i64().unwrap_or(2026);
    let month = today.get_attr("month")?.as_i64().unwrap_or(1);
    // Saturating: `mois(9223372036854775807)` is an author's typo, not a panic.
    let index = year.saturating_mul(12).saturating_add(month - 1).saturating_add(offset);
    Ok(format!("{} {}", MONTHS[index.rem_euclid(12) as usize], index.div_euclid(12)))
}

/// Any serializable value, as templates and expressions see it.
pub(crate) fn to_value<T: serde::Serialize>(value: &T) -> Value {
    Value::from(minijinja::value::Serde(value))
}

/// Undoes minijinja's HTML escaping, for text shown outside a page.
pub fn plain(html: &str) -> String {
    html.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#x2f;", "/")
        .replace("&amp;", "&")
}

/// Why an expression or a text failed, in words for an author.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExprError(pub String);

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<Error> for ExprError {
    fn from(e: Error) -> ExprError {
        let text = match e.detail() {
            Some(detail) => format!("{}: {detail}", e.kind()),
            None => e.kind().to_string(),
        };
        ExprError(text)
    }
}

/// The longest line a text, an expression or a theme template may have.
/// minijinja counts columns in 16 bits: a syntax error past column 65 535
/// overflows (a panic in builds with overflow checks, as the fuzzer found).
pub(crate) const MAX_LINE_CHARS: usize = 60_000;

/// Refuses a source with a line longer than [`MAX_LINE_CHARS`].
pub(crate) fn check_line_lengths(source: &str) -> Result<(), ExprError> {
    let longest = source.lines().filter(|l| l.len() > MAX_LINE_CHARS).map(|l| l.chars().count()).max().unwrap_or(0);
    if longest > MAX_LINE_CHARS {
        return Err(ExprError(format!("a line is {longest} characters long; at most {MAX_LINE_CHARS}")));
    }
    Ok(())
}

/// A compiled expression, such as `persona.situation_familiale == "marie"`.
#[derive(Clone)]
pub struct Expr {
    source: Arc<str>,
    compiled: Arc<Expression<'static, 'static>>,
    /// `persona.nom` and the like, as names: read by lookups, without the
    /// expression machine (an evaluation there: about 4 000 instructions).
    path: Option<Arc<[Box<str>]>>,
}

/// The names of a dotted path of two names or more, or nothing.
fn dotted(source: &str) -> Option<Arc<[Box<str>]>> {
    let is_name = |n: &str| {
        n.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    let names: Vec<Box<str>> = source.trim().split('.').map(Box::from).collect();
    (names.len() >= 2 && names.iter().all(|n| is_name(n))).then(|| names.into())
}

impl fmt::Debug for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Expr({:?})", self.source)
    }
}

impl Expr {
    /// Compiles `source`, an expression without `{{ }}`.
    pub fn compile(source: &str) -> Result<Expr, ExprError> {
        // Compiled once per source text: a compiled expression holds about
        // 8 KiB, and the same conditions come back across steps and files.
        if let Some(e) = EXPRS.read().unwrap_or_else(|p| p.into_inner()).get(source) {
            return Ok(e.clone());
        }
        check_line_lengths(source)?;
        let compiled = ENV.compile_expression_owned(source.to_owned())?;
        let e = Expr { source: source.into(), compiled: Arc::new(compiled), path: dotted(source) };
        EXPRS.write().unwrap_or_else(|p| p.into_inner()).insert(e.source.clone(), e.clone());
        Ok(e)
    }

    /// The expression as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Evaluates; an undefined result is an error, as in templates.
    pub fn eval(&self, ctx: &Value) -> Result<Value, ExprError> {
        // A path that reaches a value reads as the machine would read it;
        // one that does not is left to the machine, for its error.
        if let Some(path) = &self.path {
            let found = path.iter().try_fold(ctx.clone(), |v, name| v.get_attr(name).ok().filter(|v| !v.is_undefined()));
            if let Some(value) = found {
                return Ok(value);
            }
        }
        let value = self.compiled.eval(ctx.clone())?;
        if value.is_undefined() {
            return Err(ExprError(format!("undefined value: `{}` names nothing", self.source.trim())));
        }
        Ok(value)
    }

    /// Evaluates as a condition: minijinja truthiness.
    pub fn test(&self, ctx: &Value) -> Result<bool, ExprError> {
        Ok(self.eval(ctx)?.is_true())
    }

    /// The variables read, as dotted paths (`persona.numero_fiscal`).
    pub fn variables(&self) -> BTreeSet<String> {
        self.compiled.undeclared_variables(true).into_iter().collect()
    }
}

/// An author text, such as `Un code a été envoyé à {{ persona.email }}.`
#[derive(Clone, Debug)]
pub struct Text {
    source: Arc<str>,
    /// Its name in [`ENV`], from its content.
    name: Arc<str>,
    /// A static text's HTML, in each shape a page asks for, made once: a
    /// step page shows a dozen texts, and its title, text and hint through
    /// the markup were a quarter of building its view.
    kept: Arc<[OnceLock<Box<str>>; 3]>,
    /// No tag: nothing to render.
    fixed: bool,
}

/// The shapes a static text's HTML is kept in (see [`Text::shown`]).
#[derive(Clone, Copy, Debug)]
pub enum Shape {
    /// Escaped, as rendered.
    Escaped,
    /// Escaped, then through the inline markup (a title).
    Inline,
    /// Escaped, then through the block markup (paragraphs and lists).
    Block,
}

/// Escapes the HTML special characters of a template's literal text, not
/// of its tags: what an author writes never becomes markup, while what the
/// tags print is escaped by the environment.
pub(crate) fn escape_literals(source: &str) -> String {
    let mut out = String::with_capacity(source.len() + 16);
    let mut rest = source;
    loop {
        // One scan to the next tag: searching for each opener through the
        // whole rest made a long template quadratic (seconds for 100 KB).
        let opener = rest.as_bytes().windows(2).position(|w| w[0] == b'{' && matches!(w[1], b'{' | b'%' | b'#'));
        let Some(at) = opener else {
            out.push_str(&minijinja::HtmlEscape(rest).to_string());
            return out;
        };
        out.push_str(&minijinja::HtmlEscape(&rest[..at]).to_string());
        let closer = match rest.as_bytes()[at + 1] {
            b'{' => "}}",
            b'%' => "%}",
            _ => "#}",
        };
        match rest[at..].find(closer) {
            Some(end) => {
                out.push_str(&rest[at..at + end + 2]);
                rest = &rest[at + end + 2..];
            }
            None => {
                // Unclosed: left as is, for the parser to report.
                out.push_str(&rest[at..]);
                return out;
            }
        }
    }
}

impl Text {
    pub fn compile(source: &str) -> Result<Text, ExprError> {
        check_line_lengths(source)?;
        let mut h = std::hash::DefaultHasher::new();
        source.hash(&mut h);
        let name: Arc<str> = format!("t{:016x}{}", h.finish(), source.len()).into();
        {
            let mut texts = TEXTS.write().unwrap_or_else(|p| p.into_inner());
            texts.entry(name.to_string()).or_insert_with(|| escape_literals(source).into());
            texts.entry(format!("{name}{PLAIN}")).or_insert_with(|| source.into());
        }
        ENV.get_template(&name)?;
        let fixed = !source.contains("{{") && !source.contains("{%");
        Ok(Text { source: source.into(), name, kept: Arc::default(), fixed })
    }

    /// Renders, then puts the HTML through `mark`, the markup of `shape`
    /// (always the same one for a shape): a static text's result is made
    /// once and kept with it.
    pub fn shown(&self, ctx: &Value, shape: Shape, mark: fn(&str) -> String) -> Result<String, ExprError> {
        if self.is_static() {
            let kept = self.kept[shape as usize].get_or_init(|| mark(&minijinja::HtmlEscape(&self.source).to_string()).into());
            return Ok(String::from(&**kept));
        }
        Ok(mark(&ENV.get_template(&self.name)?.render(ctx.clone())?))
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Renders with HTML escaping, of the author's own words too: the
    /// result is safe inside HTML.
    pub fn render(&self, ctx: &Value) -> Result<String, ExprError> {
        if self.is_static() {
            return self.shown(ctx, Shape::Escaped, str::to_owned);
        }
        Ok(ENV.get_template(&self.name)?.render(ctx.clone())?)
    }

    /// Renders without escaping, for values that never reach a page
    /// (what a walkthrough types into a form).
    pub fn render_plain(&self, ctx: &Value) -> Result<String, ExprError> {
        if self.is_static() {
            return Ok(self.source.to_string());
        }
        Ok(ENV.get_template(&format!("{}{PLAIN}", self.name))?.render(ctx.clone())?)
    }

    /// The variables read, as dotted paths.
    pub fn variables(&self) -> BTreeSet<String> {
        match ENV.get_template(&self.name) {
            Ok(t) => t.undeclared_variables(true).into_iter().collect(),
            Err(_) => BTreeSet::new(),
        }
    }

    /// Whether the text is plain, with nothing to render.
    pub fn is_static(&self) -> bool {
        self.fixed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::context;

    /// A dotted path read by lookups gives what the expression machine
    /// gives, value or error, whatever the path meets on its way.
    #[test]
    fn a_path_reads_as_the_machine_reads_it() {
        let ctx = context! {
            persona => context! { nom => "Martin", age => 41, conjoint => context! { nom => "Durand" }, vide => (), liste => vec![1, 2] },
            answers => context! { items => "x" },
        };
        let sources = [
            "persona.nom",
            " persona.conjoint.nom ",
            "persona.age",
            "persona.vide",
            "persona.liste",
            "answers.items",
            "persona.absent",
            "persona.vide.nom",
            "persona.nom.upper",
            "absent.nom",
            "none.x",
            "persona.liste.0",
        ];
        for source in sources {
            let e = Expr::compile(source).unwrap();
            let machine = e.compiled.eval(ctx.clone()).map_err(ExprError::from).and_then(|v| {
                if v.is_undefined() { Err(ExprError(format!("undefined value: `{}` names nothing", source.trim()))) } else { Ok(v) }
            });
            let ours = e.eval(&ctx);
            assert_eq!(format!("{ours:?}"), format!("{machine:?}"), "{source}");
        }
        assert!(dotted("persona.nom").is_some() && dotted("persona").is_none() && dotted("persona.liste.0").is_none());
        assert!(dotted("persona .nom").is_none() && dotted("persona.nom | upper").is_none());
    }

    /// A static text is marked once and kept, per shape; a text with tags
    /// is rendered with each context.
    #[test]
    fn static_texts_are_marked_once() {
        let t = Text::compile("Vous & moi").unwrap();
        let shout: fn(&str) -> String = |h| h.to_uppercase();
        assert_eq!(t.shown(&Value::UNDEFINED, Shape::Block, shout).unwrap(), "VOUS &AMP; MOI");
        assert_eq!(t.clone().shown(&Value::UNDEFINED, Shape::Block, str::to_owned).unwrap(), "VOUS &AMP; MOI", "kept");
        assert_eq!(t.shown(&Value::UNDEFINED, Shape::Inline, str::to_owned).unwrap(), "Vous &amp; moi");
        assert_eq!(t.render(&Value::UNDEFINED).unwrap(), "Vous &amp; moi");
        let d = Text::compile("Bonjour {{ nom }}").unwrap();
        assert!(!d.is_static() && t.is_static());
        assert_eq!(d.shown(&context! { nom => "<b>" }, Shape::Block, shout).unwrap(), "BONJOUR &LT;B&GT;");
        assert_eq!(d.shown(&context! { nom => "Léa" }, Shape::Block, shout).unwrap(), "BONJOUR LÉA");
    }

    #[test]
    fn expressions_evaluate_and_list_their_variables() {
        let e = Expr::compile("persona.situation_familiale in ['marie', 'pacse'] and answers.x > 3").unwrap();
        let ctx = context! { persona => context! { situation_familiale => "marie" }, answers => context! { x => 5 } };
        assert!(e.test(&ctx).unwrap());
        let vars: Vec<String> = e.variables().into_iter().collect();
        assert_eq!(vars, vec!["answers.x", "persona.situation_familiale"]);
    }

    #[test]
    fn undefined_is_an_error() {
        let e = Expr::compile("persona.nope").unwrap();
        let err = e.eval(&context! { persona => context! {} }).unwrap_err();
        assert!(err.0.starts_with("undefined value"), "{err}");
    }

    #[test]
    fn syntax_errors_are_reported() {
        let err = Expr::compile("answers.x >").unwrap_err();
        assert!(err.0.starts_with("syntax error"), "{err}");
    }

    #[test]
    fn computed_tax_example() {
        let e = Expr::compile("[0, ((answers['1AJ'] * 0.9) - 11497) * 0.11] | max | round").unwrap();
        let answers = Value::from(std::collections::BTreeMap::from([("1AJ", 24000)]));
        let v = e.eval(&context! { answers }).unwrap();
        assert_eq!(f64::try_from(v).unwrap(), 1111.0);
    }

    #[test]
    fn texts_are_escaped() {
        let t = Text::compile("Bonjour {{ name }} !").unwrap();
        assert_eq!(t.render(&context! { name => "<script>" }).unwrap(), "Bonjour &lt;script&gt; !");
    }

    #[test]
    fn author_markup_is_escaped_too() {
        let t = Text::compile("<b>Salaires & primes</b> {% if n > 1 %}{{ n }}{% endif %}").unwrap();
        assert_eq!(t.render(&context! { n => 2 }).unwrap(), "&lt;b&gt;Salaires &amp; primes&lt;&#x2f;b&gt; 2");
        assert_eq!(t.render_plain(&context! { n => 2 }).unwrap(), "<b>Salaires & primes</b> 2");
        assert_eq!(escape_literals("a < b {{ x < 3 }} c"), "a &lt; b {{ x < 3 }} c");
    }

    #[test]
    fn endless_loops_run_out_of_fuel() {
        let t = Text::compile("{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}").unwrap();
        let err = t.render(&context! {}).unwrap_err();
        assert!(err.0.contains("fuel"), "{err}");
    }

    #[test]
    fn qr_codes_are_inline_svg() {
        let t = Text::compile("{{ 'PD-2026-1234' | qr }}").unwrap();
        let svg = t.render(&context! {}).unwrap();
        assert!(svg.starts_with("<svg role=\"img\" aria-label=\"Code QR\""), "{svg}");
        assert!(svg.contains("<path") || svg.contains("<rect"));
    }

    #[test]
    fn money_and_months() {
        assert_eq!(money(&Value::from(24000)), "24\u{202f}000 €");
        assert_eq!(money(&Value::from(1234.5)), "1\u{202f}234,50 €");
        let t = Text::compile("{{ mois(-2) }}").unwrap();
        assert_eq!(t.render(&context! { today => context! { year => 2026, month => 1 } }).unwrap(), "novembre 2025");
        // A line beyond minijinja's 16-bit columns is refused, not compiled.
        let long = "x".repeat(70_000) + "{{ }}";
        assert_eq!(Text::compile(&long).unwrap_err().0, "a line is 70005 characters long; at most 60000");
        assert!(Expr::compile(&format!("{} +", "1".repeat(70_000))).is_err());
        // An absurd offset saturates rather than overflow.
        let far = Text::compile("{{ mois(9223372036854775807) }}").unwrap();
        assert!(far.render(&context! { today => context! { year => 2026, month => 1 } }).is_ok());
    }

    #[test]
    fn months_and_names_take_de_as_french_does() {
        let september = context! { today => context! { year => 2026, month => 9 }, persona => context! { prenom => "Audrey", age => 1 } };
        let t = Text::compile("Votre actualisation {{ mois(-1) | de }}").unwrap();
        assert_eq!(t.render(&september).unwrap(), "Votre actualisation d&#x27;août 2026");
        assert_eq!(t.render_plain(&september).unwrap(), "Votre actualisation d'août 2026");
        let t = Text::compile("Vos ressources {{ mois(-5) | de }} à {{ mois(-3) }}").unwrap();
        assert_eq!(t.render_plain(&september).unwrap(), "Vos ressources d'avril 2026 à juin 2026");
        let t = Text::compile("Salaires {{ persona.prenom | de }}, {{ persona.age | ans }}").unwrap();
        assert_eq!(t.render_plain(&september).unwrap(), "Salaires d'Audrey, 1 an");
    }
}
