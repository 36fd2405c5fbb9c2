//! The JIT against the reference interpreter, on random well-typed programs and random cases.
//!
//! Each property case generates one program (definitions with prioritised exceptions, norms
//! with conditions, due dates, fines, acts, priorities, overrides and periods of validity, over
//! every type of the language, with edge values: 0, negatives, the `i64` bounds, empty sets and
//! lists, leap days, optional facts left out, a data module missing or in two versions) and
//! decides it for several random cases and dates with both engines. They must return the same
//! decision, or the same error (kind and source location).
//!
//! The case model is generated too: one to three parties and systems with relations (owners,
//! a system derived from another), up to five dated events naming a party and perhaps a
//! system; the subjects `actor` and `sys` bound in turn to each party and its systems, as the
//! engine decides a case (`subjects::perspectives`, `bind`); conditions that quantify over
//! the parties, systems and events (`exists`, `all`, `count`, `earliest`, `latest` with
//! `where`, `present`, references compared with ids), and norms with `done` (the first event
//! of a kind by the party), `violated` and `counterparties`.
//!
//! `cargo test` runs 1,000 programs × 10 cases, each decided once per party and system. For the long run:
//! `NORM_DIFF_CASES=1000000 cargo test --release -p norm-runtime --test differential`.
//! A failure prints the program, the facts and the date, and proptest's seed to replay it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use norm_compiler::date::Date;
use norm_compiler::diagnostic::render;
use norm_compiler::driver::{MemoryLoader, compile};
use norm_compiler::ir::{DataModule, Program};
use norm_runtime::decision::{self, Decided};
use norm_runtime::jit::JitProgram;
use proptest::prelude::*;
use std::fmt::Write as _;
use std::path::PathBuf;

const CASES_PER_PROGRAM: usize = 10;

/// splitmix64: a small deterministic generator driven by proptest's seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

const HEAD: &str = r#"law t "Differential" version "1" effective 2024-01-01
role r "R"
chapter 1 "One" articles 1 to 9
type Level = enum { low, mid, high }
type Item = struct { qty: int, amount: money, flag: bool, level: Level }
type Case = struct {
  n: int, m: int, d: decimal, p: percentage, cash: money, start: date, end: date?,
  level: Level, levels: set<Level>, items: list<Item>, name: text, span: duration,
  flag: bool, nums: set<int>,
}
fact c: Case
fact k: int
type Ek = enum { filed, warned, ordered }
type P = struct { id: text, org: bool = true, n: int = 0 }
type S = struct { id: text, owners: set<ref<P>> = {}, users: int = 0, met: date?, from: ref<S>? }
type Ev = struct { kind: Ek, date: date, party: ref<P>, sys: ref<S>?, until: date? }
fact parties: list<P>
fact systems: list<S>
fact events: list<Ev>
fact actor: P in parties
fact sys: S in systems where actor.id in sys.owners
data schema calendar { covers: set<int>, holidays: set<date>, make_up_days: set<date> }
data schema limits { cap: int, rate: percentage, fee: money, tags: set<Level> }
"#;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum T {
    Int,
    Bool,
    Dec,
    Pct,
    Money,
    Date,
    Level,
    Levels,
}

const DEF_TYPES: [T; 7] = [
    T::Int,
    T::Bool,
    T::Dec,
    T::Money,
    T::Date,
    T::Level,
    T::Levels,
];

fn ty_name(t: T) -> &'static str {
    match t {
        T::Int => "int",
        T::Bool => "bool",
        T::Dec => "decimal",
        T::Pct => "percentage",
        T::Money => "money",
        T::Date => "date",
        T::Level => "Level",
        T::Levels => "set<Level>",
    }
}

struct Gen {
    rng: Rng,
    /// Definitions declared so far, with their types.
    defs: Vec<(String, T)>,
    /// Quantifier variables in scope: name and whether it is an `Item` (else a `Level`).
    locals: Vec<(String, bool)>,
}

const INTS: [&str; 12] = [
    "0",
    "1",
    "-1",
    "2",
    "7",
    "100",
    "1_000_000",
    "9223372036854775807",
    "-9223372036854775807",
    "4611686018427387904",
    "-3",
    "365",
];
const DECS: [&str; 10] = [
    "0.0",
    "1.5",
    "-2.25",
    "0.1",
    "3",
    "1e3",
    "0.000001",
    "10",
    "18446744073709551616.0",
    "4294967296.5",
];
const DATES: [&str; 8] = [
    "2024-02-29",
    "2024-01-01",
    "2025-01-31",
    "2026-10-01",
    "2026-12-31",
    "2023-12-31",
    "2027-01-01",
    "2025-06-15",
];

impl Gen {
    /// One of `names`, at random (`None` if there are none).
    fn any(&mut self, names: Vec<String>) -> Option<String> {
        (!names.is_empty()).then(|| self.rng.pick(&names).clone())
    }

