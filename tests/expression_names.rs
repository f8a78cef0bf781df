//! The names an expression may read are listed once, in
//! `miroir::testing::expr::names`: the checker derives what it accepts from that
//! list, and the rehearsal's context must give exactly those names, in
//! that order, with exactly the listed members.

use minijinja::value::Value;
use miroir::testing::expr::names::Root;
use miroir::testing::library::Library;
use miroir::testing::rehearsal::{Rehearsal, Stage};

const NOW: u64 = 1_775_030_400; // 2026-04-01

fn keys(v: &Value) -> Vec<String> {
    v.try_iter().expect("a map").map(|k| k.to_string()).collect()
}

#[test]
fn the_rehearsal_context_gives_the_listed_roots_and_members() {
    let lib = Library::embedded();
    let s = lib.get("impots/declaration-revenus").expect("bundled scenario").clone();
    let persona = miroir::testing::persona::generate(&s.persona, 1);
    let r = Rehearsal::start(&s, 1, NOW);
    let ctx = r.context(Stage { scenario: &s, persona: &persona }, NOW);
    let names: Vec<&str> = Root::ALL.iter().map(|r| r.name()).collect();
    assert_eq!(keys(&ctx), names, "the context's roots are those of `Root::ALL`, in order");
    for root in Root::ALL {
        let Some(members) = root.members() else { continue };
        let value = ctx.get_attr(root.name()).expect("the root is given");
        let mut given = keys(&value);
        let mut listed: Vec<String> = members.iter().map(|m| (*m).to_owned()).collect();
        given.sort();
        listed.sort();
        assert_eq!(given, listed, "the members of `{}`", root.name());
    }
}

#[test]
fn every_root_is_found_by_its_name() {
    for root in Root::ALL {
        assert_eq!(Root::from_name(root.name()), Some(root));
    }
    assert_eq!(Root::from_name("personne"), None);
}
