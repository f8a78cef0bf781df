//! A scenario's steps drawn as a flow diagram, in SVG made on the server:
//! one box per step, coloured by kind, in rows by distance from the start;
//! arrows labelled with their conditions; unreachable steps flagged.
//! Presentation attributes only: the page's CSP allows no inline style.
//!
//! Boxes sit on a grid of columns, so that the gaps between columns and
//! between rows hold no box: every arrow leaves a box by its bottom, runs
//! in those gaps only (each arrow in its own lane), and enters its target
//! by the top. No arrow crosses a box, whatever the graph.

use crate::scenario::graph;
use crate::scenario::{Scenario, StepKind};
use std::fmt::Write;

const BOX_W: i32 = 220;
/// Title lines in a box are wrapped at this many characters.
const TITLE_CHARS: usize = 30;
/// Room between two lanes: corridors (between rows) carry labels.
const CORRIDOR_LANE: i32 = 16;
const CHANNEL_LANE: i32 = 8;
const MARGIN: i32 = 20;
/// Room on the right for labels of arrows that run there.
const LABEL_ROOM: i32 = 200;

/// One arrow: from, to, label.
pub(super) struct Edge {
    pub(crate) from: usize,
    pub(crate) to: usize,
    pub(crate) label: String,
}

/// Every transition of the scenario, labelled as an author would say it.
pub(super) fn edges(s: &Scenario) -> Vec<Edge> {
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

pub(super) fn kind_label(kind: StepKind) -> &'static str {
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

/// `text` in lines of at most `width` characters, broken between words
/// (or after a hyphen; a word longer than a line is split).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_inclusive([' ', '-']) {
        let mut word = word.to_owned();
        while word.trim_end().chars().count() > width {
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line).trim_end().to_owned());
            }
            let head: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            lines.push(head);
        }
        if line.chars().count() + word.trim_end().chars().count() > width && !line.is_empty() {
            lines.push(std::mem::take(&mut line).trim_end().to_owned());
        }
        line.push_str(&word);
    }
    if !line.trim().is_empty() {
        lines.push(line.trim_end().to_owned());
    }
    lines
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

/// A step's box: where it is and what it says.
struct Placed {
    x: i32,
    y: i32,
    h: i32,
    id: Vec<String>,
    title: Vec<String>,
}

/// An arrow: the corners of its path, and where its label goes.
struct Route {
    points: Vec<(i32, i32)>,
    label: String,
    label_at: (i32, i32),
    label_end: bool,
}

struct Layout {
    boxes: Vec<Placed>,
    routes: Vec<Route>,
    width: i32,
    height: i32,
}

/// The lanes an arrow takes: the corridor under its source's row, then,
/// unless that corridor is the one above its target's row, a channel
/// between columns and the corridor above the target.
struct Plan {
    edge: usize,
    exit_x: (usize, usize),
    entry_x: (usize, usize),
    first: (usize, usize),
    channel: Option<(usize, usize)>,
    last: Option<(usize, usize)>,
}

