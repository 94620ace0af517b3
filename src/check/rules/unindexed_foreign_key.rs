use crate::check::rule::{RuleContext, Scope, declare_rule};
use crate::diagnostics::Severity;
use crate::ir::Ir;

declare_rule! {
    /// ## What it does
    /// svcc indexes every foreign-key column automatically. This rule flags a
    /// `@no_index` opt-out that does not give a reason.
    ///
    /// ## Why is this bad?
    /// Without an index, every delete of a parent row scans the child table to enforce the
    /// constraint, and every join or filter on the reference is a sequential scan. Leaving it
    /// out is occasionally right (a tiny table, a write-heavy log), and that judgement must
    /// be written down.
    ///
    /// ## Example
    /// ```svc
    /// entity Post {
    ///   include uuid_id
    ///   author: ref Account @on_delete(cascade) @no_index
    ///   include timestamps
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```svc
    /// entity Post {
    ///   include uuid_id
    ///   author: ref Account @on_delete(cascade)
    ///   include timestamps
    /// }
    /// ```
    pub(crate) static UNINDEXED_FOREIGN_KEY = {
        code: "SVC102",
        name: "unindexed-foreign-key",
        summary: "foreign key left unindexed without a reason",
        severity: Severity::Error,
        check: unindexed_foreign_key,
    }
}

fn unindexed_foreign_key(ir: &Ir, cx: &mut RuleContext<'_>) {
    for r in &ir.relations {
        let Some(opt_out) = &r.index_opt_out else {
            continue;
        };
        if opt_out.reason.is_some() {
            continue;
        }
        let from = ir.entity(r.from);
        cx.report(
            Scope::Field(r.from, r.field),
            opt_out.span,
            format!(
                "`{}.{}` opts out of its foreign-key index without a reason",
                from.name, from.fields[r.field].name
            ),
        )
        .label("no reason given")
        .help("remove `@no_index`, or write `@no_index(reason: \"why a scan is acceptable\")`");
    }
}
