//! The Cranelift JIT: the law compiled to native code, one function per program (see
//! [`codegen`] for what it computes and in which order, [`host`] for the boundary with the
//! host). The reference interpreter (`interp`) defines the meaning; this must agree with it on
//! every input, which the differential property tests check.
//!
//! Ownership: a [`JitProgram`] owns its machine code, the constants the code points to, and
//! the packed data modules; it frees the code when dropped. `unsafe` lives only here, in
//! `host` and in `pack`'s address arithmetic, each block with its invariant.

pub mod codegen;
pub mod host;
pub mod pack;

use crate::decision::{self, Decided};
use crate::interp::{EvalError, EvalErrorKind};
use codegen::{Gen, Helpers, Plan};
use cranelift::codegen::Context;
use cranelift::jit::{JITBuilder, JITModule};
use cranelift::module::{Linkage, Module, default_libcall_names};
use cranelift::prelude::*;
use host::{Ctx, Host, words};
use norm_compiler::date::Date;
use norm_compiler::ir::{DataModule, Program};
use norm_compiler::layout::CaseLayout;
use norm_compiler::span::Span;
use norm_compiler::syntax::ast::NormKind;
use norm_compiler::value::Value;
use pack::{Packed, pack};
use std::sync::Mutex;

type Entry = unsafe extern "C" fn(*mut Ctx) -> u64;

/// The machine code of one program. `JITModule` is `Send` but not `Sync`; it is only touched
/// again to free it, so a mutex makes the owner shareable between threads.
struct Code(Mutex<Option<JITModule>>);

impl Drop for Code {
    fn drop(&mut self) {
        let module = match self.0.get_mut() {
            Ok(m) => m.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        if let Some(m) = module {
            // SAFETY: the code is dropped with the `JitProgram` that owns it, so no call into
            // it is running and no pointer to it (the private `entries`) can be used again.
            unsafe { m.free_memory() };
        }
    }
}

/// The most steps (definitions, norms, norms' dates) one compiled function holds.
const PART: usize = 48;

/// One part's machine code, compiled off the module (in parallel), defined into it after.
struct MachineCode {
    id: cranelift::module::FuncId,
    alignment: u64,
    bytes: Vec<u8>,
    relocs: Vec<cranelift::module::ModuleReloc>,
}

/// The machine code of a program with everything it points to; shared by every
/// [`JitProgram`] made from it with other data ([`JitProgram::with_data`]).
struct Compiled {
    // Field order matters: `code` is dropped before the constants it points to.
    _code: Code,
    /// The parts of the decision, run in order ([`codegen::items`]).
    entries: Vec<Entry>,
    plan: Plan,
    layout: CaseLayout,
    /// Constants the code points to (texts, packed collections and structs).
    _consts: Packed,
}

/// A program compiled to native code, with the data modules it runs with, packed. The code
/// depends on the law and the data schemas only, never on a module's values: new data is
/// repacked, not recompiled.
pub struct JitProgram {
    compiled: std::sync::Arc<Compiled>,
    /// The data modules it runs with, packed, in the same order (shared with the programs made
    /// from this one by `with_data` where a module is the same), and what identifies each.
    modules: Vec<std::sync::Arc<Packed>>,
    keys: Vec<ModuleKey>,
}

/// An evaluation error from compiled code: its kind and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JitError {
    pub kind: EvalErrorKind,
    pub span: Option<Span>,
}

fn module_error(e: cranelift::module::ModuleError) -> String {
    format!("{e}")
}

