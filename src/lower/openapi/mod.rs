//! `openapi.json`: an OpenAPI 3.1 description of the generated service, built from the
//! IR with the same shape, body and parameter rules as the Rust code, so what it promises
//! is what the service answers. The crate also serves it at `GET /openapi.json`.

mod schema;

use std::cell::RefCell;
use std::collections::BTreeMap;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value, json};

use schema::{Schemas, object, reference};

use super::rust::types;
use super::rust::view;
use super::rust::{auth, rate};
use super::{Output, OutputFile, Owner};
use crate::ir::{
    AuthRule, ErrorFormat, FilterOp, Ir, Method, OpKind, Operation, ResourceId, rule_text,
};

/// The one file, keyed by path.
pub fn lower(ir: &Ir, spec: &str) -> Output {
    let header = super::rust::file::header_text(spec);
    let mut text = document(ir, &header);
    text.push('\n');
    Output::from([(
        "openapi.json".to_owned(),
        OutputFile {
            contents: text,
            owner: Owner::Generated,
        },
    )])
}

/// The OpenAPI document, pretty-printed; `header` goes into `info.x-generated-by`, since
/// JSON has no comments.
pub fn document(ir: &Ir, header: &str) -> String {
    let mut schemas = Schemas::new(ir);
    let base = ir.service.base_path.trim_end_matches('/');
    let mut fixed = Map::new();
    health_paths(&mut fixed);
    if ir.auth.is_some() {
        auth_paths(ir, &mut schemas, &mut fixed, base);
    }
    let mut places = BTreeMap::new();
    for (path, item) in fixed {
        let Value::Object(methods) = item else {
            continue;
        };
        for (method, operation) in methods {
            places.insert((path.clone(), method), Place::Fixed(operation));
        }
    }
    for (i, r) in ir.resources.iter().enumerate() {
        let id = ResourceId(crate::ir::id32(i));
        for op in &r.operations {
            for method in op.methods() {
                let key = (
                    format!("{base}{}", op.path),
                    method.as_str().to_ascii_lowercase(),
                );
                places.insert(key, Place::Spec { id, op, method });
            }
        }
    }
    // The components come first in the document but fill up as operations are built, so
    // they are collected in a first pass; the second builds each operation again as it is
    // printed. Holding every operation instead took many times the document's size.
    for place in places.values() {
        if let Place::Spec { id, op, method } = place {
            operation(ir, &mut schemas, *id, op, *method);
        }
    }
    schemas
        .components
        .insert("Error".into(), error_schema(ir.service.error_format));
    let mut info = json!({
        "title": ir.service.name,
        "version": ir.service.version,
        "x-generated-by": header,
    });
    if !ir.service.docs.is_empty() {
        info["description"] = json!(ir.service.docs.join(" "));
    }
    let document = Document {
        ir,
        info,
        schemas: RefCell::new(schemas),
        places,
    };
    serde_json::to_string_pretty(&document).unwrap_or_default()
}

/// Where an operation is served from and what builds it.
enum Place<'a> {
    /// Health and account endpoints, built up front.
    Fixed(Value),
    Spec {
        id: ResourceId,
        op: &'a Operation,
        method: Method,
    },
}

/// The document, printed with its keys in the order a `Value` would sort them and each
/// operation built only when it is printed.
struct Document<'a> {
    ir: &'a Ir,
    info: Value,
    schemas: RefCell<Schemas<'a>>,
    /// Operations by path and method.
    places: BTreeMap<(String, String), Place<'a>>,
}

impl Serialize for Document<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let format = self.ir.service.error_format;
        let components = json!({
            "responses": error_responses(format),
            "securitySchemes": security_schemes(self.ir),
        });
        let mut document = serializer.serialize_map(Some(4))?;
        document.serialize_entry(
            "components",
            &Components {
                schemas: &self.schemas.borrow().components,
                rest: &components,
            },
        )?;
        document.serialize_entry("info", &self.info)?;
        document.serialize_entry("openapi", "3.1.0")?;
        document.serialize_entry("paths", &Paths(self))?;
        document.end()
    }
}

