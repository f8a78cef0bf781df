//! A scenario's steps drawn as a flow diagram, in SVG made on the server:
//! one box per step, coloured by kind, in rows by distance from the start;
//! arrows labelled with their conditions; unreachable steps flagged.
//! Presentation attributes only: the page's CSP allows no inline style.

use crate::scenario::graph;
use crate::scenario::{Scenario, StepKind};
use std::fmt::Write;

const BOX_W: i32 = 210;
const BOX_H: i32 = 64;
const GAP_X: i32 = 50;
const GAP_Y: i32 = 90;
const MARGIN: i32 = 30;

/// One arrow: from, to, label.
pub struct Edge {
    pub from: usize,
    pub to: usize,
    pub label: String,
}

/// Every transition of the scenario, labelled as an author would say it.
pub fn edges(s: &Scenario) -> Vec<Edge> {
    let mut out = Vec::new();
    for (i, step) in s.steps.iter().enumerate() {
        for b in &step.next {
            let label = b.when.as_ref().map_or_else(String::new, |w| format!("si {}", w.source()));
            out.push(Edge { from: i, to: b.goto, label });
        }
        if let Some(f) = &step.on_failure {
            out.push(Edge { from: i, to: f.goto, label: format!("après {} échecs", f.after) });
        }
        for a in &step.actions {
            out.push(Edge { from: i, to: a.goto, label: format!("« {} »", a.label) });
        }
        for m in &step.send {
            if let Some(l) = &m.link {
                out.push(Edge { from: i, to: l.goto, label: format!("lien « {} »", l.label) });
                if let Some(e) = l.expired_goto {
                    out.push(Edge { from: i, to: e, label: "lien expiré".into() });
                }
            }
        }
    }
    out
}

fn fill(kind: StepKind) -> &'static str {
    match kind {
        StepKind::Info => "#e8f1fb",
        StepKind::Form => "#e7f3ea",
        StepKind::Login => "#fff3cd",
        StepKind::Choice => "#f1e6fa",
        StepKind::Review => "#dff3f1",
        StepKind::Receipt => "#cfe8d7",
        StepKind::Incident => "#f8d7da",
    }
}

pub fn kind_label(kind: StepKind) -> &'static str {
    match kind {
        StepKind::Info => "information",
        StepKind::Form => "formulaire",
        StepKind::Login => "connexion",
        StepKind::Choice => "choix",
        StepKind::Review => "récapitulatif",
        StepKind::Receipt => "accusé de réception",
        StepKind::Incident => "incident",
    }
}

fn xml(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max { text.to_owned() } else { format!("{}…", text.chars().take(max - 1).collect::<String>()) }
}

/// Rows: steps by distance from the start; unreachable ones in a last row.
fn rows(s: &Scenario) -> Vec<Vec<usize>> {
    let mut depth = vec![usize::MAX; s.steps.len()];
    let mut queue = std::collections::VecDeque::from([s.start]);
    if s.start < depth.len() {
        depth[s.start] = 0;
    }
    while let Some(i) = queue.pop_front() {
        for j in graph::successors(&s.steps[i]) {
            if j < depth.len() && depth[j] == usize::MAX {
                depth[j] = depth[i] + 1;
                queue.push_back(j);
            }
        }
    }
    let deepest = depth.iter().filter(|d| **d != usize::MAX).max().copied().unwrap_or(0);
    let mut rows = vec![Vec::new(); deepest + 1];
    let mut lost = Vec::new();
    for (i, d) in depth.iter().enumerate() {
        if *d == usize::MAX {
            lost.push(i);
        } else {
            rows[*d].push(i);
        }
    }
    if !lost.is_empty() {
        rows.push(lost);
    }
    rows
}

