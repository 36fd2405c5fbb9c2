//! The host side of the JIT boundary: the context compiled code receives, the `extern "C"`
//! helpers it calls, and the conversions between compiled code's words and [`Value`]s.
//!
//! Compiled code represents a value of type `T` as one or two 64-bit *words*:
//!
//! | type | words |
//! |---|---|
//! | `bool` | 1 (0 or 1; an `i8` in registers) |
//! | `int`, `date`, enums, working days | 1 (`i64`) |
//! | `decimal`, `money`, `percentage` | 2 (the 16 bytes of `Decimal::serialize`: flags, lo, mid, hi) |
//! | `duration` | 2 (months, days) |
//! | `text` | 2 (pointer, length) |
//! | set of a small enum | 1 (bit mask) |
//! | other sets, lists | 2 (pointer to packed elements, count) |
//! | struct | 1 (pointer to the packed struct) |
//!
//! Packed memory (facts, data modules, collection elements, structs) follows
//! `norm_compiler::layout`. Every pointer compiled code holds points into a buffer that lives
//! at least as long as the call: the packed case, the packed data modules and constants (owned
//! by the compiled program), or the call's arena ([`Host::arena`]).
//!
//! Helpers never unwind: each catches panics and reports them as an internal error status.

use super::pack::{Packed, alloc};
use crate::interp::{self, EvalErrorKind};
use norm_compiler::calendar::WorkingDayCalendar;
use norm_compiler::date::{Date, Duration};
use norm_compiler::ir::{BinOp, Builtin, DataModule, Program};
use norm_compiler::layout::{Layout, Repr, field_layout, is_small_enum, layout_of};
use norm_compiler::span::Span;
use norm_compiler::value::{Ty, Types, Value};
use rust_decimal::Decimal;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

/// What compiled code receives: a pointer to this. Field offsets are part of the ABI with
/// `codegen` (see the `CTX_*` constants).
#[repr(C)]
pub struct Ctx {
    pub facts: *const u64,
    /// Per data schema, the packed module in force, or null.
    pub data: *const *const u64,
    pub out: *mut u64,
    pub as_of: i64,
    pub err_kind: u64,
    pub err_site: u64,
    pub host: *mut Host<'static>,
}

pub const CTX_FACTS: i32 = 0;
pub const CTX_DATA: i32 = 8;
pub const CTX_OUT: i32 = 16;
pub const CTX_AS_OF: i32 = 24;
pub const CTX_ERR_KIND: i32 = 32;
pub const CTX_ERR_SITE: i32 = 40;

/// An operation compiled code delegates to the host: rare, compound work (struct and
/// collection values, decimal arithmetic) done by the interpreter's own functions, so both
/// engines share one definition of it.
#[derive(Clone, Debug)]
pub struct GenOp {
    pub kind: GenKind,
    pub args: Vec<Ty>,
    pub result: Ty,
}

#[derive(Clone, Debug)]
pub enum GenKind {
    Bin(BinOp),
    Neg,
    Call(Builtin),
    Set,
    List,
    Struct(u32),
    ToDecimal,
}

/// Per-call host state, reached from helpers through [`Ctx::host`].
pub struct Host<'a> {
    pub types: &'a Types,
    pub ops: &'a [GenOp],
    /// The data modules, and per schema the index of the one in force (for calendars).
    pub modules: &'a [DataModule],
    pub selected: &'a [Option<usize>],
    /// Values built during the call (struct and collection results).
    pub arena: Packed,
    /// Working-day computations the calendar could not answer, in the order they failed: each
    /// is the reason of the next due date compiled code marks unknown for the calendar.
    pub calendar_gaps: Vec<interp::CalendarGap>,
}

/// The status code of an error kind (0 is success).
pub fn status_of(kind: &EvalErrorKind) -> u64 {
    match kind {
        EvalErrorKind::Overflow => 1,
        EvalErrorKind::DivisionByZero => 2,
        EvalErrorKind::InexactDivision => 3,
        EvalErrorKind::DateOutOfRange => 4,
        EvalErrorKind::OutsideCalendar => 5,
        EvalErrorKind::NoApplicableDefinition => 6,
        EvalErrorKind::Conflict => 7,
        EvalErrorKind::MissingData => 8,
        EvalErrorKind::MissingFact => 9,
        EvalErrorKind::NotInForce => 10,
        EvalErrorKind::Internal => 11,
    }
}

