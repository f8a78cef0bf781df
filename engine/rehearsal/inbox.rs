//! The simulated inbox and phone. A sent message is stored as a pointer to
//! its template in the scenario plus a number: its code and link are
//! derived from the seed and that number, and its text is rendered when
//! read. Nothing ever leaves the rehearsal.

use super::{Rehearsal, Stage};
use crate::scenario::{Channel, Code, Message, Scenario};
use minijinja::value::Value;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

/// One message in the inbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sent {
    /// The step whose `send` has the message, by index.
    pub step: u16,
    /// Which message of that step's `send`.
    pub index: u8,
    /// The message's number in the rehearsal: seeds its code.
    pub number: u32,
    /// Minutes since the start of the rehearsal when it arrived.
    pub at: u32,
    #[serde(default)]
    pub read: bool,
    /// Its link was followed.
    #[serde(default)]
    pub used: bool,
}

/// Sends message `index` of step `step`.
pub(crate) fn send(r: &mut Rehearsal, step: usize, index: usize, now: u64) {
    r.sent_count += 1;
    let at = r.minutes(now);
    r.inbox.push(Sent { step: step as u16, index: index as u8, number: r.sent_count, at, read: false, used: false });
}

/// The scenario's template of a sent message.
pub fn message<'s>(scenario: &'s Scenario, sent: &Sent) -> Option<&'s Message> {
    scenario.steps.get(usize::from(sent.step))?.send.get(usize::from(sent.index))
}

/// The code carried by a message, if any.
pub fn code(r: &Rehearsal, message: &Message, sent: &Sent) -> Option<String> {
    match message.code.as_ref()? {
        Code::Fixed(c) => Some(c.clone()),
        Code::Digits(n) => {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(r.seed ^ u64::from(sent.number).rotate_left(32));
            Some((0..*n).map(|_| char::from(b'0' + rng.random_range(0..10u8))).collect())
        }
    }
}

/// The address a message's link shows: fictitious, on example.org.
pub(crate) fn link_url(r: &Rehearsal, scenario: &Scenario, sent: &Sent) -> String {
    let token = format!("{:x}", (r.seed ^ 0x5eed).wrapping_mul(u64::from(sent.number) + 7));
    format!("https://{}.example.org/activation/{token}", scenario.operator)
}

/// A code "valable 15 minutes" sent at minute 0 is expired at minute 15.
pub(crate) fn expired(message: &Message, sent: &Sent, minutes_now: u32) -> bool {
    message.valid_minutes.is_some_and(|valid| minutes_now.saturating_sub(sent.at) >= valid)
}

/// What expressions read as `inbox`: `inbox.code` (the last code sent),
/// `inbox.expired` (whether it has expired), `inbox.last`, `inbox.count`...
pub(crate) fn context(r: &Rehearsal, stage: Stage, now: u64) -> Value {
    let minutes = r.minutes(now);
    let mut last = Value::from(());
    let mut last_code = Value::from(());
    let mut code_expired = false;
    let mut last_link = Value::from(());
    let mut messages = Vec::new();
    for sent in &r.inbox {
        let Some(m) = message(stage.scenario, sent) else { continue };
        let code = code(r, m, sent);
        let expired = expired(m, sent, minutes);
        let link = m.link.as_ref().map(|_| link_url(r, stage.scenario, sent));
        if let Some(c) = &code {
            last_code = Value::from(c.clone());
            code_expired = expired;
        }
        if let Some(l) = &link {
            last_link = Value::from(l.clone());
        }
        let item = minijinja::context! {
            channel => if m.channel == Channel::Email { "email" } else { "sms" },
            from => m.from.clone(),
            code => code,
            link => link,
            expired => expired,
            read => sent.read,
        };
        last = item.clone();
        messages.push(item);
    }
    // The members `expr::names::Root::Inbox` lists.
    minijinja::context! {
        count => r.inbox.len(),
        unread => r.inbox.iter().filter(|s| !s.read).count(),
        last => last,
        code => last_code,
        link => last_link,
        expired => code_expired,
        messages => messages,
    }
}
