//! `svcc fmt`: the one canonical layout of a `.svc` file.
//!
//! Two-space indentation; field types aligned in each run of fields; `=` aligned in each
//! run of settings; one statement per line; a blank line between top-level statements
//! (except between consecutive `use`s and `policy`s); at most one blank line kept where the
//! author left one. Comments stay where they were: before the node that follows them, or at
//! the end of the line they ended. Formatting is idempotent and never changes meaning.

use super::ast::*;

pub fn format(file: &File, source: &str) -> String {
    let mut f = Formatter {
        out: String::new(),
        source,
        comments: &file.comments,
        next_comment: 0,
    };
    let mut prev: Option<&Item> = None;
    for item in &file.items {
        if let Some(p) = prev {
            let tight = matches!(
                (&p.kind, &item.kind),
                (ItemKind::Use(_), ItemKind::Use(_)) | (ItemKind::Policy(_), ItemKind::Policy(_))
            );
            if !tight || f.blank_between(p.span.end, item.span.start) {
                f.out.push('\n');
            }
        }
        f.leading_comments(item.span.start, 0);
        f.item(item);
        prev = Some(item);
    }
    f.leading_comments(u32::MAX, 0);
    f.out
}

struct Formatter<'a> {
    out: String,
    source: &'a str,
    comments: &'a [Comment],
    next_comment: usize,
}

/// A line inside a body, before alignment.
enum Line {
    /// `name:` and the rest, aligned in runs.
    Field {
        name: String,
        ty: String,
        rest: String,
    },
    /// `key` and `= value`, aligned in runs.
    Setting { key: String, value: String },
}

