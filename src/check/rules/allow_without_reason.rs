use crate::check::all_allows;
use crate::check::rule::{RuleContext, Scope, declare_rule};
use crate::diagnostics::Severity;
use crate::ir::Ir;

declare_rule! {
    /// ## What it does
    /// Flags an `@allow(...)` that does not say why the rule does not apply.
    ///
    /// ## Why is this bad?
    /// A suppression is a decision that a reviewer, and whoever changes the spec next, must be
    /// able to judge. Without a reason nobody can tell a considered exception from a silenced
    /// warning. A suppression without a reason suppresses nothing.
    ///
    /// ## Example
    /// ```svc
    /// entity AuditLine @allow(SVC106) {
    ///   include uuid_id
    ///   line: string(..500)
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```svc
    /// entity AuditLine @allow(SVC106, reason: "append-only log written by the database") {
    ///   include uuid_id
    ///   line: string(..500)
    /// }
    /// ```
    pub(crate) static ALLOW_WITHOUT_REASON = {
        code: "SVC001",
        name: "allow-without-reason",
        summary: "`@allow` without a `reason`",
        severity: Severity::Error,
        check: allow_without_reason,
    }
}

fn allow_without_reason(ir: &Ir, cx: &mut RuleContext<'_>) {
    for allow in all_allows(ir).into_iter().filter(|a| a.reason.is_none()) {
        cx.report(
            Scope::Service,
            allow.span,
            format!("`@allow({})` has no reason", allow.code),
        )
        .label("suppression without a reason")
        .help(format!(
            "write `@allow({}, reason: \"why this is safe here\")`",
            allow.code
        ));
    }
}
