//! `src/config.rs` of the generated crate: settings from the environment, validated at
//! start-up, with defaults from the spec.

use proc_macro2::TokenStream;
use quote::quote;

use crate::ir::{ConfigValue, Database, Ir, Value};

/// An environment variable the service reads, with its default and what it is for. The
/// same list documents `.env.example`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvVar {
    pub name: String,
    pub default: Option<String>,
    pub doc: &'static str,
}

/// Positions in [`env_vars`] of the variables whose names the spec may choose.
pub const DATABASE_URL: usize = 0;
pub const HOST: usize = 1;
pub const PORT: usize = 2;
pub const CORS_ORIGINS: usize = 3;
pub const REDIS_URL: usize = 15;
pub const TRUSTED_PROXIES: usize = 16;
/// The JWT variables follow the fixed ones when the spec has an auth block.
pub const JWT_SECRET: usize = 17;
pub const JWT_ISSUER: usize = 18;
pub const JWT_AUDIENCE: usize = 19;
/// The variable holding the public key of EdDSA and RS256 token signatures.
pub const JWT_PUBLIC_KEY: &str = "JWT_PUBLIC_KEY";

/// Whether tokens are signed with a key pair (EdDSA, RS256) rather than a shared secret.
pub fn asymmetric(ir: &Ir) -> bool {
    ir.auth.as_ref().is_some_and(|a| a.algorithm != "hs256")
}

