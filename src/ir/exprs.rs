//! Expressions: predicates over an entity's fields, values, and authorization rules.

use super::model::*;
use super::resolve::Resolver;
use crate::diagnostics::{Code, Diagnostic};
use crate::syntax::ast;

/// Where an expression appears, which decides what it may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Place {
    /// Checks and index predicates: fields and literals only.
    Schema,
    /// Scopes, `set` values and computed fields: may use the caller and aggregates.
    Request,
}

impl Resolver<'_> {
    /// A schema predicate over `entity`'s columns.
    pub(super) fn predicate(&mut self, entity: EntityId, expr: &ast::Expr) -> Option<Expr> {
        self.expr(entity, expr, Place::Schema)
    }

    pub(super) fn expr(
        &mut self,
        entity: EntityId,
        expr: &ast::Expr,
        place: Place,
    ) -> Option<Expr> {
        match &expr.kind {
            ast::ExprKind::Or(parts) => Some(Expr::Or(self.exprs(entity, parts, place)?)),
            ast::ExprKind::And(parts) => Some(Expr::And(self.exprs(entity, parts, place)?)),
            ast::ExprKind::Not(inner) => {
                Some(Expr::Not(Box::new(self.expr(entity, inner, place)?)))
            }
            ast::ExprKind::Paren(inner) => self.expr(entity, inner, place),
            ast::ExprKind::Compare { op, lhs, rhs } => {
                let lhs = self.expr(entity, lhs, place)?;
                let rhs = self.expr(entity, rhs, place)?;
                if *op != CmpOp::In {
                    self.check_comparable(&lhs, &rhs, expr);
                }
                Some(Expr::Compare {
                    op: *op,
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                })
            }
            ast::ExprKind::Literal(_) => self.literal_value(expr).map(Expr::Value),
            ast::ExprKind::Path(path) => self.path_expr(entity, path, place),
            ast::ExprKind::Call { name, args } if place == Place::Request => {
                self.call_expr(entity, name, args)
            }
            _ => {
                self.error(
                    Diagnostic::error(Code::BAD_EXPRESSION, expr.span, "this expression has no meaning here")
                        .with_label("not allowed in this position")
                        .with_help(match place {
                            Place::Schema => "checks and index predicates compare fields with literals: `deleted_at == null`, `starts_at < ends_at`",
                            Place::Request => "use fields, `auth.user`, literals, comparisons, `and`/`or`/`not`, `count(collection)` and `embed(field, resource)`",
                        }),
                );
                None
            }
        }
    }

    fn exprs(&mut self, entity: EntityId, parts: &[ast::Expr], place: Place) -> Option<Vec<Expr>> {
        let resolved: Vec<Option<Expr>> =
            parts.iter().map(|p| self.expr(entity, p, place)).collect();
        resolved.into_iter().collect()
    }

    fn path_expr(&mut self, entity: EntityId, path: &ast::Path, place: Place) -> Option<Expr> {
        let first = path.segments.first()?;
        if first.name == "auth" {
            return self.caller_path(path, place);
        }
        if let Some(single) = path.single() {
            let is_field = self.ir.entities[entity.index()]
                .field(&single.name)
                .is_some()
                || self.collection_named(entity, &single.name).is_some();
            let is_variant = self
                .ir
                .enums
                .iter()
                .any(|e| e.variants.contains(&single.name));
            if !is_field && is_variant {
                return Some(Expr::Value(Value::Ident(single.name.clone())));
            }
        }
        let resolved = self.field_path(entity, &path.segments)?;
        let own_column = matches!(resolved.steps.as_slice(), [Step::Field { .. }]);
        if place == Place::Schema && !own_column {
            self.error(
                Diagnostic::error(
                    Code::BAD_EXPRESSION,
                    path.span,
                    format!("`{}` is not a column of this table", path.dotted()),
                )
                .with_label("goes through a relation")
                .with_help("checks and index predicates can only use the entity's own fields"),
            );
            return None;
        }
        Some(Expr::Field(resolved))
    }

    /// `auth.user` and paths from it such as `auth.user.following`.
    fn caller_path(&mut self, path: &ast::Path, place: Place) -> Option<Expr> {
        let user = path.segments.get(1).filter(|s| s.name == "user");
        if user.is_none() || place == Place::Schema {
            let help = if place == Place::Schema {
                "the caller is only known in operations, not in schema checks"
            } else {
                "write `auth.user`"
            };
            self.error(
                Diagnostic::error(
                    Code::BAD_EXPRESSION,
                    path.span,
                    format!("`{}` is not available here", path.dotted()),
                )
                .with_label("unknown caller property")
                .with_help(help),
            );
            return None;
        }
        let rest = &path.segments[2..];
        let Some(identity) = self.ir.auth.as_ref().map(|a| a.identity) else {
            self.error(
                Diagnostic::error(
                    Code::MISSING,
                    path.span,
                    "`auth.user` needs an `auth` block",
                )
                .with_label("no identity entity")
                .with_help("declare `auth { identity = User ... }`"),
            );
            return None;
        };
        if rest.is_empty() {
            return Some(Expr::Caller(Vec::new()));
        }
        self.field_path(identity, rest)
            .map(|p| Expr::Caller(p.steps))
    }

    fn call_expr(
        &mut self,
        entity: EntityId,
        name: &ast::Ident,
        args: &[ast::Arg],
    ) -> Option<Expr> {
        match (name.name.as_str(), args) {
            ("count", [arg]) => match &arg.value.kind {
                ast::ExprKind::Path(p) => {
                    let path = self.field_path(entity, &p.segments)?;
                    if !matches!(path.steps.last(), Some(Step::Collection(_))) {
                        return self.bad_call(name, "`count` counts a collection: `count(likes)` where `likes: many Like`");
                    }
                    Some(Expr::Count(path))
                }
                _ => self.bad_call(name, "write `count(collection)`"),
            },
            ("embed", [field, resource]) => {
                let path = match &field.value.kind {
                    ast::ExprKind::Path(p) => self.field_path(entity, &p.segments),
                    _ => None,
                };
                let resource_name = super::entities::path_ident(&resource.value)?;
                let Some(resource) = self.names.resources.get(&resource_name.name).copied() else {
                    let help = Resolver::suggest(&resource_name.name, self.names.resources.keys()).unwrap_or_else(|| "name a declared resource".into());
                    self.error(
                        Diagnostic::error(Code::UNKNOWN_NAME, resource_name.span, format!("unknown resource `{}`", resource_name.name))
                            .with_label("not declared")
                            .with_help(help),
                    );
                    return None;
                };
                Some(Expr::Embed { path: path?, resource })
            }
            _ => self.bad_call(name, "computed values use `count(collection)`, `embed(field, resource)` or `auth.user in collection`"),
        }
    }

    fn bad_call(&mut self, name: &ast::Ident, help: &str) -> Option<Expr> {
        self.error(
            Diagnostic::error(
                Code::BAD_EXPRESSION,
                name.span,
                format!("`{}(...)` is not a function here", name.name),
            )
            .with_label("unknown function or wrong arguments")
            .with_help(help.to_string()),
        );
        None
    }

    pub(super) fn collection_named(&self, entity: EntityId, name: &str) -> Option<CollectionId> {
        self.ir.entities[entity.index()]
            .collections
            .iter()
            .copied()
            .find(|c| self.ir.collections[c.index()].name == name)
    }

    /// Walks `a.b.c` from `root` through fields, references and collections.
    pub(super) fn field_path(
        &mut self,
        root: EntityId,
        segments: &[ast::Ident],
    ) -> Option<FieldPath> {
        let mut steps = Vec::new();
        let mut current = Some(root);
        for seg in segments {
            let Some(entity) = current else {
                let prev = steps
                    .last()
                    .map(|s| self.ir.step_name(*s).to_string())
                    .unwrap_or_default();
                self.error(
                    Diagnostic::error(
                        Code::UNKNOWN_FIELD,
                        seg.span,
                        format!("`{prev}` is a value, it has no field `{}`", seg.name),
                    )
                    .with_label("cannot go further")
                    .with_help("only references and collections lead to other fields"),
                );
                return None;
            };
            if let Some((idx, f)) = self.ir.entities[entity.index()].field(&seg.name) {
                current = match f.ty {
                    FieldType::Ref(to) => Some(to),
                    _ => None,
                };
                steps.push(Step::Field { entity, field: idx });
            } else if let Some(c) = self.collection_named(entity, &seg.name) {
                current = Some(self.ir.collections[c.index()].target);
                steps.push(Step::Collection(c));
            } else {
                let e = &self.ir.entities[entity.index()];
                let mut names: Vec<String> = e.fields.iter().map(|f| f.name.clone()).collect();
                names.extend(
                    e.collections
                        .iter()
                        .map(|c| self.ir.collections[c.index()].name.clone()),
                );
                let help = Resolver::suggest(&seg.name, names.iter()).unwrap_or_else(|| {
                    format!(
                        "`{}` has {}",
                        e.name,
                        names
                            .iter()
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                });
                self.error(
                    Diagnostic::error(
                        Code::UNKNOWN_FIELD,
                        seg.span,
                        format!("`{}` has no field `{}`", e.name, seg.name),
                    )
                    .with_label("unknown field")
                    .with_help(help),
                );
                return None;
            }
        }
        Some(FieldPath { root, steps })
    }

    pub(super) fn literal_value(&mut self, expr: &ast::Expr) -> Option<Value> {
        let ast::ExprKind::Literal(lit) = &expr.kind else {
            self.error(
                Diagnostic::error(Code::BAD_VALUE, expr.span, "expected a literal value")
                    .with_label("not a literal")
                    .with_help("write a string, number, `true`, `false` or `null`"),
            );
            return None;
        };
        Some(literal(lit))
    }

    /// An authorization rule for operations on `entity`. Policies are expanded in place.
    pub(super) fn auth_rule(
        &mut self,
        entity: EntityId,
        expr: &ast::Expr,
        policies: &mut Vec<String>,
    ) -> Option<AuthRule> {
        match &expr.kind {
            ast::ExprKind::Or(parts) => self.auth_rules(entity, parts, policies).map(AuthRule::Or),
            ast::ExprKind::And(parts) => {
                self.auth_rules(entity, parts, policies).map(AuthRule::And)
            }
            ast::ExprKind::Not(inner) => self
                .auth_rule(entity, inner, policies)
                .map(|r| AuthRule::Not(Box::new(r))),
            ast::ExprKind::Paren(inner) => self.auth_rule(entity, inner, policies),
            ast::ExprKind::Path(p) if p.single().is_some() => {
                let name = &p.segments[0];
                match name.name.as_str() {
                    "public" => Some(AuthRule::Public),
                    "authenticated" => Some(AuthRule::Authenticated),
                    "api_key" => {
                        self.check_api_key_scope_declared(name);
                        Some(AuthRule::ApiKey(None))
                    }
                    _ => self.policy_rule(entity, name, policies),
                }
            }
            ast::ExprKind::Call { name, args } => self.auth_call(entity, name, args),
            ast::ExprKind::Compare { .. } => self
                .expr(entity, expr, Place::Request)
                .map(AuthRule::Predicate),
            _ => {
                self.error(
                    Diagnostic::error(Code::BAD_EXPRESSION, expr.span, "not an authorization rule")
                        .with_label("expected a rule")
                        .with_help("rules are `public`, `authenticated`, `role(admin)`, `owner(field)`, `api_key`, a policy name, a comparison, or these combined with `and`, `or`, `not`"),
                );
                None
            }
        }
    }

    fn auth_rules(
        &mut self,
        entity: EntityId,
        parts: &[ast::Expr],
        policies: &mut Vec<String>,
    ) -> Option<Vec<AuthRule>> {
        let resolved: Vec<Option<AuthRule>> = parts
            .iter()
            .map(|p| self.auth_rule(entity, p, policies))
            .collect();
        resolved.into_iter().collect()
    }

    fn policy_rule(
        &mut self,
        entity: EntityId,
        name: &ast::Ident,
        policies: &mut Vec<String>,
    ) -> Option<AuthRule> {
        let Some(policy) = self.decls.policies.get(&name.name).copied() else {
            let mut known: Vec<String> = ["public", "authenticated", "api_key"]
                .iter()
                .map(ToString::to_string)
                .collect();
            known.extend(self.decls.policies.keys().cloned());
            let help = Resolver::suggest(&name.name, known.iter()).unwrap_or_else(|| "declare it with `policy name = rule`, or use `public`, `authenticated`, `role(...)`, `owner(...)`".into());
            self.error(
                Diagnostic::error(
                    Code::UNKNOWN_NAME,
                    name.span,
                    format!("unknown policy `{}`", name.name),
                )
                .with_label("not declared")
                .with_help(help),
            );
            return None;
        };
        if policies.contains(&name.name) {
            self.error(
                Diagnostic::error(
                    Code::BAD_EXPRESSION,
                    name.span,
                    format!("policy `{}` refers to itself", name.name),
                )
                .with_label("cycle")
                .with_help(format!(
                    "policy chain: {} → {}",
                    policies.join(" → "),
                    name.name
                )),
            );
            return None;
        }
        policies.push(name.name.clone());
        let rule = self.auth_rule(entity, &policy.node.expr, policies);
        policies.pop();
        rule
    }

    fn auth_call(
        &mut self,
        entity: EntityId,
        name: &ast::Ident,
        args: &[ast::Arg],
    ) -> Option<AuthRule> {
        let single = match args {
            [arg] if arg.name.is_none() => Some(&arg.value),
            _ => None,
        };
        match (name.name.as_str(), single.map(|e| &e.kind)) {
            ("role", Some(ast::ExprKind::Path(p))) if p.single().is_some() => {
                let role = &p.segments[0];
                self.check_role(role);
                Some(AuthRule::Role(role.name.clone()))
            }
            ("api_key", Some(ast::ExprKind::Path(p))) if p.single().is_some() => {
                let scope = &p.segments[0];
                self.check_api_key_scope(scope);
                Some(AuthRule::ApiKey(Some(scope.name.clone())))
            }
            ("owner", Some(ast::ExprKind::Path(p))) => {
                let path = self.field_path(entity, &p.segments)?;
                let ends_at_ref_or_id = path.steps.last().is_some_and(|s| match s {
                    Step::Field { entity, field } => {
                        let f = &self.ir.entities[entity.index()].fields[*field];
                        matches!(
                            f.ty,
                            FieldType::Ref(_)
                                | FieldType::Uuid
                                | FieldType::Int
                                | FieldType::BigInt
                        )
                    }
                    Step::Collection(_) => false,
                });
                if !ends_at_ref_or_id {
                    self.error(
                        Diagnostic::error(
                            Code::BAD_EXPRESSION,
                            p.span,
                            "`owner(...)` names the field holding the owner's id",
                        )
                        .with_label("not a reference or id")
                        .with_help("write `owner(author)` where `author: ref User`"),
                    );
                    return None;
                }
                Some(AuthRule::Owner(path))
            }
            _ => {
                self.error(
                    Diagnostic::error(
                        Code::BAD_EXPRESSION,
                        name.span,
                        format!("`{}(...)` is not an authorization rule", name.name),
                    )
                    .with_label("unknown rule or wrong arguments")
                    .with_help("use `role(admin)`, `owner(field)` or `api_key(scope)`"),
                );
                None
            }
        }
    }

    /// `api_key` needs an `api_keys` block in `auth`.
    fn check_api_key_scope_declared(&mut self, at: &ast::Ident) -> bool {
        if self.ir.auth.as_ref().is_some_and(|a| a.api_keys.is_some()) {
            return true;
        }
        self.error(
            Diagnostic::error(Code::MISSING, at.span, "API keys are not enabled")
                .with_label("no `api_keys` block in `auth`")
                .with_help("add `api_keys { header = \"X-Api-Key\"  prefix = \"sk_\"  roles = [bot] }` to the auth block"),
        );
        false
    }

    fn check_api_key_scope(&mut self, scope: &ast::Ident) {
        if !self.check_api_key_scope_declared(scope) {
            return;
        }
        let roles = self
            .ir
            .auth
            .as_ref()
            .and_then(|a| a.api_keys.as_ref())
            .map(|k| k.roles.clone())
            .unwrap_or_default();
        if roles.contains(&scope.name) {
            return;
        }
        let help = Resolver::suggest(&scope.name, roles.iter()).unwrap_or_else(|| {
            format!(
                "API key roles are declared in `auth {{ api_keys {{ roles = [...] }} }}`: {}",
                roles.join(", ")
            )
        });
        self.error(
            Diagnostic::error(
                Code::UNKNOWN_NAME,
                scope.span,
                format!("unknown API key role `{}`", scope.name),
            )
            .with_label("not an API key role")
            .with_help(help),
        );
    }

    fn check_role(&mut self, role: &ast::Ident) {
        let Some(auth) = &self.ir.auth else { return };
        let Some(role_field) = auth.role_field else {
            return;
        };
        let field = &self.ir.entities[auth.identity.index()].fields[role_field];
        let FieldType::Enum(id) = field.ty else {
            return;
        };
        let e = &self.ir.enums[id.index()];
        if e.variants.contains(&role.name) {
            return;
        }
        let help = Resolver::suggest(&role.name, e.variants.iter()).unwrap_or_else(|| {
            format!(
                "roles are the variants of `{}`: {}",
                e.name,
                e.variants.join(", ")
            )
        });
        self.error(
            Diagnostic::error(
                Code::UNKNOWN_NAME,
                role.span,
                format!("unknown role `{}`", role.name),
            )
            .with_label("not a variant of the role enum")
            .with_help(help),
        );
    }
}

