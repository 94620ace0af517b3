//! Settings from the environment, with the same names and defaults as the generated
//! service, so one environment configures both.
use std::time::Duration;

#[derive(Clone)]
pub struct Config {
    pub host: String,
    pub port: u16,
    pub database_url: String,
    pub max_connections: u32,
    pub min_connections: u32,
    pub acquire_timeout: Duration,
    pub idle_timeout: Duration,
    pub statement_timeout: Duration,
    pub request_timeout: Duration,
    pub body_limit: usize,
    pub cors_origins: Vec<String>,
    pub log_json: bool,
    pub jwt_secret: String,
    pub jwt_issuer: Option<String>,
    pub jwt_audience: Option<String>,
}

/// Secrets (the database URL may carry a password) are never printed.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("max_connections", &self.max_connections)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Reads the process environment; every problem is reported at once.
    pub fn from_env() -> Result<Self, String> {
        let mut problems = Vec::new();
        let var = |key: &str| std::env::var(key).ok().filter(|v| !v.is_empty());
        let mut number = |key: &str, default: u64| -> u64 {
            match var(key) {
                None => default,
                Some(text) => text.trim().parse().unwrap_or_else(|_| {
                    problems.push(format!("{key} has an invalid value `{text}`"));
                    default
                }),
            }
        };
        let port = number("PORT", 8080);
        let max_connections = number("DB_MAX_CONNECTIONS", 10);
        let min_connections = number("DB_MIN_CONNECTIONS", 1);
        let acquire_timeout = number("DB_ACQUIRE_TIMEOUT_SECS", 5);
        let idle_timeout = number("DB_IDLE_TIMEOUT_SECS", 60);
        let statement_timeout = number("DB_STATEMENT_TIMEOUT_SECS", 30);
        let request_timeout = number("REQUEST_TIMEOUT_SECS", 30);
        let body_limit = number("BODY_LIMIT_BYTES", 1_048_576);

        let database_url = var("DATABASE_URL").unwrap_or_default();
        if !(database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")) {
            problems.push("DATABASE_URL must be set to a postgres:// URL".to_owned());
        }
        let jwt_secret = var("JWT_SECRET").unwrap_or_default();
        if jwt_secret.len() < 32 {
            problems.push("JWT_SECRET must be set, at least 32 bytes long".to_owned());
        }
        let log_json = match var("LOG_FORMAT").as_deref() {
            None | Some("json") => true,
            Some("pretty") => false,
            Some(other) => {
                problems.push(format!(
                    "LOG_FORMAT must be `json` or `pretty`, not `{other}`"
                ));
                true
            }
        };
        let narrow = |key: &str, value: u64, problems: &mut Vec<String>| -> u32 {
            u32::try_from(value).unwrap_or_else(|_| {
                problems.push(format!("{key} is too large"));
                0
            })
        };
        let config = Config {
            host: var("HOST").unwrap_or_else(|| "0.0.0.0".to_owned()),
            port: u16::try_from(port).unwrap_or_else(|_| {
                problems.push(format!("PORT has an invalid value `{port}`"));
                0
            }),
            max_connections: narrow("DB_MAX_CONNECTIONS", max_connections, &mut problems),
            min_connections: narrow("DB_MIN_CONNECTIONS", min_connections, &mut problems),
            acquire_timeout: Duration::from_secs(acquire_timeout),
            idle_timeout: Duration::from_secs(idle_timeout),
            statement_timeout: Duration::from_secs(statement_timeout),
            request_timeout: Duration::from_secs(request_timeout),
            body_limit: usize::try_from(body_limit).unwrap_or(usize::MAX),
            cors_origins: std::env::var("CORS_ORIGINS")
                .unwrap_or_else(|_| "http://localhost:3000".to_owned())
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(str::to_owned)
                .collect(),
            log_json,
            database_url,
            jwt_secret,
            jwt_issuer: var("JWT_ISSUER"),
            jwt_audience: var("JWT_AUDIENCE"),
        };
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(format!("invalid configuration: {}", problems.join("; ")))
        }
    }
}
