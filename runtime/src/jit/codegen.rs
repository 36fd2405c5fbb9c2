//! Lowering the IR to Cranelift: one function per program,
//! `extern "C" fn(ctx: *mut Ctx) -> u64` (0: decided; 1: an evaluation error, whose kind and
//! site are in the context).
//!
//! The function does what `decision::evaluate` and `decision::decide` do, in the same order, so
//! the first error is the same one: every definition in dependency order (default logic,
//! conflicts between exceptions of one priority), then every norm in decision order (in force
//! on the date, condition, defeat), then the due dates and fines of the norms that apply in the
//! Decision's order (a due date that needs a fact the case did not give is "unknown", not an
//! error). Scalars are computed inline (integer arithmetic with overflow checks, comparisons,
//! enum-set masks, quantifier loops over packed collections); decimal arithmetic, struct and
//! collection values, and calendar arithmetic call the host (`host`).

use super::host::{self, CTX_AS_OF, CTX_DATA, CTX_ERR_KIND, CTX_ERR_SITE, CTX_FACTS, CTX_OUT};
use super::host::{GenKind, GenOp, struct_field, words};
use super::pack::{Packed, alloc};
use crate::interp::EvalErrorKind;
use cranelift::codegen::ir::{FuncRef, StackSlotData, StackSlotKind};
use cranelift::prelude::*;
use norm_compiler::date::Date;
use norm_compiler::ir::{BinOp, Builtin, Expr, ExprKind, Program};
use norm_compiler::layout::{CaseLayout, Layout, Repr, is_small_enum, layout_of};
use norm_compiler::span::Span;
use norm_compiler::syntax::ast::{NormKind, Quantifier};
use norm_compiler::value::{Ty, Value as NV};

pub type R<T> = Result<T, String>;

/// Where compiled code writes its results, and the tables it refers to by index.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    pub ops: Vec<GenOp>,
    /// Error sites: the span of the expression an error status names.
    pub sites: Vec<Span>,
    /// Per definition, the word offset of its value in the output.
    pub defs: Vec<u32>,
    /// Per norm, the word offset of "applies" (then "condition held" at +1).
    pub applies: Vec<u32>,
    /// Per norm with a due date: word offset of [known, value words…].
    pub due: Vec<Option<u32>>,
    /// Per norm with `done`, `violated`, `keep_until`: word offset of [known, value words…]
    /// (unknown: the case does not show it).
    pub done: Vec<Option<u32>>,
    pub violated: Vec<Option<u32>>,
    pub keep_until: Vec<Option<u32>>,
    /// Per penalty: word offset of [minimum words…, maximum words…].
    pub fines: Vec<Option<u32>>,
    pub out_words: u32,
}

pub struct Helpers {
    pub generic: FuncRef,
    pub dec_cmp: FuncRef,
    pub dec_arith: FuncRef,
    pub working_days: FuncRef,
    pub period_end: FuncRef,
}

type Words = Vec<Value>;

pub struct Gen<'a, 'f> {
    pub b: FunctionBuilder<'f>,
    pub p: &'a Program,
    pub layout: &'a CaseLayout,
    pub plan: &'a mut Plan,
    pub consts: &'a mut Packed,
    pub h: Helpers,
    pub ctx: Value,
    facts: Value,
    out: Value,
    as_of: Value,
    locals: Vec<Words>,
    /// The address of the powers-of-ten table, once made.
    pow10: Option<u64>,
    /// While compiling a due date: the block that handles an error (kind, site) there.
    handler: Option<(Variable, Variable, Block)>,
}

fn flags() -> MemFlagsData {
    MemFlagsData::trusted()
}

fn ity(ty: &Ty) -> Type {
    if matches!(ty, Ty::Bool) {
        types::I8
    } else {
        types::I64
    }
}

fn is_dec(ty: &Ty) -> bool {
    matches!(ty, Ty::Decimal | Ty::Money | Ty::Percent)
}

fn is_word(ty: &Ty) -> bool {
    matches!(ty, Ty::Int | Ty::Date | Ty::Enum(_) | Ty::WorkingDays)
}

/// One step of the decision, in the interpreter's order (see the module docs).
#[derive(Clone, Copy, Debug)]
pub enum Item {
    /// A definition (not one that may be absent: those are expanded where read).
    Def(usize),
    /// Whether a norm applies.
    Norm(usize),
    /// The due date, done date, violation, retention end or fine of a norm that applies.
    Finish(usize),
}

/// Every step of the decision, in order: the definitions, the norms (each after those that may
/// defeat it), then what the norms that apply carry, in the Decision's order.
pub fn items(p: &Program, order: &[usize]) -> Vec<Item> {
    let mut out = Vec::new();
    for &i in &p.def_order {
        if p.defs.get(i as usize).is_some_and(|d| !d.inline) {
            out.push(Item::Def(i as usize));
        }
    }
    out.extend(p.norm_order.iter().map(|&i| Item::Norm(i as usize)));
    out.extend(order.iter().map(|&i| Item::Finish(i)));
    out
}

impl<'a, 'f> Gen<'a, 'f> {
    pub fn new(
        mut b: FunctionBuilder<'f>,
        p: &'a Program,
        layout: &'a CaseLayout,
        plan: &'a mut Plan,
        consts: &'a mut Packed,
        h: Helpers,
    ) -> Gen<'a, 'f> {
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        b.seal_block(entry);
        let ctx = b.block_params(entry).first().copied();
        let ctx = ctx.unwrap_or_else(|| b.ins().iconst(types::I64, 0));
        let facts = b.ins().load(types::I64, flags(), ctx, CTX_FACTS);
        let out = b.ins().load(types::I64, flags(), ctx, CTX_OUT);
        let as_of = b.ins().load(types::I64, flags(), ctx, CTX_AS_OF);
        Gen {
            b,
            p,
            layout,
            plan,
            consts,
            h,
            ctx,
            facts,
            out,
            as_of,
            locals: Vec::new(),
            pow10: None,
            handler: None,
        }
    }

    fn nwords(&self, ty: &Ty) -> usize {
        words(&self.p.types, ty)
    }

    fn site(&mut self, span: Span) -> i64 {
        self.plan.sites.push(span);
        self.plan.sites.len() as i64 - 1
    }

    fn word_types(&self, ty: &Ty) -> Vec<Type> {
        let n = self.nwords(ty);
        let mut t = vec![types::I64; n];
        if let Some(first) = t.first_mut() {
            *first = ity(ty);
        }
        t
    }

    // ---- errors ----------------------------------------------------------------------------

    /// Emits the error path for (kind, site) values in the current block, which it ends.
    fn error_exit(&mut self, kind: Value, site: Value) {
        match self.handler {
            Some((kv, sv, bl)) => {
                self.b.def_var(kv, kind);
                self.b.def_var(sv, site);
                self.b.ins().jump(bl, &[]);
            }
            None => {
                self.b.ins().store(flags(), kind, self.ctx, CTX_ERR_KIND);
                self.b.ins().store(flags(), site, self.ctx, CTX_ERR_SITE);
                let one = self.b.ins().iconst(types::I64, 1);
                self.b.ins().return_(&[one]);
            }
        }
    }

