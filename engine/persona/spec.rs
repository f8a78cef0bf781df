//! The `persona:` section of a scenario file: which fictitious person to
//! generate. Every key is optional; the defaults give an adult with all the
//! usual identifiers.

use crate::yaml::{Located, Pairs};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;

/// How this scenario's fictitious person is generated.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonaSpecFile {
    /// Age range in years, e.g. `35..70` (default `25..75`), within `16..110`.
    #[serde(default)]
    pub age: Option<Located<IntRange>>,
    /// Sexes to draw from: `[F, M]` (default both).
    #[serde(default)]
    pub sexe: Option<Vec<Located<Sexe>>>,
    /// Family situations to draw from (default all five).
    #[serde(default)]
    pub situation_familiale: Option<Vec<Located<Situation>>>,
    /// Activities to draw from: `salarie`, `arret_maladie`,
    /// `demandeur_emploi`, `retraite` (default: by age, most are retired
    /// from 62 and all from 67).
    #[serde(default)]
    pub statut: Option<Vec<Located<super::activity::Statut>>>,
    /// Number of children, e.g. `0..3` (default `0..2`), within `0..12`.
    #[serde(default)]
    pub enfants: Option<Located<IntRange>>,
    /// Revenu fiscal de référence range in euros (default `9000..42000`),
    /// within `0..10000000`.
    #[serde(default)]
    pub revenu_fiscal_reference: Option<Located<IntRange>>,
    /// Extra lines of the persona card, beyond the identifiers the scenario
    /// uses: a field name, or `{ field, label }`.
    #[serde(default)]
    pub card: Vec<Located<CardEntry>>,
    /// Scenario-specific values, or overrides of the built-in ones: each
    /// name maps to a generator (at most 100).
    #[serde(default)]
    pub fields: Pairs<Located<Generator>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum Sexe {
    F,
    M,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Situation {
    Celibataire,
    Marie,
    Pacse,
    Divorce,
    Veuf,
}

impl Situation {
    pub const ALL: [Situation; 5] = [Situation::Celibataire, Situation::Marie, Situation::Pacse, Situation::Divorce, Situation::Veuf];

    pub fn code(self) -> &'static str {
        match self {
            Situation::Celibataire => "celibataire",
            Situation::Marie => "marie",
            Situation::Pacse => "pacse",
            Situation::Divorce => "divorce",
            Situation::Veuf => "veuf",
        }
    }

    /// As a form would print it, agreed with the person's sex.
    pub fn label(self, sexe: char) -> &'static str {
        let f = sexe == 'F';
        match self {
            Situation::Celibataire => "Célibataire",
            Situation::Marie => {
                if f {
                    "Mariée"
                } else {
                    "Marié"
                }
            }
            Situation::Pacse => {
                if f {
                    "Pacsée"
                } else {
                    "Pacsé"
                }
            }
            Situation::Divorce => {
                if f {
                    "Divorcée"
                } else {
                    "Divorcé"
                }
            }
            Situation::Veuf => {
                if f {
                    "Veuve"
                } else {
                    "Veuf"
                }
            }
        }
    }

    pub fn has_partner(self) -> bool {
        matches!(self, Situation::Marie | Situation::Pacse)
    }
}

/// One extra line on the persona card.
#[derive(Clone, Debug, JsonSchema)]
#[schemars(untagged)]
pub enum CardEntry {
    Field(String),
    Labelled(LabelledCardEntry),
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelledCardEntry {
    /// The persona field to show.
    pub field: Located<String>,
    /// Its label on the card.
    pub label: String,
    /// A condition on the persona (an expression reading `persona.`): the
    /// line shows only when it holds, such as `persona.conjoint`.
    #[serde(default, rename = "if")]
    pub when: Option<Located<String>>,
}

impl CardEntry {
    pub fn field(&self) -> &str {
        match self {
            CardEntry::Field(f) => f,
            CardEntry::Labelled(l) => &l.field.value,
        }
    }
}

impl<'de> Deserialize<'de> for CardEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct EntryVisitor;
        impl<'de> Visitor<'de> for EntryVisitor {
            type Value = CardEntry;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a field name or { field, label }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<CardEntry, E> {
                Ok(CardEntry::Field(v.to_owned()))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<CardEntry, A::Error> {
                LabelledCardEntry::deserialize(de::value::MapAccessDeserializer::new(map)).map(CardEntry::Labelled)
            }
        }
        d.deserialize_any(EntryVisitor)
    }
}