impl JitProgram {
    /// Compiles `program`; `modules` are the data modules it will be run with (packed once).
    pub fn compile(program: &Program, modules: &[DataModule]) -> Result<JitProgram, String> {
        let layout = CaseLayout::of(program).ok_or("a type has no packed layout")?;
        let mut plan = Plan::default();
        let mut next = 0u32;
        let mut take = |n: usize| {
            let at = next;
            next += n as u32;
            at
        };
        for d in &program.defs {
            plan.defs.push(take(words(&program.types, &d.ty)));
        }
        for n in &program.norms {
            plan.applies.push(take(2));
            let due = match (&n.kind, &n.due) {
                (NormKind::Penalty | NormKind::Warning, _) | (_, None) => None,
                (_, Some(d)) => Some(take(1 + words(&program.types, &d.ty))),
            };
            plan.due.push(due);
            let mut optional = |e: &Option<norm_compiler::ir::Expr>| match (&n.kind, e) {
                (NormKind::Penalty | NormKind::Warning, _) | (_, None) => None,
                (_, Some(x)) => Some(take(1 + words(&program.types, &x.ty))),
            };
            let (done, violated, keep) = (
                optional(&n.done),
                optional(&n.violated),
                optional(&n.keep_until),
            );
            plan.done.push(done);
            plan.violated.push(violated);
            plan.keep_until.push(keep);
            let fine = match (&n.kind, &n.fine) {
                (NormKind::Penalty, Some((lo, hi))) => Some(take(
                    words(&program.types, &lo.ty) + words(&program.types, &hi.ty),
                )),
                _ => None,
            };
            plan.fines.push(fine);
        }
        plan.out_words = next;

        let mut fb = settings::builder();
        for (k, v) in [
            // Measured on the benchmark (session 4, the whole stdlib in parts): "speed" makes
            // a raw evaluation ~10 % faster than "none" (2.03 against 2.26 µs: most of it is
            // now loops over the case's events and host calls) for ~20 % more compile time
            // (36 against 29 ms); the load time is the scarcer budget.
            ("opt_level", "none"),
            // Cranelift's IR verifier checks our codegen's output: on in debug builds (every
            // test runs it), off in release, where it cost ~15 % of the compile.
            (
                "enable_verifier",
                if cfg!(debug_assertions) {
                    "true"
                } else {
                    "false"
                },
            ),
            ("is_pic", "false"),
            ("use_colocated_libcalls", "false"),
        ] {
            fb.set(k, v).map_err(|e| e.to_string())?;
        }
        let isa = cranelift::native::builder()
            .map_err(|e| e.to_string())?
            .finish(settings::Flags::new(fb))
            .map_err(|e| e.to_string())?;
        // The host helpers compiled code calls: name, address, number of i64 parameters.
        let helpers: [(&str, *const u8, usize); 5] = [
            ("norm_generic", host::norm_generic as *const u8, 4),
            ("norm_dec_cmp", host::norm_dec_cmp as *const u8, 4),
            ("norm_dec_arith", host::norm_dec_arith as *const u8, 6),
            ("norm_working_days", host::norm_working_days as *const u8, 5),
            ("norm_period_end", host::norm_period_end as *const u8, 6),
        ];
        let mut jb = JITBuilder::with_isa(isa, default_libcall_names());
        for (name, address, _) in helpers {
            jb.symbol(name, address);
        }
        let mut module = JITModule::new(jb);
        let i64t = types::I64;
        let sig = |module: &JITModule, params: usize| {
            let mut s = module.make_signature();
            s.params
                .extend(std::iter::repeat_n(AbiParam::new(i64t), params));
            s.returns.push(AbiParam::new(i64t));
            s
        };
        let mut imported = Vec::with_capacity(helpers.len());
        for (name, _, params) in helpers {
            let s = sig(&module, params);
            imported.push(
                module
                    .declare_function(name, Linkage::Import, &s)
                    .map_err(module_error)?,
            );
        }
        // The decision is compiled as a sequence of functions of at most `PART` steps each,
        // run one after another: Cranelift's cost (time and memory) grows faster than the size
        // of a function, and the parts share nothing but the output buffer.
        let steps = codegen::items(program, &crate::decision::decision_order(program));
        let s1 = sig(&module, 1);
        let mut ctx: Context = module.make_context();
        let mut fctx = FunctionBuilderContext::new();
        let mut consts = Packed::default();
        let mut ids = Vec::new();
        // The parts' IR is built one after another (they share the plan and the constants);
        // Cranelift compiles them to machine code in parallel, and the module defines them.
        let mut funcs = Vec::new();
        for (k, part) in steps.chunks(PART).enumerate() {
            let id = module
                .declare_function(&format!("decide_{k}"), Linkage::Export, &s1)
                .map_err(module_error)?;
            ctx.func.signature = s1.clone();
            {
                let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
                let mut refs = imported
                    .iter()
                    .map(|id| module.declare_func_in_func(*id, b.func));
                let (
                    Some(generic),
                    Some(dec_cmp),
                    Some(dec_arith),
                    Some(working_days),
                    Some(period_end),
                ) = (
                    refs.next(),
                    refs.next(),
                    refs.next(),
                    refs.next(),
                    refs.next(),
                )
                else {
                    return Err("host helpers".into());
                };
                let h = Helpers {
                    generic,
                    dec_cmp,
                    dec_arith,
                    working_days,
                    period_end,
                };
                let _ = &mut b;
                let mut g = Gen::new(b, program, &layout, &mut plan, &mut consts, h);
                g.decide_items(part)?;
                g.b.seal_all_blocks();
                g.b.finalize(module.target_config());
            }
            // The function moves out (no copy of its IR); the context is reused for the next.
            funcs.push((
                id,
                std::mem::replace(&mut ctx.func, cranelift::codegen::ir::Function::new()),
            ));
            module.clear_context(&mut ctx);
            ids.push(id);
        }
        let isa = module.isa();
        let compiled: Vec<Result<MachineCode, String>> = {
            use rayon::prelude::*;
            funcs
                .into_par_iter()
                .map(|(id, func)| {
                    let mut c = Context::for_function(func);
                    let mut plane = cranelift::codegen::control::ControlPlane::default();
                    let alignment = match c.compile(isa, &mut plane) {
                        Ok(code) => Ok(u64::from(code.buffer.alignment)),
                        Err(e) => Err(e.inner),
                    };
                    let alignment = alignment
                        .map_err(|e| cranelift::codegen::print_errors::pretty_error(&c.func, e))?;
                    let code = c.compiled_code().ok_or("no compiled code")?;
                    let relocs = code
                        .buffer
                        .relocs()
                        .iter()
                        .map(|r| cranelift::module::ModuleReloc::from_mach_reloc(r, &c.func, id))
                        .collect();
                    Ok(MachineCode {
                        id,
                        alignment,
                        bytes: code.code_buffer().to_vec(),
                        relocs,
                    })
                })
                .collect()
        };
        for m in compiled {
            let m = m?;
            module
                .define_function_bytes(m.id, m.alignment, &m.bytes, &m.relocs)
                .map_err(module_error)?;
        }
        module.finalize_definitions().map_err(module_error)?;
        let entries: Vec<Entry> = ids
            .iter()
            .map(|id| {
                let ptr = module.get_finalized_function(*id);
                // SAFETY: each `decide_k` was defined above with signature (i64) -> i64, which
                // on this target is the C ABI of `extern "C" fn(*mut Ctx) -> u64`.
                unsafe { std::mem::transmute::<*const u8, Entry>(ptr) }
            })
            .collect();
        let compiled = Compiled {
            _code: Code(Mutex::new(Some(module))),
            entries,
            plan,
            layout,
            _consts: consts,
        };
        let (modules, keys) = pack_modules(&compiled.layout, modules, &[])?;
        Ok(JitProgram {
            modules,
            keys,
            compiled: std::sync::Arc::new(compiled),
        })
    }

