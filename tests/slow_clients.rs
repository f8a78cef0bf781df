//! `miroir serve` as a process against slow and idle clients: requests
//! sent by halves and held open do not keep a visitor waiting, nor keep the
//! server alive after SIGTERM; beyond the connection cap a visitor gets a
//! clear 503 at once; a header, a body or a kept-alive connection that
//! takes too long is cut; a low open-file limit lowers the cap rather than
//! letting visitors hang; running out of file descriptors does not stop
//! the accept loop.

#[path = "common/raw.rs"]
mod raw;

use raw::{free_addr, request, wait_ready};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_miroir");

/// What a visitor beyond the connection cap reads.
const BUSY: &str = "Service momentanément indisponible";

/// A `miroir serve` process, killed if a test fails before stopping it.
struct Server {
    child: Child,
    addr: SocketAddr,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        Server::start_under(None, args)
    }

    /// Starts the server under a shell `ulimit` (such as `-Sn 1024`), the
    /// way an init system or a shell would set its open-file limit.
    fn start_under(ulimit: Option<&str>, args: &[&str]) -> Server {
        let addr = free_addr();
        let mut command = match ulimit {
            Some(limit) => {
                let mut c = Command::new("sh");
                c.arg("-c").arg(format!("ulimit {limit} && exec \"$0\" \"$@\"")).arg(BIN);
                c
            }
            None => Command::new(BIN),
        };
        command.arg("serve").arg("--addr").arg(addr.to_string()).args(args);
        let mut child = command.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
        // Read stderr as it comes, so that the pipe never fills.
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().push_str(&String::from_utf8_lossy(&chunk[..n]));
            }
        });
        let server = Server { child, addr, stderr };
        assert!(wait_ready(addr), "the server did not start: {}", server.stderr());
        server
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Sends SIGTERM; returns how long the process took to exit, and its
    /// exit code. Gives up (and kills it) after 15 seconds.
    fn terminate(&mut self) -> (Duration, Option<i32>) {
        let asked = Instant::now();
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (asked.elapsed(), status.code());
            }
            if asked.elapsed() > Duration::from_secs(15) {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("the server did not stop within 15 s of SIGTERM: {}", self.stderr());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Lets this test process hold `n` sockets at once; fails (never skips)
/// when the machine does not allow it.
fn allow_open_files(n: u64) {
    let got = rlimit::increase_nofile_limit(n + 64).unwrap();
    assert!(got >= n + 64, "this test holds {n} connections: raise the open-file limit (ulimit -n {})", n + 64);
}

fn connect(addr: SocketAddr) -> TcpStream {
    TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap()
}

/// A request cut in the middle of its header, held open.
fn half_header(addr: SocketAddr) -> TcpStream {
    let mut s = connect(addr);
    s.write_all(b"GET / HTTP/1.1\r\nHost: miroir\r\nUser-Agent: lent").unwrap();
    s
}

/// A form sent with its whole header and the start of its body, held open.
fn half_body(addr: SocketAddr) -> TcpStream {
    let mut s = connect(addr);
    s.write_all(
        b"POST /atelier/rejoindre HTTP/1.1\r\nHost: miroir\r\nSec-Fetch-Site: same-origin\r\n\
          Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 4000\r\n\r\ncode=AB",
    )
    .unwrap();
    s
}

/// `n` slow clients, half of each kind.
fn slow_clients(addr: SocketAddr, n: usize) -> Vec<TcpStream> {
    (0..n).map(|i| if i % 2 == 0 { half_header(addr) } else { half_body(addr) }).collect()
}

/// Reads until the server closes the connection or `within` passes;
/// returns what came and whether the connection was closed.
fn read_until_closed(s: &mut TcpStream, within: Duration) -> (String, bool) {
    let deadline = Instant::now() + within;
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    while Instant::now() < deadline {
        s.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
        match s.read(&mut chunk) {
            Ok(0) => return (String::from_utf8_lossy(&got).into_owned(), true),
            Ok(n) => got.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return (String::from_utf8_lossy(&got).into_owned(), true),
        }
    }
    (String::from_utf8_lossy(&got).into_owned(), false)
}

#[test]
fn half_sent_requests_do_not_keep_a_visitor_waiting() {
    // The usual soft limit of 1 024 open files, and more slow clients than
    // that: the server raises its own soft limit to serve them all.
    allow_open_files(1200);
    let server = Server::start_under(Some("-Sn 1024"), &[]);
    let _held = slow_clients(server.addr, 1100);
    let started = Instant::now();
    let page = request(server.addr, "GET", "/", None, None).expect("a visitor is served despite 1 100 slow clients");
    assert_eq!(page.status, 200, "{}", page.head);
    assert!(page.body.contains("Déclarer ses revenus en ligne"));
    assert!(started.elapsed() < Duration::from_secs(5), "the visitor waited {:?}", started.elapsed());
}

#[test]
fn sigterm_ends_the_server_despite_half_sent_requests() {
    let mut server = Server::start(&[]);
    let _held = slow_clients(server.addr, 40);
    // The server spreads connections over one thread per core in turn, and
    // each thread takes its connections in order: one answer on each, after
    // the slow clients, means each of them was accepted and its bytes read
    // (with one answer, another thread could still be behind on a busy
    // machine, its half-sent bodies not yet requests under way).
    let lanes = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    for _ in 0..lanes {
        assert_eq!(request(server.addr, "GET", "/healthz", None, None).unwrap().status, 200);
    }
    let (took, code) = server.terminate();
    assert!(took < Duration::from_secs(8), "SIGTERM took {took:?}: {}", server.stderr());
    assert_eq!(code, Some(0), "{}", server.stderr());
    let stderr = server.stderr();
    assert!(stderr.contains("shutting down"), "{stderr}");
    // The 20 half-sent headers are no request under way: closed at once.
    // The 20 half-sent bodies are requests under way: given the deadline.
    assert!(stderr.contains("closing 20 connection(s) still open after the 5 s shutdown deadline"), "{stderr}");
}

#[test]
fn beyond_max_connections_a_visitor_gets_a_clear_503_at_once() {
    let server = Server::start(&["--max-connections", "20"]);
    // Let the readiness probe's connection end first.
    std::thread::sleep(Duration::from_millis(200));
    let mut idle: Vec<TcpStream> = (0..20).map(|_| connect(server.addr)).collect();
    let started = Instant::now();
    let refused = request(server.addr, "GET", "/", None, None).expect("an answer, not a hang");
    assert!(started.elapsed() < Duration::from_secs(3), "the refusal took {:?}", started.elapsed());
    assert_eq!(refused.status, 503, "{}", refused.head);
    assert!(refused.body.contains(BUSY), "{}", refused.body);
    assert!(refused.body.contains("SIMULATION"), "{}", refused.body);
    assert_eq!(refused.header("connection").as_deref(), Some("close"));
    assert!(refused.header("retry-after").is_some(), "{}", refused.head);
    assert!(refused.header("content-type").unwrap().starts_with("text/html; charset=utf-8"));
    // The 20 connections held were accepted, not refused.
    for s in &mut idle {
        s.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
        let mut byte = [0u8; 1];
        let read = s.read(&mut byte);
        assert!(read.as_ref().is_err_and(|e| matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)), "{read:?}");
    }
    drop(idle);
    // Their places free again once they are closed.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let page = request(server.addr, "GET", "/", None, None).unwrap();
        if page.status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "still {} after the idle connections closed", page.status);
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_header_sent_too_slowly_is_cut() {
    let server = Server::start(&["--header-timeout", "1"]);
    let mut s = connect(server.addr);
    s.write_all(b"GET / HTTP/1.1\r\nHost: miroir\r\nX-Lent: ").unwrap();
    s.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
    let started = Instant::now();
    let mut sent = 0;
    let cut = loop {
        if started.elapsed() > Duration::from_secs(6) {
            break false;
        }
        // One byte every 100 ms: always something new, never a whole header.
        if s.write_all(b"a").is_err() {
            break true;
        }
        sent += 1;
        let mut chunk = [0u8; 512];
        match s.read(&mut chunk) {
            Ok(_) => break true,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break true,
        }
        std::thread::sleep(Duration::from_millis(80));
    };
    assert!(cut, "a header trickled for 6 s was not cut");
    assert!(sent >= 3, "cut after {sent} bytes only: the trickle should go on for a while first");
    // The server itself is fine.
    assert_eq!(request(server.addr, "GET", "/healthz", None, None).unwrap().status, 200);
}

