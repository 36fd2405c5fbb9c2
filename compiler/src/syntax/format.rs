//! The formatter: one canonical layout for Norm source, idempotent, keeping every comment.
//!
//! It prints the syntax tree, not the tokens: two-space indentation, one declaration or clause
//! per line, a space around binary operators, blank lines between declarations kept but
//! collapsed to one. Lines longer than [`WIDTH`] are broken at the top-level `and`/`or` of a
//! condition and between the elements of collection and struct literals.
//!
//! Comments are trivia from the lexer, replayed by position: a comment that stands on its own
//! line is printed before the next construct at the current indentation, one that ends a line
//! of code stays at the end of that line. A comment inside an expression that is printed on
//! one line moves to the line after it. A file with syntax errors is not formatted.

use crate::diagnostic::Diagnostic;
use crate::span::{FileId, Span};
use crate::syntax::ast::*;
use crate::syntax::lexer::Comment;
use crate::syntax::parser;

/// Preferred maximum line width.
pub const WIDTH: usize = 100;

/// Formats `src`, or returns its syntax errors.
pub fn format_source(file: FileId, src: &str) -> Result<String, Vec<Diagnostic>> {
    let parsed = parser::parse(file, src);
    if parsed.errors.iter().any(Diagnostic::is_error) {
        return Err(parsed.errors);
    }
    let mut f = Formatter {
        src,
        comments: parsed.comments,
        next: 0,
        out: String::new(),
        indent: 0,
    };
    f.items(&parsed.file.items, None);
    f.leading(usize::MAX);
    let mut out = f.out.trim_end().to_string();
    out.push('\n');
    if out.trim().is_empty() {
        out.clear();
    }
    Ok(out)
}

struct Formatter<'s> {
    src: &'s str,
    comments: Vec<Comment>,
    next: usize,
    out: String,
    indent: usize,
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn comment_text(c: &Comment) -> String {
    let prefix = if c.doc { "///" } else { "//" };
    format!("{prefix}{}", c.text.trim_end())
}

