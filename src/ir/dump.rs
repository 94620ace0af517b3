//! A stable, readable text form of the IR for snapshots and `svcc graph --ir`.

use std::fmt::Write as _;

use super::Ir;
use super::model::*;

pub fn dump(ir: &Ir) -> String {
    let mut out = String::new();
    service(ir, &mut out);
    auth(ir, &mut out);
    for e in &ir.enums {
        let _ = writeln!(out, "enum {}: {}", e.name, e.variants.join(" | "));
    }
    let order: Vec<&str> = ir
        .tables_in_dependency_order()
        .iter()
        .map(|id| ir.entity(*id).name.as_str())
        .collect();
    let _ = writeln!(out, "migration order: {}", order.join(", "));
    for e in &ir.entities {
        entity(ir, e, &mut out);
    }
    for p in &ir.policies {
        let _ = writeln!(out, "policy {}", p.name);
    }
    for r in &ir.rates {
        let burst = r.burst.map_or(String::new(), |b| format!(" burst {b}"));
        let _ = writeln!(
            out,
            "rate {}: {} per {} by {:?} ({:?}){burst}",
            r.name,
            r.limit,
            ms(r.window_ms),
            r.key,
            r.algorithm
        );
    }
    for c in &ir.caches {
        let ttl = c
            .ttl_ms
            .map_or_else(|| "no ttl".to_string(), |t| format!("ttl {}", ms(t)));
        let by: Vec<String> = c.invalidated_by.iter().map(|o| ir.op_name(*o)).collect();
        let _ = writeln!(
            out,
            "cache {}: {ttl} etag {} control {:?} invalidated by [{}]",
            c.name,
            c.etag,
            c.control,
            by.join(", ")
        );
    }
    for e in &ir.events {
        let _ = writeln!(out, "event {}: {}", e.name, ir.entity(e.entity).name);
    }
    for r in &ir.resources {
        resource(ir, r, &mut out);
    }
    out
}

fn service(ir: &Ir, out: &mut String) {
    let s = &ir.service;
    let _ = writeln!(out, "service {} {}", s.name, s.version);
    docs(out, "  ", &s.docs);
    let dbs: Vec<String> = s
        .databases
        .iter()
        .map(|d| format!("{d:?}").to_lowercase())
        .collect();
    let _ = writeln!(
        out,
        "  base_path {:?}, databases [{}], json {:?}, errors {:?}, profile {:?}",
        s.base_path,
        dbs.join(", "),
        s.json_case,
        s.error_format,
        s.profile
    );
    let _ = writeln!(out, "  database_url {}", config(&s.database_url.value));
    let _ = writeln!(out, "  port {}", config(&s.port));
    if let Some(c) = &s.cors_origins {
        let _ = writeln!(out, "  cors_origins {}", config(&c.value));
    }
    for (k, v) in &s.settings {
        let _ = writeln!(out, "  {k} {}", config(&v.value));
    }
    if let Some(r) = s.default_rate {
        let _ = writeln!(out, "  default_rate {}", ir.rate(r).name);
    }
    for (k, v) in &s.messages {
        let _ = writeln!(out, "  message {k} {v:?}");
    }
    for (code, level, _) in &s.rule_levels {
        let _ = writeln!(out, "  rule {code} = {level}");
    }
    allows(out, "  ", &s.allows);
}