    /// If `cond` (an i8) is true, the evaluation fails with `kind` at `span`.
    fn fail_if(&mut self, cond: Value, kind: EvalErrorKind, span: Span) {
        let err = self.b.create_block();
        let cont = self.b.create_block();
        self.b.ins().brif(cond, err, &[], cont, &[]);
        self.b.seal_block(err);
        self.b.switch_to_block(err);
        let site = self.site(span);
        let k = self
            .b
            .ins()
            .iconst(types::I64, host::status_of(&kind) as i64);
        let s = self.b.ins().iconst(types::I64, site);
        self.error_exit(k, s);
        self.b.seal_block(cont);
        self.b.switch_to_block(cont);
    }

    /// Fails unconditionally; code after this is never reached at run time but stays valid.
    fn fail(&mut self, kind: EvalErrorKind, span: Span) {
        let t = self.b.ins().iconst(types::I8, 1);
        self.fail_if(t, kind, span);
    }

    /// If a helper's `status` is not 0, the evaluation fails with it at `span`.
    fn check_status(&mut self, status: Value, span: Span) {
        let err = self.b.create_block();
        let cont = self.b.create_block();
        self.b.ins().brif(status, err, &[], cont, &[]);
        self.b.seal_block(err);
        self.b.switch_to_block(err);
        let site = self.site(span);
        let s = self.b.ins().iconst(types::I64, site);
        self.error_exit(status, s);
        self.b.seal_block(cont);
        self.b.switch_to_block(cont);
    }

    // ---- memory ----------------------------------------------------------------------------

    /// Loads a value of type `ty` with layout `l` at `base + off`.
    fn load(&mut self, ty: &Ty, l: &Layout, base: Value, off: i32) -> R<Words> {
        Ok(match &l.repr {
            Repr::Bool => vec![self.b.ins().load(types::I8, flags(), base, off)],
            Repr::I64 | Repr::Mask => vec![self.b.ins().load(types::I64, flags(), base, off)],
            Repr::Dec | Repr::Dur | Repr::Text | Repr::Seq(_) => vec![
                self.b.ins().load(types::I64, flags(), base, off),
                self.b.ins().load(types::I64, flags(), base, off + 8),
            ],
            Repr::Struct(..) => vec![self.b.ins().iadd_imm_s(base, i64::from(off))],
            Repr::Opt(_) => return Err(format!("optional value of {ty:?} read without a check")),
        })
    }

    /// Stores words at consecutive word offsets from `base + off` (bools widened).
    fn store_words(&mut self, ws: &[Value], base: Value, off: i32) {
        for (i, w) in ws.iter().enumerate() {
            let w = if self.b.func.dfg.value_type(*w) == types::I8 {
                self.b.ins().uextend(types::I64, *w)
            } else {
                *w
            };
            self.b.ins().store(flags(), w, base, off + 8 * i as i32);
        }
    }

    fn load_words(&mut self, ty: &Ty, base: Value, off: i32) -> Words {
        self.word_types(ty)
            .into_iter()
            .enumerate()
            .map(|(i, t)| self.b.ins().load(t, flags(), base, off + 8 * i as i32))
            .collect()
    }

    fn out_off(word: u32) -> R<i32> {
        i32::try_from(word)
            .ok()
            .and_then(|w| w.checked_mul(8))
            .ok_or_else(|| "output too large".to_string())
    }

    // ---- control flow helpers --------------------------------------------------------------

    fn vars(&mut self, tys: &[Type]) -> Vec<Variable> {
        tys.iter().map(|t| self.b.declare_var(*t)).collect()
    }

    fn def_vars(&mut self, vars: &[Variable], ws: &[Value]) {
        for (v, w) in vars.iter().zip(ws) {
            self.b.def_var(*v, *w);
        }
    }

    fn use_vars(&mut self, vars: &[Variable]) -> Words {
        vars.iter().map(|v| self.b.use_var(*v)).collect()
    }

    fn zeros(&mut self, ty: &Ty) -> Words {
        self.word_types(ty)
            .into_iter()
            .map(|t| self.b.ins().iconst(t, 0))
            .collect()
    }

    /// `if c then t() else f()`, for values of type `ty`.
    fn branch(
        &mut self,
        c: Value,
        ty: &Ty,
        t: impl FnOnce(&mut Self) -> R<Words>,
        f: impl FnOnce(&mut Self) -> R<Words>,
    ) -> R<Words> {
        let tys = self.word_types(ty);
        let vars = self.vars(&tys);
        let (tb, fb, done) = (
            self.b.create_block(),
            self.b.create_block(),
            self.b.create_block(),
        );
        self.b.ins().brif(c, tb, &[], fb, &[]);
        self.b.seal_block(tb);
        self.b.seal_block(fb);
        self.b.switch_to_block(tb);
        let tv = t(self)?;
        self.def_vars(&vars, &tv);
        self.b.ins().jump(done, &[]);
        self.b.switch_to_block(fb);
        let fv = f(self)?;
        self.def_vars(&vars, &fv);
        self.b.ins().jump(done, &[]);
        self.b.seal_block(done);
        self.b.switch_to_block(done);
        Ok(self.use_vars(&vars))
    }

    // ---- constants -------------------------------------------------------------------------

    fn constant(&mut self, ty: &Ty, v: &NV) -> R<Words> {
        let i = |g: &mut Self, x: i64| g.b.ins().iconst(types::I64, x);
        Ok(match (ty, v) {
            (_, NV::Bool(b)) => vec![self.b.ins().iconst(types::I8, i64::from(*b))],
            (_, NV::Int(x) | NV::WorkingDays(x)) => vec![i(self, *x)],
            (_, NV::Date(d)) => vec![i(self, i64::from(d.days_since_epoch()))],
            (_, NV::Enum(_, x)) => vec![i(self, i64::from(*x))],
            (_, NV::Decimal(d) | NV::Money(d) | NV::Percent(d)) => {
                let [lo, hi] = host::dec_words(d);
                vec![i(self, lo as i64), i(self, hi as i64)]
            }
            (_, NV::Duration(d)) => vec![i(self, d.months), i(self, d.days)],
            (_, NV::Text(t)) => {
                self.consts.keep_text(t.clone());
                vec![i(self, t.as_ptr() as i64), i(self, t.len() as i64)]
            }
            (Ty::Set(e), NV::Set(items)) if is_small_enum(&self.p.types, e) => {
                let mut mask = 0u64;
                for item in items.iter() {
                    if let NV::Enum(_, x) = item {
                        mask |= 1u64.checked_shl(*x).ok_or("enum index too large")?;
                    }
                }
                vec![i(self, mask as i64)]
            }
            (Ty::Set(_) | Ty::List(_), NV::Set(items) | NV::List(items)) if items.is_empty() => {
                vec![i(self, 0), i(self, 0)]
            }
            (Ty::Set(e) | Ty::List(e), NV::Set(items) | NV::List(items)) => {
                let el = layout_of(&self.p.types, e).ok_or("no layout")?;
                let seq = Layout {
                    size: 16,
                    repr: Repr::Seq(Box::new(el)),
                };
                let addr = alloc(self.consts, &seq, v).ok_or("constant does not pack")?;
                let pair = i(self, addr as i64);
                let elems = self.b.ins().load(types::I64, flags(), pair, 0);
                vec![elems, i(self, items.len() as i64)]
            }
            (Ty::Struct(_), NV::Struct(..)) => {
                let l = layout_of(&self.p.types, ty).ok_or("no layout")?;
                let addr = alloc(self.consts, &l, v).ok_or("constant does not pack")?;
                vec![i(self, addr as i64)]
            }
            _ => return Err(format!("constant {v:?} of type {ty:?}")),
        })
    }

    // ---- host calls ------------------------------------------------------------------------

