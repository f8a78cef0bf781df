//! Replays a scenario's walkthrough over HTTP: the walkthrough's script
//! says what to type, the pages are fetched and the forms posted through
//! the router, as a browser would.

use super::{Client, Page};
use axum::http::StatusCode;
use miroir::testing::walkthrough::{self, Move, Next, Script};
use miroir::testing::web::clock::now;

fn session_id(c: &Client) -> uuid::Uuid {
    let cookie = c.cookie.as_deref().expect("a session cookie");
    uuid::Uuid::parse_str(cookie.trim_start_matches("miroir=")).unwrap()
}

/// Walks walkthrough `test` of scenario `id` over HTTP, as the walkthrough's
/// persona; returns the last page. Panics with the page on any surprise.
pub async fn walk_over_http(c: &mut Client, id: &str, test: usize) -> Page {
    let loaded = c.state.loaded();
    let s = loaded.library.get(id).unwrap_or_else(|| panic!("no scenario {id}")).clone();
    let base = format!("/scenarios/{id}");
    let first = c.post_follow(&format!("{base}/commencer"), &[]).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    // Play the walkthrough's persona: its seed and traits.
    let sid = session_id(c);
    let store = c.state.store.clone();
    let mut session = std::sync::Arc::unwrap_or_clone(store.load(sid).await.unwrap().unwrap());
    session.put(walkthrough::start(&s, test, now()));
    store.save(sid, session.into()).await.unwrap();

    let mut script = Script::new(&s, &s.tests[test]);
    for _ in 0..300 {
        let page = c.get_follow(&format!("{base}/etape")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains(miroir::testing::web::render::BANNER));
        let r = store.load(sid).await.unwrap().unwrap().rehearsals[&s.id].clone();
        let step = r.current(&s).id.clone();
        let persona = r.persona(&s, now());
        match script.next(&r, &persona, now()).unwrap_or_else(|f| panic!("{}", f.message)) {
            Next::Done => {
                script.check_end(&r, &persona, now()).unwrap_or_else(|f| panic!("{}", f.message));
                return page;
            }
            Next::Moves(moves) => {
                for m in moves {
                    match m {
                        Move::Wait(minutes) => {
                            let mut session = std::sync::Arc::unwrap_or_clone(store.load(sid).await.unwrap().unwrap());
                            session.rehearsals.get_mut(&s.id).unwrap().wait(minutes);
                            store.save(sid, session.into()).await.unwrap();
                        }
                        Move::FollowLink(i) => {
                            let reply = c.post(&format!("{base}/messagerie/{i}/lien"), &[]).await;
                            assert_eq!(reply.status, StatusCode::SEE_OTHER);
                        }
                        Move::Act(key) => {
                            // The button the page shows, posted as a browser would.
                            assert!(
                                page.body.contains(&format!("name=\"_action\" value=\"{key}\"")),
                                "{id}, step `{step}`: no action `{key}` on the page:\n{}",
                                page.body
                            );
                            let reply = c.post(&format!("{base}/etape/{step}"), &[("_action", key.as_str())]).await;
                            assert_eq!(reply.status, StatusCode::SEE_OTHER, "{id}, step `{step}`: action `{key}`:\n{}", reply.body);
                        }
                        Move::Submit(form) => {
                            let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                            let reply = c.post(&format!("{base}/etape/{step}"), &pairs).await;
                            match reply.status {
                                StatusCode::SEE_OTHER => {}
                                StatusCode::OK if !script.was_last_attempt() => {}
                                other => panic!("{id}, step `{step}`: POST gave {other}:\n{}", reply.body),
                            }
                        }
                    }
                }
            }
        }
    }
    panic!("{id}: the walk goes round in circles");
}
