//! French identifiers: generators that are fictitious by construction,
//! validators that apply the real checksums, and display formats.
//!
//! Every generated value passes the real check, so learners see typos
//! rejected as on the real site; every generated value also sits in a range
//! no real person has, so a miroir can tell its own values from real ones.

use rand::{Rng, RngExt};

/// Numéros fiscaux of the DGFiP sandbox's fictitious taxpayers all start so.
pub(crate) const NUMERO_FISCAL_PREFIX: &str = "3999999";
/// A bank code no French bank is known to use.
pub(crate) const FICTITIOUS_BANK_CODE: &str = "99999";
/// A BIC in the right format for a bank that does not exist.
pub(crate) const FICTITIOUS_BIC: &str = "SIMUFRPPXXX";

fn digits(rng: &mut (impl Rng + ?Sized), n: usize) -> String {
    (0..n).map(|_| char::from(b'0' + rng.random_range(0..10u8))).collect()
}

/// Removes spaces, dots and dashes that people type between groups.
pub(crate) fn compact(s: &str) -> String {
    s.chars().filter(|c| !matches!(c, ' ' | '.' | '-' | '\u{a0}' | '\u{202f}')).collect()
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

// --- Numéro fiscal (SPI): 13 digits, the last 3 are the first 10 mod 511.

/// The 3-digit key that completes the first 10 digits of a numéro fiscal.
pub fn numero_fiscal_key(first10: &str) -> Option<String> {
    let n: u64 = first10.parse().ok()?;
    Some(format!("{:03}", n % 511))
}

pub(crate) fn generate_numero_fiscal(rng: &mut (impl Rng + ?Sized)) -> String {
    let first10 = format!("{NUMERO_FISCAL_PREFIX}{}", digits(rng, 3));
    let key = numero_fiscal_key(&first10).expect("ten digits");
    first10 + &key
}

/// Whether `s` is a numéro fiscal with a valid key.
pub fn numero_fiscal_valid(s: &str) -> bool {
    let s = compact(s);
    s.len() == 13 && all_digits(&s) && matches!(s.as_bytes()[0], b'0'..=b'3') && numero_fiscal_key(&s[..10]).as_deref() == Some(&s[10..])
}

pub(crate) fn numero_fiscal_fictitious(s: &str) -> bool {
    compact(s).starts_with(NUMERO_FISCAL_PREFIX)
}

/// `3999999950282` shown as `39 99 999 950 282`, as on an avis d'impôt.
pub fn format_numero_fiscal(s: &str) -> String {
    group(&compact(s), &[2, 2, 3, 3, 3])
}

// --- NIR (numéro de sécurité sociale): 13 characters and a 2-digit key.

/// The NIR key: 97 - (the 13 characters as a number mod 97), with the
/// Corsican departments 2A and 2B counted as 19 and 18.
pub(crate) fn nir_key(first13: &str) -> Option<u32> {
    if first13.len() != 13 {
        return None;
    }
    let upper = first13.to_ascii_uppercase();
    let numeric = match &upper[5..7] {
        "2A" => format!("{}19{}", &upper[..5], &upper[7..]),
        "2B" => format!("{}18{}", &upper[..5], &upper[7..]),
        _ => upper,
    };
    let n: u64 = numeric.parse().ok().filter(|_| all_digits(&numeric))?;
    Some(97 - (n % 97) as u32)
}

/// Builds a NIR whose birth month is 13 to 19: a correct key, but a month
/// that INSEE does not assign, so it cannot be anyone's number.
pub(crate) fn generate_nir(rng: &mut (impl Rng + ?Sized), sexe: char, birth_year: i32, insee_commune: &str) -> String {
    let sex_digit = if sexe == 'F' { '2' } else { '1' };
    let month = rng.random_range(13..=19u8);
    // Overseas departments take three characters, then a two-digit commune.
    let place = if insee_commune.len() == 5 { insee_commune.to_owned() } else { "75056".to_owned() };
    let order = rng.random_range(1..=999u32);
    let first13 = format!("{sex_digit}{:02}{month:02}{place}{order:03}", birth_year.rem_euclid(100));
    let key = nir_key(&first13).expect("thirteen characters");
    format!("{first13}{key:02}")
}

/// A 15-character NIR with a correct key.
pub(crate) fn nir_valid(s: &str) -> bool {
    let s = compact(s).to_ascii_uppercase();
    s.len() == 15 && matches!(s.as_bytes()[0], b'1' | b'2' | b'3' | b'4' | b'7' | b'8') && s[13..].parse::<u32>().ok() == nir_key(&s[..13])
}

/// A 13-character NIR without its key, as some logins ask for it.
pub(crate) fn nir_short_plausible(s: &str) -> bool {
    let s = compact(s).to_ascii_uppercase();
    s.len() == 13 && nir_key(&s).is_some()
}

pub(crate) fn nir_fictitious(s: &str) -> bool {
    let s = compact(s);
    s.get(3..5).and_then(|m| m.parse::<u8>().ok()).is_some_and(|m| (13..=19).contains(&m))
}

/// A 13-character NIR without its key that could be someone's: a sex
/// digit INSEE uses, digits (Corsica's 2A and 2B aside).
pub(crate) fn nir_short_valid(s: &str) -> bool {
    let s = compact(s).to_ascii_uppercase();
    s.len() == 13 && matches!(s.as_bytes()[0], b'1' | b'2' | b'3' | b'4' | b'7' | b'8') && nir_key(&s).is_some()
}

/// `255081416802538` shown as `2 55 08 14 168 025 38`, as on a carte Vitale.
pub(crate) fn format_nir(s: &str) -> String {
    group(&compact(s), &[1, 2, 2, 2, 3, 3, 2])
}

// --- IBAN and RIB.

/// Letters count as in ISO 13616: A=10 ... Z=35.
fn iban_digits(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len() * 2);
    for c in s.chars() {
        match c {
            '0'..='9' => out.push(c),
            'A'..='Z' => out.push_str(&(c as u32 - 'A' as u32 + 10).to_string()),
            _ => return None,
        }
    }
    Some(out)
}