pub fn kind_of(status: u64) -> EvalErrorKind {
    match status {
        1 => EvalErrorKind::Overflow,
        2 => EvalErrorKind::DivisionByZero,
        3 => EvalErrorKind::InexactDivision,
        4 => EvalErrorKind::DateOutOfRange,
        5 => EvalErrorKind::OutsideCalendar,
        6 => EvalErrorKind::NoApplicableDefinition,
        7 => EvalErrorKind::Conflict,
        8 => EvalErrorKind::MissingData,
        9 => EvalErrorKind::MissingFact,
        10 => EvalErrorKind::NotInForce,
        _ => EvalErrorKind::Internal,
    }
}

const INTERNAL: u64 = 11;

/// How many words compiled code uses for a value of type `ty`.
pub fn words(types: &Types, ty: &Ty) -> usize {
    match ty {
        Ty::Decimal | Ty::Money | Ty::Percent | Ty::Duration | Ty::Text | Ty::List(_) => 2,
        Ty::Set(e) if !is_small_enum(types, e) => 2,
        _ => 1,
    }
}

pub fn dec_words(d: &Decimal) -> [u64; 2] {
    let b = d.serialize();
    let mut lo = [0u8; 8];
    let mut hi = [0u8; 8];
    for (i, byte) in b.iter().enumerate() {
        match (lo.get_mut(i), i.checked_sub(8).and_then(|j| hi.get_mut(j))) {
            (Some(s), _) | (None, Some(s)) => *s = *byte,
            _ => {}
        }
    }
    [u64::from_le_bytes(lo), u64::from_le_bytes(hi)]
}

pub fn dec_of(lo: u64, hi: u64) -> Decimal {
    let mut b = [0u8; 16];
    for (i, byte) in lo
        .to_le_bytes()
        .iter()
        .chain(hi.to_le_bytes().iter())
        .enumerate()
    {
        if let Some(s) = b.get_mut(i) {
            *s = *byte;
        }
    }
    Decimal::deserialize(b)
}

/// Reads the value of type `ty` whose words are `w`.
///
/// # Safety
/// Pointer words must point to live packed memory of `ty`'s layout (see the module docs).
pub unsafe fn read_words(types: &Types, ty: &Ty, w: &[u64]) -> Option<Value> {
    let w0 = *w.first()?;
    let w1 = || w.get(1).copied();
    Some(match ty {
        Ty::Bool => Value::Bool(w0 & 0xff != 0),
        Ty::Int => Value::Int(w0 as i64),
        Ty::WorkingDays => Value::WorkingDays(w0 as i64),
        Ty::Date => Value::Date(Date::from_days(w0 as i64)?),
        Ty::Enum(e) => Value::Enum(*e, u32::try_from(w0).ok()?),
        Ty::Decimal => Value::Decimal(dec_of(w0, w1()?)),
        Ty::Money => Value::Money(dec_of(w0, w1()?)),
        Ty::Percent => Value::Percent(dec_of(w0, w1()?)),
        Ty::Duration => Value::Duration(Duration {
            months: w0 as i64,
            days: w1()? as i64,
        }),
        Ty::Text => {
            // SAFETY: the caller guarantees a text's words are a pointer to `len` live bytes
            // of UTF-8 (packed from a `str`).
            let bytes = unsafe { std::slice::from_raw_parts(w0 as *const u8, w1()? as usize) };
            Value::Text(Arc::from(std::str::from_utf8(bytes).ok()?))
        }
        Ty::Set(e) if is_small_enum(types, e) => {
            let Ty::Enum(id) = **e else { return None };
            Value::set(
                (0..64u32)
                    .filter(|i| w0 >> i & 1 == 1)
                    .map(|i| Value::Enum(id, i))
                    .collect(),
            )
        }
        Ty::Set(_) | Ty::List(_) if w1()? == 0 => match ty {
            Ty::Set(_) => Value::Set(Vec::new().into()),
            _ => Value::List(Vec::new().into()),
        },
        Ty::Set(e) | Ty::List(e) => {
            let l = layout_of(types, e)?;
            let mut items = Vec::new();
            for i in 0..w1()? {
                let at = (w0 as *const u8).wrapping_add((i as usize).checked_mul(l.size as usize)?);
                // SAFETY: the caller guarantees the pointer addresses `count` packed elements.
                items.push(unsafe { read_packed(types, e, &l, at) }?);
            }
            match ty {
                Ty::Set(_) => Value::Set(items.into()),
                _ => Value::List(items.into()),
            }
        }
        Ty::Struct(_) => {
            let l = layout_of(types, ty)?;
            // SAFETY: the caller guarantees the word points to a packed struct of this type.
            unsafe { read_packed(types, ty, &l, w0 as *const u8) }?
        }
        Ty::Never | Ty::Error => return None,
    })
}

