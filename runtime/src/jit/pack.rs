//! Packing values into the layout the compiler defines (see `norm_compiler::layout`). Safe
//! code: bytes are assembled in `Vec<u8>` and copied into 8-byte aligned `Vec<u64>` buffers;
//! nested collections live in buffers of their own, kept alive by the [`Packed`] value, and are
//! referred to by address.

use norm_compiler::layout::{Layout, Repr};
use norm_compiler::value::Value;
use std::sync::Arc;

/// Buffers of one packed case (or one data module). The addresses written into `root` point
/// into `arena` and `texts`, which must live as long as `root` is read.
#[derive(Default)]
pub struct Packed {
    pub root: Vec<u64>,
    arena: Vec<Vec<u64>>,
    texts: Vec<Arc<str>>,
}

impl Packed {
    pub fn ptr(&self) -> *const u64 {
        self.root.as_ptr()
    }

    /// Keeps `words` as long as these buffers and returns their address.
    pub fn words(&mut self, words: Vec<u64>) -> u64 {
        let addr = words.as_ptr() as u64;
        self.arena.push(words);
        addr
    }

    /// Keeps a text alive as long as these buffers (its address is written somewhere in them).
    pub fn keep_text(&mut self, t: Arc<str>) {
        self.texts.push(t);
    }
}

/// Packs `v` with `layout` into a new buffer owned by `p` and returns its address.
pub fn alloc(p: &mut Packed, layout: &Layout, v: &Value) -> Option<u64> {
    let mut bytes = vec![0u8; layout.size.max(8) as usize];
    write(p, &mut bytes, 0, layout, v)?;
    let words = to_words(&bytes);
    let addr = words.as_ptr() as u64;
    p.arena.push(words);
    Some(addr)
}

fn to_words(bytes: &[u8]) -> Vec<u64> {
    bytes
        .chunks(8)
        .map(|c| {
            let mut w = [0u8; 8];
            for (d, s) in w.iter_mut().zip(c) {
                *d = *s;
            }
            u64::from_le_bytes(w)
        })
        .collect()
}

fn put(out: &mut [u8], at: usize, bytes: &[u8]) -> bool {
    match out.get_mut(at..at + bytes.len()) {
        Some(slot) => {
            slot.copy_from_slice(bytes);
            true
        }
        None => false,
    }
}

/// Packs `values` (one per slot) at the given offsets into one buffer of `size` bytes.
pub fn pack(slots: &[(u32, Layout)], values: &[Value], size: u32) -> Option<Packed> {
    let mut p = Packed::default();
    let mut bytes = vec![0u8; size as usize];
    for ((offset, layout), v) in slots.iter().zip(values) {
        write(&mut p, &mut bytes, *offset as usize, layout, v)?;
    }
    p.root = to_words(&bytes);
    if p.root.is_empty() {
        p.root.push(0);
    }
    Some(p)
}

fn write(p: &mut Packed, out: &mut [u8], at: usize, layout: &Layout, v: &Value) -> Option<()> {
    let ok = match (&layout.repr, v) {
        (Repr::Bool, Value::Bool(b)) => put(out, at, &[u8::from(*b)]),
        (Repr::I64, Value::Int(i)) => put(out, at, &i.to_le_bytes()),
        (Repr::I64, Value::Date(d)) => put(out, at, &i64::from(d.days_since_epoch()).to_le_bytes()),
        (Repr::I64, Value::Enum(_, i)) => put(out, at, &i64::from(*i).to_le_bytes()),
        (Repr::Dec, Value::Decimal(d) | Value::Money(d) | Value::Percent(d)) => {
            put(out, at, &d.serialize())
        }
        (Repr::Dur, Value::Duration(d)) => {
            put(out, at, &d.months.to_le_bytes()) && put(out, at + 8, &d.days.to_le_bytes())
        }
        (Repr::Text, Value::Text(t)) => {
            let addr = t.as_ptr() as u64;
            p.texts.push(t.clone());
            put(out, at, &addr.to_le_bytes()) && put(out, at + 8, &(t.len() as u64).to_le_bytes())
        }
        (Repr::Mask, Value::Set(items)) => {
            let mut mask = 0u64;
            for item in items.iter() {
                let Value::Enum(_, i) = item else { return None };
                mask |= 1u64.checked_shl(*i)?;
            }
            put(out, at, &mask.to_le_bytes())
        }
        (Repr::Seq(elem), Value::Set(items) | Value::List(items)) => {
            let mut buf = vec![0u8; elem.size as usize * items.len()];
            for (i, item) in items.iter().enumerate() {
                write(p, &mut buf, i * elem.size as usize, elem, item)?;
            }
            let words = to_words(&buf);
            let addr = words.as_ptr() as u64;
            p.arena.push(words);
            put(out, at, &addr.to_le_bytes())
                && put(out, at + 8, &(items.len() as u64).to_le_bytes())
        }
        (Repr::Struct(offsets, fields), Value::Struct(_, values)) => {
            for ((off, fl), fv) in offsets.iter().zip(fields).zip(values.iter()) {
                write(p, out, at + *off as usize, fl, fv)?;
            }
            true
        }
        (Repr::Opt(_), Value::Absent) => put(out, at, &0u64.to_le_bytes()),
        (Repr::Opt(inner), v) => {
            if !put(out, at, &1u64.to_le_bytes()) {
                return None;
            }
            return write(p, out, at + 8, inner, v);
        }
        _ => false,
    };
    ok.then_some(())
}