fn auth(ir: &Ir, out: &mut String) {
    let Some(a) = &ir.auth else { return };
    let e = ir.entity(a.identity);
    let role = a
        .role_field
        .map_or_else(|| "-".to_string(), |r| e.fields[r].name.clone());
    let _ = writeln!(
        out,
        "auth identity {} login {} password {} roles {role}",
        e.name, e.fields[a.login_field].name, e.fields[a.password_field].name
    );
    let _ = writeln!(
        out,
        "  secret {} algorithm {} hashing {} scheme {:?}",
        config(&a.secret.value),
        a.algorithm,
        a.hashing.value,
        a.scheme
    );
    let _ = writeln!(
        out,
        "  access {} refresh {} password length {}..{}",
        ms(a.access_ttl_ms),
        ms(a.refresh_ttl_ms),
        a.password_min,
        a.password_max
    );
    if let Some(r) = a.rate {
        let _ = writeln!(out, "  rate {}", ir.rate(r).name);
    }
    let paths: Vec<String> = a.paths.iter().map(|(k, v)| format!("{k} {v}")).collect();
    let _ = writeln!(out, "  paths {}", paths.join(", "));
    let _ = writeln!(
        out,
        "  response envelope {:?} token {:?}",
        a.envelope, a.token_field
    );
    if let Some(k) = &a.api_keys {
        let _ = writeln!(
            out,
            "  api keys header {:?} prefix {:?} roles [{}]",
            k.header,
            k.prefix,
            k.roles.join(", ")
        );
    }
    if let Some(c) = &a.cookies {
        let _ = writeln!(
            out,
            "  cookies {:?} same_site {} secure {}",
            c.name, c.same_site, c.secure
        );
    }
}

fn entity(ir: &Ir, e: &Entity, out: &mut String) {
    let _ = writeln!(out, "entity {} (table {})", e.name, e.table);
    docs(out, "  ", &e.docs);
    if !e.mixins.is_empty() {
        let _ = writeln!(out, "  mixins {}", e.mixins.join(", "));
    }
    for f in &e.fields {
        field(ir, e, f, out);
    }
    let pk: Vec<&str> = e
        .primary_key
        .iter()
        .map(|i| e.fields[*i].name.as_str())
        .collect();
    let _ = writeln!(out, "  primary key ({})", pk.join(", "));
    if let Some(sd) = e.soft_delete {
        let _ = writeln!(out, "  soft delete by {}", e.fields[sd].name);
    }
    for i in &e.indexes {
        let cols: Vec<&str> = i
            .columns
            .iter()
            .map(|c| e.fields[*c].column.as_str())
            .collect();
        let unique = if i.unique { " unique" } else { "" };
        let pred = i
            .predicate
            .as_ref()
            .map_or(String::new(), |p| format!(" where {}", expr(ir, p)));
        let _ = writeln!(
            out,
            "  index {}{unique} ({}) {:?} {:?}{pred}",
            i.name,
            cols.join(", "),
            i.method,
            i.source
        );
    }
    for c in &e.checks {
        let _ = writeln!(out, "  check {}: {}", c.name, expr(ir, &c.expr));
    }
    for c in e.collections.iter().map(|c| ir.collection(*c)) {
        let how = match &c.kind {
            CollectionKind::Inverse { relation } => format!(
                "inverse of {}.{}",
                ir.entity(ir.relation(*relation).from).name,
                ir.entity(ir.relation(*relation).from).fields[ir.relation(*relation).field].name
            ),
            CollectionKind::ManyToMany { through, near, far } => {
                let j = ir.entity(*through);
                format!(
                    "through {} ({} -> {})",
                    j.name,
                    j.fields[ir.relation(*near).field].name,
                    j.fields[ir.relation(*far).field].name
                )
            }
        };
        let write_by = c.write_by.map_or(String::new(), |w| {
            format!(" write by {}", ir.entity(c.target).fields[w].name)
        });
        let json = c
            .json_name
            .as_ref()
            .map_or(String::new(), |j| format!(" json {j:?}"));
        let _ = writeln!(
            out,
            "  many {}: {} {how}{write_by}{json}",
            c.name,
            ir.entity(c.target).name
        );
    }
    allows(out, "  ", &e.allows);
}

