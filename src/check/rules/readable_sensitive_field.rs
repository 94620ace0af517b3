use crate::check::rule::{RuleContext, Scope, declare_rule};
use crate::diagnostics::Severity;
use crate::ir::{EntityId, Field, FieldType, Ir, Step};
use crate::source::Span;

declare_rule! {
    /// ## What it does
    /// Flags a sensitive field (a `password`, or a field marked `@sensitive` or
    /// `@write_only`) that an operation would expose: in a view, a filter, a sort order, a
    /// plucked list or as a resource key. Also flags a field whose name says it holds a
    /// credential (`password`, `secret`, `token`, `api_key`...) but whose type is neither
    /// `password` nor marked `@sensitive`.
    ///
    /// ## Why is this bad?
    /// Generated services never return or log sensitive fields, but a view or a filter
    /// naming one would reveal it, directly or one character at a time (`?token=a...`).
    /// A credential stored as a plain `string` is returned by every read and written to
    /// logs: a breach waiting to happen.
    ///
    /// ## Example
    /// ```svc
    /// entity Device {
    ///   include uuid_id
    ///   name:      string(1..100)
    ///   api_token: string(..200)
    ///   include timestamps
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```svc
    /// entity Device {
    ///   include uuid_id
    ///   name:      string(1..100)
    ///   api_token: string(..200) @sensitive
    ///   include timestamps
    /// }
    /// ```
    pub(crate) static READABLE_SENSITIVE_FIELD = {
        code: "SVC204",
        name: "readable-sensitive-field",
        summary: "sensitive field exposed, or a credential not marked sensitive",
        severity: Severity::Error,
        check: readable_sensitive_field,
    }
}

const CREDENTIAL_WORDS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "apikey",
    "credential",
    "credentials",
];

/// Whether a snake_case name has a credential word as one of its words (`push_token`,
/// `api_key`), not merely inside a word (`secretary`).
fn looks_like_credential(name: &str) -> bool {
    let words: Vec<&str> = name.split('_').collect();
    words.iter().any(|w| CREDENTIAL_WORDS.contains(w))
        || words
            .windows(2)
            .any(|p| matches!(p, ["api" | "private" | "access" | "secret", "key"]))
}

fn readable_sensitive_field(ir: &Ir, cx: &mut RuleContext<'_>) {
    credentials_in_plain_fields(ir, cx);
    for (op_ref, resource, op) in ir.operations() {
        let mut exposed: Vec<(EntityId, usize, Span, &str)> = Vec::new();
        let entity = resource.entity;
        if let Some(v) = op.view.or(resource.default_view) {
            exposed.extend(
                resource.views[v]
                    .fields
                    .iter()
                    .map(|f| (entity, *f, resource.views[v].span, "returned by view")),
            );
        }
        if let Some(list) = &op.list {
            for filter in &list.filters {
                if let Some(Step::Field { entity, field }) = filter.path.steps.last().copied() {
                    exposed.push((entity, field, filter.span, "matched by a filter"));
                }
            }
            exposed.extend(
                list.sort
                    .iter()
                    .map(|s| (entity, s.value, s.span, "used as a sort order")),
            );
        }
        if let Some(p) = op.pluck {
            exposed.push((entity, p, op.span, "listed by `pluck`"));
        }
        exposed.push((
            entity,
            resource.key,
            resource.span,
            "used as the resource key in URLs",
        ));
        for (e, f, span, how) in exposed {
            let field = &ir.entity(e).fields[f];
            if is_sensitive(field) {
                cx.report(
                    Scope::Operation(op_ref),
                    span,
                    format!(
                        "sensitive field `{}.{}` is {how} in `{}.{}`",
                        ir.entity(e).name,
                        field.name,
                        resource.name,
                        op.name
                    ),
                )
                .label("exposes a sensitive field")
                .help(format!(
                    "remove `{}` from it; sensitive fields are write-only",
                    field.name
                ));
            }
        }
    }
}

fn is_sensitive(f: &Field) -> bool {
    f.ty == FieldType::Password || f.flags.sensitive || f.flags.write_only
}

fn credentials_in_plain_fields(ir: &Ir, cx: &mut RuleContext<'_>) {
    for (i, e) in ir.entities.iter().enumerate() {
        for (n, f) in e.fields.iter().enumerate() {
            let lower = f.name.to_lowercase();
            let looks_secret = looks_like_credential(&lower);
            let plain = matches!(f.ty, FieldType::String | FieldType::Text | FieldType::Json);
            if looks_secret && plain && !is_sensitive(f) {
                cx.report(Scope::Field(EntityId(crate::ir::id32(i)), n), f.span, format!("`{}.{}` looks like a credential but would be returned and logged", e.name, f.name))
                    .label("readable credential")
                    .help("use the `password` type for passwords (stored hashed), or mark the field `@sensitive`");
            }
        }
    }
}
