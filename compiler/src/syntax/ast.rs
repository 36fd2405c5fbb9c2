//! The syntax tree, as the parser builds it: untyped and unresolved, with a span on everything
//! that a diagnostic may need to point at. `Error` variants mark places where the parser
//! recovered from a syntax error; later passes skip them silently (the error was reported).

use crate::span::{FileId, Ident, Span, Spanned};

#[derive(Clone, Debug, Default)]
pub struct File {
    pub file: FileId,
    pub items: Vec<Item>,
}

#[derive(Clone, Debug)]
pub struct Item {
    pub kind: ItemKind,
    pub span: Span,
    /// Text of the `///` comments directly above the item, one entry per line.
    pub doc: Vec<String>,
}

#[derive(Clone, Debug)]
pub enum ItemKind {
    Law {
        name: Ident,
        title: Spanned<String>,
        version: Spanned<String>,
        effective: Option<Spanned<String>>,
        until: Option<Spanned<String>>,
    },
    Import {
        path: Spanned<String>,
    },
    Type {
        name: Ident,
        def: TypeDef,
    },
    Role {
        name: Ident,
        label: Spanned<String>,
    },
    Authority {
        name: Ident,
        label: Spanned<String>,
    },
    Chapter {
        number: Spanned<String>,
        title: Spanned<String>,
        first: Spanned<String>,
        last: Spanned<String>,
    },
    Fact {
        name: Ident,
        ty: TypeExpr,
        /// `fact actor: Party in parties [where COND]`: a subject of the case's norms.
        subject: Option<Subject>,
    },
    Schema {
        name: Ident,
        fields: Vec<Field>,
    },
    DataModule {
        name: Ident,
        version: Spanned<String>,
        effective: Spanned<String>,
        entries: Vec<(Ident, Expr)>,
    },
    Def {
        name: Ident,
        ty: Option<TypeExpr>,
        value: Expr,
        /// `finding NAME paragraph N item M = …`: a legal characterisation the Decision reports.
        finding: Option<FindingCite>,
    },
    Exception {
        target: Ident,
        label: Option<Ident>,
        priority: Option<Spanned<String>>,
        when: Expr,
        value: Expr,
    },
    Article {
        number: Spanned<String>,
        title: Spanned<String>,
        effective: Option<Spanned<String>>,
        until: Option<Spanned<String>>,
        body: Vec<Item>,
    },
    Norm(Norm),
    Test {
        name: Spanned<String>,
        body: Vec<TestStmt>,
    },
    /// Norms meant to cover the range `over` of one quantity between them, without gaps or
    /// overlaps (checked statically).
    Tiers {
        name: Ident,
        over: Expr,
        norms: Vec<Ident>,
    },
    /// A declaration the parser could not make sense of.
    Error,
}

#[derive(Clone, Debug)]
pub enum TypeDef {
    Enum(Vec<Ident>),
    Struct(Vec<Field>),
}

