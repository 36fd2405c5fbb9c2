//! Definitions whose value may be absent are expanded where they are read.
//!
//! A definition such as `def accepted_on = latest e in events where …: e.date` has no value
//! when the case has no such event, exactly as an optional field the case did not give. Read in
//! a `due` or `done` clause that means "unknown" or "not done"; read elsewhere it is an error at
//! the place that reads it. So such a definition is not decided on its own: every read of it is
//! replaced by its body (its quantifier levels shifted to the reading context), and both engines
//! see the expression where it is used. A definition may be absent when it takes the `earliest`
//! or `latest` of a collection, or reads an optional field outside `present(…)`, or reads such
//! a definition. Definitions with exceptions, versions or a finding are decided as before.

use crate::ir::{BinOp, Builtin, Expr, ExprKind, Program};
use crate::syntax::ast::Quantifier;
use crate::value::Ty;

/// Marks the definitions that may be absent and expands every read of them.
pub fn expand_absent_defs(p: &mut Program) {
    let n = p.defs.len();
    let mut absent = vec![false; n];
    for &i in &p.def_order {
        let Some(d) = p.defs.get(i as usize) else {
            continue;
        };
        if !d.exceptions.is_empty() || d.versioned || d.finding.is_some() {
            continue;
        }
        if let Some(b) = &d.base
            && may_be_absent(p, b, &absent)
            && let Some(slot) = absent.get_mut(i as usize)
        {
            *slot = true;
        }
    }
    if !absent.iter().any(|a| *a) {
        return;
    }
    // Bodies first, in dependency order, so that each expansion is already expanded.
    let mut bodies: Vec<Option<Expr>> = vec![None; n];
    for &i in &p.def_order {
        let i = i as usize;
        if absent.get(i) != Some(&true) {
            continue;
        }
        if let Some(mut b) = p.defs.get(i).and_then(|d| d.base.clone()) {
            expand(&mut b, 0, &bodies);
            if let Some(slot) = bodies.get_mut(i) {
                *slot = Some(b.clone());
            }
            if let Some(d) = p.defs.get_mut(i) {
                d.base = Some(b);
                d.inline = true;
            }
        }
    }
    for (i, d) in p.defs.iter_mut().enumerate() {
        if absent.get(i) == Some(&true) {
            continue;
        }
        if let Some(b) = &mut d.base {
            expand(b, 0, &bodies);
        }
        for x in &mut d.exceptions {
            expand(&mut x.when, 0, &bodies);
            expand(&mut x.value, 0, &bodies);
        }
    }
    for nm in &mut p.norms {
        for e in [
            &mut nm.when,
            &mut nm.due,
            &mut nm.done,
            &mut nm.violated,
            &mut nm.keep_until,
            &mut nm.counterparty,
        ]
        .into_iter()
        .flatten()
        {
            expand(e, 0, &bodies);
        }
        if let Some((lo, hi)) = &mut nm.fine {
            expand(lo, 0, &bodies);
            expand(hi, 0, &bodies);
        }
    }
    for t in &mut p.tests {
        for x in &mut t.expects {
            if let crate::ir::Expect::Holds { expr, .. } = x {
                expand(expr, 0, &bodies);
            }
        }
    }
}

/// Whether an expression may have no value: a first or last date over a collection, an
/// optional field read outside `present(…)` (or after `present(x) and …`, which guards the
/// reads of `x` that follow it), or a definition that may be absent.
fn may_be_absent(p: &Program, e: &Expr, absent: &[bool]) -> bool {
    absent_under(p, e, absent, &mut Vec::new())
}

/// The fields `present(…)` asserts in a chain of `and`s.
fn guards(p: &Program, e: &Expr, out: &mut Vec<String>) {
    match &e.kind {
        ExprKind::Bin(BinOp::And, a, b) => {
            guards(p, a, out);
            guards(p, b, out);
        }
        ExprKind::Call(Builtin::Present, xs) => {
            out.extend(xs.iter().map(|x| p.show_expr(x)));
        }
        _ => {}
    }
}