    fn def_of(&mut self, t: T) -> Option<String> {
        let names = self
            .defs
            .iter()
            .filter(|(_, dt)| *dt == t)
            .map(|(n, _)| n.clone())
            .collect();
        self.any(names)
    }

    /// A quantifier variable in scope over `Item`s (`item`) or `Level`s.
    fn local_of(&mut self, item: bool) -> Option<String> {
        let names = self
            .locals
            .iter()
            .filter(|(_, i)| *i == item)
            .map(|(n, _)| n.clone())
            .collect();
        self.any(names)
    }

    fn item_local(&mut self) -> Option<String> {
        self.local_of(true)
    }

    fn level_local(&mut self) -> Option<String> {
        self.local_of(false)
    }

    fn fresh_local(&self) -> String {
        format!("x{}", self.locals.len())
    }

    /// A small int (durations, working days): mostly in range, sometimes not.
    fn small_int(&mut self) -> String {
        match self.rng.below(6) {
            0 => "c.m".into(),
            1 => format!("{}", self.rng.below(40)),
            2 => "(c.m - 10)".into(),
            3 => format!("{}", self.rng.below(800)),
            _ => format!("{}", self.rng.below(12)),
        }
    }

    fn leaf(&mut self, t: T) -> String {
        if self.rng.chance(25)
            && let Some(d) = self.def_of(t)
        {
            return d;
        }
        match t {
            T::Int if self.rng.chance(20) => match self.rng.below(4) {
                0 => "actor.n".into(),
                1 => "sys.users".into(),
                2 => "size(sys.owners)".into(),
                _ => format!(
                    "(count e in events where e.party == actor.id and e.kind == Ek.{}: true)",
                    self.event_kind()
                ),
            },
            T::Bool if self.rng.chance(25) => self.case_model_bool(),
            T::Date if self.rng.chance(15) => match self.rng.below(3) {
                0 => "sys.met".into(),
                1 => format!(
                    "(earliest e in events where e.party == actor.id and e.kind == Ek.{}: e.date)",
                    self.event_kind()
                ),
                _ => "(latest e in events where present(e.sys) and e.sys == sys.id: e.date)".into(),
            },
            T::Int => match self.rng.below(7) {
                0 => "c.n".into(),
                1 => "c.m".into(),
                2 => "k".into(),
                3 => "limits.cap".into(),
                4 => match self.item_local() {
                    Some(x) => format!("{x}.qty"),
                    None => "c.m".into(),
                },
                _ => self.rng.pick(&INTS).to_string(),
            },
            T::Bool => match self.rng.below(6) {
                0 => "c.flag".into(),
                1 => match self.item_local() {
                    Some(x) => format!("{x}.flag"),
                    None => "true".into(),
                },
                2 => "false".into(),
                // Whether the case gives the optional `c.end`, alone or guarding its read.
                3 => "present(c.end)".into(),
                4 => "(present(c.end) and c.end > c.start)".into(),
                _ => "true".into(),
            },
            T::Dec => match self.rng.below(3) {
                0 => "c.d".into(),
                _ => self.rng.pick(&DECS).to_string(),
            },
            T::Pct => match self.rng.below(3) {
                0 => "c.p".into(),
                1 => "limits.rate".into(),
                _ => self.rng.pick(&["4%", "0%", "150%", "12.5%"]).to_string(),
            },
            T::Money => match self.rng.below(4) {
                0 => "c.cash".into(),
                1 => "limits.fee".into(),
                2 => match self.item_local() {
                    Some(x) => format!("{x}.amount"),
                    None => "c.cash".into(),
                },
                _ => self
                    .rng
                    .pick(&["0 CNY", "100 CNY", "1_000_000 CNY", "-5 CNY", "0.01 CNY"])
                    .to_string(),
            },
            T::Date => match self.rng.below(5) {
                0 => "c.start".into(),
                4 => "as_of".into(),
                1 if self.rng.chance(30) => "c.end".into(),
                _ => self.rng.pick(&DATES).to_string(),
            },
            T::Level => match self.rng.below(4) {
                0 => "c.level".into(),
                1 => match self
                    .level_local()
                    .or_else(|| self.item_local().map(|x| format!("{x}.level")))
                {
                    Some(x) => x,
                    None => "c.level".into(),
                },
                _ => self.rng.pick(&["low", "mid", "high"]).to_string(),
            },
            T::Levels => match self.rng.below(4) {
                0 => "c.levels".into(),
                1 => "limits.tags".into(),
                2 => "{}".into(),
                _ => self
                    .rng
                    .pick(&["{low}", "{mid, high}", "{low, mid, high}"])
                    .to_string(),
            },
        }
    }

