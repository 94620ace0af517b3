//! Resources and their operations: paths, auth rules, lists, allowlists, links, views.

use std::collections::BTreeMap;

use super::entities::path_ident;
use super::exprs::Place;
use super::id32;
use super::model::*;
use super::resolve::{Decl, Resolver};
use super::settings::Settings;
use crate::diagnostics::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast;

const RESOURCE_KEYS: &[&str] = &[
    "key",
    "singleton",
    "envelope",
    "list_envelope",
    "count_field",
    "view",
    "rate",
];
const RESOURCE_BLOCKS: &[&str] = &[
    "list", "get", "create", "update", "delete", "action", "link", "computed", "view",
];
const COMMON_KEYS: &[&str] = &["auth", "rate", "emits", "status", "envelope", "deny"];

fn op_keys(kind: OpKind) -> Vec<&'static str> {
    let extra: &[&str] = match kind {
        OpKind::List => &[
            "sort",
            "default_sort",
            "page",
            "max_page",
            "scope",
            "view",
            "pluck",
        ],
        OpKind::Get => &["cache", "view"],
        OpKind::Create => &["fields", "view"],
        OpKind::Update => &["fields", "method", "partial", "view"],
        OpKind::Delete => &[],
        OpKind::Action => &["handler", "fields"],
        OpKind::Link => &["through", "caller"],
    };
    COMMON_KEYS.iter().chain(extra).copied().collect()
}

fn op_blocks(kind: OpKind) -> &'static [&'static str] {
    match kind {
        OpKind::List => &["filter"],
        OpKind::Create | OpKind::Update => &["set"],
        _ => &[],
    }
}

impl<'a> Resolver<'a> {
    pub(super) fn resolve_resources(&mut self) {
        let decls = self.decls.resources.clone();
        for d in &decls {
            let resource = self.resource(d);
            self.ir.resources.push(resource);
        }
        for (i, d) in decls.iter().enumerate() {
            self.parents(ResourceId(id32(i)), d.node.path.span);
        }
        self.route_conflicts();
    }

    fn resource(&mut self, d: &Decl<'a, ast::Resource>) -> Resource {
        // `assign_ids` kept only resources whose entity exists.
        let entity = self.names.entities[&d.node.entity.dotted()];
        let path = self.resource_path(&d.node.path);
        let mut r = Resource {
            name: d.node.name.name.clone(),
            docs: d.docs.to_vec(),
            entity,
            path,
            key: 0,
            parents: Vec::new(),
            singleton: false,
            envelope: None,
            list_envelope: None,
            count_field: None,
            computed: Vec::new(),
            views: Vec::new(),
            default_view: None,
            operations: Vec::new(),
            allows: Vec::new(),
            span: d.node.name.span,
        };
        for a in &d.node.attrs {
            if a.name.name == "allow" {
                r.allows.extend(self.allow(a));
            } else {
                self.unknown_attr(a, "a resource", &["allow"]);
            }
        }
        let s = self.settings(&d.node.body, "a resource", RESOURCE_KEYS, RESOURCE_BLOCKS);
        self.resource_settings(&mut r, &s, entity);
        for block in s.blocks().filter(|b| b.kind.name == "computed") {
            self.computed(&mut r, block);
        }
        for block in s.blocks().filter(|b| b.kind.name == "view") {
            self.view(&mut r, block);
        }
        if let Some(e) = s.get("view") {
            r.default_view = self.view_ref(&r, e);
        }
        for (block, docs) in s
            .blocks_with_docs()
            .filter(|(b, _)| !matches!(b.kind.name.as_str(), "computed" | "view"))
        {
            if let Some(op) = self.operation(&r, block, docs) {
                if let Some(first) = r.operations.iter().find(|o| o.name == op.name) {
                    let first = first.span;
                    let ident = ast::Ident {
                        name: op.name.clone(),
                        span: op.span,
                    };
                    self.duplicate("operation", &ident, first);
                } else {
                    r.operations.push(op);
                }
            }
        }
        // A resource-level `rate` applies to every operation that names none.
        if let Some(rate) = s.get("rate").and_then(|e| self.rate_ref(e)) {
            for op in r.operations.iter_mut().filter(|op| op.rate.is_none()) {
                op.rate = Some(rate);
            }
        }
        r
    }