    /// The same compiled code with other data modules (of the same law and schemas): the
    /// modules are packed, nothing is recompiled.
    pub fn with_data(&self, modules: &[DataModule]) -> Result<JitProgram, String> {
        let known: Vec<(&ModuleKey, &std::sync::Arc<Packed>)> =
            self.keys.iter().zip(&self.modules).collect();
        let (modules, keys) = pack_modules(&self.compiled.layout, modules, &known)?;
        Ok(JitProgram {
            modules,
            keys,
            compiled: self.compiled.clone(),
        })
    }

    /// Whether two programs share their machine code.
    pub fn shares_code_with(&self, other: &JitProgram) -> bool {
        std::sync::Arc::ptr_eq(&self.compiled, &other.compiled)
    }

    /// Decides a case: what [`decision::finish`](crate::decision::finish) computes, by compiled
    /// code. An error is detected and located by the code; its message is worded by the
    /// reference interpreter, which re-decides the case (errors are the cold path).
    pub fn decide(
        &self,
        program: &Program,
        modules: &[DataModule],
        facts: &[Value],
        as_of: Date,
    ) -> Result<Decided, EvalError> {
        decision::law_in_force(program, as_of)?;
        let internal = |message: String, span| EvalError {
            kind: EvalErrorKind::Internal,
            message,
            span,
            related: Vec::new(),
            calendar_year: None,
            calendar_bound: None,
        };
        let packed = self.pack_facts(facts).ok_or_else(|| {
            internal(
                "internal error: the facts do not fit the law's layout".into(),
                None,
            )
        })?;
        let selected = decision::select_data_index(program, modules, as_of);
        let mut decided = match self.run(program, modules, &packed, &selected, as_of) {
            Ok(d) => d,
            // A condition that counts working days past the calendar is undecided, not an
            // error (`decision::evaluate`): compiled code leaves such a case to the interpreter,
            // whose Decided both engines then report.
            Err(je) if je.kind == EvalErrorKind::OutsideCalendar => {
                let mut out = decision::evaluate(program, facts.to_vec(), modules, as_of)?;
                return decision::finish(program, &mut out);
            }
            Err(je) => {
                return Err(
                    match decision::decide(program, facts.to_vec(), modules, as_of, false) {
                        Err(e) => e,
                        Ok(_) => internal(
                            format!(
                                "internal error: compiled code failed ({:?}) where the interpreter decided the case",
                                je.kind
                            ),
                            je.span,
                        ),
                    },
                );
            }
        };
        // The other parties a duty concerns are ids read from the case, and the definitions
        // that may be absent are reported where the case gives what they need: the interpreter
        // reads both, with the definitions' values the compiled code computed.
        let counterparties = program.norms.iter().any(|n| n.counterparty.is_some());
        let absent = program.defs.iter().any(|d| d.inline);
        if counterparties || absent {
            let chosen = decision::select_data(program, modules, as_of);
            let mut env = crate::interp::Env::with_modules(program, facts.to_vec(), &chosen);
            env.as_of = Some(as_of);
            env.defs = decided.defs.clone();
            if absent {
                decision::absent_defs(program, &mut env)?;
                decided.defs = env.defs.clone();
            }
            if counterparties {
                decided.counterparties =
                    decision::counterparties(program, &mut env, &decided.applies)?;
            }
        }
        Ok(decided)
    }

