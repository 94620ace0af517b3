//! `docs/api.md`: every endpoint with who may call it, its rate limit and cache policy.

use super::markdown::{Doc, code, code_list, duration};
use crate::ir::{ErrorFormat, Ir, RateAlgorithm, RateKey, rule_text};
use crate::lower::rust::{cache, rate};

pub fn api_md(ir: &Ir, header: &str) -> String {
    let mut doc = Doc::new(header, &format!("API: {}", ir.service.name));
    let base = ir.service.base_path.trim_end_matches('/');
    doc.para(&format!(
        "Every path below is under {}. Request and response bodies are JSON; the full \
         schemas are in `openapi.json` (OpenAPI 3.1), which the service also serves at \
         `GET /openapi.json`.",
        code(if base.is_empty() { "/" } else { base })
    ));
    doc.para(&errors(ir));
    if let Some(auth) = &ir.auth {
        doc.heading(2, "Accounts");
        doc.para(&format!(
            "Send the access token as {}. Access tokens last {}, refresh tokens {} and are \
             rotated on every use.",
            code(&format!("Authorization: {} <token>", auth.scheme)),
            duration(auth.access_ttl_ms),
            duration(auth.refresh_ttl_ms)
        ));
        let name =
            |id: Option<crate::ir::RateId>| id.map(|r| ir.rate(r).name.clone()).unwrap_or_default();
        let (limit, me_limit) = (name(rate::of_auth(ir)), name(ir.service.default_rate));
        let rows: Vec<Vec<String>> = [
            (
                "POST",
                "register",
                "Create an account; answers it with tokens (201).",
            ),
            (
                "POST",
                "login",
                "Exchange the login and password for tokens.",
            ),
            (
                "POST",
                "refresh",
                "Exchange a refresh token for new tokens.",
            ),
            ("POST", "logout", "Revoke a refresh token's family (204)."),
            ("GET", "me", "The caller's own account."),
        ]
        .iter()
        .map(|(method, name, what)| {
            let path = auth.path(name);
            let limited = if *name == "me" { &me_limit } else { &limit };
            vec![
                (*method).into(),
                code(&path),
                (*what).into(),
                limited.to_owned(),
            ]
        })
        .collect();
        doc.table(&["Method", "Path", "What it does", "Rate"], &rows);
        if let Some(keys) = &auth.api_keys {
            let keys_path = crate::lower::rust::api_keys::KEYS_PATH;
            doc.para(&format!(
                "Machine clients send an API key as {} instead. A key starts with {}, acts for \
                 the account that holds it without the account's roles, and adds its scopes \
                 (for `api_key(scope)` rules; declared: {}). The operator issues keys with {} \
                 (the key is printed once and stored only as a hash) and revokes them with {}. \
                 The account lists its keys at {} and revokes one with {}; a request made with \
                 a key cannot.",
                code(&format!("{}: <key>", keys.header)),
                code(&keys.prefix),
                code_list(&keys.roles),
                code("<binary> issue-api-key <login> <name> [scope...]"),
                code("<binary> revoke-api-key <id>"),
                code(&format!("GET {keys_path}")),
                code(&format!("DELETE {keys_path}/{{id}}")),
            ));
        }
    }
    for r in &ir.resources {
        doc.heading(2, &code(&r.name));
        if !r.docs.is_empty() {
            doc.para(&r.docs.join(" "));
        }
        let rows: Vec<Vec<String>> = r
            .operations
            .iter()
            .map(|op| {
                let rule = op
                    .auth
                    .as_ref()
                    .map(|a| rule_text(ir, &a.value))
                    .unwrap_or_default();
                let what = if op.docs.is_empty() {
                    op.name.clone()
                } else {
                    op.docs.join(" ")
                };
                vec![
                    op.method.as_str().to_owned(),
                    code(&op.path),
                    what,
                    code(&rule),
                    rate::of_operation(ir, op)
                        .map(|id| ir.rate(id).name.clone())
                        .unwrap_or_default(),
                    op.cache
                        .map(|id| ir.cache(id).name.clone())
                        .unwrap_or_default(),
                    op.status.to_string(),
                ]
            })
            .collect();
        doc.table(
            &[
                "Method",
                "Path",
                "What it does",
                "Who may call",
                "Rate",
                "Cache",
                "Answers",
            ],
            &rows,
        );
    }
    rate_policies(&mut doc, ir);
    cache_policies(&mut doc, ir);
    doc.finish()
}

