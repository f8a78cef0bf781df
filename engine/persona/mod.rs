//! The fictitious person of a rehearsal.
//!
//! A seed and a spec always give the same person, so a persona is never
//! stored: it is derived again whenever needed. Each value is drawn from its
//! own ChaCha stream keyed by the field's name, so the same seed gives the
//! same name, address and identifiers in every scenario, whatever else each
//! scenario adds.

pub(crate) mod activity;
pub(crate) mod bounds;
pub(crate) mod household;
pub(crate) mod ids;
pub(crate) mod names;
pub(crate) mod places;
pub(crate) mod spec;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value, json};
use spec::{Generator, IntRange, PersonaSpecFile, Sexe, Situation};
use time::{Date, Duration, Month};

/// The validated persona spec of a scenario.
#[derive(Clone, Debug)]
pub struct PersonaSpec {
    pub age: IntRange,
    pub sexes: Vec<char>,
    pub situations: Vec<Situation>,
    /// Activities to draw from; empty: drawn by age.
    pub statuts: Vec<activity::Statut>,
    pub children: IntRange,
    pub rfr: IntRange,
    /// Extra card lines: field path and label.
    pub card: Vec<(String, String)>,
    /// Scenario-specific generators, in the order written.
    pub fields: Vec<(String, Generator)>,
    /// The date the persona's ages and relative dates are counted from.
    pub reference: Date,
}

impl PersonaSpec {
    pub fn from_file(file: &PersonaSpecFile, reference: Date) -> PersonaSpec {
        PersonaSpec {
            age: file.age.as_ref().map_or(IntRange::new(25, 75), |a| a.value),
            sexes: match &file.sexe {
                Some(list) if !list.is_empty() => list.iter().map(|s| if s.value == Sexe::F { 'F' } else { 'M' }).collect(),
                _ => vec!['F', 'M'],
            },
            situations: match &file.situation_familiale {
                Some(list) if !list.is_empty() => list.iter().map(|s| s.value).collect(),
                _ => Situation::ALL.to_vec(),
            },
            statuts: file.statut.iter().flatten().map(|s| s.value).collect(),
            children: file.enfants.as_ref().map_or(IntRange::new(0, 2), |e| e.value),
            rfr: file.revenu_fiscal_reference.as_ref().map_or(IntRange::new(9_000, 42_000), |r| r.value),
            card: file
                .card
                .iter()
                .map(|c| match &c.value {
                    spec::CardEntry::Field(f) => (f.clone(), label_of(f)),
                    spec::CardEntry::Labelled(l) => (l.field.value.clone(), l.label.clone()),
                })
                .collect(),
            fields: file.fields.iter().map(|(k, v)| (k.value.clone(), v.value.clone())).collect(),
            reference,
        }
    }

    /// A spec with every default, counted from `reference`.
    pub fn default_at(reference: Date) -> PersonaSpec {
        PersonaSpec::from_file(&PersonaSpecFile::default(), reference)
    }

    /// Every top-level field a persona of this spec has.
    pub fn field_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = BUILTIN.iter().map(|b| b.name).collect();
        for (name, _) in &self.fields {
            if !names.contains(&name.as_str()) {
                names.push(name);
            }
        }
        names
    }

    /// Whether `path` (such as `adresse.code_postal`) names a persona value.
    pub fn has_path(&self, path: &str) -> bool {
        let mut parts = path.split('.');
        let Some(head) = parts.next() else { return false };
        if self.fields.iter().any(|(n, _)| n == head) {
            return parts.next().is_none();
        }
        let Some(builtin) = BUILTIN.iter().find(|b| b.name == head) else { return false };
        match parts.next() {
            None => true,
            Some(sub) => builtin.sub.contains(&sub) || (builtin.list && sub.parse::<usize>().is_ok()),
        }
    }
}

/// A built-in persona field: its name, its card label, and its sub-keys.
pub(crate) struct Builtin {
    pub name: &'static str,
    pub label: &'static str,
    pub sub: &'static [&'static str],
    /// A list (children): items are reached by index.
    pub list: bool,
}

const fn b(name: &'static str, label: &'static str) -> Builtin {
    Builtin { name, label, sub: &[], list: false }
}

const PERSON: &[&str] = &["prenom", "nom", "sexe", "civilite", "date_naissance", "age", "nir"];