    /// Packs a case's facts into the layout compiled code reads.
    pub fn pack_facts(&self, facts: &[Value]) -> Option<Packed> {
        pack(
            &self.compiled.layout.facts,
            facts,
            self.compiled.layout.facts_size,
        )
    }

    /// Decides a case packed by [`JitProgram::pack_facts`]. `selected` are, per schema, the
    /// indices (into the modules this was compiled with) of the modules in force on `as_of`.
    pub fn run(
        &self,
        program: &Program,
        modules: &[DataModule],
        facts: &Packed,
        selected: &[Option<usize>],
        as_of: Date,
    ) -> Result<Decided, JitError> {
        let mut out = vec![0u64; self.compiled.plan.out_words.max(1) as usize];
        let status = self.call(
            program,
            modules,
            facts,
            selected,
            as_of,
            &mut out,
            |host, out| self.read(program, host, out, as_of),
        );
        match status {
            Ok(Some(d)) => Ok(d),
            Ok(None) => Err(JitError {
                kind: EvalErrorKind::Internal,
                span: None,
            }),
            Err(e) => Err(e),
        }
    }

    /// Decides a case into `out`, the raw output, without converting anything back to values:
    /// the fastest path, for callers that only ask which norms apply ([`JitProgram::applies_in`]).
    pub fn run_applies(
        &self,
        program: &Program,
        modules: &[DataModule],
        facts: &Packed,
        selected: &[Option<usize>],
        as_of: Date,
        out: &mut Vec<u64>,
    ) -> Result<(), JitError> {
        out.clear();
        out.resize(self.compiled.plan.out_words.max(1) as usize, 0);
        self.call(program, modules, facts, selected, as_of, out, |_, _| ())
    }

