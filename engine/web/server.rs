//! The accept loop: hyper's HTTP/1 connections, with the limits that
//! `axum::serve` lacks, so that slow or idle clients can neither crowd out
//! visitors nor keep the process alive after SIGTERM.
//!
//! - a connection has [`Limits::header_timeout`] from the first byte of a
//!   request to the end of its header, and [`Limits::idle_timeout`] to start
//!   a request at all (first, or next on a kept-alive connection);
//! - a request has [`Limits::request_timeout`] from its header to its
//!   response's header, which bounds reading its body (408 after it); the
//!   response body is not timed, so live streams last;
//! - a client that stops reading a response for [`Limits::write_timeout`]
//!   is cut;
//! - at most [`Limits::max_connections`] connections are open; beyond, the
//!   new one gets a short French 503 and is closed, never left waiting;
//! - on stop, no connection is accepted any more, the open ones finish their
//!   request under way (a half-sent header is none: closed at once), and
//!   after [`Limits::shutdown_deadline`] the rest are
//!   closed.

use super::render::{BANNER, TITLE_PREFIX};
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::{Arc, LazyLock, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

/// How long a client may take, and how many may be connected.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Connections open at once; beyond, a 503.
    pub max_connections: u32,
    /// From the first byte of a request to the end of its header.
    pub header_timeout: Duration,
    /// Waiting for a request: on a new connection, or between two requests
    /// of a kept-alive one.
    pub idle_timeout: Duration,
    /// From a request's header to its response's header: reading the body
    /// (a form is at most 64 KiB) and answering.
    pub request_timeout: Duration,
    /// A client that reads nothing of its response for this long is cut.
    pub write_timeout: Duration,
    /// After a stop, how long requests under way may take to finish.
    pub shutdown_deadline: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections: 4096,
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            request_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(30),
            shutdown_deadline: Duration::from_secs(5),
        }
    }
}

/// Open files the process needs besides its connections: the refusals
/// under way ([`REFUSING`]), the listener, the standard streams, the
/// runtime's and the folder watcher's own.
pub(crate) const RESERVED_FILES: u64 = 128;

/// Refusals (503) sent at once; beyond, a connection is closed unanswered,
/// so that a flood costs no more than this many files.
const REFUSING: usize = 64;

/// How long a refusal may take to be written, then to be read.
const REFUSAL_TIME: Duration = Duration::from_secs(1);

/// Pause after a failed accept that is not the client's doing (out of file
/// descriptors, of memory): trying again at once would spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Accept failures are logged at most this often.
const ACCEPT_LOG_EVERY: Duration = Duration::from_secs(10);

/// What the open connections are told.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Closing {
    No,
    /// Finish the request under way, take no other.
    Gracefully,
    /// Close now.
    Now,
}

/// Serves `app` on `listener` until `stop` resolves; then stops accepting,
/// lets the requests under way finish within the shutdown deadline, closes
/// what is left, and returns.
pub async fn serve(listener: TcpListener, app: Router, limits: Limits, stop: impl Future<Output = ()> + Send) -> io::Result<()> {
    let places = Arc::new(Semaphore::new(limits.max_connections as usize));
    let refusing = Arc::new(Semaphore::new(REFUSING));
    let (closing, _) = watch::channel(Closing::No);
    let mut failures = AcceptFailures::default();
    let mut lanes = Lanes::start()?;
    let mut stop = pin!(stop);
    loop {
        let accepted = tokio::select! {
            biased;
            () = &mut stop => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => match places.clone().try_acquire_owned() {
                Ok(place) => match stream.into_std() {
                    Ok(stream) => {
                        let (app, limits, closing) = (app.clone(), limits.clone(), closing.subscribe());
                        lanes.spawn(async move {
                            // Registered with the lane's own reactor.
                            match TcpStream::from_std(stream) {
                                Ok(stream) => connection(stream, peer, app, limits, closing, place).await,
                                Err(error) => tracing::warn!(%error, "a connection could not join its lane; closed"),
                            }
                        });
                    }
                    // Never seen: the socket could not leave this reactor.
                    Err(error) => tracing::warn!(%error, "a connection could not be handed to a lane; closed"),
                },
                Err(_) => refuse(stream, &refusing),
            },
            // The client gave up before it was accepted: nothing to wait for.
            Err(e) if matches!(e.kind(), io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset) => {}
            Err(e) => {
                failures.note(&e);
                tokio::select! {
                    () = &mut stop => break,
                    () = tokio::time::sleep(ACCEPT_BACKOFF) => {}
                }
            }
        }
    }
    // New connections are refused by the system from now on.
    drop(listener);
    closing.send_replace(Closing::Gracefully);
    let all = limits.max_connections;
    if tokio::time::timeout(limits.shutdown_deadline, places.acquire_many(all)).await.is_err() {
        let open = all as usize - places.available_permits();
        tracing::warn!("closing {open} connection(s) still open after the {} s shutdown deadline", limits.shutdown_deadline.as_secs_f64());
        closing.send_replace(Closing::Now);
        let _ = tokio::time::timeout(Duration::from_secs(1), places.acquire_many(all)).await;
    }
    Ok(())
}