/// How a value is made up. A name alone (`numero_fiscal`) uses a built-in
/// generator; a one-key mapping (`{ money: 14000..38000 }`) takes an argument.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Generator {
    /// A first name of the persona's sex.
    Prenom,
    /// A woman's first name (a mother's, say).
    PrenomFeminin,
    /// A man's first name (a father's, say).
    PrenomMasculin,
    /// A last name.
    Nom,
    /// An address at example.org.
    Email,
    /// A mobile number in the range set aside for fiction.
    Telephone,
    /// A memorable password such as `Cerise-4821`.
    MotDePasse,
    /// A numéro fiscal starting with 3999999, with its key.
    NumeroFiscal,
    /// A NIR with its key and a birth month no one has.
    Nir,
    /// A French IBAN on a fictitious bank code.
    Iban,
    /// A fictitious company name.
    Employeur,
    /// Whole euros in a range within `0..10000000`: `{ money: 14000..38000 }`.
    Money(Located<IntRange>),
    /// A whole number in a range within `-1000000000..1000000000`: `{ number: 10..150 }`.
    Number(Located<IntRange>),
    /// A string of 1 to 32 digits: `{ digits: 8 }`.
    Digits(#[schemars(range(min = 1, max = 32))] Located<u8>),
    /// A date this many days from the scenario's date, within 150 years
    /// (`-54787..54787`): `{ date: -90..-1 }`.
    Date(Located<IntRange>),
    /// Always this value (at most 500 characters): `{ fixed: "Simulation2026!" }`.
    Fixed(Located<String>),
    /// One of these values (at most 100, of 500 characters each):
    /// `{ choice: [CDI, CDD, Intérim] }`.
    Choice(Vec<String>),
}

/// `35..70` (both ends included), or a single number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IntRange {
    /// The lowest value.
    pub min: i64,
    /// The highest value.
    pub max: i64,
}

impl IntRange {
    /// The range from `min` to `max`, both included.
    pub const fn new(min: i64, max: i64) -> IntRange {
        IntRange { min, max }
    }

    /// Reads `MIN..MAX` or a single number.
    pub fn parse(s: &str) -> Option<IntRange> {
        let (a, b) = s.trim().split_once("..")?;
        let min = a.trim().parse().ok()?;
        let max = b.trim().trim_start_matches('=').parse().ok()?;
        (min <= max).then_some(IntRange { min, max })
    }
}

impl<'de> Deserialize<'de> for IntRange {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct RangeVisitor;
        impl Visitor<'_> for RangeVisitor {
            type Value = IntRange;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a range such as `35..70`, or a number")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<IntRange, E> {
                Ok(IntRange::new(v, v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<IntRange, E> {
                i64::try_from(v).map(|v| IntRange::new(v, v)).map_err(|_| E::custom("number too large"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<IntRange, E> {
                IntRange::parse(v).ok_or_else(|| E::custom(format!("`{v}` is not a range: write it as `min..max`, with min <= max")))
            }
        }
        d.deserialize_any(RangeVisitor)
    }
}

impl JsonSchema for IntRange {
    fn schema_name() -> Cow<'static, str> {
        "IntRange".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        schemars::json_schema!({
            "description": "A range such as `35..70` (both ends included), or a single number.",
            "anyOf": [
                { "type": "integer" },
                { "type": "string", "pattern": "^\\s*-?[0-9]+\\s*\\.\\.=?\\s*-?[0-9]+\\s*$" }
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(IntRange::parse("35..70"), Some(IntRange::new(35, 70)));
        assert_eq!(IntRange::parse("-90..-1"), Some(IntRange::new(-90, -1)));
        assert_eq!(IntRange::parse("70..35"), None);
        assert_eq!(IntRange::parse("35"), None);
    }

    #[test]
    fn reads_a_spec() {
        let text = "age: 35..70\nsituation_familiale: [marie, pacse]\ncard: [salaires, {field: iban, label: RIB}]\nfields:\n  salaires: { money: 14000..38000 }\n  numero: numero_fiscal\n  mdp: { fixed: 'X' }\n";
        let spec: PersonaSpecFile = crate::yaml::read_typed("p.yaml", text).unwrap();
        assert_eq!(spec.age.unwrap().value, IntRange::new(35, 70));
        assert_eq!(spec.card[1].field(), "iban");
        let Generator::Money(salaires) = &spec.fields.get("salaires").unwrap().value else { panic!("not money") };
        assert_eq!((salaires.value, salaires.pos), (IntRange::new(14000, 38000), crate::diagnostic::Pos::new(5, 22)));
        assert_eq!(spec.fields.get("numero").unwrap().value, Generator::NumeroFiscal);
        assert_eq!(spec.fields.0[0].0.pos, crate::diagnostic::Pos::new(5, 3));
    }
}