    fn event_kind(&mut self) -> &'static str {
        ["filed", "warned", "ordered"][self.rng.below(3)]
    }

    /// A condition over the parties, systems and events of the case.
    fn case_model_bool(&mut self) -> String {
        match self.rng.below(9) {
            0 => "(actor.id in sys.owners)".into(),
            1 => "actor.org".into(),
            2 => "present(sys.met)".into(),
            3 => "(present(sys.from) and sys.from != sys.id)".into(),
            4 => format!(
                "(exists e in events where e.party == actor.id and e.kind == Ek.{}: e.date <= as_of)",
                self.event_kind()
            ),
            5 => format!(
                "(exists s in systems where actor.id in s.owners: s.users > {})",
                self.rng.pick(&INTS)
            ),
            6 => "(exists p in parties where p.id != actor.id: p.org)".into(),
            7 => "(all e in events where e.party == actor.id: present(e.until) and e.until >= e.date)"
                .into(),
            _ => format!(
                "(exists e in events where present(e.sys) and e.sys == sys.id: e.kind == Ek.{})",
                self.event_kind()
            ),
        }
    }

    fn quant_item(&mut self, d: u32, q: &str, body_t: T) -> String {
        let x = self.fresh_local();
        self.locals.push((x.clone(), true));
        // Sometimes only the elements `where` a condition holds.
        let filter = if self.rng.chance(30) {
            format!(" where {}", self.expr(T::Bool, d - 1))
        } else {
            String::new()
        };
        let body = self.expr(body_t, d - 1);
        self.locals.pop();
        format!("({q} {x} in c.items{filter}: {body})")
    }

    fn expr(&mut self, t: T, d: u32) -> String {
        if d == 0 || self.rng.chance(25) {
            return self.leaf(t);
        }
        let e = |g: &mut Gen, t| g.expr(t, d - 1);
        match t {
            T::Int => match self.rng.below(12) {
                0 => format!("({} + {})", e(self, T::Int), e(self, T::Int)),
                1 => format!("({} - {})", e(self, T::Int), e(self, T::Int)),
                2 => format!("({} * {})", e(self, T::Int), e(self, T::Int)),
                3 => format!("(-{})", e(self, T::Int)),
                4 => format!(
                    "(if {} then {} else {})",
                    e(self, T::Bool),
                    e(self, T::Int),
                    e(self, T::Int)
                ),
                5 => self.quant_item(d, "count", T::Bool),
                6 => self.quant_item(d, "sum", T::Int),
                7 => self
                    .rng
                    .pick(&[
                        "size(c.levels)",
                        "size(c.nums)",
                        "size(c.items)",
                        "size(limits.tags)",
                    ])
                    .to_string(),
                8 => format!(
                    "{}({}, {})",
                    self.rng.pick(&["min", "max"]),
                    e(self, T::Int),
                    e(self, T::Int)
                ),
                9 => format!("({} - {})", e(self, T::Date), e(self, T::Date)),
                10 => {
                    let x = self.fresh_local();
                    self.locals.push((x.clone(), false));
                    let body = self.expr(T::Bool, d - 1);
                    self.locals.pop();
                    format!("(count {x} in c.levels: {body})")
                }
                _ => "(sum v in c.nums: v)".to_string(),
            },
            T::Bool => match self.rng.below(15) {
                0 | 1 => {
                    let ct = *self.rng.pick(&[T::Int, T::Dec, T::Money, T::Date, T::Pct]);
                    let op = self.rng.pick(&["==", "!=", "<", "<=", ">", ">="]);
                    format!("({} {op} {})", e(self, ct), e(self, ct))
                }
                2 => format!("({} == {})", e(self, T::Level), e(self, T::Level)),
                3 => format!("(not {})", e(self, T::Bool)),
                4 => format!("({} and {})", e(self, T::Bool), e(self, T::Bool)),
                5 => format!("({} or {})", e(self, T::Bool), e(self, T::Bool)),
                6 => format!("({} in {})", e(self, T::Level), e(self, T::Levels)),
                7 => format!("({} in c.nums)", e(self, T::Int)),
                8 => self.quant_item(d, "exists", T::Bool),
                9 => self.quant_item(d, "all", T::Bool),
                10 => format!(
                    "(c.name {} {})",
                    self.rng.pick(&["==", "!="]),
                    self.rng.pick(&["\"a\"", "\"\"", "\"b\""])
                ),
                11 => format!("({} == {})", e(self, T::Levels), e(self, T::Levels)),
                12 => format!(
                    "(c.span {} {})",
                    self.rng.pick(&["==", "!="]),
                    self.rng.pick(&["days(3)", "months(1)", "days(0)"])
                ),
                13 => format!(
                    "(if {} then {} else {})",
                    e(self, T::Bool),
                    e(self, T::Bool),
                    e(self, T::Bool)
                ),
                _ => format!("({} in [1, 2, {}])", e(self, T::Int), e(self, T::Int)),
            },
            T::Dec => match self.rng.below(7) {
                0 => format!("({} + {})", e(self, T::Dec), e(self, T::Dec)),
                1 => format!("({} - {})", e(self, T::Dec), e(self, T::Dec)),
                2 => format!("({} * {})", e(self, T::Dec), e(self, T::Dec)),
                3 => format!("({} / {})", e(self, T::Dec), e(self, T::Dec)),
                4 => format!("({} + {})", e(self, T::Dec), e(self, T::Int)),
                5 => format!(
                    "{}({}, {})",
                    self.rng.pick(&["min", "max"]),
                    e(self, T::Dec),
                    e(self, T::Dec)
                ),
                _ => format!("(-{})", e(self, T::Dec)),
            },
            T::Pct => match self.rng.below(2) {
                0 => format!("({} + {})", e(self, T::Pct), e(self, T::Pct)),
                _ => format!("({} - {})", e(self, T::Pct), e(self, T::Pct)),
            },
            T::Money => match self.rng.below(9) {
                0 => format!("({} + {})", e(self, T::Money), e(self, T::Money)),
                1 => format!("({} - {})", e(self, T::Money), e(self, T::Money)),
                2 => format!("({} * {})", e(self, T::Money), e(self, T::Dec)),
                3 => format!("({} * {})", e(self, T::Money), e(self, T::Pct)),
                4 => format!("({} / {})", e(self, T::Money), e(self, T::Dec)),
                5 => self.quant_item(d, "sum", T::Money),
                6 => format!(
                    "{}({}, {})",
                    self.rng.pick(&["min", "max"]),
                    e(self, T::Money),
                    e(self, T::Money)
                ),
                7 => format!("(-{})", e(self, T::Money)),
                _ => format!(
                    "(if {} then {} else {})",
                    e(self, T::Bool),
                    e(self, T::Money),
                    e(self, T::Money)
                ),
            },
            T::Date => match self.rng.below(10) {
                // The earliest or latest date over the items (none: an absent value).
                9 => {
                    let q = *self.rng.pick(&["earliest", "latest"]);
                    self.quant_item(d, q, T::Date)
                }
                0 => format!("({} + days({}))", e(self, T::Date), self.small_int()),
                1 => format!("({} + months({}))", e(self, T::Date), self.small_int()),
                2 => format!("({} - years({}))", e(self, T::Date), self.small_int()),
                3 => format!(
                    "({} + {} working days)",
                    e(self, T::Date),
                    self.rng.below(30)
                ),
                4 => format!(
                    "({} - {} working days)",
                    e(self, T::Date),
                    self.rng.below(30)
                ),
                5 => format!(
                    "({} + working_days({}))",
                    e(self, T::Date),
                    self.small_int()
                ),
                6 => format!(
                    "period_end({}, {})",
                    e(self, T::Date),
                    self.rng
                        .pick(&["months(1)", "days(10)", "years(1)", "c.span"])
                ),
                7 => format!("({} + c.span)", e(self, T::Date)),
                _ => format!(
                    "{}({}, {})",
                    self.rng.pick(&["min", "max"]),
                    e(self, T::Date),
                    e(self, T::Date)
                ),
            },
            T::Level => format!(
                "(if {} then {} else {})",
                e(self, T::Bool),
                e(self, T::Level),
                e(self, T::Level)
            ),
            T::Levels => match self.rng.below(3) {
                0 => format!("{{{}, {}}}", e(self, T::Level), e(self, T::Level)),
                1 => format!("{{{}}}", e(self, T::Level)),
                _ => format!(
                    "(if {} then {} else {})",
                    e(self, T::Bool),
                    e(self, T::Levels),
                    e(self, T::Levels)
                ),
            },
        }
    }

    fn program(&mut self) -> String {
        let mut s = String::from(HEAD);
        // A definition with two versions, one per version of its article.
        if self.rng.chance(40) {
            let (a, b) = (self.expr(T::Int, 2), self.expr(T::Int, 2));
            let cut = self.rng.pick(&["2025-06-30", "2026-03-31"]);
            writeln!(s, "article 9 \"V\" until {cut} {{\n  def dv: int = {a}\n}}").unwrap();
            let from = if *cut == "2025-06-30" {
                "2025-07-01"
            } else {
                "2026-04-01"
            };
            writeln!(
                s,
                "article 9 \"V\" effective {from} {{\n  def dv: int = {b}\n}}"
            )
            .unwrap();
            self.defs.push(("dv".into(), T::Int));
        }
        let ndefs = self.rng.below(6);
        for i in 0..ndefs {
            let t = *self.rng.pick(&DEF_TYPES);
            let name = format!("d{i}");
            let base = self.expr(t, 3);
            writeln!(s, "def {name}: {} = {base}", ty_name(t)).unwrap();
            for j in 0..self.rng.below(4) {
                let prio = 1 + self.rng.below(2);
                let when = self.expr(T::Bool, 2);
                let v = self.expr(t, 2);
                writeln!(s, "exception {name} e{j} priority {prio} when {when} = {v}").unwrap();
            }
            self.defs.push((name, t));
        }
        let nnorms = 1 + self.rng.below(6);
        let mut ids: Vec<String> = Vec::new();
        for i in 0..nnorms {
            let article = i + 1;
            let kind = *self.rng.pick(&[
                "obligation",
                "prohibition",
                "permission",
                "exemption",
                "penalty",
                "warning",
            ]);
            let id = format!("n{i}");
            writeln!(s, "article {article} \"A{article}.{i}\" {{").unwrap();
            writeln!(s, "  {kind} {id} {{").unwrap();
            writeln!(s, "    paragraph {}", 1 + self.rng.below(3)).unwrap();
            writeln!(s, "    addressee r").unwrap();
            if self.rng.chance(85) {
                let w = self.expr(T::Bool, 4);
                writeln!(s, "    when {w}").unwrap();
            }
            // A norm that overrides an earlier one also has the highest priority, so that
            // priorities never defeat in the other direction (a cycle, refused by the checker).
            let overrides =
                (!ids.is_empty() && self.rng.chance(25)).then(|| self.rng.pick(&ids).clone());
            if matches!(kind, "obligation" | "prohibition" | "permission") {
                writeln!(s, "    act {}", self.rng.pick(&["a1", "a2"])).unwrap();
                if overrides.is_some() {
                    writeln!(s, "    priority 3").unwrap();
                } else if self.rng.chance(40) {
                    writeln!(s, "    priority {}", self.rng.below(3)).unwrap();
                }
            }
            if kind == "obligation" && self.rng.chance(60) {
                let d = self.expr(T::Date, 3);
                writeln!(s, "    due {d}").unwrap();
            }
            // A duty done by an event; conduct an event shows; the other parties concerned.
            if kind == "obligation" && self.rng.chance(40) {
                let k = self.event_kind();
                writeln!(
                    s,
                    "    done earliest e in events where e.party == actor.id and e.kind == Ek.{k}: e.date"
                )
                .unwrap();
            }
            if kind == "prohibition" && self.rng.chance(50) {
                let v = self.case_model_bool();
                writeln!(s, "    violated {v}").unwrap();
            }
            if matches!(kind, "obligation" | "penalty") && self.rng.chance(25) {
                writeln!(
                    s,
                    "    counterparties p in parties where p.id != actor.id and p.org"
                )
                .unwrap();
            }
            if kind == "penalty" {
                let lo = self.expr(T::Money, 2);
                let hi = self.expr(T::Money, 2);
                writeln!(s, "    fine {lo} to {hi}").unwrap();
            }
            if let Some(target) = overrides {
                writeln!(s, "    overrides {target}").unwrap();
            }
            let late = self.rng.chance(50);
            if self.rng.chance(20) {
                let from = if late { "2026-06-30" } else { "2025-01-01" };
                writeln!(s, "    effective {from}").unwrap();
            }
            if self.rng.chance(15) {
                let to = if late {
                    "2026-12-31"
                } else {
                    *self.rng.pick(&["2025-12-31", "2026-12-31"])
                };
                writeln!(s, "    until {to}").unwrap();
            }
            writeln!(s, "    text \"t\"").unwrap();
            writeln!(s, "  }}").unwrap();
            writeln!(s, "}}").unwrap();
            ids.push(id);
        }
        s
    }

    fn int_value(&mut self) -> String {
        match self.rng.below(8) {
            0 => i64::MAX.to_string(),
            1 => i64::MIN.to_string(),
            2 => "0".into(),
            3 => format!("-{}", self.rng.below(100)),
            4 => "1000000".into(),
            5 => "1000001".into(),
            _ => self.rng.below(2000).to_string(),
        }
    }

    fn dec_value(&mut self) -> String {
        self.rng
            .pick(&[
                "\"0\"",
                "\"1.5\"",
                "\"-7.25\"",
                "\"79228162514264337593543950335\"",
                "\"0.3333\"",
                "\"2\"",
                "\"1e-6\"",
                "\"100\"",
                "\"18446744073709551617\"",
                "\"4294967296.4\"",
            ])
            .to_string()
    }

    fn date_value(&mut self) -> String {
        format!(
            "\"{}\"",
            self.rng.pick(&[
                "2024-02-29",
                "2024-12-31",
                "2025-01-29",
                "2026-09-28",
                "2026-12-25",
                "2023-03-01",
                "2027-05-05",
                "2026-02-17",
                "0001-01-01",
                "9999-12-31",
            ])
        )
    }

    fn level(&mut self) -> &'static str {
        ["\"low\"", "\"mid\"", "\"high\""][self.rng.below(3)]
    }

    fn facts(&mut self) -> String {
        let levels: Vec<&str> = (0..self.rng.below(4)).map(|_| self.level()).collect();
        let items: Vec<String> = (0..self.rng.below(4))
            .map(|_| {
                format!(
                    "{{\"qty\": {}, \"amount\": {}, \"flag\": {}, \"level\": {}}}",
                    self.int_value(),
                    self.dec_value(),
                    self.rng.chance(50),
                    self.level()
                )
            })
            .collect();
        let nums: Vec<String> = (0..self.rng.below(4)).map(|_| self.int_value()).collect();
        let end = if self.rng.chance(50) {
            format!(", \"end\": {}", self.date_value())
        } else {
            String::new()
        };
        let case_model = self.case_model_facts();
        format!(
            "{{{case_model}\"c\": {{\"n\": {}, \"m\": {}, \"d\": {}, \"p\": {}, \"cash\": {}, \"start\": {}{end}, \
             \"level\": {}, \"levels\": [{}], \"items\": [{}], \"name\": {}, \
             \"span\": {}, \"flag\": {}, \"nums\": [{}]}}, \"k\": {}}}",
            self.int_value(),
            self.rng.below(60) as i64 - 5,
            self.dec_value(),
            self.rng
                .pick(&["\"4%\"", "\"0%\"", "\"-1.5%\"", "\"100%\""]),
            self.dec_value(),
            self.date_value(),
            self.level(),
            levels.join(", "),
            items.join(", "),
            self.rng.pick(&["\"a\"", "\"b\"", "\"\""]),
            self.rng
                .pick(&["\"3 days\"", "\"1 month\"", "\"2 years\"", "\"0 days\""]),
            self.rng.chance(50),
            nums.join(", "),
            self.int_value(),
        )
    }
}