/// Threads that each run their connections from start to end, one per
/// core, each with a runtime of its own: a connection's wake-ups stay on its
/// thread and no task moves between threads, as with nginx's workers. On
/// the work-stealing runtime, the hand-offs between its threads held a kept
/// page to 0.76–0.85 of nginx, changing from run to run; on lanes it
/// measures 0.9–1.0 (benches/load.sh). Dropped, the lanes stop, with what
/// still runs on them.
struct Lanes {
    handles: Vec<tokio::runtime::Handle>,
    next: usize,
    _stops: Vec<tokio::sync::oneshot::Sender<()>>,
}

impl Lanes {
    fn start() -> io::Result<Lanes> {
        let count = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let (mut handles, mut stops) = (Vec::with_capacity(count), Vec::with_capacity(count));
        for i in 0..count {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            handles.push(runtime.handle().clone());
            std::thread::Builder::new().name(format!("miroir-lane-{i}")).spawn(move || {
                runtime.block_on(async {
                    let _ = stopped.await;
                });
            })?;
            stops.push(stop);
        }
        Ok(Lanes { handles, next: 0, _stops: stops })
    }

    /// Runs `task` on the next lane in turn.
    fn spawn(&mut self, task: impl Future<Output = ()> + Send + 'static) {
        self.handles[self.next % self.handles.len()].spawn(task);
        self.next = self.next.wrapping_add(1);
    }
}

/// Logs accept failures once in a while, with how many went unlogged.
#[derive(Default)]
struct AcceptFailures {
    logged: Option<Instant>,
    unlogged: u64,
}

impl AcceptFailures {
    fn note(&mut self, error: &io::Error) {
        if self.logged.is_some_and(|at| at.elapsed() < ACCEPT_LOG_EVERY) {
            self.unlogged += 1;
            return;
        }
        tracing::error!(%error, since_last = self.unlogged, "cannot accept connections; trying again (is the open-file limit too low?)");
        self.logged = Some(Instant::now());
        self.unlogged = 0;
    }
}

/// One connection, holding its `place` under the cap until it ends.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    limits: Limits,
    mut closing: watch::Receiver<Closing>,
    _place: OwnedSemaphorePermit,
) {
    let _ = stream.set_nodelay(true);
    let phase = Arc::new(Phase::new());
    let watched = phase.clone();
    let io = TokioIo::new(Timed::new(stream, phase.clone(), &limits));
    let request_timeout = limits.request_timeout;
    let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
        // Workshops count wrong join codes per network address.
        request.extensions_mut().insert(ConnectInfo(peer));
        let done = Phase::busy(&phase);
        let app = app.clone();
        async move {
            let response = match tokio::time::timeout(request_timeout, app.oneshot(request)).await {
                Ok(Ok(response)) => response,
                Err(_) => refusal(StatusCode::REQUEST_TIMEOUT, &TOO_SLOW),
            };
            Ok::<_, Infallible>(response.map(|body| Tracked { body, _done: done }))
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    // Our own timers (see `Timed`): hyper's starts as soon as a connection
    // waits, so it cannot tell an idle connection from a slow header.
    builder.keep_alive(true).header_read_timeout(None);
    let mut conn = pin!(builder.serve_connection(io, service));
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = closing.wait_for(|c| *c != Closing::No) => {}
    }
    // A half-sent header is no request under way: waiting for it would let
    // a slow client hold the stop up to the deadline.
    if matches!(watched.state().now, Activity::Header(_)) {
        return;
    }
    conn.as_mut().graceful_shutdown();
    tokio::select! {
        _ = conn.as_mut() => {}
        // Also when the server is gone (the sender dropped).
        _ = closing.wait_for(|c| *c == Closing::Now) => {}
    }
}