fn layout(s: &Scenario, titles: &[String]) -> Layout {
    let rows = rows(s);
    let edges = edges(s);
    let columns = rows.iter().map(Vec::len).max().unwrap_or(1).max(1);
    // Grid places: row, and column (a row's boxes centred on the grid).
    let mut row_of = vec![0; s.steps.len()];
    let mut col_of = vec![0; s.steps.len()];
    for (r, row) in rows.iter().enumerate() {
        let first = (columns - row.len()) / 2;
        for (k, &i) in row.iter().enumerate() {
            row_of[i] = r;
            col_of[i] = first + k;
        }
    }
    // Exits along a box's bottom and entries along its top, in the order
    // of the other end's column, so that arrows do not cross at the box.
    let order = |mine: &dyn Fn(&Edge) -> usize, theirs: &dyn Fn(&Edge) -> usize| {
        let mut slots = vec![(0, 1); edges.len()];
        for i in 0..s.steps.len() {
            let mut own: Vec<usize> = (0..edges.len()).filter(|&e| mine(&edges[e]) == i).collect();
            own.sort_by_key(|&e| (col_of[theirs(&edges[e])], row_of[theirs(&edges[e])], e));
            for (k, &e) in own.iter().enumerate() {
                slots[e] = (k, own.len());
            }
        }
        slots
    };
    let exits = order(&|e| e.from, &|e| e.to);
    let entries = order(&|e| e.to, &|e| e.from);

    // Lanes: corridor k lies above row k (the last one below the last row);
    // channel c lies left of column c (the last one right of the last).
    let mut corridor_lanes = vec![0usize; rows.len() + 1];
    let mut channel_lanes = vec![0usize; columns + 1];
    let take = |lanes: &mut [usize], k: usize| {
        lanes[k] += 1;
        (k, lanes[k] - 1)
    };
    let mut plans = Vec::new();
    for (e, edge) in edges.iter().enumerate() {
        let (rs, rt) = (row_of[edge.from], row_of[edge.to]);
        let first = take(&mut corridor_lanes, rs + 1);
        let (channel, last) = if rt == rs + 1 {
            (None, None)
        } else {
            // The channel nearest the source, on the target's side; a loop
            // on one box goes round its right.
            let (cs, ct) = (col_of[edge.from], col_of[edge.to]);
            let c = if ct < cs { cs } else { cs + 1 };
            (Some(take(&mut channel_lanes, c)), Some(take(&mut corridor_lanes, rt)))
        };
        plans.push(Plan { edge: e, exit_x: exits[e], entry_x: entries[e], first, channel, last });
    }

    // Sizes, now that the lanes are counted.
    let channel_w: Vec<i32> = channel_lanes.iter().map(|&n| (16 + CHANNEL_LANE * n as i32).max(40)).collect();
    let corridor_h: Vec<i32> = corridor_lanes.iter().map(|&n| (14 + CORRIDOR_LANE * n as i32).max(40)).collect();
    let mut col_x = Vec::with_capacity(columns);
    let mut x = MARGIN;
    for w in channel_w.iter().take(columns) {
        x += w;
        col_x.push(x);
        x += BOX_W;
    }
    let width = x + channel_w[columns] + MARGIN + LABEL_ROOM;
    let mut boxes: Vec<Placed> = (0..s.steps.len())
        .map(|i| {
            let id = wrap(&s.steps[i].id, TITLE_CHARS - 4);
            let title = wrap(titles.get(i).map_or("", String::as_str), TITLE_CHARS);
            let h = 12 + 16 * id.len() as i32 + 15 * title.len() as i32 + 18;
            Placed { x: col_x[col_of[i]], y: 0, h, id, title }
        })
        .collect();
    let mut row_y = Vec::with_capacity(rows.len());
    let mut y = MARGIN;
    for (r, row) in rows.iter().enumerate() {
        y += corridor_h[r];
        row_y.push(y);
        let tallest = row.iter().map(|&i| boxes[i].h).max().unwrap_or(0);
        for &i in row {
            boxes[i].y = y;
        }
        y += tallest;
    }
    let corridor_top: Vec<i32> = (0..=rows.len())
        .map(|k| if k == 0 { MARGIN } else { row_y[k - 1] + rows[k - 1].iter().map(|&i| boxes[i].h).max().unwrap_or(0) })
        .collect();
    let height = y + corridor_h[rows.len()] + MARGIN;
    let lane_y = |(k, lane): (usize, usize)| corridor_top[k] + 12 + CORRIDOR_LANE * lane as i32;
    let channel_x = |(c, lane): (usize, usize)| {
        let left = if c == 0 { MARGIN } else { col_x[c - 1] + BOX_W };
        left + 8 + CHANNEL_LANE * lane as i32
    };
    let along = |b: &Placed, (k, n): (usize, usize)| b.x + (k as i32 + 1) * BOX_W / (n as i32 + 1);

    let routes = plans
        .iter()
        .map(|p| {
            let edge = &edges[p.edge];
            let (from, to) = (&boxes[edge.from], &boxes[edge.to]);
            let (ex, nx) = (along(from, p.exit_x), along(to, p.entry_x));
            let y1 = lane_y(p.first);
            let mut points = vec![(ex, from.y + from.h), (ex, y1)];
            match (p.channel, p.last) {
                (Some(c), Some(l)) => {
                    let cx = channel_x(c);
                    let y2 = lane_y(l);
                    points.extend([(cx, y1), (cx, y2), (nx, y2)]);
                }
                _ => points.push((nx, y1)),
            }
            points.push((nx, to.y));
            // The label sits on the first stretch along the corridor,
            // starting at the exit and written the way the arrow goes.
            let next_x = points[2].0;
            let label_end = next_x < ex;
            Route { label: cut(&edge.label, 40), label_at: (if label_end { ex - 4 } else { ex + 4 }, y1 - 3), label_end, points }
        })
        .collect();
    Layout { boxes, routes, width, height }
}

