//! What the person lives on: a salary, a pension, unemployment benefit or
//! sick pay, with believable monthly amounts. Many people helped by an
//! aidant numérique are retired, and the CAF, France Travail and Ameli
//! ask for these amounts.

use super::spec::IntRange;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Statut {
    Salarie,
    ArretMaladie,
    DemandeurEmploi,
    Retraite,
}

/// From this age everyone is retired; from [`RETIREMENT_AGE`] most are.
pub(crate) const ALL_RETIRED: i64 = 67;
pub(crate) const RETIREMENT_AGE: i64 = 62;

/// Monthly amounts, in whole euros: a retraite de base of the régime
/// général, an Agirc-Arrco complémentaire, the ARE, daily sick pay over a
/// month.
pub(crate) const PENSION_BASE: IntRange = IntRange::new(650, 1_500);
pub(crate) const PENSION_COMPLEMENTAIRE: IntRange = IntRange::new(150, 900);
pub(crate) const ALLOCATION_CHOMAGE: IntRange = IntRange::new(750, 1_600);
pub(crate) const INDEMNITES_JOURNALIERES: IntRange = IntRange::new(600, 1_400);

impl Statut {
    /// The activity of a person of `age`: retired from 67, three in four
    /// from 62; before, four in five work, the others look for work or are
    /// on sick leave.
    /// A scenario that lists `statuts` draws among them whatever the age
    /// (a retirement request is made by someone still at work).
    pub fn draw(rng: &mut ChaCha8Rng, age: i64, statuts: &[Statut]) -> Statut {
        let roll = rng.random_range(0..100u32);
        if !statuts.is_empty() {
            return statuts[roll as usize % statuts.len()];
        }
        match age {
            a if a >= ALL_RETIRED => Statut::Retraite,
            a if a >= RETIREMENT_AGE && roll < 75 => Statut::Retraite,
            _ if roll < 80 => Statut::Salarie,
            _ if roll < 92 => Statut::DemandeurEmploi,
            _ => Statut::ArretMaladie,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Statut::Salarie => "salarie",
            Statut::ArretMaladie => "arret_maladie",
            Statut::DemandeurEmploi => "demandeur_emploi",
            Statut::Retraite => "retraite",
        }
    }

    /// As a form would print it, agreed with the person's sex.
    pub fn label(self, sexe: char) -> &'static str {
        let f = sexe == 'F';
        match (self, f) {
            (Statut::Salarie, true) => "Salariée",
            (Statut::Salarie, false) => "Salarié",
            (Statut::ArretMaladie, true) => "Salariée en arrêt maladie",
            (Statut::ArretMaladie, false) => "Salarié en arrêt maladie",
            (Statut::DemandeurEmploi, true) => "Demandeuse d'emploi",
            (Statut::DemandeurEmploi, false) => "Demandeur d'emploi",
            (Statut::Retraite, true) => "Retraitée",
            (Statut::Retraite, false) => "Retraité",
        }
    }
}

/// The four monthly amounts, 0 when they do not apply; each drawn from its
/// own stream (`stream(name)`).
pub(crate) fn monthly_amounts(statut: Statut, stream: &mut dyn FnMut(&str) -> ChaCha8Rng) -> [(&'static str, i64); 4] {
    let mut amount = |name: &'static str, range: IntRange, applies: bool| {
        (name, if applies { stream(name).random_range(range.min..=range.max) } else { 0 })
    };
    let retired = statut == Statut::Retraite;
    [
        amount("pension_base", PENSION_BASE, retired),
        amount("pension_complementaire", PENSION_COMPLEMENTAIRE, retired),
        amount("allocation_chomage", ALLOCATION_CHOMAGE, statut == Statut::DemandeurEmploi),
        amount("indemnites_journalieres", INDEMNITES_JOURNALIERES, statut == Statut::ArretMaladie),
    ]
}
