//! What a readiness rule is, and the context that stamps its findings with a code and
//! severity and applies `@allow` suppressions, so no rule can forget them.

use crate::diagnostics::{Code, Diagnostic, Severity};
use crate::ir::{Allow, CacheId, EntityId, Ir, OpRef, ResourceId};
use crate::source::Span;

/// A registered readiness rule.
#[derive(Debug)]
pub struct Rule {
    pub code: &'static str,
    pub name: &'static str,
    pub summary: &'static str,
    pub severity: Severity,
    /// Markdown: `## What it does`, `## Why is this bad?`, `## Example`, `Use instead:`.
    pub doc: &'static str,
    pub check: fn(&Ir, &mut RuleContext<'_>),
    pub file: &'static str,
    pub line: u32,
}

impl Rule {
    /// The rule's documentation as Markdown (doc comments keep one leading space per line).
    pub fn documentation(&self) -> String {
        self.doc
            .lines()
            .map(|l| l.strip_prefix(' ').unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Declares a rule; its doc comment becomes the text `svcc explain` prints.
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        pub(crate) static $ident:ident = {
            code: $code:literal,
            name: $name:literal,
            summary: $summary:literal,
            severity: $severity:expr,
            check: $check:path,
        }
    ) => {
        pub(crate) static $ident: $crate::check::rule::Rule = $crate::check::rule::Rule {
            code: $code,
            name: $name,
            summary: $summary,
            severity: $severity,
            doc: concat!($($doc, "\n"),*),
            check: $check,
            file: file!(),
            line: line!(),
        };
    };
}
pub(crate) use declare_rule;

/// The spec element a finding is about; its `@allow`s, and those of the elements around
/// it, may suppress the finding.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    Service,
    Auth,
    Entity(EntityId),
    Field(EntityId, usize),
    Index(EntityId, usize),
    Resource(ResourceId),
    Operation(OpRef),
    Cache(CacheId),
}

pub struct RuleContext<'a> {
    ir: &'a Ir,
    rule: &'static Rule,
    severity: Severity,
    pub(super) findings: Vec<Diagnostic>,
    /// Spans of the `@allow`s that suppressed something, to report unused ones.
    pub(super) used_allows: Vec<Span>,
}

impl<'a> RuleContext<'a> {
    pub(super) fn new(ir: &'a Ir, rule: &'static Rule, severity: Severity) -> Self {
        Self {
            ir,
            rule,
            severity,
            findings: Vec::new(),
            used_allows: Vec::new(),
        }
    }

    /// Reports a finding at `span` unless an `@allow` on `scope` (or around it) names this rule.
    pub fn report(&mut self, scope: Scope, span: Span, message: impl Into<String>) -> Finding<'_> {
        // `ir` is copied out so the allow list does not borrow `self`.
        let ir = self.ir;
        let allowed = allows_for(ir, scope)
            .into_iter()
            .find(|a| self.matches(a))
            .map(|a| a.span);
        if let Some(span) = allowed {
            self.used_allows.push(span);
            return Finding(None);
        }
        let mut d = Diagnostic::error(Code(self.rule.code), span, message);
        d.severity = self.severity;
        self.findings.push(d);
        Finding(self.findings.last_mut())
    }

    /// An `@allow` without a reason suppresses nothing (SVC001 reports it).
    fn matches(&self, allow: &Allow) -> bool {
        allow.reason.is_some()
            && (allow.code.eq_ignore_ascii_case(self.rule.code) || allow.code == self.rule.name)
    }
}

/// A reported finding, to add its help line and labels to. Suppressed findings hold
/// nothing and ignore the calls.
pub struct Finding<'c>(Option<&'c mut Diagnostic>);

impl Finding<'_> {
    pub fn help(mut self, help: impl Into<String>) -> Self {
        if let Some(d) = self.0.as_deref_mut() {
            d.help = Some(help.into());
        }
        self
    }

    pub fn label(mut self, text: impl Into<String>) -> Self {
        if let Some(d) = self.0.as_deref_mut() {
            d.primary.text = text.into();
        }
        self
    }

    pub fn secondary(mut self, span: Span, text: impl Into<String>) -> Self {
        if let Some(d) = self.0.as_deref_mut() {
            d.secondary.push(crate::diagnostics::Label {
                span,
                text: text.into(),
            });
        }
        self
    }
}

/// Every `@allow` that covers an element: its own, its container's and the service's.
pub(super) fn allows_for(ir: &Ir, scope: Scope) -> Vec<&Allow> {
    let service = ir.service.allows.iter();
    match scope {
        Scope::Service => service.collect(),
        Scope::Auth => ir
            .auth
            .iter()
            .flat_map(|a| a.allows.iter())
            .chain(service)
            .collect(),
        Scope::Entity(e) => ir.entity(e).allows.iter().chain(service).collect(),
        Scope::Field(e, f) => ir.entity(e).fields[f]
            .allows
            .iter()
            .chain(&ir.entity(e).allows)
            .chain(service)
            .collect(),
        Scope::Index(e, i) => ir.entity(e).indexes[i]
            .allows
            .iter()
            .chain(&ir.entity(e).allows)
            .chain(service)
            .collect(),
        Scope::Resource(r) => ir.resource(r).allows.iter().chain(service).collect(),
        Scope::Operation(op) => ir
            .operation(op)
            .allows
            .iter()
            .chain(&ir.resource(op.resource).allows)
            .chain(service)
            .collect(),
        Scope::Cache(c) => ir.cache(c).allows.iter().chain(service).collect(),
    }
}