/// Where a connection is between requests, which says which timer runs.
struct Phase(Mutex<PhaseState>);

struct PhaseState {
    now: Activity,
    /// The connection's task, woken when a response ends so that the idle
    /// timer starts even if hyper is not reading at that moment.
    reader: Option<Waker>,
}

#[derive(Clone, Copy)]
enum Activity {
    /// No byte of a request yet, since this instant.
    Waiting(Instant),
    /// A request's first byte came at this instant; its header is not whole.
    Header(Instant),
    /// A request is being answered: timed by the request timeout, and its
    /// response (perhaps a live stream) not at all.
    Busy,
}

impl Phase {
    fn new() -> Phase {
        Phase(Mutex::new(PhaseState { now: Activity::Waiting(Instant::now()), reader: None }))
    }

    fn state(&self) -> std::sync::MutexGuard<'_, PhaseState> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A header is whole: the request is answered, until the guard returned
    /// is dropped with the response body.
    fn busy(phase: &Arc<Phase>) -> Done {
        phase.state().now = Activity::Busy;
        Done(phase.clone())
    }

    /// Bytes came: if none of a request had, its header starts now.
    fn bytes_came(&self) {
        let mut state = self.state();
        if let Activity::Waiting(_) = state.now {
            state.now = Activity::Header(Instant::now());
        }
    }

    /// When reading must give up, and why; keeps `waker` to wake.
    fn read_deadline(&self, limits: &ReadLimits, waker: &Waker) -> Option<(Instant, &'static str)> {
        let mut state = self.state();
        match &mut state.reader {
            Some(w) if w.will_wake(waker) => {}
            other => *other = Some(waker.clone()),
        }
        match state.now {
            Activity::Waiting(since) => Some((since + limits.idle, "no request came in time")),
            Activity::Header(since) => Some((since + limits.header, "the request header took too long")),
            Activity::Busy => None,
        }
    }
}

/// Dropped with the response body (sent, or abandoned): the connection
/// waits for its next request from then on.
struct Done(Arc<Phase>);

impl Drop for Done {
    fn drop(&mut self) {
        let waker = {
            let mut state = self.0.state();
            state.now = Activity::Waiting(Instant::now());
            state.reader.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

/// A response body that says when it is dropped.
struct Tracked {
    body: Body,
    _done: Done,
}

impl http_body::Body for Tracked {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

struct ReadLimits {
    header: Duration,
    idle: Duration,
}

/// A client's socket with the read timers of its [`Phase`], and a timer on
/// writes that make no progress.
struct Timed {
    stream: TcpStream,
    phase: Arc<Phase>,
    limits: ReadLimits,
    write_timeout: Duration,
    read_timer: Option<Pin<Box<Sleep>>>,
    /// Running while a write waits for the client to read.
    write_timer: Option<Pin<Box<Sleep>>>,
}

impl Timed {
    fn new(stream: TcpStream, phase: Arc<Phase>, limits: &Limits) -> Timed {
        Timed {
            stream,
            phase,
            limits: ReadLimits { header: limits.header_timeout, idle: limits.idle_timeout },
            write_timeout: limits.write_timeout,
            read_timer: None,
            write_timer: None,
        }
    }

    fn write_progress<T>(&mut self, cx: &mut Context<'_>, written: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if written.is_ready() {
            self.write_timer = None;
            return written;
        }
        let timeout = self.write_timeout;
        let timer = self.write_timer.get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "the client stopped reading"))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncRead for Timed {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.phase.bytes_came();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => {
                let Some((deadline, why)) = this.phase.read_deadline(&this.limits, cx.waker()) else {
                    return Poll::Pending;
                };
                // The idle deadline moves on at every request of a kept-alive
                // connection; moving the timer each time locked the runtime's
                // timer wheel once per request. So a timer set for earlier is
                // left to ring, and moved on then; only a deadline that comes
                // sooner (a header under way) moves it at once.
                let timer = this.read_timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                if timer.deadline() > deadline {
                    timer.as_mut().reset(deadline);
                }
                while timer.as_mut().poll(cx).is_ready() {
                    if Instant::now() >= deadline {
                        return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, why)));
                    }
                    timer.as_mut().reset(deadline);
                }
                Poll::Pending
            }
        }
    }
}