impl Formatter<'_> {
    fn pad(&self) -> String {
        "  ".repeat(self.indent)
    }

    fn line(&mut self, s: &str) {
        let pad = self.pad();
        self.out.push_str(&pad);
        self.out.push_str(s);
        self.out.push('\n');
    }

    fn blank(&mut self) {
        if !self.out.is_empty() && !self.out.ends_with("\n\n") && !self.out.ends_with("{\n") {
            self.out.push('\n');
        }
    }

    fn column(&self) -> usize {
        self.out.len() - self.out.rfind('\n').map(|i| i + 1).unwrap_or(0)
    }

    fn had_blank_before(&self, pos: usize) -> bool {
        let before = self.src.get(..pos.min(self.src.len())).unwrap_or("");
        let trimmed = before.trim_end_matches([' ', '\t', '\r']);
        let Some(stripped) = trimmed.strip_suffix('\n') else {
            return false;
        };
        stripped.trim_end_matches([' ', '\t', '\r']).ends_with('\n')
    }

    /// Prints the comments that start before `pos` on their own lines.
    fn leading(&mut self, pos: usize) {
        while let Some(c) = self.comments.get(self.next) {
            if c.span.start as usize >= pos {
                break;
            }
            let c = c.clone();
            self.next += 1;
            if self.had_blank_before(c.span.start as usize) {
                self.blank();
            }
            // A comment that was at the end of a code line stays there.
            if !self.out.is_empty() && !self.out.ends_with('\n') {
                self.out.push(' ');
                self.out.push_str(&comment_text(&c));
                self.out.push('\n');
            } else {
                self.line(&comment_text(&c));
            }
        }
    }

    /// Appends a comment that follows `end` on the same source line.
    fn trailing(&mut self, end: usize) {
        let Some(c) = self.comments.get(self.next) else {
            return;
        };
        let between = self.src.get(end..c.span.start as usize).unwrap_or("\n");
        if c.span.start as usize >= end && !between.contains('\n') {
            let text = comment_text(c);
            self.next += 1;
            if self.out.ends_with('\n') {
                self.out.pop();
            }
            self.out.push(' ');
            self.out.push_str(&text);
            self.out.push('\n');
        }
    }

    fn has_comment_within(&self, span: Span) -> bool {
        self.comments
            .iter()
            .skip(self.next)
            .any(|c| c.span.start >= span.start && c.span.start < span.end)
    }

    fn items(&mut self, items: &[Item], _parent: Option<&Item>) {
        let mut prev_kind: Option<&'static str> = None;
        for item in items {
            let kind = item_kind(item);
            let block = matches!(
                kind,
                "article" | "test" | "norm" | "struct" | "schema" | "data"
            );
            let start = item.span.start as usize;
            // The first comment above the item decides whether a blank line precedes it.
            let first_comment_start = self
                .comments
                .get(self.next)
                .filter(|c| (c.span.start as usize) < start)
                .map(|c| c.span.start as usize);
            let probe = first_comment_start.unwrap_or(start);
            if prev_kind.is_some()
                && (block
                    || prev_kind.is_some_and(|p| {
                        matches!(
                            p,
                            "article" | "test" | "norm" | "struct" | "schema" | "data"
                        )
                    })
                    || self.had_blank_before(probe)
                    || prev_kind != Some(kind))
            {
                self.blank();
            }
            self.leading(start);
            self.item(item);
            self.trailing(item.span.end as usize);
            prev_kind = Some(kind);
        }
    }

    fn item(&mut self, item: &Item) {
        let end = item.span.end as usize;
        match &item.kind {
            ItemKind::Law {
                name,
                title,
                version,
                effective,
                until,
            } => self.line(&format!(
                "law {} {} version {}{}",
                name.node,
                quote(&title.node),
                quote(&version.node),
                validity(effective, until)
            )),
            ItemKind::Import { path } => self.line(&format!("import {}", quote(&path.node))),
            ItemKind::Type {
                name,
                def: TypeDef::Enum(vs),
            } => {
                let names: Vec<&str> = vs.iter().map(|v| v.node.as_str()).collect();
                let one = format!("type {} = enum {{ {} }}", name.node, names.join(", "));
                if self.pad().len() + one.len() <= WIDTH && !self.has_comment_within(item.span) {
                    self.line(&one);
                } else {
                    self.line(&format!("type {} = enum {{", name.node));
                    self.indent += 1;
                    for v in vs {
                        self.leading(v.span.start as usize);
                        self.line(&format!("{},", v.node));
                        self.trailing(v.span.end as usize + 1);
                    }
                    self.leading(end.saturating_sub(1));
                    self.indent -= 1;
                    self.line("}");
                }
            }
            ItemKind::Type {
                name,
                def: TypeDef::Struct(fields),
            } => {
                self.line(&format!("type {} = struct {{", name.node));
                self.fields(fields, end);
                self.line("}");
            }
            ItemKind::Role { name, label } => {
                self.line(&format!("role {} {}", name.node, quote(&label.node)))
            }
            ItemKind::Authority { name, label } => {
                self.line(&format!("authority {} {}", name.node, quote(&label.node)))
            }
            ItemKind::Chapter {
                number,
                title,
                first,
                last,
            } => self.line(&format!(
                "chapter {} {} articles {} to {}",
                number.node,
                quote(&title.node),
                first.node,
                last.node
            )),
            ItemKind::Fact { name, ty, subject } => match subject {
                None => self.line(&format!("fact {}: {}", name.node, type_str(ty))),
                Some(s) => {
                    let head = format!(
                        "fact {}: {} in {}",
                        name.node,
                        type_str(ty),
                        s.collection.node
                    );
                    match &s.filter {
                        None => self.line(&head),
                        Some(f) => {
                            self.begin(&format!("{head} where "));
                            self.expr_block(f);
                            self.end_line();
                        }
                    }
                }
            },
            ItemKind::Schema { name, fields } => {
                self.line(&format!("data schema {} {{", name.node));
                self.fields(fields, end);
                self.line("}");
            }
            ItemKind::DataModule {
                name,
                version,
                effective,
                entries,
            } => {
                self.line(&format!(
                    "data {} version {} effective {} {{",
                    name.node,
                    quote(&version.node),
                    effective.node
                ));
                self.indent += 1;
                for (k, v) in entries {
                    self.leading(k.span.start as usize);
                    self.begin(&format!("{} = ", k.node));
                    self.expr_block(v);
                    self.end_line();
                    self.trailing(v.span.end as usize);
                }
                self.leading(end.saturating_sub(1));
                self.indent -= 1;
                self.line("}");
            }
            ItemKind::Def {
                name,
                ty,
                value,
                finding,
            } => {
                let head = match (finding, ty) {
                    (Some(f), _) => {
                        let mut h = format!("finding {}", name.node);
                        if let Some(p) = &f.paragraph {
                            h.push_str(&format!(" paragraph {}", p.node));
                        }
                        if let Some(i) = &f.item {
                            h.push_str(&format!(" item {}", i.node));
                        }
                        if let Some(w) = &f.when {
                            h.push_str(&format!(" when {}", w.node));
                        }
                        h.push_str(" = ");
                        h
                    }
                    (None, Some(t)) => format!("def {}: {} = ", name.node, type_str(t)),
                    (None, None) => format!("def {} = ", name.node),
                };
                self.begin(&head);
                self.expr_block(value);
                self.end_line();
            }
            ItemKind::Exception {
                target,
                label,
                priority,
                when,
                value,
            } => {
                let mut head = format!("exception {}", target.node);
                if let Some(l) = label {
                    head.push_str(&format!(" {}", l.node));
                }
                if let Some(p) = priority {
                    head.push_str(&format!(" priority {}", p.node));
                }
                let one = format!("{head} when {} = {}", expr_str(when), expr_str(value));
                if self.pad().len() + one.len() <= WIDTH && !self.has_comment_within(item.span) {
                    self.line(&one);
                } else {
                    self.line(&head);
                    self.indent += 1;
                    self.begin("when ");
                    self.expr_block(when);
                    self.end_line();
                    self.trailing(when.span.end as usize);
                    self.begin("= ");
                    self.expr_block(value);
                    self.end_line();
                    self.indent -= 1;
                }
            }
            ItemKind::Article {
                number,
                title,
                effective,
                until,
                body,
            } => {
                self.line(&format!(
                    "article {} {}{} {{",
                    number.node,
                    quote(&title.node),
                    validity(effective, until)
                ));
                self.indent += 1;
                self.items(body, Some(item));
                self.leading(end.saturating_sub(1));
                self.indent -= 1;
                self.line("}");
            }
            ItemKind::Norm(n) => {
                self.line(&format!("{} {} {{", n.kind.keyword(), n.id.node));
                self.indent += 1;
                for c in &n.clauses {
                    self.leading(c.span.start as usize);
                    self.clause(c);
                    self.trailing(c.span.end as usize);
                }
                self.leading(end.saturating_sub(1));
                self.indent -= 1;
                self.line("}");
            }
            ItemKind::Test { name, body } => {
                self.line(&format!("test {} {{", quote(&name.node)));
                self.indent += 1;
                for s in body {
                    self.leading(s.span.start as usize);
                    self.test_stmt(s);
                    self.trailing(s.span.end as usize);
                }
                self.leading(end.saturating_sub(1));
                self.indent -= 1;
                self.line("}");
            }
            ItemKind::Tiers { name, over, norms } => {
                self.begin(&format!("tiers {} over ", name.node));
                self.expr_block(over);
                self.out.push_str(" {\n");
                self.indent += 1;
                let ids: Vec<&str> = norms.iter().map(|n| n.node.as_str()).collect();
                self.line(&format!("{},", ids.join(", ")));
                self.indent -= 1;
                self.line("}");
            }
            ItemKind::Error => {}
        }
    }

    fn fields(&mut self, fields: &[Field], end: usize) {
        self.indent += 1;
        for f in fields {
            self.leading(f.span.start as usize);
            let head = format!(
                "{}: {}{}",
                f.name.node,
                type_str(&f.ty),
                if f.optional { "?" } else { "" }
            );
            match &f.default {
                Some(d) => {
                    self.begin(&format!("{head} = "));
                    self.expr_block(d);
                    self.out.push(',');
                    self.end_line();
                }
                None => self.line(&format!("{head},")),
            }
            // The comma after a field belongs to it.
            let after = self
                .src
                .get(f.span.end as usize..)
                .map(|r| r.len() - r.trim_start().len())
                .unwrap_or(0);
            let comma = self
                .src
                .get(f.span.end as usize + after..)
                .is_some_and(|r| r.starts_with(','));
            self.trailing(f.span.end as usize + if comma { after + 1 } else { 0 });
        }
        self.leading(end.saturating_sub(1));
        self.indent -= 1;
    }

    fn clause(&mut self, c: &Clause) {
        match &c.kind {
            ClauseKind::Paragraph(n) => self.line(&format!("paragraph {}", n.node)),
            ClauseKind::Item(n) => self.line(&format!("item {}", n.node)),
            ClauseKind::Addressee(r) => self.line(&format!("addressee {}", r.node)),
            ClauseKind::Authority(a) => self.line(&format!("authority {}", a.node)),
            ClauseKind::When(e) => {
                self.begin("when ");
                self.expr_block(e);
                self.end_line();
            }
            ClauseKind::Due(e)
            | ClauseKind::Done(e)
            | ClauseKind::Violated(e)
            | ClauseKind::KeepUntil(e)
            | ClauseKind::Counterparty(e, false) => {
                let word = match &c.kind {
                    ClauseKind::Counterparty(..) => "counterparty ",
                    ClauseKind::Done(_) => "done ",
                    ClauseKind::Violated(_) => "violated ",
                    ClauseKind::KeepUntil(_) => "keep_until ",
                    _ => "due ",
                };
                self.begin(word);
                self.expr_block(e);
                self.end_line();
            }
            ClauseKind::Counterparty(e, true) => {
                if let ExprKind::Quant {
                    var,
                    collection,
                    filter: Some(f),
                    ..
                } = &e.kind
                {
                    self.begin(&format!("counterparties {} in ", var.node));
                    self.expr_block(collection);
                    self.out.push_str(" where ");
                    self.expr_block(f);
                    self.end_line();
                }
            }
            ClauseKind::Text(t) => self.line(&format!("text {}", quote(&t.node))),
            ClauseKind::Act(a) => self.line(&format!("act {}", a.node)),
            ClauseKind::PerParty => self.line("per party"),
            ClauseKind::Effective(d) => self.line(&format!("effective {}", d.node)),
            ClauseKind::Until(d) => self.line(&format!("until {}", d.node)),
            ClauseKind::Priority(p) => self.line(&format!("priority {}", p.node)),
            ClauseKind::Tags(ts) => {
                let names: Vec<&str> = ts.iter().map(|t| t.node.as_str()).collect();
                self.line(&format!("tags {}", names.join(", ")));
            }
            ClauseKind::Overrides { targets, except } => {
                let ts: Vec<String> = targets
                    .iter()
                    .map(|t| match t {
                        Target::Norm(id) => id.node.clone(),
                        Target::Article(a) => format!("article {}", a.node),
                        Target::Articles(a, b) => format!("articles {} to {}", a.node, b.node),
                        Target::Chapter(c) => format!("chapter {}", c.node),
                        Target::Tagged(t) => format!("tagged {}", t.node),
                    })
                    .collect();
                let mut s = format!("overrides {}", ts.join(", "));
                if !except.is_empty() {
                    let names: Vec<&str> = except.iter().map(|t| t.node.as_str()).collect();
                    s.push_str(&format!(" except tagged {}", names.join(", ")));
                }
                self.line(&s);
            }
            ClauseKind::Fine { min, max } => {
                self.begin("fine ");
                self.expr_block(min);
                self.out.push_str(" to ");
                self.expr_block(max);
                self.end_line();
            }
            ClauseKind::Error => {}
        }
    }

    fn test_stmt(&mut self, s: &TestStmt) {
        match &s.kind {
            TestStmtKind::AsOf(d) => self.line(&format!("as of {}", d.node)),
            TestStmtKind::Given(n, e) => {
                self.begin(&format!("given {} = ", n.node));
                self.expr_block(e);
                self.end_line();
            }
            TestStmtKind::ExpectNorm {
                kind,
                id,
                whom,
                status,
                due,
                keep_until,
            } => {
                let mut l = match kind {
                    Some(k) => format!("expect {} {}", k.keyword(), id.node),
                    None => format!("expect {}", id.node),
                };
                l.push_str(&whom_str(whom));
                if let Some(s) = status {
                    l.push_str(&format!(" status {}", s.node));
                }
                if let Some(d) = due {
                    l.push_str(&format!(" due {}", d.node));
                }
                if let Some(d) = keep_until {
                    l.push_str(&format!(" keep_until {}", d.node));
                }
                self.line(&l);
            }
            TestStmtKind::ExpectNoNorm(id, whom) => {
                self.line(&format!("expect no {}{}", id.node, whom_str(whom)))
            }
            TestStmtKind::ExpectValue(e) => {
                self.begin("expect ");
                self.expr_block(e);
                self.end_line();
            }
            TestStmtKind::ExpectConflict => self.line("expect conflict"),
            TestStmtKind::Error => {}
        }
    }

    fn begin(&mut self, head: &str) {
        let pad = self.pad();
        self.out.push_str(&pad);
        self.out.push_str(head);
    }

    fn end_line(&mut self) {
        self.out.push('\n');
    }

    /// Prints an expression starting at the current column, breaking it over lines if it is too
    /// long or holds comments.
    fn expr_block(&mut self, e: &Expr) {
        let one = expr_str(e);
        if self.column() + one.len() <= WIDTH && !self.has_comment_within(e.span) {
            self.out.push_str(&one);
            return;
        }
        match &e.kind {
            ExprKind::Struct(fields) => {
                self.out.push('{');
                self.out.push('\n');
                self.indent += 1;
                for (k, v) in fields {
                    self.leading(k.span.start as usize);
                    self.begin(&format!("{}: ", k.node));
                    self.expr_block(v);
                    self.out.push(',');
                    self.end_line();
                    self.trailing_after_comma(v.span.end as usize);
                }
                self.leading(e.span.end as usize - 1);
                self.indent -= 1;
                self.begin("}");
            }
            ExprKind::Set(items) | ExprKind::List(items) if !items.is_empty() => {
                let (open, close) = if matches!(e.kind, ExprKind::Set(_)) {
                    ("{", "}")
                } else {
                    ("[", "]")
                };
                self.out.push_str(open);
                self.out.push('\n');
                self.indent += 1;
                for v in items {
                    self.leading(v.span.start as usize);
                    self.begin("");
                    self.expr_block(v);
                    self.out.push(',');
                    self.end_line();
                    self.trailing_after_comma(v.span.end as usize);
                }
                self.leading(e.span.end as usize - 1);
                self.indent -= 1;
                self.begin(close);
            }
            ExprKind::Binary(op @ (BinOp::And | BinOp::Or), _, _) => {
                let mut parts = Vec::new();
                chain(e, *op, &mut parts);
                self.indent += 1;
                for (i, p) in parts.iter().enumerate() {
                    if i > 0 {
                        self.end_line();
                        self.trailing(parts.get(i - 1).map(|x| x.span.end as usize).unwrap_or(0));
                        self.leading(p.span.start as usize);
                        self.begin(&format!("{} ", op.symbol()));
                    }
                    self.expr_block(p);
                }
                self.indent -= 1;
            }
            _ => self.out.push_str(&one),
        }
    }

    fn trailing_after_comma(&mut self, end: usize) {
        let rest = self.src.get(end..).unwrap_or("");
        let ws = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        let at = if rest.get(ws..).is_some_and(|r| r.starts_with(',')) {
            end + ws + 1
        } else {
            end
        };
        self.trailing(at);
    }
}