/// The diagram; `titles` are the steps' titles as shown to people.
pub(super) fn svg(s: &Scenario, titles: &[String]) -> String {
    let Layout { boxes, routes, width, height } = layout(s, titles);
    let reachable = graph::reachable(&s.steps, s.start);
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
    for r in &routes {
        let d: Vec<String> = r.points.iter().enumerate().map(|(k, (x, y))| format!("{} {x} {y}", if k == 0 { "M" } else { "L" })).collect();
        let _ = write!(
            out,
            r##"<path d="{}" fill="none" stroke="#1b1b1b" stroke-width="1.5" stroke-linejoin="round" marker-end="url(#fleche)"/>"##,
            d.join(" ")
        );
    }
    // Labels after every arrow, so that no line is drawn over one.
    for r in routes.iter().filter(|r| !r.label.is_empty()) {
        let anchor = if r.label_end { r#" text-anchor="end""# } else { "" };
        let _ = write!(
            out,
            r##"<text x="{}" y="{}" font-size="11" fill="#1b1b1b" stroke="#ffffff" stroke-width="3" paint-order="stroke"{anchor}>{}</text>"##,
            r.label_at.0,
            r.label_at.1,
            xml(&r.label)
        );
    }
    for (i, (step, b)) in s.steps.iter().zip(&boxes).enumerate() {
        let lost = !reachable[i];
        let (stroke, dash, stroke_w) = if lost { ("#b3261e", r#" stroke-dasharray="6 4""#, 3) } else { ("#1b1b1b", "", 1) };
        let _ = write!(
            out,
            r##"<g><rect x="{}" y="{}" width="{BOX_W}" height="{}" rx="6" fill="{}" stroke="{stroke}" stroke-width="{stroke_w}"{dash}/>"##,
            b.x,
            b.y,
            b.h,
            fill(step.kind)
        );
        let mut y = b.y + 6;
        for line in &b.id {
            y += 16;
            let _ =
                write!(out, r##"<text x="{}" y="{y}" font-size="13" font-weight="bold" fill="#1b1b1b">{}</text>"##, b.x + 10, xml(line));
        }
        for line in &b.title {
            y += 15;
            let _ = write!(out, r##"<text x="{}" y="{y}" font-size="12" fill="#1b1b1b">{}</text>"##, b.x + 10, xml(line));
        }
        let tag = if lost { "inaccessible !".to_owned() } else { kind_label(step.kind).to_owned() };
        let color = if lost { "#b3261e" } else { "#3d4247" };
        let _ = write!(out, r##"<text x="{}" y="{}" font-size="11" fill="{color}">{}</text></g>"##, b.x + 10, y + 17, xml(&tag));
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

    /// Whether the segment a-b (across or along) passes inside the box.
    fn crosses((ax, ay): (i32, i32), (bx, by): (i32, i32), b: &Placed) -> bool {
        let (x0, x1, y0, y1) = (ax.min(bx), ax.max(bx), ay.min(by), ay.max(by));
        x1 > b.x && x0 < b.x + BOX_W && y1 > b.y && y0 < b.y + b.h
    }

    /// For every bundled scenario: no stretch of an arrow enters a box, the
    /// first one leaves its source's bottom edge and the last one ends on
    /// its target's top edge; stretches run across or along, never slanted;
    /// titles are wrapped, never cut.
    #[test]
    fn arrows_never_cross_boxes_and_titles_are_never_cut() {
        let lib = Library::embedded();
        for s in lib.scenarios.values() {
            let titles: Vec<String> =
                s.steps.iter().map(|x| format!("{} {}", x.title.source(), "très long titre ".repeat(x.id.len() % 3))).collect();
            let l = layout(s, &titles);
            let edges = edges(s);
            assert_eq!(l.routes.len(), edges.len());
            for (r, e) in l.routes.iter().zip(&edges) {
                let (from, to) = (&l.boxes[e.from], &l.boxes[e.to]);
                assert_eq!(r.points[0].1, from.y + from.h, "{}: {} leaves by the bottom", s.id, e.label);
                assert!((from.x..=from.x + BOX_W).contains(&r.points[0].0));
                let end = *r.points.last().unwrap();
                assert_eq!(end.1, to.y, "{}: enters {} by the top", s.id, s.steps[e.to].id);
                assert!((to.x..=to.x + BOX_W).contains(&end.0));
                for w in r.points.windows(2) {
                    assert!(w[0].0 == w[1].0 || w[0].1 == w[1].1, "{}: a slanted stretch {:?}", s.id, w);
                    for (k, b) in l.boxes.iter().enumerate() {
                        assert!(
                            !crosses(w[0], w[1], b),
                            "{}: an arrow {} -> {} crosses box {}",
                            s.id,
                            s.steps[e.from].id,
                            s.steps[e.to].id,
                            s.steps[k].id
                        );
                    }
                }
            }
            for (b, t) in l.boxes.iter().zip(&titles) {
                assert_eq!(b.title.concat().replace(' ', ""), t.replace(' ', ""), "{}", s.id);
                assert!(b.title.iter().all(|line| line.chars().count() <= TITLE_CHARS));
            }
        }
    }

    #[test]
    fn wrapping_breaks_between_words() {
        assert_eq!(wrap("Vérifiez vos informations personnelles", 20), ["Vérifiez vos", "informations", "personnelles"]);
        assert_eq!(wrap("declaration-revenus-complementaires", 12), ["declaration-", "revenus-", "complementai", "res"]);
        assert_eq!(wrap("", 10), Vec::<String>::new());
    }
}
