//! Workshops: a trainer's room of learners rehearsing the same scenarios.
//!
//! A workshop has a short join code for the room and a private token for
//! the trainer. It holds only pseudonyms and progress (which step, how
//! many refused submits, since when): never an answer. Learners' rehearsals
//! live in their own sessions; the workshop knows which sessions are its
//! learners', so that it can reset or end them. Every change is published
//! as a new version of the dashboard, for the trainer's live view. With
//! several instances on one Redis ([`RedisWorkshops`]), every instance holds
//! every workshop, and each change also goes to the others (a [`Replica`]).

mod progress;
mod redis;

pub(crate) use self::progress::{progress, room_title};
pub(crate) use self::redis::RedisWorkshops;
use crate::session::SessionId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

/// Join codes use letters and digits that cannot be mistaken for one
/// another: no O/0, no I/1.
pub(crate) const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
pub(crate) const CODE_LENGTH: usize = 6;
/// A room holds at most this many learners.
pub(crate) const MAX_LEARNERS: usize = 60;
/// Longest pseudonym accepted, in characters.
pub(crate) const MAX_PSEUDONYM: usize = 30;
/// Live workshops at most, by default.
pub(crate) const MAX_WORKSHOPS: u64 = 10_000;

/// A fresh join code, from 32 random characters' worth of a v4 UUID.
pub(crate) fn new_code() -> String {
    let mut bits = uuid::Uuid::new_v4().as_u128();
    (0..CODE_LENGTH)
        .map(|_| {
            let c = CODE_ALPHABET[(bits % CODE_ALPHABET.len() as u128) as usize];
            bits /= CODE_ALPHABET.len() as u128;
            char::from(c)
        })
        .collect()
}

/// A trainer's private token: 128 random bits, unguessable.
pub(crate) fn new_token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// A typed code as we compare it: upper case, without spaces or dashes.
pub(crate) fn normalize_code(typed: &str) -> String {
    typed.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect()
}

/// Characters that take a letter's place but show nothing: Hangul fillers
/// (NFKC folds U+3164 and U+FFA0 into U+1160) and the blank braille cell.
const BLANKS: [char; 3] = ['\u{115f}', '\u{1160}', '\u{2800}'];

/// Whether a character of a pseudonym shows (or is a space): format
/// characters (zero-width space, direction overrides...), controls other
/// than spaces, unassigned and private-use code points are dropped.
fn shows(c: char) -> bool {
    use unicode_general_category::{GeneralCategory as G, get_general_category};
    if c.is_whitespace() {
        return true;
    }
    !BLANKS.contains(&c) && !matches!(get_general_category(c), G::Control | G::Format | G::Unassigned | G::PrivateUse | G::Surrogate)
}

/// An e-mail address written with its `@` spelled out: `marie(at)example.org`,
/// `marie [at] example [dot] org`, `marie at example dot org`.
static SPELLED_EMAIL: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r"(?i)[(\[{<]\s*(at|arobase)\s*[)\]}>]|(^|\s)(at|arobase)\s+[^\s@]+?\s*(\.|[(\[{<]\s*(dot|point)\s*[)\]}>]|\s(dot|point)\s)\s*[a-z]{2,}",
    )
    .expect("a valid pattern")
});

/// Why a pseudonym is refused, in the words shown to the learner. The name
/// is first folded with NFKC, so that fullwidth digits and `＠` are checked
/// as the digits and `@` they show; invisible characters are dropped.
pub(crate) fn check_pseudonym(typed: &str) -> Result<String, &'static str> {
    use unicode_normalization::UnicodeNormalization;
    let folded: String = typed.nfkc().filter(|c| shows(*c)).collect();
    let name = folded.split_whitespace().collect::<Vec<_>>().join(" ");
    if !name.chars().any(char::is_alphanumeric) {
        return Err("Indiquez un prénom ou un pseudonyme.");
    }
    if name.chars().count() > MAX_PSEUDONYM {
        return Err("Le pseudonyme ne doit pas dépasser 30 caractères.");
    }
    // Digits of any script count: ٠١٢ and ०१२ are digits too.
    if name.contains('@') || SPELLED_EMAIL.is_match(&name) || name.chars().filter(|c| c.is_numeric()).count() > 4 {
        return Err("N'indiquez qu'un prénom ou un pseudonyme : pas d'adresse ni de numéro.");
    }
    Ok(name)
}

