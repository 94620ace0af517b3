use crate::check::rule::{RuleContext, declare_rule};
use crate::diagnostics::Severity;
use crate::ir::Ir;

declare_rule! {
    /// ## What it does
    /// Flags an `@allow(...)` that suppresses no finding on the element it is attached to.
    ///
    /// ## Why is this bad?
    /// A stale suppression hides nothing today, but it will silently hide the next real
    /// finding of that rule on the element, which its reason never considered.
    ///
    /// ## Example
    /// ```svc
    /// entity Note @allow(SVC104, reason: "keyed by its content") {
    ///   include uuid_id
    ///   body: string(..500)
    ///   include timestamps
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
    pub(crate) static UNUSED_ALLOW = {
        code: "SVC003",
        name: "unused-allow",
        summary: "`@allow` that suppresses nothing",
        severity: Severity::Warning,
        check: reported_after_all_rules,
    }
}

/// Whether an `@allow` was used is only known once every other rule ran, so
/// `check::unused_allows` reports this rule's findings.
fn reported_after_all_rules(_ir: &Ir, _cx: &mut RuleContext<'_>) {}
