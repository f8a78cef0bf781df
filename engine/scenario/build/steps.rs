//! The steps phase: each step's kind, texts, branches, actions, messages
//! and list (`repeat:`), with their limits.

use super::*;

/// A list with fewer items than its `min`, unless the author words it.
const TOO_FEW: &str = "Ajoutez au moins {{ min }} élément{% if min > 1 %}s{% endif %} à la liste avant de continuer.";
/// A list already at its `max`.
const TOO_MANY: &str = "Vous ne pouvez pas ajouter plus de {{ max }} élément{% if max > 1 %}s{% endif %}.";

impl Builder<'_> {
    /// Indexes the steps, then builds each one.
    pub(super) fn steps(&mut self, raw: &[RawStep], scenario_theme: &str) -> Vec<Step> {
        self.index(raw);
        raw.iter().map(|r| self.step(r, scenario_theme)).collect()
    }

    /// A step: its texts, fields, branches, failure route, messages, template
    /// and document.
    pub(super) fn step(&mut self, r: &RawStep, scenario_theme: &str) -> Step {
        let s = &r.step.value;
        let file = r.file.clone();
        let kind = s.kind.value;
        let theme = s.theme.as_ref().or(r.group_theme);
        if let Some(t) = &s.theme {
            self.check_theme(t, &file);
        }
        let effective_theme = theme.map_or(scenario_theme, |t| t.value.as_str()).to_owned();

        let counts = [
            (s.fields.get(MAX_FIELDS).map(|x| x.pos), s.fields.len(), "fields", MAX_FIELDS),
            (s.send.get(MAX_MESSAGES).map(|x| x.pos), s.send.len(), "messages", MAX_MESSAGES),
            (s.compute.0.get(MAX_COMPUTED).map(|x| x.0.pos), s.compute.0.len(), "computed values", MAX_COMPUTED),
        ];
        for (extra, count, what, max) in counts {
            if let Some(pos) = extra {
                self.error(&file, pos, 1, format!("too many {what} in step `{}` ({count}; at most {max})", s.id.value), None);
            }
        }
        let title = self.text(&s.title, &file, &[]);
        let text = s.text.as_ref().map(|t| self.text(t, &file, &[]));
        let hint = s.hint.as_ref().map(|t| self.text(t, &file, &[]));
        let fields: Vec<Field> = s.fields.iter().map(|f| self.field(f, &file, kind)).collect();
        self.check_conditions(s, &file);
        let repeat = s.repeat.as_ref().and_then(|rp| self.repeat(rp, s, &file));
        if let Some(recap) = &s.recap
            && recap.value
            && !matches!(kind, StepKind::Form | StepKind::Choice)
        {
            self.error(
                &file,
                recap.pos,
                recap.len,
                format!("only `form` and `choice` steps are on the récapitulatif; this step is `{}`", kind.name()),
                Some("only `form` and `choice` steps are listed there".into()),
            );
        }

        match kind {
            StepKind::Review | StepKind::Receipt | StepKind::Incident | StepKind::Info if !s.fields.is_empty() => {
                self.error(
                    &file,
                    s.fields[0].pos,
                    1,
                    format!("a `{}` step has no fields", kind.name()),
                    Some("use a `form` step to ask for answers".into()),
                );
            }
            StepKind::Choice => {
                let choosers = s.fields.iter().filter(|f| f.kind.value.has_options()).count();
                if s.fields.len() != 1 || choosers != 1 {
                    self.error(
                        &file,
                        s.kind.pos,
                        s.kind.len,
                        "a `choice` step asks one question: exactly one `radio` or `select` field".into(),
                        Some("use a `form` step for several fields".into()),
                    );
                }
            }
            _ => {}
        }
        if s.wait_for_link && (s.next.is_some() || !s.fields.is_empty()) {
            self.error(
                &file,
                s.id.pos,
                s.id.len,
                format!("step `{}` waits for a link: it has no `next` and no fields", s.id.value),
                Some("the link's `goto` says where the rehearsal goes".into()),
            );
        }

        let next = match &s.next {
            None => Vec::new(),
            Some(n) => match &n.value {
                NextFile::Step(target) => {
                    let target = Located { value: target.value.clone(), pos: n.pos, len: n.len };
                    self.goto(&target, r).map(|goto| vec![Branch { when: None, goto }]).unwrap_or_default()
                }
                NextFile::Branches(branches) => {
                    let mut out = Vec::new();
                    for (i, br) in branches.iter().enumerate() {
                        let when = br.when.as_ref().and_then(|w| self.expr(w, &file, &[]));
                        if br.when.is_none() && i + 1 < branches.len() {
                            self.error(
                                &file,
                                branches[i + 1].pos,
                                1,
                                "this branch can never be taken: the one before has no `if`".into(),
                                Some("put the branch without `if` last".into()),
                            );
                        }
                        if let Some(goto) = self.goto(&br.goto, r) {
                            out.push(Branch { when, goto });
                        }
                    }
                    out
                }
            },
        };
        let on_failure = s.on_failure.as_ref().and_then(|of| {
            if of.after.value == 0 {
                self.error(&file, of.after.pos, of.after.len, "`after` must be at least 1".into(), None);
            }
            let goto = self.goto(&of.goto, r)?;
            Some(OnFailure { after: of.after.value.max(1), goto })
        });
        let send = s.send.iter().filter_map(|m| self.message(m, r)).collect();
        let compute = s.compute.iter().filter_map(|(name, e)| self.expr(e, &file, &[]).map(|e| (name.value.clone(), e))).collect();
        let theme_known = self.world.themes.has(&effective_theme);
        if let Some(t) = s.template.as_ref().filter(|_| theme_known) {
            let name = template_name(&t.value);
            if self.world.themes.template(&effective_theme, &name).is_none() {
                self.error(
                    &file,
                    t.pos,
                    t.len,
                    format!("theme `{effective_theme}` has no template `{name}`"),
                    Some(format!("add themes/{effective_theme}/templates/{name}, or remove `template:`")),
                );
            }
        }
        let document = s.document.as_ref().map(|d| {
            let path = format!("documents/{}", template_name(&d.template.value));
            if theme_known && self.world.themes.template(&effective_theme, &path).is_none() {
                self.error(
                    &file,
                    d.template.pos,
                    d.template.len,
                    format!("theme `{effective_theme}` has no document template `{}`", d.template.value),
                    Some(format!("add themes/{effective_theme}/templates/{path}")),
                );
            }
            if theme_known {
                self.check_document(&effective_theme, &path, &s.id.value);
            }
            Document { template: path, title: d.title.value.clone() }
        });

        Step {
            id: s.id.value.clone(),
            kind,
            title,
            section: s.section.as_ref().map(|x| x.value.clone()),
            text,
            hint,
            fields,
            next,
            on_failure,
            send,
            compute,
            button: s.button.as_ref().map(|b| b.value.clone()),
            back: s.back.unwrap_or(true),
            template: s.template.as_ref().map(|t| template_name(&t.value)),
            theme: theme.map(|t| t.value.clone()),
            document,
            wait_for_link: s.wait_for_link,
            actions: self.actions(r),
            recap: s.recap.as_ref().is_none_or(|r| r.value),
            repeat,
            origin: Origin { file, pos: s.id.pos, group: r.group.clone() },
        }
    }

    /// A step's actions: each with a label or `franceconnect: true`, each
    /// key once, on a page that has a form to skip.
    pub(super) fn actions(&mut self, r: &RawStep) -> Vec<Action> {
        let s = &r.step.value;
        let file = r.file.clone();
        if let Some(first) = s.actions.first()
            && matches!(s.kind.value, StepKind::Review | StepKind::Receipt | StepKind::Incident)
        {
            let message = format!("a `{}` step has no `actions`", s.kind.value.name());
            self.error(&file, first.pos, 1, message, Some("actions go on `info`, `form`, `login` and `choice` steps".into()));
        }
        let mut out: Vec<Action> = Vec::new();
        for a in &s.actions {
            let fc = a.franceconnect != file::FranceConnectFile::No;
            let plus = a.franceconnect == file::FranceConnectFile::Plus;
            let label = match (fc, &a.label) {
                (true, None) if plus => FRANCECONNECT_PLUS_LABEL.to_owned(),
                (true, None) => FRANCECONNECT_LABEL.to_owned(),
                (false, Some(l)) => l.value.clone(),
                (true, Some(l)) => {
                    let hint = Some("the FranceConnect button has its own wording: remove `label:`".into());
                    self.error(&file, l.pos, l.len, "an action is either `franceconnect: true` or has a `label`".into(), hint);
                    continue;
                }
                (false, None) => {
                    let hint = Some("add `label: \"Mot de passe oublié ?\"`, or `franceconnect: true`".into());
                    self.error(&file, a.pos, 1, "this action has no `label`".into(), hint);
                    continue;
                }
            };
            let Some(goto) = self.goto(&a.goto, r) else { continue };
            let key = if fc { FRANCECONNECT.to_owned() } else { a.goto.value.clone() };
            if out.iter().any(|o| o.key == key) {
                let message =
                    if fc { "the FranceConnect button is listed twice".to_owned() } else { format!("two actions lead to `{key}`") };
                self.error(&file, a.pos, 1, message, Some("walkthroughs name an action by its `goto`: keep one".into()));
                continue;
            }
            out.push(Action { key, label, franceconnect: fc, plus, goto });
        }
        out
    }

    /// A field's `if:` is read before the page is shown, so it cannot read
    /// an answer of its own page: that answer is not known yet.
    fn check_conditions(&mut self, s: &StepFile, file: &str) {
        let own: Vec<&str> = s.fields.iter().map(|f| f.name.value.as_str()).collect();
        for f in &s.fields {
            let Some(when) = &f.when else { continue };
            let Ok(e) = Expr::compile(&when.value) else { continue };
            for var in e.variables() {
                let Some(read) = var.strip_prefix("answers.") else { continue };
                let read = read.split('.').next().unwrap_or(read);
                if own.contains(&read) && s.repeat.is_none() {
                    let (pos, len) = self.locate(file, when, &var);
                    self.error(
                        file,
                        pos,
                        len,
                        format!("the condition of field `{}` reads `answers.{read}`, a field of the same step", f.name.value),
                        Some(format!(
                            "conditions are evaluated before the page is shown, on the persona and earlier answers: ask `{read}` on an earlier step"
                        )),
                    );
                } else if s.repeat.is_some() && own.contains(&read) {
                    let (pos, len) = self.locate(file, when, &var);
                    self.error(
                        file,
                        pos,
                        len,
                        format!(
                            "the condition of field `{}` reads `answers.{read}`, but `{read}` is a field of the list's items",
                            f.name.value
                        ),
                        Some("an item field's condition reads the persona and earlier answers".into()),
                    );
                }
            }
        }
    }

    /// The `repeat:` of a step: its bounds, its wording, its prefill.
    pub(super) fn repeat(&mut self, rp: &Located<file::RepeatFile>, s: &StepFile, file: &str) -> Option<Repeat> {
        if s.kind.value != StepKind::Form {
            self.error(
                file,
                rp.pos,
                rp.len,
                format!("`repeat` applies to `form` steps; this step is `{}`", s.kind.value.name()),
                Some("write the item's fields in a `form` step".into()),
            );
        }
        if s.fields.is_empty() {
            self.error(
                file,
                rp.pos,
                rp.len,
                format!("the list `{}` has no fields for its items", rp.name.value),
                Some("list each item's fields under the step's `fields:`".into()),
            );
        }
        for f in &s.fields {
            if let Some(p) = &f.prefill {
                self.error(
                    file,
                    p.pos,
                    p.len,
                    format!("a field of the list `{}` takes no `prefill`", rp.name.value),
                    Some("a new item starts empty; use `repeat: prefill:` to start the list with items".into()),
                );
            }
        }
        let min = rp.min.as_ref().map_or(0, |m| m.value);
        let max = rp.max.as_ref().map_or(10.max(min), |m| m.value);
        if let Some(m) = &rp.max
            && (m.value == 0 || m.value > MAX_ITEMS)
        {
            self.error(file, m.pos, m.len, format!("`max` must lie within 1..{MAX_ITEMS}; got {}", m.value), None);
        }
        if let (Some(lo), Some(hi)) = (&rp.min, &rp.max)
            && lo.value > hi.value
        {
            self.error(file, hi.pos, hi.len, format!("`max` ({}) is below `min` ({})", hi.value, lo.value), None);
        } else if let Some(lo) = rp.min.as_ref().filter(|m| m.value > MAX_ITEMS) {
            self.error(file, lo.pos, lo.len, format!("`min` must lie within 0..{MAX_ITEMS}; got {}", lo.value), None);
        }
        let prefill = rp.prefill.as_ref().and_then(|p| self.expr(p, file, &[]));
        let too_few = match &rp.errors.min {
            Some(t) => self.text(t, file, LIST_MESSAGE_LOCALS),
            None => Text::compile(TOO_FEW).expect("built-in message"),
        };
        let too_many = match &rp.errors.max {
            Some(t) => self.text(t, file, LIST_MESSAGE_LOCALS),
            None => Text::compile(TOO_MANY).expect("built-in message"),
        };
        Some(Repeat {
            name: rp.name.value.clone(),
            item: rp.item.value.clone(),
            add: rp.add.value.clone(),
            min,
            max: max.clamp(1, MAX_ITEMS),
            prefill,
            too_few,
            too_many,
        })
    }

    /// A message a step sends: its channel, texts, code and link.
    pub(super) fn message(&mut self, m: &Located<file::MessageFile>, r: &RawStep) -> Option<Message> {
        let file = r.file.clone();
        let subject = m.subject.as_ref().map(|s| self.text(s, &file, MESSAGE_LOCALS));
        if m.channel.value == Channel::Sms && m.subject.is_some() {
            self.error(
                &file,
                m.channel.pos,
                m.channel.len,
                "an SMS has no subject".into(),
                Some("remove `subject:` or use `channel: email`".into()),
            );
        }
        let body = self.text(&m.body, &file, MESSAGE_LOCALS);
        let when = m.when.as_ref().and_then(|w| self.expr(w, &file, &[]));
        let code = m.code.as_ref().map(|c| match &c.value {
            CodeFile::Digits(n) => {
                if !(4..=12).contains(n) {
                    self.error(&file, c.pos, c.len, "a code has 4 to 12 digits".into(), None);
                }
                Code::Digits(*n)
            }
            CodeFile::Fixed(s) => Code::Fixed(s.clone()),
        });
        let link = match &m.link {
            Some(l) => {
                let goto = self.goto(&l.goto, r);
                let expired_goto = l.expired_goto.as_ref().and_then(|e| self.goto(e, r));
                goto.map(|goto| Link { label: l.label.value.clone(), goto, expired_goto })
            }
            None => None,
        };
        if m.code.is_some() && m.body.value.contains("{{") && !m.body.value.contains("code") {
            self.error(
                &file,
                m.body.pos,
                m.body.len,
                "the message has a code but its body does not show it".into(),
                Some("add `{{ code }}` to the body".into()),
            );
        }
        Some(Message {
            when,
            channel: m.channel.value,
            from: m.from.value.clone(),
            subject,
            body,
            code,
            link,
            valid_minutes: m.valid_minutes.as_ref().map(|v| v.value),
        })
    }
}

/// A template name with its `.html`.
fn template_name(name: &str) -> String {
    if name.ends_with(".html") { name.to_owned() } else { format!("{name}.html") }
}