/// The fields an expression asserts present when it is false: `not present(x)`, and the parts
/// of an `or` (all false when it is).
fn guards_when_false(p: &Program, e: &Expr, out: &mut Vec<String>) {
    match &e.kind {
        ExprKind::Not(x) => guards(p, x, out),
        ExprKind::Bin(BinOp::Or, a, b) => {
            guards_when_false(p, a, out);
            guards_when_false(p, b, out);
        }
        _ => {}
    }
}

fn absent_under(p: &Program, e: &Expr, absent: &[bool], guarded: &mut Vec<String>) -> bool {
    match &e.kind {
        ExprKind::Quant {
            q: Quantifier::Earliest | Quantifier::Latest,
            ..
        } => true,
        ExprKind::Call(Builtin::Present, _) => false,
        ExprKind::Def(d) => absent.get(*d as usize) == Some(&true),
        ExprKind::Bin(BinOp::And, a, b) => {
            if absent_under(p, a, absent, guarded) {
                return true;
            }
            let before = guarded.len();
            guards(p, a, guarded);
            let r = absent_under(p, b, absent, guarded);
            guarded.truncate(before);
            r
        }
        // `not present(x) or …x…`: the right side is read only where `x` is given.
        ExprKind::Bin(BinOp::Or, a, b) => {
            if absent_under(p, a, absent, guarded) {
                return true;
            }
            let before = guarded.len();
            guards_when_false(p, a, guarded);
            let r = absent_under(p, b, absent, guarded);
            guarded.truncate(before);
            r
        }
        // `if present(x) then …x… else …`: each branch under what its choice asserts.
        ExprKind::If(c, t, f) => {
            if absent_under(p, c, absent, guarded) {
                return true;
            }
            let before = guarded.len();
            guards(p, c, guarded);
            let r = absent_under(p, t, absent, guarded);
            guarded.truncate(before);
            if r {
                return true;
            }
            guards_when_false(p, c, guarded);
            let r = absent_under(p, f, absent, guarded);
            guarded.truncate(before);
            r
        }
        ExprKind::Quant {
            collection,
            filter,
            body,
            ..
        } => {
            if absent_under(p, collection, absent, guarded) {
                return true;
            }
            let before = guarded.len();
            let mut r = false;
            if let Some(f) = filter {
                r = absent_under(p, f, absent, guarded);
                guards(p, f, guarded);
            }
            r = r || absent_under(p, body, absent, guarded);
            guarded.truncate(before);
            r
        }
        ExprKind::Field(base, i) => {
            let optional = matches!(&base.ty, Ty::Struct(sid) if p
                .types
                .struct_def(*sid)
                .and_then(|s| s.fields.get(*i as usize))
                .is_some_and(|f| f.optional));
            if optional && !guarded.contains(&p.show_expr(e)) {
                return true;
            }
            absent_under(p, base, absent, guarded)
        }
        _ => {
            let mut found = false;
            e.children(&mut |c| {
                if !found && absent_under(p, c, absent, &mut guarded.clone()) {
                    found = true;
                }
            });
            found
        }
    }
}

/// Replaces every read of an expanded definition inside `e` (at quantifier depth `depth`) by
/// its body, shifted to that depth.
fn expand(e: &mut Expr, depth: u32, bodies: &[Option<Expr>]) {
    if let ExprKind::Def(d) = &e.kind
        && let Some(Some(body)) = bodies.get(*d as usize)
    {
        let mut b = body.clone();
        shift(&mut b, depth);
        b.span = e.span;
        *e = b;
        return;
    }
    if let ExprKind::Quant {
        level,
        collection,
        filter,
        body,
        ..
    } = &mut e.kind
    {
        // The quantifier's filter and body see its variable: one level deeper.
        expand(collection, depth, bodies);
        let inner = *level + 1;
        if let Some(f) = filter {
            expand(f, inner, bodies);
        }
        expand(body, inner, bodies);
        return;
    }
    e.children_mut(&mut |c| expand(c, depth, bodies));
}

/// Moves a closed expression (a definition's body, quantifier levels from 0) to depth `by`.
fn shift(e: &mut Expr, by: u32) {
    if by == 0 {
        return;
    }
    match &mut e.kind {
        ExprKind::Local(l) => *l += by,
        ExprKind::Quant { level, .. } => *level += by,
        _ => {}
    }
    e.children_mut(&mut |c| shift(c, by));
}