fn mod97(digits: &str) -> u32 {
    digits.bytes().fold(0u32, |acc, b| (acc * 10 + u32::from(b - b'0')) % 97)
}

/// The RIB key: letters of the account number map to digits as the
/// Banque de France table does (A and J to 1, B, K and S to 2, ...).
pub(crate) fn rib_key(bank: &str, branch: &str, account: &str) -> Option<u32> {
    let account: String = account
        .chars()
        .map(|c| match c {
            '0'..='9' => Some(c),
            'A' | 'J' => Some('1'),
            'B' | 'K' | 'S' => Some('2'),
            'C' | 'L' | 'T' => Some('3'),
            'D' | 'M' | 'U' => Some('4'),
            'E' | 'N' | 'V' => Some('5'),
            'F' | 'O' | 'W' => Some('6'),
            'G' | 'P' | 'X' => Some('7'),
            'H' | 'Q' | 'Y' => Some('8'),
            'I' | 'R' | 'Z' => Some('9'),
            _ => None,
        })
        .collect::<Option<String>>()?;
    let b: u64 = bank.parse().ok()?;
    let g: u64 = branch.parse().ok()?;
    let c: u64 = account.parse().ok()?;
    Some(97 - ((89 * b + 15 * g + 3 * c) % 97) as u32)
}

pub(crate) fn generate_iban(rng: &mut (impl Rng + ?Sized)) -> String {
    let branch = digits(rng, 5);
    let account = digits(rng, 11);
    let key = rib_key(FICTITIOUS_BANK_CODE, &branch, &account).expect("digits");
    let bban = format!("{FICTITIOUS_BANK_CODE}{branch}{account}{key:02}");
    let check = 98 - mod97(&iban_digits(&format!("{bban}FR00")).expect("digits"));
    format!("FR{check:02}{bban}")
}

/// Any IBAN with a correct ISO 13616 check; French ones also need a
/// correct RIB key.
pub(crate) fn iban_valid(s: &str) -> bool {
    let s = compact(s).to_ascii_uppercase();
    if s.len() < 15 || s.len() > 34 || !s.is_char_boundary(4) {
        return false;
    }
    let rearranged = format!("{}{}", &s[4..], &s[..4]);
    let Some(numeric) = iban_digits(&rearranged) else { return false };
    if mod97(&numeric) != 1 {
        return false;
    }
    if s.starts_with("FR") {
        return s.len() == 27 && rib_key(&s[4..9], &s[9..14], &s[14..25]).map(|k| format!("{k:02}")).as_deref() == Some(&s[25..]);
    }
    true
}

pub(crate) fn iban_fictitious(s: &str) -> bool {
    let s = compact(s).to_ascii_uppercase();
    s.starts_with("FR") && s.get(4..9) == Some(FICTITIOUS_BANK_CODE)
}

/// Groups of four, as printed on a RIB.
pub(crate) fn format_iban(s: &str) -> String {
    let s = compact(s).to_ascii_uppercase();
    let sizes = vec![4; s.len().div_ceil(4)];
    group(&s, &sizes)
}