impl Formatter<'_> {
    fn item(&mut self, item: &Item) {
        self.docs(&item.docs, 0);
        let end = item.span.end;
        match &item.kind {
            ItemKind::Use(Use::File(s)) => self.line_end(&format!("use {}", string(&s.value)), end),
            ItemKind::Use(Use::Std { module, .. }) => {
                self.line_end(&format!("use std.{module}"), end)
            }
            ItemKind::Service(s) => {
                let head = format!("service {}{}", s.name.name, attrs(&s.attrs));
                self.settings_block(&head, &s.body, 0);
            }
            ItemKind::Settings(s) => {
                let name = s
                    .name
                    .as_ref()
                    .map_or(String::new(), |n| format!(" {}", n.name));
                let head = format!("{}{name}{}", s.kind.keyword(), attrs(&s.attrs));
                self.settings_block(&head, &s.body, 0);
            }
            ItemKind::Entity(e) => self.entity("entity", e, end),
            ItemKind::Mixin(m) => self.entity("mixin", m, end),
            ItemKind::Enum(e) => self.enum_decl(e, end),
            ItemKind::TypeAlias(a) => {
                let text = format!(
                    "type {} = {}{}",
                    a.name.name,
                    type_expr(&a.ty),
                    attrs(&a.attrs)
                );
                self.line_end(&text, end);
            }
            ItemKind::Resource(r) => {
                let head = format!(
                    "resource {}: {} at {}{}",
                    r.name.name,
                    r.entity.dotted(),
                    string(&r.path.value),
                    attrs(&r.attrs)
                );
                self.settings_block(&head, &r.body, 0);
            }
            ItemKind::Policy(p) => {
                self.line_end(&format!("policy {} = {}", p.name.name, expr(&p.expr)), end)
            }
            ItemKind::Event(e) => {
                let head = format!("event {}{}", e.name.name, attrs(&e.attrs));
                self.settings_block(&head, &e.body, 0);
            }
        }
    }

    fn entity(&mut self, keyword: &str, e: &Entity, end: u32) {
        self.push_line(
            &format!("{keyword} {}{} {{", e.name.name, attrs(&e.attrs)),
            0,
        );
        let lines: Vec<Option<Line>> = e.members.iter().map(member_line).collect();
        let mut prev_end = None;
        let mut i = 0;
        while i < e.members.len() {
            let run_end = (i..e.members.len())
                .find(|&j| {
                    j > i
                        && (lines[j].is_none() || self.breaks_run(&e.members[j - 1], &e.members[j]))
                })
                .unwrap_or(e.members.len());
            let run_end = if lines[i].is_none() { i + 1 } else { run_end };
            let width = (i..run_end)
                .filter_map(|j| match &lines[j] {
                    Some(Line::Field { name, .. }) => Some(name.len() + 1),
                    _ => None,
                })
                .max()
                .unwrap_or(0);
            for (m, line) in e.members[i..run_end].iter().zip(&lines[i..run_end]) {
                self.separate(prev_end, m.span.start, 1);
                self.docs(&m.docs, 1);
                let text = match line {
                    Some(Line::Field { name, ty, rest, .. }) => {
                        format!("{:width$} {ty}{rest}", format!("{name}:"))
                    }
                    _ => directive(m),
                };
                self.line_end_indented(text.trim_end(), m.span.end, 1);
                prev_end = Some(m.span.end);
            }
            i = run_end;
        }
        self.close(end, 0);
    }

    fn enum_decl(&mut self, e: &Enum, end: u32) {
        self.push_line(&format!("enum {}{} {{", e.name.name, attrs(&e.attrs)), 0);
        let mut prev_end = None;
        for v in &e.variants {
            let start = v.name.span.start;
            self.separate(prev_end, start, 1);
            self.docs(&v.docs, 1);
            let vend = v.attrs.last().map_or(v.name.span.end, |a| a.span.end);
            self.line_end_indented(&format!("{}{}", v.name.name, attrs(&v.attrs)), vend, 1);
            prev_end = Some(vend);
        }
        self.close(end, 0);
    }

    fn settings_block(&mut self, head: &str, body: &SettingsBody, indent: usize) {
        if body.entries.is_empty() && !self.comment_before(body.span.end) {
            self.line_end_indented(&format!("{head} {{}}"), body.span.end, indent);
            return;
        }
        self.push_line(&format!("{head} {{"), indent);
        let lines: Vec<Option<Line>> = body.entries.iter().map(entry_line).collect();
        let mut prev_end = None;
        let mut i = 0;
        while i < body.entries.len() {
            let run_end = if lines[i].is_none() {
                i + 1
            } else {
                (i + 1..body.entries.len())
                    .find(|&j| {
                        lines[j].is_none()
                            || self.blank_between(
                                body.entries[j - 1].span.end,
                                body.entries[j].span.start,
                            )
                    })
                    .unwrap_or(body.entries.len())
            };
            let width = (i..run_end)
                .filter_map(|j| match &lines[j] {
                    Some(Line::Setting { key, .. }) => Some(key.len()),
                    _ => None,
                })
                .max()
                .unwrap_or(0);
            for (entry, line) in body.entries[i..run_end].iter().zip(&lines[i..run_end]) {
                self.separate(prev_end, entry.span.start, indent + 1);
                self.docs(&entry.docs, indent + 1);
                match (&entry.kind, line) {
                    (_, Some(Line::Setting { key, value, .. })) => self.line_end_indented(
                        &format!("{key:width$} = {value}"),
                        entry.span.end,
                        indent + 1,
                    ),
                    (EntryKind::Block(b), _) => {
                        let mut head = b.kind.name.clone();
                        for l in &b.labels {
                            head.push(' ');
                            head.push_str(&match l {
                                Label::Ident(i) => i.name.clone(),
                                Label::Str(s) => string(&s.value),
                            });
                        }
                        head.push_str(&attrs(&b.attrs));
                        self.settings_block(&head, &b.body, indent + 1);
                    }
                    _ => {}
                }
                prev_end = Some(entry.span.end);
            }
            i = run_end;
        }
        self.close(body.span.end, indent);
    }

    fn breaks_run(&self, prev: &Member, next: &Member) -> bool {
        self.blank_between(prev.span.end, next.span.start)
    }

    /// Emits comments before `pos` and a blank line if the author left one.
    fn separate(&mut self, prev_end: Option<u32>, start: u32, indent: usize) {
        if let Some(prev) = prev_end
            && self.blank_between(prev, start)
        {
            self.out.push('\n');
        }
        self.leading_comments(start, indent);
    }

    /// Whether the author left an empty line between two offsets.
    fn blank_between(&self, from: u32, to: u32) -> bool {
        let gap = self.source.get(from as usize..to as usize).unwrap_or("");
        let lines: Vec<&str> = gap.split('\n').collect();
        // The first and last pieces are the ends of the surrounding lines; only whole lines count.
        lines.len() > 2
            && lines[1..lines.len() - 1]
                .iter()
                .any(|l| l.trim().is_empty())
    }

    fn comment_before(&self, pos: u32) -> bool {
        self.comments
            .get(self.next_comment)
            .is_some_and(|c| c.span.start < pos)
    }

    /// Standalone comments before `pos`, each on its own line.
    fn leading_comments(&mut self, pos: u32, indent: usize) {
        while let Some(c) = self
            .comments
            .get(self.next_comment)
            .filter(|c| c.span.start < pos)
        {
            let text = format!("//{}", c.text);
            self.push_line(&text, indent);
            self.next_comment += 1;
            let next = self
                .comments
                .get(self.next_comment)
                .map_or(pos, |n| n.span.start.min(pos));
            if next != u32::MAX && self.blank_between(c.span.end, next) {
                self.out.push('\n');
            }
        }
    }

    /// A line ending at source offset `end`; a comment on that source line is kept at its end.
    fn line_end(&mut self, text: &str, end: u32) {
        self.line_end_indented(text, end, 0);
    }

    fn line_end_indented(&mut self, text: &str, end: u32, indent: usize) {
        let line_end = self.source[end as usize..]
            .find('\n')
            .map_or(self.source.len(), |p| end as usize + p);
        // Only a comment with nothing but blanks before it on the rest of the line trails this node.
        let trailing = self.comments.get(self.next_comment).filter(|c| {
            c.span.start >= end
                && (c.span.start as usize) < line_end
                && self.source[end as usize..c.span.start as usize]
                    .trim()
                    .is_empty()
        });
        match trailing {
            Some(c) => {
                let text = format!("{text} //{}", c.text);
                self.next_comment += 1;
                self.push_line(&text, indent);
            }
            None => self.push_line(text, indent),
        }
    }

    fn close(&mut self, end: u32, indent: usize) {
        self.leading_comments(end.saturating_sub(1), indent + 1);
        self.line_end_indented("}", end, indent);
    }

    fn docs(&mut self, docs: &[String], indent: usize) {
        for d in docs {
            let text = if d.is_empty() {
                "///".to_string()
            } else {
                format!("/// {d}")
            };
            self.push_line(&text, indent);
        }
    }

    fn push_line(&mut self, text: &str, indent: usize) {
        for _ in 0..indent {
            self.out.push_str("  ");
        }
        self.out.push_str(text);
        self.out.push('\n');
    }
}

