//! Every address of a miroir site, once: the router's patterns are these
//! constants, and every link or redirect made in Rust is made by the
//! functions below from the same constants, so the two cannot drift apart.
//!
//! Links are site paths (`/scenarios/...`); [`under`] is the one place the
//! base path (`serve --base-path`, or an embedding application's prefix) is
//! put in front of them. Templates get the base as `root`, and the fixed
//! addresses already under it as the `routes` global.

use minijinja::value::Value;

/// Patterns of the site's top level.
pub(super) const HOME: &str = "/";
pub(super) const ACCESSIBILITY: &str = "/accessibilite";
pub(super) const HINTS: &str = "/indices";
pub(super) const AUTHOR: &str = "/auteur";
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

/// A scenario's pages are nested under this.
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

/// A trainer's pages are nested under this.
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
    }
}

/// `prefix` then `sub` for a template, as `{{ prefix }}/sub` was written
/// there: the prefix escaped as any value is, the route's own part as it is.
pub(super) fn as_written(prefix: &str, sub: &str) -> Value {
    Value::from_safe_string(format!("{}{sub}", minijinja::HtmlEscape(prefix)))
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