#[test]
fn a_body_sent_too_slowly_gets_a_408() {
    let server = Server::start(&["--request-timeout", "1"]);
    let mut s = half_body(server.addr);
    let started = Instant::now();
    let mut reply = String::new();
    while started.elapsed() < Duration::from_secs(6) && !reply.contains("</html>") {
        let _ = s.write_all(b"x");
        let (got, closed) = read_until_closed(&mut s, Duration::from_millis(200));
        reply.push_str(&got);
        if closed {
            break;
        }
    }
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    assert!(reply.contains("trop de temps"), "{reply}");
    assert!(reply.contains("SIMULATION"), "{reply}");
}

#[test]
fn an_idle_kept_alive_connection_is_closed() {
    let server = Server::start(&["--idle-timeout", "1", "--header-timeout", "30"]);
    let mut s = connect(server.addr);
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: miroir\r\n\r\n").unwrap();
    // The answer comes, and the connection stays open for another request.
    let mut got = String::new();
    let mut chunk = [0u8; 4096];
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    while !got.contains("\"status\":\"ok\"") {
        let n = s.read(&mut chunk).unwrap();
        assert!(n > 0, "closed before answering: {got}");
        got.push_str(&String::from_utf8_lossy(&chunk[..n]));
    }
    assert!(got.starts_with("HTTP/1.1 200"), "{got}");
    // Then nothing is sent: closed after the idle timeout, well before the
    // header timeout.
    let (_, closed) = read_until_closed(&mut s, Duration::from_secs(6));
    assert!(closed, "an idle connection stayed open");
}

