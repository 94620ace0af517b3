use crate::check::rule::{RuleContext, Scope, declare_rule};
use crate::diagnostics::Severity;
use crate::ir::Ir;

declare_rule! {
    /// ## What it does
    /// Flags an operation that does not declare who may call it.
    ///
    /// ## Why is this bad?
    /// Access is the one decision a generator must never guess: defaulting to open leaks
    /// data, defaulting to closed hides the mistake until users complain. Every operation
    /// states `auth` explicitly, even when the answer is `public`.
    ///
    /// ## Example
    /// ```svc
    /// entity Post {
    ///   include uuid_id
    ///   title: string(1..200)
    ///   include timestamps
    /// }
    ///
    /// resource posts: Post at "/posts" {
    ///   get {}
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```svc
    /// entity Post {
    ///   include uuid_id
    ///   title: string(1..200)
    ///   include timestamps
    /// }
    ///
    /// resource posts: Post at "/posts" {
    ///   get {
    ///     auth = public
    ///   }
    /// }
    /// ```
    pub(crate) static UNDECLARED_AUTH = {
        code: "SVC201",
        name: "undeclared-auth",
        summary: "operation without an `auth` rule",
        severity: Severity::Error,
        check: undeclared_auth,
    }
}

fn undeclared_auth(ir: &Ir, cx: &mut RuleContext<'_>) {
    for (op_ref, resource, op) in ir.operations().filter(|(_, _, op)| op.auth.is_none()) {
        cx.report(
            Scope::Operation(op_ref),
            op.span,
            format!(
                "`{}.{}` does not say who may call it",
                resource.name, op.name
            ),
        )
        .label("no `auth`")
        .help(
            "add `auth = public`, `authenticated`, `role(admin)`, `owner(field)` or a policy name",
        );
    }
}