/// ` effective D until E`, either part optional.
fn validity(
    effective: &Option<crate::span::Spanned<String>>,
    until: &Option<crate::span::Spanned<String>>,
) -> String {
    let mut s = String::new();
    if let Some(e) = effective {
        s.push_str(&format!(" effective {}", e.node));
    }
    if let Some(u) = until {
        s.push_str(&format!(" until {}", u.node));
    }
    s
}

fn chain<'e>(e: &'e Expr, op: BinOp, out: &mut Vec<&'e Expr>) {
    match &e.kind {
        ExprKind::Binary(o, a, b) if *o == op => {
            chain(a, op, out);
            out.push(b);
        }
        _ => out.push(e),
    }
}

fn item_kind(item: &Item) -> &'static str {
    match &item.kind {
        ItemKind::Law { .. } => "law",
        ItemKind::Import { .. } => "import",
        ItemKind::Type {
            def: TypeDef::Enum(_),
            ..
        } => "enum",
        ItemKind::Type {
            def: TypeDef::Struct(_),
            ..
        } => "struct",
        ItemKind::Role { .. } => "role",
        ItemKind::Authority { .. } => "authority",
        ItemKind::Chapter { .. } => "chapter",
        ItemKind::Fact { .. } => "fact",
        ItemKind::Schema { .. } => "schema",
        ItemKind::DataModule { .. } => "data",
        ItemKind::Def { .. } | ItemKind::Exception { .. } => "def",
        ItemKind::Article { .. } => "article",
        ItemKind::Norm(_) => "norm",
        ItemKind::Test { .. } => "test",
        ItemKind::Tiers { .. } => "tiers",
        ItemKind::Error => "error",
    }
}