impl Gen {
    /// One to three parties, one to three systems (each owned by some of them, perhaps derived
    /// from another), and up to five events: `"parties": …, "systems": …, "events": …, `.
    fn case_model_facts(&mut self) -> String {
        let np = 1 + self.rng.below(3);
        let parties: Vec<String> = (0..np)
            .map(|i| {
                format!(
                    "{{\"id\": \"p{i}\", \"org\": {}, \"n\": {}}}",
                    self.rng.chance(60),
                    self.int_value()
                )
            })
            .collect();
        let ns = 1 + self.rng.below(3);
        let systems: Vec<String> = (0..ns)
            .map(|i| {
                let owners: Vec<String> = (0..np)
                    .filter(|_| self.rng.chance(50))
                    .map(|p| format!("\"p{p}\""))
                    .collect();
                let met = if self.rng.chance(60) {
                    format!(", \"met\": {}", self.date_value())
                } else {
                    String::new()
                };
                // Derived from an earlier system only: never a cycle.
                let from = if i > 0 && self.rng.chance(40) {
                    format!(", \"from\": \"s{}\"", self.rng.below(i))
                } else {
                    String::new()
                };
                format!(
                    "{{\"id\": \"s{i}\", \"owners\": [{}], \"users\": {}{met}{from}}}",
                    owners.join(", "),
                    self.int_value()
                )
            })
            .collect();
        let events: Vec<String> = (0..self.rng.below(6))
            .map(|_| {
                let sys = if self.rng.chance(60) {
                    format!(", \"sys\": \"s{}\"", self.rng.below(ns))
                } else {
                    String::new()
                };
                let until = if self.rng.chance(40) {
                    format!(", \"until\": {}", self.date_value())
                } else {
                    String::new()
                };
                format!(
                    "{{\"kind\": \"{}\", \"date\": {}, \"party\": \"p{}\"{sys}{until}}}",
                    self.event_kind(),
                    self.date_value(),
                    self.rng.below(np)
                )
            })
            .collect();
        format!(
            "\"parties\": [{}], \"systems\": [{}], \"events\": [{}], ",
            parties.join(", "),
            systems.join(", "),
            events.join(", ")
        )
    }
}