/// Reads the value of type `ty` packed with `layout` at `p`.
///
/// # Safety
/// `p` must point to `layout.size` live bytes packed for `ty`.
pub unsafe fn read_packed(types: &Types, ty: &Ty, layout: &Layout, p: *const u8) -> Option<Value> {
    let word = |off: usize| -> u64 {
        // SAFETY: `off + 8 <= layout.size` for every word of a packed value (see `layout`),
        // and the caller guarantees those bytes are live; packed buffers are 8-aligned but
        // nested offsets need not be, hence the unaligned read.
        unsafe { (p.wrapping_add(off) as *const u64).read_unaligned() }
    };
    match &layout.repr {
        Repr::Struct(offsets, fields) => {
            let Ty::Struct(id) = ty else { return None };
            let def = types.struct_def(*id)?;
            let mut values = Vec::with_capacity(fields.len());
            for ((off, fl), fd) in offsets.iter().zip(fields).zip(&def.fields) {
                let at = p.wrapping_add(*off as usize);
                // SAFETY: the field lies inside the struct's bytes.
                values.push(unsafe { read_packed(types, &fd.ty, fl, at) }?);
            }
            Some(Value::Struct(*id, values.into()))
        }
        Repr::Opt(inner) => {
            if word(0) == 0 {
                Some(Value::Absent)
            } else {
                // SAFETY: the value follows the presence word inside the field's bytes.
                unsafe { read_packed(types, ty, inner, p.wrapping_add(8)) }
            }
        }
        Repr::Bool => {
            // SAFETY: a bool occupies 8 live bytes at `p`.
            let b = unsafe { p.read() };
            Some(Value::Bool(b != 0))
        }
        Repr::Dec | Repr::Dur | Repr::Text | Repr::Seq(_) => {
            // SAFETY: as above; these reprs are two words.
            unsafe { read_words(types, ty, &[word(0), word(8)]) }
        }
        Repr::I64 | Repr::Mask => {
            // SAFETY: as above; one word.
            unsafe { read_words(types, ty, &[word(0)]) }
        }
    }
}

/// Writes `v` (of type `ty`) as words into `out`, packing structs and collections into the
/// arena. `None` if the value does not have the type's shape.
pub fn write_words(host: &mut Host<'_>, ty: &Ty, v: &Value, out: &mut [u64]) -> Option<()> {
    let types = host.types;
    let ws: [u64; 2] = match (ty, v) {
        (_, Value::Bool(b)) => [u64::from(*b), 0],
        (_, Value::Int(i) | Value::WorkingDays(i)) => [*i as u64, 0],
        (_, Value::Date(d)) => [i64::from(d.days_since_epoch()) as u64, 0],
        (_, Value::Enum(_, i)) => [u64::from(*i), 0],
        (_, Value::Decimal(d) | Value::Money(d) | Value::Percent(d)) => dec_words(d),
        (_, Value::Duration(d)) => [d.months as u64, d.days as u64],
        (_, Value::Text(t)) => {
            let ws = [t.as_ptr() as u64, t.len() as u64];
            host.arena.keep_text(t.clone());
            ws
        }
        (Ty::Set(e), Value::Set(items)) if is_small_enum(types, e) => {
            let mut mask = 0u64;
            for item in items.iter() {
                let Value::Enum(_, i) = item else { return None };
                mask |= 1u64.checked_shl(*i)?;
            }
            [mask, 0]
        }
        (Ty::Set(_) | Ty::List(_), Value::Set(items) | Value::List(items)) if items.is_empty() => {
            [0, 0]
        }
        (Ty::Set(e) | Ty::List(e), Value::Set(_) | Value::List(_)) => {
            let l = layout_of(types, e)?;
            let seq = Layout {
                size: 16,
                repr: Repr::Seq(Box::new(l)),
            };
            let addr = alloc(&mut host.arena, &seq, v)?;
            // The arena holds the 16-byte (pointer, count) pair; compiled code wants the pair.
            // SAFETY: `alloc` returned the address of a live 16-byte buffer in the arena.
            unsafe {
                [
                    (addr as *const u64).read(),
                    (addr as *const u64).wrapping_add(1).read(),
                ]
            }
        }
        (Ty::Struct(_), Value::Struct(..)) => {
            let l = layout_of(types, ty)?;
            [alloc(&mut host.arena, &l, v)?, 0]
        }
        _ => return None,
    };
    for (slot, w) in out.iter_mut().zip(ws) {
        *slot = w;
    }
    Some(())
}

