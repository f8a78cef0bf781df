//! Every address of a miroir site, once: the router's patterns are these
//! constants, and every link or redirect made in Rust is made by the
//! functions below from the same constants, so the two cannot drift apart.
//!
//! Links are site paths (`/scenarios/...`); [`under`] is the one place the
//! base path (`serve --base-path`, or an embedding application's prefix) is
//! put in front of them. Templates get the base as `root`, and the fixed
//! addresses already under it as the `routes` global.
//!
//! Templates write no path of their own. Where one adds a parameter to an
//! address it was given, it is always as `{{ prefix }}/{{ value }}` (a step
//! after `urls.step`, a message after `urls.inbox`, a theme's file after
//! `routes.assets`), and `prefixes_take_their_parameter_after_a_slash`
//! below holds each such pattern to that shape. An address with a part
//! after its parameter (a learner's reset, a message's link) is given
//! whole, one per learner or message.

use minijinja::value::Value;

/// Patterns of the site's top level.
pub(super) const HOME: &str = "/";
pub(super) const ACCESSIBILITY: &str = "/accessibilite";
pub(super) const HINTS: &str = "/indices";
pub(crate) const AUTHOR: &str = "/auteur";
pub(super) const AUTHOR_SCENARIO: &str = "/auteur/scenarios/{op}/{name}";
pub(super) const AUTHOR_START: &str = "/auteur/scenarios/{op}/{name}/commencer/{step}";
pub(super) const JOIN: &str = "/atelier";
pub(super) const JOIN_POST: &str = "/atelier/rejoindre";
pub(super) const ROOM: &str = "/atelier/salle";
pub(super) const LEAVE: &str = "/atelier/quitter";
pub(super) const NEW_WORKSHOP: &str = "/atelier/nouveau";
pub(super) const CLOSED: &str = "/atelier/clos";
pub(super) const ROBOTS: &str = "/robots.txt";
pub(super) const HEALTHZ: &str = "/healthz";
pub(super) const ENGINE_ASSET: &str = "/_miroir/{file}";
pub(super) const THEME_ASSET: &str = "/static/{theme}/{*path}";

/// A scenario's pages are under this.
pub(super) const SCENARIO: &str = "/scenarios/{op}/{name}";
/// Patterns under [`SCENARIO`].
pub(super) mod scenario {
    pub(in crate::web) const PAGE: &str = "/";
    pub(in crate::web) const START: &str = "/commencer";
    pub(in crate::web) const STEP: &str = "/etape";
    pub(in crate::web) const STEP_AT: &str = "/etape/{step}";
    pub(in crate::web) const BACK: &str = "/precedent";
    pub(in crate::web) const EDIT: &str = "/modifier";
    pub(in crate::web) const EDIT_AT: &str = "/modifier/{step}";
    pub(in crate::web) const RESET: &str = "/recommencer";
    pub(in crate::web) const NEW_PERSONA: &str = "/nouvelle-personne";
    pub(in crate::web) const CARD: &str = "/fiche";
    pub(in crate::web) const INBOX: &str = "/messagerie";
    pub(in crate::web) const MESSAGE: &str = "/messagerie/{n}";
    pub(in crate::web) const MESSAGE_LINK: &str = "/messagerie/{n}/lien";
    pub(in crate::web) const CLOCK: &str = "/horloge";
    pub(in crate::web) const DOCUMENT: &str = "/document";
    pub(in crate::web) const HANDOUT: &str = "/fiche-pas-a-pas";
    pub(in crate::web) const PERSONA_CARD: &str = "/fiche-personnage";
}

/// A trainer's pages are under this.
pub(super) const TRAINER: &str = "/atelier/animation/{token}";
/// Patterns under [`TRAINER`].
pub(super) mod trainer {
    pub(in crate::web) const DASHBOARD: &str = "/";
    pub(in crate::web) const CODE: &str = "/code";
    pub(in crate::web) const STREAM: &str = "/flux";
    pub(in crate::web) const RESET_ONE: &str = "/participants/{id}/recommencer";
    pub(in crate::web) const RESET_ALL: &str = "/recommencer";
    pub(in crate::web) const MOVE_ALL: &str = "/deplacer";
    pub(in crate::web) const END: &str = "/clore";
    pub(in crate::web) const CARDS: &str = "/fiches";
}

/// The router's pattern of `sub` (one of [`scenario`]'s or [`trainer`]'s
/// constants) under `prefix` ([`SCENARIO`] or [`TRAINER`]), as axum's
/// `nest` would join them. The routes are registered whole rather than
/// nested: a nested route strips its prefix on every request.
pub(super) fn nested(prefix: &str, sub: &str) -> String {
    if sub == "/" { prefix.to_owned() } else { format!("{prefix}{sub}") }
}

