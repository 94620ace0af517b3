//! Entities: mixin expansion, field types and attributes, relations and collections,
//! primary keys, indexes and checks.

use std::collections::BTreeSet;

use super::id32;
use super::model::*;
use super::names;
use super::resolve::{Decl, Resolver};
use crate::diagnostics::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast;

const FIELD_ATTRS: &[&str] = &[
    "primary",
    "unique",
    "indexed",
    "immutable",
    "readonly",
    "sensitive",
    "write_only",
    "updated_at",
    "soft_delete",
    "default",
    "range",
    "pattern",
    "check",
    "json",
    "renamed_from",
    "on_delete",
    "no_index",
    "on_create",
    "on_write",
    "allow",
];
const MANY_ATTRS: &[&str] = &["via", "through", "json", "write_by"];
const INDEX_ATTRS: &[&str] = &["where", "using", "name", "allow"];
const BUILTIN_TYPES: &[&str] = &[
    "uuid",
    "string",
    "text",
    "int",
    "bigint",
    "float",
    "decimal",
    "bool",
    "timestamp",
    "date",
    "json",
    "email",
    "url",
    "password",
];

/// A member after mixin expansion, with the mixin it came from.
struct Expanded<'a> {
    member: &'a ast::Member,
    origin: Option<String>,
}

/// A `many` field waiting for every relation to exist.
pub(super) struct PendingCollection<'a> {
    entity: EntityId,
    field: &'a ast::Field,
}

impl<'a> Resolver<'a> {
    pub(super) fn resolve_entities(&mut self) {
        let decls = self.decls.entities.clone();
        let mut pending = Vec::new();
        for (i, d) in decls.iter().enumerate() {
            let id = EntityId(id32(i));
            let entity = self.entity(id, d, &mut pending);
            self.ir.entities.push(entity);
        }
        // Relations need every entity's fields to exist before collections can find them.
        self.pending_collections = pending;
    }

    fn entity(
        &mut self,
        id: EntityId,
        d: &Decl<'a, ast::Entity>,
        pending: &mut Vec<PendingCollection<'a>>,
    ) -> Entity {
        let name = d.node.name.name.clone();
        let mut entity = Entity {
            table: names::table_name(&name),
            name,
            docs: d.docs.to_vec(),
            fields: Vec::new(),
            primary_key: Vec::new(),
            indexes: Vec::new(),
            checks: Vec::new(),
            collections: Vec::new(),
            mixins: Vec::new(),
            renamed_from: None,
            soft_delete: None,
            allows: Vec::new(),
            span: d.node.name.span,
        };
        self.entity_attrs(&mut entity, &d.node.attrs);
        let members = self.expand(&d.node.members, None, &mut Vec::new(), &mut entity.mixins);
        let mut seen: Vec<(String, Span)> = Vec::new();
        for m in &members {
            let ast::MemberKind::Field(f) = &m.member.kind else {
                continue;
            };
            if let Some((_, first)) = seen.iter().find(|(n, _)| *n == f.name.name) {
                self.duplicate("field", &f.name, *first);
                continue;
            }
            seen.push((f.name.name.clone(), f.name.span));
            if let ast::TypeKind::Many { .. } = f.ty.kind {
                pending.push(PendingCollection {
                    entity: id,
                    field: f,
                });
                continue;
            }
            let field = self.field(id, &mut entity, f, &m.member.docs, m.origin.clone());
            entity.fields.push(field);
        }
        self.duplicate_columns(&entity);
        self.primary_key(&mut entity, &members);
        self.pending_directives
            .push((id, members.iter().map(|m| m.member).collect()));
        entity
    }

    /// A foreign key is one column, so its target needs a one-column primary key.
    pub(super) fn check_reference_targets(&mut self) {
        let problems: Vec<(crate::source::Span, String, usize)> = self
            .ir
            .relations
            .iter()
            .filter_map(|r| {
                let target = &self.ir.entities[r.to.index()];
                (target.primary_key.len() != 1)
                    .then(|| (r.span, target.name.clone(), target.primary_key.len()))
            })
            .collect();
        for (span, name, columns) in problems {
            let what = if columns == 0 {
                "has no primary key".to_string()
            } else {
                format!("has a {columns}-column primary key")
            };
            self.error(
                Diagnostic::error(Code::AMBIGUOUS_RELATION, span, format!("cannot reference `{name}`: it {what}"))
                    .with_label("a reference needs a one-column key")
                    .with_help(format!("give `{name}` a single primary key (`id: uuid @primary @default(uuid7())`) and keep uniqueness with `unique (...)`")),
            );
        }
    }

    /// Two fields may not share a column (`user` and `user_id` both map to `user_id`).
    fn duplicate_columns(&mut self, entity: &Entity) {
        for (i, f) in entity.fields.iter().enumerate() {
            if let Some(first) = entity.fields[..i].iter().find(|o| o.column == f.column) {
                self.error(
                    Diagnostic::error(
                        Code::DUPLICATE,
                        f.span,
                        format!(
                            "`{}` and `{}` would both be stored in column `{}`",
                            first.name, f.name, f.column
                        ),
                    )
                    .with_label("same column")
                    .with_secondary(first.span, "first here")
                    .with_help("rename one of the fields; references are stored as `<name>_id`"),
                );
            }
        }
    }

    fn entity_attrs(&mut self, entity: &mut Entity, attrs: &[ast::Attribute]) {
        for a in attrs {
            match a.name.name.as_str() {
                "table" => {
                    if let Some(table) = self.string_arg(a) {
                        entity.table = table;
                    }
                }
                "renamed_from" => entity.renamed_from = self.string_arg(a),
                "allow" => entity.allows.extend(self.allow(a)),
                _ => self.unknown_attr(a, "an entity", &["table", "renamed_from", "allow"]),
            }
        }
    }