/// Whose persona the learners play.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PersonaMode {
    /// Everyone plays the same person, to discuss the same numbers.
    Shared(u64),
    /// Each learner gets their own person.
    Individual,
}

/// Where a learner is, as last reported.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub scenario: String,
    pub step: String,
    pub step_title: String,
    /// 1-based position of the step in the scenario.
    pub step_number: usize,
    pub steps_total: usize,
    /// Since when the learner is on this step (seconds since the epoch).
    pub since: u64,
    pub finished: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct Learner {
    pub id: u32,
    pub pseudonym: String,
    #[serde(skip)]
    pub session: SessionId,
    pub joined: u64,
    pub progress: Progress,
    /// Refused submits, by (scenario, step).
    #[serde(skip)]
    pub errors: BTreeMap<(String, String), u32>,
}

impl Learner {
    pub fn errors_here(&self) -> u32 {
        self.errors.get(&(self.progress.scenario.clone(), self.progress.step.clone())).copied().unwrap_or(0)
    }

    pub fn errors_total(&self) -> u32 {
        self.errors.values().sum()
    }
}

/// One workshop.
#[derive(Debug)]
pub struct Workshop {
    pub code: String,
    pub token: String,
    pub name: String,
    pub scenarios: Vec<String>,
    pub persona: PersonaMode,
    pub created: u64,
    pub learners: Vec<Learner>,
    next_id: u32,
    /// Bumped on every change: the dashboard's version.
    pub version: u64,
}

/// A step of the heat map: how many learners are there, and how many
/// refused submits it caused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HeatCell {
    pub scenario: String,
    pub step: String,
    pub title: String,
    pub here: usize,
    pub errors: u32,
}

/// What the trainer's dashboard shows, at one version.
#[derive(Clone, Debug, Serialize)]
pub struct Snapshot {
    pub version: u64,
    pub code: String,
    pub name: String,
    pub learners: Vec<LearnerRow>,
    pub finished: usize,
    pub ended: bool,
}

/// A learner as the dashboard shows them: where they are (the same keys
/// as [`Progress`]) and their errors.
#[derive(Clone, Debug, Serialize)]
pub struct LearnerRow {
    pub id: u32,
    pub pseudonym: String,
    #[serde(flatten)]
    pub progress: Progress,
    pub errors_here: u32,
    pub errors_total: u32,
}

impl Workshop {
    pub fn snapshot(&self) -> Snapshot {
        let learners: Vec<LearnerRow> = self
            .learners
            .iter()
            .map(|l| LearnerRow {
                id: l.id,
                pseudonym: l.pseudonym.clone(),
                progress: l.progress.clone(),
                errors_here: l.errors_here(),
                errors_total: l.errors_total(),
            })
            .collect();
        Snapshot {
            version: self.version,
            code: self.code.clone(),
            name: self.name.clone(),
            finished: learners.iter().filter(|l| l.progress.finished).count(),
            learners,
            ended: false,
        }
    }

    /// Learners and refused submits per step, for the steps given in order.
    pub fn heat(&self, steps: &[(String, String, String)]) -> Vec<HeatCell> {
        steps
            .iter()
            .map(|(scenario, step, title)| HeatCell {
                scenario: scenario.clone(),
                step: step.clone(),
                title: title.clone(),
                here: self.learners.iter().filter(|l| l.progress.scenario == *scenario && l.progress.step == *step).count(),
                errors: self.learners.iter().map(|l| l.errors.get(&(scenario.clone(), step.clone())).copied().unwrap_or(0)).sum(),
            })
            .collect()
    }

    pub fn learner(&self, id: u32) -> Option<&Learner> {
        self.learners.iter().find(|l| l.id == id)
    }
}

/// A workshop shared between requests, with its dashboard channel.
pub struct Room {
    state: Mutex<Workshop>,
    updates: watch::Sender<u64>,
    /// Where its changes go beyond this instance, if anywhere.
    replica: Option<Arc<dyn Replica>>,
}