    /// Spills words to a stack slot and returns its address.
    fn spill(&mut self, ws: &[Value]) -> Value {
        let size = (ws.len().max(1) * 8) as u32;
        let ss = self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            size,
            3,
        ));
        let addr = self.b.ins().stack_addr(types::I64, ss, 0);
        self.store_words(ws, addr, 0);
        addr
    }

    fn generic(&mut self, kind: GenKind, args: Vec<(Ty, Words)>, result: &Ty, span: Span) -> Words {
        let op = self.plan.ops.len() as i64;
        let mut all = Vec::new();
        let mut tys = Vec::new();
        for (t, ws) in args {
            all.extend(ws);
            tys.push(t);
        }
        self.plan.ops.push(GenOp {
            kind,
            args: tys,
            result: result.clone(),
        });
        let args_addr = self.spill(&all);
        let zeros = vec![self.b.ins().iconst(types::I64, 0); self.nwords(result)];
        let out_addr = self.spill(&zeros);
        let op = self.b.ins().iconst(types::I64, op);
        let call = self
            .b
            .ins()
            .call(self.h.generic, &[self.ctx, op, args_addr, out_addr]);
        let status = self.b.inst_results(call).first().copied();
        if let Some(s) = status {
            self.check_status(s, span);
        }
        self.load_words(result, out_addr, 0)
    }

    /// -1, 0 or 1 as `x` is below, equal to or above `y` (unsigned), an i64.
    fn ucmp(&mut self, x: Value, y: Value) -> Value {
        let gt = self.b.ins().icmp(IntCC::UnsignedGreaterThan, x, y);
        let lt = self.b.ins().icmp(IntCC::UnsignedLessThan, x, y);
        let gt = self.b.ins().uextend(types::I64, gt);
        let lt = self.b.ins().uextend(types::I64, lt);
        self.b.ins().isub(gt, lt)
    }

    /// The address of a table of the powers of ten 10^0..=10^9 among the program's constants.
    fn pow10_table(&mut self) -> Value {
        let addr = match self.pow10 {
            Some(a) => a,
            None => {
                let a = self
                    .consts
                    .words((0..10u32).map(|k| 10u64.pow(k)).collect());
                self.pow10 = Some(a);
                a
            }
        };
        self.b.ins().iconst(types::I64, addr as i64)
    }

    /// The scale of a decimal's word 0 (bits 16-23 of its flags).
    fn dec_scale(&mut self, w0: Value) -> Value {
        let s = self.b.ins().ushr_imm_u(w0, 16);
        self.b.ins().band_imm_u(s, 0xff)
    }

    /// Compares two decimals: -1, 0 or 1 (an i64), as `rust_decimal` does. Inline for two
    /// non-negative decimals of one scale (96-bit mantissas), or of scales at most nine apart
    /// with 32-bit mantissas (rescaled exactly in 64 bits); any other pair calls the host.
    fn dec_cmp(&mut self, a: &[Value], b: &[Value]) -> R<Value> {
        let (Some(&a0), Some(&a1), Some(&b0), Some(&b1)) =
            (a.first(), a.get(1), b.first(), b.get(1))
        else {
            return Err("decimal without two words".into());
        };
        // Word 0: flags (scale in bits 16-23, sign in bit 31) | lo << 32; word 1: mid | hi << 32
        // (`Decimal::serialize`: flags, lo, mid, hi, little-endian). The mantissa is
        // hi·2^64 + mid·2^32 + lo: word 1 holds its top 64 bits, word 0's top half its lowest 32.
        let result = self.b.declare_var(types::I64);
        let fa = self.b.ins().band_imm_u(a0, 0xffff_ffff);
        let fb = self.b.ins().band_imm_u(b0, 0xffff_ffff);
        let same = self.b.ins().icmp(IntCC::Equal, fa, fb);
        let signs = self.b.ins().bor(fa, fb);
        let signs = self.b.ins().band_imm_u(signs, 0x8000_0000);
        let positive = self.b.ins().icmp_imm_s(IntCC::Equal, signs, 0);
        let fast = self.b.ins().band(same, positive);
        let [same_bl, other_bl, rescale_bl, slow_bl, done] = [(); 5].map(|_| self.b.create_block());
        self.b.ins().brif(fast, same_bl, &[], other_bl, &[]);
        self.b.seal_block(same_bl);
        self.b.seal_block(other_bl);
        self.b.switch_to_block(same_bl);
        let (la, lb) = (
            self.b.ins().ushr_imm_u(a0, 32),
            self.b.ins().ushr_imm_u(b0, 32),
        );
        let c_hi = self.ucmp(a1, b1);
        let c_lo = self.ucmp(la, lb);
        let hi_eq = self.b.ins().icmp_imm_s(IntCC::Equal, c_hi, 0);
        let r = self.b.ins().select(hi_eq, c_lo, c_hi);
        self.b.def_var(result, r);
        self.b.ins().jump(done, &[]);
        // Different scales: 32-bit mantissas, scales at most nine apart, both non-negative.
        self.b.switch_to_block(other_bl);
        let tops = self.b.ins().bor(a1, b1);
        let small = self.b.ins().icmp_imm_s(IntCC::Equal, tops, 0);
        let (sa, sb) = (self.dec_scale(a0), self.dec_scale(b0));
        let d = self.b.ins().isub(sa, sb);
        let d9 = self.b.ins().iadd_imm_s(d, 9);
        let near = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedLessThanOrEqual, d9, 18);
        let ok = self.b.ins().band(small, near);
        let ok = self.b.ins().band(ok, positive);
        self.b.ins().brif(ok, rescale_bl, &[], slow_bl, &[]);
        self.b.seal_block(rescale_bl);
        self.b.seal_block(slow_bl);
        self.b.switch_to_block(rescale_bl);
        let top = self.b.ins().umax(sa, sb);
        let (ka, kb) = (self.b.ins().isub(top, sa), self.b.ins().isub(top, sb));
        let table = self.pow10_table();
        let (oa, ob) = (
            self.b.ins().ishl_imm_u(ka, 3),
            self.b.ins().ishl_imm_u(kb, 3),
        );
        let (pa, pb) = (self.b.ins().iadd(table, oa), self.b.ins().iadd(table, ob));
        let pa = self.b.ins().load(types::I64, flags(), pa, 0);
        let pb = self.b.ins().load(types::I64, flags(), pb, 0);
        let (ma, mb) = (
            self.b.ins().ushr_imm_u(a0, 32),
            self.b.ins().ushr_imm_u(b0, 32),
        );
        let (xa, xb) = (self.b.ins().imul(ma, pa), self.b.ins().imul(mb, pb));
        let r = self.ucmp(xa, xb);
        self.b.def_var(result, r);
        self.b.ins().jump(done, &[]);
        self.b.switch_to_block(slow_bl);
        let call = self.b.ins().call(self.h.dec_cmp, &[a0, a1, b0, b1]);
        let r = self
            .b
            .inst_results(call)
            .first()
            .copied()
            .ok_or("no result")?;
        self.b.def_var(result, r);
        self.b.ins().jump(done, &[]);
        self.b.seal_block(done);
        self.b.switch_to_block(done);
        Ok(self.b.use_var(result))
    }

    /// `a * b` inline when both mantissas fit in 32 bits and the scales add up to at most 28:
    /// then `rust_decimal`'s product is exact (mantissa `ma·mb`, scale `sa+sb`, sign the
    /// exclusive or; zero when either is zero). `None`-like: jumps to `slow` otherwise.
    fn dec_mul_inline(&mut self, a0: Value, a1: Value, b0: Value, b1: Value, slow: Block) -> Words {
        let tops = self.b.ins().bor(a1, b1);
        let small = self.b.ins().icmp_imm_s(IntCC::Equal, tops, 0);
        let (sa, sb) = (self.dec_scale(a0), self.dec_scale(b0));
        let scale = self.b.ins().iadd(sa, sb);
        let fits = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedLessThanOrEqual, scale, 28);
        let ok = self.b.ins().band(small, fits);
        let fast = self.b.create_block();
        self.b.ins().brif(ok, fast, &[], slow, &[]);
        self.b.seal_block(fast);
        self.b.switch_to_block(fast);
        let (ma, mb) = (
            self.b.ins().ushr_imm_u(a0, 32),
            self.b.ins().ushr_imm_u(b0, 32),
        );
        let prod = self.b.ins().imul(ma, mb);
        let sign = self.b.ins().bxor(a0, b0);
        let sign = self.b.ins().band_imm_u(sign, 0x8000_0000);
        let scale = self.b.ins().ishl_imm_u(scale, 16);
        let flags = self.b.ins().bor(scale, sign);
        let low = self.b.ins().ishl_imm_u(prod, 32);
        let w0 = self.b.ins().bor(flags, low);
        let w1 = self.b.ins().ushr_imm_u(prod, 32);
        let zero = self.b.ins().icmp_imm_s(IntCC::Equal, prod, 0);
        let z = self.b.ins().iconst(types::I64, 0);
        vec![
            self.b.ins().select(zero, z, w0),
            self.b.ins().select(zero, z, w1),
        ]
    }

    /// Decimal `+ - * /` (any decimal types) by the host's exact arithmetic.
    fn dec_arith(&mut self, op: BinOp, x: &[Value], y: &[Value], span: Span) -> R<Words> {
        let (Some(&a0), Some(&a1), Some(&b0), Some(&b1)) =
            (x.first(), x.get(1), y.first(), y.get(1))
        else {
            return Err("decimal without two words".into());
        };
        let code = match op {
            BinOp::Add => 0,
            BinOp::Sub => 1,
            BinOp::Mul => 2,
            _ => 3,
        };
        let vars = self.vars(&[types::I64, types::I64]);
        let (slow, done) = (self.b.create_block(), self.b.create_block());
        if op == BinOp::Mul {
            let w = self.dec_mul_inline(a0, a1, b0, b1, slow);
            self.def_vars(&vars, &w);
            self.b.ins().jump(done, &[]);
        } else {
            self.b.ins().jump(slow, &[]);
        }
        self.b.seal_block(slow);
        self.b.switch_to_block(slow);
        let zero = self.b.ins().iconst(types::I64, 0);
        let out = self.spill(&[zero, zero]);
        let code = self.b.ins().iconst(types::I64, code);
        let call = self
            .b
            .ins()
            .call(self.h.dec_arith, &[code, a0, a1, b0, b1, out]);
        let status = self.b.inst_results(call).first().copied().ok_or("call")?;
        self.check_status(status, span);
        let w = vec![
            self.b.ins().load(types::I64, flags(), out, 0),
            self.b.ins().load(types::I64, flags(), out, 8),
        ];
        self.def_vars(&vars, &w);
        self.b.ins().jump(done, &[]);
        self.b.seal_block(done);
        self.b.switch_to_block(done);
        Ok(self.use_vars(&vars))
    }

    /// `x == y` for two values of type `ty`, as an i8.
    fn equal(&mut self, ty: &Ty, x: Words, y: Words, span: Span) -> R<Value> {
        self.compare(BinOp::Eq, ty, x, y, span)
    }

    fn compare(&mut self, op: BinOp, ty: &Ty, x: Words, y: Words, span: Span) -> R<Value> {
        let cc = |signed: bool| match (op, signed) {
            (BinOp::Eq, _) => IntCC::Equal,
            (BinOp::Ne, _) => IntCC::NotEqual,
            (BinOp::Lt, true) => IntCC::SignedLessThan,
            (BinOp::Le, true) => IntCC::SignedLessThanOrEqual,
            (BinOp::Gt, true) => IntCC::SignedGreaterThan,
            (BinOp::Ge, true) => IntCC::SignedGreaterThanOrEqual,
            (BinOp::Lt, false) => IntCC::UnsignedLessThan,
            (BinOp::Le, false) => IntCC::UnsignedLessThanOrEqual,
            (BinOp::Gt, false) => IntCC::UnsignedGreaterThan,
            _ => IntCC::UnsignedGreaterThanOrEqual,
        };
        let mask_eq = matches!(op, BinOp::Eq | BinOp::Ne)
            && matches!(ty, Ty::Set(e) if is_small_enum(&self.p.types, e));
        match (x.first(), y.first()) {
            (Some(a), Some(b)) if is_word(ty) || mask_eq => Ok(self.b.ins().icmp(cc(true), *a, *b)),
            (Some(a), Some(b)) if matches!(ty, Ty::Bool) => {
                Ok(self.b.ins().icmp(cc(false), *a, *b))
            }
            _ if is_dec(ty) => {
                let c = self.dec_cmp(&x, &y)?;
                Ok(self.b.ins().icmp_imm_s(cc(true), c, 0))
            }
            _ => {
                let r = self.generic(
                    GenKind::Bin(op),
                    vec![(ty.clone(), x), (ty.clone(), y)],
                    &Ty::Bool,
                    span,
                );
                r.first().copied().ok_or_else(|| "no result".into())
            }
        }
    }

    // ---- expressions -----------------------------------------------------------------------

    fn one(&mut self, e: &Expr) -> R<Value> {
        self.expr(e)?
            .first()
            .copied()
            .ok_or_else(|| "expression without a value".into())
    }

    pub fn expr(&mut self, e: &Expr) -> R<Words> {
        match &e.kind {
            ExprKind::Const(v) => self.constant(&e.ty, v),
            ExprKind::AsOf => Ok(vec![self.as_of]),
            ExprKind::Fact(i) => {
                let (off, l) = self
                    .layout
                    .facts
                    .get(*i as usize)
                    .cloned()
                    .ok_or("fact out of range")?;
                let facts = self.facts;
                self.load(&e.ty, &l, facts, off as i32)
            }
            ExprKind::Data(s, f) => {
                let (offsets, layouts, _) = self
                    .layout
                    .schemas
                    .get(*s as usize)
                    .ok_or("schema")?
                    .clone();
                let (off, l) = offsets
                    .get(*f as usize)
                    .zip(layouts.get(*f as usize))
                    .ok_or("schema field")?;
                let table = self.b.ins().load(types::I64, flags(), self.ctx, CTX_DATA);
                let p = self
                    .b
                    .ins()
                    .load(types::I64, flags(), table, 8 * (*s as i32));
                let null = self.b.ins().icmp_imm_s(IntCC::Equal, p, 0);
                self.fail_if(null, EvalErrorKind::MissingData, e.span);
                self.field_at(&e.ty, l, p, *off as i32, e.span)
            }
            ExprKind::Def(i) => {
                let off = Self::out_off(*self.plan.defs.get(*i as usize).ok_or("def")?)?;
                let out = self.out;
                Ok(self.load_words(&e.ty, out, off))
            }
            ExprKind::Local(l) => self
                .locals
                .get(*l as usize)
                .cloned()
                .ok_or_else(|| "local out of scope".into()),
            ExprKind::Field(base, i) => {
                let p = self.one(base)?;
                let (off, l) = struct_field(self.p, &base.ty, *i).ok_or("field")?;
                self.field_at(&e.ty, &l, p, off as i32, e.span)
            }
            ExprKind::Not(x) => {
                let v = self.one(x)?;
                Ok(vec![self.b.ins().bxor_imm_u(v, 1)])
            }
            ExprKind::Neg(x) => {
                let v = self.expr(x)?;
                match (&x.ty, v.first()) {
                    (Ty::Int, Some(a)) => {
                        let min = self.b.ins().icmp_imm_s(IntCC::Equal, *a, i64::MIN);
                        self.fail_if(min, EvalErrorKind::Overflow, e.span);
                        Ok(vec![self.b.ins().ineg(*a)])
                    }
                    _ => Ok(self.generic(GenKind::Neg, vec![(x.ty.clone(), v)], &e.ty, e.span)),
                }
            }
            ExprKind::Bin(BinOp::And, a, b) => {
                let c = self.one(a)?;
                self.branch(
                    c,
                    &Ty::Bool,
                    |g| g.expr(b),
                    |g| Ok(vec![g.b.ins().iconst(types::I8, 0)]),
                )
            }
            ExprKind::Bin(BinOp::Or, a, b) => {
                let c = self.one(a)?;
                self.branch(
                    c,
                    &Ty::Bool,
                    |g| Ok(vec![g.b.ins().iconst(types::I8, 1)]),
                    |g| g.expr(b),
                )
            }
            ExprKind::Bin(op, a, b) => self.binary(*op, a, b, e),
            ExprKind::If(c, t, f) => {
                let c = self.one(c)?;
                self.branch(c, &e.ty, |g| g.expr(t), |g| g.expr(f))
            }
            ExprKind::Quant {
                q,
                collection,
                filter,
                body,
                ..
            } => self.quantifier(*q, collection, filter.as_deref(), body, e),
            ExprKind::Set(items) if is_small_enum(&self.p.types, e.ty.element().ok_or("set")?) => {
                let mut mask = self.b.ins().iconst(types::I64, 0);
                let one = self.b.ins().iconst(types::I64, 1);
                for x in items {
                    let i = self.one(x)?;
                    let bit = self.b.ins().ishl(one, i);
                    mask = self.b.ins().bor(mask, bit);
                }
                Ok(vec![mask])
            }
            ExprKind::Set(items) if items.is_empty() => self.constant(&e.ty, &NV::set(Vec::new())),
            ExprKind::List(items) if items.is_empty() => {
                self.constant(&e.ty, &NV::List(Vec::new().into()))
            }
            ExprKind::Set(items) | ExprKind::List(items) | ExprKind::Struct(_, items) => {
                let mut args = Vec::new();
                for x in items {
                    let v = self.expr(x)?;
                    args.push((x.ty.clone(), v));
                }
                let kind = match &e.kind {
                    ExprKind::Set(_) => GenKind::Set,
                    ExprKind::List(_) => GenKind::List,
                    ExprKind::Struct(id, _) => GenKind::Struct(*id),
                    _ => return Err("unreachable".into()),
                };
                Ok(self.generic(kind, args, &e.ty, e.span))
            }
            ExprKind::Call(b, args) => self.call(*b, args, e),
            ExprKind::ToDecimal(x) => {
                let v = self.expr(x)?;
                Ok(self.generic(GenKind::ToDecimal, vec![(Ty::Int, v)], &e.ty, e.span))
            }
            ExprKind::WorkingDays {
                date,
                count,
                schema,
                backwards,
            } => {
                let d = self.one(date)?;
                let mut n = self.one(count)?;
                if *backwards {
                    let min = self.b.ins().icmp_imm_s(IntCC::Equal, n, i64::MIN);
                    self.fail_if(min, EvalErrorKind::Overflow, e.span);
                    n = self.b.ins().ineg(n);
                }
                let out = self.spill(&[d]);
                let s = self.b.ins().iconst(types::I64, i64::from(*schema));
                let call = self
                    .b
                    .ins()
                    .call(self.h.working_days, &[self.ctx, s, d, n, out]);
                let status = self.b.inst_results(call).first().copied().ok_or("call")?;
                self.check_status(status, e.span);
                Ok(vec![self.b.ins().load(types::I64, flags(), out, 0)])
            }
            ExprKind::PeriodEnd {
                start,
                period,
                schema,
            } => {
                let d = self.one(start)?;
                let p = self.expr(period)?;
                let (Some(m), Some(days)) = (p.first().copied(), p.get(1).copied()) else {
                    return Err("duration".into());
                };
                let out = self.spill(&[d]);
                let s = self.b.ins().iconst(types::I64, i64::from(*schema));
                let call = self
                    .b
                    .ins()
                    .call(self.h.period_end, &[self.ctx, s, d, m, days, out]);
                let status = self.b.inst_results(call).first().copied().ok_or("call")?;
                self.check_status(status, e.span);
                Ok(vec![self.b.ins().load(types::I64, flags(), out, 0)])
            }
        }
    }

    /// Reads a struct or schema field at `p + off`: an optional one is checked for presence.
    fn field_at(&mut self, ty: &Ty, l: &Layout, p: Value, off: i32, span: Span) -> R<Words> {
        match &l.repr {
            Repr::Opt(inner) => {
                let present = self.b.ins().load(types::I64, flags(), p, off);
                let absent = self.b.ins().icmp_imm_s(IntCC::Equal, present, 0);
                self.fail_if(absent, EvalErrorKind::MissingFact, span);
                self.load(ty, inner, p, off + 8)
            }
            _ => self.load(ty, l, p, off),
        }
    }

    fn binary(&mut self, op: BinOp, a: &Expr, b: &Expr, e: &Expr) -> R<Words> {
        let x = self.expr(a)?;
        let y = self.expr(b)?;
        match op {
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                Ok(vec![self.compare(op, &a.ty, x, y, e.span)?])
            }
            BinOp::In => {
                let small = matches!(&b.ty, Ty::Set(el) if is_small_enum(&self.p.types, el));
                match (x.first(), y.first()) {
                    (Some(i), Some(mask)) if small => {
                        let shifted = self.b.ins().ushr(*mask, *i);
                        let bit = self.b.ins().band_imm_u(shifted, 1);
                        Ok(vec![self.b.ins().ireduce(types::I8, bit)])
                    }
                    _ => Ok(self.generic(
                        GenKind::Bin(op),
                        vec![(a.ty.clone(), x), (b.ty.clone(), y)],
                        &e.ty,
                        e.span,
                    )),
                }
            }
            BinOp::Add | BinOp::Sub | BinOp::Mul if a.ty == Ty::Int && b.ty == Ty::Int => {
                let (Some(l), Some(r)) = (x.first().copied(), y.first().copied()) else {
                    return Err("int".into());
                };
                let (v, of) = match op {
                    BinOp::Add => self.b.ins().sadd_overflow(l, r),
                    BinOp::Sub => self.b.ins().ssub_overflow(l, r),
                    _ => self.b.ins().smul_overflow(l, r),
                };
                self.fail_if(of, EvalErrorKind::Overflow, e.span);
                Ok(vec![v])
            }
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div if is_dec(&a.ty) && is_dec(&b.ty) => {
                self.dec_arith(op, &x, &y, e.span)
            }
            BinOp::Sub if a.ty == Ty::Date && b.ty == Ty::Date => {
                let (Some(l), Some(r)) = (x.first().copied(), y.first().copied()) else {
                    return Err("date".into());
                };
                Ok(vec![self.b.ins().isub(l, r)])
            }
            _ => Ok(self.generic(
                GenKind::Bin(op),
                vec![(a.ty.clone(), x), (b.ty.clone(), y)],
                &e.ty,
                e.span,
            )),
        }
    }

    fn call(&mut self, builtin: Builtin, args: &[Expr], e: &Expr) -> R<Words> {
        if builtin == Builtin::Present {
            // The presence word of the optional field, without reading its value.
            let Some(ExprKind::Field(base, i)) = args.first().map(|a| &a.kind) else {
                return Err("given".into());
            };
            let p = self.one(base)?;
            let (off, l) = struct_field(self.p, &base.ty, *i).ok_or("field")?;
            let Repr::Opt(_) = &l.repr else {
                return Err("given: not optional".into());
            };
            let present = self.b.ins().load(types::I64, flags(), p, off as i32);
            return Ok(vec![self.b.ins().icmp_imm_s(IntCC::NotEqual, present, 0)]);
        }
        let mut vals = Vec::new();
        for a in args {
            vals.push((a.ty.clone(), self.expr(a)?));
        }
        let first = vals.first().and_then(|(_, w)| w.first().copied());
        match (builtin, first) {
            (Builtin::Min | Builtin::Max, Some(_)) if is_word(&e.ty) || is_dec(&e.ty) => {
                let (Some((_, x)), Some((_, y))) = (vals.first(), vals.get(1)) else {
                    return Err("min/max".into());
                };
                let (x, y) = (x.clone(), y.clone());
                // `Ord::min` keeps the first of equal values, `Ord::max` the second.
                let pick_y = if is_dec(&e.ty) {
                    let c = self.dec_cmp(&y, &x)?;
                    let cc = if builtin == Builtin::Min {
                        IntCC::SignedLessThan
                    } else {
                        IntCC::SignedGreaterThanOrEqual
                    };
                    self.b.ins().icmp_imm_s(cc, c, 0)
                } else {
                    let (Some(a), Some(b)) = (x.first(), y.first()) else {
                        return Err("min/max".into());
                    };
                    let cc = if builtin == Builtin::Min {
                        IntCC::SignedLessThan
                    } else {
                        IntCC::SignedGreaterThanOrEqual
                    };
                    self.b.ins().icmp(cc, *b, *a)
                };
                Ok(x.iter()
                    .zip(&y)
                    .map(|(a, b)| self.b.ins().select(pick_y, *b, *a))
                    .collect())
            }
            (Builtin::Size, Some(w)) => {
                let small = matches!(args.first().map(|a| &a.ty),
                    Some(Ty::Set(el)) if is_small_enum(&self.p.types, el));
                if small {
                    Ok(vec![self.b.ins().popcnt(w)])
                } else {
                    let len = vals.first().and_then(|(_, ws)| ws.get(1).copied());
                    Ok(vec![len.ok_or("size")?])
                }
            }
            (Builtin::WorkingDays, Some(n)) => Ok(vec![n]),
            (Builtin::Days, Some(n)) => Ok(vec![self.b.ins().iconst(types::I64, 0), n]),
            (Builtin::Months, Some(n)) => Ok(vec![n, self.b.ins().iconst(types::I64, 0)]),
            (Builtin::Years, Some(n)) => {
                let twelve = self.b.ins().iconst(types::I64, 12);
                let (m, of) = self.b.ins().smul_overflow(n, twelve);
                self.fail_if(of, EvalErrorKind::Overflow, e.span);
                Ok(vec![m, self.b.ins().iconst(types::I64, 0)])
            }
            _ => Ok(self.generic(GenKind::Call(builtin), vals, &e.ty, e.span)),
        }
    }

    /// `exists`/`all`/`count`/`sum` over a collection, in the collection's order (sets in
    /// value order, as the interpreter's sorted sets; enum masks by ascending variant).
    fn quantifier(
        &mut self,
        q: Quantifier,
        coll: &Expr,
        filter: Option<&Expr>,
        body: &Expr,
        e: &Expr,
    ) -> R<Words> {
        let cw = self.expr(coll)?;
        let elem_ty = coll.ty.element().ok_or("collection")?.clone();
        let small = is_small_enum(&self.p.types, &elem_ty);
        let acc_tys = self.word_types(&e.ty);
        let acc = self.vars(&acc_tys);
        let init = match q {
            Quantifier::Exists => vec![self.b.ins().iconst(types::I8, 0)],
            Quantifier::All => vec![self.b.ins().iconst(types::I8, 1)],
            Quantifier::Count | Quantifier::Earliest | Quantifier::Latest => {
                vec![self.b.ins().iconst(types::I64, 0)]
            }
            Quantifier::Sum => match &e.ty {
                Ty::Int => vec![self.b.ins().iconst(types::I64, 0)],
                ty => self.constant(ty, &norm_compiler::value::zero_of(ty).ok_or("sum type")?)?,
            },
        };
        self.def_vars(&acc, &init);
        // `earliest`/`latest`: whether an element was found yet.
        let found = self.b.declare_var(types::I8);
        let no = self.b.ins().iconst(types::I8, 0);
        self.b.def_var(found, no);
        // Loop state: for a mask, the bits left; for a sequence, the index.
        let state = self.b.declare_var(types::I64);
        let header = self.b.create_block();
        let body_bl = self.b.create_block();
        let exit = self.b.create_block();
        let first = cw.first().copied().ok_or("collection")?;
        let (start, len) = if small {
            (first, None)
        } else {
            (
                self.b.ins().iconst(types::I64, 0),
                Some(cw.get(1).copied().ok_or("collection")?),
            )
        };
        self.b.def_var(state, start);
        self.b.ins().jump(header, &[]);
        self.b.switch_to_block(header);
        let st = self.b.use_var(state);
        let more = match len {
            None => self.b.ins().icmp_imm_s(IntCC::NotEqual, st, 0),
            Some(len) => self.b.ins().icmp(IntCC::SignedLessThan, st, len),
        };
        self.b.ins().brif(more, body_bl, &[], exit, &[]);
        self.b.seal_block(body_bl);
        self.b.switch_to_block(body_bl);
        let st = self.b.use_var(state);
        let item = if small {
            let i = self.b.ins().ctz(st);
            let minus1 = self.b.ins().iadd_imm_s(st, -1);
            let rest = self.b.ins().band(st, minus1);
            self.b.def_var(state, rest);
            vec![i]
        } else {
            let el = layout_of(&self.p.types, &elem_ty).ok_or("element layout")?;
            let off = self.b.ins().imul_imm_s(st, i64::from(el.size));
            let at = self.b.ins().iadd(first, off);
            let next = self.b.ins().iadd_imm_s(st, 1);
            self.b.def_var(state, next);
            self.load(&elem_ty, &el, at, 0)?
        };
        self.locals.push(item);
        if let Some(f) = filter {
            let keep = self.expr(f);
            let keep = match keep {
                Ok(k) => k.first().copied().ok_or_else(|| "filter".to_string()),
                Err(err) => Err(err),
            };
            let keep = match keep {
                Ok(k) => k,
                Err(err) => {
                    self.locals.pop();
                    return Err(err);
                }
            };
            let kept = self.b.create_block();
            self.b.ins().brif(keep, kept, &[], header, &[]);
            self.b.seal_block(kept);
            self.b.switch_to_block(kept);
        }
        let v = self.expr(body);
        self.locals.pop();
        let v = v?;
        match q {
            Quantifier::Earliest | Quantifier::Latest => {
                let x = v.first().copied().ok_or("body")?;
                let cur = self.use_vars(&acc);
                let c = cur.first().copied().ok_or("acc")?;
                let f = self.b.use_var(found);
                let better = self.b.ins().icmp(
                    if q == Quantifier::Earliest {
                        IntCC::SignedLessThan
                    } else {
                        IntCC::SignedGreaterThan
                    },
                    x,
                    c,
                );
                let first = self.b.ins().icmp_imm_s(IntCC::Equal, f, 0);
                let take = self.b.ins().bor(first, better);
                let n = self.b.ins().select(take, x, c);
                self.def_vars(&acc, &[n]);
                let yes = self.b.ins().iconst(types::I8, 1);
                self.b.def_var(found, yes);
                self.b.ins().jump(header, &[]);
            }
            Quantifier::Exists | Quantifier::All => {
                let hit = v.first().copied().ok_or("body")?;
                let stop_val = i64::from(q == Quantifier::Exists);
                let stop = self.b.create_block();
                let cond = if q == Quantifier::Exists {
                    hit
                } else {
                    self.b.ins().bxor_imm_u(hit, 1)
                };
                self.b.ins().brif(cond, stop, &[], header, &[]);
                self.b.seal_block(stop);
                self.b.switch_to_block(stop);
                let r = self.b.ins().iconst(types::I8, stop_val);
                self.def_vars(&acc, &[r]);
                self.b.ins().jump(exit, &[]);
            }
            Quantifier::Count => {
                let hit = v.first().copied().ok_or("body")?;
                let cur = self.use_vars(&acc);
                let one = self.b.ins().uextend(types::I64, hit);
                let c = cur.first().copied().ok_or("acc")?;
                let n = self.b.ins().iadd(c, one);
                self.def_vars(&acc, &[n]);
                self.b.ins().jump(header, &[]);
            }
            Quantifier::Sum => {
                let cur = self.use_vars(&acc);
                let n = if e.ty == Ty::Int {
                    let (Some(c), Some(x)) = (cur.first().copied(), v.first().copied()) else {
                        return Err("sum".into());
                    };
                    let (n, of) = self.b.ins().sadd_overflow(c, x);
                    self.fail_if(of, EvalErrorKind::Overflow, e.span);
                    vec![n]
                } else if is_dec(&e.ty) && is_dec(&body.ty) {
                    self.dec_arith(BinOp::Add, &cur, &v, e.span)?
                } else {
                    self.generic(
                        GenKind::Bin(BinOp::Add),
                        vec![(e.ty.clone(), cur), (body.ty.clone(), v)],
                        &e.ty,
                        e.span,
                    )
                };
                self.def_vars(&acc, &n);
                self.b.ins().jump(header, &[]);
            }
        }
        self.b.seal_block(header);
        self.b.seal_block(exit);
        self.b.switch_to_block(exit);
        if matches!(q, Quantifier::Earliest | Quantifier::Latest) {
            // None found: as an absent optional fact.
            let f = self.b.use_var(found);
            let none = self.b.ins().icmp_imm_s(IntCC::Equal, f, 0);
            self.fail_if(none, EvalErrorKind::MissingFact, e.span);
        }
        Ok(self.use_vars(&acc))
    }

    // ---- the decision ----------------------------------------------------------------------

    /// Compiles one part of the decision: its items in order, then `return 0`. The parts,
    /// run one after another, decide the case ([`items`]); they share nothing but the output
    /// buffer, where each writes what later parts read.
    pub fn decide_items(&mut self, items: &[Item]) -> R<()> {
        for item in items {
            match *item {
                Item::Def(i) => self.def(i)?,
                Item::Norm(i) => self.norm(i)?,
                Item::Finish(i) => self.finish(i)?,
            }
        }
        let zero = self.b.ins().iconst(types::I64, 0);
        self.b.ins().return_(&[zero]);
        Ok(())
    }

    /// The due date, done date, violation, retention end or fine of norm `i`, if it applies.
    fn finish(&mut self, i: usize) -> R<()> {
        let p = self.p;
        let Some(n) = p.norms.get(i) else {
            return Ok(());
        };
        match n.kind {
            NormKind::Penalty => {
                if let (Some((lo, hi)), Some(Some(off))) = (&n.fine, self.plan.fines.get(i)) {
                    let off = Self::out_off(*off)?;
                    self.if_applies(i, |g| {
                        let a = g.expr(lo)?;
                        let b = g.expr(hi)?;
                        let out = g.out;
                        let na = a.len() as i32;
                        g.store_words(&a, out, off);
                        g.store_words(&b, out, off + 8 * na);
                        Ok(())
                    })?;
                }
            }
            NormKind::Warning => {}
            _ => {
                if let (Some(d), Some(Some(off))) = (&n.due, self.plan.due.get(i)) {
                    let off = Self::out_off(*off)?;
                    self.if_applies(i, |g| g.due(d, off, true))?;
                }
                // In the interpreter's order (`decision::finish`): done, violated, keep_until.
                for (e, slot) in [
                    (&n.done, self.plan.done.get(i).copied().flatten()),
                    (&n.violated, self.plan.violated.get(i).copied().flatten()),
                    (
                        &n.keep_until,
                        self.plan.keep_until.get(i).copied().flatten(),
                    ),
                ] {
                    if let (Some(e), Some(off)) = (e, slot) {
                        let off = Self::out_off(off)?;
                        self.if_applies(i, |g| g.due(e, off, false))?;
                    }
                }
            }
        }
        Ok(())
    }

    fn if_applies(&mut self, i: usize, f: impl FnOnce(&mut Self) -> R<()>) -> R<()> {
        let off = Self::out_off(*self.plan.applies.get(i).ok_or("norm")?)?;
        let applies = self.b.ins().load(types::I8, flags(), self.out, off);
        let (then, done) = (self.b.create_block(), self.b.create_block());
        self.b.ins().brif(applies, then, &[], done, &[]);
        self.b.seal_block(then);
        self.b.switch_to_block(then);
        f(self)?;
        self.b.ins().jump(done, &[]);
        self.b.seal_block(done);
        self.b.switch_to_block(done);
        Ok(())
    }

    /// A due date: known (1) with its value, or unknown: 0 when it needs an absent fact, 2 when
    /// it falls outside the working-day calendar.
    fn due(&mut self, d: &Expr, off: i32, calendar_unknown: bool) -> R<()> {
        let kv = self.b.declare_var(types::I64);
        let sv = self.b.declare_var(types::I64);
        let handler = self.b.create_block();
        let done = self.b.create_block();
        let saved = self.handler.replace((kv, sv, handler));
        let v = self.expr(d);
        self.handler = saved;
        let v = v?;
        let out = self.out;
        self.store_words(&v, out, off + 8);
        let one = self.b.ins().iconst(types::I64, 1);
        self.b.ins().store(flags(), one, out, off);
        self.b.ins().jump(done, &[]);
        // An error while computing the due date: a missing fact makes it unknown; any other
        // error is the decision's.
        self.b.seal_block(handler);
        self.b.switch_to_block(handler);
        let kind = self.b.use_var(kv);
        let site = self.b.use_var(sv);
        let missing = self.b.ins().icmp_imm_s(
            IntCC::Equal,
            kind,
            host::status_of(&EvalErrorKind::MissingFact) as i64,
        );
        // Only a due date is unknown past the calendar; elsewhere that is the decision's error.
        let outside = if calendar_unknown {
            self.b.ins().icmp_imm_s(
                IntCC::Equal,
                kind,
                host::status_of(&EvalErrorKind::OutsideCalendar) as i64,
            )
        } else {
            self.b.ins().iconst(types::I8, 0)
        };
        let (fatal, unknown, not_missing, calendar) = (
            self.b.create_block(),
            self.b.create_block(),
            self.b.create_block(),
            self.b.create_block(),
        );
        self.b.ins().brif(missing, unknown, &[], not_missing, &[]);
        self.b.seal_block(not_missing);
        self.b.switch_to_block(not_missing);
        self.b.ins().brif(outside, calendar, &[], fatal, &[]);
        self.b.seal_block(fatal);
        self.b.seal_block(unknown);
        self.b.seal_block(calendar);
        self.b.switch_to_block(fatal);
        self.error_exit(kind, site);
        // Past the calendar's years: unknown (2), its reason recorded by the host helper.
        self.b.switch_to_block(calendar);
        let two = self.b.ins().iconst(types::I64, 2);
        self.b.ins().store(flags(), two, out, off);
        self.b.ins().jump(done, &[]);
        self.b.switch_to_block(unknown);
        self.b.ins().jump(done, &[]);
        self.b.seal_block(done);
        self.b.switch_to_block(done);
        Ok(())
    }

    /// A definition by default logic (see `Env::eval_def`); a version of a definition only
    /// while its article version is in force.
    fn def(&mut self, i: usize) -> R<()> {
        let p = self.p;
        let def = p.defs.get(i).ok_or("def")?;
        if def.versioned {
            let art = def.article.and_then(|a| p.articles.get(a as usize));
            let in_force = self.in_period(art.and_then(|a| a.effective), art.and_then(|a| a.until));
            let (then, skip) = (self.b.create_block(), self.b.create_block());
            self.b.ins().brif(in_force, then, &[], skip, &[]);
            self.b.seal_block(then);
            self.b.switch_to_block(then);
            self.def_body(i)?;
            self.b.ins().jump(skip, &[]);
            self.b.seal_block(skip);
            self.b.switch_to_block(skip);
            return Ok(());
        }
        self.def_body(i)
    }

    /// `as_of` lies in `from..=to` (open ends unbounded), as an i8.
    fn in_period(&mut self, from: Option<Date>, to: Option<Date>) -> Value {
        let mut ok = self.b.ins().iconst(types::I8, 1);
        if let Some(f) = from {
            let c = self.b.ins().icmp_imm_s(
                IntCC::SignedGreaterThanOrEqual,
                self.as_of,
                i64::from(f.days_since_epoch()),
            );
            ok = self.b.ins().band(ok, c);
        }
        if let Some(t) = to {
            let c = self.b.ins().icmp_imm_s(
                IntCC::SignedLessThanOrEqual,
                self.as_of,
                i64::from(t.days_since_epoch()),
            );
            ok = self.b.ins().band(ok, c);
        }
        ok
    }

    fn def_body(&mut self, i: usize) -> R<()> {
        let p = self.p;
        let def = p.defs.get(i).ok_or("def")?;
        let off = Self::out_off(*self.plan.defs.get(i).ok_or("def")?)?;
        let tys = self.word_types(&def.ty);
        let result = self.vars(&tys);
        let done = self.b.create_block();
        let ex = &def.exceptions;
        let mut k = 0;
        while let Some(first) = ex.get(k) {
            let level = first.priority;
            let found = self.b.declare_var(types::I8);
            let vals = self.vars(&tys);
            let f0 = self.b.ins().iconst(types::I8, 0);
            self.b.def_var(found, f0);
            let z = self.zeros(&def.ty);
            self.def_vars(&vals, &z);
            while let Some(x) = ex.get(k).filter(|x| x.priority == level) {
                k += 1;
                let c = self.one(&x.when)?;
                let (then, next) = (self.b.create_block(), self.b.create_block());
                self.b.ins().brif(c, then, &[], next, &[]);
                self.b.seal_block(then);
                self.b.switch_to_block(then);
                let v = self.expr(&x.value)?;
                let fv = self.b.use_var(found);
                let (cmp, set) = (self.b.create_block(), self.b.create_block());
                self.b.ins().brif(fv, cmp, &[], set, &[]);
                self.b.seal_block(cmp);
                self.b.seal_block(set);
                self.b.switch_to_block(cmp);
                let prev = self.use_vars(&vals);
                let same = self.equal(&def.ty, prev, v.clone(), x.span)?;
                let differ = self.b.ins().bxor_imm_u(same, 1);
                self.fail_if(differ, EvalErrorKind::Conflict, x.span);
                self.b.ins().jump(next, &[]);
                self.b.switch_to_block(set);
                self.def_vars(&vals, &v);
                let t = self.b.ins().iconst(types::I8, 1);
                self.b.def_var(found, t);
                self.b.ins().jump(next, &[]);
                self.b.seal_block(next);
                self.b.switch_to_block(next);
            }
            let fv = self.b.use_var(found);
            let (hit, miss) = (self.b.create_block(), self.b.create_block());
            self.b.ins().brif(fv, hit, &[], miss, &[]);
            self.b.seal_block(hit);
            self.b.seal_block(miss);
            self.b.switch_to_block(hit);
            let v = self.use_vars(&vals);
            self.def_vars(&result, &v);
            self.b.ins().jump(done, &[]);
            self.b.switch_to_block(miss);
        }
        let v = match &def.base {
            Some(b) => self.expr(b)?,
            None => {
                self.fail(EvalErrorKind::NoApplicableDefinition, def.span);
                self.zeros(&def.ty)
            }
        };
        self.def_vars(&result, &v);
        self.b.ins().jump(done, &[]);
        self.b.seal_block(done);
        self.b.switch_to_block(done);
        let v = self.use_vars(&result);
        let out = self.out;
        self.store_words(&v, out, off);
        Ok(())
    }

    /// A norm: in force on the date, its condition, defeat (see `decision::evaluate`).
    fn norm(&mut self, i: usize) -> R<()> {
        let p = self.p;
        let n = p.norms.get(i).ok_or("norm")?;
        let off = Self::out_off(*self.plan.applies.get(i).ok_or("norm")?)?;
        let art = p.article(n);
        let bounds = [
            (p.law.effective, p.law.until),
            (art.and_then(|a| a.effective), art.and_then(|a| a.until)),
            (n.effective, n.until),
        ];
        let mut in_force = self.b.ins().iconst(types::I8, 1);
        for (from, to) in bounds {
            let c = self.in_period(from, to);
            in_force = self.b.ins().band(in_force, c);
        }
        let held = match &n.when {
            Some(w) => {
                let w = w.clone();
                self.branch(
                    in_force,
                    &Ty::Bool,
                    |g| g.expr(&w),
                    |g| Ok(vec![g.b.ins().iconst(types::I8, 0)]),
                )?
                .first()
                .copied()
                .ok_or("held")?
            }
            None => in_force,
        };
        let mut defeated = self.b.ins().iconst(types::I8, 0);
        for d in &n.defeaters {
            let doff = Self::out_off(*self.plan.applies.get(*d as usize).ok_or("norm")?)?;
            let a = self.b.ins().load(types::I8, flags(), self.out, doff);
            defeated = self.b.ins().bor(defeated, a);
        }
        let not_defeated = self.b.ins().bxor_imm_u(defeated, 1);
        let applies = self.b.ins().band(held, not_defeated);
        let out = self.out;
        self.store_words(&[applies, held], out, off);
        Ok(())
    }
}
