//! Runtime values and types, shared by the checker (constants, data modules, defaults) and the
//! runtime. Money is an exact decimal amount in CNY; percentages are stored as fractions
//! (4 % is `0.04`); there are no floats anywhere.

use crate::date::{Date, Duration};
use rust_decimal::Decimal;
use std::fmt;
use std::sync::Arc;

/// The built-in type names a declaration may use (for "did you mean" and completion).
pub const PRIMITIVE_TYPES: &[&str] = &[
    "bool",
    "int",
    "decimal",
    "money",
    "percentage",
    "date",
    "duration",
    "text",
    "set",
    "list",
    "ref",
    "count",
    "amount",
    "code",
];

/// A type. `Error` stands for a type that could not be determined (an error was reported) and
/// unifies with everything, so one mistake gives one diagnostic; `Never` is the element type of
/// an empty collection literal.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Ty {
    Bool,
    Int,
    Decimal,
    Money,
    Percent,
    Date,
    Duration,
    /// A number of working days (counted on the calendar data module).
    WorkingDays,
    Text,
    Enum(u32),
    Struct(u32),
    Set(Box<Ty>),
    List(Box<Ty>),
    Never,
    Error,
}

impl Ty {
    pub fn is_error(&self) -> bool {
        matches!(self, Ty::Error)
    }

    /// `nothing`, or a collection of it (the type of `{}` before its context is known).
    pub fn has_never(&self) -> bool {
        match self {
            Ty::Never => true,
            Ty::Set(t) | Ty::List(t) => t.has_never(),
            _ => false,
        }
    }

    pub fn element(&self) -> Option<&Ty> {
        match self {
            Ty::Set(t) | Ty::List(t) => Some(t),
            _ => None,
        }
    }