/// Where a registry's changes go beyond this instance (Redis, for several
/// instances behind one address): each is told after the change is made
/// here, and must not block.
pub(crate) trait Replica: Send + Sync {
    fn opened(&self, workshop: &Workshop);
    /// A learner joined, or their progress changed.
    fn learner(&self, code: &str, learner: &Learner);
    fn left(&self, code: &str, learner: u32);
    fn ended(&self, code: &str);
}

impl Room {
    /// Reads the workshop.
    pub fn read<R>(&self, f: impl FnOnce(&Workshop) -> R) -> R {
        let w = self.state.lock().unwrap_or_else(|p| p.into_inner());
        f(&w)
    }

    /// Changes the workshop and tells the dashboards.
    pub fn change<R>(&self, f: impl FnOnce(&mut Workshop) -> R) -> R {
        let (result, version) = {
            let mut w = self.state.lock().unwrap_or_else(|p| p.into_inner());
            let result = f(&mut w);
            w.version += 1;
            (result, w.version)
        };
        self.updates.send_replace(version);
        result
    }

    /// A receiver woken at every change.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.updates.subscribe()
    }

    /// Adds a learner; `None` when the room is full.
    pub fn join(&self, pseudonym: String, session: SessionId, now: u64, start: Progress) -> Option<u32> {
        let replicated = self.replica.is_some();
        let joined = self.change(|w| {
            if w.learners.len() >= MAX_LEARNERS {
                return None;
            }
            // Shared with other instances, ids are random: two instances
            // cannot count on one counter without a round trip.
            let id = if replicated {
                std::iter::repeat_with(|| (uuid::Uuid::new_v4().as_u128() as u32).max(1)).find(|id| w.learner(*id).is_none())?
            } else {
                w.next_id += 1;
                w.next_id
            };
            let learner = Learner { id, pseudonym, session, joined: now, progress: start, errors: BTreeMap::new() };
            w.learners.push(learner.clone());
            Some((w.code.clone(), learner))
        });
        let (code, learner) = joined?;
        if let Some(replica) = &self.replica {
            replica.learner(&code, &learner);
        }
        Some(learner.id)
    }

    pub fn leave(&self, learner: u32) -> Option<Learner> {
        let (code, left) = self.change(|w| {
            let i = w.learners.iter().position(|l| l.id == learner);
            (w.code.clone(), i.map(|i| w.learners.remove(i)))
        });
        if let (Some(replica), Some(_)) = (&self.replica, &left) {
            replica.left(&code, learner);
        }
        left
    }

    /// Records where a learner is after an action; `refused` counts a
    /// refused submit on the step they were on.
    pub fn report(&self, learner: u32, progress: Progress, refused: bool) {
        let changed = self.change(|w| {
            let l = w.learners.iter_mut().find(|l| l.id == learner)?;
            if refused {
                *l.errors.entry((progress.scenario.clone(), progress.step.clone())).or_insert(0) += 1;
            }
            let moved = l.progress.scenario != progress.scenario || l.progress.step != progress.step;
            let since = if moved { progress.since } else { l.progress.since };
            l.progress = Progress { since, ..progress };
            let l = l.clone();
            Some((w.code.clone(), l))
        });
        if let (Some(replica), Some((code, l))) = (&self.replica, changed) {
            replica.learner(&code, &l);
        }
    }
}

impl Room {
    /// Records that a learner's rehearsals of `scenarios` started again
    /// (reset, or moved to a step): their refused submits there no longer
    /// count, and they are now at `progress`.
    pub fn restarted(&self, learner: u32, progress: Progress, scenarios: &[String]) {
        let changed = self.change(|w| {
            let l = w.learners.iter_mut().find(|l| l.id == learner)?;
            l.errors.retain(|(scenario, _), _| !scenarios.contains(scenario));
            l.progress = progress;
            let l = l.clone();
            Some((w.code.clone(), l))
        });
        if let (Some(replica), Some((code, l))) = (&self.replica, changed) {
            replica.learner(&code, &l);
        }
    }
}

/// Every live workshop, by join code and by trainer token. Workshops left
/// alone for `idle` are forgotten; a live one never is to make room: when
/// `capacity` workshops are live, opening another is refused.
pub struct Registry {
    by_code: moka::sync::Cache<String, Arc<Room>>,
    by_token: moka::sync::Cache<String, String>,
    capacity: u64,
    /// Opening is one at a time, so that two cannot both take the last place.
    opening: Mutex<()>,
    /// Where changes go beyond this instance, once set ([`RedisWorkshops`]).
    replica: std::sync::OnceLock<Arc<dyn Replica>>,
}

