//! What a page shows, computed from the rehearsal: the current step with
//! its texts rendered, its fields filled, its errors; the review; the
//! inbox; the persona card. Every text here is HTML-escaped already.

use super::{FieldError, Rehearsal, ScenarioError, Stage, inbox, markup};
use crate::expr::{Shape, Text, money, number};
use crate::field::FieldType;
use crate::persona::{Persona, ids};
use crate::scenario::{Channel, Field, Scenario, Step, StepKind};
use minijinja::value::Value;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Serialize)]
pub struct StepView {
    pub id: String,
    pub index: usize,
    pub kind: &'static str,
    /// Escaped HTML, as every `*_html` field.
    pub title_html: String,
    pub text_html: Option<String>,
    pub hint_html: Option<String>,
    pub section: Option<String>,
    pub train: Vec<TrainItem>,
    /// The train's current section, if the step is in one.
    pub train_now: Option<TrainItem>,
    pub fields: Vec<FieldView>,
    pub errors: Vec<ErrorView>,
    pub button: String,
    pub can_go_back: bool,
    /// Changing an answer from the review.
    pub editing: bool,
    pub review: Vec<ReviewBlock>,
    pub document: Option<DocumentView>,
    pub wait_for_link: bool,
    /// A receipt or incident with no way on.
    pub finished: bool,
    /// The theme this page renders with.
    pub theme: String,
    /// The template this page renders with.
    pub template: String,
    pub reference: String,
    /// The step's actions other than FranceConnect: links under the form.
    pub actions: Vec<ActionView>,
    /// The look-alike FranceConnect button, if the step has one.
    pub franceconnect: Option<FranceConnectView>,
    /// A repeatable group's step: its items, and the item form if open.
    pub list: Option<ListView>,
}

#[derive(Clone, Debug, Serialize)]
pub struct FranceConnectView {
    /// Posted as `_action`.
    pub key: String,
    /// FranceConnect+ rather than FranceConnect.
    pub plus: bool,
}

/// A button or link that leaves the page without sending its form.
#[derive(Clone, Debug, Serialize)]
pub struct ActionView {
    /// Posted as `_action`.
    pub key: String,
    pub label: String,
}

/// A list's step: the items added, and the form of one item when open.
#[derive(Clone, Debug, Serialize)]
pub struct ListView {
    pub name: String,
    /// "Enfant".
    pub item: String,
    /// "Ajouter un enfant".
    pub add: String,
    pub items: Vec<ItemView>,
    /// The item whose form is open: its number (from 1) and legend.
    pub open: Option<ItemView>,
    /// Whether the open form adds a new item (else it changes one).
    pub adding: bool,
    /// Whether one more item may be added.
    pub can_add: bool,
    pub min: u32,
    pub max: u32,
    /// The HTML id of the "Ajouter" button, where the error summary leads.
    pub add_id: String,
}

/// One item of a list, as its step and the récapitulatif show it.
#[derive(Clone, Debug, Serialize)]
pub struct ItemView {
    pub number: usize,
    /// "Enfant 2".
    pub legend: String,
    pub rows: Vec<ReviewRow>,
}

#[derive(Clone, Debug, Hash, Serialize)]
pub struct TrainItem {
    pub label: String,
    pub number: usize,
    /// `done`, `current` or `todo`.
    pub state: &'static str,
}

#[derive(Clone, Debug, Hash, Serialize)]
pub struct FieldView {
    pub name: String,
    /// The HTML id of the input.
    pub id: String,
    pub label_html: String,
    pub kind: &'static str,
    pub hint_html: Option<String>,
    pub value: String,
    pub options: Vec<OptionView>,
    pub required: bool,
    pub error_html: Option<String>,
    pub autocomplete: Option<String>,
    pub unit: Option<String>,
    pub accept: String,
    pub max_length: usize,
    /// The `inputmode` for phone keyboards.
    pub inputmode: Option<&'static str>,
    /// The HTML `type` of a one-line input.
    pub input_type: &'static str,
    /// A checkbox group or radio list, shown as a fieldset.
    pub grouped: bool,
    /// The ids of the hint and the error, for `aria-describedby`.
    pub describedby: Option<String>,
}