    fn resource_path(&mut self, lit: &ast::StringLit) -> String {
        let v = &lit.value;
        let valid = v.starts_with('/')
            && (v.len() == 1 || !v.ends_with('/'))
            && !v.contains("//")
            && !v.contains(' ');
        if !valid {
            self.error(
                Diagnostic::error(
                    Code::BAD_ROUTE,
                    lit.span,
                    "a resource path starts with `/` and has no trailing `/`",
                )
                .with_label("invalid path")
                .with_help("write `at \"/orders\"`"),
            );
        }
        v.clone()
    }

    fn resource_settings(&mut self, r: &mut Resource, s: &Settings<'a>, entity: EntityId) {
        let e = self.ir.entities[entity.index()].clone();
        r.key = e.primary_key.first().copied().unwrap_or(0);
        if let Some(expr) = s.get("key")
            && let Some(ident) = path_ident(expr)
            && let Some(idx) = self.field_index(&e, ident)
        {
            let f = &e.fields[idx];
            if !(f.flags.unique
                || f.flags.primary
                || e.primary_key == [idx]
                || e.indexes.iter().any(|i| i.unique && i.columns == [idx]))
            {
                self.error(
                    Diagnostic::error(
                        Code::BAD_VALUE,
                        expr.span,
                        format!("the key `{}` is not unique", f.name),
                    )
                    .with_label("records must be addressable by one value")
                    .with_help(
                        "mark the field `@unique`, or address records by the primary key"
                            .to_string(),
                    ),
                );
            }
            r.key = idx;
        }
        if let Some(expr) = s.get("singleton") {
            let is_caller =
                matches!(&expr.kind, ast::ExprKind::Path(p) if p.dotted() == "auth.user");
            let is_identity = self.ir.auth.as_ref().is_some_and(|a| a.identity == entity);
            if is_caller && is_identity {
                r.singleton = true;
            } else {
                self.error(
                    Diagnostic::error(Code::BAD_VALUE, expr.span, "`singleton` binds a resource of the identity entity to the caller")
                        .with_label(if is_caller { "not the identity entity" } else { "expected `auth.user`" })
                        .with_help("write `singleton = auth.user` in a resource of the `auth` block's identity entity"),
                );
            }
        }
        r.envelope = s.get("envelope").and_then(|e| self.string_value(e));
        r.list_envelope = s.get("list_envelope").and_then(|e| self.string_value(e));
        r.count_field = s.get("count_field").and_then(|e| self.string_value(e));
    }

    fn computed(&mut self, r: &mut Resource, block: &'a ast::Block) {
        self.reject_labels(block);
        for entry in &block.body.entries {
            match &entry.kind {
                ast::EntryKind::Setting { key, value } => {
                    if let Some(first) = r.computed.iter().find(|c| c.name == key.name) {
                        let first = first.span;
                        self.duplicate("computed field", key, first);
                        continue;
                    }
                    if self.ir.entities[r.entity.index()]
                        .field(&key.name)
                        .is_some()
                        && !matches!(value.kind, ast::ExprKind::Call { .. })
                    {
                        self.error(
                            Diagnostic::error(
                                Code::DUPLICATE,
                                key.span,
                                format!("computed field `{}` shadows a stored field", key.name),
                            )
                            .with_label("already a field")
                            .with_help("give the computed field another name"),
                        );
                        continue;
                    }
                    if let Some(expr) = self.expr(r.entity, value, Place::Request) {
                        r.computed.push(Computed {
                            name: key.name.clone(),
                            expr,
                            span: key.span,
                        });
                    }
                }
                ast::EntryKind::Block(b) => self.error(
                    Diagnostic::error(
                        Code::UNKNOWN_SETTING,
                        b.kind.span,
                        "`computed` holds `name = expression` entries",
                    )
                    .with_label("unexpected block")
                    .with_help("write `likes_count = count(likes)`"),
                ),
            }
        }
    }