    /// Whether norm `i` applies, in a raw output of [`JitProgram::run_applies`].
    pub fn applies_in(&self, out: &[u64], i: usize) -> bool {
        self.compiled
            .plan
            .applies
            .get(i)
            .and_then(|o| out.get(*o as usize))
            .is_some_and(|w| w & 0xff != 0)
    }

    #[allow(clippy::too_many_arguments)]
    fn call<T>(
        &self,
        program: &Program,
        modules: &[DataModule],
        facts: &Packed,
        selected: &[Option<usize>],
        as_of: Date,
        out: &mut [u64],
        read: impl FnOnce(&mut Host<'_>, &[u64]) -> T,
    ) -> Result<T, JitError> {
        // Per schema, the packed module in force (no allocation for up to 16 schemas).
        let module_ptr = |i: &Option<usize>| {
            i.and_then(|i| self.modules.get(i))
                .map_or(std::ptr::null(), |p| p.ptr())
        };
        let mut small = [std::ptr::null::<u64>(); 16];
        let large: Vec<*const u64>;
        let data = if selected.len() <= small.len() {
            for (slot, i) in small.iter_mut().zip(selected) {
                *slot = module_ptr(i);
            }
            small.as_ptr()
        } else {
            large = selected.iter().map(module_ptr).collect();
            large.as_ptr()
        };
        let mut host = Host {
            types: &program.types,
            ops: &self.compiled.plan.ops,
            modules,
            selected,
            arena: Packed::default(),
            calendar_gaps: Vec::new(),
        };
        let mut ctx = Ctx {
            facts: facts.ptr(),
            data,
            out: out.as_mut_ptr(),
            as_of: i64::from(as_of.days_since_epoch()),
            err_kind: 0,
            err_site: 0,
            host: (&mut host as *mut Host<'_>).cast::<Host<'static>>(),
        };
        let mut status = 0;
        for entry in &self.compiled.entries {
            // SAFETY: each entry is a compiled part of this program's decision, alive while
            // `self` is. Every pointer in `ctx` is valid for the call: `facts` and the data
            // modules are packed with this program's layout (`pack_facts`, `compile`), `data`
            // has one entry per schema, `out` has `plan.out_words` words, and `host` outlives
            // the call. The code writes only within `out`, the context's error fields and its
            // own stack; the parts run in order, each reading what the ones before it wrote.
            status = unsafe { entry(&mut ctx) };
            if status != 0 {
                break;
            }
        }
        if status != 0 {
            return Err(JitError {
                kind: host::kind_of(ctx.err_kind),
                span: self.compiled.plan.sites.get(ctx.err_site as usize).copied(),
            });
        }
        Ok(read(&mut host, out))
    }

    /// What the code wrote, as values (while the buffers it points into are alive).
    fn read(
        &self,
        program: &Program,
        host: &mut Host<'_>,
        out: &[u64],
        as_of: Date,
    ) -> Option<Decided> {
        let types = &program.types;
        let at = |off: u32, n: usize| out.get(off as usize..off as usize + n);
        let mut d = Decided {
            applicable: Vec::new(),
            applies: Vec::new(),
            due: Vec::new(),
            due_unknown: vec![None; program.norms.len()],
            done: Vec::new(),
            violated: Vec::new(),
            keep_until: Vec::new(),
            fines: Vec::new(),
            counterparties: vec![None; program.norms.len()],
            defs: Vec::new(),
            undecided: Vec::new(),
        };
        for (i, def) in program.defs.iter().enumerate() {
            if def.inline || !program.def_in_force(def, as_of) {
                d.defs.push(None);
                continue;
            }
            let w = at(*self.compiled.plan.defs.get(i)?, words(types, &def.ty))?;
            // SAFETY: the words were written by compiled code for a value of the def's type;
            // their pointers point into buffers alive until this function returns (`host`,
            // the facts, the modules, the constants).
            d.defs
                .push(Some(unsafe { host::read_words(types, &def.ty, w) }?));
        }
        let mut calendar_unknown = Vec::new();
        for (i, n) in program.norms.iter().enumerate() {
            let a = at(*self.compiled.plan.applies.get(i)?, 2)?;
            let applies = a.first()? & 0xff != 0;
            d.applies.push(applies);
            d.applicable.push(a.get(1)? & 0xff != 0);
            let mut due = None;
            if let (true, Some(Some(off)), Some(e)) =
                (applies, self.compiled.plan.due.get(i), &n.due)
            {
                let w = at(*off, 1 + words(types, &e.ty))?;
                match w.first()? {
                    1 => {
                        // SAFETY: as above.
                        due = Some(unsafe { host::read_words(types, &e.ty, w.get(1..)?) }?);
                    }
                    2 => calendar_unknown.push(i),
                    _ => {}
                }
            }
            d.due.push(due);
            // What the case shows, where the code computed it (known flag, then the value).
            let shown = |slot: Option<&Option<u32>>, e: &Option<norm_compiler::ir::Expr>| {
                let (true, Some(Some(off)), Some(e)) = (applies, slot, e) else {
                    return Some(None);
                };
                let w = at(*off, 1 + words(types, &e.ty))?;
                if *w.first()? != 1 {
                    return Some(None);
                }
                // SAFETY: as above.
                Some(Some(unsafe {
                    host::read_words(types, &e.ty, w.get(1..)?)
                }?))
            };
            let done = shown(self.compiled.plan.done.get(i), &n.done)?;
            let violated = shown(self.compiled.plan.violated.get(i), &n.violated)?;
            let keep = shown(self.compiled.plan.keep_until.get(i), &n.keep_until)?;
            d.done.push(done);
            d.violated.push(violated == Some(Value::Bool(true)));
            d.keep_until.push(keep);
            let mut fine = None;
            if let (true, Some(Some(off)), Some((lo, hi))) =
                (applies, self.compiled.plan.fines.get(i), &n.fine)
            {
                let nl = words(types, &lo.ty);
                let w = at(*off, nl + words(types, &hi.ty))?;
                // SAFETY: as above.
                let min = unsafe { host::read_words(types, &lo.ty, w.get(..nl)?) }?;
                // SAFETY: as above.
                let max = unsafe { host::read_words(types, &hi.ty, w.get(nl..)?) }?;
                fine = Some((min, max));
            }
            d.fines.push(fine);
        }
        // Due dates were computed in the Decision's order, and each one marked unknown for the
        // calendar recorded its reason in that order.
        if calendar_unknown.len() != host.calendar_gaps.len() {
            return None;
        }
        if !calendar_unknown.is_empty() {
            let order = decision::decision_order(program);
            calendar_unknown.sort_by_key(|i| order.iter().position(|j| j == i));
            for (i, gap) in calendar_unknown
                .into_iter()
                .zip(host.calendar_gaps.drain(..))
            {
                *d.due_unknown.get_mut(i)? = Some(gap);
            }
        }
        Some(d)
    }
}

/// What identifies a data module's packed form: the same schema, name, version, date and source.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ModuleKey {
    schema: u32,
    name: String,
    version: String,
    effective: Date,
    hash: String,
}

type PackedModules = (Vec<std::sync::Arc<Packed>>, Vec<ModuleKey>);

/// Packs data modules into the layout compiled code reads; a module already packed (`known`,
/// the same schema, name, version, date and source) is shared, not packed again.
fn pack_modules(
    layout: &CaseLayout,
    modules: &[DataModule],
    known: &[(&ModuleKey, &std::sync::Arc<Packed>)],
) -> Result<PackedModules, String> {
    let mut packed = Vec::with_capacity(modules.len());
    let mut keys = Vec::with_capacity(modules.len());
    for m in modules {
        let key = ModuleKey {
            schema: m.schema,
            name: m.name.clone(),
            version: m.version.clone(),
            effective: m.effective,
            hash: m.hash.clone(),
        };
        // A module without a source hash (built in memory) is always packed anew.
        if let Some((_, p)) = known
            .iter()
            .find(|(k, _)| !key.hash.is_empty() && **k == key)
        {
            packed.push((*p).clone());
            keys.push(key);
            continue;
        }
        let (offsets, layouts, size) = layout
            .schemas
            .get(m.schema as usize)
            .ok_or("a data module of an unknown schema")?;
        let slots: Vec<_> = offsets
            .iter()
            .copied()
            .zip(layouts.iter().cloned())
            .collect();
        packed.push(std::sync::Arc::new(
            pack(&slots, &m.values, *size).ok_or("a data module does not pack")?,
        ));
        keys.push(key);
    }
    Ok((packed, keys))
}

#[cfg(test)]
mod tests {
    use super::pack::pack;
    use norm_compiler::layout::{Layout, Repr};
    use norm_compiler::value::Value;

