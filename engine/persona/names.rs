//! French names from fake's fr_FR locale, matched to the persona's sex.
//!
//! fake's first names carry no sex, and a "Madame Achille" would puzzle a
//! learner, so names are drawn until one reads clearly as the wanted sex:
//! by its ending, corrected by the lists below for names that break the
//! rule. Names worn by both sexes are never used.

use fake::Fake;
use fake::faker::name::raw::{FirstName, LastName};
use fake::locales::FR_FR;
use rand::Rng;

const FEMININE_ENDINGS: &[&str] = &[
    "a", "ine", "ette", "elle", "ie", "ée", "ïde", "ise", "ence", "ane", "anne", "ève", "ique", "ice", "ille", "ienne", "ance", "ude",
    "ire", "aïs", "ys", "ïs", "ène", "èle", "ule", "ole", "ythe", "rte", "nde", "ose",
];
/// Feminine names that the endings would call masculine.
const FEMININE: &[&str] = &[
    "Aglaé",
    "Agnès",
    "Aliénor",
    "Alix",
    "Anouk",
    "Astrid",
    "Audrey",
    "Betty",
    "Cathy",
    "Chantal",
    "Chloé",
    "Cindy",
    "Daphné",
    "Deborah",
    "Edith",
    "Elisabeth",
    "Emmy",
    "Emy",
    "Esther",
    "Fanny",
    "Félicité",
    "Fleur",
    "Inès",
    "Ingrid",
    "Iris",
    "Jennifer",
    "Judith",
    "Laly",
    "Lilou",
    "Lily",
    "Lison",
    "Lucy",
    "Lylou",
    "Magali",
    "Maïté",
    "Maïwenn",
    "Manon",
    "Margaux",
    "Margot",
    "Marion",
    "Maud",
    "Maylis",
    "Muriel",
    "Myriam",
    "Nelly",
    "Ninon",
    "Nolwenn",
    "Rachel",
    "Romy",
    "Salomé",
    "Sarah",
    "Soazic",
    "Soizic",
    "Suzon",
    "Tiffany",
    "Zoé",
    "Adèle",
    "Agathe",
    "Alberte",
    "Ambre",
    "Anémone",
    "Angèle",
    "Armande",
    "Aube",
    "Aurore",
    "Bénédicte",
    "Benoîte",
    "Bérengère",
    "Berthe",
    "Blanche",
    "Brigitte",
    "Brune",
    "Carole",
    "Cécile",
    "Charlotte",
    "Clotilde",
    "Colombe",
    "Corinne",
    "Danièle",
    "Edwige",
    "Eléonore",
    "Eloïse",
    "Eve",
    "Evelyne",
    "Fernande",
    "Flore",
    "Gaëlle",
    "Gilberte",
    "Gisèle",
    "Hélène",
    "Héloïse",
    "Hortense",
    "Irène",
    "Jade",
    "Jocelyne",
    "Joëlle",
    "Laure",
    "Lucile",
    "Maëlle",
    "Marguerite",
    "Marthe",
    "Maryse",
    "Maryvonne",
    "Mathilde",
    "Michèle",
    "Nadège",
    "Nicole",
    "Noëlle",
    "Odile",
    "Pascale",
    "Paule",
    "Pénélope",
    "Raphaëlle",
    "Raymonde",
    "Rolande",
    "Rose",
    "Ségolène",
    "Simone",
    "Solange",
    "Solène",
    "Solenne",
    "Thérèse",
    "Yvonne",
];
/// Masculine names that the endings would call feminine.
const MASCULINE: &[&str] = &[
    "Achille",
    "Ambroise",
    "Amédée",
    "Antoine",
    "Apollinaire",
    "Blaise",
    "Brice",
    "Cyrille",
    "Elie",
    "Etienne",
    "Fabrice",
    "Grégoire",
    "Irénée",
    "Jérémie",
    "Joshua",
    "Jude",
    "Luca",
    "Maurice",
    "Mathys",
    "Maxence",
    "Patrice",
    "Sidoine",
    "Stéphane",
    "Théophane",
    "Timothée",
    "Zacharie",
    "Aloïs",
    "Issa",
    "Kaïs",
    "Ananie",
    "Alexandre",
    "Adolphe",
    "Alphonse",
    "Anatole",
    "Anselme",
    "Aristide",
    "Arsène",
    "Auguste",
    "Baptiste",
    "Basile",
    "Christophe",
    "Emile",
    "Eugène",
    "Guillaume",
    "Gustave",
    "Hippolythe",
    "Horace",
    "Isidore",
    "Jérôme",
    "Lazare",
    "Léandre",
    "Octave",
    "Philippe",
    "Pierre",
    "Rodolphe",
    "Rodrigue",
    "Serge",
    "Sylvestre",
    "Théodore",
    "Théophile",
    "Ulysse",
    "Virgile",
];
/// Worn by both sexes: skipped.
const EITHER: &[&str] = &[
    "Camille",
    "Charlie",
    "Claude",
    "Dominique",
    "Noa",
    "Sacha",
    "Sasha",
    "Annick",
    "Lou",
    "Louison",
    "Maé",
    "Morgan",
    "Nour",
    "Yaël",
    "Ange",
    "Andrea",
    "Andréa",
    "Eden",
    "Alex",
    "Loan",
    "Joy",
    "Cléo",
    "Mahé",
];

