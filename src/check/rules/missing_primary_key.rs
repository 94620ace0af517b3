use crate::check::rule::{RuleContext, Scope, declare_rule};
use crate::diagnostics::Severity;
use crate::ir::{EntityId, Ir};

declare_rule! {
    /// ## What it does
    /// Flags an entity without a primary key.
    ///
    /// ## Why is this bad?
    /// Without a primary key rows cannot be addressed, updated or deleted one at a time,
    /// duplicates creep in, replication and most migration tools refuse the table, and
    /// foreign keys cannot point at it.
    ///
    /// ## Example
    /// ```svc
    /// entity Visit {
    ///   path: string(1..500)
    ///   include timestamps
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```svc
    /// entity Visit {
    ///   include uuid_id
    ///   path: string(1..500)
    ///   include timestamps
    /// }
    /// ```
    pub(crate) static MISSING_PRIMARY_KEY = {
        code: "SVC104",
        name: "missing-primary-key",
        summary: "entity without a primary key",
        severity: Severity::Error,
        check: missing_primary_key,
    }
}

fn missing_primary_key(ir: &Ir, cx: &mut RuleContext<'_>) {
    for (i, e) in ir
        .entities
        .iter()
        .enumerate()
        .filter(|(_, e)| e.primary_key.is_empty())
    {
        cx.report(Scope::Entity(EntityId(crate::ir::id32(i))), e.span, format!("entity `{}` has no primary key", e.name))
            .label("no primary key")
            .help("add `id: uuid @primary @default(uuid7())` (or `include uuid_id` from `std.mixins`), or `primary (a, b)` for a join entity");
    }
}