/// Runs `f`, turning a panic into the internal-error status: helpers never unwind into
/// compiled code.
fn guarded(f: impl FnOnce() -> u64) -> u64 {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(INTERNAL)
}

fn err_status(e: interp::EvalError) -> u64 {
    status_of(&e.kind)
}

/// `norm_generic(ctx, op, args, out) -> status`: operation `op` of the host table on the
/// argument words at `args`, result words to `out`.
///
/// # Safety
/// Called only by compiled code, with the context of the running call and pointers to
/// the stack slots it reserved for the arguments and the result.
pub unsafe extern "C" fn norm_generic(
    ctx: *mut Ctx,
    op: u64,
    args: *const u64,
    out: *mut u64,
) -> u64 {
    guarded(|| {
        // SAFETY: compiled code passes the context it was called with, whose `host` points to
        // the live `Host` of this call, used by one thread (the caller's) at a time.
        let host = unsafe { &mut *(*ctx).host };
        let Some(op) = host.ops.get(op as usize) else {
            return INTERNAL;
        };
        let types = host.types;
        let mut values = Vec::with_capacity(op.args.len());
        let mut at = 0usize;
        for ty in &op.args {
            let n = words(types, ty);
            // SAFETY: compiled code stored the words of each argument, in order, at `args`.
            let w = unsafe { std::slice::from_raw_parts(args.wrapping_add(at), n) };
            at += n;
            // SAFETY: argument words come from compiled code, which only holds pointers to
            // live packed memory of the argument's type.
            match unsafe { read_words(types, ty, w) } {
                Some(v) => values.push(v),
                None => return INTERNAL,
            }
        }
        let span = Span::default();
        let mut it = values.into_iter();
        let result = match &op.kind {
            GenKind::Bin(b) => match (it.next(), it.next()) {
                (Some(x), Some(y)) => interp::binary(*b, x, y, span),
                _ => return INTERNAL,
            },
            GenKind::Neg => match it.next() {
                Some(x) => interp::neg(x, span),
                None => return INTERNAL,
            },
            GenKind::Call(b) => interp::call(*b, it.collect(), span),
            GenKind::Set => Ok(Value::set(it.collect())),
            GenKind::List => Ok(Value::List(it.collect::<Vec<_>>().into())),
            GenKind::Struct(id) => Ok(Value::Struct(*id, it.collect::<Vec<_>>().into())),
            GenKind::ToDecimal => match it.next() {
                Some(Value::Int(i)) => Ok(Value::Decimal(Decimal::from(i))),
                _ => return INTERNAL,
            },
        };
        let v = match result {
            Ok(v) => v,
            Err(e) => return err_status(e),
        };
        let n = words(types, &op.result);
        // SAFETY: compiled code reserved `n` words at `out` for the result.
        let out = unsafe { std::slice::from_raw_parts_mut(out, n) };
        match write_words(host, &op.result, &v, out) {
            Some(()) => 0,
            None => INTERNAL,
        }
    })
}

/// `norm_dec_cmp(a, b) -> -1 | 0 | 1`: compares two decimals given as words.
pub extern "C" fn norm_dec_cmp(a0: u64, a1: u64, b0: u64, b1: u64) -> i64 {
    match dec_of(a0, a1).cmp(&dec_of(b0, b1)) {
        std::cmp::Ordering::Less => -1,
        std::cmp::Ordering::Equal => 0,
        std::cmp::Ordering::Greater => 1,
    }
}

fn calendar<'h>(host: &'h Host<'_>, schema: u64) -> Option<&'h WorkingDayCalendar> {
    host.selected
        .get(schema as usize)
        .copied()
        .flatten()
        .and_then(|i| host.modules.get(i))
        .and_then(|m| m.calendar.as_deref())
}

