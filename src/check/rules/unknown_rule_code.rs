use crate::check::rule::{RuleContext, Scope, declare_rule};
use crate::check::{RULES, all_allows, find_rule};
use crate::diagnostics::{Severity, did_you_mean};
use crate::ir::Ir;

declare_rule! {
    /// ## What it does
    /// Flags an `@allow(...)` or a `rules { ... }` entry naming a rule that does not exist.
    ///
    /// ## Why is this bad?
    /// A misspelt code suppresses nothing, so the author believes a finding is handled while
    /// it is not; or the code names a rule that was removed and the line is dead weight.
    ///
    /// ## Example
    /// ```svc
    /// entity AuditLine @allow(SVC601, reason: "append-only log") {
    ///   include uuid_id
    ///   line: string(..500)
    ///   include timestamps
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```svc
    /// entity AuditLine {
    ///   include uuid_id
    ///   line: string(..500)
    ///   include timestamps
    /// }
    /// ```
    pub(crate) static UNKNOWN_RULE_CODE = {
        code: "SVC002",
        name: "unknown-rule-code",
        summary: "`@allow` or `rules` names an unknown rule",
        severity: Severity::Error,
        check: unknown_rule_code,
    }
}

fn unknown_rule_code(ir: &Ir, cx: &mut RuleContext<'_>) {
    let mut named: Vec<(&str, crate::source::Span)> = all_allows(ir)
        .into_iter()
        .map(|a| (a.code.as_str(), a.span))
        .collect();
    named.extend(
        ir.service
            .rule_levels
            .iter()
            .map(|(code, _, span)| (code.as_str(), *span)),
    );
    for (code, span) in named
        .into_iter()
        .filter(|(code, _)| find_rule(code).is_none())
    {
        let help = suggestion(code).unwrap_or_else(|| "`svcc rules` lists every rule".to_string());
        cx.report(
            Scope::Service,
            span,
            format!("no readiness rule is called `{code}`"),
        )
        .label("unknown rule")
        .help(help);
    }
}

/// A code one typo away (`SVC160` → `SVC106`), or a similar rule name. Codes share their
/// prefix, so string similarity alone would suggest any code for any other.
fn suggestion(code: &str) -> Option<String> {
    let close_code = RULES
        .iter()
        .find(|r| strsim::damerau_levenshtein(&code.to_ascii_uppercase(), r.code) <= 1);
    match close_code {
        Some(r) => Some(format!("did you mean `{}` ({})?", r.code, r.name)),
        None => did_you_mean(code, RULES.iter().map(|r| r.name)),
    }
}