/// `FR76 •••• •••• •••• •••• •••• 189`: how real services show an IBAN.
pub(crate) fn mask_iban(s: &str) -> String {
    let s = compact(s).to_ascii_uppercase();
    if s.len() < 7 {
        return "•".repeat(s.len());
    }
    let masked_groups = (s.len() - 4 - 3).div_ceil(4);
    format!("{} {} {}", &s[..4], vec!["••••"; masked_groups].join(" "), &s[s.len() - 3..])
}

// --- Other identifiers, without a known check digit.

/// The numéro d'accès en ligne: 7 digits, printed on the déclaration.
pub(crate) fn generate_numero_acces(rng: &mut (impl Rng + ?Sized)) -> String {
    digits(rng, 7)
}

/// Numéro allocataire CAF: 7 digits; ours start with 000, as the CAF's own
/// test identities do.
pub(crate) fn generate_numero_allocataire(rng: &mut (impl Rng + ?Sized)) -> String {
    format!("000{}", digits(rng, 4))
}

#[cfg_attr(not(test), allow(dead_code))] // used by the unit tests
pub(crate) fn numero_allocataire_valid(s: &str) -> bool {
    let s = compact(s);
    s.len() == 7 && all_digits(&s)
}

/// Identifiant France Travail: 7 digits and a letter; ours start with 0000.
pub(crate) fn generate_identifiant_ft(rng: &mut (impl Rng + ?Sized)) -> String {
    let letter = char::from(b'A' + rng.random_range(0..26u8));
    format!("0000{}{letter}", digits(rng, 3))
}

#[cfg_attr(not(test), allow(dead_code))] // used by the unit tests
pub(crate) fn identifiant_ft_valid(s: &str) -> bool {
    let s = compact(s).to_ascii_uppercase();
    s.len() == 8 && all_digits(&s[..7]) && s.as_bytes()[7].is_ascii_uppercase()
}

/// Référence de l'avis: 13 characters starting with the tax year.
pub(crate) fn generate_reference_avis(rng: &mut (impl Rng + ?Sized), year: i32) -> String {
    format!("{:02}{}", year.rem_euclid(100), digits(rng, 11))
}

/// A mobile number in the 06 39 98 range set aside for fiction.
pub(crate) fn generate_mobile(rng: &mut (impl Rng + ?Sized)) -> String {
    format!("063998{}", digits(rng, 4))
}

/// A landline number in the 01 99 00 range set aside for fiction.
pub(crate) fn generate_landline(rng: &mut (impl Rng + ?Sized)) -> String {
    format!("019900{}", digits(rng, 4))
}

pub(crate) fn phone_fictitious(s: &str) -> bool {
    let s = normalize_phone(s).unwrap_or_default();
    s.starts_with("063998") || (s.starts_with('0') && s.get(2..6) == Some("9900"))
}

/// A French phone number as ten digits, from `06 12 34 56 78`,
/// `+33 6 12 34 56 78` or `0033612345678`.
pub(crate) fn normalize_phone(s: &str) -> Option<String> {
    let s = compact(s).replace(['(', ')'], "");
    let national = if let Some(rest) = s.strip_prefix("+33").or_else(|| s.strip_prefix("0033")) {
        format!("0{}", rest.trim_start_matches('0'))
    } else {
        s
    };
    (national.len() == 10 && all_digits(&national) && national.starts_with('0') && national.as_bytes()[1] != b'0').then_some(national)
}

/// `0639981234` shown as `06 39 98 12 34`.
pub(crate) fn format_phone(s: &str) -> String {
    group(&compact(s), &[2, 2, 2, 2, 2])
}

/// A plausible e-mail address: one `@`, a dotted domain, no spaces.
pub(crate) fn email_valid(s: &str) -> bool {
    let s = s.trim();
    let Some((local, domain)) = s.split_once('@') else { return false };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(char::is_whitespace)
        && s.len() <= 254
}

/// Domains set aside for examples and tests (RFC 2606, RFC 6761): no
/// one's mailbox is there.
pub(crate) fn email_fictitious(s: &str) -> bool {
    let Some((_, domain)) = s.trim().rsplit_once('@') else { return false };
    let domain = domain.to_ascii_lowercase();
    let domain = domain.trim_end_matches('.');
    let reserved = ["example.org", "example.com", "example.net"];
    let tld = domain.rsplit('.').next().unwrap_or_default();
    reserved.iter().any(|r| domain == *r || domain.ends_with(&format!(".{r}")))
        || matches!(tld, "test" | "example" | "invalid" | "localhost")
}

