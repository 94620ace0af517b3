//! Stage 3: production-readiness rules over the IR.
//!
//! Each rule lives in its own file under `rules/`, is registered in `registry.rs`, and is a
//! plain function over `&Ir`. `check` runs them with the spec's severity overrides and
//! `@allow` suppressions, then reports problems with the suppressions themselves.

pub(crate) mod registry;
pub(crate) mod rule;
mod rules;

pub use registry::{RULES, find_rule, rules_markdown};
pub use rule::{Rule, Scope};

use crate::diagnostics::{Code, Diagnostic, Severity};
use crate::ir::{Allow, Ir};
use rule::RuleContext;

/// Runs every rule. Findings are sorted by position.
pub fn check(ir: &Ir) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut used_allows = Vec::new();
    for rule in RULES {
        let Some(severity) = severity_of(ir, rule) else {
            continue;
        };
        let mut cx = RuleContext::new(ir, rule, severity);
        (rule.check)(ir, &mut cx);
        out.append(&mut cx.findings);
        used_allows.append(&mut cx.used_allows);
    }
    out.extend(unused_allows(ir, &used_allows));
    crate::diagnostics::sort(&mut out);
    out
}

/// The severity a rule runs at after `rules { CODE = level }`; `None` when turned off.
fn severity_of(ir: &Ir, rule: &Rule) -> Option<Severity> {
    let level = ir
        .service
        .rule_levels
        .iter()
        .rev()
        .find(|(code, _, _)| code.eq_ignore_ascii_case(rule.code) || code == rule.name);
    match level.map(|(_, level, _)| level.as_str()) {
        Some("off") => None,
        Some("warning") => Some(Severity::Warning),
        Some("error") => Some(Severity::Error),
        _ => Some(rule.severity),
    }
}

/// Every `@allow` written anywhere in the spec.
pub(crate) fn all_allows(ir: &Ir) -> Vec<&Allow> {
    let mut out: Vec<&Allow> = ir.service.allows.iter().collect();
    out.extend(ir.auth.iter().flat_map(|a| &a.allows));
    for e in &ir.entities {
        out.extend(&e.allows);
        out.extend(e.fields.iter().flat_map(|f| &f.allows));
        out.extend(e.indexes.iter().flat_map(|i| &i.allows));
    }
    out.extend(ir.caches.iter().flat_map(|c| &c.allows));
    for r in &ir.resources {
        out.extend(&r.allows);
        out.extend(r.operations.iter().flat_map(|o| &o.allows));
    }
    out
}

/// An `@allow` that suppressed nothing hides nothing today but would hide a regression
/// tomorrow: report it so it is removed.
fn unused_allows(ir: &Ir, used: &[crate::source::Span]) -> Vec<Diagnostic> {
    let rule = &registry::UNUSED_ALLOW;
    let Some(severity) = severity_of(ir, rule) else {
        return Vec::new();
    };
    // Unused allows are found after the rules ran, outside any element's scope: only a
    // service-wide `@allow(SVC003, reason: ...)` suppresses them.
    let names_rule =
        |a: &Allow| a.reason.is_some() && find_rule(&a.code).is_some_and(|r| r.code == rule.code);
    if ir.service.allows.iter().any(names_rule) {
        return Vec::new();
    }
    all_allows(ir)
        .into_iter()
        .filter(|a| a.reason.is_some() && !used.contains(&a.span))
        .filter(|a| find_rule(&a.code).is_some_and(|r| severity_of(ir, r).is_some()))
        .map(|a| {
            let mut d = Diagnostic::error(
                Code(rule.code),
                a.span,
                format!("`@allow({})` suppresses nothing here", a.code),
            )
            .with_label("unused suppression")
            .with_help("remove it; the rule it names has no finding on this element");
            d.severity = severity;
            d
        })
        .collect()
}
