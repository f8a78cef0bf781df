//! A workshop dashboard's live stream (Server-Sent Events), read through
//! the router event by event.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use futures_util::StreamExt;
use miroir::testing::web::{self, Shared};
use std::time::Duration;
use tower::ServiceExt;

pub struct Feed {
    body: std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<axum::body::Bytes, axum::Error>> + Send>>,
    buffer: String,
}

impl Feed {
    pub async fn open(state: &Shared, token: &str) -> Feed {
        let response = web::router(state.clone())
            .oneshot(Request::get(format!("/atelier/animation/{token}/flux")).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Feed { body: Box::pin(response.into_body().into_data_stream()), buffer: String::new() }
    }

    /// The next event: (name, JSON data).
    pub async fn next(&mut self) -> (String, serde_json::Value) {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let raw: String = self.buffer.drain(..end + 2).collect();
                let name = raw.lines().find_map(|l| l.strip_prefix("event: ")).unwrap_or_default().to_owned();
                let data: String = raw.lines().filter_map(|l| l.strip_prefix("data: ")).collect();
                if name.is_empty() {
                    continue; // a keep-alive comment
                }
                return (name, serde_json::from_str(&data).unwrap());
            }
            let chunk =
                tokio::time::timeout(Duration::from_secs(10), self.body.next()).await.expect("an event within 10 s").unwrap().unwrap();
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// Events until one satisfies `done` (given its name and data); returns
    /// its data.
    pub async fn until(&mut self, done: impl Fn(&str, &serde_json::Value) -> bool) -> serde_json::Value {
        loop {
            let (name, data) = self.next().await;
            if done(&name, &data) {
                return data;
            }
        }
    }
}
