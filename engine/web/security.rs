//! What wraps the router: cross-site request refusal, a body size limit,
//! security headers, French error pages, a log line per request that holds
//! the route, never a value, and panics logged by their place only.

use super::Shared;
use super::origin::referer_is_this_site;
use super::respond::{BODY_LIMIT, error_page};
use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use std::cell::RefCell;
use std::time::Instant;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::csrf::CsrfLayer;

/// The Content-Security-Policy: no inline script or style, forms to this
/// site only, and framing by nobody unless sites are allowed by name.
pub(crate) fn content_security_policy(frame_ancestors: &[String]) -> String {
    let framing = if frame_ancestors.is_empty() { "'none'".to_owned() } else { format!("'self' {}", frame_ancestors.join(" ")) };
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; \
         form-action 'self'; frame-ancestors {framing}; base-uri 'none'; object-src 'none'"
    )
}

/// Checks an origin allowed to frame miroir: `https://host[:port]`, or
/// plain http on the local machine.
pub fn check_frame_ancestor(origin: &str) -> Result<String, String> {
    let o = origin.trim().trim_end_matches('/');
    let rest = o
        .strip_prefix("https://")
        .or_else(|| o.strip_prefix("http://").filter(|r| r.starts_with("localhost") || r.starts_with("127.0.0.1")));
    let Some(host) = rest else {
        return Err(format!("`{origin}` is not an https origin such as https://www.ma-ville.fr"));
    };
    let valid = !host.is_empty()
        && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
        && !host.starts_with(['.', '-', ':']);
    if valid {
        Ok(o.to_owned())
    } else {
        Err(format!("`{origin}` is not an origin: write only the scheme and the host, such as https://www.ma-ville.fr"))
    }
}