/// ` party "a" on "s"`, or what of it is given.
fn whom_str(w: &Whom) -> String {
    let mut s = String::new();
    if let Some(p) = &w.party {
        s.push_str(&format!(" party {}", quote(&p.node)));
    }
    if let Some(x) = &w.system {
        s.push_str(&format!(" on {}", quote(&x.node)));
    }
    s
}

pub fn type_str(t: &TypeExpr) -> String {
    if t.args.is_empty() {
        t.name.node.clone()
    } else {
        let args: Vec<String> = t.args.iter().map(type_str).collect();
        format!("{}<{}>", t.name.node, args.join(", "))
    }
}

/// An expression on one line, in canonical spacing.
pub fn expr_str(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Int(s) | ExprKind::Decimal(s) | ExprKind::Percent(s) | ExprKind::Date(s) => {
            s.clone()
        }
        ExprKind::Money(s) => format!("{s} CNY"),
        ExprKind::Duration(n, u) => {
            let one = n == "1";
            let unit = match u {
                Unit::Days => {
                    if one {
                        "day"
                    } else {
                        "days"
                    }
                }
                Unit::Months => {
                    if one {
                        "month"
                    } else {
                        "months"
                    }
                }
                Unit::Years => {
                    if one {
                        "year"
                    } else {
                        "years"
                    }
                }
            };
            format!("{n} {unit}")
        }
        ExprKind::WorkingDays(n) => {
            format!("{n} working {}", if n == "1" { "day" } else { "days" })
        }
        ExprKind::Str(s) => quote(s),
        ExprKind::Name(n) => n.clone(),
        ExprKind::Field(b, f) => format!("{}.{}", expr_str(b), f.node),
        ExprKind::Call(f, args) => {
            let a: Vec<String> = args.iter().map(expr_str).collect();
            format!("{}({})", f.node, a.join(", "))
        }
        ExprKind::Unary(UnOp::Not, x) => format!("not {}", expr_str(x)),
        ExprKind::Unary(UnOp::Neg, x) => format!("-{}", expr_str(x)),
        ExprKind::Binary(op, a, b) => format!("{} {} {}", expr_str(a), op.symbol(), expr_str(b)),
        ExprKind::If(c, t, f) => format!(
            "if {} then {} else {}",
            expr_str(c),
            expr_str(t),
            expr_str(f)
        ),
        ExprKind::Quant {
            q,
            var,
            collection,
            filter,
            body,
        } => {
            format!(
                "{} {} in {}{}: {}",
                q.keyword(),
                var.node,
                expr_str(collection),
                filter
                    .as_ref()
                    .map(|f| format!(" where {}", expr_str(f)))
                    .unwrap_or_default(),
                expr_str(body)
            )
        }
        ExprKind::Set(items) => {
            let a: Vec<String> = items.iter().map(expr_str).collect();
            format!("{{{}}}", a.join(", "))
        }
        ExprKind::List(items) => {
            let a: Vec<String> = items.iter().map(expr_str).collect();
            format!("[{}]", a.join(", "))
        }
        ExprKind::Struct(fields) => {
            let a: Vec<String> = fields
                .iter()
                .map(|(k, v)| format!("{}: {}", k.node, expr_str(v)))
                .collect();
            format!("{{ {} }}", a.join(", "))
        }
        ExprKind::Paren(x) => format!("({})", expr_str(x)),
        ExprKind::Error => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(src: &str) -> String {
        format_source(FileId(0), src).unwrap_or_else(|d| format!("ERROR {d:?}"))
    }

    #[test]
    fn canonical_and_idempotent() {
        let src = "law  m \"T\"   version \"1\"\n// a comment\nfact   a :int // trailing\n\n\n\ndef x=a+1  and   a>2\n";
        let once = fmt(src);
        assert_eq!(
            once,
            "law m \"T\" version \"1\"\n\n// a comment\nfact a: int // trailing\n\ndef x = a + 1 and a > 2\n"
        );
        assert_eq!(fmt(&once), once);
    }

    #[test]
    fn keeps_comments_in_blocks_and_literals() {
        let src = "test \"t\" {\n  // why\n  given a = { x: 1, // one\n    y: 2 }\n  expect b // b holds\n}\n";
        let once = fmt(src);
        for c in ["// why", "// one", "// b holds"] {
            assert!(once.contains(c), "{c} lost in:\n{once}");
        }
        assert_eq!(fmt(&once), once);
    }

    #[test]
    fn long_conditions_break_at_and() {
        let long = format!(
            "def x = {}",
            (0..12)
                .map(|i| format!("condition_number_{i}"))
                .collect::<Vec<_>>()
                .join(" and ")
        );
        let once = fmt(&long);
        assert!(once.lines().count() > 3, "{once}");
        assert!(once.lines().all(|l| l.len() <= WIDTH));
        assert_eq!(fmt(&once), once);
    }

    #[test]
    fn refuses_files_with_syntax_errors() {
        assert!(format_source(FileId(0), "def = 3").is_err());
    }
}