/// `components`: the collected schemas among the fixed parts, in key order.
struct Components<'a> {
    schemas: &'a Map<String, Value>,
    rest: &'a Value,
}

impl Serialize for Components<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        let rest = self.rest.as_object().into_iter().flatten();
        let schemas = std::iter::once(("schemas", Entry::Schemas(self.schemas)));
        let mut entries: Vec<(&str, Entry)> = rest
            .map(|(key, value)| (key.as_str(), Entry::Value(value)))
            .chain(schemas)
            .collect();
        entries.sort_by(|a, b| a.0.cmp(b.0));
        for (key, entry) in entries {
            match entry {
                Entry::Schemas(schemas) => map.serialize_entry(key, schemas)?,
                Entry::Value(value) => map.serialize_entry(key, value)?,
            }
        }
        map.end()
    }
}

enum Entry<'a> {
    Schemas(&'a Map<String, Value>),
    Value(&'a Value),
}

/// `paths`: path items, each operation built as it is printed.
struct Paths<'d, 'a>(&'d Document<'a>);

impl Serialize for Paths<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let places = &self.0.places;
        let mut map = serializer.serialize_map(None)?;
        let mut rest = places.iter().peekable();
        while let Some(((path, _), _)) = rest.peek() {
            let path = path.clone();
            let mut methods = Vec::new();
            while let Some(entry) = rest.next_if(|((p, _), _)| *p == path) {
                methods.push(entry);
            }
            map.serialize_entry(&path, &PathItem(self.0, methods))?;
        }
        map.end()
    }
}

/// The operations at one path, by method.
type Methods<'d, 'a> = Vec<(&'d (String, String), &'d Place<'a>)>;

struct PathItem<'d, 'a>(&'d Document<'a>, Methods<'d, 'a>);

impl Serialize for PathItem<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let PathItem(document, methods) = self;
        let mut map = serializer.serialize_map(Some(methods.len()))?;
        for ((_, method), place) in methods {
            match place {
                Place::Fixed(value) => map.serialize_entry(method, value)?,
                Place::Spec { id, op, method: m } => {
                    let built =
                        operation(document.ir, &mut document.schemas.borrow_mut(), *id, op, *m);
                    map.serialize_entry(method, &built)?;
                }
            }
        }
        map.end()
    }
}

fn health_paths(paths: &mut Map<String, Value>) {
    let check = json!({
        "type": "object",
        "properties": { "status": { "type": "string" } },
        "required": ["status"],
    });
    paths.insert(
        "/health".into(),
        json!({ "get": {
            "operationId": "health",
            "summary": "Liveness: the process serves requests.",
            "tags": ["health"],
            "responses": { "200": { "description": "Alive.", "content": { "application/json": { "schema": check } } } },
        }}),
    );
    paths.insert(
        "/metrics".into(),
        json!({ "get": {
            "operationId": "metrics",
            "summary": "Prometheus metrics: requests by route and status, latency, pool, rate limits, caches.",
            "tags": ["health"],
            "responses": { "200": { "description": "The Prometheus text format.", "content": { "text/plain": { "schema": { "type": "string" } } } } },
        }}),
    );
    paths.insert(
        "/openapi.json".into(),
        json!({ "get": {
            "operationId": "openapi",
            "summary": "This document.",
            "tags": ["health"],
            "responses": { "200": { "description": "The OpenAPI document.", "content": { "application/json": { "schema": { "type": "object" } } } } },
        }}),
    );
    paths.insert(
        "/health/ready".into(),
        json!({ "get": {
            "operationId": "ready",
            "summary": "Readiness: the database (and Redis, when configured) answer.",
            "tags": ["health"],
            "responses": {
                "200": { "description": "Ready.", "content": { "application/json": { "schema": {} } } },
                "503": { "description": "A dependency is down; the body says which.", "content": { "application/json": { "schema": {} } } },
            },
        }}),
    );
}