fn member_line(m: &Member) -> Option<Line> {
    let MemberKind::Field(f) = &m.kind else {
        return None;
    };
    Some(Line::Field {
        name: f.name.name.clone(),
        ty: type_expr(&f.ty),
        rest: attrs(&f.attrs),
    })
}

fn entry_line(e: &Entry) -> Option<Line> {
    let EntryKind::Setting { key, value } = &e.kind else {
        return None;
    };
    Some(Line::Setting {
        key: key.name.clone(),
        value: expr(value),
    })
}

fn directive(m: &Member) -> String {
    match &m.kind {
        MemberKind::Include { mixin, attrs: a } => format!("include {}{}", mixin.name, attrs(a)),
        MemberKind::Index {
            kind,
            columns,
            attrs: a,
        } => {
            let cols: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
            format!("{} ({}){}", kind.keyword(), cols.join(", "), attrs(a))
        }
        MemberKind::Check { expr: e, attrs: a } => format!("check ({}){}", expr(e), attrs(a)),
        MemberKind::Field(_) => String::new(),
    }
}

fn type_expr(t: &TypeExpr) -> String {
    match &t.kind {
        TypeKind::Ref { target, optional } => format!(
            "ref {}{}",
            target.dotted(),
            if *optional { "?" } else { "" }
        ),
        TypeKind::Many { target } => format!("many {}", target.dotted()),
        TypeKind::Scalar {
            name,
            args,
            optional,
        } => {
            let args = match args {
                None => String::new(),
                Some(TypeArgs::Range { min, max, .. }) => {
                    format!("({}..{})", opt_num(*min), opt_num(*max))
                }
                Some(TypeArgs::List { values, .. }) => format!(
                    "({})",
                    values
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            format!("{}{args}{}", name.name, if *optional { "?" } else { "" })
        }
    }
}

fn opt_num(n: Option<i64>) -> String {
    n.map_or(String::new(), |v| v.to_string())
}

fn attrs(attrs: &[Attribute]) -> String {
    attrs.iter().map(|a| format!(" {}", attribute(a))).collect()
}

fn attribute(a: &Attribute) -> String {
    match &a.args {
        None => format!("@{}", a.name.name),
        Some(args) => format!("@{}({})", a.name.name, args_text(args)),
    }
}

fn args_text(args: &[Arg]) -> String {
    args.iter()
        .map(|a| match &a.name {
            Some(n) => format!("{}: {}", n.name, expr(&a.value)),
            None => expr(&a.value),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The canonical text of an expression.
pub fn expr(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Or(parts) => parts.iter().map(expr).collect::<Vec<_>>().join(" or "),
        ExprKind::And(parts) => parts.iter().map(expr).collect::<Vec<_>>().join(" and "),
        ExprKind::Not(inner) => format!("not {}", expr(inner)),
        ExprKind::Compare { op, lhs, rhs } => {
            format!("{} {} {}", expr(lhs), op.as_str(), expr(rhs))
        }
        ExprKind::Partial { op, rhs } => format!("{} {}", op.as_str(), expr(rhs)),
        ExprKind::Range { min, max } => format!(
            "{}..{}",
            min.as_ref().map_or("", |n| n.text.as_str()),
            max.as_ref().map_or("", |n| n.text.as_str())
        ),
        ExprKind::Env { name, default } => match default {
            Some(d) => format!("env({}, {})", string(&name.value), literal(d)),
            None => format!("env({})", string(&name.value)),
        },
        ExprKind::Call { name, args } => format!("{}({})", name.name, args_text(args)),
        ExprKind::List(items) => format!(
            "[{}]",
            items.iter().map(expr).collect::<Vec<_>>().join(", ")
        ),
        ExprKind::Literal(l) => literal(l),
        ExprKind::Path(p) => p.dotted(),
        ExprKind::Paren(inner) => format!("({})", expr(inner)),
    }
}

fn literal(l: &Literal) -> String {
    match l {
        Literal::Str(s) => string(&s.value),
        Literal::Number(n, _) => n.text.clone(),
        Literal::Duration { value, unit, .. } => format!("{value}{}", unit.suffix()),
        Literal::Bool(b, _) => b.to_string(),
        Literal::Null(_) => "null".to_string(),
    }
}

/// A string literal with `"`, `\` and control characters escaped.
fn string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            other => out.push(other),
        }
    }
    out.push('"');
    out
}