fn field(ir: &Ir, e: &Entity, f: &Field, out: &mut String) {
    let mut parts = vec![format!("  {}: {}", f.name, type_name(ir, f))];
    if f.column != f.name {
        parts.push(format!("column {}", f.column));
    }
    if let Some(a) = &f.alias {
        parts.push(format!("alias {a}"));
    }
    let flags = f.flags;
    for (on, name) in [
        (flags.primary, "primary"),
        (flags.unique, "unique"),
        (flags.indexed, "indexed"),
        (flags.immutable, "immutable"),
        (flags.readonly, "readonly"),
        (flags.sensitive, "sensitive"),
        (flags.write_only, "write_only"),
        (flags.updated_at, "updated_at"),
    ] {
        if on {
            parts.push(name.to_string());
        }
    }
    if let Some(d) = &f.default {
        parts.push(format!("default {}", default(e, d)));
    }
    if let Some(r) = &f.range {
        parts.push(format!(
            "range {}..{}",
            r.min.as_deref().unwrap_or(""),
            r.max.as_deref().unwrap_or("")
        ));
    }
    if let Some(p) = &f.pattern {
        parts.push(format!("pattern {p:?}"));
    }
    for c in &f.checks {
        parts.push(format!("check {}", expr(ir, c)));
    }
    if let Some(j) = &f.json_name {
        parts.push(format!("json {j:?}"));
    }
    if let Some(r) = &f.renamed_from {
        parts.push(format!("renamed from {r:?}"));
    }
    if let Some(a) = &f.auto {
        parts.push(format!("auto {a:?}"));
    }
    if let Some(r) = f.relation.map(|r| ir.relation(r)) {
        parts.push(format!(
            "on_delete {}",
            r.on_delete.map_or("unspecified", OnDelete::as_str)
        ));
        if let Some(o) = &r.index_opt_out {
            parts.push(format!("no index ({:?})", o.reason));
        }
    }
    if let Some(o) = &f.origin {
        parts.push(format!("from {o}"));
    }
    let _ = writeln!(out, "{}", parts.join(" "));
    docs(out, "    ", &f.docs);
    allows(out, "    ", &f.allows);
}

/// The spec-level type of a field: `string(1..200)?`, `ref User`, `decimal(12,2)`.
pub(crate) fn type_name(ir: &Ir, f: &Field) -> String {
    let base = match &f.ty {
        FieldType::Decimal { precision, scale } => format!("decimal({precision},{scale})"),
        FieldType::Enum(id) => ir.enum_(*id).name.clone(),
        FieldType::Ref(id) => format!("ref {}", ir.entity(*id).name),
        other => super::entities::type_label(other).to_string(),
    };
    let len = f.length.map_or(String::new(), |b| {
        format!(
            "({}..{})",
            b.min.map_or(String::new(), |m| m.to_string()),
            b.max.map_or(String::new(), |m| m.to_string())
        )
    });
    let opt = if f.optional { "?" } else { "" };
    format!("{base}{len}{opt}")
}

fn default(e: &Entity, d: &Default) -> String {
    match d {
        Default::Value(v) => value(v),
        Default::EnumVariant(v) => v.clone(),
        Default::Now => "now()".into(),
        Default::Uuid4 => "uuid4()".into(),
        Default::Uuid7 => "uuid7()".into(),
        Default::Identity => "identity()".into(),
        Default::Slugify(i) => format!("slugify({})", e.fields[*i].name),
    }
}