    fn view(&mut self, r: &mut Resource, block: &'a ast::Block) {
        let Some(ast::Label::Ident(name)) = block.labels.first() else {
            self.error(
                Diagnostic::error(Code::MISSING, block.kind.span, "a view needs a name")
                    .with_label("unnamed view")
                    .with_help("write `view summary { fields = [...] }`"),
            );
            return;
        };
        for extra in block.labels.iter().skip(1) {
            self.error(
                Diagnostic::error(Code::BAD_VALUE, extra.span(), "a view takes one name")
                    .with_label("unexpected label")
                    .with_help("write `view summary { fields = [...] }`"),
            );
        }
        self.reject_attrs(&block.attrs, "a view");
        if r.views.iter().any(|v| v.name == name.name) {
            let first = r
                .views
                .iter()
                .find(|v| v.name == name.name)
                .map_or(name.span, |v| v.span);
            self.duplicate("view", name, first);
            return;
        }
        let s = self.settings(&block.body, "a view", &["fields", "computed"], &[]);
        let mut view = View {
            name: name.name.clone(),
            fields: Vec::new(),
            collections: Vec::new(),
            computed: Vec::new(),
            span: name.span,
        };
        let entity = self.ir.entities[r.entity.index()].clone();
        for ident in s
            .get("fields")
            .and_then(|e| self.ident_list(e))
            .unwrap_or_default()
        {
            if let Some(c) = self.collection_named(r.entity, &ident.name) {
                view.collections.push(c);
            } else if let Some(idx) = self.field_index(&entity, ident) {
                view.fields.push(idx);
            }
        }
        for ident in s
            .get("computed")
            .and_then(|e| self.ident_list(e))
            .unwrap_or_default()
        {
            match r.computed.iter().position(|c| c.name == ident.name) {
                Some(i) => view.computed.push(i),
                None => {
                    let help = Resolver::suggest(&ident.name, r.computed.iter().map(|c| &c.name))
                        .unwrap_or_else(|| {
                            "declare it in the resource's `computed { }` block".into()
                        });
                    self.error(
                        Diagnostic::error(
                            Code::UNKNOWN_NAME,
                            ident.span,
                            format!("unknown computed field `{}`", ident.name),
                        )
                        .with_label("not declared")
                        .with_help(help),
                    );
                }
            }
        }
        r.views.push(view);
    }

    fn view_ref(&mut self, r: &Resource, expr: &ast::Expr) -> Option<usize> {
        let ident = path_ident(expr)?;
        if let Some(i) = r.views.iter().position(|v| v.name == ident.name) {
            return Some(i);
        }
        let help =
            Resolver::suggest(&ident.name, r.views.iter().map(|v| &v.name)).unwrap_or_else(|| {
                "declare it with `view name { fields = [...] }` in the resource".into()
            });
        self.error(
            Diagnostic::error(
                Code::UNKNOWN_NAME,
                ident.span,
                format!("unknown view `{}`", ident.name),
            )
            .with_label("not declared")
            .with_help(help),
        );
        None
    }

    fn operation(
        &mut self,
        r: &Resource,
        block: &'a ast::Block,
        docs: &[String],
    ) -> Option<Operation> {
        let kind = match block.kind.name.as_str() {
            "list" => OpKind::List,
            "get" => OpKind::Get,
            "create" => OpKind::Create,
            "update" => OpKind::Update,
            "delete" => OpKind::Delete,
            "action" => OpKind::Action,
            _ => OpKind::Link,
        };
        let (name, method, extra_path) = self.op_header(r, kind, block)?;
        let keys = op_keys(kind);
        let s = self.settings(
            &block.body,
            &format!("a `{}` operation", kind.as_str()),
            &keys,
            op_blocks(kind),
        );
        let key_param = format!(
            "/{{{}}}",
            self.ir.entities[r.entity.index()]
                .fields
                .get(r.key)
                .map_or("id", |f| f.name.as_str())
        );
        let path = match kind {
            OpKind::List | OpKind::Create => format!("{}{}", r.path, extra_path),
            OpKind::Get | OpKind::Update | OpKind::Delete if r.singleton => r.path.clone(),
            OpKind::Get | OpKind::Update | OpKind::Delete => format!("{}{key_param}", r.path),
            OpKind::Action | OpKind::Link => format!("{}{}", r.path, extra_path),
        };
        let mut op = Operation {
            kind,
            name,
            docs: docs.to_vec(),
            method,
            path,
            auth: None,
            deny_status: 404,
            rate: None,
            cache: None,
            emits: Vec::new(),
            status: default_status(kind),
            fields: None,
            collections: Vec::new(),
            set: Vec::new(),
            partial: method == Method::Patch,
            list: None,
            handler: None,
            link: None,
            view: None,
            pluck: None,
            envelope: None,
            allows: Vec::new(),
            span: block.kind.span,
        };
        for a in &block.attrs {
            if a.name.name == "allow" {
                op.allows.extend(self.allow(a));
            } else {
                self.unknown_attr(a, "an operation", &["allow"]);
            }
        }
        self.op_common(r, &mut op, &s);
        self.op_specific(r, &mut op, &s, block.kind.span);
        self.check_path_params(r, &op);
        Some(op)
    }

