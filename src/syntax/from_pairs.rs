//! pest pairs → AST. The only code that sees pest's `Rule` enum besides `errors.rs`.

use std::collections::BTreeMap;

use std::sync::LazyLock;

use pest::iterators::Pair;
use pest::pratt_parser::{Assoc, Op, PrattParser};

use super::ast::*;
use super::parser::Rule;
use crate::source::{FileId, Span};

pub(super) struct Builder<'s> {
    pub file: FileId,
    /// Added to every pest offset: the start of the chunk being parsed.
    pub offset: usize,
    /// The whole file, and its comments' spans by end offset, to trim spans (below).
    pub text: &'s str,
    pub comment_ends: BTreeMap<usize, usize>,
}

type P<'i> = Pair<'i, Rule>;

impl Builder<'_> {
    /// pest skips blanks and comments after a rule's last token when an optional part
    /// that follows fails to match, and keeps them in the rule's span; cut them off so
    /// spans end at the last token.
    fn span(&self, pair: &P<'_>) -> Span {
        let s = pair.as_span();
        let start = s.start() + self.offset;
        let mut end = s.end() + self.offset;
        loop {
            let trimmed = self.text[start..end].trim_end().len() + start;
            match self.comment_ends.get(&trimmed) {
                Some(&comment_start) if comment_start >= start => end = comment_start,
                _ => {
                    end = trimmed;
                    break;
                }
            }
        }
        Span::new(self.file, start, end)
    }

    /// The span from the first child on: rules that open with `doc*` otherwise start at the
    /// blanks pest skips when no doc comment is present.
    fn span_from_children(&self, pair: &P<'_>) -> Span {
        let full = self.span(pair);
        pair.clone().into_inner().next().map_or(full, |first| Span {
            start: self.span(&first).start,
            ..full
        })
    }

    pub fn items(&self, file: P<'_>) -> Vec<Item> {
        file.into_inner()
            .filter(|p| p.as_rule() == Rule::item)
            .map(|p| self.item(p))
            .collect()
    }

    fn item(&self, pair: P<'_>) -> Item {
        let span = self.span_from_children(&pair);
        let mut docs = Vec::new();
        let mut kind = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::doc => docs.push(doc_text(p)),
                Rule::use_decl => kind = Some(ItemKind::Use(self.use_decl(p))),
                Rule::service => kind = Some(ItemKind::Service(self.service(p))),
                Rule::entity => kind = Some(ItemKind::Entity(self.entity(p))),
                Rule::mixin => kind = Some(ItemKind::Mixin(self.entity(p))),
                Rule::enum_decl => kind = Some(ItemKind::Enum(self.enum_decl(p))),
                Rule::type_alias => kind = Some(ItemKind::TypeAlias(self.type_alias(p))),
                Rule::resource => kind = Some(ItemKind::Resource(self.resource(p))),
                Rule::policy => kind = Some(ItemKind::Policy(self.policy(p))),
                Rule::event => kind = Some(ItemKind::Event(self.event(p))),
                Rule::settings_item => kind = Some(ItemKind::Settings(self.settings_item(p))),
                _ => {}
            }
        }
        // The grammar's `item` rule always holds exactly one statement.
        let kind = kind.unwrap_or_else(|| unreachable!("item without a statement"));
        Item { docs, kind, span }
    }

    fn use_decl(&self, pair: P<'_>) -> Use {
        let target = inner_named(pair, &[Rule::string, Rule::std_path]);
        match target.as_rule() {
            Rule::string => Use::File(self.string(target)),
            _ => Use::Std {
                module: target.as_str().trim_start_matches("std.").to_string(),
                span: self.span(&target),
            },
        }
    }

    fn service(&self, pair: P<'_>) -> Service {
        let mut name = None;
        let mut attrs = Vec::new();
        let mut body = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::ident => name = Some(self.ident(p)),
                Rule::attribute => attrs.push(self.attribute(p)),
                Rule::settings_body => body = Some(self.settings_body(p)),
                _ => {}
            }
        }
        Service {
            name: expect(name),
            attrs,
            body: expect(body),
        }
    }

    fn entity(&self, pair: P<'_>) -> Entity {
        let mut name = None;
        let mut attrs = Vec::new();
        let mut members = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::ident => name = Some(self.ident(p)),
                Rule::attribute => attrs.push(self.attribute(p)),
                Rule::member => members.push(self.member(p)),
                _ => {}
            }
        }
        Entity {
            name: expect(name),
            attrs,
            members,
        }
    }

    fn member(&self, pair: P<'_>) -> Member {
        let span = self.span_from_children(&pair);
        let mut docs = Vec::new();
        let mut kind = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::doc => docs.push(doc_text(p)),
                Rule::field => kind = Some(MemberKind::Field(self.field(p))),
                Rule::include => kind = Some(self.include(p)),
                Rule::index_decl => kind = Some(self.index_decl(p)),
                Rule::check_decl => kind = Some(self.check_decl(p)),
                _ => {}
            }
        }
        Member {
            docs,
            kind: expect(kind),
            span,
        }
    }

    fn field(&self, pair: P<'_>) -> Field {
        let mut name = None;
        let mut ty = None;
        let mut attrs = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::ident => name = Some(self.ident(p)),
                Rule::type_expr => ty = Some(self.type_expr(p)),
                Rule::attribute => attrs.push(self.attribute(p)),
                _ => {}
            }
        }
        Field {
            name: expect(name),
            ty: expect(ty),
            attrs,
        }
    }

    fn include(&self, pair: P<'_>) -> MemberKind {
        let mut mixin = None;
        let mut attrs = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::ident => mixin = Some(self.ident(p)),
                Rule::attribute => attrs.push(self.attribute(p)),
                _ => {}
            }
        }
        MemberKind::Include {
            mixin: expect(mixin),
            attrs,
        }
    }

    fn index_decl(&self, pair: P<'_>) -> MemberKind {
        let mut kind = IndexKind::Index;
        let mut columns = Vec::new();
        let mut attrs = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::index_kw => {
                    kind = match p.as_str() {
                        "unique" => IndexKind::Unique,
                        "primary" => IndexKind::Primary,
                        _ => IndexKind::Index,
                    }
                }
                Rule::ident_list => columns = p.into_inner().map(|i| self.ident(i)).collect(),
                Rule::attribute => attrs.push(self.attribute(p)),
                _ => {}
            }
        }
        MemberKind::Index {
            kind,
            columns,
            attrs,
        }
    }

    fn check_decl(&self, pair: P<'_>) -> MemberKind {
        let mut expr = None;
        let mut attrs = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::expr => expr = Some(self.expr(p)),
                Rule::attribute => attrs.push(self.attribute(p)),
                _ => {}
            }
        }
        MemberKind::Check {
            expr: expect(expr),
            attrs,
        }
    }

    fn type_expr(&self, pair: P<'_>) -> TypeExpr {
        let span = self.span(&pair);
        let inner = first(pair);
        let kind = match inner.as_rule() {
            Rule::ref_type => {
                let mut target = None;
                let mut optional = false;
                for p in inner.into_inner() {
                    match p.as_rule() {
                        Rule::path => target = Some(self.path(p)),
                        Rule::optional => optional = true,
                        _ => {}
                    }
                }
                TypeKind::Ref {
                    target: expect(target),
                    optional,
                }
            }
            Rule::many_type => {
                let target = inner
                    .into_inner()
                    .find(|p| p.as_rule() == Rule::path)
                    .map(|p| self.path(p));
                TypeKind::Many {
                    target: expect(target),
                }
            }
            _ => return self.scalar_type(inner),
        };
        TypeExpr { kind, span }
    }

    fn scalar_type(&self, pair: P<'_>) -> TypeExpr {
        let span = self.span(&pair);
        let mut name = None;
        let mut args = None;
        let mut optional = false;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::ident => name = Some(self.ident(p)),
                Rule::type_args => args = Some(self.type_args(p)),
                Rule::optional => optional = true,
                _ => {}
            }
        }
        TypeExpr {
            kind: TypeKind::Scalar {
                name: expect(name),
                args,
                optional,
            },
            span,
        }
    }

    fn type_args(&self, pair: P<'_>) -> TypeArgs {
        let span = self.span(&pair);
        let inner = first(pair);
        match inner.as_rule() {
            Rule::range => {
                let text = inner.as_str();
                let (lo, hi) = text.split_once("..").unwrap_or((text, ""));
                // A number too large for i64 stays visible as i64::MAX, for the resolver to reject.
                let bound =
                    |s: &str| (!s.trim().is_empty()).then(|| s.trim().parse().unwrap_or(i64::MAX));
                TypeArgs::Range {
                    min: bound(lo),
                    max: bound(hi),
                    span,
                }
            }
            _ => TypeArgs::List {
                values: inner
                    .into_inner()
                    .filter_map(|p| p.as_str().parse().ok())
                    .collect(),
                span,
            },
        }
    }

    fn enum_decl(&self, pair: P<'_>) -> Enum {
        let mut name = None;
        let mut attrs = Vec::new();
        let mut variants = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::ident => name = Some(self.ident(p)),
                Rule::attribute => attrs.push(self.attribute(p)),
                Rule::variant => variants.push(self.variant(p)),
                _ => {}
            }
        }
        Enum {
            name: expect(name),
            attrs,
            variants,
        }
    }

    fn variant(&self, pair: P<'_>) -> Variant {
        let mut docs = Vec::new();
        let mut name = None;
        let mut attrs = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::doc => docs.push(doc_text(p)),
                Rule::ident => name = Some(self.ident(p)),
                Rule::attribute => attrs.push(self.attribute(p)),
                _ => {}
            }
        }
        Variant {
            docs,
            name: expect(name),
            attrs,
        }
    }

    fn type_alias(&self, pair: P<'_>) -> TypeAlias {
        let mut name = None;
        let mut ty = None;
        let mut attrs = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::ident => name = Some(self.ident(p)),
                Rule::scalar_type => ty = Some(self.scalar_type(p)),
                Rule::attribute => attrs.push(self.attribute(p)),
                _ => {}
            }
        }
        TypeAlias {
            name: expect(name),
            ty: expect(ty),
            attrs,
        }
    }

    fn resource(&self, pair: P<'_>) -> Resource {
        let mut name = None;
        let mut entity = None;
        let mut path = None;
        let mut attrs = Vec::new();
        let mut body = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::ident => name = Some(self.ident(p)),
                Rule::path => entity = Some(self.path(p)),
                Rule::string => path = Some(self.string(p)),
                Rule::attribute => attrs.push(self.attribute(p)),
                Rule::settings_body => body = Some(self.settings_body(p)),
                _ => {}
            }
        }
        Resource {
            name: expect(name),
            entity: expect(entity),
            path: expect(path),
            attrs,
            body: expect(body),
        }
    }

    fn policy(&self, pair: P<'_>) -> Policy {
        let mut name = None;
        let mut expr = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::ident => name = Some(self.ident(p)),
                Rule::expr => expr = Some(self.expr(p)),
                _ => {}
            }
        }
        Policy {
            name: expect(name),
            expr: expect(expr),
        }
    }

    fn event(&self, pair: P<'_>) -> Event {
        let mut name = None;
        let mut attrs = Vec::new();
        let mut body = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::ident => name = Some(self.ident(p)),
                Rule::attribute => attrs.push(self.attribute(p)),
                Rule::settings_body => body = Some(self.settings_body(p)),
                _ => {}
            }
        }
        Event {
            name: expect(name),
            attrs,
            body: expect(body),
        }
    }

    fn settings_item(&self, pair: P<'_>) -> SettingsItem {
        let mut kind = SettingsKind::Auth;
        let mut name = None;
        let mut attrs = Vec::new();
        let mut body = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::settings_kw => {
                    kind = match p.as_str() {
                        "rate" => SettingsKind::Rate,
                        "cache" => SettingsKind::Cache,
                        _ => SettingsKind::Auth,
                    }
                }
                Rule::ident => name = Some(self.ident(p)),
                Rule::attribute => attrs.push(self.attribute(p)),
                Rule::settings_body => body = Some(self.settings_body(p)),
                _ => {}
            }
        }
        SettingsItem {
            kind,
            name,
            attrs,
            body: expect(body),
        }
    }

    fn settings_body(&self, pair: P<'_>) -> SettingsBody {
        let span = self.span(&pair);
        let entries = pair.into_inner().map(|p| self.entry(p)).collect();
        SettingsBody { entries, span }
    }

    fn entry(&self, pair: P<'_>) -> Entry {
        let span = self.span_from_children(&pair);
        let mut docs = Vec::new();
        let mut kind = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::doc => docs.push(doc_text(p)),
                Rule::setting => {
                    let mut it = p.into_inner();
                    let key = it.next().map(|k| self.ident(k));
                    let value = it.next().map(|v| self.expr(v));
                    kind = Some(EntryKind::Setting {
                        key: expect(key),
                        value: expect(value),
                    });
                }
                Rule::block => kind = Some(EntryKind::Block(self.block(p))),
                _ => {}
            }
        }
        Entry {
            docs,
            kind: expect(kind),
            span,
        }
    }

    fn block(&self, pair: P<'_>) -> Block {
        let mut kind = None;
        let mut labels = Vec::new();
        let mut attrs = Vec::new();
        let mut body = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::ident => kind = Some(self.ident(p)),
                Rule::label => {
                    let l = first(p);
                    labels.push(match l.as_rule() {
                        Rule::string => Label::Str(self.string(l)),
                        _ => Label::Ident(self.ident(l)),
                    });
                }
                Rule::attribute => attrs.push(self.attribute(p)),
                Rule::settings_body => body = Some(self.settings_body(p)),
                _ => {}
            }
        }
        Block {
            kind: expect(kind),
            labels,
            attrs,
            body: expect(body),
        }
    }

    fn attribute(&self, pair: P<'_>) -> Attribute {
        let span = self.span(&pair);
        let mut name = None;
        let mut args = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::ident => name = Some(self.ident(p)),
                Rule::attr_args => args = Some(p.into_inner().map(|a| self.arg(a)).collect()),
                _ => {}
            }
        }
        Attribute {
            name: expect(name),
            args,
            span,
        }
    }

    fn arg(&self, pair: P<'_>) -> Arg {
        let span = self.span(&pair);
        let mut name = None;
        let mut value = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::ident => name = Some(self.ident(p)),
                Rule::expr => value = Some(self.expr(p)),
                _ => {}
            }
        }
        Arg {
            name,
            value: expect(value),
            span,
        }
    }

    /// An `expr` pair: a flat run of operands and operators, folded by precedence.
    fn expr(&self, pair: P<'_>) -> Expr {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().peekable();
        if inner
            .peek()
            .is_some_and(|p| p.as_rule() == Rule::partial_cmp)
        {
            let partial = inner.next().unwrap_or_else(|| unreachable!("peeked"));
            let mut it = partial.into_inner();
            let op = it.next().map_or(CmpOp::Eq, |p| cmp_op(&p));
            let rhs = it.next().map(|p| self.operand(p));
            return Expr {
                kind: ExprKind::Partial {
                    op,
                    rhs: Box::new(expect(rhs)),
                },
                span,
            };
        }
        PRATT
            .map_primary(|p| self.operand(p))
            .map_prefix(|op, rhs| Expr {
                span: self.span(&op).to(rhs.span),
                kind: ExprKind::Not(Box::new(rhs)),
            })
            .map_infix(|lhs, op, rhs| {
                let span = lhs.span.to(rhs.span);
                let kind = match op.as_rule() {
                    Rule::or_op => {
                        ExprKind::Or(flatten(lhs, rhs, |k| matches!(k, ExprKind::Or(_))))
                    }
                    Rule::and_op => {
                        ExprKind::And(flatten(lhs, rhs, |k| matches!(k, ExprKind::And(_))))
                    }
                    _ => ExprKind::Compare {
                        op: cmp_op(&op),
                        lhs: Box::new(lhs),
                        rhs: Box::new(rhs),
                    },
                };
                Expr { kind, span }
            })
            .parse(inner)
    }

    fn operand(&self, pair: P<'_>) -> Expr {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::paren => {
                let inner = pair.into_inner().next().map(|p| self.expr(p));
                Expr {
                    kind: ExprKind::Paren(Box::new(expect(inner))),
                    span,
                }
            }
            Rule::range_lit => {
                let text = pair.as_str();
                let (lo, hi) = text.split_once("..").unwrap_or((text, ""));
                let num = |s: &str| {
                    (!s.is_empty()).then(|| Number {
                        text: s.to_string(),
                    })
                };
                Expr {
                    kind: ExprKind::Range {
                        min: num(lo),
                        max: num(hi),
                    },
                    span,
                }
            }
            Rule::env_call => {
                let mut name = None;
                let mut default = None;
                for p in pair.into_inner() {
                    match p.as_rule() {
                        Rule::string => name = Some(self.string(p)),
                        Rule::literal => default = Some(self.literal(p)),
                        _ => {}
                    }
                }
                Expr {
                    kind: ExprKind::Env {
                        name: expect(name),
                        default,
                    },
                    span,
                }
            }
            Rule::call => {
                let mut name = None;
                let mut args = Vec::new();
                for p in pair.into_inner() {
                    match p.as_rule() {
                        Rule::ident => name = Some(self.ident(p)),
                        Rule::arg => args.push(self.arg(p)),
                        _ => {}
                    }
                }
                Expr {
                    kind: ExprKind::Call {
                        name: expect(name),
                        args,
                    },
                    span,
                }
            }
            Rule::list => Expr {
                kind: ExprKind::List(pair.into_inner().map(|p| self.expr(p)).collect()),
                span,
            },
            Rule::literal => {
                let lit = self.literal(pair);
                Expr {
                    span: lit.span(),
                    kind: ExprKind::Literal(lit),
                }
            }
            Rule::path => {
                let path = self.path(pair);
                Expr {
                    span: path.span,
                    kind: ExprKind::Path(path),
                }
            }
            rule => unreachable!("unexpected operand rule {rule:?}"),
        }
    }

    fn literal(&self, pair: P<'_>) -> Literal {
        let inner = first(pair);
        let span = self.span(&inner);
        let text = inner.as_str();
        match inner.as_rule() {
            Rule::string => Literal::Str(self.string(inner)),
            Rule::duration => {
                let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
                let unit = match &text[digits.len()..] {
                    "ms" => DurationUnit::Millis,
                    "s" => DurationUnit::Seconds,
                    "m" => DurationUnit::Minutes,
                    "h" => DurationUnit::Hours,
                    _ => DurationUnit::Days,
                };
                Literal::Duration {
                    value: digits.parse().unwrap_or(u64::MAX),
                    unit,
                    span,
                }
            }
            Rule::number => Literal::Number(
                Number {
                    text: text.to_string(),
                },
                span,
            ),
            Rule::boolean => Literal::Bool(text == "true", span),
            _ => Literal::Null(span),
        }
    }

    fn string(&self, pair: P<'_>) -> StringLit {
        let span = self.span(&pair);
        let raw = pair.into_inner().next().map_or("", |p| p.as_str());
        StringLit {
            value: unescape(raw),
            span,
        }
    }

    fn path(&self, pair: P<'_>) -> Path {
        let span = self.span(&pair);
        Path {
            segments: pair.into_inner().map(|p| self.ident(p)).collect(),
            span,
        }
    }

    fn ident(&self, pair: P<'_>) -> Ident {
        Ident {
            name: pair.as_str().to_string(),
            span: self.span(&pair),
        }
    }
}