const LIMITS_A: &str = "data limits version \"a\" effective 2024-01-01 {\n  cap = 1_000_000\n  rate = 4%\n  fee = 250 CNY\n  tags = {low, high}\n}\n";
const LIMITS_B: &str = "data limits version \"b\" effective 2026-01-01 {\n  cap = -9223372036854775807\n  rate = 0.5%\n  fee = 79228162514264337593543950335 CNY\n  tags = {}\n}\n";

fn calendar() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../stdlib/data/calendar_prc.norm"
    ))
    .expect("the bundled calendar")
}

fn build(src: &str, limits: u8, cal: &str) -> Result<(Program, Vec<DataModule>), String> {
    let mut files: Vec<(&str, &str)> = vec![("t/law.norm", src), ("t/calendar.norm", cal)];
    if limits & 1 == 1 {
        files.push(("t/limits_a.norm", LIMITS_A));
    }
    if limits & 2 == 2 {
        files.push(("t/limits_b.norm", LIMITS_B));
    }
    let loader = MemoryLoader::with(&files);
    let c = compile(&loader, &[PathBuf::from("t")]);
    match c.program {
        Some(p) => Ok((p, c.data)),
        None => Err(render(&c.db, &c.diagnostics)),
    }
}

/// A decision as compared: the full Decision JSON and the computed values with their scales.
fn outcome(program: &Program, data: &[DataModule], as_of: Date, d: &Decided) -> String {
    let selected = decision::select_data(program, data, as_of);
    let json = serde_json::to_string(&decision::build(program, &selected, as_of, d)).unwrap();
    format!("{json}\n{:?}\n{:?}\n{:?}", d.defs, d.due, d.fines)
}