    /// `self` is acceptable where `want` is expected (no coercions; see the checker for those).
    pub fn fits(&self, want: &Ty) -> bool {
        match (self, want) {
            (Ty::Error, _) | (_, Ty::Error) | (Ty::Never, _) => true,
            (Ty::Set(a), Ty::Set(b)) | (Ty::List(a), Ty::List(b)) => a.fits(b),
            (a, b) => a == b,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnumDef {
    pub name: String,
    pub variants: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FieldDef {
    pub name: String,
    pub ty: Ty,
    /// A case may leave the field out (its value is then `Value::Absent`). Reading an absent
    /// value is an evaluation error naming the field, except in a norm's `due`, where it means
    /// the due date is not known and is omitted.
    pub optional: bool,
    pub default: Option<Value>,
    pub doc: Vec<String>,
    /// `ref<S>` (or a set or list of them): the text names an element of the case by its `id`,
    /// an element of type struct `S` (checked when facts are read).
    pub refers: Option<u32>,
    /// `count` (an `int`) or `amount` (`money`): a case may not give a negative value.
    pub non_negative: bool,
    /// `code<SCHEMA>` (or a set or list of them): a code of the vocabulary that data schema
    /// publishes, as (schema, field): valid are the codes of the module in force on the
    /// decision date, so a new version of the list adds codes without touching the law.
    pub vocabulary: Option<(u32, u32)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StructDef {
    pub name: String,
    pub fields: Vec<FieldDef>,
}

impl StructDef {
    pub fn field(&self, name: &str) -> Option<(usize, &FieldDef)> {
        self.fields.iter().enumerate().find(|(_, f)| f.name == name)
    }
}

/// The user-declared types of a law.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Types {
    pub enums: Vec<EnumDef>,
    pub structs: Vec<StructDef>,
}

impl Types {
    pub fn enum_def(&self, id: u32) -> Option<&EnumDef> {
        self.enums.get(id as usize)
    }
    pub fn struct_def(&self, id: u32) -> Option<&StructDef> {
        self.structs.get(id as usize)
    }

    /// The type as the user writes it.
    pub fn show(&self, ty: &Ty) -> String {
        match ty {
            Ty::Bool => "bool".into(),
            Ty::Int => "int".into(),
            Ty::Decimal => "decimal".into(),
            Ty::Money => "money".into(),
            Ty::Percent => "percentage".into(),
            Ty::Date => "date".into(),
            Ty::Duration => "duration".into(),
            Ty::WorkingDays => "working days".into(),
            Ty::Text => "text".into(),
            Ty::Enum(i) => self
                .enum_def(*i)
                .map(|e| e.name.clone())
                .unwrap_or_else(|| "?".into()),
            Ty::Struct(i) => self
                .struct_def(*i)
                .map(|s| s.name.clone())
                .unwrap_or_else(|| "?".into()),
            Ty::Set(t) => format!("set<{}>", self.show(t)),
            Ty::List(t) => format!("list<{}>", self.show(t)),
            Ty::Never => "nothing".into(),
            Ty::Error => "unknown".into(),
        }
    }

    /// A value as Norm source would write it.
    pub fn show_value(&self, v: &Value) -> String {
        match v {
            Value::Enum(e, i) => self
                .enum_def(*e)
                .and_then(|d| d.variants.get(*i as usize))
                .cloned()
                .unwrap_or_else(|| "?".into()),
            Value::Struct(id, fields) => {
                let def = self.struct_def(*id);
                let parts: Vec<String> = fields
                    .iter()
                    .enumerate()
                    .map(|(i, f)| {
                        let name = def
                            .and_then(|d| d.fields.get(i))
                            .map(|f| f.name.as_str())
                            .unwrap_or("?");
                        format!("{name}: {}", self.show_value(f))
                    })
                    .collect();
                format!("{{ {} }}", parts.join(", "))
            }
            Value::Set(items) => {
                format!(
                    "{{{}}}",
                    items
                        .iter()
                        .map(|v| self.show_value(v))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
            Value::List(items) => {
                format!(
                    "[{}]",
                    items
                        .iter()
                        .map(|v| self.show_value(v))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
            other => other.to_string(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Value {
    Bool(bool),
    Int(i64),
    Decimal(Decimal),
    Money(Decimal),
    /// As a fraction: 4 % is 0.04.
    Percent(Decimal),
    Date(Date),
    Duration(Duration),
    WorkingDays(i64),
    Text(Arc<str>),
    Enum(u32, u32),
    /// Struct id and field values in declaration order.
    Struct(u32, Arc<[Value]>),
    /// An optional field the case did not give.
    Absent,
    /// Sorted, without duplicates.
    Set(Arc<[Value]>),
    List(Arc<[Value]>),
}

impl Value {
    pub fn set(mut items: Vec<Value>) -> Value {
        items.sort();
        items.dedup();
        Value::Set(items.into())
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

/// Groups the digits of a number's integer part in thousands for people reading it:
/// `1000000` → `1,000,000`, `-12345.5` → `-12,345.5`.
pub fn group_thousands(number: &str) -> String {
    let (sign, rest) = number
        .strip_prefix('-')
        .map(|r| ("-", r))
        .unwrap_or(("", number));
    let (int, frac) = rest
        .split_once('.')
        .map(|(i, f)| (i, Some(f)))
        .unwrap_or((rest, None));
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{out}.{f}"),
        None => format!("{sign}{out}"),
    }
}

/// Formats a decimal without trailing zeros (`1.50` → `1.5`, `2.0` → `2`).
pub fn show_decimal(d: &Decimal) -> String {
    d.normalize().to_string()
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Decimal(d) => write!(f, "{}", show_decimal(d)),
            Value::Money(d) => write!(f, "{} CNY", show_decimal(d)),
            Value::Percent(p) => write!(f, "{}%", show_decimal(&(p * Decimal::ONE_HUNDRED))),
            Value::Date(d) => write!(f, "{d}"),
            Value::Duration(d) => write!(f, "{d}"),
            Value::WorkingDays(n) => {
                write!(f, "{n} working day{}", if n.abs() == 1 { "" } else { "s" })
            }
            Value::Text(t) => write!(f, "{t:?}"),
            Value::Enum(e, i) => write!(f, "#{e}.{i}"),
            Value::Struct(_, fields) => write!(f, "{{{} fields}}", fields.len()),
            Value::Absent => write!(f, "not given"),
            Value::Set(items) => write!(f, "{{{} items}}", items.len()),
            Value::List(items) => write!(f, "[{} items]", items.len()),
        }
    }
}

/// `a Category`, `an Actor`, `an int`: the indefinite article by the word's first letter,
/// whatever its case (and past a quoting backtick).
pub fn with_article(word: &str) -> String {
    let vowel = word
        .chars()
        .find(|c| c.is_alphanumeric())
        .is_some_and(|c| matches!(c.to_ascii_lowercase(), 'a' | 'e' | 'i' | 'o' | 'u'));
    format!("{} {word}", if vowel { "an" } else { "a" })
}

/// The zero a `sum` starts from (numbers and money), shared by the checker and both engines.
pub fn zero_of(ty: &Ty) -> Option<Value> {
    use rust_decimal::Decimal;
    Some(match ty {
        Ty::Int => Value::Int(0),
        Ty::Decimal => Value::Decimal(Decimal::ZERO),
        Ty::Money => Value::Money(Decimal::ZERO),
        Ty::Percent => Value::Percent(Decimal::ZERO),
        _ => return None,
    })
}