#[test]
fn a_client_that_stops_reading_is_cut() {
    let server = Server::start(&["--write-timeout", "1"]);
    let mut s = connect(server.addr);
    // 2 000 requests in a row for a 13 KB file, about 26 MB of answers,
    // far more than the sockets' buffers: then nothing is read.
    let requests = "GET /static/base/base.css HTTP/1.1\r\nHost: miroir\r\n\r\n".repeat(2000);
    s.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = s.write_all(requests.as_bytes());
    std::thread::sleep(Duration::from_secs(3));
    // Whatever was buffered comes, then the end: not 2 000 answers.
    let (got, closed) = read_until_closed(&mut s, Duration::from_secs(5));
    let answers = got.matches("HTTP/1.1 200").count();
    assert!(closed, "a client that read nothing for 3 s was not cut ({answers} answers read)");
    assert!(answers < 2000, "all {answers} answers were written");
}

#[test]
fn a_low_open_file_limit_lowers_the_cap_and_visitors_get_a_503_not_a_hang() {
    allow_open_files(1200);
    // A hard limit of 1 024: the server cannot raise it, so it says so and
    // keeps room for its own files below the cap.
    let server = Server::start_under(Some("-n 1024"), &[]);
    let stderr = server.stderr();
    assert!(stderr.contains("warning: the open-file limit (1024) allows only 896 connection(s)"), "{stderr}");
    assert!(stderr.contains("LimitNOFILE="), "{stderr}");
    let _held = slow_clients(server.addr, 1100);
    // An answer, never a hang; some refusals may be resets while many
    // slow clients are being refused at once.
    let deadline = Instant::now() + Duration::from_secs(10);
    let refused = loop {
        match request(server.addr, "GET", "/", None, None) {
            Ok(reply) if reply.status != 0 => break reply,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => panic!("a visitor was kept waiting"),
            _ => {}
        }
        assert!(Instant::now() < deadline, "no answer within 10 s");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(refused.status, 503, "{}", refused.head);
    assert!(refused.body.contains(BUSY));
}

#[test]
fn running_out_of_file_descriptors_does_not_stop_the_accept_loop() {
    allow_open_files(400);
    // So few files that refusing connections runs out of them.
    let server = Server::start_under(Some("-n 64"), &[]);
    let mut flood: Vec<TcpStream> = Vec::new();
    for _ in 0..300 {
        let mut s = connect(server.addr);
        let _ = s.write_all(b"GET / HTTP/1.1\r\nHost: miroir\r\n\r\n");
        flood.push(s);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while !server.stderr().contains("cannot accept connections") {
        assert!(Instant::now() < deadline, "the open-file limit was never reached: {}", server.stderr());
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(flood);
    // Logged once in a while, not once per failed accept.
    let stderr = server.stderr();
    assert!(stderr.matches("cannot accept connections").count() <= 3, "{stderr}");
    // And the loop goes on: once the flood is gone, visitors are served.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(page) = request(server.addr, "GET", "/healthz", None, None)
            && page.status == 200
        {
            break;
        }
        assert!(Instant::now() < deadline, "not served after the flood: {}", server.stderr());
        std::thread::sleep(Duration::from_millis(100));
    }
}