/// Every persona has these, whatever the spec.
pub(crate) const BUILTIN: &[Builtin] = &[
    b("prenom", "Prénom"),
    b("nom", "Nom"),
    b("sexe", "Sexe"),
    b("civilite", "Civilité"),
    b("date_naissance", "Date de naissance"),
    b("age", "Âge"),
    b("lieu_naissance", "Lieu de naissance"),
    b("departement_naissance", "Département de naissance"),
    Builtin { name: "adresse", label: "Adresse", sub: &["numero", "voie", "code_postal", "commune", "ligne", "complete"], list: false },
    b("telephone", "Téléphone portable"),
    b("telephone_fixe", "Téléphone fixe"),
    b("email", "Adresse électronique"),
    b("mot_de_passe", "Mot de passe"),
    b("numero_fiscal", "Numéro fiscal"),
    b("numero_acces_en_ligne", "Numéro d'accès en ligne"),
    b("revenu_fiscal_reference", "Revenu fiscal de référence"),
    b("reference_avis", "Référence de l'avis d'impôt"),
    b("nir", "Numéro de sécurité sociale"),
    b("nir_sans_cle", "Numéro de sécurité sociale (13 chiffres)"),
    b("iban", "IBAN"),
    b("bic", "BIC"),
    b("banque", "Banque"),
    b("numero_allocataire", "Numéro allocataire CAF"),
    b("identifiant_france_travail", "Identifiant France Travail"),
    b("employeur", "Employeur"),
    b("statut", "Activité"),
    b("statut_libelle", "Activité"),
    b("pension_base", "Retraite de base (par mois)"),
    b("pension_complementaire", "Retraite complémentaire (par mois)"),
    b("allocation_chomage", "Allocation chômage (ARE, par mois)"),
    b("indemnites_journalieres", "Indemnités journalières (par mois)"),
    b("situation_familiale", "Situation familiale"),
    b("situation_familiale_libelle", "Situation familiale"),
    Builtin { name: "conjoint", label: "Conjoint", sub: PERSON, list: false },
    Builtin { name: "enfants", label: "Enfants", sub: &[], list: true },
    b("nombre_enfants", "Nombre d'enfants"),
];

