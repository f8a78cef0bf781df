//! Every bundled scenario's walkthroughs, replayed over HTTP through the
//! router as a visitor would: every page answers, every form is accepted
//! where the walkthrough expects it, and each ends on its expected step.

mod common;

use common::walk::walk_over_http;
use common::Client;
use miroir::library::Library;

#[tokio::test]
async fn every_scenario_walks_over_http() {
    let library = Library::embedded();
    let ids: Vec<(String, usize, String)> = library
        .scenarios
        .values()
        .flat_map(|s| s.tests.iter().enumerate().map(|(i, t)| (s.id.clone(), i, t.ends_at.clone())))
        .collect();
    assert!(!ids.is_empty());
    for (id, test, ends_at) in ids {
        let mut c = Client::new(library.clone());
        let page = walk_over_http(&mut c, &id, test).await;
        let r = {
            let sid = uuid::Uuid::parse_str(c.cookie.as_deref().unwrap().trim_start_matches("miroir=")).unwrap();
            c.state.store.load(sid).await.unwrap().unwrap().rehearsals[&id].clone()
        };
        let s = library.get(&id).unwrap();
        assert_eq!(r.current(s).id, ends_at, "{id} #{test}");
        assert!(page.body.contains("</html>"));
    }
}