fn errors(ir: &Ir) -> String {
    let shape = match ir.service.error_format {
        ErrorFormat::Structured => {
            "`{ \"error\": { \"code\", \"message\", \"details\": [{ \"field\", \"message\" }] } }`"
        }
        ErrorFormat::Problem => "RFC 9457 `application/problem+json`",
        ErrorFormat::FieldMap => "`{ \"errors\": { \"<field>\": [\"message\"] } }`",
    };
    format!(
        "Errors answer {shape} with 400 (malformed), 401 (not signed in), 403 (not allowed), \
         404 (missing, or hidden from this caller), 408 (too slow), 409 (conflicts with \
         existing data or a concurrent change), 413 (body too large), 422 (invalid fields), \
         429 (rate limited, with `Retry-After`) or 500 (logged with the request id, never \
         detailed to the client)."
    )
}

fn rate_policies(doc: &mut Doc, ir: &Ir) {
    let used = rate::used(ir);
    if used.is_empty() {
        return;
    }
    doc.heading(2, "Rate limits");
    doc.para(
        "A refused request answers 429 with `Retry-After` and the `RateLimit-Limit`, \
         `RateLimit-Remaining` and `RateLimit-Reset` headers.",
    );
    let rows: Vec<Vec<String>> = used
        .into_iter()
        .map(|id| {
            let p = ir.rate(id);
            let key = match p.key {
                RateKey::Ip => "client address",
                RateKey::User => "signed-in user (else address)",
                RateKey::ApiKey => "API key (else address)",
            };
            let algorithm = match p.algorithm {
                RateAlgorithm::TokenBucket => "token bucket",
                RateAlgorithm::SlidingWindow => "sliding window",
                RateAlgorithm::FixedWindow => "fixed window",
            };
            vec![
                code(&p.name),
                format!("{} per {}", p.limit, duration(p.window_ms)),
                key.into(),
                algorithm.into(),
            ]
        })
        .collect();
    doc.table(&["Policy", "Limit", "Counted per", "Algorithm"], &rows);
}

fn cache_policies(doc: &mut Doc, ir: &Ir) {
    let used = cache::used(ir);
    if used.is_empty() {
        return;
    }
    doc.heading(2, "Caching");
    doc.para(
        "Cached answers carry `X-Cache: HIT` or `MISS` and, with an ETag, answer 304 to a \
         matching `If-None-Match`. Answers that depend on the caller are cached per caller \
         and marked private.",
    );
    let rows: Vec<Vec<String>> = used
        .into_iter()
        .map(|id| {
            let p = ir.cache(id);
            let invalidated: Vec<String> = p
                .invalidated_by
                .iter()
                .map(|o| {
                    let r = ir.resource(o.resource);
                    code(&format!("{}.{}", r.name, r.operations[o.op].name))
                })
                .collect();
            vec![
                code(&p.name),
                p.ttl_ms
                    .map(duration)
                    .unwrap_or_else(|| "until invalidated".into()),
                if p.etag { "yes" } else { "no" }.into(),
                p.control.as_deref().map(code).unwrap_or_default(),
                if invalidated.is_empty() {
                    "any write of the entity".into()
                } else {
                    format!("any write of the entity, {}", invalidated.join(", "))
                },
            ]
        })
        .collect();
    doc.table(
        &["Policy", "TTL", "ETag", "Cache-Control", "Invalidated by"],
        &rows,
    );
}
