//! The step graph: which steps can be reached from the start, and which
//! have no way forward.

use super::Step;
use crate::diagnostic::Diagnostic;

/// Every step a rehearsal at `step` can move to.
pub(crate) fn successors(step: &Step) -> Vec<usize> {
    let mut out: Vec<usize> = step.next.iter().map(|b| b.goto).collect();
    out.extend(step.on_failure.as_ref().map(|f| f.goto));
    out.extend(step.actions.iter().map(|a| a.goto));
    for m in &step.send {
        if let Some(link) = &m.link {
            out.push(link.goto);
            out.extend(link.expired_goto);
        }
    }
    out
}

/// Steps reachable from `start`, by index.
pub(crate) fn reachable(steps: &[Step], start: usize) -> Vec<bool> {
    let mut seen = vec![false; steps.len()];
    let mut todo = vec![start];
    while let Some(i) = todo.pop() {
        if i >= steps.len() || seen[i] {
            continue;
        }
        seen[i] = true;
        todo.extend(successors(&steps[i]));
    }
    seen
}

/// Reports unreachable steps and dead ends.
pub(crate) fn check(steps: &[Step], start: usize, out: &mut Vec<Diagnostic>) {
    if steps.is_empty() {
        return;
    }
    let seen = reachable(steps, start);
    let start_id = &steps[start.min(steps.len() - 1)].id;
    let any_link = steps.iter().flat_map(|s| &s.send).any(|m| m.link.is_some());
    for (i, step) in steps.iter().enumerate() {
        if step.id.starts_with('$') {
            continue;
        }
        let file = &step.origin.file;
        let duplicate = steps[..i].iter().any(|s| s.id == step.id);
        if !seen[i] && !duplicate {
            out.push(
                Diagnostic::error(file, step.origin.pos, format!("step `{}` cannot be reached from the start `{start_id}`", step.id))
                    .with_width(step.id.chars().count())
                    .with_hint(format!("add `goto: {}` to a step, or remove this one", step.id)),
            );
        }
        let stuck = step.next.is_empty() && step.on_failure.is_none() && step.actions.is_empty() && !step.is_terminal_kind();
        if stuck && !(step.wait_for_link && any_link) {
            let hint = if step.wait_for_link {
                "no message of the scenario carries a link: add `link:` to a message in `send:`".to_owned()
            } else {
                "add `next:`, or make it a `receipt` or an `incident`".to_owned()
            };
            out.push(
                Diagnostic::error(file, step.origin.pos, format!("step `{}` has no way forward", step.id))
                    .with_width(step.id.chars().count())
                    .with_hint(hint),
            );
        }
    }
}