fn auth_paths(ir: &Ir, schemas: &mut Schemas, paths: &mut Map<String, Value>, base: &str) {
    let Some(a) = &ir.auth else {
        return;
    };
    let entity = ir.entity(a.identity);
    let path = |name: &str| format!("{base}{}", a.path(name));
    let user = schemas.record(a.identity);
    // The account with its tokens, as register, login and refresh answer.
    let mut signed_in = schemas.record_properties(a.identity);
    signed_in.insert(
        a.token_field.clone(),
        json!({ "type": "string", "description": "The access token (JWT)." }),
    );
    signed_in.insert(
        "expires_in".into(),
        json!({ "type": "integer", "description": "Seconds the access token is valid." }),
    );
    signed_in.insert("refresh_token".into(), json!({ "type": "string" }));
    signed_in.insert("refresh_expires_in".into(), json!({ "type": "integer" }));
    let session = enveloped(object(signed_in, true, &[]), a.envelope.as_deref());
    schemas.components.insert("Session".into(), session);
    let me = enveloped(user, a.envelope.as_deref());
    let registration = schemas.registration(&auth::register_fields(ir, a.identity));
    let login = &entity.fields[a.login_field];
    let credentials = json!({
        "type": "object",
        "properties": {
            types::json_name(ir, login): { "type": "string" },
            types::json_name(ir, &entity.fields[a.password_field]): { "type": "string", "format": "password" },
        },
        "required": [types::json_name(ir, login), types::json_name(ir, &entity.fields[a.password_field])],
        "additionalProperties": false,
    });
    // Browsers with cookie sessions send the refresh cookie instead.
    let refresh_required: &[&str] = if a.cookies.is_some() {
        &[]
    } else {
        &["refresh_token"]
    };
    let refresh = json!({
        "type": "object",
        "properties": { "refresh_token": { "type": "string" } },
        "required": refresh_required,
        "additionalProperties": false,
    });
    let limited = rate::of_auth(ir).is_some();
    let body = |schema: Value| json!({ "required": true, "content": { "application/json": { "schema": schema } } });
    let answer = |status: &str, what: &str, schema: Option<Value>| {
        let mut r = json!({ "description": what });
        if let Some(schema) = schema {
            r["content"] = json!({ "application/json": { "schema": schema } });
        }
        (status.to_owned(), r)
    };
    let entries = [
        (
            "register",
            "Creates an account and signs it in.",
            body(registration),
            vec![answer(
                "201",
                "The new account and its tokens.",
                Some(reference("Session")),
            )],
            vec!["400", "409", "413", "422"],
        ),
        (
            "login",
            "Signs in with the login and password.",
            body(credentials),
            vec![answer(
                "200",
                "The account and fresh tokens.",
                Some(reference("Session")),
            )],
            vec!["400", "401", "413", "422"],
        ),
        (
            "refresh",
            "Spends a refresh token for new tokens; a reused token revokes its family.",
            body(refresh.clone()),
            vec![answer(
                "200",
                "The account and new tokens.",
                Some(reference("Session")),
            )],
            vec!["400", "401", "413", "422"],
        ),
        (
            "logout",
            "Revokes the refresh token's family.",
            body(refresh),
            vec![answer(
                "204",
                "Signed out (also for an unknown token).",
                None,
            )],
            vec!["400", "413", "422"],
        ),
    ];
    for (name, summary, request, success, errors) in entries {
        let mut responses: Map<String, Value> = success.into_iter().collect();
        add_errors(&mut responses, &errors, limited);
        paths.insert(
            path(name),
            json!({ "post": {
                "operationId": format!("auth_{name}"),
                "summary": summary,
                "tags": ["auth"],
                "requestBody": request,
                "responses": responses,
            }}),
        );
    }
    let mut responses = Map::new();
    responses.insert("200".into(), json!({ "description": "The caller's account.", "content": { "application/json": { "schema": me } } }));
    add_errors(&mut responses, &["401"], ir.service.default_rate.is_some());
    let mut security = vec![json!({ "bearer": [] })];
    if a.api_keys.is_some() {
        security.push(json!({ "apiKey": [] }));
    }
    if a.cookies.is_some() {
        security.push(json!({ "cookie": [] }));
    }
    paths.insert(
        path("me"),
        json!({ "get": {
            "operationId": "auth_me",
            "summary": "The signed-in caller's own account.",
            "tags": ["auth"],
            "security": security,
            "responses": responses,
        }}),
    );
    if a.api_keys.is_some() {
        api_key_paths(ir, schemas, paths, base);
    }
}

