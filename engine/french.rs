//! French grammar in texts made from values: the preposition "de" elided
//! before a vowel or a mute h ("d'août", "Salaires d'Audrey"), contracted
//! before an article ("du Havre"), and "an" agreed with its number.

/// `de` joined to `word` as French writes it: `d'août 2026`, `d'Audrey`,
/// `de septembre 2026`, `du Havre`, `des Sables-d'Olonne`.
///
/// An `h` is taken as mute, as in nearly every first name and commune
/// (`d'Hélène`, `d'Hyères`); a `y` before a consonant elides (`d'Yves`),
/// before a vowel it does not (`de Yann`).
pub(crate) fn de(word: &str) -> String {
    let word = word.trim_start();
    if let Some(rest) = word.strip_prefix("Le ") {
        return format!("du {rest}");
    }
    if let Some(rest) = word.strip_prefix("Les ") {
        return format!("des {rest}");
    }
    if elides(word) { format!("d'{word}") } else { format!("de {word}") }
}

/// Whether `de` elides before `word`.
fn elides(word: &str) -> bool {
    let mut chars = word.chars().flat_map(char::to_lowercase);
    let vowel = |c: char| "aeiouâàäéèêëîïôöûùüœæ".contains(c);
    match chars.next() {
        Some('h') => true,
        Some('y') => chars.next().is_some_and(|c| !vowel(c)),
        Some(c) => vowel(c),
        None => false,
    }
}

/// An age or a duration in years: `moins d'un an`, `1 an`, `54 ans`.
pub(crate) fn years(n: i64) -> String {
    match n {
        i64::MIN..=0 => "moins d'un an".to_owned(),
        1 => "1 an".to_owned(),
        n => format!("{n} ans"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn de_elides_and_contracts() {
        assert_eq!(de("août 2026"), "d'août 2026");
        assert_eq!(de("avril 2026"), "d'avril 2026");
        assert_eq!(de("octobre 2025"), "d'octobre 2025");
        assert_eq!(de("septembre 2026"), "de septembre 2026");
        assert_eq!(de("Audrey"), "d'Audrey");
        assert_eq!(de("Émile"), "d'Émile");
        assert_eq!(de("Hélène"), "d'Hélène");
        assert_eq!(de("Yves"), "d'Yves");
        assert_eq!(de("Yann"), "de Yann");
        assert_eq!(de("Marie"), "de Marie");
        assert_eq!(de("Le Havre"), "du Havre");
        assert_eq!(de("Les Sables-d'Olonne"), "des Sables-d'Olonne");
        assert_eq!(de("La Rochelle"), "de La Rochelle");
        assert_eq!(de("Orléans"), "d'Orléans");
    }

    #[test]
    fn years_agree() {
        assert_eq!(years(0), "moins d'un an");
        assert_eq!(years(1), "1 an");
        assert_eq!(years(2), "2 ans");
        assert_eq!(years(54), "54 ans");
    }
}