    /// Name, method and extra path from the labels: `list feed "/feed"`, `action checkout POST "/{id}/checkout"`.
    fn op_header(
        &mut self,
        r: &Resource,
        kind: OpKind,
        block: &ast::Block,
    ) -> Option<(String, Method, String)> {
        let mut name = None;
        let mut method = None;
        let mut path = None;
        // A label already reported as wrong explains an incomplete header too.
        let mut reported = false;
        for label in &block.labels {
            match label {
                ast::Label::Str(s)
                    if matches!(kind, OpKind::List | OpKind::Action | OpKind::Link) =>
                {
                    if path.is_some()
                        || !s.value.starts_with('/')
                        || s.value.ends_with('/')
                        || s.value.contains(' ')
                    {
                        self.error(
                            Diagnostic::error(
                                Code::BAD_ROUTE,
                                s.span,
                                "an operation path starts with `/` and has no trailing `/`",
                            )
                            .with_label("invalid path")
                            .with_help("write `\"/{id}/checkout\"`"),
                        );
                        reported = true;
                        continue;
                    }
                    path = Some(s.value.clone());
                }
                ast::Label::Ident(i)
                    if kind == OpKind::Action && name.is_some() && method.is_none() =>
                {
                    method = match i.name.as_str() {
                        "GET" => Some(Method::Get),
                        "POST" => Some(Method::Post),
                        "PUT" => Some(Method::Put),
                        "PATCH" => Some(Method::Patch),
                        "DELETE" => Some(Method::Delete),
                        _ => {
                            self.error(
                                Diagnostic::error(
                                    Code::BAD_VALUE,
                                    i.span,
                                    format!("unknown HTTP method `{}`", i.name),
                                )
                                .with_label("expected GET, POST, PUT, PATCH or DELETE")
                                .with_help("write `action checkout POST \"/{id}/checkout\"`"),
                            );
                            reported = true;
                            None
                        }
                    };
                }
                ast::Label::Ident(i)
                    if name.is_none()
                        && matches!(kind, OpKind::List | OpKind::Action | OpKind::Link) =>
                {
                    name = Some(i.name.clone())
                }
                _ => self.error(
                    Diagnostic::error(
                        Code::BAD_VALUE,
                        label.span(),
                        format!("unexpected label on `{}`", kind.as_str()),
                    )
                    .with_label("not expected here")
                    .with_help(op_syntax(kind)),
                ),
            }
        }
        if reported {
            return None;
        }
        let needs_name = matches!(kind, OpKind::Action | OpKind::Link);
        if needs_name
            && (name.is_none() || path.is_none() || kind == OpKind::Action && method.is_none())
        {
            self.error(
                Diagnostic::error(
                    Code::MISSING,
                    block.kind.span,
                    format!(
                        "`{}` needs a name{} and a path",
                        kind.as_str(),
                        if kind == OpKind::Action {
                            ", a method"
                        } else {
                            ""
                        }
                    ),
                )
                .with_label("incomplete header")
                .with_help(op_syntax(kind)),
            );
            return None;
        }
        if kind == OpKind::List && name.is_some() != path.is_some() {
            self.error(
                Diagnostic::error(
                    Code::MISSING,
                    block.kind.span,
                    "a named list needs its own path",
                )
                .with_label("incomplete header")
                .with_help("write `list feed \"/feed\" { ... }`"),
            );
            return None;
        }
        let _ = r;
        let method = method.unwrap_or(match kind {
            OpKind::List | OpKind::Get => Method::Get,
            OpKind::Create | OpKind::Action | OpKind::Link => Method::Post,
            OpKind::Update => Method::Patch,
            OpKind::Delete => Method::Delete,
        });
        Some((
            name.unwrap_or_else(|| kind.as_str().to_string()),
            method,
            path.unwrap_or_default(),
        ))
    }

