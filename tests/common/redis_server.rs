//! A real `redis-server` for the tests: on a free loopback port, in its own
//! temporary folder, with the append-only file on (fsync at every write)
//! and no snapshots, killed when dropped. It can be stopped and started
//! again on the same port and folder, to see what survives.
//!
//! A missing `redis-server` fails the test, saying how to install it: the
//! tests never skip. `MIROIR_REDIS_SERVER` points at another binary.

#![allow(dead_code)]

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct RedisServer {
    child: Option<Child>,
    pub port: u16,
    dir: tempfile::TempDir,
    /// More settings, after (and over) the ones above.
    extra: Vec<String>,
}

fn binary() -> String {
    std::env::var("MIROIR_REDIS_SERVER").unwrap_or_else(|_| "redis-server".to_owned())
}

impl RedisServer {
    pub fn start() -> RedisServer {
        RedisServer::start_with(&[])
    }

    /// With more settings, such as `["--appendfsync", "everysec"]`.
    pub fn start_with(extra: &[&str]) -> RedisServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dir = tempfile::tempdir().unwrap();
        let mut server = RedisServer { child: None, port, dir, extra: extra.iter().map(|s| s.to_string()).collect() };
        server.restart();
        server
    }

    /// `redis://127.0.0.1:PORT/0`
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Starts the server (again), on the same port and folder, and waits
    /// until it has loaded its data and answers.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "redis-server is already running");
        let child = Command::new(binary())
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--dir"])
            .arg(self.dir.path())
            .args(["--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no"])
            .args(["--logfile", "redis.log"])
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run `{}` ({e}): these tests need a real Redis. Install it with `apt-get install redis-server` (Debian; .ci/run does), or set MIROIR_REDIS_SERVER to its path",
                    binary()
                )
            });
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if self.ping() {
                return;
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("redis-server exited ({status}):\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("redis-server did not answer within 20 s:\n{}", self.log());
    }

    /// Kills the server at once (SIGKILL): what it acknowledged is in its
    /// append-only file.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Whether it answers PING with PONG (not LOADING).
    pub fn ping(&self) -> bool {
        self.connection().and_then(|mut c| redis::cmd("PING").query::<String>(&mut c).ok()).is_some_and(|p| p == "PONG")
    }

    /// A plain connection, for looking inside.
    pub fn connection(&self) -> Option<redis::Connection> {
        let addr = format!("127.0.0.1:{}", self.port);
        // A quick probe first: the client's own connect can take long.
        TcpStream::connect_timeout(&addr.parse().unwrap(), Duration::from_millis(200)).ok()?;
        redis::Client::open(self.url()).ok()?.get_connection_with_timeout(Duration::from_secs(2)).ok()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("redis.log")).unwrap_or_default()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}