/// `norm_dec_arith(op, a, b, out) -> status`: `a + b` (op 0), `a - b` (1), `a * b` (2) or
/// `a / b` (3) on two decimals given as words, exact or an error, as the interpreter computes
/// it (`interp::dec_arith`); the result's words to `out`.
///
/// # Safety
/// Called only by compiled code, with `out` pointing to the two words it reserved.
pub unsafe extern "C" fn norm_dec_arith(
    op: u64,
    a0: u64,
    a1: u64,
    b0: u64,
    b1: u64,
    out: *mut u64,
) -> u64 {
    guarded(|| {
        let op = match op {
            0 => BinOp::Add,
            1 => BinOp::Sub,
            2 => BinOp::Mul,
            _ => BinOp::Div,
        };
        match interp::dec_arith(op, dec_of(a0, a1), dec_of(b0, b1), Span::default()) {
            Ok(r) => {
                let [lo, hi] = dec_words(&r);
                // SAFETY: compiled code reserved two words at `out`.
                unsafe {
                    out.write(lo);
                    out.wrapping_add(1).write(hi);
                }
                0
            }
            Err(e) => err_status(e),
        }
    })
}

/// `norm_working_days(ctx, schema, date, n, out) -> status`: `date + n working days` (n may be
/// negative) on the calendar of `schema`.
///
/// # Safety
/// Called only by compiled code, with the context of the running call and pointers to
/// the stack slots it reserved for the arguments and the result.
pub unsafe extern "C" fn norm_working_days(
    ctx: *mut Ctx,
    schema: u64,
    date: i64,
    n: i64,
    out: *mut i64,
) -> u64 {
    guarded(|| {
        // SAFETY: as in `norm_generic`.
        let host = unsafe { &mut *(*ctx).host };
        let Some(cal) = calendar(host, schema) else {
            return status_of(&EvalErrorKind::MissingData);
        };
        let Some(d) = Date::from_days(date) else {
            return INTERNAL;
        };
        match cal.add(d, n) {
            Ok(r) => {
                // SAFETY: compiled code reserved one word at `out`.
                unsafe { out.write(i64::from(r.days_since_epoch())) };
                0
            }
            Err(err) => {
                let gap = interp::working_days_gap(cal, d, n, err);
                host.calendar_gaps.push(gap);
                status_of(&EvalErrorKind::OutsideCalendar)
            }
        }
    })
}

/// `norm_period_end(ctx, schema, start, months, days, out) -> status`: the last day of the
/// period, moved past days off (see `ExprKind::PeriodEnd`).
///
/// # Safety
/// Called only by compiled code, with the context of the running call and pointers to
/// the stack slots it reserved for the arguments and the result.
pub unsafe extern "C" fn norm_period_end(
    ctx: *mut Ctx,
    schema: u64,
    start: i64,
    months: i64,
    days: i64,
    out: *mut i64,
) -> u64 {
    guarded(|| {
        // SAFETY: as in `norm_generic`.
        let host = unsafe { &mut *(*ctx).host };
        let Some(d) = Date::from_days(start) else {
            return INTERNAL;
        };
        let Some(last) = d.add_duration(Duration { months, days }) else {
            return status_of(&EvalErrorKind::DateOutOfRange);
        };
        let Some(cal) = calendar(host, schema) else {
            return status_of(&EvalErrorKind::MissingData);
        };
        let placed = match cal.is_working_day(last) {
            Some(true) => Some(last),
            Some(false) => cal.add(last, 1).ok(),
            None => None,
        };
        let Some(r) = placed else {
            let gap = interp::period_end_gap(cal, last);
            host.calendar_gaps.push(gap);
            return status_of(&EvalErrorKind::OutsideCalendar);
        };
        // SAFETY: compiled code reserved one word at `out`.
        unsafe { out.write(i64::from(r.days_since_epoch())) };
        0
    })
}

/// The layout of field `field` of struct type `ty`.
pub fn struct_field(program: &Program, ty: &Ty, field: u32) -> Option<(u32, Layout)> {
    let Ty::Struct(id) = ty else { return None };
    let def = program.types.struct_def(*id)?;
    let mut off = 0u32;
    for (i, f) in def.fields.iter().enumerate() {
        let l = field_layout(&program.types, f)?;
        if i == field as usize {
            return Some((off, l));
        }
        off = off.checked_add(l.size)?;
    }
    None
}