/// The owner's list of API keys and their revocation.
fn api_key_paths(ir: &Ir, schemas: &mut Schemas, paths: &mut Map<String, Value>, base: &str) {
    let limited = ir.service.default_rate.is_some();
    let time = json!({ "type": ["integer", "null"], "description": "Unix seconds." });
    schemas.components.insert(
        "ApiKey".into(),
        json!({
            "type": "object",
            "properties": {
                "id": { "type": "string", "description": "The key's public part, after the prefix." },
                "name": { "type": "string" },
                "scopes": { "type": "array", "items": { "type": "string" } },
                "created_at": { "type": "integer", "description": "Unix seconds." },
                "last_used_at": time,
                "revoked_at": time,
            },
            "required": ["id", "name", "scopes", "created_at", "last_used_at", "revoked_at"],
            "additionalProperties": false,
        }),
    );
    let keys_path = format!("{base}{}", crate::lower::rust::api_keys::KEYS_PATH);
    let mut listed = Map::new();
    listed.insert(
        "200".into(),
        json!({ "description": "The caller's keys, revoked ones included; never the keys themselves.", "content": { "application/json": { "schema": { "type": "array", "items": reference("ApiKey") } } } }),
    );
    add_errors(&mut listed, &["401", "403"], limited);
    paths.insert(
        keys_path.clone(),
        json!({ "get": {
            "operationId": "auth_api_keys_list",
            "summary": "The signed-in account's API keys. Keys are issued by the operator command `issue-api-key`.",
            "tags": ["auth"],
            "security": [{ "bearer": [] }],
            "responses": listed,
        }}),
    );
    let mut revoked = Map::new();
    revoked.insert("204".into(), json!({ "description": "Revoked." }));
    add_errors(&mut revoked, &["401", "403", "404"], limited);
    paths.insert(
        format!("{keys_path}/{{id}}"),
        json!({ "delete": {
            "operationId": "auth_api_keys_revoke",
            "summary": "Revokes one of the signed-in account's API keys.",
            "tags": ["auth"],
            "security": [{ "bearer": [] }],
            "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }],
            "responses": revoked,
        }}),
    );
}

