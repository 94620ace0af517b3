//! The generated service crates, end to end: every example's crate compiles with zero
//! warnings and passes clippy, starts on SQLite and PostgreSQL, answers health checks and
//! unknown routes with the spec's error shape, sets its security headers, rejects oversized
//! bodies, reports an unreachable database as not ready, and stops cleanly on SIGTERM.
//!
//! Crates build in one shared cargo target directory (`SVCC_TARGET_DIR`, by default
//! `~/.cache/svcc/target`), so their dependencies compile once per machine.

#![allow(clippy::disallowed_methods, clippy::unwrap_used)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::db::Db;
use common::*;

fn target_dir() -> PathBuf {
    std::env::var("SVCC_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            let home = std::env::var("HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|_| std::env::temp_dir());
            home.join(".cache/svcc/target")
        })
}

fn generate(spec: &Path) -> PathBuf {
    let out = std::env::temp_dir()
        .join("svcc-generated")
        .join(spec_name(spec));
    let _ = std::fs::remove_dir_all(&out);
    let status = Command::new(env!("CARGO_BIN_EXE_svcc"))
        .arg("build")
        .arg(spec)
        .arg("-o")
        .arg(&out)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "svcc build {} failed", spec.display());
    out
}

fn cargo(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new("cargo")
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir())
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A response: status, lower-cased headers, body.
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn request(port: u16, method: &str, path: &str, body: Option<&str>) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let body = body.unwrap_or("");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Ok(Response {
        status,
        headers,
        body: rest.to_string(),
    })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Service {
    child: Child,
    port: u16,
}

impl Service {
    fn start(binary: &Path, database_url: &str) -> Service {
        let port = free_port();
        let child = Command::new(binary)
            .env("DATABASE_URL", database_url)
            .env("PORT", port.to_string())
            .env("HOST", "127.0.0.1")
            .env("MIGRATE_ON_START", "true")
            .env(
                "JWT_SECRET",
                "test-only-secret-with-enough-length-0123456789",
            )
            .env("SHUTDOWN_TIMEOUT_SECS", "5")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let service = Service { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if request(port, "GET", "/health", None).is_ok_and(|r| r.status == 200) {
                return service;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "{} did not become healthy on {database_url}",
            binary.display()
        );
    }

    /// SIGTERM, then the process must exit successfully within the drain deadline.
    fn stop(mut self) {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(
                    status.success(),
                    "the service exited with {status} on SIGTERM"
                );
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        panic!("the service did not stop within 10 s of SIGTERM");
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// The error body shape each example's spec chose.
fn assert_error_shape(spec: &str, r: &Response) {
    let body: serde_json::Value =
        serde_json::from_str(&r.body).unwrap_or_else(|_| panic!("{spec}: not JSON: {}", r.body));
    match spec {
        "shop" => assert_eq!(body["error"]["code"], "NOT_FOUND", "{spec}: {body}"),
        "blog" => assert!(body["errors"]["body"].is_array(), "{spec}: {body}"),
        _ => {
            assert_eq!(
                r.header("content-type"),
                Some("application/problem+json"),
                "{spec}"
            );
            assert_eq!(body["status"], 404, "{spec}: {body}");
        }
    }
}

fn exercise(spec: &str, service: &Service) {
    let live = request(service.port, "GET", "/health", None).unwrap();
    assert_eq!(live.status, 200);
    for header in [
        "x-content-type-options",
        "x-frame-options",
        "strict-transport-security",
        "content-security-policy",
        "x-request-id",
    ] {
        assert!(live.header(header).is_some(), "{spec}: missing {header}");
    }
    let ready = request(service.port, "GET", "/health/ready", None).unwrap();
    assert_eq!(ready.status, 200, "{spec}: {}", ready.body);
    let missing = request(service.port, "GET", "/no/such/route", None).unwrap();
    assert_eq!(missing.status, 404);
    assert_error_shape(spec, &missing);
    let huge = "x".repeat(2 * 1024 * 1024);
    let too_large = request(service.port, "POST", "/health", Some(&huge)).unwrap();
    assert_eq!(
        too_large.status, 413,
        "{spec}: a 2 MiB body must be rejected"
    );
}

#[test]
fn generated_crates_compile_cleanly_and_serve() {
    for spec in example_specs() {
        let name = spec_name(&spec);
        let dir = generate(&spec);
        let (ok, stderr) = cargo(
            &dir,
            &["clippy", "--all-targets", "--quiet", "--", "-D", "warnings"],
        );
        assert!(ok, "{name}: clippy failed:\n{stderr}");
        let (ok, stderr) = cargo(&dir, &["build", "--quiet"]);
        assert!(ok, "{name}: build failed:\n{stderr}");
        assert!(
            !stderr.contains("warning"),
            "{name}: the build has warnings:\n{stderr}"
        );
        let krate = compile(&spec).ir.service.name.clone();
        let binary = target_dir().join("debug").join(&krate);
        let sqlite =
            std::env::temp_dir().join(format!("svcc-gen-{name}-{}.db", std::process::id()));
        let _ = std::fs::remove_file(&sqlite);
        let service = Service::start(&binary, &format!("sqlite://{}", sqlite.display()));
        exercise(&name, &service);
        service.stop();
        if let Some(db) = Db::postgres(&format!("gen_{name}")) {
            let Db::Postgres { url, .. } = &db else {
                unreachable!()
            };
            let service = Service::start(&binary, url);
            exercise(&name, &service);
            drop(db);
            let ready = request(service.port, "GET", "/health/ready", None).unwrap();
            assert_eq!(
                ready.status, 503,
                "{name}: readiness must fail once the database is gone: {}",
                ready.body
            );
            service.stop();
        }
    }
}