/// The diagram; `titles` are the steps' titles as shown to people.
pub fn svg(s: &Scenario, titles: &[String]) -> String {
    let rows = rows(s);
    let reachable = graph::reachable(&s.steps, s.start);
    let widest = rows.iter().map(Vec::len).max().unwrap_or(1) as i32;
    let width = MARGIN * 2 + widest * BOX_W + (widest - 1).max(0) * GAP_X + 160;
    let height = MARGIN * 2 + rows.len() as i32 * (BOX_H + GAP_Y);
    let mut at = vec![(0, 0); s.steps.len()];
    for (r, row) in rows.iter().enumerate() {
        let row_width = row.len() as i32 * BOX_W + (row.len() as i32 - 1).max(0) * GAP_X;
        let x0 = MARGIN + ((widest * BOX_W + (widest - 1).max(0) * GAP_X) - row_width) / 2;
        for (k, &i) in row.iter().enumerate() {
            at[i] = (x0 + k as i32 * (BOX_W + GAP_X), MARGIN + r as i32 * (BOX_H + GAP_Y));
        }
    }
    let mut out = String::new();
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="flow" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-labelledby="flow-titre flow-desc" font-family="system-ui, Arial, sans-serif">"##
    );
    let _ = write!(
        out,
        r##"<title id="flow-titre">Enchaînement des étapes : {}</title><desc id="flow-desc">{} étapes ; la liste qui suit le schéma décrit les mêmes liens.</desc>"##,
        xml(&s.title),
        s.steps.len()
    );
    out.push_str(r##"<defs><marker id="fleche" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#1b1b1b"/></marker></defs>"##);
    for e in edges(s) {
        let (fx, fy) = at[e.from];
        let (tx, ty) = at[e.to];
        let back = ty <= fy;
        let (path, lx, ly) = if back {
            // Back or sideways: around the right side.
            let (sx, sy) = (fx + BOX_W, fy + BOX_H / 2);
            let (ex, ey) = (tx + BOX_W, ty + BOX_H / 2);
            let bulge = sx.max(ex) + 60;
            (format!("M {sx} {sy} C {bulge} {sy}, {bulge} {ey}, {ex} {ey}"), bulge - 20, (sy + ey) / 2)
        } else {
            let (sx, sy) = (fx + BOX_W / 2, fy + BOX_H);
            let (ex, ey) = (tx + BOX_W / 2, ty);
            (format!("M {sx} {sy} L {ex} {ey}"), (sx + ex) / 2 + 4, (sy + ey) / 2)
        };
        let _ = write!(out, r##"<path d="{path}" fill="none" stroke="#1b1b1b" stroke-width="1.5" marker-end="url(#fleche)"/>"##);
        if !e.label.is_empty() {
            let _ = write!(
                out,
                r##"<text x="{lx}" y="{ly}" font-size="11" fill="#1b1b1b" stroke="#ffffff" stroke-width="3" paint-order="stroke">{}</text>"##,
                xml(&cut(&e.label, 34))
            );
        }
    }
    for (i, step) in s.steps.iter().enumerate() {
        let (x, y) = at[i];
        let lost = !reachable[i];
        let (stroke, dash, width) = if lost { ("#b3261e", r#" stroke-dasharray="6 4""#, 3) } else { ("#1b1b1b", "", 1) };
        let _ = write!(
            out,
            r##"<g><rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="6" fill="{}" stroke="{stroke}" stroke-width="{width}"{dash}/>"##,
            fill(step.kind)
        );
        let _ = write!(
            out,
            r##"<text x="{}" y="{}" font-size="13" font-weight="bold" fill="#1b1b1b">{}</text>"##,
            x + 10,
            y + 20,
            xml(&cut(&step.id, 26))
        );
        let title = titles.get(i).map_or("", String::as_str);
        let _ = write!(out, r##"<text x="{}" y="{}" font-size="12" fill="#1b1b1b">{}</text>"##, x + 10, y + 38, xml(&cut(title, 30)));
        let tag = if lost { "inaccessible !".to_owned() } else { kind_label(step.kind).to_owned() };
        let color = if lost { "#b3261e" } else { "#3d4247" };
        let _ = write!(out, r##"<text x="{}" y="{}" font-size="11" fill="{color}">{}</text></g>"##, x + 10, y + 55, xml(&tag));
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::Library;

    #[test]
    fn every_step_and_transition_is_drawn() {
        let lib = Library::embedded();
        let s = lib.get("impots/declaration-revenus").unwrap();
        let titles: Vec<String> = s.steps.iter().map(|x| x.title.source().to_owned()).collect();
        let drawing = svg(s, &titles);
        assert_eq!(drawing.matches("<rect").count(), s.steps.len());
        assert_eq!(drawing.matches("marker-end").count(), edges(s).len());
        assert!(drawing.contains("après 3 échecs"));
        assert!(drawing.contains("si inbox.expired"));
        assert!(!drawing.contains("inaccessible"));
        assert!(!drawing.contains("style="));
    }
}
