//! A small HTTP client for the router: keeps the session cookie, follows
//! redirects on demand, and reads pages.

#![allow(dead_code)]

pub mod feed;
pub mod walk;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use miroir::testing::library::Library;
use miroir::testing::web::{self, AppState, Shared};
use tower::ServiceExt;

pub struct Page {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> String {
        self.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
    }

    pub fn header(&self, name: &str) -> String {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
    }

    /// The text between `start` and the next `end`, after `start`.
    pub fn between(&self, start: &str, end: &str) -> Option<String> {
        let from = self.body.find(start)? + start.len();
        let to = self.body[from..].find(end)? + from;
        Some(self.body[from..to].to_owned())
    }

    /// The `<title>` text.
    pub fn title(&self) -> String {
        self.between("<title>", "</title>").unwrap_or_default()
    }
}

pub struct Client {
    pub state: Shared,
    router: Router,
    pub cookie: Option<String>,
    /// Extra headers sent with every request.
    pub headers: Vec<(String, String)>,
    /// The address the requests come from, as a server would see the peer.
    pub peer: Option<std::net::SocketAddr>,
}

impl Client {
    pub fn new(library: Library) -> Client {
        let state = AppState::in_memory(library);
        Client::with_state(state)
    }

    pub fn with_state(state: Shared) -> Client {
        Client { router: web::router(state.clone()), state, cookie: None, headers: Vec::new(), peer: None }
    }

    pub fn embedded() -> Client {
        Client::new(Library::embedded())
    }

    pub async fn send(&mut self, request: Request<Body>) -> Page {
        let mut request = request;
        if let Some(c) = &self.cookie {
            request.headers_mut().insert(header::COOKIE, c.parse().unwrap());
        }
        for (k, v) in &self.headers {
            request.headers_mut().insert(axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
        }
        if let Some(peer) = self.peer {
            request.extensions_mut().insert(axum::extract::ConnectInfo(peer));
        }
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        if let Some(set) = headers.get(header::SET_COOKIE) {
            let pair = set.to_str().unwrap().split(';').next().unwrap().to_owned();
            self.cookie = Some(pair);
        }
        let bytes = axum::body::to_bytes(response.into_body(), 10 << 20).await.unwrap();
        Page { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
    }

    /// Gets a page as a browser following a link of this site does.
    pub async fn get(&mut self, path: &str) -> Page {
        self.send(Request::get(path).header("sec-fetch-site", "same-origin").body(Body::empty()).unwrap()).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let body: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let request = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "same-origin")
            .body(Body::from(body))
            .unwrap();
        self.send(request).await
    }

    /// Posts, expects a redirect, and gets the page it leads to.
    pub async fn post_follow(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let page = self.post(path, form).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "POST {path} gave {}: {}", page.status, page.body);
        let to = page.location();
        self.get(&to).await
    }

    /// Gets, following redirects.
    pub async fn get_follow(&mut self, path: &str) -> Page {
        let mut page = self.get(path).await;
        let mut hops = 0;
        while page.status == StatusCode::SEE_OTHER && hops < 5 {
            let to = page.location();
            page = self.get(&to).await;
            hops += 1;
        }
        page
    }
}

/// Decodes the few entities minijinja writes.
pub fn unescape(s: &str) -> String {
    miroir::testing::expr::plain(s)
}

/// The value of `<dt>label</dt><dd>value</dd>` on a persona card.
pub fn card_value(page: &Page, label: &str) -> String {
    let marker = format!("<dt>{label}</dt><dd class=\"identifier\">");
    let alt = format!("<dt>{label}</dt><dd>");
    page.between(&marker, "</dd>").or_else(|| page.between(&alt, "</dd>")).map(|v| unescape(&v)).unwrap_or_default()
}
