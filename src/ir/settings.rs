//! Settings blocks (`service`, `auth`, `rate`, `cache`, `event`): a generic `key = value`
//! syntax checked here against the keys each block accepts.

use std::collections::BTreeMap;

use super::entities::path_ident;
use super::exprs::literal;
use super::model::*;
use super::resolve::Resolver;
use crate::diagnostics::{Code, Diagnostic, did_you_mean};
use crate::source::Span;
use crate::syntax::ast;

/// The entries of one settings body, checked against the accepted keys.
pub(super) struct Settings<'a> {
    values: BTreeMap<&'a str, &'a ast::Expr>,
    keys: BTreeMap<&'a str, Span>,
    blocks: Vec<(&'a ast::Block, &'a [String])>,
    /// Keys that were not accepted, to tell a missing key from a misspelt one.
    unknown: Vec<String>,
}

impl<'a> Settings<'a> {
    pub fn get(&self, key: &str) -> Option<&'a ast::Expr> {
        self.values.get(key).copied()
    }

    pub fn block(&self, kind: &str) -> Option<&'a ast::Block> {
        self.blocks().find(|b| b.kind.name == kind)
    }

    pub fn blocks(&self) -> impl Iterator<Item = &'a ast::Block> + '_ {
        self.blocks.iter().map(|(b, _)| *b)
    }

    /// Blocks with the doc comments written above them.
    pub fn blocks_with_docs(&self) -> impl Iterator<Item = (&'a ast::Block, &'a [String])> + '_ {
        self.blocks.iter().copied()
    }
}

const SERVICE_KEYS: &[&str] = &[
    "version",
    "base_path",
    "databases",
    "database_url",
    "port",
    "cors_origins",
    "profile",
    "json_case",
    "error_format",
    "default_rate",
    "request_timeout",
    "shutdown_timeout",
    "body_limit",
    "pool_min",
    "pool_max",
    "pool_idle_timeout",
    "pool_connect_timeout",
    "statement_timeout",
    "redis_url",
    "log_level",
    "log_format",
    "trusted_proxies",
];
const SERVICE_BLOCKS: &[&str] = &["messages", "rules", "migrations"];
const MESSAGE_KINDS: &[&str] = &[
    "validation",
    "unauthorized",
    "forbidden",
    "not_found",
    "conflict",
    "payload_too_large",
    "timeout",
    "rate_limited",
    "internal",
    "unprocessable",
];
const AUTH_KEYS: &[&str] = &[
    "identity",
    "login",
    "password",
    "roles",
    "secret",
    "algorithm",
    "hashing",
    "scheme",
    "access_ttl",
    "refresh_ttl",
    "issuer",
    "audience",
    "rate",
    "password_min",
    "password_max",
];
const AUTH_BLOCKS: &[&str] = &["api_keys", "cookies", "paths", "response"];
const AUTH_PATHS: &[&str] = &["register", "login", "refresh", "logout", "me"];

