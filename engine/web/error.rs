//! Why a handler did not give its own page: one type for every refusal, so
//! handlers use `?` instead of repeating the same preambles.
//!
//! A refusal becomes a bare status here; the `error_pages` layer (see
//! [`super::security`]), which holds the state the base theme needs, turns
//! it into the French page of that status.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// A handler's refusal, or the answer it gives instead of its page.
#[derive(Debug)]
pub(crate) enum AppError {
    /// No such scenario, step, message or workshop: 404.
    NotFound,
    /// A form the page never offered (forged or stale): 400.
    BadRequest,
    /// A body over [`super::respond::BODY_LIMIT`]: 413.
    PayloadTooLarge,
    /// Visitors' sessions cannot be reached (Redis away): 503, to try again
    /// shortly; nothing is lost.
    Unavailable,
    /// A template failed: 500.
    Internal,
    /// Another answer made already: the redirect to where the visitor
    /// stands, the page saying their session expired, a scenario's error.
    Answer(Box<Response>),
}

impl AppError {
    /// Answers `response` instead of the handler's page (boxed: a
    /// response is large, and most errors are not).
    pub(super) fn answer(response: Response) -> AppError {
        AppError::Answer(Box::new(response))
    }

    /// Learners' sessions cannot be reached (Redis away): logged, and the
    /// 503 page, for a trainer must not be told an action was done.
    pub(super) fn store_down(e: &crate::session::StoreError) -> AppError {
        tracing::warn!(error = %e, "session store unavailable");
        AppError::Unavailable
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND.into_response(),
            AppError::BadRequest => StatusCode::BAD_REQUEST.into_response(),
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE.into_response(),
            AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            AppError::Unavailable => {
                // Kept by the `error_pages` layer on the page it makes.
                ([(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER))], StatusCode::SERVICE_UNAVAILABLE).into_response()
            }
            AppError::Answer(response) => *response,
        }
    }
}

/// Seconds a visitor is asked to wait when the session store is away.
pub(super) const RETRY_AFTER: &str = "10";

/// What every handler returns.
pub(crate) type Answer = Result<Response, AppError>;