impl Resolver<'_> {
    /// A field compared with a literal must be compared with a value of its type.
    fn check_comparable(&mut self, lhs: &Expr, rhs: &Expr, at: &ast::Expr) {
        let (field, value) = match (lhs, rhs) {
            (Expr::Field(p), Expr::Value(v)) | (Expr::Value(v), Expr::Field(p)) => (p, v),
            _ => return,
        };
        let Some(Step::Field { entity, field }) = field.steps.last().copied() else {
            return;
        };
        let ty = self.ir.entities[entity.index()].fields[field].ty.clone();
        if let Some(problem) = mismatch(&self.ir, &ty, value) {
            let name = self.ir.entities[entity.index()].fields[field].name.clone();
            self.error(
                Diagnostic::error(
                    Code::BAD_EXPRESSION,
                    at.span,
                    format!("`{name}` is compared with {problem}"),
                )
                .with_label("the types do not match")
                .with_help(format!(
                    "compare `{name}` with a value of its type ({})",
                    super::entities::type_label(&ty)
                )),
            );
        }
    }
}

/// Why `value` cannot be compared with a field of type `ty`, if it cannot.
pub(super) fn mismatch(ir: &super::Ir, ty: &FieldType, value: &Value) -> Option<String> {
    let ok = match (ty, value) {
        (_, Value::Null) => true,
        (FieldType::Enum(id), Value::Ident(v) | Value::Str(v)) => {
            let e = ir.enum_(*id);
            if !e.variants.contains(v) {
                return Some(format!(
                    "`{v}`, which is not a variant of `{}` ({})",
                    e.name,
                    e.variants.join(", ")
                ));
            }
            true
        }
        (
            FieldType::Int | FieldType::BigInt | FieldType::Float | FieldType::Decimal { .. },
            Value::Int(_) | Value::Decimal(_),
        ) => true,
        (FieldType::Bool, Value::Bool(_)) => true,
        (
            FieldType::String
            | FieldType::Text
            | FieldType::Email
            | FieldType::Url
            | FieldType::Uuid
            | FieldType::Timestamp
            | FieldType::Date
            | FieldType::Json
            | FieldType::Ref(_),
            Value::Str(_),
        ) => true,
        _ => false,
    };
    (!ok).then(|| match value {
        Value::Str(s) => format!("the string {s:?}"),
        Value::Int(i) => format!("the number {i}"),
        Value::Decimal(d) => format!("the number {d}"),
        Value::Bool(b) => format!("`{b}`"),
        Value::Duration(ms) => format!("a duration of {ms} ms"),
        Value::Ident(i) => format!("`{i}`"),
        Value::Null => "null".into(),
    })
}

pub(super) fn literal(lit: &ast::Literal) -> Value {
    match lit {
        ast::Literal::Str(s) => Value::Str(s.value.clone()),
        ast::Literal::Number(n, _) => n
            .as_i64()
            .map_or_else(|| Value::Decimal(n.text.clone()), Value::Int),
        ast::Literal::Duration { value, unit, .. } => {
            Value::Duration(value.saturating_mul(unit.millis()))
        }
        ast::Literal::Bool(b, _) => Value::Bool(*b),
        ast::Literal::Null(_) => Value::Null,
    }
}
