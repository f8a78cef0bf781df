//! The reference of `benches/load.sh` is an honest nginx: the step page at
//! its exact path, long keep-alive, sendfile, open_file_cache, 2 workers,
//! no access log; and its configuration, as the script writes it, passes
//! `nginx -t` (Debian's nginx; .ci/run installs it). A missing nginx fails
//! the test, saying how to install it.

use std::path::Path;
use std::process::Command;

const SCRIPT: &str = include_str!("../benches/load.sh");

/// The nginx configuration the script writes, its variables filled in.
fn configuration(work: &Path) -> String {
    let start = SCRIPT.find("cat > \"$work/nginx.conf\" <<NGINX\n").expect("the script writes nginx.conf");
    let body = &SCRIPT[start..];
    let body = &body[body.find('\n').unwrap() + 1..];
    let body = &body[..body.find("\nNGINX\n").expect("the heredoc ends")];
    body.replace("$work", &work.display().to_string())
        .replace("$NGINX_PORT", "18081")
        .replace("$step_path", "/scenarios/impots/declaration-revenus/etape/revenus")
}

#[test]
fn the_reference_nginx_is_tuned_and_serves_the_exact_path() {
    let dir = tempfile::tempdir().unwrap();
    let conf = configuration(dir.path());
    for directive in [
        "worker_processes 2;",
        "access_log off;",
        "sendfile on;",
        "keepalive_requests 100000;",
        "open_file_cache max=",
        "location = /scenarios/impots/declaration-revenus/etape/revenus",
    ] {
        assert!(conf.contains(directive), "`{directive}` missing from the reference's configuration:\n{conf}");
    }
    assert!(!conf.contains("index"), "the page is served at its path, not as an index:\n{conf}");
    // The script measures nginx at that path, and checks it answers there
    // without a redirect.
    assert!(SCRIPT.contains("nginx_url=\"http://127.0.0.1:$NGINX_PORT$step_path\""));
    assert!(SCRIPT.contains("%{http_code} %{num_redirects}"));

    std::fs::write(dir.path().join("nginx.conf"), &conf).unwrap();
    let nginx = std::env::var("MIROIR_NGINX")
        .unwrap_or_else(|_| if Path::new("/usr/sbin/nginx").exists() { "/usr/sbin/nginx".into() } else { "nginx".into() });
    let d = dir.path().display().to_string();
    let out = Command::new(&nginx)
        .args(["-t", "-p", &d, "-c", &format!("{d}/nginx.conf"), "-e", &format!("{d}/error.log")])
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run `{nginx}` ({e}): install it with `apt-get install nginx` (Debian; .ci/run does), or set MIROIR_NGINX")
        });
    assert!(out.status.success(), "nginx -t: {}", String::from_utf8_lossy(&out.stderr));
}
