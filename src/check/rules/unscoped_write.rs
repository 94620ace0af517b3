use super::restricts_beyond_authenticated;
use crate::check::rule::{RuleContext, Scope, declare_rule};
use crate::diagnostics::Severity;
use crate::ir::{Ir, OpKind};

declare_rule! {
    /// ## What it does
    /// Flags an update or delete that any signed-in caller may perform on any record: its
    /// rule has no ownership, role or condition beyond `authenticated`.
    ///
    /// ## Why is this bad?
    /// "Signed in" is not "allowed to change this". Without an owner or role check every
    /// user can edit or delete every other user's records by changing an id in the URL:
    /// the most common authorization hole in APIs (OWASP API1, broken object level
    /// authorization). A resource bound to the caller (`singleton = auth.user`) is owned by
    /// construction.
    ///
    /// ## Example
    /// ```svc
    /// entity Post {
    ///   include uuid_id
    ///   author: ref Account @on_delete(cascade)
    ///   include timestamps
    /// }
    ///
    /// resource posts: Post at "/posts" {
    ///   delete {
    ///     auth = authenticated
    ///   }
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
    ///
    /// resource posts: Post at "/posts" {
    ///   delete {
    ///     auth = owner(author) or role(admin)
    ///   }
    /// }
    /// ```
    pub(crate) static UNSCOPED_WRITE = {
        code: "SVC203",
        name: "unscoped-write",
        summary: "update or delete allowed for any signed-in caller",
        severity: Severity::Error,
        check: unscoped_write,
    }
}

fn unscoped_write(ir: &Ir, cx: &mut RuleContext<'_>) {
    for (op_ref, resource, op) in ir
        .operations()
        .filter(|(_, _, op)| matches!(op.kind, OpKind::Update | OpKind::Delete))
    {
        let Some(auth) = &op.auth else { continue };
        if resource.singleton
            || auth.value.is_public()
            || restricts_beyond_authenticated(&auth.value)
        {
            continue;
        }
        cx.report(Scope::Operation(op_ref), auth.span, format!("any signed-in caller may {} any record through `{}.{}`", op.kind.as_str(), resource.name, op.name))
            .label("no owner, role or condition")
            .help("restrict it: `owner(field)`, `role(admin)`, a policy, or a combination such as `owner(author) or role(admin)`");
    }
}