    fn op_common(&mut self, r: &Resource, op: &mut Operation, s: &Settings<'a>) {
        if let Some(e) = s.get("auth") {
            op.auth = self
                .auth_rule(r.entity, e, &mut Vec::new())
                .map(|rule| Spanned {
                    value: rule,
                    span: e.span,
                });
            let needs_identity = op
                .auth
                .as_ref()
                .is_some_and(|a| a.value != AuthRule::Public);
            if needs_identity && self.ir.auth.is_none() {
                self.error(
                    Diagnostic::error(Code::MISSING, e.span, "this rule needs signed-in callers, but the spec has no `auth` block")
                        .with_label("nobody can sign in")
                        .with_help("declare `auth { identity = User  login = email  password = password  secret = env(\"JWT_SECRET\") }`, or make the operation `public`"),
                );
            }
        }
        op.rate = s.get("rate").and_then(|e| self.rate_ref(e));
        if let Some(e) = s.get("emits") {
            for ident in self.ident_list(e).unwrap_or_default() {
                match self.names.events.get(&ident.name) {
                    Some(id) => op.emits.push(*id),
                    None => {
                        let help = Resolver::suggest(&ident.name, self.names.events.keys())
                            .unwrap_or_else(|| {
                                "declare it with `event Name { entity = Entity }`".into()
                            });
                        self.error(
                            Diagnostic::error(
                                Code::UNKNOWN_NAME,
                                ident.span,
                                format!("unknown event `{}`", ident.name),
                            )
                            .with_label("not declared")
                            .with_help(help),
                        );
                    }
                }
            }
        }
        if let Some(e) = s.get("status")
            && let Some(code) = self.int_value(e, 200, 299)
        {
            op.status = u16::try_from(code).unwrap_or(200);
        }
        if let Some(e) = s.get("deny")
            && let Some(code) = self.int_value(e, 403, 404)
        {
            op.deny_status = u16::try_from(code).unwrap_or(404);
        }
        op.envelope = s.get("envelope").and_then(|e| self.string_value(e));
        if let Some(e) = s.get("view") {
            op.view = self.view_ref(r, e);
        }
    }

    fn op_specific(&mut self, r: &Resource, op: &mut Operation, s: &Settings<'a>, span: Span) {
        match op.kind {
            OpKind::List => {
                op.list = Some(self.list_spec(r, s));
                if let Some(ident) = s.get("pluck").and_then(path_ident) {
                    let entity = self.ir.entities[r.entity.index()].clone();
                    op.pluck = self.field_index(&entity, ident);
                }
            }
            OpKind::Get => {
                if let Some(e) = s.get("cache") {
                    op.cache = self.cache_ref(e);
                }
            }
            OpKind::Create | OpKind::Update | OpKind::Action => {
                if let Some(e) = s.get("fields") {
                    op.fields = Some(self.allowlist(r, op, e));
                }
                if let Some(set) = s.block("set") {
                    op.set = self.set_values(r, set);
                }
                if op.kind == OpKind::Update {
                    if let Some(e) = s.get("method") {
                        op.method = if self.keyword_value(e, &["PUT", "PATCH"]) == Some("PUT") {
                            Method::Put
                        } else {
                            Method::Patch
                        };
                        op.partial = op.method == Method::Patch;
                    }
                    if let Some(e) = s.get("partial") {
                        op.partial = self.bool_value(e).unwrap_or(op.partial);
                    }
                }
                if op.kind == OpKind::Action {
                    match s.get("handler") {
                        Some(e) => {
                            op.handler = path_ident(e).map(|i| i.name.clone()).or_else(|| {
                                self.error(
                                    Diagnostic::error(
                                        Code::BAD_VALUE,
                                        e.span,
                                        "a handler is a Rust function name",
                                    )
                                    .with_label("expected a name")
                                    .with_help("write `handler = checkout`"),
                                );
                                None
                            })
                        }
                        None => self.missing_key(
                            s,
                            "handler",
                            span,
                            "the action's `handler`",
                            "handler = function_name",
                        ),
                    }
                }
            }
            OpKind::Delete => {}
            OpKind::Link => op.link = self.link_spec(r, s, span),
        }
    }

    fn list_spec(&mut self, r: &Resource, s: &Settings<'a>) -> ListSpec {
        let entity = self.ir.entities[r.entity.index()].clone();
        let mut spec = ListSpec {
            filters: Vec::new(),
            sort: Vec::new(),
            default_sort: None,
            page_size: None,
            max_page_size: None,
            scope: None,
        };
        if let Some(block) = s.block("filter") {
            self.reject_labels(block);
            spec.filters = self.filters(r.entity, block);
        }
        for ident in s
            .get("sort")
            .and_then(|e| self.ident_list(e))
            .unwrap_or_default()
        {
            if let Some(idx) = self.field_index(&entity, ident) {
                spec.sort.push(Spanned {
                    value: idx,
                    span: ident.span,
                });
            }
        }
        if let Some(e) = s.get("default_sort") {
            spec.default_sort = self.sort_order(&entity, e).map(|value| Spanned {
                value,
                span: e.span,
            });
        }
        spec.page_size = s.get("page").and_then(|e| self.u32_value(e, 1, 10_000));
        spec.max_page_size = s.get("max_page").and_then(|e| self.u32_value(e, 1, 10_000));
        if let (Some(p), Some(m), Some(e)) = (spec.page_size, spec.max_page_size, s.get("page"))
            && p > m
        {
            self.error(
                Diagnostic::error(
                    Code::BAD_VALUE,
                    e.span,
                    format!("the default page size {p} exceeds `max_page` {m}"),
                )
                .with_label("larger than the maximum")
                .with_help("make `page` at most `max_page`"),
            );
        }
        spec.scope = s
            .get("scope")
            .and_then(|e| self.expr(r.entity, e, Place::Request));
        spec
    }

