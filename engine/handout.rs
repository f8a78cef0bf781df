//! Printable handouts for trainers: the "fiche pas à pas" of a scenario,
//! made by playing its first walkthrough (the happy path) and writing down,
//! step by step, what the page asks, what to enter, and the aidant hint.

use crate::field::FieldType;
use crate::persona::Persona;
use crate::rehearsal::{Rehearsal, Stage, inbox};
use crate::scenario::Scenario;
use crate::walkthrough::{self, As, Failure, Move};
use serde::Serialize;
use std::sync::Arc;

/// One line of what to enter.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Entry {
    pub label_html: String,
    pub value: String,
}

/// One step of the handout.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct GuideStep {
    pub number: usize,
    pub section: Option<String>,
    pub title_html: String,
    pub hint_html: Option<String>,
    pub entries: Vec<Entry>,
    /// What to do to go on, such as « Cliquer sur « Continuer » ».
    pub action: String,
    step_id: String,
}

/// The fiche pas à pas of `scenario` for the persona of `seed` (or of the
/// first walkthrough), by the first walkthrough that this persona can
/// follow to its end.
pub(crate) fn for_seed(scenario: &Scenario, seed: Option<u64>) -> Result<(Vec<GuideStep>, Arc<Persona>), Failure> {
    // The persona exactly as the learner has it, by whichever walkthrough
    // its path follows to the end: never another person's traits.
    let tries: Vec<(usize, As)> = match seed {
        Some(seed) => (0..scenario.tests.len()).map(|i| (i, As::Exactly(seed))).collect(),
        None => vec![(0, As::Itself)],
    };
    let mut last = None;
    for (i, who) in tries {
        match step_by_step(scenario, i, who) {
            Ok(done) => return Ok(done),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or(Failure { pos: Default::default(), message: "no walkthrough".into() }))
}

/// The fiche pas à pas of `scenario`, as the persona of `who` would fill it.
pub(crate) fn step_by_step(scenario: &Scenario, index: usize, who: As) -> Result<(Vec<GuideStep>, Arc<Persona>), Failure> {
    let Some(first) = scenario.tests.get(index) else {
        return Err(Failure { pos: Default::default(), message: "the scenario has no walkthrough".into() });
    };
    let mut steps: Vec<GuideStep> = Vec::new();
    let mut broken = None;
    let end = walkthrough::observe_for_persona(scenario, index, who, &mut |r, stage, now, m| {
        if broken.is_some() {
            return;
        }
        match page(r, stage, now, m) {
            Ok(Some(g)) => {
                // A step tried several times is written down once, as it
                // was at last.
                if steps.last().is_some_and(|last| last.step_id == g.step_id) {
                    steps.pop();
                }
                steps.push(g);
            }
            Ok(None) => {}
            Err(e) => broken = Some(e),
        }
    })?;
    if let Some(e) = broken {
        return Err(Failure { pos: first.pos, message: e });
    }
    let persona = end.persona(scenario, walkthrough::clock(scenario));
    let stage = Stage { scenario, persona: &persona };
    let view = end.view(stage, walkthrough::clock(scenario), None).map_err(|e| Failure { pos: first.pos, message: e.to_string() })?;
    steps.push(GuideStep {
        number: 0,
        section: view.section.clone(),
        title_html: view.title_html,
        hint_html: view.hint_html,
        entries: Vec::new(),
        action: "C'est terminé.".into(),
        step_id: view.id,
    });
    for (i, s) in steps.iter_mut().enumerate() {
        s.number = i + 1;
    }
    Ok((steps, persona))
}

/// The handout entry for one move of the walkthrough.
fn page(r: &Rehearsal, stage: Stage, now: u64, m: &Move) -> Result<Option<GuideStep>, String> {
    let view = r.view(stage, now, None).map_err(|e| e.to_string())?;
    let step = r.current(stage.scenario);
    let ctx = r.context(stage, now);
    let (entries, action) = match m {
        Move::Wait(_) => return Ok(None),
        Move::FollowLink(i) => {
            let label = r
                .inbox
                .get(*i)
                .and_then(|s| inbox::message(stage.scenario, s))
                .and_then(|msg| msg.link.as_ref())
                .map_or_else(|| "le lien".to_owned(), |l| format!("« {} »", l.label));
            (Vec::new(), format!("Ouvrir la messagerie, puis cliquer sur {label}."))
        }
        Move::Act(key) => {
            let label = step.action(key).map_or_else(|| key.clone(), |a| a.label.clone());
            (Vec::new(), format!("Cliquer sur « {label} »."))
        }
        Move::Submit(form) => {
            let action = form.iter().find(|(k, _)| k == crate::rehearsal::LIST_ACTION).map(|(_, v)| v.as_str());
            let mut step_id = view.id.clone();
            let mut title_html = view.title_html.clone();
            let mut what = format!("Cliquer sur « {} ».", view.button);
            if let (Some(list), Some(action)) = (&view.list, action) {
                match (action, &list.open) {
                    // Opening a form is part of filling it, written below.
                    ("ajouter", _) => return Ok(None),
                    (a, _) if a.starts_with("modifier-") => return Ok(None),
                    (a, _) if a.starts_with("supprimer-") => {
                        let n = a.trim_start_matches("supprimer-");
                        return Ok(Some(GuideStep {
                            number: 0,
                            section: view.section,
                            title_html: view.title_html,
                            hint_html: view.hint_html,
                            entries: Vec::new(),
                            action: format!("Cliquer sur « Supprimer » sous « {} {n} ».", list.item),
                            step_id: format!("{}#supprimer-{n}-{}", view.id, list.items.len()),
                        }));
                    }
                    (_, Some(open)) => {
                        step_id = format!("{}#{}", view.id, open.number);
                        title_html = format!("{} — {}", view.title_html, minijinja::HtmlEscape(&open.legend));
                        what = if list.adding {
                            format!("Cliquer sur « {} », remplir puis cliquer sur « Enregistrer ».", list.add)
                        } else {
                            format!("Cliquer sur « Modifier » sous « {} », corriger puis cliquer sur « Enregistrer ».", open.legend)
                        };
                    }
                    _ => step_id = format!("{}#continuer", view.id),
                }
            }
            let mut entries = Vec::new();
            for fv in &view.fields {
                let Some(f) = step.fields.iter().find(|f| f.name == fv.name) else { continue };
                let values: Vec<&str> = form.iter().filter(|(k, _)| *k == f.name).map(|(_, v)| v.as_str()).collect();
                let value = match f.kind {
                    FieldType::Select | FieldType::Radio | FieldType::Checkbox if !f.options.is_empty() => values
                        .iter()
                        .filter_map(|v| f.options.iter().find(|o| o.value == *v))
                        .filter_map(|o| o.label.render_plain(&ctx).ok())
                        .collect::<Vec<_>>()
                        .join(", "),
                    FieldType::Checkbox => {
                        if values.first() == Some(&"on") {
                            "Cocher la case".into()
                        } else {
                            "Laisser vide".into()
                        }
                    }
                    // A code changes with every message: say where to find it.
                    _ if f.expect.as_ref().is_some_and(|e| e.source().contains("inbox")) => "Le code reçu dans la messagerie".to_owned(),
                    _ => values.first().map_or_else(String::new, |v| (*v).to_owned()),
                };
                let value = if value.is_empty() { "Laisser vide".to_owned() } else { value };
                entries.push(Entry { label_html: fv.label_html.clone(), value });
            }
            return Ok(Some(GuideStep {
                number: 0,
                section: view.section,
                title_html,
                hint_html: view.hint_html,
                entries,
                action: what,
                step_id,
            }));
        }
    };
    Ok(Some(GuideStep {
        number: 0,
        section: view.section,
        title_html: view.title_html,
        hint_html: view.hint_html,
        entries,
        action,
        step_id: view.id,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::Library;

    #[test]
    fn the_impots_handout_lists_every_step_of_the_happy_path() {
        let lib = Library::embedded();
        let s = lib.get("impots/declaration-revenus").unwrap();
        let (steps, persona) = step_by_step(s, 0, As::Itself).unwrap();
        let first = &steps[0];
        assert_eq!(first.number, 1);
        assert_eq!(first.entries[0].value, persona.text("numero_fiscal"));
        assert_eq!(first.entries[1].value, persona.text("mot_de_passe"));
        assert_eq!(first.action, "Cliquer sur « Se connecter ».");
        let last = steps.last().unwrap();
        assert_eq!(last.action, "C'est terminé.");
        assert!(steps.iter().any(|g| g.entries.iter().any(|e| e.value == "Cocher la case")));
    }

    #[test]
    fn the_handout_writes_each_item_of_a_list_and_how_to_add_it() {
        let lib = Library::embedded();
        let s = lib.get("caf/demande-aide-logement").unwrap();
        let (steps, persona) = step_by_step(s, 0, As::Itself).unwrap();
        let added = steps.iter().find(|g| g.title_html.contains("Enfant 3")).expect("the child added");
        assert_eq!(added.action, "Cliquer sur « Ajouter un enfant », remplir puis cliquer sur « Enregistrer ».");
        assert_eq!(
            added.entries.iter().map(|e| e.value.as_str()).collect::<Vec<_>>(),
            ["Jade", persona.text("nom").as_str(), "12/05/2026"]
        );
        let list = steps.iter().filter(|g| g.title_html == "Les enfants qui vivent avec vous").collect::<Vec<_>>();
        assert_eq!(list.len(), 1, "the list's « Continuer », once");
        assert_eq!(list[0].action, "Cliquer sur « Continuer ».");
        // A hidden field has no line: a married persona's spouse does.
        assert!(steps.iter().any(|g| g.entries.iter().any(|e| e.label_html == "Prénom du conjoint")));
    }
}
