//! Interval reasoning over integer facts, for the static checks: a norm whose condition bounds
//! a quantity to an empty range can never apply; tiers declared to cover a range that leave
//! values uncovered, or that overlap, are reported.
//!
//! Why intervals and not an SMT solver: the law's conditions on quantities are comparisons of a
//! fact with constants joined by `and`, `or`, `not` and definitions. Over one integer quantity
//! those denote finite unions of intervals, which we compute exactly, in microseconds, with no
//! native dependency. Conditions on other facts are treated as free (they do not restrict the
//! quantity), which is exact for gaps between tiers that share those conditions.

use crate::ir::{BinOp, Expr, ExprKind, Program};
use crate::value::{Ty, Value};

/// A union of disjoint, sorted, inclusive integer intervals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ranges(pub Vec<(i64, i64)>);

impl Ranges {
    pub fn all() -> Ranges {
        Ranges(vec![(i64::MIN, i64::MAX)])
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    fn normalize(mut v: Vec<(i64, i64)>) -> Ranges {
        v.retain(|(a, b)| a <= b);
        v.sort_unstable();
        let mut out: Vec<(i64, i64)> = Vec::new();
        for (a, b) in v {
            match out.last_mut() {
                Some((_, hi)) if a <= hi.saturating_add(1) => *hi = (*hi).max(b),
                _ => out.push((a, b)),
            }
        }
        Ranges(out)
    }
    pub fn union(&self, o: &Ranges) -> Ranges {
        Ranges::normalize(self.0.iter().chain(o.0.iter()).copied().collect())
    }
    pub fn intersect(&self, o: &Ranges) -> Ranges {
        let mut v = Vec::new();
        for (a, b) in &self.0 {
            for (c, d) in &o.0 {
                v.push(((*a).max(*c), (*b).min(*d)));
            }
        }
        Ranges::normalize(v)
    }
    pub fn complement(&self) -> Ranges {
        let mut v = Vec::new();
        let mut next = Some(i64::MIN);
        for (a, b) in &self.0 {
            if let Some(n) = next
                && *a > n
            {
                v.push((n, a - 1));
            }
            next = b.checked_add(1);
        }
        if let Some(n) = next {
            v.push((n, i64::MAX));
        }
        Ranges::normalize(v)
    }

    /// "exactly 1,000,000", "from 5 to 9", "1,000,001 or more".
    pub fn describe(&self) -> String {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|(a, b)| match (*a, *b) {
                (a, b) if a == b => format!("exactly {}", grouped(a)),
                (i64::MIN, b) => format!("{} or less", grouped(b)),
                (a, i64::MAX) => format!("{} or more", grouped(a)),
                (a, b) => format!("from {} to {}", grouped(a), grouped(b)),
            })
            .collect();
        parts.join(", ")
    }
}

pub fn grouped(i: i64) -> String {
    crate::value::group_thousands(&i.to_string())
}

/// A quantity: an `int` fact, field of a fact, or data value, named as written.
pub fn quantity(program: &Program, e: &Expr) -> Option<String> {
    fn leaf(e: &Expr) -> bool {
        match &e.kind {
            ExprKind::Fact(_) | ExprKind::Data(..) => true,
            ExprKind::Field(b, _) => leaf(b),
            _ => false,
        }
    }
    (e.ty == Ty::Int && leaf(e)).then(|| program.show_expr(e))
}

fn constant(e: &Expr) -> Option<i64> {
    match &e.kind {
        ExprKind::Const(Value::Int(i)) => Some(*i),
        _ => None,
    }
}

/// The values of quantity `q` for which `e` can hold; `None` when `e` does not restrict `q`.
pub fn constraint(program: &Program, e: &Expr, q: &str, depth: u32) -> Option<Ranges> {
    if depth > 8 {
        return None;
    }
    match &e.kind {
        ExprKind::Bin(BinOp::And, a, b) => match (
            constraint(program, a, q, depth),
            constraint(program, b, q, depth),
        ) {
            (Some(x), Some(y)) => Some(x.intersect(&y)),
            (x, None) => x,
            (None, y) => y,
        },
        ExprKind::Bin(BinOp::Or, a, b) => {
            let x = constraint(program, a, q, depth)?;
            let y = constraint(program, b, q, depth)?;
            Some(x.union(&y))
        }
        ExprKind::Not(x) => constraint(program, x, q, depth).map(|r| r.complement()),
        ExprKind::Def(i) => {
            let d = program.defs.get(*i as usize)?;
            if !d.exceptions.is_empty() {
                return None;
            }
            constraint(program, d.base.as_ref()?, q, depth + 1)
        }
        ExprKind::Bin(op, a, b) => {
            let (op, c) = if quantity(program, a).as_deref() == Some(q) {
                (*op, constant(b)?)
            } else if quantity(program, b).as_deref() == Some(q) {
                let mirrored = match op {
                    BinOp::Lt => BinOp::Gt,
                    BinOp::Le => BinOp::Ge,
                    BinOp::Gt => BinOp::Lt,
                    BinOp::Ge => BinOp::Le,
                    other => *other,
                };
                (mirrored, constant(a)?)
            } else {
                return None;
            };
            let r = match op {
                BinOp::Lt => vec![(i64::MIN, c.checked_sub(1)?)],
                BinOp::Le => vec![(i64::MIN, c)],
                BinOp::Gt => vec![(c.checked_add(1)?, i64::MAX)],
                BinOp::Ge => vec![(c, i64::MAX)],
                BinOp::Eq => vec![(c, c)],
                BinOp::Ne => return Some(Ranges(vec![(c, c)]).complement()),
                _ => return None,
            };
            Some(Ranges::normalize(r))
        }
        _ => None,
    }
}

/// The quantities compared with constants anywhere in `e` (through definitions).
pub fn quantities(program: &Program, e: &Expr, out: &mut Vec<String>, depth: u32) {
    if depth > 8 {
        return;
    }
    e.visit(&mut |x| {
        if let ExprKind::Bin(
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Eq | BinOp::Ne,
            a,
            b,
        ) = &x.kind
        {
            for (l, r) in [(a, b), (b, a)] {
                if let (Some(q), Some(_)) = (quantity(program, l), constant(r))
                    && !out.contains(&q)
                {
                    out.push(q);
                }
            }
        }
    });
    let mut defs = Vec::new();
    e.visit(&mut |x| {
        if let ExprKind::Def(i) = &x.kind {
            defs.push(*i);
        }
    });
    for i in defs {
        if let Some(base) = program.defs.get(i as usize).and_then(|d| d.base.as_ref()) {
            quantities(program, base, out, depth + 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_algebra() {
        let a = Ranges(vec![(10_001, 999_999)]);
        let b = Ranges(vec![(1_000_001, i64::MAX)]);
        let declared = Ranges(vec![(10_001, i64::MAX)]);
        let gap = declared.intersect(&a.union(&b).complement());
        assert_eq!(gap, Ranges(vec![(1_000_000, 1_000_000)]));
        assert_eq!(gap.describe(), "exactly 1,000,000");
        assert_eq!(Ranges::all().complement(), Ranges(vec![]));
    }
}