    fn filters(&mut self, entity: EntityId, block: &'a ast::Block) -> Vec<Filter> {
        let mut out: Vec<Filter> = Vec::new();
        for entry in &block.body.entries {
            let ast::EntryKind::Setting { key, value } = &entry.kind else {
                self.error(
                    Diagnostic::error(
                        Code::UNKNOWN_SETTING,
                        entry.span,
                        "`filter` holds `param = field` entries",
                    )
                    .with_label("unexpected block")
                    .with_help("write `min_price = gte(price)`"),
                );
                continue;
            };
            if let Some(first) = out.iter().find(|f| f.param == key.name) {
                let first = first.span;
                self.duplicate("filter", key, first);
                continue;
            }
            let (op, target) = match &value.kind {
                ast::ExprKind::Path(p) => (FilterOp::Eq, Some(p)),
                ast::ExprKind::Call { name, args } => {
                    let op = match name.name.as_str() {
                        "eq" => Some(FilterOp::Eq),
                        "gte" => Some(FilterOp::Gte),
                        "lte" => Some(FilterOp::Lte),
                        "contains" => Some(FilterOp::Contains),
                        _ => None,
                    };
                    let path = match args.as_slice() {
                        [a] => match &a.value.kind {
                            ast::ExprKind::Path(p) => Some(p),
                            _ => None,
                        },
                        _ => None,
                    };
                    match (op, path) {
                        (Some(op), Some(p)) => (op, Some(p)),
                        _ => (FilterOp::Eq, None),
                    }
                }
                _ => (FilterOp::Eq, None),
            };
            let Some(target) = target else {
                self.error(
                    Diagnostic::error(
                        Code::BAD_VALUE,
                        value.span,
                        "a filter names a field, optionally through relations",
                    )
                    .with_label("expected a field path or `gte(...)`, `lte(...)`, `contains(...)`")
                    .with_help("write `author = author.username` or `min_price = gte(price)`"),
                );
                continue;
            };
            if let Some(path) = self.field_path(entity, &target.segments) {
                let ends_in_value = matches!(path.steps.last(), Some(Step::Field { .. }));
                if ends_in_value {
                    out.push(Filter {
                        param: key.name.clone(),
                        path,
                        op,
                        span: key.span,
                    });
                } else {
                    self.error(
                        Diagnostic::error(
                            Code::BAD_VALUE,
                            target.span,
                            "a filter must end at a field",
                        )
                        .with_label("ends at a collection")
                        .with_help(format!(
                            "name the field to match, e.g. `{}.name`",
                            target.dotted()
                        )),
                    );
                }
            }
        }
        out
    }

    fn sort_order(&mut self, entity: &Entity, e: &ast::Expr) -> Option<(usize, SortDir)> {
        let (dir, ident) = match &e.kind {
            ast::ExprKind::Call { name, args }
                if matches!(name.name.as_str(), "asc" | "desc") && args.len() == 1 =>
            {
                let dir = if name.name == "asc" {
                    SortDir::Asc
                } else {
                    SortDir::Desc
                };
                (dir, path_ident(&args[0].value))
            }
            _ => (SortDir::Asc, path_ident(e)),
        };
        let Some(ident) = ident else {
            self.error(
                Diagnostic::error(Code::BAD_VALUE, e.span, "expected a sort order")
                    .with_label("not a field or `asc(...)`/`desc(...)`")
                    .with_help("write `default_sort = desc(created_at)`"),
            );
            return None;
        };
        self.field_index(entity, ident).map(|i| (i, dir))
    }

    fn cache_ref(&mut self, e: &ast::Expr) -> Option<CacheId> {
        let ident = path_ident(e);
        if let Some(id) = ident.and_then(|i| self.names.caches.get(&i.name)) {
            return Some(*id);
        }
        let name = ident.map_or_else(String::new, |i| i.name.clone());
        let help = Resolver::suggest(&name, self.names.caches.keys()).unwrap_or_else(|| {
            "declare it with `cache name { ttl = 30s  invalidated_by = [...] }`".into()
        });
        self.error(
            Diagnostic::error(
                Code::UNKNOWN_NAME,
                e.span,
                format!("unknown cache policy `{name}`"),
            )
            .with_label("not declared")
            .with_help(help),
        );
        None
    }