/// The card label of a field: the built-in one, or the name made readable.
pub(crate) fn label_of(field: &str) -> String {
    if let Some(b) = BUILTIN.iter().find(|b| b.name == field) {
        return b.label.to_owned();
    }
    let spaced = field.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// One fictitious person.
#[derive(Clone, Debug)]
pub struct Persona {
    /// The seed the persona was generated from.
    pub seed: u64,
    /// The persona's values, by name.
    pub values: Map<String, Value>,
    /// The date its ages are counted at.
    pub today: Date,
    /// The values as templates and expressions see them, made once.
    template_value: std::sync::OnceLock<minijinja::Value>,
}

impl PartialEq for Persona {
    fn eq(&self, other: &Persona) -> bool {
        self.seed == other.seed && self.values == other.values && self.today == other.today
    }
}

impl Persona {
    /// A persona with these values, its ages counted on `today`.
    pub fn new(seed: u64, values: Map<String, Value>, today: Date) -> Persona {
        Persona { seed, values, today, template_value: std::sync::OnceLock::new() }
    }

    /// The same person on another day: only the ages change (the person's,
    /// the spouse's, the children's), counted from their birth dates. A
    /// rehearsal's pages say what day it is, and the card must agree.
    pub fn on(&self, today: Date) -> Persona {
        let mut values = self.values.clone();
        let age_at = |person: &mut Value| {
            let born = person.get("date_naissance").and_then(Value::as_str).and_then(parse_date);
            if let (Some(born), Some(m)) = (born, person.as_object_mut()) {
                m.insert("age".into(), json!(age_on(born, today)));
            }
        };
        let mut whole = Value::Object(std::mem::take(&mut values));
        age_at(&mut whole);
        if let Some(c) = whole.get_mut("conjoint") {
            age_at(c);
        }
        if let Some(Value::Array(children)) = whole.get_mut("enfants") {
            children.iter_mut().for_each(age_at);
        }
        let Value::Object(values) = whole else { unreachable!("made from a map") };
        Persona::new(self.seed, values, today)
    }

    /// About how many bytes this persona holds, itself included: its
    /// values, and their copy as templates read them (made on first use).
    pub fn approx_bytes(&self) -> usize {
        use crate::memory::{json, map_entry, text};
        let values: usize = self.values.iter().map(|(k, v)| map_entry::<String, Value>() + text(k) + json(v)).sum();
        std::mem::size_of::<Persona>() + 2 * values
    }

    /// The persona as expressions read it (`persona.nom`...).
    pub fn template_value(&self) -> &minijinja::Value {
        self.template_value.get_or_init(|| to_template(&self.values))
    }

    /// The persona with each value replaced by its label in brackets, for a
    /// text a whole room sees: "Bonjour (prénom) (nom)", not one person's name.
    pub fn placeholders(&self) -> minijinja::Value {
        let bracket = |label: String| {
            let mut chars = label.chars();
            let first: String = chars.next().map(|c| c.to_lowercase().collect()).unwrap_or_default();
            json!(format!("({first}{})", chars.as_str()))
        };
        let mut out = Map::new();
        for (name, value) in &self.values {
            let placeholder = match value {
                Value::Object(sub) => {
                    let whose = if name == "conjoint" { " du conjoint" } else { "" };
                    Value::Object(sub.keys().map(|k| (k.clone(), bracket(format!("{}{whose}", label_of(k))))).collect())
                }
                Value::Array(_) => json!([]),
                _ => bracket(label_of(name)),
            };
            out.insert(name.clone(), placeholder);
        }
        to_template(&out)
    }

    /// The value named `field`, if any.
    pub fn get(&self, field: &str) -> Option<&Value> {
        self.values.get(field)
    }

    /// A top-level value as text (numbers too).
    pub fn text(&self, field: &str) -> String {
        match self.values.get(field) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        }
    }

    /// The value at a dotted path, such as `adresse.code_postal`.
    pub fn path(&self, path: &str) -> Option<&Value> {
        let mut parts = path.split('.');
        let mut at = self.values.get(parts.next()?)?;
        for part in parts {
            at = match at {
                Value::Object(m) => m.get(part)?,
                Value::Array(a) => a.get(part.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(at)
    }
}

/// A stream of randomness for one field of one seed.
fn stream(seed: u64, field: &str) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // FNV-1a of the field name picks the stream: stable across builds.
    let key = field.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    rng.set_stream(key);
    rng
}

/// A number of `r`, cut to `bounds`: the checker refuses ranges beyond
/// them, and a spec made some other way must not panic or overflow either.
fn in_range(rng: &mut ChaCha8Rng, r: IntRange, bounds: IntRange) -> i64 {
    let r = r.clamped(bounds);
    rng.random_range(r.min..=r.max)
}

/// `JJ/MM/AAAA`, as French forms write dates.
pub fn format_date(d: Date) -> String {
    format!("{:02}/{:02}/{}", d.day(), u8::from(d.month()), d.year())
}

/// `values` as templates read them. Made here rather than through `expr`,
/// which sits above the persona (its filters format persona identifiers).
fn to_template<T: serde::Serialize>(values: &T) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(values))
}

/// `JJ/MM/AAAA` read back.
pub fn parse_date(text: &str) -> Option<Date> {
    let mut parts = text.split('/');
    let day: u8 = parts.next()?.parse().ok()?;
    let month: u8 = parts.next()?.parse().ok()?;
    let year: i32 = parts.next()?.parse().ok()?;
    Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()
}

/// A birth date that makes the person exactly `age` on `reference`.
/// Saturates at the calendar's ends rather than panic.
fn birth_date(rng: &mut ChaCha8Rng, age: i64, reference: Date) -> Date {
    let year = i32::try_from(i64::from(reference.year()) - age).unwrap_or(reference.year());
    let latest = reference.replace_year(year).or_else(|_| Date::from_calendar_date(year, Month::February, 28)).unwrap_or(reference);
    let days_back = rng.random_range(0..365);
    latest.checked_sub(Duration::days(days_back)).unwrap_or(latest)
}

/// `days` from `reference`, saturating at the calendar's ends.
fn days_from(reference: Date, days: i64) -> Date {
    reference.checked_add(Duration::days(days)).unwrap_or(if days < 0 { Date::MIN } else { Date::MAX })
}