impl AsyncWrite for Timed {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.stream).poll_write(cx, buf);
        this.write_progress(cx, written)
    }

    fn poll_write_vectored(self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[io::IoSlice<'_>]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.write_progress(cx, written)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// A short page of the server's own, in French, for answers given outside
/// the router (nothing of the site is needed to send them).
struct Notice {
    title: &'static str,
    text: &'static str,
}

impl Notice {
    fn html(&self) -> String {
        format!(
            "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta name=\"robots\" content=\"noindex, nofollow\">\
             <title>{TITLE_PREFIX}{title}</title></head><body><p>{BANNER}</p><main><h1>{title}</h1><p>{text}</p></main></body></html>\n",
            title = self.title,
            text = self.text
        )
    }
}

const BUSY: Notice = Notice {
    title: "Service momentanément indisponible",
    text: "Trop de personnes sont connectées en même temps. Réessayez dans quelques instants.",
};

const TOO_SLOW: Notice = Notice {
    title: "Envoi trop lent",
    text: "Les informations envoyées ont mis trop de temps à arriver. Vérifiez la connexion, puis renvoyez le formulaire.",
};

/// Headers of the server's own answers: nothing to run, frame or keep.
const NOTICE_HEADERS: [(&str, &str); 6] = [
    ("content-type", "text/html; charset=utf-8"),
    ("cache-control", "no-store"),
    ("connection", "close"),
    ("content-security-policy", "default-src 'none'; frame-ancestors 'none'"),
    ("x-content-type-options", "nosniff"),
    ("x-robots-tag", "noindex, nofollow"),
];

/// An answer that also closes the connection.
fn refusal(status: StatusCode, notice: &Notice) -> Response<Body> {
    let mut response = Response::new(Body::from(notice.html()));
    *response.status_mut() = status;
    for (name, value) in NOTICE_HEADERS {
        response.headers_mut().insert(name, HeaderValue::from_static(value));
    }
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    }
    response
}

/// The 503 beyond the cap, written straight on the socket: no HTTP is
/// parsed for a connection there is no room for.
static BUSY_RESPONSE: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let body = BUSY.html();
    let mut head = format!("HTTP/1.1 503 Service Unavailable\r\ncontent-length: {}\r\nretry-after: 5\r\n", body.len());
    for (name, value) in NOTICE_HEADERS {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    [head.into_bytes(), body.into_bytes()].concat()
});

/// Answers 503 and closes, in a task of its own that lasts at most twice
/// [`REFUSAL_TIME`]; when too many are under way, just closes.
fn refuse(mut stream: TcpStream, refusing: &Arc<Semaphore>) {
    let Ok(slot) = refusing.clone().try_acquire_owned() else {
        return;
    };
    tokio::spawn(async move {
        let _slot = slot;
        if !matches!(tokio::time::timeout(REFUSAL_TIME, stream.write_all(&BUSY_RESPONSE)).await, Ok(Ok(()))) {
            return;
        }
        let _ = stream.shutdown().await;
        // Read what the client sent (up to 64 KiB) until it closes: closing
        // with unread bytes would reset the connection, and the client
        // might lose the answer.
        let _ = tokio::time::timeout(REFUSAL_TIME, async {
            let mut sink = [0u8; 4096];
            let mut read = 0;
            while read < 64 * 1024 {
                match stream.read(&mut sink).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => read += n,
                }
            }
        })
        .await;
    });
}
