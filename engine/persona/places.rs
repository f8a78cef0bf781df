//! Real communes with their postcode and INSEE code, and fictitious street
//! names: an address that looks right and belongs to nobody.

use rand::{Rng, RngExt};

pub(crate) struct Commune {
    pub name: &'static str,
    pub postcode: &'static str,
    pub insee: &'static str,
}

const fn c(name: &'static str, postcode: &'static str, insee: &'static str) -> Commune {
    Commune { name, postcode, insee }
}

/// A small spread of préfectures across mainland France, Corsica and
/// La Réunion. Codes from the COG; a postcode here is the commune's main one.
pub(crate) const COMMUNES: &[Commune] = &[
    c("Paris", "75011", "75056"),
    c("Lyon", "69003", "69123"),
    c("Marseille", "13005", "13055"),
    c("Toulouse", "31400", "31555"),
    c("Nantes", "44000", "44109"),
    c("Lille", "59000", "59350"),
    c("Rennes", "35000", "35238"),
    c("Bordeaux", "33000", "33063"),
    c("Strasbourg", "67000", "67482"),
    c("Montpellier", "34000", "34172"),
    c("Nice", "06000", "06088"),
    c("Limoges", "87000", "87085"),
    c("Clermont-Ferrand", "63000", "63113"),
    c("Dijon", "21000", "21231"),
    c("Besançon", "25000", "25056"),
    c("Rouen", "76000", "76540"),
    c("Caen", "14000", "14118"),
    c("Brest", "29200", "29019"),
    c("Tours", "37000", "37261"),
    c("Orléans", "45000", "45234"),
    c("Reims", "51100", "51454"),
    c("Amiens", "80000", "80021"),
    c("Metz", "57000", "57463"),
    c("Nancy", "54000", "54395"),
    c("Grenoble", "38000", "38185"),
    c("Saint-Étienne", "42000", "42218"),
    c("Le Mans", "72000", "72181"),
    c("Angers", "49000", "49007"),
    c("Poitiers", "86000", "86194"),
    c("Perpignan", "66000", "66136"),
    c("Pau", "64000", "64445"),
    c("Avignon", "84000", "84007"),
    c("Toulon", "83000", "83137"),
    c("Nîmes", "30000", "30189"),
    c("La Rochelle", "17000", "17300"),
    c("Quimper", "29000", "29232"),
    c("Valence", "26000", "26362"),
    c("Chambéry", "73000", "73065"),
    c("Ajaccio", "20000", "2A004"),
    c("Mulhouse", "68100", "68224"),
    c("Troyes", "10000", "10387"),
    c("Bourges", "18000", "18033"),
    c("Rodez", "12000", "12202"),
    c("Albi", "81000", "81004"),
    c("Agen", "47000", "47001"),
    c("Vannes", "56000", "56260"),
    c("Laval", "53000", "53130"),
    c("Beauvais", "60000", "60057"),
    c("Arras", "62000", "62041"),
    c("Épinal", "88000", "88160"),
    c("Niort", "79000", "79191"),
    c("Angoulême", "16000", "16015"),
    c("Chartres", "28000", "28085"),
    c("Versailles", "78000", "78646"),
    c("Créteil", "94000", "94028"),
    c("Saint-Denis", "97400", "97411"),
];

pub(crate) fn pick_commune(rng: &mut (impl Rng + ?Sized)) -> &'static Commune {
    &COMMUNES[rng.random_range(0..COMMUNES.len())]
}

const STREET_KINDS: &[&str] = &["rue", "allée", "impasse", "chemin", "avenue", "place", "square", "passage"];

/// Two halves that together name no real street that we know of.
const STREET_NOUNS: &[&str] = &[
    "des Mésanges",
    "du Vieux Pressoir",
    "des Glycines",
    "du Moulin",
    "des Coquelicots",
    "de la Source",
    "des Hirondelles",
    "du Clos",
    "des Érables",
    "de la Fontaine",
    "des Tisserands",
    "du Verger",
    "des Lavandières",
    "de l'Étang",
    "des Charmes",
    "du Pré",
    "des Rossignols",
    "de la Tuilerie",
];
const STREET_QUALIFIERS: &[&str] = &[
    "Bleues",
    "d'Argent",
    "Sous-le-Vent",
    "des Quatre Saisons",
    "Haut",
    "du Soir",
    "Tranquille",
    "de Lune",
    "aux Oies",
    "d'Été",
    "des Brumes",
    "Fleuri",
];

/// For example `allée des Mésanges d'Argent`.
pub(crate) fn street_name(rng: &mut (impl Rng + ?Sized)) -> String {
    let kind = STREET_KINDS[rng.random_range(0..STREET_KINDS.len())];
    let noun = STREET_NOUNS[rng.random_range(0..STREET_NOUNS.len())];
    let qualifier = STREET_QUALIFIERS[rng.random_range(0..STREET_QUALIFIERS.len())];
    format!("{kind} {noun} {qualifier}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_well_formed() {
        for c in COMMUNES {
            assert_eq!(c.postcode.len(), 5, "{}", c.name);
            assert_eq!(c.insee.len(), 5, "{}", c.name);
            // The postcode and the INSEE code start with the same department,
            // except in Corsica where postcodes start with 20.
            let dept = if c.insee.starts_with("2A") || c.insee.starts_with("2B") { "20" } else { &c.insee[..2] };
            assert_eq!(&c.postcode[..2], dept, "{}", c.name);
        }
    }
}