    fn allowlist(
        &mut self,
        r: &Resource,
        op: &mut Operation,
        e: &'a ast::Expr,
    ) -> Spanned<Vec<usize>> {
        let entity = self.ir.entities[r.entity.index()].clone();
        let mut fields = Vec::new();
        for ident in self.ident_list(e).unwrap_or_default() {
            if let Some(c) = self.collection_named(r.entity, &ident.name) {
                if self.ir.collections[c.index()].write_by.is_none() {
                    self.error(
                        Diagnostic::error(
                            Code::BAD_VALUE,
                            ident.span,
                            format!("collection `{}` is not writable", ident.name),
                        )
                        .with_label("no `@write_by`")
                        .with_help(format!(
                            "add `@write_by(name)` to `{}` to accept a list of unique values",
                            ident.name
                        )),
                    );
                }
                op.collections.push(c);
            } else if let Some(idx) = self.field_index(&entity, ident) {
                fields.push(idx);
            }
        }
        Spanned {
            value: fields,
            span: e.span,
        }
    }

    fn set_values(&mut self, r: &Resource, block: &'a ast::Block) -> Vec<(usize, Expr)> {
        self.reject_labels(block);
        let entity = self.ir.entities[r.entity.index()].clone();
        let mut out = Vec::new();
        for entry in &block.body.entries {
            let ast::EntryKind::Setting { key, value } = &entry.kind else {
                self.error(
                    Diagnostic::error(
                        Code::UNKNOWN_SETTING,
                        entry.span,
                        "`set` holds `field = value` entries",
                    )
                    .with_label("unexpected block")
                    .with_help("write `customer = auth.user`"),
                );
                continue;
            };
            let Some(idx) = self.field_index(&entity, key) else {
                continue;
            };
            if let Some(expr) = self.expr(r.entity, value, Place::Request) {
                out.push((idx, expr));
            }
        }
        out
    }

    fn link_spec(&mut self, r: &Resource, s: &Settings<'a>, span: Span) -> Option<LinkSpec> {
        let through = match s.get("through") {
            Some(e) => match &e.kind {
                ast::ExprKind::Path(p) => self.lookup_entity(p)?,
                _ => return None,
            },
            None => {
                self.missing_key(
                    s,
                    "through",
                    span,
                    "the link's `through` entity",
                    "through = Like",
                );
                return None;
            }
        };
        let identity = self.ir.auth.as_ref().map(|a| a.identity);
        let Some(identity) = identity else {
            self.missing(
                span,
                "an `auth` block (links are made for the caller)",
                "auth { identity = User ... }",
            );
            return None;
        };
        let join = self.ir.entities[through.index()].clone();
        let caller_name = s.get("caller").and_then(path_ident);
        let to_caller: Vec<RelationId> = self
            .ir
            .relations_from(through)
            .filter(|(_, r)| r.to == identity)
            .filter(|(_, rel)| caller_name.is_none_or(|n| join.fields[rel.field].name == n.name))
            .map(|(id, _)| id)
            .collect();
        let [caller] = to_caller.as_slice() else {
            self.error(
                Diagnostic::error(
                    Code::AMBIGUOUS_RELATION,
                    span,
                    format!(
                        "cannot tell which reference of `{}` is the caller",
                        join.name
                    ),
                )
                .with_label("ambiguous or missing")
                .with_help("name it: `caller = follower`"),
            );
            return None;
        };
        let target: Vec<RelationId> = self
            .ir
            .relations_from(through)
            .filter(|(id, rel)| rel.to == r.entity && id != caller)
            .map(|(id, _)| id)
            .collect();
        let [target] = target.as_slice() else {
            self.error(Diagnostic::error(Code::AMBIGUOUS_RELATION, span, format!("`{}` has no single reference to `{}` besides the caller", join.name, self.ir.entities[r.entity.index()].name)).with_label("no target side").with_help("the join entity needs one reference to the caller and one to the addressed record"));
            return None;
        };
        Some(LinkSpec {
            through,
            caller: *caller,
            target: *target,
        })
    }

