use crate::check::rule::{RuleContext, Scope, declare_rule};
use crate::diagnostics::Severity;
use crate::ir::Ir;

declare_rule! {
    /// ## What it does
    /// Flags a reference that does not say what happens when the referenced row is deleted.
    ///
    /// ## Why is this bad?
    /// The database default (`NO ACTION`) turns a routine delete into a constraint error at
    /// run time, and nobody decided whether children should go with the parent, block its
    /// deletion or lose the link. The playbook requires every foreign key to state it.
    ///
    /// ## Example
    /// ```svc
    /// entity Post {
    ///   include uuid_id
    ///   author: ref Account
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
    pub(crate) static IMPLICIT_ON_DELETE = {
        code: "SVC101",
        name: "implicit-on-delete",
        summary: "reference without an explicit `@on_delete`",
        severity: Severity::Error,
        check: implicit_on_delete,
    }
}

fn implicit_on_delete(ir: &Ir, cx: &mut RuleContext<'_>) {
    for r in ir.relations.iter().filter(|r| r.on_delete.is_none()) {
        let from = ir.entity(r.from);
        let field = &from.fields[r.field];
        let suggestion = if r.optional { "set_null" } else { "cascade" };
        cx.report(
            Scope::Field(r.from, r.field),
            r.span,
            format!(
                "`{}.{}` does not declare `on_delete`",
                from.name, field.name
            ),
        )
        .label("what happens when the referenced row is deleted?")
        .help(format!(
            "add `@on_delete({suggestion})`, or `restrict` to block deleting a referenced {}",
            ir.entity(r.to).name
        ));
    }
}
