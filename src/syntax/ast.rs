//! The syntax tree: plain data, every node with its [`Span`]. Comments are kept on the
//! side (`File::comments`) for the formatter; doc comments belong to the node they precede.

use crate::source::Span;

#[derive(Debug, Clone, PartialEq)]
pub struct File {
    pub items: Vec<Item>,
    /// Every `//` comment, in source order.
    pub comments: Vec<Comment>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    pub text: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub docs: Vec<String>,
    pub kind: ItemKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ItemKind {
    Use(Use),
    Service(Service),
    Entity(Entity),
    Mixin(Entity),
    Enum(Enum),
    TypeAlias(TypeAlias),
    Resource(Resource),
    Policy(Policy),
    Event(Event),
    Settings(SettingsItem),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Use {
    File(StringLit),
    /// `use std.types`: the segments after `std`.
    Std {
        module: String,
        span: Span,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub name: Ident,
    pub attrs: Vec<Attribute>,
    pub body: SettingsBody,
}

/// An `entity` or a `mixin`: both hold fields and directives.
#[derive(Debug, Clone, PartialEq)]
pub struct Entity {
    pub name: Ident,
    pub attrs: Vec<Attribute>,
    pub members: Vec<Member>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub docs: Vec<String>,
    pub kind: MemberKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum MemberKind {
    Field(Field),
    Include {
        mixin: Ident,
        attrs: Vec<Attribute>,
    },
    Index {
        kind: IndexKind,
        columns: Vec<Ident>,
        attrs: Vec<Attribute>,
    },
    Check {
        expr: Expr,
        attrs: Vec<Attribute>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexKind {
    Index,
    Unique,
    Primary,
}

impl IndexKind {
    pub fn keyword(self) -> &'static str {
        match self {
            IndexKind::Index => "index",
            IndexKind::Unique => "unique",
            IndexKind::Primary => "primary",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: Ident,
    pub ty: TypeExpr,
    pub attrs: Vec<Attribute>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TypeExpr {
    pub kind: TypeKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TypeKind {
    Ref {
        target: Path,
        optional: bool,
    },
    Many {
        target: Path,
    },
    Scalar {
        name: Ident,
        args: Option<TypeArgs>,
        optional: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeArgs {
    /// `string(1..200)`, `string(..64)`.
    Range {
        min: Option<i64>,
        max: Option<i64>,
        span: Span,
    },
    /// `decimal(12, 2)`.
    List { values: Vec<i64>, span: Span },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Enum {
    pub name: Ident,
    pub attrs: Vec<Attribute>,
    pub variants: Vec<Variant>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    pub docs: Vec<String>,
    pub name: Ident,
    pub attrs: Vec<Attribute>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TypeAlias {
    pub name: Ident,
    pub ty: TypeExpr,
    pub attrs: Vec<Attribute>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub name: Ident,
    pub entity: Path,
    pub path: StringLit,
    pub attrs: Vec<Attribute>,
    pub body: SettingsBody,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub name: Ident,
    pub expr: Expr,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub name: Ident,
    pub attrs: Vec<Attribute>,
    pub body: SettingsBody,
}

/// `auth { }`, `rate name { }`, `cache name { }`.
#[derive(Debug, Clone, PartialEq)]
pub struct SettingsItem {
    pub kind: SettingsKind,
    pub name: Option<Ident>,
    pub attrs: Vec<Attribute>,
    pub body: SettingsBody,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingsKind {
    Auth,
    Rate,
    Cache,
}

impl SettingsKind {
    pub fn keyword(self) -> &'static str {
        match self {
            SettingsKind::Auth => "auth",
            SettingsKind::Rate => "rate",
            SettingsKind::Cache => "cache",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SettingsBody {
    pub entries: Vec<Entry>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub docs: Vec<String>,
    pub kind: EntryKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EntryKind {
    Setting { key: Ident, value: Expr },
    Block(Block),
}

/// `name label* @attrs { ... }`: an operation, a view or a nested settings group.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    pub kind: Ident,
    pub labels: Vec<Label>,
    pub attrs: Vec<Attribute>,
    pub body: SettingsBody,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Label {
    Ident(Ident),
    Str(StringLit),
}

impl Label {
    pub fn span(&self) -> Span {
        match self {
            Label::Ident(i) => i.span,
            Label::Str(s) => s.span,
        }
    }

    pub fn text(&self) -> &str {
        match self {
            Label::Ident(i) => &i.name,
            Label::Str(s) => &s.value,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    pub name: Ident,
    /// `None` for `@unique`, `Some(vec![])` for `@unique()`.
    pub args: Option<Vec<Arg>>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Arg {
    pub name: Option<Ident>,
    pub value: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StringLit {
    pub value: String,
    pub span: Span,
}

/// `a.b.c`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    pub segments: Vec<Ident>,
    pub span: Span,
}

impl Path {
    pub fn dotted(&self) -> String {
        self.segments
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(".")
    }

    /// The single name of a one-segment path.
    pub fn single(&self) -> Option<&Ident> {
        match self.segments.as_slice() {
            [only] => Some(only),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Not(Box<Expr>),
    Compare {
        op: CmpOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `>= 0` in a field check: the field is the left side.
    Partial {
        op: CmpOp,
        rhs: Box<Expr>,
    },
    /// `1..1000`, `0..`, `..64`.
    Range {
        min: Option<Number>,
        max: Option<Number>,
    },
    Env {
        name: StringLit,
        default: Option<Literal>,
    },
    Call {
        name: Ident,
        args: Vec<Arg>,
    },
    List(Vec<Expr>),
    Literal(Literal),
    Path(Path),
    Paren(Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Eq,
    Ne,
    Ge,
    Le,
    Gt,
    Lt,
    In,
}

impl CmpOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Ge => ">=",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Lt => "<",
            CmpOp::In => "in",
        }
    }
}

/// A number kept as written, so the formatter reprints it exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Number {
    pub text: String,
}

impl Number {
    pub fn as_i64(&self) -> Option<i64> {
        self.text.parse().ok()
    }

    pub fn as_f64(&self) -> Option<f64> {
        self.text.parse().ok()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Str(StringLit),
    Number(Number, Span),
    Duration {
        value: u64,
        unit: DurationUnit,
        span: Span,
    },
    Bool(bool, Span),
    Null(Span),
}

impl Literal {
    pub fn span(&self) -> Span {
        match self {
            Literal::Str(s) => s.span,
            Literal::Number(_, span)
            | Literal::Duration { span, .. }
            | Literal::Bool(_, span)
            | Literal::Null(span) => *span,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DurationUnit {
    Millis,
    Seconds,
    Minutes,
    Hours,
    Days,
}

impl DurationUnit {
    pub fn suffix(self) -> &'static str {
        match self {
            DurationUnit::Millis => "ms",
            DurationUnit::Seconds => "s",
            DurationUnit::Minutes => "m",
            DurationUnit::Hours => "h",
            DurationUnit::Days => "d",
        }
    }

    pub fn millis(self) -> u64 {
        match self {
            DurationUnit::Millis => 1,
            DurationUnit::Seconds => 1_000,
            DurationUnit::Minutes => 60_000,
            DurationUnit::Hours => 3_600_000,
            DurationUnit::Days => 86_400_000,
        }
    }
}