fn resource(ir: &Ir, r: &Resource, out: &mut String) {
    let e = ir.entity(r.entity);
    let _ = writeln!(
        out,
        "resource {}: {} at {} key {}{}",
        r.name,
        e.name,
        r.path,
        e.fields.get(r.key).map_or("?", |f| f.name.as_str()),
        if r.singleton { " singleton" } else { "" }
    );
    docs(out, "  ", &r.docs);
    for (field, parent) in &r.parents {
        let _ = writeln!(
            out,
            "  parent {} via {}",
            ir.resource(*parent).name,
            e.fields[*field].name
        );
    }
    if r.envelope.is_some() || r.list_envelope.is_some() || r.count_field.is_some() {
        let _ = writeln!(
            out,
            "  envelope {:?} list {:?} count {:?}",
            r.envelope, r.list_envelope, r.count_field
        );
    }
    for c in &r.computed {
        let _ = writeln!(out, "  computed {} = {}", c.name, expr(ir, &c.expr));
    }
    for v in &r.views {
        let mut names: Vec<String> = v.fields.iter().map(|f| e.fields[*f].name.clone()).collect();
        names.extend(v.collections.iter().map(|c| ir.collection(*c).name.clone()));
        names.extend(v.computed.iter().map(|c| r.computed[*c].name.clone()));
        let _ = writeln!(out, "  view {} [{}]", v.name, names.join(", "));
    }
    if let Some(v) = r.default_view {
        let _ = writeln!(out, "  default view {}", r.views[v].name);
    }
    for op in &r.operations {
        operation(ir, r, op, out);
    }
    allows(out, "  ", &r.allows);
}