#[derive(Clone, Debug, Hash, Serialize)]
pub struct OptionView {
    pub value: String,
    pub label_html: String,
    pub hint_html: Option<String>,
    pub checked: bool,
    pub id: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct ErrorView {
    pub field: String,
    pub id: String,
    pub label_html: String,
    pub message_html: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct ReviewBlock {
    pub step: String,
    pub title_html: String,
    pub rows: Vec<ReviewRow>,
    pub editable: bool,
    /// A list's step: each item, with its own "Modifier".
    pub items: Option<Vec<ItemView>>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ReviewRow {
    pub label_html: String,
    pub value: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct DocumentView {
    pub title: String,
    pub template: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct MessageView {
    pub index: usize,
    pub channel: &'static str,
    pub from: String,
    pub subject_html: Option<String>,
    pub body_html: String,
    pub code: Option<String>,
    pub link_label: Option<String>,
    pub link_url: Option<String>,
    pub expired: bool,
    pub read: bool,
    pub used: bool,
    /// "il y a 5 minutes".
    pub received: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct CardLine {
    pub label: String,
    pub value: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct CardView {
    pub name: String,
    pub identity: Vec<CardLine>,
    pub identifiers: Vec<CardLine>,
    pub seed: u64,
}

/// Whether "Modifier" may lead back to this step from the review: a form
/// or a choice, unless every field is a check (a code, an identifier).
pub(crate) fn editable(step: &Step) -> bool {
    step.recap
        && matches!(step.kind, StepKind::Form | StepKind::Choice)
        && !step.fields.is_empty()
        && !step.fields.iter().all(|f| f.expect.is_some())
}

fn render(text: &Text, ctx: &Value, step: &Step, what: &str) -> Result<String, ScenarioError> {
    page_text(text, ctx, step, what, Shape::Escaped)
}

/// A text as a page shows it: escaped, and for `Inline` and `Block`
/// through the markup.
fn page_text(text: &Text, ctx: &Value, step: &Step, what: &str, shape: Shape) -> Result<String, ScenarioError> {
    let mark: fn(&str) -> String = match shape {
        Shape::Escaped => str::to_owned,
        Shape::Inline => markup::inline,
        Shape::Block => markup::to_html,
    };
    text.shown(ctx, shape, mark).map_err(|e| ScenarioError { step: step.id.clone(), message: format!("{what}: {e}") })
}

pub(crate) fn field_id(name: &str) -> String {
    format!("champ-{}", name.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '_', "-"))
}

impl Rehearsal {
    /// The current page. After a refused submit, pass its errors and values.
    pub fn view(
        &self,
        stage: Stage,
        now: u64,
        refused: Option<(&[FieldError], &BTreeMap<String, String>)>,
    ) -> Result<StepView, ScenarioError> {
        let scenario = stage.scenario;
        let step = self.current(scenario);
        let ctx = self.context(stage, now);
        let title = page_text(&step.title, &ctx, step, "title", Shape::Inline)?;
        let text = step.text.as_ref().map(|t| page_text(t, &ctx, step, "text", Shape::Block)).transpose()?;
        let hint = step.hint.as_ref().map(|t| page_text(t, &ctx, step, "hint", Shape::Block)).transpose()?;

        let shown = super::shown_fields(step, &ctx)?;
        let items = if step.repeat.is_some() { self.list_items(stage, step, now)? } else { Vec::new() };
        // A list's step shows its item fields only while an item form is open.
        let open_values = match (&step.repeat, self.open_item) {
            (Some(_), Some(open)) => Some(items.get(usize::from(open.index)).cloned().unwrap_or_default()),
            _ => None,
        };
        let mut fields = Vec::new();
        let mut errors = Vec::new();
        for f in &step.fields {
            if !shown.contains(&f.name.as_str()) || (step.repeat.is_some() && open_values.is_none()) {
                continue;
            }
            let error = refused.and_then(|(errs, _)| errs.iter().find(|e| e.field == f.name)).map(|e| e.message.clone());
            let value = match (refused, &open_values) {
                (Some((_, values)), _) => values.get(&f.name).cloned().unwrap_or_default(),
                (None, Some(item)) => item.get(&f.name).cloned().unwrap_or_default(),
                (None, None) => match self.answers.get(&f.name) {
                    Some(v) => v.to_string(),
                    None => match &f.prefill {
                        Some(p) => {
                            let v = p
                                .eval(&ctx)
                                .map_err(|e| ScenarioError { step: step.id.clone(), message: format!("`prefill` of `{}`: {e}", f.name) })?;
                            if v.is_none() { String::new() } else { v.as_str().map_or_else(|| v.to_string(), str::to_owned) }
                        }
                        None => String::new(),
                    },
                },
            };
            let view = field_view(f, &ctx, step, value, error)?;
            if let Some(message) = &view.error_html {
                errors.push(ErrorView {
                    field: f.name.clone(),
                    id: first_input_id(&view),
                    label_html: view.label_html.clone(),
                    message_html: message.clone(),
                });
            }
            fields.push(view);
        }
        let list = match &step.repeat {
            Some(repeat) => {
                let add_id = format!("ajouter-{}", field_id(&repeat.name).trim_start_matches("champ-"));
                if let Some(e) = refused.and_then(|(errs, _)| errs.iter().find(|e| e.field == repeat.name)) {
                    errors.push(ErrorView {
                        field: repeat.name.clone(),
                        id: add_id.clone(),
                        label_html: page_text(&step.title, &ctx, step, "title", Shape::Inline)?,
                        message_html: e.message.clone(),
                    });
                }
                let item_views =
                    items.iter().enumerate().map(|(i, item)| item_view(step, i, item, &ctx)).collect::<Result<Vec<_>, ScenarioError>>()?;
                let open = self.open_item.map(|o| usize::from(o.index));
                Some(ListView {
                    name: repeat.name.clone(),
                    item: repeat.item.clone(),
                    add: repeat.add.clone(),
                    open: open.map(|i| ItemView { number: i + 1, legend: format!("{} {}", repeat.item, i + 1), rows: Vec::new() }),
                    adding: open.is_some_and(|i| i >= items.len()),
                    can_add: items.len() < repeat.max as usize,
                    items: item_views,
                    min: repeat.min,
                    max: repeat.max,
                    add_id,
                })
            }
            None => None,
        };

        let train = train(scenario, step);
        let review = if step.kind == StepKind::Review { self.review(stage, &ctx)? } else { Vec::new() };
        let finished = self.is_finished(scenario);
        let button = step.button.clone().unwrap_or_else(|| {
            match step.kind {
                StepKind::Review => "Valider",
                StepKind::Login => "Se connecter",
                _ => "Continuer",
            }
            .to_owned()
        });
        Ok(StepView {
            id: step.id.clone(),
            index: usize::from(self.step),
            kind: step.kind.name(),
            title_html: title,
            text_html: text,
            hint_html: hint,
            section: step.section.clone(),
            train_now: train.iter().find(|t| t.state == "current").cloned(),
            train,
            fields,
            errors,
            button,
            can_go_back: (!self.resume.is_empty() || (step.back && !self.history.is_empty())) && !finished && self.open_item.is_none(),
            editing: !self.resume.is_empty(),
            review,
            document: step.document.as_ref().map(|d| DocumentView { title: d.title.clone(), template: d.template.clone() }),
            wait_for_link: step.wait_for_link,
            finished,
            theme: step.theme.clone().unwrap_or_else(|| scenario.theme.clone()),
            template: step
                .template
                .clone()
                .unwrap_or_else(|| if step.repeat.is_some() { "repeat.html".to_owned() } else { format!("{}.html", step.kind.name()) }),
            reference: super::reference(self.seed, &scenario.id),
            actions: step
                .actions
                .iter()
                .filter(|a| !a.franceconnect)
                .map(|a| ActionView { key: a.key.clone(), label: a.label.clone() })
                .collect(),
            franceconnect: step.actions.iter().find(|a| a.franceconnect).map(|a| FranceConnectView { key: a.key.clone(), plus: a.plus }),
            list,
        })
    }

    /// Every answered step on the path, in order, with its answers shown
    /// as the real site would show them.
    fn review(&self, stage: Stage, ctx: &Value) -> Result<Vec<ReviewBlock>, ScenarioError> {
        let scenario = stage.scenario;
        let mut blocks: Vec<ReviewBlock> = Vec::new();
        for &i in &self.history {
            let step = &scenario.steps[usize::from(i)];
            if !editable(step) || self.acted.contains(&i) || blocks.iter().any(|b| b.step == step.id) {
                continue;
            }
            let title = page_text(&step.title, ctx, step, "title", Shape::Inline)?;
            if let Some(repeat) = &step.repeat {
                let list = self.items.get(&repeat.name).map(Vec::as_slice).unwrap_or_default();
                let items =
                    list.iter().enumerate().map(|(i, item)| item_view(step, i, item, ctx)).collect::<Result<Vec<_>, ScenarioError>>()?;
                blocks.push(ReviewBlock { step: step.id.clone(), title_html: title, rows: Vec::new(), editable: true, items: Some(items) });
                continue;
            }
            // A hidden field has no line; its answer was dropped.
            let shown = super::shown_fields(step, ctx)?;
            let mut rows = Vec::new();
            for f in step.fields.iter().filter(|f| shown.contains(&f.name.as_str())) {
                let label = render(&f.label, ctx, step, "label")?;
                let value = self.answers.get(&f.name).unwrap_or("");
                rows.push(ReviewRow { label_html: label, value: display(f, value, ctx) });
            }
            if rows.is_empty() {
                continue;
            }
            blocks.push(ReviewBlock { step: step.id.clone(), title_html: title, rows, editable: true, items: None });
        }
        Ok(blocks)
    }

    /// The inbox, newest first.
    pub fn inbox_view(&self, stage: Stage, now: u64) -> Result<Vec<MessageView>, ScenarioError> {
        let minutes = self.minutes(now);
        let mut out = Vec::new();
        for (index, sent) in self.inbox.iter().enumerate() {
            let Some(m) = inbox::message(stage.scenario, sent) else { continue };
            let step = &stage.scenario.steps[usize::from(sent.step)];
            let code = inbox::code(self, m, sent);
            let link_url = m.link.as_ref().map(|_| inbox::link_url(self, stage.scenario, sent));
            let local = minijinja::context! {
                code => code.clone(),
                link => link_url.clone(),
                ..self.context(stage, now)
            };
            let subject = m.subject.as_ref().map(|s| render(s, &local, step, "message subject")).transpose()?;
            let body = page_text(&m.body, &local, step, "message body", Shape::Block)?;
            out.push(MessageView {
                index,
                channel: if m.channel == Channel::Email { "email" } else { "sms" },
                from: m.from.clone(),
                subject_html: subject,
                body_html: body,
                code,
                link_label: m.link.as_ref().map(|l| l.label.clone()),
                link_url,
                expired: inbox::expired(m, sent, minutes),
                read: sent.read,
                used: sent.used,
                received: ago(minutes.saturating_sub(sent.at)),
            });
        }
        out.reverse();
        Ok(out)
    }
}

fn ago(minutes: u32) -> String {
    match minutes {
        0 => "à l'instant".to_owned(),
        1 => "il y a 1 minute".to_owned(),
        m if m < 60 => format!("il y a {m} minutes"),
        m if m < 120 => "il y a 1 heure".to_owned(),
        m if m < 48 * 60 => format!("il y a {} heures", m / 60),
        m => format!("il y a {} jours", m / (24 * 60)),
    }
}

/// One item of a list with its answers as the récapitulatif prints them.
pub(crate) fn item_view(step: &Step, index: usize, item: &BTreeMap<String, String>, ctx: &Value) -> Result<ItemView, ScenarioError> {
    let repeat_item = step.repeat.as_ref().map_or("", |r| r.item.as_str());
    let mut rows = Vec::new();
    for f in &step.fields {
        let Some(value) = item.get(&f.name) else {
            if f.when.is_some() {
                continue; // a field hidden when the item was written
            }
            rows.push(ReviewRow { label_html: render(&f.label, ctx, step, "label")?, value: display(f, "", ctx) });
            continue;
        };
        rows.push(ReviewRow { label_html: render(&f.label, ctx, step, "label")?, value: display(f, value, ctx) });
    }
    Ok(ItemView { number: index + 1, legend: format!("{repeat_item} {}", index + 1), rows })
}

fn first_input_id(view: &FieldView) -> String {
    match view.options.first() {
        Some(o) if view.grouped => o.id.clone(),
        _ => view.id.clone(),
    }
}

fn field_view(f: &Field, ctx: &Value, step: &Step, value: String, error: Option<String>) -> Result<FieldView, ScenarioError> {
    let id = field_id(&f.name);
    let chosen: Vec<&str> = value.split('\n').collect();
    let mut options: Vec<OptionView> = Vec::new();
    for (i, o) in f.options.iter().enumerate() {
        options.push(OptionView {
            value: o.value.clone(),
            label_html: render(&o.label, ctx, step, "option label")?,
            hint_html: o.hint.as_ref().map(|h| render(h, ctx, step, "option hint")).transpose()?,
            checked: chosen.contains(&o.value.as_str()),
            id: format!("{id}-{}", i + 1),
        });
    }
    let hint_html = f.hint.as_ref().map(|h| render(h, ctx, step, "field hint")).transpose()?;
    let describedby = match (hint_html.is_some(), error.is_some()) {
        (true, true) => Some(format!("{id}-aide {id}-erreur")),
        (true, false) => Some(format!("{id}-aide")),
        (false, true) => Some(format!("{id}-erreur")),
        (false, false) => None,
    };
    let value = match f.kind {
        FieldType::Password => String::new(),
        FieldType::Money => value.replace('.', ","),
        _ => value,
    };
    Ok(FieldView {
        name: f.name.clone(),
        id,
        label_html: render(&f.label, ctx, step, "label")?,
        kind: f.kind.name(),
        hint_html,
        value,
        options,
        required: f.required,
        error_html: error,
        autocomplete: f.autocomplete.clone().or_else(|| f.kind.default_autocomplete().map(str::to_owned)),
        unit: f.unit.clone().or_else(|| (f.kind == FieldType::Money).then(|| "€".to_owned())),
        accept: f.accept.iter().map(|a| format!(".{a}")).collect::<Vec<_>>().join(","),
        max_length: f.max_length,
        inputmode: match f.kind {
            FieldType::Number | FieldType::NumeroFiscal => Some("numeric"),
            FieldType::Money => Some("decimal"),
            FieldType::Phone => Some("tel"),
            FieldType::Email => Some("email"),
            _ => None,
        },
        input_type: match f.kind {
            FieldType::Email => "email",
            FieldType::Phone => "tel",
            FieldType::Password => "password",
            FieldType::File => "file",
            _ => "text",
        },
        grouped: f.kind == FieldType::Radio || f.is_group(),
        describedby,
    })
}

/// An answer as a récapitulatif prints it (plain text, to be escaped).
pub(crate) fn display(f: &Field, value: &str, ctx: &Value) -> String {
    if value.is_empty() {
        return match f.kind {
            FieldType::Checkbox if !f.is_group() => "Non".to_owned(),
            _ => "Non renseigné".to_owned(),
        };
    }
    match f.kind {
        FieldType::Password => "••••••••".to_owned(),
        FieldType::Money => money(&super::typed(f.kind, false, value)),
        FieldType::Number => number(&super::typed(f.kind, false, value)),
        FieldType::Select | FieldType::Radio => label_of(f, value, ctx),
        FieldType::Checkbox if f.is_group() => value.split('\n').map(|v| label_of(f, v, ctx)).collect::<Vec<_>>().join(", "),
        FieldType::Checkbox => "Oui".to_owned(),
        FieldType::Iban => ids::format_iban(value),
        FieldType::Nir => ids::format_nir(value),
        FieldType::NumeroFiscal => ids::format_numero_fiscal(value),
        FieldType::Phone => ids::format_phone(value),
        FieldType::File => format!("Fichier joint : {value}"),
        _ => value.to_owned(),
    }
}

/// The label of an option as plain text (the review escapes it again).
fn label_of(f: &Field, value: &str, ctx: &Value) -> String {
    f.options.iter().find(|o| o.value == value).and_then(|o| o.label.render_plain(ctx).ok()).unwrap_or_else(|| value.to_owned())
}

fn train(scenario: &Scenario, step: &Step) -> Vec<TrainItem> {
    let sections = scenario.sections();
    let current = step.section.as_deref().and_then(|s| sections.iter().position(|x| *x == s));
    sections
        .iter()
        .enumerate()
        .map(|(i, label)| TrainItem {
            label: (*label).to_owned(),
            number: i + 1,
            state: match current {
                Some(c) if i < c => "done",
                Some(c) if i == c => "current",
                _ => "todo",
            },
        })
        .collect()
}

/// The persona card: who you are, and the identifiers this scenario asks for.
pub fn card(scenario: &Scenario, persona: &Persona) -> CardView {
    let t = |k: &str| persona.text(k);
    let name = format!("{} {} {}", t("civilite"), t("prenom"), t("nom"));
    let mut identity = vec![
        CardLine { label: "Nom".into(), value: name.clone() },
        CardLine {
            label: "Date de naissance".into(),
            value: format!(
                "{} ({}), à {}",
                t("date_naissance"),
                crate::french::years(persona.get("age").and_then(serde_json::Value::as_i64).unwrap_or_default()),
                t("lieu_naissance")
            ),
        },
        CardLine {
            label: "Adresse".into(),
            value: persona.path("adresse.complete").and_then(|v| v.as_str()).unwrap_or_default().to_owned(),
        },
        CardLine { label: "Téléphone portable".into(), value: ids::format_phone(&t("telephone")) },
        CardLine { label: "Adresse électronique".into(), value: t("email") },
        CardLine { label: "Situation familiale".into(), value: t("situation_familiale_libelle") },
    ];
    if let Some(c) = persona.get("conjoint").filter(|c| c.is_object()) {
        identity.push(CardLine {
            label: "Conjoint".into(),
            value: format!(
                "{} {}, né{} le {}",
                c["prenom"].as_str().unwrap_or_default(),
                c["nom"].as_str().unwrap_or_default(),
                if c["sexe"] == "F" { "e" } else { "" },
                c["date_naissance"].as_str().unwrap_or_default()
            ),
        });
    }
    if let Some(children) = persona.get("enfants").and_then(|e| e.as_array()).filter(|e| !e.is_empty()) {
        let list: Vec<String> = children
            .iter()
            .map(|c| {
                format!("{} ({})", c["prenom"].as_str().unwrap_or_default(), crate::french::years(c["age"].as_i64().unwrap_or_default()))
            })
            .collect();
        identity.push(CardLine { label: "Enfants".into(), value: list.join(", ") });
    }
    let ctx = minijinja::context! { persona => persona.template_value().clone() };
    let identifiers = scenario
        .card
        .iter()
        // A line whose condition fails (or cannot be read) does not show:
        // a widower's card has no "Salaires du conjoint".
        .filter(|line| line.when.as_ref().is_none_or(|w| w.test(&ctx).unwrap_or(false)))
        .filter_map(|line| {
            // Codes read better as their label.
            let path = if line.path == "situation_familiale" { "situation_familiale_libelle" } else { line.path.as_str() };
            let v = persona.path(path)?;
            let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
            Some(CardLine { label: line.label.clone(), value: format_identifier(path, &text, v) })
        })
        .collect();
    CardView { name, identity, identifiers, seed: persona.seed }
}

fn format_identifier(path: &str, text: &str, v: &serde_json::Value) -> String {
    let leaf = path.rsplit('.').next().unwrap_or(path);
    if leaf.starts_with("nir") && text.len() == 15 {
        ids::format_nir(text)
    } else if leaf.starts_with("iban") {
        ids::format_iban(text)
    } else if leaf.starts_with("numero_fiscal") {
        ids::format_numero_fiscal(text)
    } else if leaf.starts_with("telephone") {
        ids::format_phone(text)
    } else if v.is_number() && ["revenu", "salaire", "montant", "pension", "loyer"].iter().any(|k| leaf.contains(k)) {
        money(&crate::expr::to_value(v))
    } else {
        text.to_owned()
    }
}
