//! Where a request comes from, as the browser tells it: used by the
//! cross-site refusal of old browsers and by GET pages that change state.

use axum::http::{HeaderMap, HeaderValue, Uri, header};

/// Whether the browser says that a request comes from this site's own
/// pages, or from the address bar: `Sec-Fetch-Site`, or in older browsers
/// that do not send it, a `Referer` of this site.
pub(super) fn from_this_site(headers: &HeaderMap, uri: &Uri) -> bool {
    match headers.get("sec-fetch-site").map(HeaderValue::as_bytes) {
        Some(b"same-origin" | b"none") => true,
        None | Some(b"") => referer_is_this_site(headers, uri),
        Some(_) => false,
    }
}

/// Whether the `Referer` names this site: its host and port are the
/// request's (scheme-blind, as tower-http compares `Origin`: behind an https
/// proxy the server sees http).
pub(super) fn referer_is_this_site(headers: &HeaderMap, uri: &Uri) -> bool {
    let host = uri.authority().map(|a| a.as_str()).or_else(|| headers.get(header::HOST).and_then(|h| h.to_str().ok()));
    let referer = headers.get(header::REFERER).and_then(|r| Uri::try_from(r.as_bytes()).ok());
    match (host, referer) {
        (Some(host), Some(referer)) => {
            matches!(referer.scheme_str(), Some("http" | "https"))
                && referer.authority().is_some_and(|a| a.as_str().eq_ignore_ascii_case(host))
        }
        _ => false,
    }
}