fn operation(
    ir: &Ir,
    schemas: &mut Schemas,
    id: ResourceId,
    op: &Operation,
    method: Method,
) -> Value {
    let r = ir.resource(id);
    let rule = op.auth.as_ref().map(|a| &a.value);
    let mut o = json!({
        "operationId": operation_id(&r.name, op, method),
        "tags": [r.name],
    });
    let mut summary = if op.docs.is_empty() {
        format!("{} {}", op.name, r.name)
    } else {
        op.docs.join(" ")
    };
    if let Some(rule) = rule {
        summary = format!("{summary} Who may call: `{}`.", rule_text(ir, rule));
        if let Some(security) = security(ir, rule) {
            o["security"] = security;
        }
    }
    o["summary"] = json!(summary);
    let mut parameters = path_parameters(ir, schemas, id, op);
    if op.kind == OpKind::List {
        parameters.extend(list_parameters(ir, schemas, id, op));
    }
    if !parameters.is_empty() {
        o["parameters"] = json!(parameters);
    }
    if let Some(body) = schemas.body(id, op) {
        o["requestBody"] =
            json!({ "required": true, "content": { "application/json": { "schema": body } } });
    }
    let mut responses = Map::new();
    let shape = schemas.shape(id, view::shape_of(ir, id, op));
    let status = op.status.to_string();
    match op.kind {
        OpKind::List => {
            // A list of plain values (`pluck`) answers that field of each record.
            let entity = ir.entity(r.entity);
            let item = op.pluck.map_or(shape, |f| schemas.field(&entity.fields[f]));
            let items = json!({ "type": "array", "items": item });
            let schema = match op.envelope.as_ref().or(r.list_envelope.as_ref()) {
                None => items,
                Some(key) => {
                    let mut properties = Map::new();
                    properties.insert(key.clone(), items);
                    if let Some(count) = &r.count_field {
                        properties
                            .insert(count.clone(), json!({ "type": "integer", "minimum": 0 }));
                    }
                    object(properties, true, &[])
                }
            };
            responses.insert(
                "200".into(),
                json!({
                    "description": "One page of records.",
                    "headers": { "X-Total-Count": { "description": "Records matching the filters, over all pages.", "schema": { "type": "integer" } } },
                    "content": { "application/json": { "schema": schema } },
                }),
            );
        }
        _ if op.status == 204 => {
            responses.insert(status, json!({ "description": "Done." }));
        }
        _ => {
            let mut answer = json!({
                "description": "The record.",
                "content": { "application/json": { "schema": enveloped(shape, r.envelope.as_deref()) } },
            });
            if let Some(c) = op.cache.filter(|_| op.kind == OpKind::Get) {
                let policy = ir.cache(c);
                let mut headers = json!({ "X-Cache": { "description": "Whether the cache answered.", "schema": { "type": "string", "enum": ["HIT", "MISS"] } } });
                if policy.etag {
                    headers["ETag"] = json!({ "description": "Send it back in `If-None-Match` for a 304.", "schema": { "type": "string" } });
                    responses.insert(
                        "304".into(),
                        json!({ "description": "Not modified since the ETag sent." }),
                    );
                }
                if policy.control.is_some() {
                    headers["Cache-Control"] = json!({ "schema": { "type": "string" } });
                }
                answer["headers"] = headers;
            }
            responses.insert(status, answer);
        }
    }
    let mut errors = vec!["400"];
    if rule.is_some_and(|r| !r.is_public()) {
        errors.push("401");
    }
    if rule.is_some_and(|r| !matches!(r, AuthRule::Public | AuthRule::Authenticated)) {
        errors.push("403");
    }
    // A missing record, or a missing parent named in the path.
    if op.kind != OpKind::List || op.path.contains('{') {
        errors.push("404");
    }
    if matches!(
        op.kind,
        OpKind::Create | OpKind::Update | OpKind::Delete | OpKind::Action | OpKind::Link
    ) {
        errors.push("409");
    }
    if o.get("requestBody").is_some() {
        errors.push("413");
    }
    errors.push("422");
    add_errors(
        &mut responses,
        &errors,
        rate::of_operation(ir, op).is_some(),
    );
    if op.handler.is_some() {
        responses.insert(
            "501".into(),
            json!({ "$ref": "#/components/responses/E501" }),
        );
    }
    o["responses"] = Value::Object(responses);
    o
}

fn operation_id(resource: &str, op: &Operation, method: Method) -> String {
    match (op.kind, method) {
        (OpKind::Link, Method::Delete) => format!("{resource}_un{}", op.name),
        _ => format!("{resource}_{}", op.name),
    }
}

/// `{ "<key>": schema }` when the resource wraps its records.
fn enveloped(schema: Value, envelope: Option<&str>) -> Value {
    match envelope {
        None => schema,
        Some(key) => {
            let mut properties = Map::new();
            properties.insert(key.to_owned(), schema);
            object(properties, true, &[])
        }
    }
}

