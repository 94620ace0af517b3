use crate::check::rule::{RuleContext, Scope, declare_rule};
use crate::diagnostics::Severity;
use crate::ir::{EntityId, Expr, Ir, Step};

declare_rule! {
    /// ## What it does
    /// Flags a unique constraint on a soft-deleted entity that also covers deleted rows.
    ///
    /// ## Why is this bad?
    /// A soft-deleted row stays in the table. If uniqueness covers it, a deleted product's
    /// name can never be used again and re-creating a deleted account fails with a conflict
    /// the user cannot see. Unique indexes of soft-deleted entities must be partial on
    /// `deleted_at IS NULL`.
    ///
    /// ## Example
    /// ```svc
    /// entity Product {
    ///   include uuid_id
    ///   name: string(1..200) @unique
    ///   include timestamps
    ///   include soft_delete
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```svc
    /// entity Product {
    ///   include uuid_id
    ///   name: string(1..200)
    ///   include timestamps
    ///   include soft_delete
    ///   unique (name) @where(deleted_at == null)
    /// }
    /// ```
    pub(crate) static SOFT_DELETE_UNIQUE_INDEX = {
        code: "SVC109",
        name: "soft-delete-unique-index",
        summary: "unique index of a soft-deleted entity covers deleted rows",
        severity: Severity::Error,
        check: soft_delete_unique_index,
    }
}

fn soft_delete_unique_index(ir: &Ir, cx: &mut RuleContext<'_>) {
    for (i, e) in ir.entities.iter().enumerate() {
        let Some(deleted_at) = e.soft_delete else {
            continue;
        };
        let id = EntityId(crate::ir::id32(i));
        for (n, index) in e.indexes.iter().enumerate().filter(|(_, idx)| idx.unique) {
            if index
                .predicate
                .as_ref()
                .is_some_and(|p| mentions(p, id, deleted_at))
            {
                continue;
            }
            let columns: Vec<&str> = index
                .columns
                .iter()
                .map(|c| e.fields[*c].name.as_str())
                .collect();
            cx.report(
                Scope::Index(id, n),
                index.span,
                format!(
                    "unique index `{}` of soft-deleted `{}` also covers deleted rows",
                    index.name, e.name
                ),
            )
            .label("deleted rows still count")
            .help(format!(
                "write `unique ({}) @where({} == null)` instead",
                columns.join(", "),
                e.fields[deleted_at].name
            ));
        }
    }
}

fn mentions(expr: &Expr, entity: EntityId, field: usize) -> bool {
    match expr {
        Expr::Field(p) => p.steps.first() == Some(&Step::Field { entity, field }),
        Expr::Or(es) | Expr::And(es) => es.iter().any(|e| mentions(e, entity, field)),
        Expr::Not(e) => mentions(e, entity, field),
        Expr::Compare { lhs, rhs, .. } => {
            mentions(lhs, entity, field) || mentions(rhs, entity, field)
        }
        Expr::This | Expr::Caller(_) | Expr::Value(_) | Expr::Count(_) | Expr::Embed { .. } => {
            false
        }
    }
}