fn operation(ir: &Ir, r: &Resource, op: &Operation, out: &mut String) {
    let e = ir.entity(r.entity);
    let auth = op
        .auth
        .as_ref()
        .map_or_else(|| "undeclared".to_string(), |a| auth_rule(ir, &a.value));
    let name = if op.name == op.kind.as_str() {
        String::new()
    } else {
        format!(" {}", op.name)
    };
    let _ = writeln!(
        out,
        "  {}{name} {} {} -> {} auth {auth}",
        op.kind.as_str(),
        op.method.as_str(),
        op.path,
        op.status
    );
    docs(out, "    ", &op.docs);
    let mut extras = Vec::new();
    if op.deny_status != 404 {
        extras.push(format!("deny {}", op.deny_status));
    }
    if let Some(rate) = op.rate {
        extras.push(format!("rate {}", ir.rate(rate).name));
    }
    if let Some(c) = op.cache {
        extras.push(format!("cache {}", ir.cache(c).name));
    }
    if !op.emits.is_empty() {
        extras.push(format!(
            "emits {}",
            op.emits
                .iter()
                .map(|id| ir.event(*id).name.clone())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if let Some(f) = &op.fields {
        let mut names: Vec<String> = f.value.iter().map(|i| e.fields[*i].name.clone()).collect();
        names.extend(
            op.collections
                .iter()
                .map(|c| ir.collection(*c).name.clone()),
        );
        extras.push(format!("fields [{}]", names.join(", ")));
    }
    for (f, v) in &op.set {
        extras.push(format!("set {} = {}", e.fields[*f].name, expr(ir, v)));
    }
    if op.kind == OpKind::Update {
        extras.push(format!("partial {}", op.partial));
    }
    if let Some(h) = &op.handler {
        extras.push(format!("handler {h}"));
    }
    if let Some(l) = &op.link {
        let j = ir.entity(l.through);
        extras.push(format!(
            "link through {} caller {} target {}",
            j.name,
            j.fields[ir.relation(l.caller).field].name,
            j.fields[ir.relation(l.target).field].name
        ));
    }
    if let Some(v) = op.view {
        extras.push(format!("view {}", r.views[v].name));
    }
    if let Some(p) = op.pluck {
        extras.push(format!("pluck {}", e.fields[p].name));
    }
    if let Some(env) = &op.envelope {
        extras.push(format!("envelope {env:?}"));
    }
    if !extras.is_empty() {
        let _ = writeln!(out, "    {}", extras.join("; "));
    }
    if let Some(l) = &op.list {
        list(ir, e, l, out);
    }
    allows(out, "    ", &op.allows);
}

fn list(ir: &Ir, e: &Entity, l: &ListSpec, out: &mut String) {
    for f in &l.filters {
        let _ = writeln!(
            out,
            "    filter {} = {:?}({})",
            f.param,
            f.op,
            ir.path_name(&f.path)
        );
    }
    let sort: Vec<&str> = l
        .sort
        .iter()
        .map(|s| e.fields[s.value].name.as_str())
        .collect();
    let default_sort = l.default_sort.as_ref().map_or_else(
        || "-".into(),
        |s| format!("{:?}({})", s.value.1, e.fields[s.value.0].name),
    );
    let page = |p: Option<u32>| p.map_or_else(|| "-".to_string(), |v| v.to_string());
    let _ = writeln!(
        out,
        "    sort [{}] default {default_sort} page {} max {}",
        sort.join(", "),
        page(l.page_size),
        page(l.max_page_size)
    );
    if let Some(s) = &l.scope {
        let _ = writeln!(out, "    scope {}", expr(ir, s));
    }
}

pub(crate) fn auth_rule(ir: &Ir, rule: &AuthRule) -> String {
    match rule {
        AuthRule::Public => "public".into(),
        AuthRule::Authenticated => "authenticated".into(),
        AuthRule::Role(r) => format!("role({r})"),
        AuthRule::Owner(p) => format!("owner({})", ir.path_name(p)),
        AuthRule::ApiKey(None) => "api_key".into(),
        AuthRule::ApiKey(Some(r)) => format!("api_key({r})"),
        AuthRule::Predicate(e) => expr(ir, e),
        AuthRule::And(rs) => format!(
            "({})",
            rs.iter()
                .map(|r| auth_rule(ir, r))
                .collect::<Vec<_>>()
                .join(" and ")
        ),
        AuthRule::Or(rs) => format!(
            "({})",
            rs.iter()
                .map(|r| auth_rule(ir, r))
                .collect::<Vec<_>>()
                .join(" or ")
        ),
        AuthRule::Not(r) => format!("not {}", auth_rule(ir, r)),
    }
}

pub(crate) fn expr(ir: &Ir, e: &Expr) -> String {
    match e {
        Expr::Or(es) => format!(
            "({})",
            es.iter()
                .map(|x| expr(ir, x))
                .collect::<Vec<_>>()
                .join(" or ")
        ),
        Expr::And(es) => format!(
            "({})",
            es.iter()
                .map(|x| expr(ir, x))
                .collect::<Vec<_>>()
                .join(" and ")
        ),
        Expr::Not(x) => format!("not {}", expr(ir, x)),
        Expr::Compare { op, lhs, rhs } => {
            format!("{} {} {}", expr(ir, lhs), op.as_str(), expr(ir, rhs))
        }
        Expr::Field(p) => ir.path_name(p),
        Expr::This => "self".into(),
        Expr::Caller(steps) => {
            let mut s = "auth.user".to_string();
            for step in steps {
                s.push('.');
                s.push_str(ir.step_name(*step));
            }
            s
        }
        Expr::Value(v) => value(v),
        Expr::Count(p) => format!("count({})", ir.path_name(p)),
        Expr::Embed { path, resource } => format!(
            "embed({}, {})",
            ir.path_name(path),
            ir.resource(*resource).name
        ),
    }
}

fn value(v: &Value) -> String {
    match v {
        Value::Str(s) => format!("{s:?}"),
        Value::Int(i) => i.to_string(),
        Value::Decimal(d) => d.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        Value::Duration(d) => ms(*d),
        Value::Ident(i) => i.clone(),
    }
}

fn config(c: &ConfigValue) -> String {
    match c {
        ConfigValue::Literal(v) => value(v),
        ConfigValue::Env {
            name,
            default: None,
        } => format!("env({name})"),
        ConfigValue::Env {
            name,
            default: Some(d),
        } => format!("env({name}, {})", value(d)),
    }
}

fn ms(ms: u64) -> String {
    format!("{ms}ms")
}

fn docs(out: &mut String, indent: &str, docs: &[String]) {
    for d in docs {
        let _ = writeln!(out, "{indent}/// {d}");
    }
}

fn allows(out: &mut String, indent: &str, allows: &[Allow]) {
    for a in allows {
        let _ = writeln!(out, "{indent}allow {} reason {:?}", a.code, a.reason);
    }
}