/// Opening refused: `capacity` workshops are live.
#[derive(Debug, PartialEq, Eq)]
pub struct Full;

impl Registry {
    pub fn new(idle: Duration, capacity: u64) -> Registry {
        // No size bound on the caches: the capacity is checked on opening,
        // and a size-bounded cache would forget live workshops.
        Registry {
            by_code: moka::sync::Cache::builder().time_to_idle(idle).build(),
            by_token: moka::sync::Cache::builder().time_to_idle(idle).build(),
            capacity,
            opening: Mutex::new(()),
            replica: std::sync::OnceLock::new(),
        }
    }

    /// Opens a workshop; returns its code and the trainer's token.
    pub fn open(&self, name: String, scenarios: Vec<String>, persona: PersonaMode, now: u64) -> Result<(String, String), Full> {
        let _one_at_a_time = self.opening.lock().unwrap_or_else(|p| p.into_inner());
        if self.count() >= self.capacity {
            return Err(Full);
        }
        let code = loop {
            let code = new_code();
            if !self.by_code.contains_key(&code) {
                break code;
            }
        };
        let token = new_token();
        let workshop = Workshop {
            code: code.clone(),
            token: token.clone(),
            name,
            scenarios,
            persona,
            created: now,
            learners: Vec::new(),
            next_id: 0,
            version: 1,
        };
        let replica = self.replica.get().cloned();
        if let Some(replica) = &replica {
            replica.opened(&workshop);
        }
        let (updates, _) = watch::channel(1);
        self.by_code.insert(code.clone(), Arc::new(Room { state: Mutex::new(workshop), updates, replica }));
        self.by_token.insert(token.clone(), code.clone());
        Ok((code, token))
    }

    /// The room of a join code (typed by a learner).
    pub fn by_code(&self, code: &str) -> Option<Arc<Room>> {
        let room = self.by_code.get(&normalize_code(code))?;
        // Learners' activity keeps the trainer's token alive too.
        let _ = self.by_token.get(&room.read(|w| w.token.clone()));
        Some(room)
    }

    /// The room of a trainer token.
    pub fn by_token(&self, token: &str) -> Option<Arc<Room>> {
        let code = self.by_token.get(token)?;
        self.by_code.get(&code)
    }

    /// Ends a workshop: it is forgotten, its dashboards told. Returns the
    /// learners, whose rehearsals the caller deletes.
    pub fn end(&self, token: &str) -> Option<Vec<Learner>> {
        let code = self.by_token.get(token)?;
        let room = self.by_code.get(&code)?;
        self.by_code.invalidate(&code);
        self.by_token.invalidate(token);
        let learners = room.change(|w| std::mem::take(&mut w.learners));
        if let Some(replica) = self.replica.get() {
            replica.ended(&code);
        }
        Some(learners)
    }

    /// Live workshops: the idle ones are forgotten first.
    pub fn count(&self) -> u64 {
        self.by_code.run_pending_tasks();
        self.by_code.entry_count()
    }
}