fn path_parameters(ir: &Ir, schemas: &Schemas, id: ResourceId, op: &Operation) -> Vec<Value> {
    let r = ir.resource(id);
    let entity = ir.entity(r.entity);
    op.path
        .split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            let field = match r
                .parents
                .iter()
                .find(|(f, _)| entity.fields[*f].name == name)
            {
                Some((_, parent)) => {
                    let p = ir.resource(*parent);
                    &ir.entity(p.entity).fields[p.key]
                }
                None => &entity.fields[r.key],
            };
            json!({ "name": name, "in": "path", "required": true, "schema": schemas.value(field) })
        })
        .collect()
}

fn list_parameters(ir: &Ir, schemas: &Schemas, id: ResourceId, op: &Operation) -> Vec<Value> {
    let Some(list) = &op.list else {
        return Vec::new();
    };
    let entity = ir.entity(ir.resource(id).entity);
    let page = list.page_size.unwrap_or(20);
    let max = list.max_page_size.unwrap_or(100);
    let mut out = vec![
        json!({ "name": "limit", "in": "query", "description": "Page size.", "schema": { "type": "integer", "minimum": 1, "maximum": max, "default": page } }),
        json!({ "name": "offset", "in": "query", "description": "Records to skip.", "schema": { "type": "integer", "minimum": 0, "default": 0 } }),
    ];
    let mut accepted = Vec::new();
    for s in &list.sort {
        let json_name = types::json_name(ir, &entity.fields[s.value]);
        accepted.push(json_name.clone());
        accepted.push(format!("-{json_name}"));
    }
    if !accepted.is_empty() {
        out.push(json!({ "name": "sort", "in": "query", "description": "A field to order by; `-` first for descending.", "schema": { "type": "string", "enum": accepted } }));
    }
    for filter in &list.filters {
        let condition = super::rust::repo::Condition::new(filter.path.clone(), filter.op);
        let Some(field) = condition.last_field(ir) else {
            continue;
        };
        let what = match filter.op {
            FilterOp::Eq => "equal to",
            FilterOp::Gte => "at least",
            FilterOp::Lte => "at most",
            FilterOp::Contains => "containing",
        };
        let mut schema = schemas.value(field);
        if let Some(o) = schema.as_object_mut() {
            o.remove("description");
        }
        out.push(json!({
            "name": filter.param,
            "in": "query",
            "description": format!("Records whose `{}` is {what} this.", field.name),
            "schema": schema,
        }));
    }
    out
}

/// Who may call, as OpenAPI security requirements; `None` when anyone may.
fn security(ir: &Ir, rule: &AuthRule) -> Option<Value> {
    if rule.is_public() {
        return None;
    }
    let mut alternatives = Vec::new();
    if ir.auth.is_some() && !only_api_keys(rule) {
        alternatives.push(json!({ "bearer": [] }));
        if ir.auth.as_ref().is_some_and(|a| a.cookies.is_some()) {
            alternatives.push(json!({ "cookie": [] }));
        }
    }
    if ir.auth.as_ref().is_some_and(|a| a.api_keys.is_some()) && key_may_pass(rule) {
        alternatives.push(json!({ "apiKey": [] }));
    }
    Some(json!(alternatives))
}

/// Whether a request with an API key can pass: a key acts for its owner without the
/// owner's roles, plus its scopes.
fn key_may_pass(rule: &AuthRule) -> bool {
    match rule {
        AuthRule::Role(_) => false,
        AuthRule::And(rules) => rules.iter().all(key_may_pass),
        AuthRule::Or(rules) => rules.iter().any(key_may_pass),
        _ => true,
    }
}

fn only_api_keys(rule: &AuthRule) -> bool {
    match rule {
        AuthRule::ApiKey(_) => true,
        AuthRule::Or(rules) => rules.iter().all(only_api_keys),
        _ => false,
    }
}