/// Wraps `routes` in the security headers and the panic handler.
///
/// The layers wrap the router once, not each route: `Router::layer` puts
/// them around every route, and each request then clones and boxes the
/// whole stack of its route (a fifth of a cached page's time). Only
/// [`KeepRoute`] is per route, to tell the log line which route answered.
pub fn wrap(routes: Router, state: Shared) -> Router {
    let csp = content_security_policy(&state.config.frame_ancestors);
    let mut headers = vec![
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_str(&csp).unwrap_or_else(|_| HeaderValue::from_static("frame-ancestors 'none'")),
        ),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        // Browsers send the Referer to this site only, never to another:
        // older browsers without `Sec-Fetch-Site` or `Origin` prove with it
        // that a form came from here (see `old_browsers`).
        (header::REFERRER_POLICY, HeaderValue::from_static("same-origin")),
        (HeaderName::from_static("x-robots-tag"), HeaderValue::from_static("noindex, nofollow")),
        (HeaderName::from_static("permissions-policy"), HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()")),
        (HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin")),
    ];
    // X-Frame-Options cannot name sites: only when nobody may frame.
    if state.config.frame_ancestors.is_empty() {
        headers.push((header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")));
    }
    let guard = Guard { headers: headers.into(), state };
    // Outermost first: refusals made by the layers below get French pages.
    let guarded = tower::ServiceBuilder::new()
        .layer(middleware::from_fn_with_state(std::sync::Arc::new(guard), outermost))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(CsrfLayer::new())
        .layer(CatchPanicLayer::custom(answer_panic as fn(_) -> _))
        .service(routes.route_layer(tower::layer::layer_fn(KeepRoute)));
    Router::new().fallback_service(guarded)
}

/// What the outermost layer needs.
struct Guard {
    headers: Box<[(HeaderName, HeaderValue)]>,
    state: Shared,
}

/// Refuses forms of old browsers without proof of origin, replaces bare
/// refusals with French pages, adds the security headers, and logs one line
/// per request (method, route template, status, latency) at debug level
/// (`RUST_LOG=miroir=debug`): an access log costs a write per request and
/// serves no learner. Failures are logged at error level.
async fn outermost(State(guard): State<std::sync::Arc<Guard>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let mut response = match old_browsers(&request) {
        Some(refused) => refused,
        None => next.run(request).await,
    };
    // Taken before a French page replaces the response, and its extensions.
    let route = response.extensions_mut().remove::<MatchedPath>();
    let mut response = error_pages(&guard.state, response);
    let headers = response.headers_mut();
    for (name, value) in guard.headers.iter() {
        headers.insert(name.clone(), value.clone());
    }
    let status = response.status();
    let route = route.as_ref().map_or("(no route)", MatchedPath::as_str);
    let latency_us = started.elapsed().as_micros() as u64;
    if status == StatusCode::INTERNAL_SERVER_ERROR {
        tracing::error!(%method, %route, status = status.as_u16(), latency_us, "request");
    } else {
        tracing::debug!(%method, %route, status = status.as_u16(), latency_us, "request");
    }
    response
}

/// Carries the route that answered a request to its response, for the log
/// line of [`outermost`], which wraps the router and so runs before routing.
#[derive(Clone)]
struct KeepRoute<S>(S);

impl<S> tower::Service<Request> for KeepRoute<S>
where
    S: tower::Service<Request, Response = Response, Error = std::convert::Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = std::convert::Infallible;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Response, std::convert::Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let route = request.extensions().get::<MatchedPath>().cloned();
        let answered = self.0.call(request);
        Box::pin(async move {
            let mut response = answered.await?;
            if let Some(route) = route {
                response.extensions_mut().insert(route);
            }
            Ok(response)
        })
    }
}

/// Replaces the bare responses of refusals (cross-site request, body too
/// large, wrong method, and every handler's [`super::error::AppError`])
/// with a page in French; a `Retry-After` is kept.
fn error_pages(state: &Shared, response: Response) -> Response {
    let status = response.status();
    let is_html = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/html"));
    if is_html || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let mut page = error_page(state, status);
    if let Some(retry) = response.headers().get(header::RETRY_AFTER) {
        page.headers_mut().insert(header::RETRY_AFTER, retry.clone());
    }
    page
}

/// tower-http's `CsrfLayer` lets a state-changing request through when it
/// has neither `Sec-Fetch-Site` nor `Origin`, which older browsers send
/// neither of with a form. Such a request must then carry a `Referer` of
/// this site; with none of the three, it is refused.
fn old_browsers(request: &Request) -> Option<Response> {
    let h = request.headers();
    let present = |name: &str| h.get(name).is_some_and(|v| !v.is_empty());
    let state_changing = !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let refused = state_changing && !present("sec-fetch-site") && !present("origin") && !referer_is_this_site(h, request.uri());
    refused.then(|| StatusCode::FORBIDDEN.into_response())
}

thread_local! {
    /// Where the last panic of this thread happened, for the request that
    /// caught it.
    static PANIC_PLACE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Logs every panic by its place only (`file:line`), never its message,
/// which may hold an answer, and remembers the place for the request's
/// own log line. Installed by `miroir serve`.
pub fn log_panics_by_place() {
    std::panic::set_hook(Box::new(|info| {
        let place = info.location().map(|l| format!("{}:{}", l.file(), l.line()));
        tracing::error!(place = %place.as_deref().unwrap_or("unknown"), "panic");
        PANIC_PLACE.with(|p| *p.borrow_mut() = place);
    }));
}

/// A request whose handler panicked: logged with the panic's place when the
/// hook above saw it, never with its message (tower-http's default handler
/// logs the message). The bare 500 becomes the French page in `error_pages`.
fn answer_panic(_payload: Box<dyn std::any::Any + Send>) -> Response {
    let place = PANIC_PLACE.with(|p| p.borrow_mut().take());
    tracing::error!(place = %place.as_deref().unwrap_or("unknown"), "a request handler panicked");
    StatusCode::INTERNAL_SERVER_ERROR.into_response()
}
