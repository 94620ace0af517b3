use crate::check::rule::{RuleContext, Scope, declare_rule};
use crate::diagnostics::Severity;
use crate::ir::{EntityId, FieldType, Ir};

declare_rule! {
    /// ## What it does
    /// Flags an entity without `created_at` and `updated_at` timestamps.
    ///
    /// ## Why is this bad?
    /// When a row was created and last changed is the first question of every incident,
    /// support request and data migration, and cannot be reconstructed later. Keyset
    /// pagination and cache validation also depend on them.
    ///
    /// ## Example
    /// ```svc
    /// entity Note {
    ///   include uuid_id
    ///   body: string(..500)
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```svc
    /// entity Note {
    ///   include uuid_id
    ///   body: string(..500)
    ///   include timestamps
    /// }
    /// ```
    pub(crate) static MISSING_TIMESTAMPS = {
        code: "SVC106",
        name: "missing-timestamps",
        summary: "entity without `created_at` / `updated_at`",
        severity: Severity::Error,
        check: missing_timestamps,
    }
}

fn missing_timestamps(ir: &Ir, cx: &mut RuleContext<'_>) {
    for (i, e) in ir.entities.iter().enumerate() {
        let has = |name: &str| {
            e.field(name)
                .is_some_and(|(_, f)| f.ty == FieldType::Timestamp)
        };
        let missing: Vec<&str> = ["created_at", "updated_at"]
            .into_iter()
            .filter(|n| !has(n))
            .collect();
        if missing.is_empty() {
            continue;
        }
        cx.report(
            Scope::Entity(EntityId(crate::ir::id32(i))),
            e.span,
            format!("entity `{}` has no `{}`", e.name, missing.join("` or `")),
        )
        .label("no timestamps")
        .help("add `include timestamps` (from `use std.mixins`)");
    }
}
