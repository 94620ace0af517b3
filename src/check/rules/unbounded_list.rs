use crate::check::rule::{RuleContext, Scope, declare_rule};
use crate::diagnostics::Severity;
use crate::ir::{Ir, OpKind};

declare_rule! {
    /// ## What it does
    /// Flags a list operation without a default page size (`page`) and a maximum
    /// (`max_page`).
    ///
    /// ## Why is this bad?
    /// A list without a limit returns the whole table: fine with ten rows in development, an
    /// out-of-memory crash and a saturated database with ten million in production. The
    /// maximum caps what a client may ask for with `?limit=`.
    ///
    /// ## Example
    /// ```svc
    /// entity Post {
    ///   include uuid_id
    ///   include timestamps
    /// }
    /// resource posts: Post at "/posts" {
    ///   list {
    ///     auth = public
    ///   }
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```svc
    /// entity Post {
    ///   include uuid_id
    ///   include timestamps
    /// }
    /// resource posts: Post at "/posts" {
    ///   list {
    ///     auth     = public
    ///     page     = 20
    ///     max_page = 100
    ///   }
    /// }
    /// ```
    pub(crate) static UNBOUNDED_LIST = {
        code: "SVC303",
        name: "unbounded-list",
        summary: "list operation without a page size and maximum",
        severity: Severity::Error,
        check: unbounded_list,
    }
}

fn unbounded_list(ir: &Ir, cx: &mut RuleContext<'_>) {
    for (op_ref, resource, op) in ir.operations().filter(|(_, _, op)| op.kind == OpKind::List) {
        let Some(list) = &op.list else { continue };
        let missing: Vec<&str> = [
            (list.page_size.is_none(), "`page`"),
            (list.max_page_size.is_none(), "`max_page`"),
        ]
        .into_iter()
        .filter_map(|(missing, name)| missing.then_some(name))
        .collect();
        if !missing.is_empty() {
            cx.report(
                Scope::Operation(op_ref),
                op.span,
                format!(
                    "`{}.{}` has no {}",
                    resource.name,
                    op.name,
                    missing.join(" or ")
                ),
            )
            .label("unbounded list")
            .help("add `page = 20` and `max_page = 100`");
        }
    }
}