/// Every variable the generated service reads.
pub fn env_vars(ir: &Ir) -> Vec<EnvVar> {
    let var = |name: &str, default: Option<String>, doc| EnvVar {
        name: name.to_string(),
        default,
        doc,
    };
    let (db_name, db_default) = env_of(&ir.service.database_url.value, "DATABASE_URL");
    let (port_name, port_default) = env_of(&ir.service.port, "PORT");
    let (cors_name, cors_default) = ir
        .service
        .cors_origins
        .as_ref()
        .map_or(("CORS_ORIGINS".to_string(), None), |c| {
            env_of(&c.value, "CORS_ORIGINS")
        });
    let setting = |key: &str, fallback: &str| {
        ir.service
            .settings
            .get(key)
            .map_or((fallback.to_string(), None), |v| env_of(&v.value, fallback))
    };
    let (redis_name, redis_default) = setting("redis_url", "REDIS_URL");
    let (proxies_name, proxies_default) = setting("trusted_proxies", "TRUSTED_PROXIES");
    let sqlite_default = ir
        .service
        .databases
        .contains(&Database::Sqlite)
        .then(|| format!("sqlite://{}.db", ir.service.name));
    let mut vars = vec![
        var(
            &db_name,
            db_default.or(sqlite_default),
            "Database URL: `postgres://...` or `sqlite://file.db`.",
        ),
        var("HOST", Some("0.0.0.0".into()), "Address to listen on."),
        var(
            &port_name,
            port_default.or_else(|| Some("8080".into())),
            "Port to listen on.",
        ),
        var(
            &cors_name,
            cors_default,
            "Comma-separated origins allowed to call the API from browsers; empty allows none.",
        ),
        var(
            "DB_MAX_CONNECTIONS",
            Some("10".into()),
            "Largest number of pooled database connections.",
        ),
        var(
            "DB_MIN_CONNECTIONS",
            Some("1".into()),
            "Connections the pool keeps open when idle.",
        ),
        var(
            "DB_ACQUIRE_TIMEOUT_SECS",
            Some("5".into()),
            "How long a request waits for a pooled connection.",
        ),
        var(
            "DB_IDLE_TIMEOUT_SECS",
            Some("60".into()),
            "How long an idle connection stays open.",
        ),
        var(
            "DB_STATEMENT_TIMEOUT_SECS",
            Some("30".into()),
            "Longest a single SQL statement may run (PostgreSQL).",
        ),
        var(
            "REQUEST_TIMEOUT_SECS",
            Some("30".into()),
            "Longest a request may take before it is answered with 408.",
        ),
        var(
            "SHUTDOWN_TIMEOUT_SECS",
            Some("30".into()),
            "How long in-flight requests may finish after SIGTERM.",
        ),
        var(
            "BODY_LIMIT_BYTES",
            Some("1048576".into()),
            "Largest accepted request body.",
        ),
        var(
            "MIGRATE_ON_START",
            None,
            "Apply pending migrations at start-up: `true` or `false`; default true for SQLite, false for PostgreSQL.",
        ),
        var(
            "LOG_FORMAT",
            Some("json".into()),
            "`json` (production) or `pretty` (development).",
        ),
        var(
            "RUST_LOG",
            None,
            "Log filter, e.g. `info` or `my_service=debug,tower_http=info`.",
        ),
        var(
            &redis_name,
            redis_default,
            "Redis URL, e.g. `redis://127.0.0.1:6379`: rate limits and response caches shared by every instance. Unset keeps them in process.",
        ),
        var(
            &proxies_name,
            proxies_default,
            "Comma-separated addresses of reverse proxies whose `X-Forwarded-For` is trusted for the client address.",
        ),
    ];
    if let Some(auth) = &ir.auth {
        let (secret, secret_default) = env_of(&auth.secret.value, "JWT_SECRET");
        vars.push(var(
            &secret,
            secret_default,
            match auth.algorithm.as_str() {
                "eddsa" => "Private key that signs access tokens (EdDSA): an Ed25519 key in PKCS#8 PEM, e.g. `openssl genpkey -algorithm ed25519`; `\\n` stands for a line break. Required.",
                "rs256" => "Private key that signs access tokens (RS256): an RSA key of at least 2048 bits in PEM, e.g. `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072`; `\\n` stands for a line break. Required.",
                _ => "Secret that signs access tokens (HS256): at least 32 random bytes, e.g. `openssl rand -hex 32`. Required.",
            },
        ));
        let (issuer, issuer_default) = auth
            .issuer
            .as_ref()
            .map_or(("JWT_ISSUER".to_string(), None), |v| {
                env_of(v, "JWT_ISSUER")
            });
        vars.push(var(
            &issuer,
            issuer_default,
            "`iss` claim of issued tokens, checked on every token; unset to skip.",
        ));
        let (audience, audience_default) = auth
            .audience
            .as_ref()
            .map_or(("JWT_AUDIENCE".to_string(), None), |v| {
                env_of(v, "JWT_AUDIENCE")
            });
        vars.push(var(
            &audience,
            audience_default,
            "`aud` claim of issued tokens, checked on every token; unset to skip.",
        ));
        if asymmetric(ir) {
            vars.push(var(
                JWT_PUBLIC_KEY,
                None,
                "Public key that verifies access tokens, in PEM (`openssl pkey -in private.pem -pubout`); `\\n` stands for a line break. Required.",
            ));
        }
    }
    if !super::rate::used(ir).is_empty() {
        vars.push(var(
            RATE_LIMITS_ENABLED,
            Some("true".into()),
            "`false` turns every rate limit off, for load tests and API fuzzing only; never in production.",
        ));
    }
    if ir.emits_events() {
        vars.push(var(
            EVENTS_DISPATCH_ENABLED,
            Some("true".into()),
            "`false` keeps this instance from delivering domain events (they wait in the outbox for an instance that does).",
        ));
        vars.push(var(
            EVENTS_POLL_INTERVAL_MS,
            Some("1000".into()),
            "How often the event dispatcher looks for due events, in milliseconds; a commit with events wakes it at once.",
        ));
    }
    vars
}

/// The switch for the spec's rate limits.
pub const RATE_LIMITS_ENABLED: &str = "RATE_LIMITS_ENABLED";
/// The event dispatcher's switch and poll interval.
pub const EVENTS_DISPATCH_ENABLED: &str = "EVENTS_DISPATCH_ENABLED";
pub const EVENTS_POLL_INTERVAL_MS: &str = "EVENTS_POLL_INTERVAL_MS";

