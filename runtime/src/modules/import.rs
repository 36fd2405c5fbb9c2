//! A list that arrives as JSON or CSV (such as the Authority's Negative List) becomes a data
//! module's source, checked against its schema. Every cell is converted by the type its field
//! declares, and every problem names its row and column (CSV) or its JSON path; all problems
//! are reported, not the first.
//!
//! - **JSON**: an object with one key per schema field (`{"categories": ["credit_scoring"]}`),
//!   values as in facts JSON (enum variants and dates as strings, sets and lists as arrays,
//!   structs as objects); or an array, which fills the schema's one collection field.
//! - **CSV**: a header row naming schema fields; each non-empty cell of a collection field's
//!   column adds one element; a scalar field's column holds its value on one row. Or, when the
//!   schema's one collection field holds structs, a header naming that struct's fields and one
//!   row per element.

use super::ModuleError;
use norm_compiler::check::{parse_decimal, suggest};
use norm_compiler::date::Date;
use norm_compiler::ir::{Program, Schema};
use norm_compiler::value::{FieldDef, Ty, Types, show_decimal};
use serde_json::Value as Json;

/// The list's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListFormat {
    Json,
    Csv,
}

/// One problem with a list: where (a row and column, or a JSON path) and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportError {
    pub at: String,
    pub message: String,
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.at.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.at, self.message)
        }
    }
}

/// What to call the module made from the list.
pub struct Target<'a> {
    pub module: &'a str,
    pub version: &'a str,
    pub effective: Date,
    /// Where the list came from, for the comment at the top of the module.
    pub origin: &'a str,
}