/// Splits `s` into groups of the given sizes, joined by spaces; any rest
/// goes into a last group.
fn group(s: &str, sizes: &[usize]) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut at = 0;
    for &size in sizes {
        if at >= chars.len() {
            break;
        }
        let end = (at + size).min(chars.len());
        out.push(chars[at..end].iter().collect::<String>());
        at = end;
    }
    if at < chars.len() {
        out.push(chars[at..].iter().collect());
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn numero_fiscal_matches_the_sandbox_examples() {
        // Fictitious taxpayers of the DGFiP sandbox.
        for n in ["3999999930262", "3999999931263", "3999999942274"] {
            assert!(numero_fiscal_valid(n), "{n}");
        }
        assert_eq!(numero_fiscal_key("3999999950").as_deref(), Some("282"));
        assert!(!numero_fiscal_valid("3999999930263"));
        assert!(!numero_fiscal_valid("1111111111111"));
        assert_eq!(format_numero_fiscal("3999999950282"), "39 99 999 950 282");
    }

    #[test]
    fn nir_keys_match_published_examples() {
        assert!(nir_valid("2 55 08 14 168 025 38"));
        assert!(nir_valid("295109912611193"));
        assert!(!nir_valid("255081416802539"));
        assert_eq!(format_nir("255081416802538"), "2 55 08 14 168 025 38");
        // Corsica counts as 19 and 18.
        let first13 = "185052A004012";
        let key = nir_key(first13).unwrap();
        assert!(nir_valid(&format!("{first13}{key:02}")));
    }

    #[test]
    fn iban_checks() {
        assert!(iban_valid("FR14 2004 1010 0505 0001 3M02 606"));
        assert!(!iban_valid("FR14 2004 1010 0505 0001 3M02 607"));
        assert!(iban_valid("DE89 3704 0044 0532 0130 00"));
        assert!(!iban_valid("FR"));
        assert_eq!(mask_iban("FR1420041010050500013M02606"), "FR14 •••• •••• •••• •••• •••• 606");
    }

    #[test]
    fn phones() {
        assert_eq!(normalize_phone("+33 6 39 98 12 34").as_deref(), Some("0639981234"));
        assert_eq!(normalize_phone("06.39.98.12.34").as_deref(), Some("0639981234"));
        assert_eq!(normalize_phone("6 39 98 12 34"), None);
        assert!(phone_fictitious("06 39 98 00 00"));
        assert!(phone_fictitious("01 99 00 12 34"));
        assert!(!phone_fictitious("06 12 34 56 78"));
    }

    #[test]
    fn emails() {
        assert!(email_valid("marie.lefebvre@example.org"));
        assert!(!email_valid("marie.lefebvre@example"));
        assert!(!email_valid("marie lefebvre@example.org"));
        assert!(!email_valid("@example.org"));
        for fictitious in ["marie@example.org", "a@impots.example.org", "a@EXAMPLE.NET", "a@caf.test", "a@b.example", "a@b.invalid"] {
            assert!(email_fictitious(fictitious), "{fictitious}");
        }
        for real in ["jean.dupont@gmail.com", "a@example.org.fr", "a@notexample.org", "a@exampleorg", "example.org"] {
            assert!(!email_fictitious(real), "{real}");
        }
    }

    /// Over many seeds, every generated value passes its real checksum and
    /// stays in its fictitious range.
    #[test]
    fn generated_identifiers_are_valid_and_fictitious() {
        for seed in 0..5_000u64 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let nf = generate_numero_fiscal(&mut rng);
            assert!(numero_fiscal_valid(&nf) && numero_fiscal_fictitious(&nf), "{nf}");
            let sexe = if seed % 2 == 0 { 'F' } else { 'M' };
            let commune = ["75056", "2A004", "97411", "69123"][seed as usize % 4];
            let nir = generate_nir(&mut rng, sexe, 1950 + (seed % 60) as i32, commune);
            assert!(nir_valid(&nir) && nir_fictitious(&nir), "{nir}");
            assert_eq!(nir.starts_with('2'), sexe == 'F');
            let iban = generate_iban(&mut rng);
            assert!(iban_valid(&iban) && iban_fictitious(&iban), "{iban}");
            let mobile = generate_mobile(&mut rng);
            assert!(normalize_phone(&mobile).is_some() && phone_fictitious(&mobile));
            let fixe = generate_landline(&mut rng);
            assert!(normalize_phone(&fixe).is_some() && phone_fictitious(&fixe));
            assert!(numero_allocataire_valid(&generate_numero_allocataire(&mut rng)));
            assert!(identifiant_ft_valid(&generate_identifiant_ft(&mut rng)));
            assert_eq!(generate_numero_acces(&mut rng).len(), 7);
            assert_eq!(generate_reference_avis(&mut rng, 2026).len(), 13);
        }
    }
}
