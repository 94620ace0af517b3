use crate::check::rule::{RuleContext, Scope, declare_rule};
use crate::diagnostics::Severity;
use crate::ir::{Default, EntityId, Ir};

declare_rule! {
    /// ## What it does
    /// Flags a primary key generated as a random UUID (v4).
    ///
    /// ## Why is this bad?
    /// Random keys land all over the primary-key B-tree, so every insert touches a cold page:
    /// large tables grow slower, bloat, and cache worse. UUID v7 keys are just as unguessable
    /// across tenants but ordered by time, so inserts append.
    ///
    /// ## Example
    /// ```svc
    /// entity Event {
    ///   id:   uuid @primary @default(uuid4())
    ///   kind: string(1..50)
    ///   include timestamps
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```svc
    /// entity Event {
    ///   id:   uuid @primary @default(uuid7())
    ///   kind: string(1..50)
    ///   include timestamps
    /// }
    /// ```
    pub(crate) static RANDOM_UUID_PRIMARY_KEY = {
        code: "SVC105",
        name: "random-uuid-primary-key",
        summary: "primary key generated as a random UUID v4",
        severity: Severity::Warning,
        check: random_uuid_primary_key,
    }
}

fn random_uuid_primary_key(ir: &Ir, cx: &mut RuleContext<'_>) {
    for (i, e) in ir.entities.iter().enumerate() {
        for &f in &e.primary_key {
            let field = &e.fields[f];
            if field.default == Some(Default::Uuid4) {
                let id = EntityId(crate::ir::id32(i));
                cx.report(
                    Scope::Field(id, f),
                    field.span,
                    format!(
                        "`{}.{}` is a random UUID v4 primary key",
                        e.name, field.name
                    ),
                )
                .label("inserts scatter across the index")
                .help("use `@default(uuid7())`: time-ordered, so inserts append to the index");
            }
        }
    }
}