fn check_program(seed: u64, cal: &str, stats: &mut Stats) -> Result<usize, TestCaseError> {
    let mut g = Gen {
        rng: Rng(seed),
        defs: Vec::new(),
        locals: Vec::new(),
    };
    let src = g.program();
    // Which `limits` modules are loaded: none (rarely), one, the other, or both versions.
    let limits = *g.rng.pick(&[0u8, 1, 1, 1, 2, 3, 3, 3, 3, 3]);
    let (program, data) = match build(&src, limits, cal) {
        Ok(p) => p,
        // Generated programs are well typed by construction; what the checker refuses is
        // only what the generator cannot rule out locally (e.g. a statically unreachable
        // norm is a warning, not an error): report anything else.
        Err(diags) => {
            return Err(TestCaseError::fail(format!(
                "generated program does not compile:\n{src}\n{diags}"
            )));
        }
    };
    let jit = JitProgram::compile(&program, &data)
        .map_err(|e| TestCaseError::fail(format!("JIT compile failed: {e}\n{src}")))?;
    let mut decided = 0;
    for _ in 0..CASES_PER_PROGRAM {
        let facts_json = g.facts();
        let json: serde_json::Value = serde_json::from_str(&facts_json).unwrap();
        let facts = norm_runtime::facts::read_facts(&program, &json)
            .map_err(|e| TestCaseError::fail(format!("facts refused: {e:?}\n{facts_json}")))?;
        // Mostly inside the law's period and the calendar's years; sometimes before or after.
        let year = *g.rng.pick(&[
            2023, 2024, 2025, 2025, 2026, 2026, 2026, 2024, 2025, 2026, 2027, 2026, 2025, 2024,
            2026, 2025, 2026, 2024, 2025, 2026,
        ]);
        let as_of =
            Date::from_ymd(year, 1 + g.rng.below(12) as u32, 1 + g.rng.below(28) as u32).unwrap();
        // Each party and system in turn, as the engine decides a case (`subjects::bind`).
        let views = norm_runtime::subjects::perspectives(&program, &facts)
            .map_err(|e| TestCaseError::fail(format!("perspectives: {e:?}\n{facts_json}")))?;
        prop_assert!(!views.is_empty());
        for view in &views {
            let facts = norm_runtime::subjects::bind(&program, &facts, view);
            let who = format!("{:?}/{:?}", view.who.party, view.who.system);
            let context = || {
                format!(
                    "program:\n{src}\nfacts: {facts_json}\nas of {as_of}\nlimits: {limits}\nfor {who}"
                )
            };
            // The reference.
            let reference = decision::law_in_force(&program, as_of).and_then(|()| {
                let mut out = decision::evaluate(&program, facts.clone(), &data, as_of)?;
                let mut d = decision::finish(&program, &mut out)?;
                // A definition that may be absent is expanded where it is read, so the compiled
                // code computes it there, not on its own; its reported value is the interpreter's
                // for both engines (`decision::absent_defs`).
                for (v, def) in d.defs.iter_mut().zip(&program.defs) {
                    if def.inline {
                        *v = None;
                    }
                }
                // The other parties a norm names are ids read from the case by the interpreter,
                // for both engines (`JitProgram::decide`): raw compiled code has none to compare.
                d.counterparties.iter_mut().for_each(|c| *c = None);
                Ok(d)
            });
            // Compiled code, raw (no interpreter involved, even for errors).
            let compiled = decision::law_in_force(&program, as_of)
                .map_err(|e| (e.kind, e.span))
                .and_then(|()| {
                    let packed = jit.pack_facts(&facts).expect("facts pack");
                    let sel = decision::select_data_index(&program, &data, as_of);
                    jit.run(&program, &data, &packed, &sel, as_of)
                        .map_err(|e| (e.kind, e.span))
                });
            match (&reference, &compiled) {
                (Ok(a), Ok(b)) => {
                    let (a, b) = (
                        outcome(&program, &data, as_of, a),
                        outcome(&program, &data, as_of, b),
                    );
                    prop_assert_eq!(a, b, "{}", context());
                    stats.decided += 1;
                }
                // A condition that counts working days past the calendar is undecided in the
                // interpreter; compiled code stops there and leaves the case to it
                // (`JitProgram::decide`), so the raw compiled run reports the calendar's error
                // and the interpreter's answer (a decision or another error) is both engines'.
                (r, Err((norm_runtime::interp::EvalErrorKind::OutsideCalendar, _))) if !matches!(r, Err(e) if e.kind == norm_runtime::interp::EvalErrorKind::OutsideCalendar) =>
                {
                    *stats.errors.entry("calendar fallback".into()).or_default() += 1;
                }
                (Err(e), Err((kind, span))) => {
                    prop_assert_eq!(&e.kind, kind, "{}", context());
                    // A date before the law's data is worded in the law's terms, with no span into
                    // the rule that first read the missing module; compiled code still locates it.
                    let before_data = e.kind == norm_runtime::interp::EvalErrorKind::MissingData
                        && decision::before_the_data(&program, &data, as_of).is_some();
                    if !before_data {
                        prop_assert_eq!(&e.span, span, "{}", context());
                    }
                    *stats.errors.entry(format!("{kind:?}")).or_default() += 1;
                }
                _ => prop_assert!(
                    false,
                    "engines disagree:\ninterpreter: {:?}\ncompiled: {:?}\n{}",
                    reference.as_ref().map(|_| "decided"),
                    compiled.as_ref().map(|_| "decided"),
                    context()
                ),
            }
        }
        decided += 1;
    }
    Ok(decided)
}