/// `pattern` with its `{name}` parameters replaced by values.
fn fill(pattern: &str, params: &[(&str, &str)]) -> String {
    let mut out = pattern.to_owned();
    for (name, value) in params {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// A scenario's page, `id` being `operator/name`.
pub(super) fn scenario(id: &str) -> String {
    SCENARIO.replace("{op}/{name}", id)
}

/// A page under a scenario's: `sub` is one of [`scenario`]'s constants
/// without parameters.
pub(super) fn in_scenario(id: &str, sub: &str) -> String {
    format!("{}{sub}", scenario(id))
}

/// A step of a rehearsal.
pub(super) fn step(id: &str, step: &str) -> String {
    in_scenario(id, &fill(scenario::STEP_AT, &[("step", step)]))
}

/// A message of a rehearsal's inbox.
pub(super) fn message(id: &str, n: usize) -> String {
    in_scenario(id, &fill(scenario::MESSAGE, &[("n", &n.to_string())]))
}

/// Where a message's link button posts.
pub(super) fn message_link(id: &str, n: usize) -> String {
    in_scenario(id, &fill(scenario::MESSAGE_LINK, &[("n", &n.to_string())]))
}

/// [`message_link`] for a template, as `{{ urls.inbox }}/3/lien` wrote it.
pub(super) fn message_link_for_template(id: &str, n: usize) -> Value {
    as_written_under(&in_scenario(id, scenario::INBOX), &message_link(id, n))
}

/// A scenario's author page.
pub(super) fn author_scenario(id: &str) -> String {
    AUTHOR_SCENARIO.replace("{op}/{name}", id)
}

/// Where "commencer ici" forms post, before the step's id.
pub(super) fn author_start_base(id: &str) -> String {
    AUTHOR_START.replace("{op}/{name}", id).replace("/{step}", "")
}

/// A trainer's dashboard.
pub(super) fn trainer(token: &str) -> String {
    fill(TRAINER, &[("token", token)])
}

/// Where the trainer's "Remettre à zéro" of one learner posts.
pub(super) fn learner_reset(token: &str, id: u32) -> String {
    format!("{}{}", self::trainer(token), fill(trainer::RESET_ONE, &[("id", &id.to_string())]))
}

/// [`learner_reset`] for a template, as `{{ base_url }}/participants/3/recommencer`
/// wrote it, `base_url` being the dashboard.
pub(super) fn learner_reset_for_template(token: &str, id: u32) -> Value {
    as_written_under(&self::trainer(token), &learner_reset(token, id))
}

/// A file the engine serves itself (`favicon.svg`, `miroir.css`).
pub(super) fn engine_asset(file: &str) -> String {
    fill(ENGINE_ASSET, &[("file", file)])
}

/// Where the themes' files are served, before `/{theme}/{path}`.
fn theme_assets() -> &'static str {
    THEME_ASSET.strip_suffix("/{theme}/{*path}").unwrap_or(THEME_ASSET)
}

/// The path the browser must see: `path` under `base`; the site's root
/// under a base is the base itself (`/entrainement`, not `/entrainement/`).
pub(crate) fn under(base: &str, path: &str) -> String {
    if path == HOME && !base.is_empty() { base.to_owned() } else { format!("{base}{path}") }
}

/// The `routes` global of templates: the site's fixed addresses under
/// `base`, as `{{ routes.join }}`. Written as `{{ root }}/atelier` was,
/// byte for byte: the base escaped, the path as it is.
pub(super) fn for_templates(base: &str) -> Value {
    let at = |path: &str| as_written(base, path);
    minijinja::context! {
        join => at(JOIN),
        join_post => at(JOIN_POST),
        room => at(ROOM),
        leave => at(LEAVE),
        new_workshop => at(NEW_WORKSHOP),
        author => at(AUTHOR),
        assets => at(theme_assets()),
    }
}

/// `prefix` then `sub` for a template, as `{{ prefix }}/sub` was written
/// there: the prefix escaped as any value is, the route's own part as it is.
pub(super) fn as_written(prefix: &str, sub: &str) -> Value {
    Value::from_safe_string(format!("{}{sub}", minijinja::HtmlEscape(prefix)))
}

/// `path` for a template, as `{{ prefix }}` and then the rest of the path
/// were written there: `prefix`, an address of its own, escaped as any
/// value is, the rest as it is.
fn as_written_under(prefix: &str, path: &str) -> Value {
    match path.strip_prefix(prefix) {
        Some(rest) => as_written(prefix, rest),
        None => Value::from(path),
    }
}

/// The links of a trainer's pages, for `{{ root }}{{ trainer.code }}`.
pub(super) fn trainer_links(token: &str) -> Value {
    let dashboard = self::trainer(token);
    let at = |sub: &str| as_written(&dashboard, sub);
    minijinja::context! {
        code => at(trainer::CODE),
        stream => at(trainer::STREAM),
        reset_all => at(trainer::RESET_ALL),
        move_all => at(trainer::MOVE_ALL),
        end => at(trainer::END),
        cards => at(trainer::CARDS),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_fill_the_router_patterns() {
        assert_eq!(scenario("caf/rsa"), "/scenarios/caf/rsa");
        assert_eq!(step("caf/rsa", "identite"), "/scenarios/caf/rsa/etape/identite");
        assert_eq!(in_scenario("caf/rsa", scenario::INBOX), "/scenarios/caf/rsa/messagerie");
        assert_eq!(message("caf/rsa", 2), "/scenarios/caf/rsa/messagerie/2");
        assert_eq!(author_scenario("caf/rsa"), "/auteur/scenarios/caf/rsa");
        assert_eq!(author_start_base("caf/rsa"), "/auteur/scenarios/caf/rsa/commencer");
        assert_eq!(trainer("abc"), "/atelier/animation/abc");
        assert_eq!(learner_reset("abc", 3), "/atelier/animation/abc/participants/3/recommencer");
        assert_eq!(message_link("caf/rsa", 2), "/scenarios/caf/rsa/messagerie/2/lien");
        assert_eq!(engine_asset("miroir.css"), "/_miroir/miroir.css");
    }

    /// What templates complete themselves, `{{ prefix }}/{{ value }}`,
    /// matches the router's pattern.
    #[test]
    fn prefixes_take_their_parameter_after_a_slash() {
        assert_eq!(format!("{}/{{step}}", scenario::STEP), scenario::STEP_AT);
        assert_eq!(format!("{}/{{step}}", scenario::EDIT), scenario::EDIT_AT);
        assert_eq!(format!("{}/{{n}}", scenario::INBOX), scenario::MESSAGE);
        assert_eq!(format!("{}/{{step}}", author_start_base("{op}/{name}")), AUTHOR_START);
        assert_eq!(format!("{}/{{theme}}/{{*path}}", theme_assets()), THEME_ASSET);
        assert_ne!(theme_assets(), THEME_ASSET);
    }

    #[test]
    fn per_item_links_are_written_as_their_templates_did() {
        let mut env = minijinja::Environment::new();
        env.add_template(
            "t.html",
            "{{ base_url }}/participants/{{ id }}/recommencer {{ reset }}\n{{ inbox }}/{{ n }}/lien {{ link }}\n{{ root }}/static/base/base.css {{ routes.assets }}/base/base.css",
        )
        .unwrap();
        let ctx = minijinja::context! {
            base_url => self::trainer("a-b"),
            id => 3,
            reset => learner_reset_for_template("a-b", 3),
            inbox => in_scenario("caf/rsa", scenario::INBOX),
            n => 2,
            link => message_link_for_template("caf/rsa", 2),
            root => "/entrainement",
            routes => for_templates("/entrainement"),
        };
        let out = env.get_template("t.html").unwrap().render(ctx).unwrap();
        for line in out.lines() {
            let (a, b) = line.split_once(' ').unwrap();
            assert_eq!(a, b);
        }
    }

    #[test]
    fn templates_write_routes_as_root_and_a_path_did() {
        let mut env = minijinja::Environment::new();
        env.add_global("root", "/entrainement");
        env.add_global("routes", for_templates("/entrainement"));
        env.add_template("t.html", "{{ root }}/atelier/salle {{ routes.room }}").unwrap();
        let out = env.get_template("t.html").unwrap().render(()).unwrap();
        let (a, b) = out.split_once(' ').unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn template_links_are_written_as_value_and_path_were() {
        let mut env = minijinja::Environment::new();
        env.add_global("root", "/entrainement");
        env.add_template("t.html", "{{ root }}{{ base_url }}/clore {{ root }}{{ trainer.end }}").unwrap();
        let ctx = minijinja::context! { base_url => self::trainer("a/b"), trainer => trainer_links("a/b") };
        let out = env.get_template("t.html").unwrap().render(ctx).unwrap();
        let (a, b) = out.split_once(' ').unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn the_base_path_goes_in_front_once() {
        assert_eq!(under("", "/"), "/");
        assert_eq!(under("", "/atelier"), "/atelier");
        assert_eq!(under("/entrainement", "/"), "/entrainement");
        assert_eq!(under("/entrainement", "/atelier"), "/entrainement/atelier");
    }
}