    #[test]
    fn scalars_and_masks_land_at_their_offsets() {
        let slots = vec![
            (
                0,
                Layout {
                    size: 8,
                    repr: Repr::I64,
                },
            ),
            (
                8,
                Layout {
                    size: 8,
                    repr: Repr::Bool,
                },
            ),
            (
                16,
                Layout {
                    size: 8,
                    repr: Repr::Mask,
                },
            ),
        ];
        let values = vec![
            Value::Int(-7),
            Value::Bool(true),
            Value::set(vec![Value::Enum(0, 1), Value::Enum(0, 3)]),
        ];
        let p = pack(&slots, &values, 24).unwrap_or_default();
        assert_eq!(p.root, vec![(-7i64) as u64, 1, 0b1010]);
    }

    #[test]
    fn a_value_of_the_wrong_shape_is_refused() {
        let slots = vec![(
            0,
            Layout {
                size: 8,
                repr: Repr::I64,
            },
        )];
        assert!(pack(&slots, &[Value::Bool(true)], 8).is_none());
    }
}

#[cfg(test)]
mod data_tests {
    use super::JitProgram;
    use norm_compiler::date::Date;
    use norm_compiler::driver::{MemoryLoader, compile_law};
    use std::path::PathBuf;

    /// New data reuses the machine code: packed anew, decided with the new values.
    #[test]
    fn new_data_is_repacked_not_recompiled() {
        let law = "law t \"T\" version \"1\"\nrole r \"R\"\nfact users: int\n\
            data schema limits { threshold: int, codes: set<text> }\n\
            article 1 \"A\" { obligation big { addressee r when users > limits.threshold text \"x\" } }\n";
        let module = |v: &str, t: i64| {
            format!(
                "data limits version \"{v}\" effective 2026-01-01 {{ threshold = {t}, codes = {{\"a\", \"b\"}} }}\n"
            )
        };
        let (m1, m2) = (module("1", 10), module("2", 100));
        let loader =
            MemoryLoader::with(&[("t/law.norm", law), ("d/l.norm", &m1), ("e/l.norm", &m2)]);
        let c1 = compile_law(&loader, &[PathBuf::from("t")], Some(&[PathBuf::from("d")]));
        let c2 = compile_law(&loader, &[PathBuf::from("t")], Some(&[PathBuf::from("e")]));
        let (Some(p), Some(_)) = (&c1.program, &c2.program) else {
            panic!("compiles: {:?} {:?}", c1.diagnostics, c2.diagnostics);
        };
        let first = JitProgram::compile(p, &c1.data).unwrap_or_else(|e| panic!("{e}"));
        let second = first.with_data(&c2.data).unwrap_or_else(|e| panic!("{e}"));
        assert!(second.shares_code_with(&first));
        let day = Date::parse("2026-12-01").unwrap_or(Date::EPOCH);
        let decide = |j: &JitProgram, data| {
            j.decide(p, data, &[norm_compiler::value::Value::Int(50)], day)
                .map(|d| d.applies)
                .unwrap_or_default()
        };
        assert_eq!(decide(&first, &c1.data), vec![true]);
        assert_eq!(decide(&second, &c2.data), vec![false]);
        // A module that did not change is shared, not packed again; a changed one is new.
        let again = second.with_data(&c2.data).unwrap_or_else(|e| panic!("{e}"));
        assert!(std::sync::Arc::ptr_eq(
            &again.modules[0],
            &second.modules[0]
        ));
        assert!(!std::sync::Arc::ptr_eq(
            &second.modules[0],
            &first.modules[0]
        ));
        assert_eq!(decide(&again, &c2.data), vec![false]);
    }
}