#[derive(Clone, Debug)]
pub struct Field {
    pub name: Ident,
    /// The `///` lines right above it, else a comment at the end of its line.
    pub doc: Vec<String>,
    pub ty: TypeExpr,
    /// `date?`: a case may leave it out (see `FieldDef::optional`).
    pub optional: bool,
    pub default: Option<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct TypeExpr {
    pub name: Ident,
    pub args: Vec<TypeExpr>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NormKind {
    Obligation,
    Prohibition,
    Permission,
    Exemption,
    Right,
    Penalty,
    Warning,
}

impl NormKind {
    pub fn keyword(self) -> &'static str {
        match self {
            NormKind::Obligation => "obligation",
            NormKind::Prohibition => "prohibition",
            NormKind::Permission => "permission",
            NormKind::Exemption => "exemption",
            NormKind::Right => "right",
            NormKind::Penalty => "penalty",
            NormKind::Warning => "warning",
        }
    }
}

/// Where a finding sits in its article.
#[derive(Clone, Debug)]
pub struct FindingCite {
    pub keyword: Span,
    pub paragraph: Option<Spanned<String>>,
    pub item: Option<Spanned<String>>,
    /// `when DEF`: the finding is reported only for cases where that definition holds (the
    /// conditions of a licence, for a case about a licence).
    pub when: Option<Ident>,
}

#[derive(Clone, Debug)]
pub struct Norm {
    pub kind: NormKind,
    pub id: Ident,
    pub clauses: Vec<Clause>,
}

#[derive(Clone, Debug)]
pub struct Clause {
    pub kind: ClauseKind,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum ClauseKind {
    Paragraph(Spanned<String>),
    Item(Spanned<String>),
    Addressee(Ident),
    Authority(Ident),
    When(Expr),
    Due(Expr),
    /// `done DATE`: when an event of the case shows the duty done (absent: not done).
    Done(Expr),
    /// `violated COND`: the case's events show the prohibited conduct.
    Violated(Expr),
    /// `keep_until DATE`: a retention duty's end.
    KeepUntil(Expr),
    /// `per party`: decided for each system as usual, reported once per party.
    PerParty,
    /// `counterparty EXPR`: the other party (or parties) the duty concerns, by id; or
    /// `counterparties p in parties where COND` (then `true`: the expression is the `exists`
    /// whose matching elements are the counterparties).
    Counterparty(Expr, bool),
    Text(Spanned<String>),
    Act(Ident),
    Effective(Spanned<String>),
    Until(Spanned<String>),
    Priority(Spanned<String>),
    Tags(Vec<Ident>),
    Overrides {
        targets: Vec<Target>,
        except: Vec<Ident>,
    },
    Fine {
        min: Expr,
        max: Expr,
    },
    Error,
}

#[derive(Clone, Debug)]
pub enum Target {
    Norm(Ident),
    Article(Spanned<String>),
    Articles(Spanned<String>, Spanned<String>),
    Chapter(Spanned<String>),
    Tagged(Ident),
}

#[derive(Clone, Debug)]
pub struct TestStmt {
    pub kind: TestStmtKind,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum TestStmtKind {
    AsOf(Spanned<String>),
    Given(Ident, Expr),
    /// `expect [KIND] ID`
    ExpectNorm {
        kind: Option<NormKind>,
        id: Ident,
        /// `party "ID"`, `on "ID"`: the party it binds, the system it concerns.
        whom: Whom,
        /// `status NAME`: the duty's status on the test's date.
        status: Option<Ident>,
        /// `due DATE`: its due date.
        due: Option<Spanned<String>>,
        /// `keep_until DATE`: a retention duty's end.
        keep_until: Option<Spanned<String>>,
    },
    /// `expect no ID [party "ID"] [on "ID"]`
    ExpectNoNorm(Ident, Whom),
    ExpectValue(Expr),
    ExpectConflict,
    Error,
}

/// A subject of the case: each element of `collection` in turn, where `filter` holds.
#[derive(Clone, Debug)]
pub struct Subject {
    pub collection: Ident,
    pub filter: Option<Expr>,
}

/// Whom a test's expectation is about: the party's and the system's ids, when given.
#[derive(Clone, Debug, Default)]
pub struct Whom {
    pub party: Option<Spanned<String>>,
    pub system: Option<Spanned<String>>,
}

#[derive(Clone, Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
    Add,
    Sub,
    Mul,
    Div,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::In => "in",
            BinOp::NotIn => "not in",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    Not,
    Neg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantifier {
    Exists,
    All,
    Count,
    Sum,
    /// The earliest date the body gives over the (filtered) elements; none: an absent value.
    Earliest,
    /// The latest.
    Latest,
}

impl Quantifier {
    pub fn keyword(self) -> &'static str {
        match self {
            Quantifier::Exists => "exists",
            Quantifier::All => "all",
            Quantifier::Count => "count",
            Quantifier::Sum => "sum",
            Quantifier::Earliest => "earliest",
            Quantifier::Latest => "latest",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Days,
    Months,
    Years,
}

#[derive(Clone, Debug)]
pub enum ExprKind {
    Bool(bool),
    Int(String),
    Decimal(String),
    Percent(String),
    /// A number followed by `CNY`.
    Money(String),
    /// A number followed by a unit.
    Duration(String, Unit),
    /// A number followed by `working days`.
    WorkingDays(String),
    Date(String),
    Str(String),
    Name(String),
    Field(Box<Expr>, Ident),
    Call(Ident, Vec<Expr>),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    Quant {
        q: Quantifier,
        var: Ident,
        collection: Box<Expr>,
        /// `where COND`: only the elements for which it holds.
        filter: Option<Box<Expr>>,
        body: Box<Expr>,
    },
    Set(Vec<Expr>),
    List(Vec<Expr>),
    Struct(Vec<(Ident, Expr)>),
    Paren(Box<Expr>),
    Error,
}