/// Turns a list into a module source checked against the law. `Err` lists every problem.
pub fn import(
    program: &Program,
    target: &Target<'_>,
    format: ListFormat,
    text: &str,
) -> Result<String, Vec<ImportError>> {
    let Some((_, schema)) = program.schema_by_name(target.module) else {
        let names: Vec<&str> = program.schemas.iter().map(|s| s.name.as_str()).collect();
        let hint = match suggest(target.module, names.iter().copied()) {
            Some(s) => format!("; did you mean `{s}`?"),
            None => format!("; its schemas are: {}", names.join(", ")),
        };
        return Err(vec![ImportError {
            at: String::new(),
            message: format!(
                "law `{}` has no data schema `{}`{hint}",
                program.law.name, target.module
            ),
        }]);
    };
    let mut errors = Vec::new();
    let fields = match format {
        ListFormat::Json => from_json(&program.types, schema, text, &mut errors),
        ListFormat::Csv => from_csv(&program.types, schema, text, &mut errors),
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let source = render(target, schema, &fields);
    super::check_source(program, &source, &format!("{}.norm", target.module)).map_err(|e| {
        vec![ImportError {
            at: String::new(),
            message: match e {
                ModuleError::Invalid { message } => {
                    format!("the module made from the list does not check:\n{message}")
                }
                other => other.to_string(),
            },
        }]
    })?;
    Ok(source)
}

/// One field's value as Norm source, or the elements of a collection field.
enum Filled {
    Scalar(String),
    Elements(Vec<String>),
}

fn render(target: &Target<'_>, schema: &Schema, fields: &[(usize, Filled)]) -> String {
    let mut out = format!(
        "// Imported from {} by `norm data import`.\ndata {} version {} effective {} {{\n",
        target.origin.replace('\n', " "),
        target.module,
        quote(target.version),
        target.effective
    );
    for (i, f) in fields {
        let Some(def) = schema.fields.get(*i) else {
            continue;
        };
        match f {
            Filled::Scalar(v) => out.push_str(&format!("  {} = {v}\n", def.name)),
            Filled::Elements(items) => {
                let (open, close) = match def.ty {
                    Ty::List(_) => ('[', ']'),
                    _ => ('{', '}'),
                };
                if items.is_empty() {
                    out.push_str(&format!("  {} = {open}{close}\n", def.name));
                } else {
                    out.push_str(&format!("  {} = {open}\n", def.name));
                    for item in items {
                        out.push_str(&format!("    {item},\n"));
                    }
                    out.push_str(&format!("  {close}\n"));
                }
            }
        }
    }
    out.push_str("}\n");
    out
}

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn field_index(schema: &Schema, name: &str) -> Result<usize, String> {
    schema
        .fields
        .iter()
        .position(|f| f.name == name)
        .ok_or_else(|| {
            let names = schema.fields.iter().map(|f| f.name.as_str());
            match suggest(name, names) {
                Some(s) => format!(
                    "schema `{}` has no field `{name}`; did you mean `{s}`?",
                    schema.name
                ),
                None => format!(
                    "schema `{}` has no field `{name}`; its fields are: {}",
                    schema.name,
                    schema
                        .fields
                        .iter()
                        .map(|f| f.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
        })
}

/// The schema's one collection field, if it has exactly one.
fn only_collection(schema: &Schema) -> Option<(usize, &FieldDef)> {
    let mut it = schema
        .fields
        .iter()
        .enumerate()
        .filter(|(_, f)| f.ty.element().is_some());
    let first = it.next()?;
    it.next().is_none().then_some(first)
}

fn from_json(
    types: &Types,
    schema: &Schema,
    text: &str,
    errors: &mut Vec<ImportError>,
) -> Vec<(usize, Filled)> {
    let json: Json = match serde_json::from_str(text) {
        Ok(j) => j,
        Err(e) => {
            errors.push(ImportError {
                at: format!("line {}, column {}", e.line(), e.column()),
                message: format!("invalid JSON: {e}"),
            });
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    match &json {
        Json::Object(map) => {
            for (key, value) in map {
                match field_index(schema, key) {
                    Err(m) => errors.push(ImportError {
                        at: key.clone(),
                        message: m,
                    }),
                    Ok(i) => {
                        let Some(def) = schema.fields.get(i) else {
                            continue;
                        };
                        if let (Some(elem), Json::Array(items)) = (def.ty.element(), value) {
                            let mut els = Vec::new();
                            for (n, item) in items.iter().enumerate() {
                                match json_literal(types, elem, item, &format!("{key}[{n}]")) {
                                    Ok(s) => els.push(s),
                                    Err(e) => errors.push(e),
                                }
                            }
                            out.push((i, Filled::Elements(els)));
                        } else {
                            match json_literal(types, &def.ty, value, key) {
                                Ok(s) => out.push((i, Filled::Scalar(s))),
                                Err(e) => errors.push(e),
                            }
                        }
                    }
                }
            }
        }
        Json::Array(items) => {
            let Some((i, def)) = only_collection(schema) else {
                errors.push(ImportError {
                    at: String::new(),
                    message: format!(
                        "a JSON array fills a schema's one collection field, and schema `{}` has {}; give an object with one key per field",
                        schema.name,
                        if schema.fields.iter().any(|f| f.ty.element().is_some()) {
                            "several"
                        } else {
                            "none"
                        }
                    ),
                });
                return out;
            };
            let elem = def.ty.element().unwrap_or(&Ty::Error);
            let mut els = Vec::new();
            for (n, item) in items.iter().enumerate() {
                match json_literal(types, elem, item, &format!("[{n}]")) {
                    Ok(s) => els.push(s),
                    Err(e) => errors.push(e),
                }
            }
            out.push((i, Filled::Elements(els)));
        }
        other => errors.push(ImportError {
            at: String::new(),
            message: format!(
                "expected an object with one key per field of schema `{}`, or an array, found {}",
                schema.name,
                kind(other)
            ),
        }),
    }
    out
}

fn kind(j: &Json) -> &'static str {
    match j {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

fn json_literal(types: &Types, ty: &Ty, v: &Json, path: &str) -> Result<String, ImportError> {
    let err = |message: String| ImportError {
        at: path.to_string(),
        message,
    };
    match (ty, v) {
        (Ty::Set(elem) | Ty::List(elem), Json::Array(items)) => {
            let parts: Result<Vec<String>, ImportError> = items
                .iter()
                .enumerate()
                .map(|(n, item)| json_literal(types, elem, item, &format!("{path}[{n}]")))
                .collect();
            let (open, close) = if matches!(ty, Ty::List(_)) {
                ("[", "]")
            } else {
                ("{", "}")
            };
            Ok(format!("{open}{}{close}", parts?.join(", ")))
        }
        (Ty::Struct(id), Json::Object(map)) => {
            let Some(def) = types.struct_def(*id) else {
                return Err(err("unknown struct type".into()));
            };
            let mut parts = Vec::new();
            for (k, item) in map {
                let Some((_, f)) = def.field(k) else {
                    let hint = suggest(k, def.fields.iter().map(|f| f.name.as_str()))
                        .map(|s| format!("; did you mean `{s}`?"))
                        .unwrap_or_default();
                    return Err(ImportError {
                        at: format!("{path}.{k}"),
                        message: format!("`{}` has no field `{k}`{hint}", def.name),
                    });
                };
                parts.push(format!(
                    "{k}: {}",
                    json_literal(types, &f.ty, item, &format!("{path}.{k}"))?
                ));
            }
            Ok(format!("{{ {} }}", parts.join(", ")))
        }
        (_, Json::String(s)) => cell_literal(types, ty, s).map_err(err),
        (_, Json::Number(n)) => cell_literal(types, ty, &n.to_string()).map_err(err),
        (_, Json::Bool(b)) => {
            cell_literal(types, ty, if *b { "true" } else { "false" }).map_err(err)
        }
        (_, other) => Err(err(format!(
            "expected {}, found {}",
            types.show(ty),
            kind(other)
        ))),
    }
}

/// One cell's text as a Norm literal of type `ty`.
fn cell_literal(types: &Types, ty: &Ty, cell: &str) -> Result<String, String> {
    let s = cell.trim();
    let expected = |what: &str| format!("expected {what}, found `{s}`");
    match ty {
        Ty::Bool => match s {
            "true" | "false" => Ok(s.to_string()),
            _ => Err(expected("`true` or `false`")),
        },
        Ty::Int => s
            .parse::<i64>()
            .map(|i| i.to_string())
            .map_err(|_| expected("a whole number")),
        Ty::Decimal => parse_decimal(s)
            .map(|d| show_decimal(&d))
            .ok_or_else(|| expected("a decimal number")),
        Ty::Money => {
            let amount = s.strip_suffix("CNY").unwrap_or(s).trim();
            parse_decimal(amount)
                .map(|d| format!("{} CNY", show_decimal(&d)))
                .ok_or_else(|| expected("an amount of money such as `100000` or `100000 CNY`"))
        }
        Ty::Percent => s
            .strip_suffix('%')
            .and_then(|p| parse_decimal(p.trim()))
            .map(|d| format!("{}%", show_decimal(&d)))
            .ok_or_else(|| expected("a percentage such as `4%`")),
        Ty::Date => Date::parse(s)
            .map(|d| d.to_string())
            .ok_or_else(|| expected("a date (YYYY-MM-DD)")),
        Ty::Text => Ok(quote(cell)),
        Ty::Enum(id) => {
            let Some(def) = types.enum_def(*id) else {
                return Err("unknown enum type".into());
            };
            if def.variants.iter().any(|v| v == s) {
                Ok(s.to_string())
            } else {
                let hint = match suggest(s, def.variants.iter().map(String::as_str)) {
                    Some(v) => format!("; did you mean `{v}`?"),
                    None => format!("; the variants are: {}", def.variants.join(", ")),
                };
                Err(format!(
                    "`{s}` is not {}{hint}",
                    norm_compiler::value::with_article(&def.name)
                ))
            }
        }
        Ty::Duration | Ty::WorkingDays => {
            let mut words = s.split_whitespace();
            let n = words.next().and_then(|w| w.parse::<i64>().ok());
            let unit: Vec<&str> = words.collect();
            let ok_unit = match ty {
                Ty::WorkingDays => matches!(unit.as_slice(), ["working", "day" | "days"]),
                _ => matches!(
                    unit.as_slice(),
                    ["day" | "days" | "month" | "months" | "year" | "years"]
                ),
            };
            match (n, ok_unit) {
                (Some(n), true) => Ok(format!("{n} {}", unit.join(" "))),
                _ => Err(expected(&format!(
                    "a {}, such as `10 days`",
                    types.show(ty)
                ))),
            }
        }
        other => Err(format!(
            "a cell cannot hold {} (give the list as JSON)",
            types.show(other)
        )),
    }
}

fn from_csv(
    types: &Types,
    schema: &Schema,
    text: &str,
    errors: &mut Vec<ImportError>,
) -> Vec<(usize, Filled)> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .trim(csv::Trim::Headers)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(str::to_string).collect(),
        Err(e) => {
            errors.push(ImportError {
                at: "line 1".into(),
                message: format!("cannot read the header row: {e}"),
            });
            return Vec::new();
        }
    };
    if headers.iter().all(|h| h.is_empty()) {
        errors.push(ImportError {
            at: "line 1".into(),
            message: "the header row is empty: name each column after a field of the schema".into(),
        });
        return Vec::new();
    }
    // Rows as elements of the one collection field of structs, when the header names that
    // struct's fields rather than the schema's.
    let row_struct = only_collection(schema).and_then(|(i, f)| match f.ty.element() {
        Some(Ty::Struct(id)) => {
            let def = types.struct_def(*id)?;
            headers
                .iter()
                .all(|h| def.field(h).is_some())
                .then_some((i, def))
        }
        _ => None,
    });
    let mut columns: Vec<Option<usize>> = Vec::new();
    if row_struct.is_none() {
        for h in &headers {
            match field_index(schema, h) {
                Ok(i) => columns.push(Some(i)),
                Err(m) => {
                    errors.push(ImportError {
                        at: format!("line 1, column `{h}`"),
                        message: m,
                    });
                    columns.push(None);
                }
            }
        }
    }
    let mut elements: Vec<Vec<String>> = vec![Vec::new(); schema.fields.len()];
    let mut scalars: Vec<Option<(String, u64)>> = vec![None; schema.fields.len()];
    for (n, record) in reader.records().enumerate() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                errors.push(ImportError {
                    at: format!("row {}, line {line}", n + 1),
                    message: format!("{e}"),
                });
                continue;
            }
        };
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let at = |h: &str| format!("row {}, column `{h}` (line {line})", n + 1);
        if let Some((i, def)) = row_struct {
            let mut parts = Vec::new();
            for (h, cell) in headers.iter().zip(record.iter()) {
                if cell.trim().is_empty() {
                    continue;
                }
                let Some((_, f)) = def.field(h) else {
                    continue;
                };
                match cell_literal(types, &f.ty, cell) {
                    Ok(v) => parts.push(format!("{h}: {v}")),
                    Err(m) => errors.push(ImportError {
                        at: at(h),
                        message: m,
                    }),
                }
            }
            // A field without a default must be given on every row.
            for f in &def.fields {
                let given = headers
                    .iter()
                    .zip(record.iter())
                    .any(|(h, cell)| *h == f.name && !cell.trim().is_empty());
                if !given && !f.optional && f.default.is_none() {
                    errors.push(ImportError {
                        at: at(&f.name),
                        message: format!(
                            "no value, and every `{}` needs its `{}`",
                            def.name, f.name
                        ),
                    });
                }
            }
            if let Some(els) = elements.get_mut(i) {
                els.push(format!("{{ {} }}", parts.join(", ")));
            }
            continue;
        }
        for ((h, cell), col) in headers.iter().zip(record.iter()).zip(&columns) {
            let (Some(i), false) = (col, cell.trim().is_empty()) else {
                continue;
            };
            let Some(def) = schema.fields.get(*i) else {
                continue;
            };
            let ty = def.ty.element().unwrap_or(&def.ty);
            match cell_literal(types, ty, cell) {
                Err(m) => errors.push(ImportError {
                    at: at(h),
                    message: m,
                }),
                Ok(v) if def.ty.element().is_some() => {
                    if let Some(els) = elements.get_mut(*i) {
                        els.push(v);
                    }
                }
                Ok(v) => match scalars.get_mut(*i) {
                    Some(Some((_, first))) => errors.push(ImportError {
                        at: at(h),
                        message: format!(
                            "field `{h}` holds one value, already given on line {first}"
                        ),
                    }),
                    Some(slot) => *slot = Some((v, line)),
                    None => {}
                },
            }
        }
    }
    let mut out = Vec::new();
    for (i, def) in schema.fields.iter().enumerate() {
        let given_column = match row_struct {
            Some((j, _)) => j == i,
            None => columns.contains(&Some(i)),
        };
        if def.ty.element().is_some() && given_column {
            out.push((
                i,
                Filled::Elements(elements.get(i).cloned().unwrap_or_default()),
            ));
        } else if let Some(Some((v, _))) = scalars.get(i) {
            out.push((i, Filled::Scalar(v.clone())));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use norm_compiler::driver::{MemoryLoader, compile_law};
    use std::path::PathBuf;

    const LAW: &str = "law t \"T\" version \"1\"\n\
        type Category = enum { credit_scoring, medical_diagnosis, biometric_identification }\n\
        type Limit = struct { name: text, amount: money }\n\
        data schema negative_list { categories: set<Category> }\n\
        data schema limits { items: list<Limit>, since: date }\n\
        fact c: Category\n\
        def listed = c in negative_list.categories\n";

    fn program() -> Program {
        let loader = MemoryLoader::with(&[("t/law.norm", LAW)]);
        let c = compile_law(&loader, &[PathBuf::from("t")], Some(&[]));
        match c.program {
            Some(p) => p,
            None => panic!(
                "{}",
                norm_compiler::diagnostic::render(&c.db, &c.diagnostics)
            ),
        }
    }

    fn target(module: &str) -> Target<'_> {
        Target {
            module,
            version: "2026.2",
            effective: Date::parse("2026-07-01").unwrap_or(Date::EPOCH),
            origin: "list",
        }
    }

    #[test]
    fn a_csv_list_becomes_a_module() {
        let csv = "categories\ncredit_scoring\nmedical_diagnosis\n\n";
        let out = import(&program(), &target("negative_list"), ListFormat::Csv, csv);
        let Ok(src) = out else {
            panic!("{out:?}");
        };
        assert!(src.contains("data negative_list version \"2026.2\" effective 2026-07-01"));
        assert!(
            src.contains("    credit_scoring,\n    medical_diagnosis,\n"),
            "{src}"
        );
    }

    #[test]
    fn csv_errors_name_row_and_column() {
        let csv = "categories\ncredit_scoring\nmedical_diagnosys\ncredit\n";
        let Err(errors) = import(&program(), &target("negative_list"), ListFormat::Csv, csv) else {
            panic!("refused");
        };
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(errors.len(), 2, "{text:?}");
        assert!(
            text.first()
                .is_some_and(|t| t.starts_with("row 2, column `categories` (line 3)")
                    && t.contains("did you mean `medical_diagnosis`?")),
            "{text:?}"
        );
    }

    #[test]
    fn a_json_list_becomes_a_module_and_errors_name_the_path() {
        let p = program();
        let ok = import(
            &p,
            &target("negative_list"),
            ListFormat::Json,
            r#"["credit_scoring"]"#,
        );
        assert!(ok.is_ok(), "{ok:?}");
        let structs = import(
            &p,
            &target("limits"),
            ListFormat::Json,
            r#"{"items": [{"name": "a", "amount": "10"}], "since": "2026-01-01"}"#,
        );
        assert!(structs.is_ok(), "{structs:?}");
        let Err(e) = import(
            &p,
            &target("limits"),
            ListFormat::Json,
            r#"{"items": [{"name": "a", "amount": "lots"}], "since": "2026-01-01"}"#,
        ) else {
            panic!("refused");
        };
        assert_eq!(
            e.first().map(|e| e.at.as_str()),
            Some("items[0].amount"),
            "{e:?}"
        );
    }

    #[test]
    fn csv_rows_fill_a_collection_of_structs() {
        let csv = "name,amount\nfirst,\n";
        let Err(e) = import(&program(), &target("limits"), ListFormat::Csv, csv) else {
            panic!("`amount` is required");
        };
        assert_eq!(
            e.first().map(ToString::to_string).as_deref(),
            Some("row 1, column `amount` (line 2): no value, and every `Limit` needs its `amount`")
        );
        let csv = "name,amount\nfirst,100\nsecond,200 CNY\n";
        let out = import(&program(), &target("limits"), ListFormat::Csv, csv);
        // `since` is not in the list: the module made from it is refused by the checker.
        let Err(e) = out else {
            panic!("`since` is required");
        };
        assert!(
            e.first().is_some_and(|e| e.message.contains("since")),
            "{e:?}"
        );
    }
}