fn programs() -> u32 {
    std::env::var("NORM_DIFF_CASES")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
        .map(|n| n.div_ceil(CASES_PER_PROGRAM as u32))
        .unwrap_or(1_000)
}

/// How the decisions went: decided, or each kind of error (both engines agreeing).
#[derive(Default)]
struct Stats {
    decided: usize,
    errors: std::collections::BTreeMap<String, usize>,
}

#[test]
fn jit_and_interpreter_agree() {
    let cal = calendar();
    let config = ProptestConfig {
        cases: programs(),
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let stats = std::cell::RefCell::new(Stats::default());
    let mut runner = proptest::test_runner::TestRunner::new(config);
    let result = runner.run(&any::<u64>(), |seed| {
        check_program(seed, &cal, &mut stats.borrow_mut()).map(|_| ())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let stats = stats.into_inner();
    let total = stats.decided + stats.errors.values().sum::<usize>();
    eprintln!(
        "{total} cases: {} decided, errors {:?}",
        stats.decided, stats.errors
    );
    // The generator must mostly produce decisions, not only errors, or the test proves little.
    assert!(
        stats.decided * 10 >= total * 3,
        "too few cases decided: {} of {total}",
        stats.decided
    );
    assert!(total >= programs() as usize * CASES_PER_PROGRAM);
}

#[test]
fn replay() {
    let Some(seed) = std::env::var("NORM_DIFF_SEED")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    else {
        return;
    };
    let mut g = Gen {
        rng: Rng(seed),
        defs: Vec::new(),
        locals: Vec::new(),
    };
    let src = g.program();
    let limits = *g.rng.pick(&[0u8, 1, 1, 1, 2, 3, 3, 3, 3, 3]);
    let (program, data) = build(&src, limits, &calendar()).unwrap();
    let jit = JitProgram::compile(&program, &data).unwrap();
    for _ in 0..CASES_PER_PROGRAM {
        let facts_json = g.facts();
        let json: serde_json::Value = serde_json::from_str(&facts_json).unwrap();
        let facts = norm_runtime::facts::read_facts(&program, &json).unwrap();
        let year = *g.rng.pick(&[
            2023, 2024, 2025, 2025, 2026, 2026, 2026, 2024, 2025, 2026, 2027, 2026, 2025, 2024,
            2026, 2025, 2026, 2024, 2025, 2026,
        ]);
        let as_of =
            Date::from_ymd(year, 1 + g.rng.below(12) as u32, 1 + g.rng.below(28) as u32).unwrap();
        let packed = jit.pack_facts(&facts).expect("facts pack");
        let sel = decision::select_data_index(&program, &data, as_of);
        let r = jit.run(&program, &data, &packed, &sel, as_of);
        let i = decision::evaluate(&program, facts.clone(), &data, as_of)
            .and_then(|mut o| decision::finish(&program, &mut o));
        eprintln!("as of {as_of}\njit: {r:?}\ninterp: {i:?}");
    }
}