/// The variable a setting is read from and its default, as text.
fn env_of(value: &ConfigValue, fallback: &str) -> (String, Option<String>) {
    match value {
        ConfigValue::Env { name, default } => (name.clone(), default.as_ref().map(value_text)),
        ConfigValue::Literal(v) => (fallback.to_string(), Some(value_text(v))),
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::Str(s) | Value::Ident(s) | Value::Decimal(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Duration(ms) => (ms / 1000).to_string(),
        Value::Null => String::new(),
    }
}

pub fn config_rs(ir: &Ir) -> TokenStream {
    let vars = env_vars(ir);
    let get = |i: usize| -> (String, TokenStream) {
        let v = &vars[i];
        let default = match &v.default {
            Some(d) => quote!(Some(#d)),
            None => quote!(None),
        };
        (v.name.clone(), default)
    };
    let (db, db_default) = get(DATABASE_URL);
    let (host, host_default) = get(HOST);
    let (port, port_default) = get(PORT);
    let (cors, _) = get(CORS_ORIGINS);
    let cors_default = vars[CORS_ORIGINS].default.clone().unwrap_or_default();
    let or_default = |i: usize| match &vars[i].default {
        Some(d) => quote!(.or_else(|| Some(#d.to_owned()))),
        None => quote!(),
    };
    let limited = !super::rate::used(ir).is_empty();
    let rate_field = limited.then(|| {
        quote! {
            /// `false` only for load tests and fuzzing: every rate limit lets requests through.
            pub rate_limits_enabled: bool,
        }
    });
    let rate_init = limited.then(|| {
        quote! {
            rate_limits_enabled: parse(#RATE_LIMITS_ENABLED, &get(#RATE_LIMITS_ENABLED).unwrap_or_else(|| "true".to_owned()), &mut problems),
        }
    });
    let (events_fields, events_init, events_check) = if ir.emits_events() {
        (
            quote! {
                /// Whether this instance delivers domain events.
                pub events_dispatch: bool,
                pub events_poll_interval: Duration,
            },
            quote! {
                events_dispatch: parse(#EVENTS_DISPATCH_ENABLED, &get(#EVENTS_DISPATCH_ENABLED).unwrap_or_else(|| "true".to_owned()), &mut problems),
                events_poll_interval: Duration::from_millis(parse(#EVENTS_POLL_INTERVAL_MS, &get(#EVENTS_POLL_INTERVAL_MS).unwrap_or_else(|| "1000".to_owned()), &mut problems)),
            },
            quote! {
                if settings.events_poll_interval.is_zero() {
                    problems.push(format!("{} must be at least 1", #EVENTS_POLL_INTERVAL_MS));
                }
            },
        )
    } else {
        (quote!(), quote!(), quote!())
    };
    let (redis, _) = get(REDIS_URL);
    let redis_default = or_default(REDIS_URL);
    let (proxies, _) = get(TRUSTED_PROXIES);
    let proxies_default = or_default(TRUSTED_PROXIES);
    let jwt = ir.auth.as_ref().map(|_| {
        let (secret, secret_default) = get(JWT_SECRET);
        let secret_name = &secret;
        // PEM keys may be written on one line, with `\n` for the line breaks.
        let unescape = asymmetric(ir).then(|| quote!(.replace("\\n", "\n")));
        let (public_field, public_read, public_init, key_check) = if asymmetric(ir) {
            (
                quote! {
                    /// Verifies access tokens (PEM).
                    pub jwt_public_key: String,
                },
                quote!(let jwt_public_key = text(#JWT_PUBLIC_KEY, None).replace("\\n", "\n");),
                quote!(jwt_public_key,),
                quote! {
                    if !settings.jwt_secret.is_empty() && !settings.jwt_secret.contains("PRIVATE KEY-----") {
                        problems.push(format!("{} must be a private key in PEM", #secret_name));
                    }
                    if !settings.jwt_public_key.is_empty() && !settings.jwt_public_key.contains("PUBLIC KEY-----") {
                        problems.push(format!("{} must be a public key in PEM", #JWT_PUBLIC_KEY));
                    }
                },
            )
        } else {
            (
                quote!(),
                quote!(),
                quote!(),
                quote! {
                    if !settings.jwt_secret.is_empty() && settings.jwt_secret.len() < 32 {
                        problems.push(format!("{} must be at least 32 bytes long", #secret_name));
                    }
                },
            )
        };
        let (issuer, _) = get(JWT_ISSUER);
        let (audience, _) = get(JWT_AUDIENCE);
        let issuer_default = or_default(JWT_ISSUER);
        let audience_default = or_default(JWT_AUDIENCE);
        (
            quote! {
                /// Signs (and with HS256 verifies) access tokens. Never printed.
                pub jwt_secret: String,
                #public_field
                pub jwt_issuer: Option<String>,
                pub jwt_audience: Option<String>,
            },
            quote! {
                let jwt_secret = text(#secret, #secret_default) #unescape;
                #public_read
                let jwt_issuer = get(#issuer) #issuer_default .filter(|v| !v.is_empty());
                let jwt_audience = get(#audience) #audience_default .filter(|v| !v.is_empty());
            },
            quote!(jwt_secret, #public_init jwt_issuer, jwt_audience,),
            key_check,
        )
    });
    let (jwt_fields, jwt_read, jwt_init, jwt_check) = match jwt {
        Some((a, b, c, d)) => (a, b, c, d),
        None => (quote!(), quote!(), quote!(), quote!()),
    };
    quote! {
        //! Settings read from the environment at start-up; every problem is reported at once.

        use std::fmt;
        use std::str::FromStr;
        use std::time::Duration;

        /// Everything the service reads from its environment.
        #[derive(Clone)]
        pub struct Settings {
            pub host: String,
            pub port: u16,
            pub database_url: String,
            pub max_connections: u32,
            pub min_connections: u32,
            pub acquire_timeout: Duration,
            pub idle_timeout: Duration,
            pub statement_timeout: Duration,
            pub request_timeout: Duration,
            pub shutdown_timeout: Duration,
            pub body_limit: usize,
            pub cors_origins: Vec<String>,
            pub migrate_on_start: bool,
            pub log_json: bool,
            /// Shared store for rate limits; `None` keeps them in process. Never printed.
            pub redis_url: Option<String>,
            /// Proxies whose `X-Forwarded-For` names the client.
            pub trusted_proxies: Vec<std::net::IpAddr>,
            #rate_field
            #events_fields
            #jwt_fields
        }

        /// The database URL may hold a password, so it is never printed.
        impl fmt::Debug for Settings {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct("Settings")
                    .field("host", &self.host)
                    .field("port", &self.port)
                    .field("database_url", &"[redacted]")
                    .field("max_connections", &self.max_connections)
                    .field("request_timeout", &self.request_timeout)
                    .field("cors_origins", &self.cors_origins)
                    .finish_non_exhaustive()
            }
        }

        /// One or more missing or malformed variables.
        #[derive(Debug, thiserror::Error)]
        #[error("invalid configuration: {}", .0.join("; "))]
        pub struct ConfigError(pub Vec<String>);

        impl Settings {
            /// Reads the process environment.
            pub fn from_env() -> Result<Self, ConfigError> {
                Self::from_lookup(|key| std::env::var(key).ok())
            }

            /// Reads settings through `get`, so tests can supply their own values.
            pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
                let mut problems = Vec::new();
                let mut text = |key: &str, default: Option<&str>| -> String {
                    match get(key).or_else(|| default.map(str::to_owned)) {
                        Some(value) => value,
                        None => {
                            problems.push(format!("{key} is not set"));
                            String::new()
                        }
                    }
                };
                let database_url = text(#db, #db_default);
                let host = text(#host, #host_default);
                let port = text(#port, #port_default);
                let cors = text(#cors, Some(#cors_default));
                let raw = [
                    text("DB_MAX_CONNECTIONS", Some("10")),
                    text("DB_MIN_CONNECTIONS", Some("1")),
                    text("DB_ACQUIRE_TIMEOUT_SECS", Some("5")),
                    text("DB_IDLE_TIMEOUT_SECS", Some("60")),
                    text("DB_STATEMENT_TIMEOUT_SECS", Some("30")),
                    text("REQUEST_TIMEOUT_SECS", Some("30")),
                    text("SHUTDOWN_TIMEOUT_SECS", Some("30")),
                    text("BODY_LIMIT_BYTES", Some("1048576")),
                    text("LOG_FORMAT", Some("json")),
                ];
                let migrate = get("MIGRATE_ON_START");
                let redis_url = get(#redis) #redis_default .filter(|v| !v.is_empty());
                let proxies = get(#proxies) #proxies_default .unwrap_or_default();
                #jwt_read
                let settings = Settings {
                    port: parse(#port, &port, &mut problems),
                    max_connections: parse("DB_MAX_CONNECTIONS", &raw[0], &mut problems),
                    min_connections: parse("DB_MIN_CONNECTIONS", &raw[1], &mut problems),
                    acquire_timeout: seconds("DB_ACQUIRE_TIMEOUT_SECS", &raw[2], &mut problems),
                    idle_timeout: seconds("DB_IDLE_TIMEOUT_SECS", &raw[3], &mut problems),
                    statement_timeout: seconds("DB_STATEMENT_TIMEOUT_SECS", &raw[4], &mut problems),
                    request_timeout: seconds("REQUEST_TIMEOUT_SECS", &raw[5], &mut problems),
                    shutdown_timeout: seconds("SHUTDOWN_TIMEOUT_SECS", &raw[6], &mut problems),
                    body_limit: parse("BODY_LIMIT_BYTES", &raw[7], &mut problems),
                    log_json: log_json(&raw[8], &mut problems),
                    migrate_on_start: match migrate.as_deref() {
                        Some(value) => parse("MIGRATE_ON_START", value, &mut problems),
                        None => database_url.starts_with("sqlite:"),
                    },
                    redis_url,
                    trusted_proxies: proxies
                        .split(',')
                        .map(str::trim)
                        .filter(|p| !p.is_empty())
                        .filter_map(|p| match p.parse() {
                            Ok(address) => Some(address),
                            Err(_) => {
                                problems.push(format!("{} holds `{p}`, which is not an IP address", #proxies));
                                None
                            }
                        })
                        .collect(),
                    cors_origins: cors.split(',').map(str::trim).filter(|o| !o.is_empty()).map(str::to_owned).collect(),
                    #rate_init
                    #events_init
                    host,
                    database_url,
                    #jwt_init
                };
                #jwt_check
                #events_check
                if !(settings.database_url.starts_with("postgres://") || settings.database_url.starts_with("postgresql://") || settings.database_url.starts_with("sqlite:")) {
                    problems.push(format!("{} must start with postgres:// or sqlite:", #db));
                }
                if problems.is_empty() { Ok(settings) } else { Err(ConfigError(problems)) }
            }
        }

        fn parse<T: FromStr + Default>(key: &str, value: &str, problems: &mut Vec<String>) -> T {
            value.trim().parse().unwrap_or_else(|_| {
                problems.push(format!("{key} has an invalid value `{value}`"));
                T::default()
            })
        }

        fn seconds(key: &str, value: &str, problems: &mut Vec<String>) -> Duration {
            Duration::from_secs(parse(key, value, problems))
        }

        fn log_json(value: &str, problems: &mut Vec<String>) -> bool {
            match value {
                "json" => true,
                "pretty" => false,
                other => {
                    problems.push(format!("LOG_FORMAT must be `json` or `pretty`, not `{other}`"));
                    true
                }
            }
        }
    }
}