/// Operator precedence, loosest first.
static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::or_op, Assoc::Left))
        .op(Op::infix(Rule::and_op, Assoc::Left))
        .op(Op::prefix(Rule::not_op))
        .op(Op::infix(Rule::cmp_op, Assoc::Left))
});

/// `a or b or c` as one list, not nested pairs; parenthesised groups stay as written.
fn flatten(lhs: Expr, rhs: Expr, same: fn(&ExprKind) -> bool) -> Vec<Expr> {
    let mut parts = Vec::new();
    for side in [lhs, rhs] {
        let merge = same(&side.kind);
        match side.kind {
            ExprKind::Or(inner) | ExprKind::And(inner) if merge => parts.extend(inner),
            kind => parts.push(Expr {
                kind,
                span: side.span,
            }),
        }
    }
    parts
}

fn cmp_op(pair: &P<'_>) -> CmpOp {
    match pair.as_str() {
        "==" => CmpOp::Eq,
        "!=" => CmpOp::Ne,
        ">=" => CmpOp::Ge,
        "<=" => CmpOp::Le,
        ">" => CmpOp::Gt,
        "<" => CmpOp::Lt,
        _ => CmpOp::In,
    }
}

fn doc_text(pair: P<'_>) -> String {
    let text = pair.into_inner().next().map_or("", |p| p.as_str());
    text.strip_prefix(' ')
        .unwrap_or(text)
        .trim_end()
        .to_string()
}

/// Undoes the escapes a string literal may contain: `\"`, `\\`, `\n`, `\t`.
pub(crate) fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

fn first(pair: P<'_>) -> P<'_> {
    // Every rule this is called on has at least one child by construction of the grammar.
    pair.into_inner()
        .next()
        .unwrap_or_else(|| unreachable!("rule without children"))
}

fn inner_named<'i>(pair: P<'i>, rules: &[Rule]) -> P<'i> {
    pair.into_inner()
        .find(|p| rules.contains(&p.as_rule()))
        .unwrap_or_else(|| unreachable!("missing child"))
}

/// Unwraps a child the grammar guarantees. A `None` here is a bug in this file, not bad input.
fn expect<T>(value: Option<T>) -> T {
    value.unwrap_or_else(|| unreachable!("grammar guarantees this child"))
}
