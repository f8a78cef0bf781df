//! The sample nginx configuration of the README ("Deploying for many
//! rooms", `docs/deploy/`) passes `nginx -t` (Debian's nginx; .ci/run
//! installs it): the files as shipped, with only the certificate and
//! snippet paths pointed at a self-signed certificate made here and at the
//! snippet in `docs/deploy/`. A missing nginx or openssl fails the test,
//! saying how to install it.

use std::path::Path;
use std::process::Command;

const DOCS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/deploy");

fn run(program: &str, args: &[&str]) -> std::process::Output {
    Command::new(program).args(args).output().unwrap_or_else(|e| {
        panic!("cannot run `{program}` ({e}): install it with `apt-get install nginx openssl` (Debian; .ci/run does), or set MIROIR_NGINX")
    })
}

fn nginx() -> String {
    std::env::var("MIROIR_NGINX")
        .unwrap_or_else(|_| if Path::new("/usr/sbin/nginx").exists() { "/usr/sbin/nginx".into() } else { "nginx".into() })
}

/// `nginx -t` on the site file `site` inside a minimal main configuration.
fn check(dir: &Path, site: &str) -> (bool, String) {
    std::fs::write(dir.join("site.conf"), site).unwrap();
    let d = dir.display();
    let main = format!(
        "pid {d}/nginx.pid;\nerror_log {d}/error.log;\nevents {{}}\nhttp {{\n    access_log off;\n    include {d}/site.conf;\n}}\n"
    );
    std::fs::write(dir.join("main.conf"), main).unwrap();
    let out = run(&nginx(), &["-t", "-p", &d.to_string(), "-c", &format!("{d}/main.conf"), "-e", &format!("{d}/error.log")]);
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn the_sample_nginx_configuration_passes_nginx_t() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = run(
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=entrainement.example.org",
            "-keyout",
            key.to_str().unwrap(),
            "-out",
            cert.to_str().unwrap(),
        ],
    );
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let mut site = std::fs::read_to_string(format!("{DOCS}/nginx.conf")).unwrap();
    for (shipped, here) in [
        ("/etc/letsencrypt/live/entrainement.example.org/fullchain.pem", cert.to_str().unwrap()),
        ("/etc/letsencrypt/live/entrainement.example.org/privkey.pem", key.to_str().unwrap()),
        ("/etc/nginx/snippets/miroir-proxy.conf", &format!("{DOCS}/miroir-proxy.conf")),
    ] {
        assert!(site.contains(shipped), "the sample no longer names {shipped}: update this test");
        site = site.replace(shipped, here);
    }
    let (ok, stderr) = check(dir.path(), &site);
    assert!(ok && stderr.contains("test is successful"), "nginx -t refused the sample:\n{stderr}");

    // The check can fail: a directive nginx does not know is refused.
    let (ok, stderr) =
        check(dir.path(), &site.replace("proxy_pass http://miroir;", "proxy_pass http://miroir;\n        miroir_unknown on;"));
    assert!(!ok && stderr.contains("unknown directive"), "{stderr}");
}