/// 'F', 'M', or None when the name does not say.
pub(crate) fn sex_of(name: &str) -> Option<char> {
    if EITHER.contains(&name) {
        return None;
    }
    if FEMININE.contains(&name) {
        return Some('F');
    }
    if MASCULINE.contains(&name) {
        return Some('M');
    }
    let lower = name.to_lowercase();
    if FEMININE_ENDINGS.iter().any(|e| lower.ends_with(e)) {
        return Some('F');
    }
    let last = lower.chars().last()?;
    (last.is_ascii_alphabetic() && !"aeiou".contains(last) || "éoiuy".contains(last)).then_some('M')
}

/// A first name from fake's fr_FR list that reads as `sex`.
pub(crate) fn first_name(rng: &mut (impl Rng + ?Sized), sex: char) -> String {
    loop {
        let name: String = FirstName(FR_FR).fake_with_rng(rng);
        if name.chars().skip(1).any(char::is_uppercase) {
            continue; // the list has a few names in capitals
        }
        if sex_of(&name) == Some(sex) {
            return name;
        }
    }
}

pub(crate) fn last_name(rng: &mut (impl Rng + ?Sized)) -> String {
    LastName(FR_FR).fake_with_rng(rng)
}

/// `Marie-Hélène Lefèvre` becomes `marie-helene.lefevre`, for e-mails.
pub(crate) fn ascii_slug(first: &str, last: &str) -> String {
    let clean = |s: &str| deunicode_lower(s).chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect::<String>();
    format!("{}.{}", clean(first), clean(last))
}

fn deunicode_lower(s: &str) -> String {
    deunicode::deunicode(s).to_lowercase().replace([' ', '\''], "-")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn names_read_as_their_sex() {
        assert_eq!(sex_of("Marie"), Some('F'));
        assert_eq!(sex_of("Antoine"), Some('M'));
        assert_eq!(sex_of("Agnès"), Some('F'));
        assert_eq!(sex_of("Bernard"), Some('M'));
        assert_eq!(sex_of("Camille"), None);
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for _ in 0..200 {
            assert_eq!(sex_of(&first_name(&mut rng, 'F')), Some('F'));
            assert_eq!(sex_of(&first_name(&mut rng, 'M')), Some('M'));
        }
    }

    #[test]
    fn slugs_are_ascii() {
        assert_eq!(ascii_slug("Marie-Hélène", "Le Goff"), "marie-helene.le-goff");
        assert_eq!(ascii_slug("Françoise", "D'Aubigné"), "francoise.d-aubigne");
    }
}
