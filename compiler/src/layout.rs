//! The packed layout of a case: where each fact, each struct field and each data-module field
//! lives in the flat, `#[repr(C)]`-style buffers that compiled code reads. The compiler
//! defines it (it knows the types); the runtime packs values into it and the JIT reads at these
//! offsets, with no JSON and no maps on the hot path.
//!
//! Every layout is 8-byte aligned and a multiple of 8 bytes, so buffers are `Vec<u64>`.
//!
//! | type | bytes | encoding |
//! |---|---|---|
//! | `bool` | 8 | 0 or 1 in the first byte |
//! | `int`, `date`, enums | 8 | `i64` (days since 1970-01-01; variant index) |
//! | `decimal`, `money`, `percentage` | 16 | `rust_decimal::Decimal::serialize()` |
//! | `duration` | 16 | months `i64`, days `i64` |
//! | `text` | 16 | pointer, length in bytes (UTF-8) |
//! | `set<E>` of an enum with at most 64 variants | 8 | bit mask, bit *i* = variant *i* |
//! | other `set<T>`, `list<T>` | 16 | pointer to packed elements, element count |
//! | struct | sum of fields | fields in declaration order |
//! | optional field (`T?`) | 8 + size of `T` | presence (0: not given, 1: given), then `T` |

use crate::ir::Program;
use crate::value::{FieldDef, Ty, Types};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Repr {
    Bool,
    I64,
    Dec,
    Dur,
    Text,
    Mask,
    Seq(Box<Layout>),
    Struct(Vec<u32>, Vec<Layout>),
    /// An optional struct field: a presence word, then the value.
    Opt(Box<Layout>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub size: u32,
    pub repr: Repr,
}

/// Sets of enums with at most this many variants are bit masks.
pub const MASK_BITS: usize = 64;

pub fn layout_of(types: &Types, ty: &Ty) -> Option<Layout> {
    let l = |size, repr| Some(Layout { size, repr });
    match ty {
        Ty::Bool => l(8, Repr::Bool),
        Ty::Int | Ty::Date | Ty::Enum(_) | Ty::WorkingDays => l(8, Repr::I64),
        Ty::Decimal | Ty::Money | Ty::Percent => l(16, Repr::Dec),
        Ty::Duration => l(16, Repr::Dur),
        Ty::Text => l(16, Repr::Text),
        Ty::Set(e) if is_small_enum(types, e) => l(8, Repr::Mask),
        Ty::Set(e) | Ty::List(e) => l(16, Repr::Seq(Box::new(layout_of(types, e)?))),
        Ty::Struct(id) => {
            let def = types.struct_def(*id)?;
            let mut offsets = Vec::with_capacity(def.fields.len());
            let mut fields = Vec::with_capacity(def.fields.len());
            let mut size = 0u32;
            for f in &def.fields {
                let fl = field_layout(types, f)?;
                offsets.push(size);
                size = size.checked_add(fl.size)?;
                fields.push(fl);
            }
            l(size, Repr::Struct(offsets, fields))
        }
        Ty::Never | Ty::Error => None,
    }
}

/// The layout of a struct or schema field: its type's, behind a presence word if optional.
pub fn field_layout(types: &Types, f: &FieldDef) -> Option<Layout> {
    let inner = layout_of(types, &f.ty)?;
    if f.optional {
        Some(Layout {
            size: inner.size.checked_add(8)?,
            repr: Repr::Opt(Box::new(inner)),
        })
    } else {
        Some(inner)
    }
}

pub fn is_small_enum(types: &Types, ty: &Ty) -> bool {
    matches!(ty, Ty::Enum(e) if types.enum_def(*e).is_some_and(|d| d.variants.len() <= MASK_BITS))
}

/// Facts at fixed offsets in one buffer; each schema's fields in a buffer of their own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseLayout {
    pub facts: Vec<(u32, Layout)>,
    pub facts_size: u32,
    pub schemas: Vec<(Vec<u32>, Vec<Layout>, u32)>,
}

impl CaseLayout {
    /// The layout of `program`'s facts and data, or `None` if some type has no layout.
    pub fn of(program: &Program) -> Option<CaseLayout> {
        let mut facts = Vec::new();
        let mut size = 0u32;
        for f in &program.facts {
            let l = layout_of(&program.types, &f.ty)?;
            facts.push((size, l.clone()));
            size = size.checked_add(l.size)?;
        }
        let mut schemas = Vec::new();
        for s in &program.schemas {
            let mut offsets = Vec::new();
            let mut layouts = Vec::new();
            let mut ssize = 0u32;
            for f in &s.fields {
                let l = field_layout(&program.types, f)?;
                offsets.push(ssize);
                ssize = ssize.checked_add(l.size)?;
                layouts.push(l);
            }
            schemas.push((offsets, layouts, ssize));
        }
        Some(CaseLayout {
            facts,
            facts_size: size,
            schemas,
        })
    }
}
