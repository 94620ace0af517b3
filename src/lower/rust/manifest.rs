//! The generated crate's `Cargo.toml`: a tested template over a dependency set verified to
//! build and run together (docs/ARCHITECTURE.md, "Generated crate").

use std::fmt::Write as _;

use crate::ir::Ir;

/// Crates and their requirements, in the order they appear.
const DEPENDENCIES: &[(&str, &str)] = &[
    ("argon2", r#""0.6.0""#),
    ("axum", r#"{ version = "0.8", features = ["macros"] }"#),
    (
        "chrono",
        r#"{ version = "0.4.45", default-features = false, features = ["clock", "std", "serde"] }"#,
    ),
    ("governor", r#""0.10.4""#),
    (
        "jsonwebtoken",
        r#"{ version = "11.1.0", default-features = false, features = ["rust_crypto", "use_pem"] }"#,
    ),
    (
        "redis",
        r#"{ version = "1.8.1", default-features = false, features = ["tokio-comp", "connection-manager", "script"] }"#,
    ),
    (
        "moka",
        r#"{ version = "0.12.16", default-features = false, features = ["future"] }"#,
    ),
    ("metrics", r#""0.24""#),
    (
        "metrics-exporter-prometheus",
        r#"{ version = "0.18", default-features = false }"#,
    ),
    ("regex", r#""1.12""#),
    (
        "rust_decimal",
        r#"{ version = "1.43.0", features = ["serde-with-str"] }"#,
    ),
    ("serde", r#"{ version = "1.0.229", features = ["derive"] }"#),
    ("serde_json", r#""1.0.154""#),
    ("sha2", r#""0.10.9""#),
    (
        "sqlx",
        r#"{ version = "0.8", default-features = false, features = ["runtime-tokio", "tls-rustls", "postgres", "sqlite", "uuid", "chrono", "migrate", "rust_decimal", "json", "macros"] }"#,
    ),
    ("thiserror", r#""2.0.21""#),
    ("tokio", r#"{ version = "1.54.1", features = ["full"] }"#),
    (
        "tower",
        r#"{ version = "0.5.3", features = ["util", "timeout", "limit"] }"#,
    ),
    (
        "tower-http",
        r#"{ version = "0.7.1", features = ["trace", "timeout", "cors", "request-id", "set-header", "util"] }"#,
    ),
    ("tracing", r#""0.1.44""#),
    (
        "tracing-subscriber",
        r#"{ version = "0.3.23", features = ["json", "env-filter"] }"#,
    ),
    (
        "uuid",
        r#"{ version = "1.29.3", features = ["v4", "v7", "serde"] }"#,
    ),
];

/// What the generated `tests/api` needs beyond the dependencies.
const DEV_DEPENDENCIES: &[(&str, &str)] = &[("http-body-util", r#""0.1.5""#)];

pub fn cargo_toml(ir: &Ir, crate_name: &str, spec: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", super::file::header_text(spec));
    let _ = writeln!(
        out,
        "[package]\nname = \"{crate_name}\"\nversion = \"{}\"\nedition = \"2024\"\npublish = false\n",
        semver(&ir.service.version)
    );
    out.push_str("[dependencies]\n");
    let rate_limited = !super::rate::used(ir).is_empty();
    let cached = !super::cache::used(ir).is_empty();
    for (name, requirement) in DEPENDENCIES {
        let needed = match *name {
            "governor" => rate_limited,
            "moka" => cached,
            "redis" => super::runtime::uses_redis(ir),
            _ => true,
        };
        if !needed {
            continue;
        }
        let _ = writeln!(out, "{name} = {requirement}");
    }
    out.push_str("\n[dev-dependencies]\n");
    for (name, requirement) in DEV_DEPENDENCIES {
        let _ = writeln!(out, "{name} = {requirement}");
    }
    // Password hashing is slow by design; unoptimized, each test that signs a caller up
    // would wait most of a second for it.
    out.push_str("\n[profile.dev.package.argon2]\nopt-level = 3\n\n[profile.dev.package.blake2]\nopt-level = 3\n");
    out.push_str("\n[lints.rust]\nunsafe_code = \"forbid\"\nmissing_debug_implementations = \"warn\"\n\n[lints.clippy]\ndbg_macro = \"deny\"\nunwrap_used = \"deny\"\nawait_holding_lock = \"deny\"\n");
    out
}

/// Cargo needs `major.minor.patch`; a spec may write `1` or `1.0`.
fn semver(version: &str) -> String {
    let parts: Vec<&str> = version.split('.').filter(|p| !p.is_empty()).collect();
    let numeric = !parts.is_empty()
        && parts.len() <= 3
        && parts.iter().all(|p| p.chars().all(|c| c.is_ascii_digit()));
    if !numeric {
        return "0.1.0".to_string();
    }
    let mut padded: Vec<&str> = parts.clone();
    padded.resize(3, "0");
    padded.join(".")
}

#[cfg(test)]
mod tests {
    use super::semver;

    #[test]
    fn versions_become_semver() {
        assert_eq!(semver("1"), "1.0.0");
        assert_eq!(semver("1.2"), "1.2.0");
        assert_eq!(semver("1.2.3"), "1.2.3");
        assert_eq!(semver("v1-beta"), "0.1.0");
    }
}