impl Default for Registry {
    /// Workshops forgotten after 8 hours without activity.
    fn default() -> Self {
        Registry::new(Duration::from_secs(8 * 3600), MAX_WORKSHOPS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unambiguous() {
        for _ in 0..1000 {
            let code = new_code();
            assert_eq!(code.len(), CODE_LENGTH);
            assert!(code.chars().all(|c| !"O0I1".contains(c) && c.is_ascii_alphanumeric() && !c.is_ascii_lowercase()));
        }
        assert_eq!(normalize_code(" k7m-3pq "), "K7M3PQ");
    }

    #[test]
    fn pseudonyms_hold_no_personal_data() {
        assert_eq!(check_pseudonym("  Ali  "), Ok("Ali".to_owned()));
        assert!(check_pseudonym("").is_err());
        assert!(check_pseudonym("marie@example.org").is_err());
        assert!(check_pseudonym("2550814168025").is_err());
        assert!(check_pseudonym(&"x".repeat(31)).is_err());
        // Folded and cleaned before the checks.
        assert!(check_pseudonym("ｍａｒｉｅ＠ｅｘａｍｐｌｅ．ｏｒｇ").is_err());
        assert!(check_pseudonym("２５５０８１４").is_err());
        assert!(check_pseudonym("٢٥٥٠٨١٤").is_err());
        assert!(check_pseudonym("marie (AT) example.org").is_err());
        assert!(check_pseudonym("marie arobase example point org").is_err());
        assert_eq!(check_pseudonym("Ali at home"), Ok("Ali at home".to_owned()));
        assert_eq!(check_pseudonym("Ali-Ｂａｂａ 2"), Ok("Ali-Baba 2".to_owned()));
        assert_eq!(check_pseudonym("Zoé\u{200d}\u{202e} \t Lou"), Ok("Zoé Lou".to_owned()));
        for blank in ["\u{200b}", "\u{3164}", "\u{ffa0}\u{2800}", "\u{e000}", "\u{301}", "...", "\u{0}\u{7}"] {
            assert_eq!(check_pseudonym(blank), Err("Indiquez un prénom ou un pseudonyme."), "{blank:?}");
        }
    }

    #[test]
    fn reports_count_errors_and_keep_time_on_step() {
        let registry = Registry::default();
        let (code, token) = registry.open("Atelier".into(), vec!["a/b".into()], PersonaMode::Shared(7), 100).unwrap();
        let room = registry.by_code(&code.to_lowercase()).unwrap();
        let at = |step: &str, since: u64| Progress { scenario: "a/b".into(), step: step.into(), since, ..Progress::default() };
        let id = room.join("Ali".into(), uuid::Uuid::new_v4(), 100, at("s1", 100)).unwrap();
        room.report(id, at("s1", 150), true);
        room.report(id, at("s1", 160), true);
        room.read(|w| {
            let l = w.learner(id).unwrap();
            assert_eq!((l.errors_here(), l.progress.since), (2, 100));
        });
        room.report(id, at("s2", 200), false);
        room.read(|w| {
            let l = w.learner(id).unwrap();
            assert_eq!((l.errors_here(), l.errors_total(), l.progress.since), (0, 2, 200));
            let heat = w.heat(&[("a/b".into(), "s1".into(), "S1".into()), ("a/b".into(), "s2".into(), "S2".into())]);
            assert_eq!((heat[0].here, heat[0].errors, heat[1].here), (0, 2, 1));
        });
        // Started again: the old errors no longer count.
        room.restarted(id, at("s1", 300), &["a/b".to_owned()]);
        room.read(|w| {
            let l = w.learner(id).unwrap();
            assert_eq!((l.errors_here(), l.errors_total(), l.progress.step.as_str()), (0, 0, "s1"));
        });
        let ended = registry.end(&token).unwrap();
        assert_eq!(ended.len(), 1);
        assert!(registry.by_code(&code).is_none() && registry.by_token(&token).is_none());
    }

    #[test]
    fn idle_workshops_expire() {
        let registry = Registry::new(Duration::from_millis(100), 1);
        let (code, token) = registry.open("Atelier".into(), vec![], PersonaMode::Individual, 0).unwrap();
        std::thread::sleep(Duration::from_millis(250));
        assert!(registry.by_code(&code).is_none());
        assert!(registry.by_token(&token).is_none());
        // Its place is free again.
        assert!(registry.open("Atelier".into(), vec![], PersonaMode::Individual, 0).is_ok());
    }

    #[test]
    fn a_full_registry_refuses_and_forgets_no_live_workshop() {
        let registry = Registry::default();
        let opened: Vec<(String, String)> =
            (0..MAX_WORKSHOPS).map(|_| registry.open("Atelier".into(), vec![], PersonaMode::Individual, 0).unwrap()).collect();
        assert_eq!(registry.open("Un de trop".into(), vec![], PersonaMode::Individual, 0), Err(Full));
        assert_eq!(registry.count(), MAX_WORKSHOPS);
        for (code, token) in &opened {
            assert!(registry.by_code(code).is_some() && registry.by_token(token).is_some());
        }
        // Ending one frees a place.
        registry.end(&opened[0].1).unwrap();
        assert!(registry.open("Enfin".into(), vec![], PersonaMode::Individual, 0).is_ok());
    }
}
