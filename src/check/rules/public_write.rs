use crate::check::rule::{RuleContext, Scope, declare_rule};
use crate::diagnostics::Severity;
use crate::ir::Ir;

declare_rule! {
    /// ## What it does
    /// Flags an operation that writes (create, update, delete, action, link) and that anyone
    /// may call without signing in.
    ///
    /// ## Why is this bad?
    /// An anonymous write endpoint is an open invitation to spam, vandalism and resource
    /// exhaustion, and nothing ties a change to who made it. The rare legitimate case (a
    /// public contact form, a webhook receiver with its own signature check) must be
    /// suppressed explicitly with a reason.
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
    ///   create {
    ///     auth   = public
    ///     fields = [title]
    ///   }
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
    ///   create {
    ///     auth   = authenticated
    ///     fields = [title]
    ///   }
    /// }
    /// ```
    pub(crate) static PUBLIC_WRITE = {
        code: "SVC202",
        name: "public-write",
        summary: "writing operation open to anonymous callers",
        severity: Severity::Error,
        check: public_write,
    }
}

fn public_write(ir: &Ir, cx: &mut RuleContext<'_>) {
    for (op_ref, resource, op) in ir.operations().filter(|(_, _, op)| op.kind.writes()) {
        let Some(auth) = &op.auth else { continue };
        if auth.value.is_public() {
            cx.report(Scope::Operation(op_ref), auth.span, format!("`{}.{}` writes data and anyone may call it", resource.name, op.name))
                .label("public write")
                .help("require `authenticated` (or a role), or add `@allow(SVC202, reason: \"...\")` to the operation if it must be open");
        }
    }
}