/// Full years from `birth` to `reference`: a birthday counts on its day.
pub(crate) fn age_on(birth: Date, reference: Date) -> i64 {
    let mut age = i64::from(reference.year() - birth.year());
    if (reference.month() as u8, reference.day()) < (birth.month() as u8, birth.day()) {
        age -= 1;
    }
    age
}

const PASSWORD_WORDS: &[&str] =
    &["Cerise", "Soleil", "Jardin", "Horizon", "Violette", "Marine", "Printemps", "Lumiere", "Colline", "Rivage", "Noisette", "Azur"];
const TRADES: &[&str] = &[
    "Boulangerie",
    "Transports",
    "Menuiserie",
    "Jardins",
    "Services à domicile",
    "Nettoyage",
    "Restaurant",
    "Garage",
    "Librairie",
    "Maraîchage",
];

/// Generates the persona of `seed` under `spec`.
pub fn generate(spec: &PersonaSpec, seed: u64) -> Persona {
    let mut v = Map::new();
    let r = |field: &str| stream(seed, field);

    let sexe = {
        let mut rng = r("sexe");
        spec.sexes[rng.random_range(0..spec.sexes.len())]
    };
    let prenom = names::first_name(&mut r("prenom"), sexe);
    let nom = names::last_name(&mut r("nom"));
    // The household is drawn as a whole: how many children first, since a
    // parent's age must allow them.
    let children = in_range(&mut r("nombre_enfants"), spec.children, bounds::CHILDREN);
    let age = in_range(&mut r("age"), household::parent_ages(spec.age.clamped(bounds::AGE), children), bounds::AGE);
    let naissance = birth_date(&mut r("date_naissance"), age, spec.reference);
    let lieu = places::pick_commune(&mut r("lieu_naissance"));
    let nir = ids::generate_nir(&mut r("nir"), sexe, naissance.year(), lieu.insee);

    v.insert("prenom".into(), json!(prenom));
    v.insert("nom".into(), json!(nom));
    v.insert("sexe".into(), json!(sexe.to_string()));
    v.insert("civilite".into(), json!(if sexe == 'F' { "Madame" } else { "Monsieur" }));
    v.insert("date_naissance".into(), json!(format_date(naissance)));
    v.insert("age".into(), json!(age_on(naissance, spec.reference)));
    v.insert("lieu_naissance".into(), json!(lieu.name));
    // The département is in the INSEE code: 2 characters, 3 overseas.
    let departement = if lieu.insee.starts_with("97") { &lieu.insee[..3] } else { &lieu.insee[..2] };
    v.insert("departement_naissance".into(), json!(departement));

    let home = {
        let mut rng = r("adresse");
        let commune = places::pick_commune(&mut rng);
        let numero = rng.random_range(1..=120u32);
        let voie = places::street_name(&mut rng);
        let ligne = format!("{numero} {voie}");
        json!({
            "numero": numero.to_string(),
            "voie": voie,
            "code_postal": commune.postcode,
            "commune": commune.name,
            "ligne": ligne,
            "complete": format!("{ligne}, {} {}", commune.postcode, commune.name),
        })
    };
    v.insert("adresse".into(), home);
    v.insert("telephone".into(), json!(ids::generate_mobile(&mut r("telephone"))));
    v.insert("telephone_fixe".into(), json!(ids::generate_landline(&mut r("telephone_fixe"))));
    v.insert("email".into(), json!(format!("{}@example.org", names::ascii_slug(&prenom, &nom))));
    v.insert("mot_de_passe".into(), json!(password(&mut r("mot_de_passe"))));
    v.insert("numero_fiscal".into(), json!(ids::generate_numero_fiscal(&mut r("numero_fiscal"))));
    v.insert("numero_acces_en_ligne".into(), json!(ids::generate_numero_acces(&mut r("numero_acces_en_ligne"))));
    v.insert("revenu_fiscal_reference".into(), json!(in_range(&mut r("revenu_fiscal_reference"), spec.rfr, bounds::MONEY)));
    v.insert("reference_avis".into(), json!(ids::generate_reference_avis(&mut r("reference_avis"), spec.reference.year())));
    v.insert("nir".into(), json!(nir));
    v.insert("nir_sans_cle".into(), json!(nir[..13].to_owned()));
    v.insert("iban".into(), json!(ids::generate_iban(&mut r("iban"))));
    v.insert("bic".into(), json!(ids::FICTITIOUS_BIC));
    v.insert("banque".into(), json!("Banque Simulée du Centre"));
    v.insert("numero_allocataire".into(), json!(ids::generate_numero_allocataire(&mut r("numero_allocataire"))));
    v.insert("identifiant_france_travail".into(), json!(ids::generate_identifiant_ft(&mut r("identifiant_france_travail"))));
    let statut = activity::Statut::draw(&mut r("statut"), age, &spec.statuts);
    // A retiree has no employer.
    v.insert("employeur".into(), if statut == activity::Statut::Retraite { Value::Null } else { json!(employer(&mut r("employeur"))) });
    v.insert("statut".into(), json!(statut.code()));
    v.insert("statut_libelle".into(), json!(statut.label(sexe)));
    for (name, amount) in activity::monthly_amounts(statut, &mut |field| stream(seed, field)) {
        v.insert(name.into(), json!(amount));
    }

    let situation = {
        let mut rng = r("situation_familiale");
        spec.situations[rng.random_range(0..spec.situations.len())]
    };
    v.insert("situation_familiale".into(), json!(situation.code()));
    v.insert("situation_familiale_libelle".into(), json!(situation.label(sexe)));
    let conjoint = situation.has_partner().then(|| {
        let mut rng = r("conjoint");
        let other = if sexe == 'F' { 'M' } else { 'F' };
        let prenom = names::first_name(&mut rng, other);
        let age = household::spouse_age(&mut rng, age, children);
        let naissance = birth_date(&mut rng, age, spec.reference);
        let lieu = places::pick_commune(&mut rng);
        let nir = ids::generate_nir(&mut rng, other, naissance.year(), lieu.insee);
        (age, person(&prenom, &nom, other, naissance, spec.reference, Some(nir)))
    });
    let enfants: Vec<Value> = {
        let mut rng = r("enfants");
        let ages = household::child_ages(age, conjoint.as_ref().map(|(a, _)| *a));
        (0..children)
            .map(|_| {
                let sexe = if rng.random_bool(0.5) { 'F' } else { 'M' };
                let prenom = names::first_name(&mut rng, sexe);
                let child_age = rng.random_range(ages.min..=ages.max);
                let naissance = birth_date(&mut rng, child_age, spec.reference);
                json!(person(&prenom, &nom, sexe, naissance, spec.reference, None))
            })
            .collect()
    };
    let has_spouse = conjoint.is_some();
    v.insert("conjoint".into(), conjoint.map_or(Value::Null, |(_, c)| json!(c)));
    v.insert("nombre_enfants".into(), json!(enfants.len()));
    v.insert("enfants".into(), Value::Array(enfants));

    for (name, generator) in &spec.fields {
        // A spouse's value (`salaires_conjoint`) only when there is a spouse:
        // a widow's card must not show her late husband's salary.
        let value = if household::about_the_spouse(name) && !has_spouse {
            Value::Null
        } else {
            custom(generator, &mut r(name), sexe, &prenom, &nom, spec.reference)
        };
        v.insert(name.clone(), value);
    }
    Persona::new(seed, v, spec.reference)
}

