//! `docs/runbook.md`: how to start, configure, watch, scale and roll back the service. The
//! variable table comes from the same list as `.env.example` and the settings code.

use super::markdown::{Doc, code, code_list};
use crate::ir::{Database, Ir};
use crate::lower::rust::EnvVar;

pub fn runbook_md(ir: &Ir, vars: &[EnvVar], binary: &str, redis: bool, header: &str) -> String {
    let mut doc = Doc::new(header, &format!("Runbook: {}", ir.service.name));
    doc.heading(2, "Start");
    let sqlite = ir.service.databases.contains(&Database::Sqlite);
    doc.bullets([
        format!(
            "Development: {} in the crate. {}",
            code("cargo run"),
            if sqlite {
                "With no `DATABASE_URL` the service uses an SQLite file in the working \
                 directory and migrates it at start."
            } else {
                "Set `DATABASE_URL` first."
            }
        ),
        format!(
            "Production: build with {}, then run {} with the environment below \
             (see the `Dockerfile` and `deploy/kubernetes.yaml`).",
            code("cargo build --release"),
            code(&format!("target/release/{binary}"))
        ),
        "A missing or malformed variable stops the service at start with one message \
         naming every problem, and exit status 1."
            .to_owned(),
        "SIGTERM or Ctrl-C stops accepting connections, lets in-flight requests finish for \
         up to `SHUTDOWN_TIMEOUT_SECS`, then closes the database pool."
            .to_owned(),
    ]);
    if ir.auth.as_ref().is_some_and(|a| a.role_field.is_some()) {
        doc.heading(2, "The first administrator");
        doc.para(&format!(
            "Roles cannot be set through the API. Register the account through the API, then \
             run {} with the service's environment. The role is in the account's next access \
             token.",
            code(&format!("{binary} grant-role <login> <role>"))
        ));
    }
    if let Some(keys) = ir.auth.as_ref().and_then(|a| a.api_keys.as_ref()) {
        doc.heading(2, "API keys");
        doc.para(&format!(
            "Issue a key for a machine client with {} (scopes among: {}); it is printed once, \
             so hand it over straight away. Revoke a leaked or unused key with {}, where the id \
             is the 12 hex digits after {}. Keys are stored only as hashes: a lost key is \
             revoked and reissued, never recovered.",
            code(&format!("{binary} issue-api-key <login> <name> [scope...]")),
            code_list(&keys.roles),
            code(&format!("{binary} revoke-api-key <id>")),
            code(&keys.prefix)
        ));
    }
    doc.heading(2, "Environment");
    let rows: Vec<Vec<String>> = vars
        .iter()
        .map(|v| {
            vec![
                code(&v.name),
                v.default
                    .as_deref()
                    .map(code)
                    .unwrap_or_else(|| "(unset)".into()),
                v.doc.to_owned(),
            ]
        })
        .collect();
    doc.table(&["Variable", "Default", "Meaning"], &rows);
    doc.heading(2, "Health");
    doc.bullets([
        format!(
            "{}: liveness. 200 while the process serves requests; use it for restarts only.",
            code("GET /health")
        ),
        format!(
            "{}: readiness. 200 when the database{} answers; 503 with the status of each \
             check otherwise. Take the instance out of the load balancer while it fails.",
            code("GET /health/ready"),
            if redis {
                " (and Redis, when `REDIS_URL` is set)"
            } else {
                ""
            }
        ),
        format!(
            "{}: Prometheus metrics: `http_requests_total` and \
             `http_request_duration_seconds` by method, route and status, \
             `db_pool_connections` (idle, in use){}. It has no authentication: expose it to \
             the scraper only, never through the public ingress.",
            code("GET /metrics"),
            if redis {
                ", `rate_limit_rejections_total` and `cache_requests_total` by policy"
            } else {
                ""
            }
        ),
        "Logs are JSON lines on stdout with the request id (`x-request-id`, echoed in the \
         response), method, route, status and latency. Passwords and tokens are never logged."
            .to_owned(),
    ]);
    if ir.emits_events() {
        doc.heading(2, "Domain events");
        doc.bullets([
            "Events wait in the `outbox_events` table until an instance with \
             `EVENTS_DISPATCH_ENABLED=true` delivers them; `delivered_at` is set once the \
             handler in `src/handlers/events.rs` succeeded, and delivered rows are deleted \
             after 7 days."
                .to_owned(),
            "A failed delivery is logged with the event's id and retried after 1 s, 2 s, 4 s \
             and so on, at most every 5 minutes, with `attempts` and `last_error` on the row. \
             A handler that has not finished after 30 s counts as failed."
                .to_owned(),
            format!(
                "Pending events: {}. Metrics: `events_delivered_total` and \
                 `events_failed_total` by event.",
                code("SELECT event, attempts, last_error FROM outbox_events WHERE delivered_at IS NULL")
            ),
        ]);
    }
    doc.heading(2, "Common failures");
    let mut failures = vec![
        vec![
            "Exits at start naming variables".into(),
            "Configuration is missing or invalid.".into(),
            "Set the variables the message names; compare with `.env.example`.".into(),
        ],
        vec![
            "`/health/ready` answers 503 with `database` failing".into(),
            "The database is down, unreachable or out of connections.".into(),
            "Check the database and `DATABASE_URL`; raise `DB_MAX_CONNECTIONS` only if the database allows it.".into(),
        ],
        vec![
            "Exits at start: cannot apply migrations".into(),
            "A migration failed or the database has migrations this build does not know.".into(),
            "Read the error; fix the data or deploy the build that matches the database (see Rollback).".into(),
        ],
        vec![
            "Many 408 answers".into(),
            "Requests exceed `REQUEST_TIMEOUT_SECS`, usually waiting on the database.".into(),
            "Look for slow statements and pool waits (`DB_ACQUIRE_TIMEOUT_SECS`).".into(),
        ],
        vec![
            "Clients get 409 on updates".into(),
            "Two writers changed the same record; the later one is refused instead of overwriting.".into(),
            "Expected under contention: the client reads the record again and retries.".into(),
        ],
    ];
    if redis {
        failures.push(vec![
            "Errors mentioning Redis in the logs".into(),
            "Redis is unreachable. Rate limits let requests through and caches are bypassed meanwhile.".into(),
            "Restore Redis; the service recovers by itself.".into(),
        ]);
        failures.push(vec![
            "Unexpected 429 answers".into(),
            "A rate policy is spent; behind a proxy, every client may look like the proxy.".into(),
            "Set `TRUSTED_PROXIES` to the proxies' addresses so `X-Forwarded-For` is used.".into(),
        ]);
    }
    doc.table(&["Symptom", "Cause", "What to do"], &failures);
    doc.heading(2, "Scaling out");
    let mut scaling = vec![
        "Instances share nothing but the database (and Redis): run as many as the \
         database's connection limit allows (instances × `DB_MAX_CONNECTIONS`)."
            .to_owned(),
    ];
    if sqlite {
        scaling.push(
            "SQLite is for one instance on one machine; use PostgreSQL to run more than one."
                .to_owned(),
        );
    }
    if redis {
        scaling.push(
            "Set `REDIS_URL` on every instance: without it each instance keeps its own rate \
             limit budgets and caches, so limits multiply and a write on one instance leaves \
             the others' caches stale until their TTL."
                .to_owned(),
        );
    }
    doc.bullets(scaling);
    doc.heading(2, "Rollback");
    doc.bullets([
        "Deployment: redeploy the previous image. Migrations only ever add what the old \
         build can ignore unless the spec acknowledged a destructive step; check \
         `migrations/` in the change before rolling back past it."
            .to_owned(),
        "Migrations: revert the newest first with its `down.sql` \
         (`sqlx migrate revert --source migrations/postgres`), then deploy the build that \
         matches. Take a backup before reverting a step that drops data."
            .to_owned(),
    ]);
    doc.finish()
}