    /// Inlines `include`d mixins, depth first, reporting unknown mixins and cycles.
    fn expand(
        &mut self,
        members: &'a [ast::Member],
        origin: Option<String>,
        stack: &mut Vec<String>,
        used: &mut Vec<String>,
    ) -> Vec<Expanded<'a>> {
        let mut out = Vec::new();
        for member in members {
            let ast::MemberKind::Include { mixin, attrs } = &member.kind else {
                out.push(Expanded {
                    member,
                    origin: origin.clone(),
                });
                continue;
            };
            self.reject_attrs(attrs, "an include");
            let Some(decl) = self.decls.mixins.get(&mixin.name).copied() else {
                let help = Resolver::suggest(&mixin.name, self.decls.mixins.keys())
                    .unwrap_or_else(|| "declare it with `mixin name { ... }`, or `use std.mixins` for timestamps, soft_delete and audit".into());
                self.error(
                    Diagnostic::error(
                        Code::UNKNOWN_NAME,
                        mixin.span,
                        format!("unknown mixin `{}`", mixin.name),
                    )
                    .with_label("not declared")
                    .with_help(help),
                );
                continue;
            };
            if stack.contains(&mixin.name) {
                self.error(
                    Diagnostic::error(
                        Code::MIXIN_CYCLE,
                        mixin.span,
                        format!("mixin `{}` includes itself", mixin.name),
                    )
                    .with_label("cycle closes here")
                    .with_help(format!(
                        "include chain: {} → {}",
                        stack.join(" → "),
                        mixin.name
                    )),
                );
                continue;
            }
            self.reject_attrs(&decl.node.attrs, "a mixin");
            if !used.contains(&mixin.name) {
                used.push(mixin.name.clone());
            }
            stack.push(mixin.name.clone());
            out.extend(self.expand(&decl.node.members, Some(mixin.name.clone()), stack, used));
            stack.pop();
        }
        out
    }

    fn field(
        &mut self,
        entity_id: EntityId,
        entity: &mut Entity,
        f: &'a ast::Field,
        docs: &[String],
        origin: Option<String>,
    ) -> Field {
        let mut field = Field {
            column: names::snake_case(&f.name.name),
            name: f.name.name.clone(),
            docs: docs.to_vec(),
            origin,
            type_span: f.ty.span,
            ..placeholder_field(f.name.span)
        };
        let mut on_delete = None;
        let mut no_index = None;
        match &f.ty.kind {
            ast::TypeKind::Ref { target, optional } => {
                field.optional = *optional;
                if let Some(to) = self.lookup_entity(target) {
                    field.ty = FieldType::Ref(to);
                    if !field.column.ends_with("_id") {
                        field.column.push_str("_id");
                    }
                }
            }
            ast::TypeKind::Scalar {
                name,
                args,
                optional,
            } => {
                field.optional = *optional;
                self.scalar_type(&mut field, name, args.as_ref(), &f.ty);
            }
            ast::TypeKind::Many { .. } => unreachable!("collections are resolved separately"),
        }
        for a in &f.attrs {
            self.field_attr(entity, &mut field, a, &mut on_delete, &mut no_index);
        }
        self.check_default_fits(&field, &f.attrs);
        if let (FieldType::Ref(_), Some(OnDelete::SetNull), false) =
            (&field.ty, on_delete, field.optional)
        {
            self.error(
                Diagnostic::error(
                    Code::BAD_ARGUMENTS,
                    f.ty.span,
                    "`set_null` on a required reference",
                )
                .with_label("the column cannot be null")
                .with_help(
                    "make the reference optional (`ref X?`), or choose `cascade` or `restrict`",
                ),
            );
        }
        if let FieldType::Ref(to) = field.ty {
            let relation = Relation {
                from: entity_id,
                field: entity.fields.len(),
                to,
                on_delete,
                optional: field.optional,
                index_opt_out: no_index,
                span: f.ty.span,
            };
            field.relation = Some(RelationId(id32(self.ir.relations.len())));
            self.ir.relations.push(relation);
        } else if (on_delete.is_some() || no_index.is_some())
            && !matches!(f.ty.kind, ast::TypeKind::Ref { .. })
        {
            self.error(
                Diagnostic::error(
                    Code::BAD_ARGUMENTS,
                    f.name.span,
                    "`@on_delete` and `@no_index` only apply to `ref` fields",
                )
                .with_label("not a reference")
                .with_help("remove the attribute, or make the field `ref Entity`"),
            );
        }
        field
    }

    fn scalar_type(
        &mut self,
        field: &mut Field,
        name: &ast::Ident,
        args: Option<&ast::TypeArgs>,
        ty: &ast::TypeExpr,
    ) {
        if let Some(alias) = self.decls.aliases.get(&name.name).copied() {
            let ast::TypeKind::Scalar {
                name: inner,
                args: inner_args,
                ..
            } = &alias.node.ty.kind
            else {
                return;
            };
            if args.is_some() {
                self.error(
                    Diagnostic::error(
                        Code::BAD_ARGUMENTS,
                        ty.span,
                        format!("type `{}` takes no arguments", name.name),
                    )
                    .with_label("arguments not allowed")
                    .with_help(format!(
                        "`{}` already fixes them; use `{}(...)` directly to choose other bounds",
                        name.name, inner.name
                    )),
                );
            }
            // Problems of the alias itself are reported once, by `resolve_aliases`.
            let before = self.diags.len();
            self.alias_body(field, inner, inner_args.as_ref(), &alias.node.attrs);
            self.diags.truncate(before);
            field.alias = Some(name.name.clone());
            return;
        }
        if let Some(id) = self.names.enums.get(&name.name).copied() {
            if args.is_some() {
                self.error(
                    Diagnostic::error(
                        Code::BAD_ARGUMENTS,
                        ty.span,
                        format!("enum `{}` takes no arguments", name.name),
                    )
                    .with_label("arguments not allowed")
                    .with_help("remove the parentheses"),
                );
            }
            field.ty = FieldType::Enum(id);
            return;
        }
        self.builtin_type(field, name, args);
    }

    /// Checks every `type` alias once, whether used or not.
    pub(super) fn resolve_aliases(&mut self) {
        let aliases: Vec<_> = self.decls.aliases.values().copied().collect();
        for alias in aliases {
            let ast::TypeKind::Scalar {
                name: inner,
                args,
                optional,
            } = &alias.node.ty.kind
            else {
                continue;
            };
            if *optional {
                self.error(
                    Diagnostic::error(
                        Code::BAD_ARGUMENTS,
                        alias.node.ty.span,
                        "a type alias cannot be optional",
                    )
                    .with_label("`?` here")
                    .with_help(format!(
                        "write `?` where the alias is used: `field: {}?`",
                        alias.node.name.name
                    )),
                );
            }
            let kind = if self.decls.aliases.contains_key(&inner.name) {
                Some("another alias")
            } else if self.names.enums.contains_key(&inner.name) {
                Some("an enum")
            } else {
                None
            };
            if let Some(kind) = kind {
                self.error(
                    Diagnostic::error(
                        Code::UNKNOWN_TYPE,
                        inner.span,
                        format!("a type alias names a built-in type, not {kind}"),
                    )
                    .with_label(format!("`{}` is {kind}", inner.name))
                    .with_help(format!(
                        "use `{}` directly where you would use `{}`",
                        inner.name, alias.node.name.name
                    )),
                );
                continue;
            }
            let mut scratch = placeholder_field(alias.node.name.span);
            self.alias_body(&mut scratch, inner, args.as_ref(), &alias.node.attrs);
        }
    }

    /// The built-in type and constraints an alias stands for.
    fn alias_body(
        &mut self,
        field: &mut Field,
        inner: &ast::Ident,
        args: Option<&ast::TypeArgs>,
        attrs: &[ast::Attribute],
    ) {
        self.builtin_type(field, inner, args);
        for a in attrs {
            match a.name.name.as_str() {
                "pattern" | "range" | "check" | "sensitive" => self.value_attr(field, a),
                _ => self.unknown_attr(
                    a,
                    "a type alias",
                    &["pattern", "range", "check", "sensitive"],
                ),
            }
        }
    }

    fn builtin_type(&mut self, field: &mut Field, name: &ast::Ident, args: Option<&ast::TypeArgs>) {
        let ty = match name.name.as_str() {
            "uuid" => FieldType::Uuid,
            "string" => FieldType::String,
            "text" => FieldType::Text,
            "int" => FieldType::Int,
            "bigint" => FieldType::BigInt,
            "float" => FieldType::Float,
            "decimal" => FieldType::Decimal {
                precision: 0,
                scale: 0,
            },
            "bool" => FieldType::Bool,
            "timestamp" => FieldType::Timestamp,
            "date" => FieldType::Date,
            "json" => FieldType::Json,
            "email" => FieldType::Email,
            "url" => FieldType::Url,
            "password" => FieldType::Password,
            other => {
                let mut known: Vec<String> =
                    BUILTIN_TYPES.iter().map(ToString::to_string).collect();
                known.extend(self.names.enums.keys().cloned());
                known.extend(self.decls.aliases.keys().cloned());
                let help = if self.names.entities.contains_key(other) {
                    format!(
                        "`{other}` is an entity: write `ref {other}` for a reference or `many {other}` for a collection"
                    )
                } else {
                    Resolver::suggest(other, known.iter()).unwrap_or_else(|| {
                        format!("built-in types are {}", BUILTIN_TYPES.join(", "))
                    })
                };
                self.error(
                    Diagnostic::error(
                        Code::UNKNOWN_TYPE,
                        name.span,
                        format!("unknown type `{other}`"),
                    )
                    .with_label("not a type")
                    .with_help(help),
                );
                return;
            }
        };
        field.ty = ty;
        self.type_args(field, name, args);
    }

    fn type_args(&mut self, field: &mut Field, name: &ast::Ident, args: Option<&ast::TypeArgs>) {
        let takes_length = matches!(
            field.ty,
            FieldType::String
                | FieldType::Text
                | FieldType::Email
                | FieldType::Url
                | FieldType::Password
        );
        match (args, &mut field.ty) {
            (None, FieldType::Decimal { .. }) => self.error(
                Diagnostic::error(Code::BAD_ARGUMENTS, name.span, "`decimal` needs a precision and a scale")
                    .with_label("no precision")
                    .with_help("write `decimal(12, 2)`: 12 digits, 2 after the point"),
            ),
            (None, _) => {}
            (Some(ast::TypeArgs::List { values, span }), FieldType::Decimal { precision, scale }) => match values.as_slice() {
                [p, s] if (1..=38).contains(p) && (0..=*p).contains(s) => {
                    *precision = u32::try_from(*p).unwrap_or(38);
                    *scale = u32::try_from(*s).unwrap_or(0);
                }
                _ => self.error(
                    Diagnostic::error(Code::BAD_ARGUMENTS, *span, "invalid decimal precision or scale")
                        .with_label("expected `(precision, scale)` with 1 ≤ precision ≤ 38 and scale ≤ precision")
                        .with_help("write `decimal(12, 2)`"),
                ),
            },
            (Some(ast::TypeArgs::Range { min, max, span }), _) if takes_length => {
                let in_range = |v: &Option<i64>| v.is_none_or(|x| u32::try_from(x).is_ok());
                let valid = (min.is_some() || max.is_some())
                    && in_range(min)
                    && in_range(max)
                    && min.is_none_or(|m| m >= 0)
                    && max.is_none_or(|m| m >= 1)
                    && !matches!((min, max), (Some(a), Some(b)) if a > b);
                if valid {
                    let conv = |v: &Option<i64>| v.and_then(|x| u32::try_from(x).ok());
                    field.length = Some(Bounds { min: conv(min), max: conv(max) });
                } else {
                    self.error(
                        Diagnostic::error(Code::BAD_ARGUMENTS, *span, "invalid length bounds")
                            .with_label("expected `min..max` with 0 ≤ min ≤ max")
                            .with_help(format!("write `{}(1..200)` or `{}(..200)`", name.name, name.name)),
                    );
                }
            }
            (Some(args), _) => {
                let span = match args {
                    ast::TypeArgs::Range { span, .. } | ast::TypeArgs::List { span, .. } => *span,
                };
                let help = if takes_length { format!("write a length range: `{}(1..200)`", name.name) } else { format!("`{}` takes no arguments; use `@range(...)` for numeric bounds", name.name) };
                self.error(
                    Diagnostic::error(Code::BAD_ARGUMENTS, span, format!("invalid arguments for `{}`", name.name))
                        .with_label("unexpected arguments")
                        .with_help(help),
                );
            }
        }
    }

    fn field_attr(
        &mut self,
        entity: &mut Entity,
        field: &mut Field,
        a: &ast::Attribute,
        on_delete: &mut Option<OnDelete>,
        no_index: &mut Option<Allow>,
    ) {
        if let Some(slot) = flag_slot(&mut field.flags, &a.name.name) {
            *slot = true;
            self.no_args(a);
            return;
        }
        match a.name.name.as_str() {
            "soft_delete" => {
                self.no_args(a);
                entity.soft_delete = Some(entity.fields.len());
                if !matches!(field.ty, FieldType::Timestamp) || !field.optional {
                    self.error(
                        Diagnostic::error(Code::BAD_ARGUMENTS, a.span, "`@soft_delete` marks an optional timestamp")
                            .with_label("on a field that is not `timestamp?`")
                            .with_help("write `deleted_at: timestamp? @soft_delete`, or `include soft_delete` from `std.mixins`"),
                    );
                }
            }
            "default" => self.default_attr(entity, field, a),
            "pattern" | "range" | "check" => self.value_attr(field, a),
            "json" => field.json_name = self.string_arg(a),
            "renamed_from" => field.renamed_from = self.string_arg(a),
            "on_delete" => *on_delete = self.on_delete_arg(a),
            "no_index" => {
                let reason = a
                    .args
                    .as_deref()
                    .unwrap_or_default()
                    .iter()
                    .find(|x| x.name.as_ref().is_some_and(|n| n.name == "reason"));
                let reason = reason.and_then(|x| match &x.value.kind {
                    ast::ExprKind::Literal(ast::Literal::Str(s)) => Some(s.value.clone()),
                    _ => None,
                });
                *no_index = Some(Allow {
                    code: "no_index".into(),
                    reason,
                    span: a.span,
                });
            }
            "on_create" | "on_write" => {
                let is_caller = matches!(a.args.as_deref(), Some([arg]) if matches!(&arg.value.kind, ast::ExprKind::Path(p) if p.dotted() == "auth.user"));
                if !is_caller {
                    self.error(
                        Diagnostic::error(
                            Code::BAD_ARGUMENTS,
                            a.span,
                            format!("`@{}` takes `auth.user`", a.name.name),
                        )
                        .with_label("unsupported value")
                        .with_help(format!("write `@{}(auth.user)`", a.name.name)),
                    );
                }
                field.auto = Some(if a.name.name == "on_create" {
                    AutoValue::CallerOnCreate
                } else {
                    AutoValue::CallerOnWrite
                });
            }
            "allow" => field.allows.extend(self.allow(a)),
            _ => self.unknown_attr(a, "a field", FIELD_ATTRS),
        }
    }

    fn wrong_type(&mut self, a: &ast::Attribute, rule: &str, field: &Field) {
        self.error(
            Diagnostic::error(
                Code::BAD_ARGUMENTS,
                a.span,
                format!(
                    "`@{}` does not fit a `{}` field",
                    a.name.name,
                    type_label(&field.ty)
                ),
            )
            .with_label("wrong field type")
            .with_help(rule.to_string()),
        );
    }

    /// A default must satisfy the field's own bounds, or every insert without a value fails.
    fn check_default_fits(&mut self, field: &Field, attrs: &[ast::Attribute]) {
        let Some(span) = attrs
            .iter()
            .find(|a| a.name.name == "default")
            .map(|a| a.span)
        else {
            return;
        };
        let problem = match &field.default {
            Some(Default::Value(Value::Str(s))) => field.length.and_then(|b| {
                let n = u32::try_from(s.chars().count()).unwrap_or(u32::MAX);
                let short = b.min.is_some_and(|m| n < m);
                let long = b.max.is_some_and(|m| n > m);
                (short || long)
                    .then(|| format!("{n} characters, outside the field's length bounds"))
            }),
            Some(Default::Value(v @ (Value::Int(_) | Value::Decimal(_)))) => {
                let value = match v {
                    Value::Int(i) => *i as f64,
                    Value::Decimal(d) => d.parse().unwrap_or(0.0),
                    _ => 0.0,
                };
                field.range.as_ref().and_then(|r| {
                    let below = r
                        .min
                        .as_deref()
                        .and_then(|m| m.parse::<f64>().ok())
                        .is_some_and(|m| value < m);
                    let above = r
                        .max
                        .as_deref()
                        .and_then(|m| m.parse::<f64>().ok())
                        .is_some_and(|m| value > m);
                    (below || above).then(|| "outside the field's `@range`".to_string())
                })
            }
            _ => None,
        };
        if let Some(problem) = problem {
            self.error(
                Diagnostic::error(Code::BAD_DEFAULT, span, format!("the default is {problem}"))
                    .with_label("every insert without a value would be rejected")
                    .with_help("choose a default the field's own constraints accept"),
            );
        }
    }

    /// `@pattern`, `@range` and `@check`: constraints a type alias may carry too.
    fn value_attr(&mut self, field: &mut Field, a: &ast::Attribute) {
        match a.name.name.as_str() {
            "sensitive" => field.flags.sensitive = true,
            "pattern" => {
                field.pattern = self.string_arg(a);
                if !is_text(&field.ty) {
                    self.wrong_type(a, "`@pattern` applies to text fields", field);
                } else if let Some(Err(err)) = field.pattern.as_deref().map(|p| {
                    regex_syntax::Parser::new()
                        .parse(p)
                        .map_err(|e| e.to_string())
                }) {
                    self.error(
                        Diagnostic::error(
                            Code::BAD_ARGUMENTS,
                            a.span,
                            "invalid regular expression",
                        )
                        .with_label(first_line(&err))
                        .with_help(
                            "`@pattern` takes a Rust `regex` expression, e.g. `\"^[a-z0-9-]+$\"`",
                        ),
                    );
                }
            }
            "range" => {
                let arg = self.single_arg(a);
                match arg.map(|e| &e.kind) {
                    Some(ast::ExprKind::Range { min, max }) if min.is_some() || max.is_some() => {
                        let bound =
                            |n: &Option<ast::Number>| n.as_ref().and_then(ast::Number::as_f64);
                        if !is_numeric(&field.ty) {
                            self.wrong_type(a, "`@range` applies to numeric fields; text takes a length: `string(1..200)`", field);
                        } else if let (Some(lo), Some(hi)) = (bound(min), bound(max))
                            && lo > hi
                        {
                            self.error(
                                Diagnostic::error(
                                    Code::BAD_ARGUMENTS,
                                    a.span,
                                    "the range is empty",
                                )
                                .with_label(format!("{lo} is above {hi}"))
                                .with_help("write the lower bound first: `@range(0..100)`"),
                            );
                        }
                        field.range = Some(NumRange {
                            min: min.as_ref().map(|n| n.text.clone()),
                            max: max.as_ref().map(|n| n.text.clone()),
                        });
                    }
                    _ => self.error(
                        Diagnostic::error(
                            Code::BAD_ARGUMENTS,
                            a.span,
                            "`@range` takes a numeric range",
                        )
                        .with_label("expected `min..max`, `min..` or `..max`")
                        .with_help("write `@range(0..)` or `@range(1..1000)`"),
                    ),
                }
            }
            _ => {
                if let Some(expr) = self.single_arg(a) {
                    match &expr.kind {
                        ast::ExprKind::Partial { op, rhs } => {
                            if let Some(value) = self.literal_value(rhs) {
                                if let Some(problem) = super::exprs::mismatch(&self.ir, &field.ty, &value) {
                                    self.error(
                                        Diagnostic::error(Code::BAD_EXPRESSION, expr.span, format!("a `{}` field is compared with {problem}", type_label(&field.ty)))
                                            .with_label("the types do not match")
                                            .with_help("compare the field with a value of its type, e.g. `@check(>= 0)` on a number"),
                                    );
                                }
                                field.checks.push(Expr::Compare { op: *op, lhs: Box::new(Expr::This), rhs: Box::new(Expr::Value(value)) });
                            }
                        }
                        _ => self.error(
                            Diagnostic::error(Code::BAD_EXPRESSION, expr.span, "a field check compares the field with a value")
                                .with_label("expected `>= 0`, `!= \"\"`...")
                                .with_help("write `@check(>= 0)`; for checks over several fields use `check (a < b)` in the entity"),
                        ),
                    }
                }
            }
        }
    }

    fn default_attr(&mut self, entity: &Entity, field: &mut Field, a: &ast::Attribute) {
        let Some(expr) = self.single_arg(a) else {
            return;
        };
        let ty = field.ty.clone();
        let bad = |this: &mut Self, what: &str| {
            this.error(
                Diagnostic::error(Code::BAD_DEFAULT, expr.span, format!("{what} is not a valid default for a field of type `{}`", type_label(&ty)))
                    .with_label("does not fit the field type")
                    .with_help("use a literal of the field's type, an enum variant, `now()`, `uuid7()`, `uuid4()`, `identity()` or `slugify(field)`"),
            );
        };
        let default = match &expr.kind {
            ast::ExprKind::Call { name, args } => match (name.name.as_str(), args.as_slice()) {
                ("now", []) if matches!(ty, FieldType::Timestamp | FieldType::Date) => {
                    Some(Default::Now)
                }
                ("uuid7", []) if ty == FieldType::Uuid => Some(Default::Uuid7),
                ("uuid4", []) if ty == FieldType::Uuid => Some(Default::Uuid4),
                ("identity", []) if matches!(ty, FieldType::Int | FieldType::BigInt) => {
                    Some(Default::Identity)
                }
                ("slugify", [arg]) if matches!(ty, FieldType::String) => {
                    self.slug_source(entity, arg)
                }
                (fname, _) => {
                    bad(self, &format!("`{fname}(...)`"));
                    None
                }
            },
            ast::ExprKind::Path(p) => match (&ty, p.single()) {
                (FieldType::Enum(id), Some(variant)) => {
                    let e = &self.ir.enums[id.index()];
                    if e.variants.contains(&variant.name) {
                        Some(Default::EnumVariant(variant.name.clone()))
                    } else {
                        let help = Resolver::suggest(&variant.name, e.variants.iter())
                            .unwrap_or_else(|| format!("variants: {}", e.variants.join(", ")));
                        self.error(
                            Diagnostic::error(
                                Code::BAD_DEFAULT,
                                p.span,
                                format!("`{}` is not a variant of `{}`", variant.name, e.name),
                            )
                            .with_label("unknown variant")
                            .with_help(help),
                        );
                        None
                    }
                }
                _ => {
                    bad(self, &format!("`{}`", p.dotted()));
                    None
                }
            },
            ast::ExprKind::Literal(lit) => {
                let value = self.literal_value(expr);
                match (value, &ty) {
                    (Some(Value::Null), _) if field.optional => Some(Default::Value(Value::Null)),
                    (
                        Some(v @ Value::Str(_)),
                        FieldType::String
                        | FieldType::Text
                        | FieldType::Email
                        | FieldType::Url
                        | FieldType::Json,
                    ) => Some(Default::Value(v)),
                    (
                        Some(v @ Value::Int(_)),
                        FieldType::Int
                        | FieldType::BigInt
                        | FieldType::Float
                        | FieldType::Decimal { .. },
                    ) => Some(Default::Value(v)),
                    (Some(v @ Value::Decimal(_)), FieldType::Float | FieldType::Decimal { .. }) => {
                        Some(Default::Value(v))
                    }
                    (Some(v @ Value::Bool(_)), FieldType::Bool) => Some(Default::Value(v)),
                    _ => {
                        bad(self, &describe_literal(lit));
                        None
                    }
                }
            }
            _ => {
                bad(self, "this expression");
                None
            }
        };
        field.default = default;
    }

    fn slug_source(&mut self, entity: &Entity, arg: &ast::Arg) -> Option<Default> {
        let source = match &arg.value.kind {
            ast::ExprKind::Path(p) => p.single().map(|i| i.name.clone()),
            _ => None,
        };
        let found = source
            .as_deref()
            .and_then(|s| entity.field(s))
            .filter(|(_, f)| matches!(f.ty, FieldType::String | FieldType::Text));
        if let Some((idx, _)) = found {
            return Some(Default::Slugify(idx));
        }
        self.error(
            Diagnostic::error(
                Code::BAD_DEFAULT,
                arg.span,
                "`slugify` needs a text field declared before this one",
            )
            .with_label("not an earlier string field")
            .with_help(
                "write `slug: Slug @unique @default(slugify(title))` after the `title` field",
            ),
        );
        None
    }

    fn primary_key(&mut self, entity: &mut Entity, members: &[Expanded<'a>]) {
        let flagged: Vec<usize> = entity
            .fields
            .iter()
            .enumerate()
            .filter(|(_, f)| f.flags.primary)
            .map(|(i, _)| i)
            .collect();
        let declared: Vec<&ast::Member> = members
            .iter()
            .map(|m| m.member)
            .filter(|m| {
                matches!(
                    m.kind,
                    ast::MemberKind::Index {
                        kind: ast::IndexKind::Primary,
                        ..
                    }
                )
            })
            .collect();
        match (flagged.as_slice(), declared.as_slice()) {
            ([], []) => {}
            (_, []) if flagged.len() > 1 => {
                let second = entity.fields[flagged[1]].span;
                self.error(
                    Diagnostic::error(
                        Code::DUPLICATE,
                        second,
                        "more than one field is marked `@primary`",
                    )
                    .with_label("second primary field")
                    .with_help(format!(
                        "for a composite key write `primary ({})` in the entity",
                        flagged
                            .iter()
                            .map(|i| entity.fields[*i].name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                );
            }
            (_, []) => entity.primary_key = flagged,
            ([], [decl]) => {
                if let ast::MemberKind::Index { columns, attrs, .. } = &decl.kind {
                    self.reject_attrs(attrs, "a primary key");
                    entity.primary_key = self.columns(entity, columns);
                }
            }
            (_, [.., last]) => self.error(
                Diagnostic::error(
                    Code::DUPLICATE,
                    last.span,
                    format!("entity `{}` declares its primary key twice", entity.name),
                )
                .with_label("second primary key")
                .with_help("keep either the `@primary` fields or the `primary (...)` directive"),
            ),
        }
        for &i in &entity.primary_key.clone() {
            entity.fields[i].flags.primary = true;
        }
    }

    /// Field indexes for a list of names, reporting unknown ones.
    pub(super) fn columns(&mut self, entity: &Entity, columns: &[ast::Ident]) -> Vec<usize> {
        columns
            .iter()
            .filter_map(|c| self.field_index(entity, c))
            .collect()
    }

    pub(super) fn field_index(&mut self, entity: &Entity, name: &ast::Ident) -> Option<usize> {
        if let Some((i, _)) = entity.field(&name.name) {
            return Some(i);
        }
        let help = Resolver::suggest(&name.name, entity.fields.iter().map(|f| &f.name))
            .unwrap_or_else(|| {
                format!(
                    "`{}` has fields {}",
                    entity.name,
                    entity
                        .fields
                        .iter()
                        .map(|f| format!("`{}`", f.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            });
        self.error(
            Diagnostic::error(
                Code::UNKNOWN_FIELD,
                name.span,
                format!("`{}` has no field `{}`", entity.name, name.name),
            )
            .with_label("unknown field")
            .with_help(help),
        );
        None
    }

    pub(super) fn resolve_collections(&mut self) {
        let pending = std::mem::take(&mut self.pending_collections);
        for p in pending {
            if let Some(c) = self.collection(p.entity, p.field) {
                let id = CollectionId(id32(self.ir.collections.len()));
                self.ir.entities[p.entity.index()].collections.push(id);
                self.ir.collections.push(c);
            }
        }
    }

    fn collection(&mut self, owner: EntityId, f: &ast::Field) -> Option<Collection> {
        let ast::TypeKind::Many { target } = &f.ty.kind else {
            return None;
        };
        let target_id = self.lookup_entity(target)?;
        let mut c = Collection {
            owner,
            name: f.name.name.clone(),
            target: target_id,
            kind: CollectionKind::Inverse {
                relation: RelationId(0),
            },
            json_name: None,
            write_by: None,
            span: f.name.span,
        };
        let mut via = None;
        let mut through = None;
        for a in &f.attrs {
            match a.name.name.as_str() {
                "via" => via = self.single_arg(a).and_then(|e| path_ident(e).cloned()),
                "through" => through = Some(a),
                "json" => c.json_name = self.string_arg(a),
                "write_by" => {
                    let name = self.single_arg(a).and_then(|e| path_ident(e).cloned());
                    if let Some(name) = name {
                        let target = self.ir.entities[target_id.index()].clone();
                        c.write_by = self.field_index(&target, &name);
                        let unique = c.write_by.is_some_and(|i| {
                            target.fields[i].flags.unique || target.fields[i].flags.primary
                        });
                        if c.write_by.is_some() && !unique {
                            self.error(
                                Diagnostic::error(
                                    Code::BAD_ARGUMENTS,
                                    name.span,
                                    format!("`{}.{}` is not unique", target.name, name.name),
                                )
                                .with_label("values must identify one record")
                                .with_help(format!(
                                    "mark `{}` `@unique` in `{}`",
                                    name.name, target.name
                                )),
                            );
                        }
                    }
                }
                _ => self.unknown_attr(a, "a collection", MANY_ATTRS),
            }
        }
        c.kind = match through {
            Some(attr) => self.many_to_many(owner, target_id, f, attr)?,
            None => CollectionKind::Inverse {
                relation: self.inverse(owner, target_id, f, via.as_ref())?,
            },
        };
        Some(c)
    }

    /// The one reference from `target` back to `owner` (or the one named by `@via`).
    fn inverse(
        &mut self,
        owner: EntityId,
        target: EntityId,
        f: &ast::Field,
        via: Option<&ast::Ident>,
    ) -> Option<RelationId> {
        let candidates: Vec<RelationId> = self
            .ir
            .relations_to(owner)
            .filter(|(_, r)| r.from == target)
            .map(|(id, _)| id)
            .collect();
        let chosen: Vec<RelationId> = match via {
            Some(v) => candidates
                .iter()
                .copied()
                .filter(|id| {
                    self.ir.entities[target.index()].fields[self.ir.relations[id.index()].field]
                        .name
                        == v.name
                })
                .collect(),
            None => candidates.clone(),
        };
        if let [one] = chosen.as_slice() {
            return Some(*one);
        }
        if let Some(v) = via {
            // `@via` names a field that is not a reference back here.
            let target_entity = self.ir.entities[target.index()].clone();
            if let Some(idx) = self.field_index(&target_entity, v) {
                let field = &target_entity.fields[idx];
                self.error(
                    Diagnostic::error(
                        Code::AMBIGUOUS_RELATION,
                        v.span,
                        format!(
                            "`{}.{}` is not a reference to `{}`",
                            target_entity.name,
                            field.name,
                            self.ir.entities[owner.index()].name
                        ),
                    )
                    .with_label("not a reference back")
                    .with_help(
                        "`@via` names the field of the collected entity that references this one",
                    ),
                );
            }
            return None;
        }
        let owner_name = &self.ir.entities[owner.index()].name;
        let target_name = &self.ir.entities[target.index()].name;
        let (message, help) = if candidates.is_empty() {
            (
                format!(
                    "`{target_name}` has no reference to `{owner_name}` for `{}` to collect",
                    f.name.name
                ),
                format!(
                    "add `{}: ref {owner_name} @on_delete(...)` to `{target_name}`, or use `@through(Join)` for many-to-many",
                    crate::ir::names::snake_case(owner_name)
                ),
            )
        } else {
            let names: Vec<String> = candidates
                .iter()
                .map(|id| {
                    format!(
                        "`{}`",
                        self.ir.entities[target.index()].fields
                            [self.ir.relations[id.index()].field]
                            .name
                    )
                })
                .collect();
            (
                format!(
                    "`{}` could collect `{target_name}` through {}",
                    f.name.name,
                    names.join(" or ")
                ),
                "name the reference with `@via(field)`".to_string(),
            )
        };
        self.error(
            Diagnostic::error(Code::AMBIGUOUS_RELATION, f.ty.span, message)
                .with_label("which reference?")
                .with_help(help),
        );
        None
    }

    fn many_to_many(
        &mut self,
        owner: EntityId,
        target: EntityId,
        f: &ast::Field,
        attr: &ast::Attribute,
    ) -> Option<CollectionKind> {
        let args = attr.args.as_deref().unwrap_or_default();
        let join_path =
            args.first()
                .filter(|a| a.name.is_none())
                .and_then(|a| match &a.value.kind {
                    ast::ExprKind::Path(p) => Some(p.clone()),
                    _ => None,
                });
        let Some(join_path) = join_path else {
            self.error(
                Diagnostic::error(Code::BAD_ARGUMENTS, attr.span, "`@through` needs the join entity")
                    .with_label("no join entity")
                    .with_help("write `@through(PostTag)`, or `@through(Follow, from: follower, to: followee)` when both sides are the same entity"),
            );
            return None;
        };
        let through = self.lookup_entity(&join_path)?;
        let named = |key: &str| {
            args.iter()
                .find(|a| a.name.as_ref().is_some_and(|n| n.name == key))
                .and_then(|a| path_ident(&a.value).cloned())
        };
        let (from, to) = (named("from"), named("to"));
        let near = self.join_side(through, owner, from.as_ref(), None, attr.span)?;
        let far = self.join_side(through, target, to.as_ref(), Some(near), attr.span)?;
        let _ = f;
        Some(CollectionKind::ManyToMany { through, near, far })
    }

    fn join_side(
        &mut self,
        through: EntityId,
        side: EntityId,
        name: Option<&ast::Ident>,
        exclude: Option<RelationId>,
        span: Span,
    ) -> Option<RelationId> {
        let join = &self.ir.entities[through.index()];
        let found: Vec<RelationId> = self
            .ir
            .relations_from(through)
            .filter(|(id, r)| r.to == side && Some(*id) != exclude)
            .filter(|(_, r)| name.is_none_or(|n| join.fields[r.field].name == n.name))
            .map(|(id, _)| id)
            .collect();
        if let [one] = found.as_slice() {
            return Some(*one);
        }
        let side_name = &self.ir.entities[side.index()].name;
        let message = if found.is_empty() {
            format!(
                "join entity `{}` has no reference to `{side_name}`",
                join.name
            )
        } else {
            format!(
                "join entity `{}` references `{side_name}` more than once",
                join.name
            )
        };
        self.error(
            Diagnostic::error(Code::AMBIGUOUS_RELATION, span, message)
                .with_label("cannot tell the two sides apart")
                .with_help(
                    "name the join's references: `@through(Join, from: this_side, to: other_side)`",
                ),
        );
        None
    }

    pub(super) fn resolve_indexes(&mut self) {
        let pending = std::mem::take(&mut self.pending_directives);
        for (id, members) in pending {
            let mut entity = self.ir.entities[id.index()].clone();
            for m in members {
                match &m.kind {
                    ast::MemberKind::Index {
                        kind: ast::IndexKind::Index | ast::IndexKind::Unique,
                        columns,
                        attrs,
                    } => {
                        let unique = matches!(
                            m.kind,
                            ast::MemberKind::Index {
                                kind: ast::IndexKind::Unique,
                                ..
                            }
                        );
                        if let Some(index) =
                            self.declared_index(&entity, id, columns, attrs, unique, m.span)
                        {
                            entity.indexes.push(index);
                        }
                    }
                    ast::MemberKind::Check { expr, attrs } => {
                        if let Some(check) = self.check(&entity, id, expr, attrs) {
                            entity.checks.push(check);
                        }
                    }
                    _ => {}
                }
            }
            field_indexes(&mut entity);
            self.ir.entities[id.index()] = entity;
            self.foreign_key_indexes(id);
        }
    }

    fn declared_index(
        &mut self,
        entity: &Entity,
        id: EntityId,
        columns: &[ast::Ident],
        attrs: &[ast::Attribute],
        unique: bool,
        span: Span,
    ) -> Option<Index> {
        let cols = self.columns(entity, columns);
        if cols.len() != columns.len() {
            return None;
        }
        let mut index = Index {
            name: String::new(),
            columns: cols,
            unique,
            method: IndexMethod::BTree,
            predicate: None,
            source: IndexSource::Declared,
            allows: Vec::new(),
            span,
        };
        let mut name = None;
        for a in attrs {
            match a.name.name.as_str() {
                "where" => index.predicate = self.single_arg(a).and_then(|e| self.predicate(id, e)),
                "using" => match self
                    .single_arg(a)
                    .and_then(path_ident)
                    .map(|i| i.name.as_str())
                {
                    Some("gin") => index.method = IndexMethod::Gin,
                    Some("btree") => index.method = IndexMethod::BTree,
                    _ => self.error(
                        Diagnostic::error(Code::BAD_ARGUMENTS, a.span, "unknown index method")
                            .with_label("expected `btree` or `gin`")
                            .with_help("write `@using(gin)` for JSON columns"),
                    ),
                },
                "name" => name = self.string_arg(a),
                "allow" => index.allows.extend(self.allow(a)),
                _ => self.unknown_attr(a, "an index", INDEX_ATTRS),
            }
        }
        let column_names: Vec<&str> = index
            .columns
            .iter()
            .map(|c| entity.fields[*c].column.as_str())
            .collect();
        index.name =
            name.unwrap_or_else(|| names::index_name(&entity.table, &column_names, unique));
        Some(index)
    }

    fn check(
        &mut self,
        entity: &Entity,
        id: EntityId,
        expr: &ast::Expr,
        attrs: &[ast::Attribute],
    ) -> Option<Check> {
        let mut name = None;
        for a in attrs {
            match a.name.name.as_str() {
                "name" => name = self.string_arg(a),
                _ => self.unknown_attr(a, "a check", &["name"]),
            }
        }
        let resolved = self.predicate(id, expr)?;
        let name =
            name.unwrap_or_else(|| format!("ck_{}_{}", entity.table, entity.checks.len() + 1));
        Some(Check {
            name,
            expr: resolved,
            span: expr.span,
        })
    }

    /// Adds an index for every foreign key no index leads with, unless the spec opts out.
    fn foreign_key_indexes(&mut self, id: EntityId) {
        let relations: Vec<Relation> = self.ir.relations_from(id).map(|(_, r)| r.clone()).collect();
        let entity = &mut self.ir.entities[id.index()];
        for r in relations {
            let leads = entity
                .indexes
                .iter()
                .any(|i| i.columns.first() == Some(&r.field))
                || entity.primary_key.first() == Some(&r.field);
            if leads || r.index_opt_out.is_some() {
                continue;
            }
            let column = entity.fields[r.field].column.clone();
            entity.indexes.push(Index {
                name: names::index_name(&entity.table, &[&column], false),
                columns: vec![r.field],
                unique: false,
                method: IndexMethod::BTree,
                predicate: None,
                source: IndexSource::ForeignKey,
                allows: Vec::new(),
                span: r.span,
            });
        }
    }

    // Small attribute helpers.

    pub(super) fn no_args(&mut self, a: &ast::Attribute) {
        if a.args.is_some() {
            self.error(
                Diagnostic::error(
                    Code::BAD_ARGUMENTS,
                    a.span,
                    format!("`@{}` takes no arguments", a.name.name),
                )
                .with_label("unexpected arguments")
                .with_help(format!("write `@{}`", a.name.name)),
            );
        }
    }

    pub(super) fn single_arg<'e>(&mut self, a: &'e ast::Attribute) -> Option<&'e ast::Expr> {
        match a.args.as_deref() {
            Some([arg]) if arg.name.is_none() => Some(&arg.value),
            _ => {
                self.error(
                    Diagnostic::error(
                        Code::BAD_ARGUMENTS,
                        a.span,
                        format!("`@{}` takes one argument", a.name.name),
                    )
                    .with_label("expected one argument")
                    .with_help(format!("write `@{}(value)`", a.name.name)),
                );
                None
            }
        }
    }

    pub(super) fn string_arg(&mut self, a: &ast::Attribute) -> Option<String> {
        let expr = self.single_arg(a)?;
        if let ast::ExprKind::Literal(ast::Literal::Str(s)) = &expr.kind {
            return Some(s.value.clone());
        }
        self.error(
            Diagnostic::error(
                Code::BAD_ARGUMENTS,
                expr.span,
                format!("`@{}` takes a string", a.name.name),
            )
            .with_label("not a string")
            .with_help(format!("write `@{}(\"...\")`", a.name.name)),
        );
        None
    }

    fn on_delete_arg(&mut self, a: &ast::Attribute) -> Option<OnDelete> {
        // A wrong argument count is already reported by `single_arg`.
        let arg = self.single_arg(a)?;
        let name = path_ident(arg).map(|i| i.name.clone());
        let value = match name.as_deref() {
            Some("cascade") => Some(OnDelete::Cascade),
            Some("restrict") => Some(OnDelete::Restrict),
            Some("set_null") => Some(OnDelete::SetNull),
            Some("no_action") => Some(OnDelete::NoAction),
            _ => None,
        };
        if value.is_none() {
            self.error(
                Diagnostic::error(Code::BAD_ARGUMENTS, a.span, "unknown `on_delete` action")
                    .with_label("expected `cascade`, `restrict`, `set_null` or `no_action`")
                    .with_help("write `@on_delete(cascade)`"),
            );
        }
        value
    }
}

fn is_text(ty: &FieldType) -> bool {
    matches!(
        ty,
        FieldType::String | FieldType::Text | FieldType::Email | FieldType::Url
    )
}

fn is_numeric(ty: &FieldType) -> bool {
    matches!(
        ty,
        FieldType::Int | FieldType::BigInt | FieldType::Float | FieldType::Decimal { .. }
    )
}

fn first_line(text: &str) -> String {
    text.lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_else(|| text.lines().last().unwrap_or(text))
        .trim_start_matches("error: ")
        .to_string()
}

/// The flag an argument-less attribute such as `@unique` sets.
fn flag_slot<'f>(flags: &'f mut FieldFlags, name: &str) -> Option<&'f mut bool> {
    Some(match name {
        "primary" => &mut flags.primary,
        "unique" => &mut flags.unique,
        "indexed" => &mut flags.indexed,
        "immutable" => &mut flags.immutable,
        "readonly" => &mut flags.readonly,
        "sensitive" => &mut flags.sensitive,
        "write_only" => &mut flags.write_only,
        "updated_at" => &mut flags.updated_at,
        _ => return None,
    })
}

/// `@unique` and `@indexed` fields become single-column indexes.
fn field_indexes(entity: &mut Entity) {
    let existing: BTreeSet<(Vec<usize>, bool)> = entity
        .indexes
        .iter()
        .map(|i| (i.columns.clone(), i.unique))
        .collect();
    for (i, f) in entity.fields.iter().enumerate() {
        let wanted = if f.flags.unique {
            Some(true)
        } else if f.flags.indexed {
            Some(false)
        } else {
            None
        };
        let Some(unique) = wanted else { continue };
        if f.flags.primary && entity.primary_key.len() == 1 || existing.contains(&(vec![i], unique))
        {
            continue;
        }
        let predicate = None;
        entity.indexes.push(Index {
            name: names::index_name(&entity.table, &[&f.column], unique),
            columns: vec![i],
            unique,
            method: IndexMethod::BTree,
            predicate,
            source: IndexSource::Field,
            // `@allow` on the field covers the index its `@unique` creates.
            allows: f.allows.clone(),
            span: f.span,
        });
    }
}

pub(super) fn path_ident(e: &ast::Expr) -> Option<&ast::Ident> {
    match &e.kind {
        ast::ExprKind::Path(p) => p.single(),
        _ => None,
    }
}

fn describe_literal(lit: &ast::Literal) -> String {
    match lit {
        ast::Literal::Str(s) => format!("the string \"{}\"", s.value),
        ast::Literal::Number(n, _) => format!("the number {}", n.text),
        ast::Literal::Duration { value, unit, .. } => {
            format!("the duration {value}{}", unit.suffix())
        }
        ast::Literal::Bool(b, _) => format!("`{b}`"),
        ast::Literal::Null(_) => "`null`".to_string(),
    }
}

pub(crate) fn type_label(ty: &FieldType) -> &'static str {
    match ty {
        FieldType::Uuid => "uuid",
        FieldType::String => "string",
        FieldType::Text => "text",
        FieldType::Int => "int",
        FieldType::BigInt => "bigint",
        FieldType::Float => "float",
        FieldType::Decimal { .. } => "decimal",
        FieldType::Bool => "bool",
        FieldType::Timestamp => "timestamp",
        FieldType::Date => "date",
        FieldType::Json => "json",
        FieldType::Email => "email",
        FieldType::Url => "url",
        FieldType::Password => "password",
        FieldType::Enum(_) => "enum",
        FieldType::Ref(_) => "ref",
    }
}

/// A field with no properties yet: the start of every field, and the scratch field a type
/// alias is checked on.
fn placeholder_field(span: Span) -> Field {
    Field {
        name: String::new(),
        column: String::new(),
        docs: Vec::new(),
        ty: FieldType::Text,
        alias: None,
        optional: false,
        default: None,
        flags: FieldFlags::default(),
        length: None,
        range: None,
        pattern: None,
        checks: Vec::new(),
        json_name: None,
        renamed_from: None,
        auto: None,
        relation: None,
        origin: None,
        allows: Vec::new(),
        span,
        type_span: span,
    }
}