impl<'a> Resolver<'a> {
    /// Reads a settings body, reporting duplicate and unknown keys and blocks.
    pub(super) fn settings(
        &mut self,
        body: &'a ast::SettingsBody,
        place: &str,
        keys: &[&str],
        blocks: &[&str],
    ) -> Settings<'a> {
        let mut out = Settings {
            values: BTreeMap::new(),
            keys: BTreeMap::new(),
            blocks: Vec::new(),
            unknown: Vec::new(),
        };
        for entry in &body.entries {
            match &entry.kind {
                ast::EntryKind::Setting { key, value } => {
                    if !keys.contains(&key.name.as_str()) {
                        out.unknown.push(key.name.clone());
                        self.unknown_key(key, place, keys, blocks.contains(&key.name.as_str()));
                    } else if let Some(first) = out.keys.get(key.name.as_str()) {
                        self.duplicate("setting", key, *first);
                    } else {
                        out.values.insert(&key.name, value);
                        out.keys.insert(&key.name, key.span);
                    }
                }
                ast::EntryKind::Block(block) => {
                    let same = |b: &ast::Block| {
                        b.kind.name == block.kind.name && labels_text(b) == labels_text(block)
                    };
                    if let Some((first, _)) = out.blocks.iter().find(|(b, _)| same(b)) {
                        self.duplicate("block", &block.kind, first.kind.span);
                    } else if blocks.contains(&block.kind.name.as_str()) {
                        out.blocks.push((block, entry.docs.as_slice()));
                    } else {
                        self.unknown_key(
                            &block.kind,
                            place,
                            blocks,
                            keys.contains(&block.kind.name.as_str()),
                        );
                    }
                }
            }
        }
        out
    }

    fn unknown_key(&mut self, key: &ast::Ident, place: &str, known: &[&str], other_form: bool) {
        let help = if other_form {
            format!(
                "`{}` is written the other way here: `{0} = value` for a setting, `{0} {{ ... }}` for a block",
                key.name
            )
        } else {
            did_you_mean(&key.name, known.iter().copied())
                .unwrap_or_else(|| super::resolve::accepts(place, known.iter()))
        };
        self.error(
            Diagnostic::error(
                Code::UNKNOWN_SETTING,
                key.span,
                format!("unknown setting `{}` in {place}", key.name),
            )
            .with_label("not accepted here")
            .with_help(help),
        );
    }

    /// Reports a missing required `key`, unless an unknown key of the block is a misspelling
    /// of it: that one is already reported with a suggestion.
    pub(super) fn missing_key(
        &mut self,
        s: &Settings<'_>,
        key: &str,
        span: Span,
        what: &str,
        example: &str,
    ) {
        if !s.unknown.iter().any(|u| strsim::jaro_winkler(u, key) > 0.8) {
            self.missing(span, what, example);
        }
    }

    pub(super) fn missing(&mut self, span: Span, what: &str, example: &str) {
        self.error(
            Diagnostic::error(Code::MISSING, span, format!("missing {what}"))
                .with_label(format!("needs {what}"))
                .with_help(format!("add `{example}`")),
        );
    }

    fn bad_value(&mut self, expr: &ast::Expr, expected: &str, example: &str) {
        self.error(
            Diagnostic::error(Code::BAD_VALUE, expr.span, format!("expected {expected}"))
                .with_label(format!("not {expected}"))
                .with_help(format!("write {example}")),
        );
    }

    pub(super) fn string_value(&mut self, expr: &ast::Expr) -> Option<String> {
        if let ast::ExprKind::Literal(ast::Literal::Str(s)) = &expr.kind {
            return Some(s.value.clone());
        }
        self.bad_value(expr, "a string", "`\"...\"`");
        None
    }

    pub(super) fn int_value(&mut self, expr: &ast::Expr, min: i64, max: i64) -> Option<i64> {
        if let ast::ExprKind::Literal(ast::Literal::Number(n, _)) = &expr.kind
            && let Some(v) = n.as_i64().filter(|v| (min..=max).contains(v))
        {
            return Some(v);
        }
        self.bad_value(
            expr,
            &format!("a whole number from {min} to {max}"),
            &format!("`{min}`"),
        );
        None
    }

    pub(super) fn u32_value(&mut self, expr: &ast::Expr, min: u32, max: u32) -> Option<u32> {
        self.int_value(expr, i64::from(min), i64::from(max))
            .and_then(|v| u32::try_from(v).ok())
    }

    pub(super) fn duration_value(&mut self, expr: &ast::Expr) -> Option<u64> {
        if let ast::ExprKind::Literal(ast::Literal::Duration { value, unit, .. }) = &expr.kind {
            return Some(value.saturating_mul(unit.millis()));
        }
        self.bad_value(
            expr,
            "a duration",
            "`30s`, `15m`, `7d` (units ms, s, m, h, d)",
        );
        None
    }

    pub(super) fn bool_value(&mut self, expr: &ast::Expr) -> Option<bool> {
        if let ast::ExprKind::Literal(ast::Literal::Bool(b, _)) = &expr.kind {
            return Some(*b);
        }
        self.bad_value(expr, "`true` or `false`", "`true`");
        None
    }

    /// One of a fixed set of words.
    pub(super) fn keyword_value(
        &mut self,
        expr: &ast::Expr,
        allowed: &[&'static str],
    ) -> Option<&'static str> {
        if let Some(ident) = path_ident(expr)
            && let Some(k) = allowed.iter().find(|k| **k == ident.name)
        {
            return Some(k);
        }
        let list = allowed
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let help = path_ident(expr)
            .and_then(|i| did_you_mean(&i.name, allowed.iter().copied()))
            .unwrap_or_else(|| format!("write one of {list}"));
        self.error(
            Diagnostic::error(
                Code::BAD_VALUE,
                expr.span,
                format!("expected one of {list}"),
            )
            .with_label("unknown value")
            .with_help(help),
        );
        None
    }

    pub(super) fn ident_list(&mut self, expr: &'a ast::Expr) -> Option<Vec<&'a ast::Ident>> {
        let single = path_ident(expr);
        if let Some(one) = single {
            return Some(vec![one]);
        }
        let ast::ExprKind::List(items) = &expr.kind else {
            self.bad_value(expr, "a list of names", "`[a, b]`");
            return None;
        };
        let mut out = Vec::new();
        for item in items {
            match path_ident(item) {
                Some(i) => out.push(i),
                None => self.bad_value(item, "a name", "a plain name such as `created_at`"),
            }
        }
        Some(out)
    }

    /// A literal, or `env("NAME", default)` read at start-up.
    pub(super) fn config_value(&mut self, expr: &ast::Expr) -> Option<ConfigValue> {
        match &expr.kind {
            ast::ExprKind::Env { name, default } => {
                let valid = !name.value.is_empty()
                    && name
                        .value
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
                if !valid {
                    self.error(
                        Diagnostic::error(
                            Code::BAD_VALUE,
                            name.span,
                            "environment variable names are UPPER_SNAKE_CASE",
                        )
                        .with_label("invalid variable name")
                        .with_help("write `env(\"DATABASE_URL\")`"),
                    );
                }
                Some(ConfigValue::Env {
                    name: name.value.clone(),
                    default: default.as_ref().map(literal),
                })
            }
            ast::ExprKind::Literal(lit) => Some(ConfigValue::Literal(literal(lit))),
            ast::ExprKind::Path(p) if p.single().is_some() => {
                Some(ConfigValue::Literal(Value::Ident(p.dotted())))
            }
            _ => {
                self.bad_value(
                    expr,
                    "a value or `env(\"NAME\")`",
                    "`env(\"NAME\", \"default\")`",
                );
                None
            }
        }
    }

    pub(super) fn rate_ref(&mut self, expr: &ast::Expr) -> Option<RateId> {
        let ident = path_ident(expr);
        if let Some(id) = ident.and_then(|i| self.names.rates.get(&i.name)) {
            return Some(*id);
        }
        let name = ident.map_or_else(String::new, |i| i.name.clone());
        let help = Resolver::suggest(&name, self.names.rates.keys()).unwrap_or_else(|| {
            "declare it with `rate name { limit = 100  window = 1m  key = ip }`".into()
        });
        self.error(
            Diagnostic::error(
                Code::UNKNOWN_NAME,
                expr.span,
                format!("unknown rate limit `{name}`"),
            )
            .with_label("not declared")
            .with_help(help),
        );
        None
    }

    pub(super) fn resolve_service(&mut self) {
        let Some(decl) = self.decls.services.first().copied() else {
            let span = self
                .decls
                .entities
                .first()
                .map_or(Span::new(crate::source::FileId(0), 0, 0), |d| {
                    d.node.name.span
                });
            self.error(
                Diagnostic::error(Code::MISSING, span, "the spec has no `service` block")
                    .with_label("in this spec")
                    .with_help("add `service name { version = \"1.0.0\"  databases = [postgres, sqlite]  database_url = env(\"DATABASE_URL\", \"sqlite://app.db\") }`"),
            );
            return;
        };
        let s = self.settings(
            &decl.node.body,
            "the service block",
            SERVICE_KEYS,
            SERVICE_BLOCKS,
        );
        let svc = &mut self.ir.service;
        svc.name = decl.node.name.name.clone();
        svc.docs = decl.docs.to_vec();
        svc.span = decl.node.name.span;
        for a in &decl.node.attrs {
            if a.name.name == "allow" {
                let allow = self.allow(a);
                self.ir.service.allows.extend(allow);
            } else {
                self.unknown_attr(a, "the service", &["allow"]);
            }
        }
        self.service_basics(&s, decl.node.name.span);
        self.service_deploy(&s);
        if let Some(b) = s.block("messages") {
            self.messages(b);
        }
        if let Some(b) = s.block("rules") {
            self.rule_levels(b);
        }
        if let Some(b) = s.block("migrations") {
            self.migrations(b);
        }
    }

    /// `migrations { acknowledge = ["orders.legacy_total", "old_table"] }`.
    fn migrations(&mut self, block: &'a ast::Block) {
        self.reject_labels(block);
        let s = self.settings(&block.body, "`migrations`", &["acknowledge"], &[]);
        let Some(e) = s.get("acknowledge") else {
            return;
        };
        let ast::ExprKind::List(items) = &e.kind else {
            self.bad_value(e, "a list of strings", "`[\"orders.legacy_total\"]`");
            return;
        };
        for item in items {
            if let Some(v) = self.string_value(item) {
                self.ir.service.acknowledged.push(v);
            }
        }
    }

    fn service_basics(&mut self, s: &Settings<'a>, span: Span) {
        self.ir.service.version = s
            .get("version")
            .and_then(|e| self.string_value(e))
            .unwrap_or_else(|| "0.1.0".into());
        let base = s
            .get("base_path")
            .and_then(|e| self.string_value(e).map(|v| (v, e.span)));
        if let Some((base, bspan)) = base {
            if !base.starts_with('/') || base.len() > 1 && base.ends_with('/') {
                self.error(
                    Diagnostic::error(
                        Code::BAD_ROUTE,
                        bspan,
                        "the base path starts with `/` and has no trailing `/`",
                    )
                    .with_label("invalid base path")
                    .with_help("write `base_path = \"/api/v1\"`"),
                );
            }
            self.ir.service.base_path = if base == "/" { String::new() } else { base };
        }
        match s.get("databases") {
            Some(e) => {
                let names = self.ident_list(e).unwrap_or_default();
                let mut dbs = Vec::new();
                for n in names {
                    match n.name.as_str() {
                        "postgres" => dbs.push(Database::Postgres),
                        "sqlite" => dbs.push(Database::Sqlite),
                        _ => self.error(
                            Diagnostic::error(
                                Code::BAD_VALUE,
                                n.span,
                                format!("unknown database `{}`", n.name),
                            )
                            .with_label("expected `postgres` or `sqlite`")
                            .with_help("write `databases = [postgres, sqlite]`"),
                        ),
                    }
                }
                dbs.sort();
                dbs.dedup();
                if dbs.is_empty() {
                    self.error(
                        Diagnostic::error(Code::MISSING, e.span, "the service targets no database")
                            .with_label("empty list")
                            .with_help("write `databases = [postgres, sqlite]`"),
                    );
                }
                self.ir.service.databases = dbs;
            }
            None => self.missing_key(
                s,
                "databases",
                span,
                "`databases`",
                "databases = [postgres, sqlite]",
            ),
        }
        match s.get("database_url") {
            Some(e) => {
                if let Some(v) = self.config_value(e) {
                    self.ir.service.database_url = Spanned {
                        value: v,
                        span: e.span,
                    };
                }
            }
            None => self.missing_key(
                s,
                "database_url",
                span,
                "`database_url`",
                "database_url = env(\"DATABASE_URL\", \"sqlite://app.db\")",
            ),
        }
        if let Some(e) = s.get("json_case") {
            self.ir.service.json_case = match self.keyword_value(e, &["snake_case", "camel_case"]) {
                Some("camel_case") => JsonCase::Camel,
                _ => JsonCase::Snake,
            };
        }
        if let Some(e) = s.get("error_format") {
            self.ir.service.error_format =
                match self.keyword_value(e, &["structured", "problem", "field_map"]) {
                    Some("problem") => ErrorFormat::Problem,
                    Some("field_map") => ErrorFormat::FieldMap,
                    _ => ErrorFormat::Structured,
                };
        }
        if let Some(e) = s.get("profile") {
            self.ir.service.profile = match self.keyword_value(e, &["development", "production"]) {
                Some("development") => Profile::Development,
                _ => Profile::Production,
            };
        }
        if let Some(e) = s.get("default_rate") {
            self.ir.service.default_rate = self.rate_ref(e);
        }
    }

    fn service_deploy(&mut self, s: &Settings<'a>) {
        if let Some(e) = s.get("port")
            && let Some(v) = self.config_value(e)
        {
            self.ir.service.port = v;
        }
        if let Some(e) = s.get("cors_origins") {
            self.ir.service.cors_origins = self.config_value(e).map(|v| Spanned {
                value: v,
                span: e.span,
            });
        }
        let rest = [
            "request_timeout",
            "shutdown_timeout",
            "body_limit",
            "pool_min",
            "pool_max",
            "pool_idle_timeout",
            "pool_connect_timeout",
            "statement_timeout",
            "redis_url",
            "log_level",
            "log_format",
            "trusted_proxies",
        ];
        for key in rest {
            if let Some(e) = s.get(key)
                && let Some(v) = self.config_value(e)
            {
                self.ir.service.settings.insert(
                    key.to_string(),
                    Spanned {
                        value: v,
                        span: e.span,
                    },
                );
            }
        }
    }

    fn messages(&mut self, block: &'a ast::Block) {
        self.reject_labels(block);
        let s = self.settings(&block.body, "`messages`", MESSAGE_KINDS, &[]);
        for kind in MESSAGE_KINDS {
            if let Some(e) = s.get(kind)
                && let Some(text) = self.string_value(e)
            {
                self.ir.service.messages.insert((*kind).to_string(), text);
            }
        }
    }

    fn rule_levels(&mut self, block: &'a ast::Block) {
        self.reject_labels(block);
        for entry in &block.body.entries {
            match &entry.kind {
                ast::EntryKind::Setting { key, value } => {
                    if let Some(level) = self.keyword_value(value, &["error", "warning", "off"]) {
                        self.ir.service.rule_levels.push((
                            key.name.clone(),
                            level.to_string(),
                            key.span,
                        ));
                    }
                }
                ast::EntryKind::Block(b) => self.error(
                    Diagnostic::error(
                        Code::UNKNOWN_SETTING,
                        b.kind.span,
                        "`rules` holds `CODE = level` settings",
                    )
                    .with_label("unexpected block")
                    .with_help("write `SVC104 = warning`"),
                ),
            }
        }
    }

    pub(super) fn reject_labels(&mut self, block: &ast::Block) {
        for l in &block.labels {
            self.error(
                Diagnostic::error(
                    Code::BAD_VALUE,
                    l.span(),
                    format!("`{}` takes no label", block.kind.name),
                )
                .with_label("unexpected")
                .with_help(format!("write `{} {{ ... }}`", block.kind.name)),
            );
        }
        self.reject_attrs(&block.attrs, &format!("`{}`", block.kind.name));
    }

    pub(super) fn resolve_rates(&mut self) {
        let decls = self.decls.rates.clone();
        for d in decls {
            let s = self.settings(
                &d.node.body,
                "a rate policy",
                &["limit", "window", "key", "algorithm", "burst"],
                &[],
            );
            self.reject_attrs(&d.node.attrs, "a rate policy");
            let name = d
                .node
                .name
                .as_ref()
                .map(|n| n.name.clone())
                .unwrap_or_default();
            let span = d.node.name.as_ref().map_or(d.span, |n| n.span);
            let limit = s.get("limit").and_then(|e| self.u32_value(e, 1, 1_000_000));
            let window = s.get("window").and_then(|e| {
                let ms = self.duration_value(e)?;
                if ms == 0 {
                    self.bad_value(e, "a window longer than zero", "`window = 1m`");
                    return None;
                }
                Some(ms)
            });
            if s.get("limit").is_none() {
                self.missing_key(&s, "limit", span, "`limit`", "limit = 100");
            }
            if s.get("window").is_none() {
                self.missing_key(&s, "window", span, "`window`", "window = 1m");
            }
            let key = match s
                .get("key")
                .map(|e| self.keyword_value(e, &["ip", "user", "api_key"]))
            {
                Some(Some("user")) => RateKey::User,
                Some(Some("api_key")) => RateKey::ApiKey,
                _ => RateKey::Ip,
            };
            let algorithm = match s
                .get("algorithm")
                .map(|e| self.keyword_value(e, &["token_bucket", "sliding_window", "fixed_window"]))
            {
                Some(Some("sliding_window")) => RateAlgorithm::SlidingWindow,
                Some(Some("fixed_window")) => RateAlgorithm::FixedWindow,
                _ => RateAlgorithm::TokenBucket,
            };
            let burst = s.get("burst").and_then(|e| self.u32_value(e, 1, 1_000_000));
            self.ir.rates.push(RatePolicy {
                name,
                docs: d.docs.to_vec(),
                limit: limit.unwrap_or(1),
                window_ms: window.unwrap_or(60_000),
                key,
                algorithm,
                burst,
                span,
            });
        }
    }

    /// Events whose entity is unknown are reported and left out; the name table is rebuilt
    /// so operations only ever refer to resolved events.
    pub(super) fn resolve_events(&mut self) {
        let decls = self.decls.events.clone();
        self.names.events.clear();
        for d in decls {
            let s = self.settings(&d.node.body, "an event", &["entity"], &[]);
            self.reject_attrs(&d.node.attrs, "an event");
            let entity = match s.get("entity") {
                Some(e) => match &e.kind {
                    ast::ExprKind::Path(p) => self.lookup_entity(p),
                    _ => {
                        self.bad_value(e, "an entity name", "`entity = Order`");
                        None
                    }
                },
                None => {
                    self.missing_key(
                        &s,
                        "entity",
                        d.node.name.span,
                        "the event's `entity`",
                        "entity = Order",
                    );
                    None
                }
            };
            let Some(entity) = entity else { continue };
            if self.names.events.contains_key(&d.node.name.name) {
                continue;
            }
            self.names.events.insert(
                d.node.name.name.clone(),
                EventId(super::id32(self.ir.events.len())),
            );
            self.ir.events.push(Event {
                name: d.node.name.name.clone(),
                docs: d.docs.to_vec(),
                entity,
                span: d.node.name.span,
            });
        }
    }

    pub(super) fn resolve_policies(&mut self) {
        let decls: Vec<_> = self.decls.policies.values().copied().collect();
        let mut ordered = decls;
        ordered.sort_by_key(|d| d.span);
        for d in ordered {
            self.ir.policies.push(Policy {
                name: d.node.name.name.clone(),
                docs: d.docs.to_vec(),
                span: d.node.name.span,
            });
        }
    }

    pub(super) fn resolve_caches(&mut self) {
        let decls = self.decls.caches.clone();
        for d in decls {
            let s = self.settings(
                &d.node.body,
                "a cache policy",
                &["ttl", "etag", "control", "invalidated_by"],
                &[],
            );
            let mut allows = Vec::new();
            for a in &d.node.attrs {
                if a.name.name == "allow" {
                    allows.extend(self.allow(a));
                } else {
                    self.unknown_attr(a, "a cache policy", &["allow"]);
                }
            }
            let ttl_ms = s.get("ttl").and_then(|e| self.duration_value(e));
            let etag = s
                .get("etag")
                .and_then(|e| self.bool_value(e))
                .unwrap_or(false);
            let control = s.get("control").and_then(|e| self.string_value(e));
            let invalidated_by = s
                .get("invalidated_by")
                .map(|e| self.op_refs(e))
                .unwrap_or_default();
            let name = d
                .node
                .name
                .as_ref()
                .map(|n| n.name.clone())
                .unwrap_or_default();
            let span = d.node.name.as_ref().map_or(d.span, |n| n.span);
            self.ir.caches.push(CachePolicy {
                name,
                docs: d.docs.to_vec(),
                ttl_ms,
                etag,
                control,
                invalidated_by,
                allows,
                span,
            });
        }
    }

    /// `[products.create, products.update]`.
    fn op_refs(&mut self, expr: &ast::Expr) -> Vec<OpRef> {
        let items: Vec<&ast::Expr> = match &expr.kind {
            ast::ExprKind::List(items) => items.iter().collect(),
            _ => vec![expr],
        };
        let mut out = Vec::new();
        for item in items {
            let ast::ExprKind::Path(p) = &item.kind else {
                self.bad_value(
                    item,
                    "an operation `resource.operation`",
                    "`products.update`",
                );
                continue;
            };
            let [res, op] = p.segments.as_slice() else {
                self.bad_value(
                    item,
                    "an operation `resource.operation`",
                    "`products.update`",
                );
                continue;
            };
            let Some(rid) = self.names.resources.get(&res.name).copied() else {
                let help = Resolver::suggest(&res.name, self.names.resources.keys())
                    .unwrap_or_else(|| "name a declared resource".into());
                self.error(
                    Diagnostic::error(
                        Code::UNKNOWN_NAME,
                        res.span,
                        format!("unknown resource `{}`", res.name),
                    )
                    .with_label("not declared")
                    .with_help(help),
                );
                continue;
            };
            let ops = &self.ir.resources[rid.index()].operations;
            match ops.iter().position(|o| o.name == op.name) {
                Some(i) => out.push(OpRef {
                    resource: rid,
                    op: i,
                }),
                None => {
                    let names: Vec<String> = ops.iter().map(|o| o.name.clone()).collect();
                    let help = Resolver::suggest(&op.name, names.iter())
                        .unwrap_or_else(|| format!("`{}` has {}", res.name, names.join(", ")));
                    self.error(
                        Diagnostic::error(
                            Code::UNKNOWN_NAME,
                            op.span,
                            format!("resource `{}` has no operation `{}`", res.name, op.name),
                        )
                        .with_label("unknown operation")
                        .with_help(help),
                    );
                }
            }
        }
        out
    }

    pub(super) fn resolve_auth(&mut self) {
        let Some(decl) = self.decls.auths.first().copied() else {
            return;
        };
        let s = self.settings(&decl.node.body, "the auth block", AUTH_KEYS, AUTH_BLOCKS);
        let mut allows = Vec::new();
        for a in &decl.node.attrs {
            if a.name.name == "allow" {
                allows.extend(self.allow(a));
            } else {
                self.unknown_attr(a, "the auth block", &["allow"]);
            }
        }
        // Point at the `auth` keyword, not the whole block.
        let span = Span {
            end: decl.span.start + 4,
            ..decl.span
        };
        let Some(identity) = self.auth_identity(&s, span) else {
            return;
        };
        let login_field = self.auth_field(&s, identity, "login", span, |t| {
            matches!(t, FieldType::Email | FieldType::String)
        });
        let password_field = self.auth_field(&s, identity, "password", span, |t| {
            matches!(t, FieldType::Password)
        });
        let role_field = s.get("roles").and_then(|e| {
            let ident = path_ident(e)?;
            let entity = self.ir.entities[identity.index()].clone();
            let idx = self.field_index(&entity, ident)?;
            if !matches!(entity.fields[idx].ty, FieldType::Enum(_)) {
                self.bad_value(e, "an enum field", "`roles = role` where `role: Role`");
                return None;
            }
            Some(idx)
        });
        let secret = match s.get("secret") {
            Some(e) => self.config_value(e).map(|v| Spanned {
                value: v,
                span: e.span,
            }),
            None => {
                self.missing_key(
                    &s,
                    "secret",
                    span,
                    "the signing `secret`",
                    "secret = env(\"JWT_SECRET\")",
                );
                None
            }
        };
        let algorithm = s
            .get("algorithm")
            .and_then(|e| self.keyword_value(e, &["hs256", "eddsa", "rs256"]))
            .unwrap_or("hs256");
        let hashing = match s.get("hashing") {
            Some(e) => Spanned {
                value: self
                    .keyword_value(e, &["argon2id", "bcrypt", "sha256", "plain"])
                    .unwrap_or("argon2id")
                    .to_string(),
                span: e.span,
            },
            None => Spanned {
                value: "argon2id".to_string(),
                span,
            },
        };
        let (Some(login_field), Some(password_field), Some(secret)) =
            (login_field, password_field, secret)
        else {
            return;
        };
        let mut auth = Auth {
            identity,
            login_field,
            password_field,
            role_field,
            secret,
            algorithm: algorithm.to_string(),
            hashing,
            scheme: s
                .get("scheme")
                .and_then(|e| self.string_value(e))
                .unwrap_or_else(|| "Bearer".into()),
            access_ttl_ms: s
                .get("access_ttl")
                .and_then(|e| self.duration_value(e))
                .unwrap_or(15 * 60_000),
            refresh_ttl_ms: s
                .get("refresh_ttl")
                .and_then(|e| self.duration_value(e))
                .unwrap_or(7 * 86_400_000),
            issuer: s.get("issuer").and_then(|e| self.config_value(e)),
            audience: s.get("audience").and_then(|e| self.config_value(e)),
            rate: s.get("rate").and_then(|e| self.rate_ref(e)),
            password_min: s
                .get("password_min")
                .and_then(|e| self.u32_value(e, 1, 1024))
                .unwrap_or(8),
            password_max: s
                .get("password_max")
                .and_then(|e| self.u32_value(e, 8, 4096))
                .unwrap_or(128),
            api_keys: None,
            cookies: None,
            paths: AUTH_PATHS
                .iter()
                .map(|p| ((*p).to_string(), format!("/auth/{p}")))
                .collect(),
            envelope: None,
            token_field: "access_token".into(),
            allows,
            span,
        };
        if auth.password_min > auth.password_max {
            let at = s.get("password_min").map_or(span, |e| e.span);
            self.error(
                Diagnostic::error(
                    Code::BAD_VALUE,
                    at,
                    format!(
                        "`password_min` {} exceeds `password_max` {}",
                        auth.password_min, auth.password_max
                    ),
                )
                .with_label("no password can satisfy both")
                .with_help("make `password_min` at most `password_max`"),
            );
        }
        self.auth_blocks(&s, &mut auth);
        self.ir.auth = Some(auth);
    }

    fn auth_identity(&mut self, s: &Settings<'a>, span: Span) -> Option<EntityId> {
        match s.get("identity") {
            Some(e) => match &e.kind {
                ast::ExprKind::Path(p) => self.lookup_entity(p),
                _ => {
                    self.bad_value(e, "an entity name", "`identity = User`");
                    None
                }
            },
            None => {
                self.missing_key(
                    s,
                    "identity",
                    span,
                    "the `identity` entity",
                    "identity = User",
                );
                None
            }
        }
    }

    fn auth_field(
        &mut self,
        s: &Settings<'a>,
        identity: EntityId,
        key: &str,
        span: Span,
        ok: fn(&FieldType) -> bool,
    ) -> Option<usize> {
        let Some(e) = s.get(key) else {
            self.missing_key(s, key, span, &format!("`{key}`"), &format!("{key} = {key}"));
            return None;
        };
        let ident = path_ident(e)?;
        let entity = self.ir.entities[identity.index()].clone();
        let idx = self.field_index(&entity, ident)?;
        if !ok(&entity.fields[idx].ty) {
            let expected = if key == "password" {
                "a `password` field"
            } else {
                "an `email` or `string` field"
            };
            self.bad_value(e, expected, &format!("`{key} = <field>`"));
            return None;
        }
        Some(idx)
    }

    fn auth_blocks(&mut self, s: &Settings<'a>, auth: &mut Auth) {
        for block in s.blocks() {
            self.reject_labels(block);
            match block.kind.name.as_str() {
                "api_keys" => {
                    let b = self.settings(
                        &block.body,
                        "`api_keys`",
                        &["header", "prefix", "roles"],
                        &[],
                    );
                    let header = b
                        .get("header")
                        .and_then(|e| self.string_value(e))
                        .unwrap_or_else(|| "X-Api-Key".into());
                    let prefix = b
                        .get("prefix")
                        .and_then(|e| self.string_value(e))
                        .unwrap_or_else(|| "sk_".into());
                    let roles = b
                        .get("roles")
                        .and_then(|e| self.ident_list(e))
                        .unwrap_or_default()
                        .iter()
                        .map(|i| i.name.clone())
                        .collect();
                    auth.api_keys = Some(ApiKeys {
                        header,
                        prefix,
                        roles,
                    });
                }
                "cookies" => {
                    let b = self.settings(
                        &block.body,
                        "`cookies`",
                        &["name", "same_site", "secure"],
                        &[],
                    );
                    let name = b
                        .get("name")
                        .and_then(|e| self.string_value(e))
                        .unwrap_or_else(|| "session".into());
                    let same_site = b
                        .get("same_site")
                        .and_then(|e| self.keyword_value(e, &["strict", "lax", "none"]))
                        .unwrap_or("lax")
                        .to_string();
                    let secure = b
                        .get("secure")
                        .and_then(|e| self.bool_value(e))
                        .unwrap_or(true);
                    auth.cookies = Some(Cookies {
                        name,
                        same_site,
                        secure,
                    });
                }
                "paths" => {
                    let b = self.settings(&block.body, "`paths`", AUTH_PATHS, &[]);
                    for p in AUTH_PATHS {
                        if let Some(e) = b.get(p)
                            && let Some(v) = self.route_string(e)
                        {
                            auth.paths.insert((*p).to_string(), v);
                        }
                    }
                }
                _ => {
                    let b =
                        self.settings(&block.body, "`response`", &["envelope", "token_field"], &[]);
                    auth.envelope = b.get("envelope").and_then(|e| self.string_value(e));
                    if let Some(t) = b.get("token_field").and_then(|e| self.string_value(e)) {
                        auth.token_field = t;
                    }
                }
            }
        }
    }

    /// A path string that starts with `/`.
    pub(super) fn route_string(&mut self, expr: &ast::Expr) -> Option<String> {
        let v = self.string_value(expr)?;
        if v.starts_with('/') && !v.contains("//") && !v.contains(' ') {
            return Some(v);
        }
        self.error(
            Diagnostic::error(
                Code::BAD_ROUTE,
                expr.span,
                "a path starts with `/` and has no spaces",
            )
            .with_label("invalid path")
            .with_help("write `\"/users/login\"`"),
        );
        None
    }
}

/// A block's labels as text, to tell `view a` from `view b` and catch a second `filter`.
fn labels_text(block: &ast::Block) -> Vec<&str> {
    block.labels.iter().map(ast::Label::text).collect()
}