    /// Every `{param}` in an operation path is the key field or a parent reference.
    fn check_path_params(&mut self, r: &Resource, op: &Operation) {
        let entity = &self.ir.entities[r.entity.index()];
        let key = entity
            .fields
            .get(r.key)
            .map(|f| f.name.clone())
            .unwrap_or_default();
        let resource_params = params(&r.path);
        for param in params(&op.path) {
            if param == key || resource_params.contains(&param) {
                continue;
            }
            let message = format!("path parameter `{{{param}}}` is not the resource key `{key}`");
            self.error(
                Diagnostic::error(Code::BAD_ROUTE, op.span, message)
                    .with_label("unknown parameter")
                    .with_help(format!("write `{{{key}}}` to address a record")),
            );
        }
    }

    fn parents(&mut self, id: ResourceId, span: Span) {
        let r = self.ir.resources[id.index()].clone();
        let entity = self.ir.entities[r.entity.index()].clone();
        let mut parents = Vec::new();
        for param in params(&r.path) {
            let Some((idx, field)) = entity.field(&param) else {
                self.error(Diagnostic::error(Code::BAD_ROUTE, span, format!("path parameter `{{{param}}}` is not a field of `{}`", entity.name)).with_label("unknown parameter").with_help("nested paths name the parent reference: `\"/posts/{post}/comments\"` where `post: ref Post`"));
                continue;
            };
            let FieldType::Ref(target) = field.ty else {
                self.error(
                    Diagnostic::error(
                        Code::BAD_ROUTE,
                        span,
                        format!("path parameter `{{{param}}}` must be a reference"),
                    )
                    .with_label("not a `ref` field")
                    .with_help("only references to a parent record can appear in a resource path"),
                );
                continue;
            };
            let prefix = r.path.split(&format!("/{{{param}}}")).next().unwrap_or("");
            let parent = self
                .ir
                .resources
                .iter()
                .position(|p| p.entity == target && p.path == prefix);
            match parent {
                Some(p) => parents.push((idx, ResourceId(id32(p)))),
                None => self.error(
                    Diagnostic::error(Code::BAD_ROUTE, span, format!("no resource of `{}` is served at `{prefix}`", self.ir.entities[target.index()].name))
                        .with_label("parent resource not found")
                        .with_help(format!("declare `resource name: {} at \"{prefix}\"`, whose key addresses the parent", self.ir.entities[target.index()].name)),
                ),
            }
        }
        self.ir.resources[id.index()].parents = parents;
    }

    fn route_conflicts(&mut self) {
        let mut routes: BTreeMap<(Method, String), (String, Span)> = BTreeMap::new();
        if let Some(auth) = &self.ir.auth {
            for (name, path) in &auth.paths {
                let method = if name == "me" {
                    Method::Get
                } else {
                    Method::Post
                };
                routes.insert((method, shape(path)), (format!("auth {name}"), auth.span));
            }
        }
        let mut clashes = Vec::new();
        for r in &self.ir.resources {
            for op in &r.operations {
                for m in op.methods() {
                    let key = (m, shape(&op.path));
                    let label = format!("{}.{}", r.name, op.name);
                    match routes.get(&key) {
                        Some((first, first_span)) => clashes.push((
                            m,
                            op.path.clone(),
                            label,
                            op.span,
                            first.clone(),
                            *first_span,
                        )),
                        None => {
                            routes.insert(key, (label, op.span));
                        }
                    }
                }
            }
        }
        for (m, path, label, span, first, first_span) in clashes {
            self.error(
                Diagnostic::error(
                    Code::BAD_ROUTE,
                    span,
                    format!("`{label}` and `{first}` both answer {} {path}", m.as_str()),
                )
                .with_label("conflicting route")
                .with_secondary(first_span, "first route here")
                .with_help("give one of them another path or method"),
            );
        }
    }
}

/// `/posts/{slug}/x` → `/posts/{}/x`: paths that differ only in parameter names clash.
fn shape(path: &str) -> String {
    path.split('/')
        .map(|seg| if seg.starts_with('{') { "{}" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

fn params(path: &str) -> Vec<String> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(str::to_string)
        .collect()
}

fn default_status(kind: OpKind) -> u16 {
    match kind {
        OpKind::Create => 201,
        OpKind::Delete => 204,
        _ => 200,
    }
}

fn op_syntax(kind: OpKind) -> &'static str {
    match kind {
        OpKind::List => {
            "write `list { ... }` or a named list with its own path: `list feed \"/feed\" { ... }`"
        }
        OpKind::Action => {
            "write `action checkout POST \"/{id}/checkout\" { handler = checkout ... }`"
        }
        OpKind::Link => "write `link favorite \"/{slug}/favorite\" { through = Like ... }`",
        _ => "this operation takes no labels",
    }
}
