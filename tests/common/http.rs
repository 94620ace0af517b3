//! A minimal HTTP/1.1 client for exercising generated services on 127.0.0.1: one request
//! per connection, so tests need no HTTP client crate.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// A response: status, lower-cased headers, body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON; panics with the body when it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.body))
    }
}

/// Sends one request; `token` goes in `Authorization` after `scheme`. Each request comes
/// from a client address of its own (`X-Forwarded-For`, trusted from 127.0.0.1 by services
/// the tests start), so scenarios are not throttled by per-address rate limits.
pub fn send(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&str>,
    auth: Option<(&str, &str)>,
) -> std::io::Result<Response> {
    static NEXT_CLIENT: AtomicU32 = AtomicU32::new(1);
    let n = NEXT_CLIENT.fetch_add(1, Ordering::Relaxed);
    let client = format!("10.{}.{}.{}", (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
    send_from(port, method, path, body, auth, &client, &[])
}

/// Sends one request on behalf of the client at `client` (an IP address), with `extra`
/// headers.
pub fn send_from(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&str>,
    auth: Option<(&str, &str)>,
    client: &str,
    extra: &[(&str, &str)],
) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let payload = body.unwrap_or("");
    write!(stream, "{}", head(method, path, body, auth, client, extra))?;
    // A server may answer (413) and close before a large body is sent: keep what it said.
    let written = stream.write_all(payload.as_bytes());
    read_response(stream, written)
}

/// Sends one request whose body arrives in two halves, `pause` apart: the request is in
/// flight, waiting for the rest of its body, for that long.
pub fn send_slowly(
    port: u16,
    method: &str,
    path: &str,
    body: &str,
    pause: Duration,
) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let (first, rest) = body.split_at(body.len() / 2);
    write!(
        stream,
        "{}",
        head(method, path, Some(body), None, "10.255.0.1", &[])
    )?;
    stream.write_all(first.as_bytes())?;
    stream.flush()?;
    std::thread::sleep(pause);
    let written = stream.write_all(rest.as_bytes());
    read_response(stream, written)
}

/// The request line and headers, ending with the blank line.
fn head(
    method: &str,
    path: &str,
    body: Option<&str>,
    auth: Option<(&str, &str)>,
    client: &str,
    extra: &[(&str, &str)],
) -> String {
    let authorization = auth
        .map(|(scheme, token)| format!("Authorization: {scheme} {token}\r\n"))
        .unwrap_or_default();
    let extra: String = extra.iter().map(|(n, v)| format!("{n}: {v}\r\n")).collect();
    let content = if body.is_some() {
        "Content-Type: application/json\r\n"
    } else {
        ""
    };
    format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nX-Forwarded-For: {client}\r\n{content}{authorization}{extra}Content-Length: {}\r\n\r\n",
        body.map_or(0, str::len)
    )
}

/// Reads the whole response; a failed write of the body only matters when nothing came back.
fn read_response(mut stream: TcpStream, written: std::io::Result<()>) -> std::io::Result<Response> {
    let mut raw = Vec::new();
    let read = stream.read_to_end(&mut raw);
    if raw.is_empty() {
        written?;
        read?;
    }
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

/// A client bound to one service's port, base path and token scheme.
pub struct Client {
    pub port: u16,
    pub base: String,
    pub scheme: String,
}

impl Client {
    pub fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&serde_json::Value>,
        token: Option<&str>,
    ) -> Response {
        let body = body.map(serde_json::Value::to_string);
        send(
            self.port,
            method,
            &format!("{}{path}", self.base),
            body.as_deref(),
            token.map(|t| (self.scheme.as_str(), t)),
        )
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    /// A call that must answer `status`; returns the response for further checks.
    pub fn expect(
        &self,
        status: u16,
        method: &str,
        path: &str,
        body: Option<&serde_json::Value>,
        token: Option<&str>,
    ) -> Response {
        let r = self.call(method, path, body, token);
        assert_eq!(
            r.status, status,
            "{method} {path} answered {} (expected {status}): {}",
            r.status, r.body
        );
        r
    }
}