fn security_schemes(ir: &Ir) -> Value {
    let mut schemes = Map::new();
    if let Some(a) = &ir.auth {
        let bearer = if a.scheme.eq_ignore_ascii_case("bearer") {
            json!({ "type": "http", "scheme": "bearer", "bearerFormat": "JWT" })
        } else {
            json!({
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": format!("`{} <access token>`", a.scheme),
            })
        };
        schemes.insert("bearer".into(), bearer);
        if let Some(cookies) = &a.cookies {
            schemes.insert(
                "cookie".into(),
                json!({ "type": "apiKey", "in": "cookie", "name": cookies.name, "description": "The access token, set as an HttpOnly cookie at sign-in." }),
            );
        }
        if let Some(keys) = &a.api_keys {
            schemes.insert(
                "apiKey".into(),
                json!({ "type": "apiKey", "in": "header", "name": keys.header, "description": format!("A key starting with `{}`.", keys.prefix) }),
            );
        }
    }
    Value::Object(schemes)
}

/// The error body in the spec's format.
fn error_schema(format: ErrorFormat) -> Value {
    let detail = json!({
        "type": "object",
        "properties": { "field": { "type": "string" }, "message": { "type": "string" } },
        "required": ["field", "message"],
    });
    match format {
        ErrorFormat::Structured => json!({
            "type": "object",
            "properties": { "error": {
                "type": "object",
                "properties": {
                    "code": { "type": "string" },
                    "message": { "type": "string" },
                    "details": { "type": "array", "items": detail },
                },
                "required": ["code", "message", "details"],
            }},
            "required": ["error"],
        }),
        ErrorFormat::Problem => json!({
            "type": "object",
            "properties": {
                "type": { "type": "string" },
                "title": { "type": "string" },
                "status": { "type": "integer" },
                "code": { "type": "string" },
                "errors": { "type": "array", "items": detail },
            },
            "required": ["type", "title", "status", "code", "errors"],
        }),
        ErrorFormat::FieldMap => json!({
            "type": "object",
            "properties": { "errors": {
                "type": "object",
                "additionalProperties": { "type": "array", "items": { "type": "string" } },
            }},
            "required": ["errors"],
        }),
    }
}

/// One reusable response per error status.
fn error_responses(format: ErrorFormat) -> Value {
    let media = match format {
        ErrorFormat::Problem => "application/problem+json",
        _ => "application/json",
    };
    let mut out = Map::new();
    for (status, what) in ERRORS {
        let mut response = json!({
            "description": what,
            "content": { media: { "schema": reference("Error") } },
        });
        if status == "429" {
            response["headers"] = json!({
                "Retry-After": { "description": "Seconds until a request may succeed.", "schema": { "type": "integer" } },
                "RateLimit-Limit": { "schema": { "type": "integer" } },
                "RateLimit-Remaining": { "schema": { "type": "integer" } },
                "RateLimit-Reset": { "schema": { "type": "integer" } },
            });
        }
        out.insert(format!("E{status}"), response);
    }
    Value::Object(out)
}

const ERRORS: [(&str, &str); 12] = [
    ("400", "The request is malformed."),
    ("401", "Not signed in, or the token is invalid."),
    ("403", "Signed in but not allowed."),
    ("404", "No such record, or hidden from this caller."),
    ("408", "The request took too long."),
    (
        "409",
        "Conflicts with existing data or a concurrent change.",
    ),
    ("413", "The body is too large."),
    ("422", "Invalid fields; every one is reported."),
    ("429", "Rate limited."),
    ("500", "An unexpected error, logged with the request id."),
    ("501", "The hand-written handler is not written yet."),
    ("503", "Not ready."),
];

/// References to the shared error responses, plus 408, 429 (when limited) and 500, which
/// any endpoint may answer.
fn add_errors(responses: &mut Map<String, Value>, statuses: &[&str], limited: bool) {
    let mut all: Vec<&str> = statuses.to_vec();
    all.push("408");
    if limited {
        all.push("429");
    }
    all.push("500");
    for status in all {
        responses.insert(
            status.to_owned(),
            json!({ "$ref": format!("#/components/responses/E{status}") }),
        );
    }
}