fn person(prenom: &str, nom: &str, sexe: char, naissance: Date, reference: Date, nir: Option<String>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("prenom".into(), json!(prenom));
    m.insert("nom".into(), json!(nom));
    m.insert("sexe".into(), json!(sexe.to_string()));
    m.insert("civilite".into(), json!(if sexe == 'F' { "Madame" } else { "Monsieur" }));
    m.insert("date_naissance".into(), json!(format_date(naissance)));
    m.insert("age".into(), json!(age_on(naissance, reference)));
    m.insert("nir".into(), nir.map_or(Value::Null, Value::String));
    m
}

fn password(rng: &mut ChaCha8Rng) -> String {
    let word = PASSWORD_WORDS[rng.random_range(0..PASSWORD_WORDS.len())];
    format!("{word}-{:04}", rng.random_range(1000..10_000u32))
}

fn employer(rng: &mut ChaCha8Rng) -> String {
    let trade = TRADES[rng.random_range(0..TRADES.len())];
    format!("{trade} {}", names::last_name(rng))
}

fn custom(g: &Generator, rng: &mut ChaCha8Rng, sexe: char, prenom: &str, nom: &str, reference: Date) -> Value {
    match g {
        Generator::Prenom => json!(names::first_name(rng, sexe)),
        Generator::PrenomFeminin => json!(names::first_name(rng, 'F')),
        Generator::PrenomMasculin => json!(names::first_name(rng, 'M')),
        Generator::Nom => json!(names::last_name(rng)),
        Generator::Email => json!(format!("{}@example.org", names::ascii_slug(prenom, nom))),
        Generator::Telephone => json!(ids::generate_mobile(rng)),
        Generator::MotDePasse => json!(password(rng)),
        Generator::NumeroFiscal => json!(ids::generate_numero_fiscal(rng)),
        Generator::Nir => json!(ids::generate_nir(rng, sexe, reference.year() - 40, "75056")),
        Generator::Iban => json!(ids::generate_iban(rng)),
        Generator::Employeur => json!(employer(rng)),
        Generator::Money(range) => json!(in_range(rng, range.value, bounds::MONEY)),
        Generator::Number(range) => json!(in_range(rng, range.value, bounds::NUMBER)),
        Generator::Digits(n) => {
            let n = i64::from(n.value).min(bounds::DIGITS.max);
            json!((0..n).map(|_| char::from(b'0' + rng.random_range(0..10u8))).collect::<String>())
        }
        Generator::Date(days) => json!(format_date(days_from(reference, in_range(rng, days.value, bounds::DATE_DAYS)))),
        Generator::Fixed(value) => json!(value.value),
        Generator::Choice(options) if options.is_empty() => Value::Null,
        Generator::Choice(options) => json!(options[rng.random_range(0..options.len())]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::Located;
    use time::macros::date;

    fn spec() -> PersonaSpec {
        PersonaSpec::default_at(date!(2026 - 04 - 01))
    }

    #[test]
    fn same_seed_same_person() {
        assert_eq!(generate(&spec(), 42), generate(&spec(), 42));
        assert_ne!(generate(&spec(), 42).values["nom"], generate(&spec(), 43).values["nom"]);
    }

    #[test]
    fn identity_is_shared_across_scenarios() {
        let mut other = spec();
        other.fields.push(("salaires".into(), Generator::Money(Located::new(IntRange::new(1, 2), Default::default()))));
        other.situations = vec![Situation::Celibataire];
        let (a, b) = (generate(&spec(), 9), generate(&other, 9));
        for field in ["prenom", "nom", "numero_fiscal", "nir", "iban", "adresse", "email"] {
            assert_eq!(a.values[field], b.values[field], "{field}");
        }
    }

    #[test]
    fn many_seeds_give_valid_fictitious_people() {
        let spec = spec();
        for seed in 0..2_000 {
            let p = generate(&spec, seed);
            let nf = p.text("numero_fiscal");
            assert!(ids::numero_fiscal_valid(&nf) && ids::numero_fiscal_fictitious(&nf));
            let nir = p.text("nir");
            assert!(ids::nir_valid(&nir) && ids::nir_fictitious(&nir), "{nir}");
            assert_eq!(nir.starts_with('2'), p.text("sexe") == "F");
            let iban = p.text("iban");
            assert!(ids::iban_valid(&iban) && ids::iban_fictitious(&iban));
            assert!(ids::phone_fictitious(&p.text("telephone")));
            assert!(ids::phone_fictitious(&p.text("telephone_fixe")));
            assert!(p.text("email").ends_with("@example.org") && ids::email_valid(&p.text("email")));
            let age = p.get("age").and_then(Value::as_i64).unwrap();
            assert!((25..=75).contains(&age), "age {age}");
            assert_eq!(names::sex_of(&p.text("prenom")), p.text("sexe").chars().next());
            if let Some(conjoint) = p.get("conjoint").filter(|c| !c.is_null()) {
                assert!(ids::nir_valid(conjoint["nir"].as_str().unwrap()));
            }
            for child in p.get("enfants").unwrap().as_array().unwrap() {
                assert!(child["age"].as_i64().unwrap() <= age - 18);
            }
        }
    }

    /// Over 5 000 seeds and every situation, a household holds together.
    #[test]
    fn households_hold_together() {
        let mut s = spec();
        s.children = IntRange::new(0, 4);
        s.fields.push(("salaires_conjoint".into(), Generator::Money(Located::new(IntRange::new(12_000, 36_000), Default::default()))));
        let (mut spouses, mut widowed, mut retired) = (0, 0, 0);
        for seed in 0..5_000 {
            let p = generate(&s, seed);
            let age = p.get("age").and_then(Value::as_i64).unwrap();
            assert!((25..=75).contains(&age), "age {age}");
            let situation = p.text("situation_familiale");
            let conjoint = p.get("conjoint").unwrap();
            let partnered = situation == "marie" || situation == "pacse";
            assert_eq!(conjoint.is_object(), partnered, "seed {seed}: {situation} and a spouse {conjoint}");
            // A spouse's income only with a spouse: none for a widow.
            assert_eq!(p.get("salaires_conjoint").unwrap().is_number(), partnered, "seed {seed}");
            widowed += usize::from(situation == "veuf");
            let spouse_age = conjoint.get("age").and_then(Value::as_i64);
            if let Some(spouse) = spouse_age {
                spouses += 1;
                assert!((spouse - age).abs() <= household::SPOUSE_GAP && spouse >= 18, "seed {seed}: {age} and {spouse}");
                assert_eq!(conjoint["nom"], p.values["nom"]);
                assert!(ids::nir_valid(conjoint["nir"].as_str().unwrap()) && ids::nir_fictitious(conjoint["nir"].as_str().unwrap()));
            }
            for child in p.get("enfants").unwrap().as_array().unwrap() {
                let child_age = child["age"].as_i64().unwrap();
                // Both parents 18 to 45 at the birth.
                for parent in [Some(age), spouse_age].into_iter().flatten() {
                    assert!((18..=45).contains(&(parent - child_age)), "seed {seed}: a parent of {parent}, a child of {child_age}");
                    assert!(child_age <= parent - 16);
                }
                assert!(child_age <= 24);
                assert_eq!(child["nom"], p.values["nom"], "seed {seed}");
                let born = parse_date(child["date_naissance"].as_str().unwrap()).unwrap();
                assert_eq!(age_on(born, s.reference), child_age);
            }
            let born = parse_date(&p.text("date_naissance")).unwrap();
            assert_eq!(age_on(born, s.reference), age);
            // What the person lives on agrees with the age.
            let statut = p.text("statut");
            let amount = |k: &str| p.get(k).and_then(Value::as_i64).unwrap();
            if age >= activity::ALL_RETIRED {
                assert_eq!(statut, "retraite", "seed {seed}");
            }
            if age < activity::RETIREMENT_AGE {
                assert_ne!(statut, "retraite", "seed {seed}");
            }
            retired += usize::from(statut == "retraite");
            assert_eq!(statut == "retraite", amount("pension_base") > 0 && amount("pension_complementaire") > 0);
            assert_eq!(statut == "retraite", p.get("employeur").unwrap().is_null(), "a retiree has no employer");
            assert_eq!(statut == "demandeur_emploi", amount("allocation_chomage") > 0);
            assert_eq!(statut == "arret_maladie", amount("indemnites_journalieres") > 0);
            if statut == "retraite" {
                assert!((650..=1_500).contains(&amount("pension_base")) && (150..=900).contains(&amount("pension_complementaire")));
            }
        }
        assert!(spouses > 1_000 && widowed > 500 && retired > 500, "{spouses} spouses, {widowed} widowed, {retired} retired");
    }

    /// Ages are counted on the day asked: born 09/04/1972 is 53 on
    /// 01/04/2026 and 54 on 04/12/2026, the spouse and children too.
    #[test]
    fn ages_are_exact_on_the_day() {
        assert_eq!(age_on(date!(1972 - 04 - 09), date!(2026 - 12 - 04)), 54);
        assert_eq!(age_on(date!(1972 - 04 - 09), date!(2026 - 04 - 08)), 53);
        assert_eq!(age_on(date!(1972 - 04 - 09), date!(2026 - 04 - 09)), 54);
        let mut s = spec();
        s.situations = vec![Situation::Marie];
        s.children = IntRange::new(2, 2);
        let p = generate(&s, 3);
        let later = p.on(date!(2026 - 12 - 04));
        assert_eq!(later.today, date!(2026 - 12 - 04));
        let at = |v: &Value| age_on(parse_date(v["date_naissance"].as_str().unwrap()).unwrap(), date!(2026 - 12 - 04));
        let whole = Value::Object(later.values.clone());
        assert_eq!(later.get("age").unwrap().as_i64().unwrap(), at(&whole));
        assert_eq!(later.get("conjoint").unwrap()["age"].as_i64().unwrap(), at(&later.values["conjoint"]));
        for child in later.get("enfants").unwrap().as_array().unwrap() {
            assert_eq!(child["age"].as_i64().unwrap(), at(child));
        }
        // Eight months on, some are a year older: never younger, never two.
        let before = p.get("age").unwrap().as_i64().unwrap();
        assert!((before..=before + 1).contains(&later.get("age").unwrap().as_i64().unwrap()));
        assert_eq!((p.text("date_naissance"), p.text("nom")), (later.text("date_naissance"), later.text("nom")));
        // A person whose birthday falls between the two days.
        let born_in_april = (0..500).map(|seed| generate(&s, seed)).find(|p| {
            let b = parse_date(&p.text("date_naissance")).unwrap();
            b.month() == Month::April && b.day() > 1
        });
        let p = born_in_april.expect("a birthday in April after the 1st");
        assert_eq!(p.on(date!(2026 - 12 - 04)).get("age").unwrap().as_i64().unwrap(), p.get("age").unwrap().as_i64().unwrap() + 1);
    }

    #[test]
    fn spec_constraints_apply() {
        let mut s = spec();
        s.age = IntRange::new(67, 67);
        s.situations = vec![Situation::Marie];
        s.children = IntRange::new(2, 2);
        s.fields.push(("mot_de_passe".into(), Generator::Fixed(Located::new("Simulation2026!".into(), Default::default()))));
        let p = generate(&s, 5);
        assert_eq!(p.get("age"), Some(&json!(67)));
        assert_eq!(p.text("situation_familiale"), "marie");
        assert!(p.get("conjoint").unwrap().is_object());
        assert_eq!(p.get("nombre_enfants"), Some(&json!(2)));
        assert_eq!(p.text("mot_de_passe"), "Simulation2026!");
    }

    #[test]
    fn generation_never_panics_whatever_the_spec() {
        // Ranges the checker refuses, and calendar ends: generation clamps
        // and saturates rather than panic or make a million children.
        let wild = [
            IntRange::new(i64::MIN, i64::MAX),
            IntRange::new(20_000, 30_000),
            IntRange::new(-999_999, 999_999),
            IntRange::new(0, 3_000_000),
        ];
        for reference in [Date::MIN, Date::MAX, date!(2026 - 04 - 01)] {
            for range in wild {
                let mut s = PersonaSpec::default_at(reference);
                (s.age, s.children, s.rfr) = (range, range, range);
                s.situations = vec![Situation::Marie];
                s.fields = vec![
                    ("d".into(), Generator::Date(Located::new(range, Default::default()))),
                    ("m".into(), Generator::Money(Located::new(range, Default::default()))),
                    ("n".into(), Generator::Number(Located::new(range, Default::default()))),
                    ("c".into(), Generator::Digits(Located::new(u8::MAX, Default::default()))),
                ];
                for seed in 0..50 {
                    let p = generate(&s, seed);
                    let age = p.get("age").and_then(Value::as_i64).unwrap();
                    // At the calendar's first day, nobody can be born before: age 0.
                    assert!(reference == Date::MIN || (bounds::AGE.min - 1..=bounds::AGE.max).contains(&age), "age {age}");
                    assert!(p.get("enfants").unwrap().as_array().unwrap().len() <= bounds::CHILDREN.max as usize);
                    assert_eq!(p.text("c").len(), bounds::DIGITS.max as usize);
                }
            }
        }
    }

    #[test]
    fn paths() {
        let s = spec();
        assert!(s.has_path("adresse.code_postal"));
        assert!(s.has_path("enfants.0"));
        assert!(s.has_path("conjoint.prenom"));
        assert!(!s.has_path("adresse.pays"));
        assert!(!s.has_path("salaire"));
        let p = generate(&s, 1);
        assert_eq!(p.path("adresse.code_postal").unwrap().as_str().unwrap().len(), 5);
    }
}
