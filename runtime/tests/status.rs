//! The status of every duty on the decision's date (DESIGN §6), on both sides of each due date,
//! under both engines.

// A test harness: failing loudly is its job.
#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used
)]

use norm_compiler::date::Date;
use norm_compiler::driver::{MemoryLoader, compile_law};
use norm_compiler::ir::{DataModule, Program};
use norm_runtime::decision::{self, Decision};
use norm_runtime::jit::JitProgram;
use std::path::PathBuf;

const LAW: &str = r#"law t "T" version "1"
role provider "Provider"
type Case = struct {
  met_on: date,
  filed_on: date?,
  sold_tool: bool = false,
  records_from: date = 2026-01-05,
}
fact c: Case
article 1 "Registry" {
  obligation register {
    addressee provider
    due c.met_on + 10 days
    done c.filed_on
    text "Register."
  }
  obligation report {
    addressee provider
    done c.filed_on
    text "Report, with no deadline."
  }
  obligation keep_records {
    addressee provider
    keep_until c.records_from + 3 years
    text "Keep the records for three years."
  }
  prohibition no_circumvention_tools {
    addressee provider
    violated c.sold_tool
    text "Do not provide tools that circumvent labels."
  }
  permission may_appeal {
    addressee provider
    text "May appeal."
  }
}
"#;

fn program(law: &str) -> (Program, Vec<DataModule>, JitProgram) {
    let loader = MemoryLoader::with(&[("t/law.norm", law)]);
    let c = compile_law(&loader, &[PathBuf::from("t")], Some(&[]));
    let Some(p) = c.program else {
        panic!("{:?}", c.diagnostics);
    };
    let jit = JitProgram::compile(&p, &c.data).unwrap();
    (p, c.data, jit)
}

/// The Decision of `law` under both engines (which must agree), as JSON.
fn decide_in(law: &str, facts: serde_json::Value, as_of: &str) -> serde_json::Value {
    let (p, data, jit) = program(law);
    let as_of = Date::parse(as_of).unwrap();
    let values = norm_runtime::facts::read_facts(&p, &facts).unwrap();
    let selected = decision::select_data(&p, &data, as_of);
    let by_jit: Decision = decision::build(
        &p,
        &selected,
        as_of,
        &jit.decide(&p, &data, &values, as_of).unwrap(),
    );
    let by_interp = decision::decide(&p, values, &data, as_of, false).unwrap();
    assert_eq!(by_jit, by_interp, "the engines disagree");
    serde_json::to_value(by_jit).unwrap()
}

fn decide(facts: serde_json::Value, as_of: &str) -> serde_json::Value {
    decide_in(LAW, facts, as_of)
}

fn norm<'a>(d: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    d["norms"]
        .as_array()
        .and_then(|n| n.iter().find(|n| n["id"] == id))
        .unwrap_or_else(|| panic!("{id}: {d}"))
}

#[test]
fn an_obligation_is_pending_then_overdue_then_fulfilled_or_late() {
    // Met on 1 December: due 11 December.
    let open = serde_json::json!({"c": {"met_on": "2026-12-01"}});
    for (as_of, status) in [
        ("2026-12-05", "pending"),
        ("2026-12-11", "pending"),
        ("2026-12-12", "overdue"),
    ] {
        let d = decide(open.clone(), as_of);
        assert_eq!(norm(&d, "register")["due"], "2026-12-11");
        assert_eq!(norm(&d, "register")["status"], status, "as of {as_of}");
        assert!(norm(&d, "register").get("done").is_none());
    }
    let on_time = serde_json::json!({"c": {"met_on": "2026-12-01", "filed_on": "2026-12-11"}});
    assert_eq!(
        norm(&decide(on_time.clone(), "2026-12-20"), "register")["status"],
        "fulfilled"
    );
    assert_eq!(
        norm(&decide(on_time, "2026-12-20"), "register")["done"],
        "2026-12-11"
    );
    let late = serde_json::json!({"c": {"met_on": "2026-12-01", "filed_on": "2026-12-12"}});
    assert_eq!(
        norm(&decide(late.clone(), "2026-12-20"), "register")["status"],
        "fulfilled_late"
    );
    // Reading: an event dated after the decision date has not happened as of that date.
    assert_eq!(
        norm(&decide(late, "2026-12-11"), "register")["status"],
        "pending"
    );
}

#[test]
fn duties_without_deadlines_prohibitions_and_retention() {
    let d = decide(
        serde_json::json!({"c": {"met_on": "2026-12-01"}}),
        "2026-12-05",
    );
    assert_eq!(norm(&d, "report")["status"], "standing");
    assert_eq!(norm(&d, "no_circumvention_tools")["status"], "standing");
    assert_eq!(norm(&d, "keep_records")["keep_until"], "2029-01-05");
    assert!(norm(&d, "may_appeal").get("status").is_none());
    let d = decide(
        serde_json::json!({"c": {"met_on": "2026-12-01", "filed_on": "2026-12-02", "sold_tool": true}}),
        "2026-12-05",
    );
    assert_eq!(norm(&d, "report")["status"], "fulfilled");
    assert_eq!(norm(&d, "no_circumvention_tools")["status"], "violated");
}

/// Events with dates: the first filing with the right authority on or before the decision date
/// fulfils the duty; a filing elsewhere does not.
#[test]
fn the_earliest_matching_event_fulfils_a_duty() {
    let law = r#"law t "T" version "1"
role provider "Provider"
type Authority = enum { national, provincial }
type Filing = struct { date: date, authority: Authority }
type Case = struct { met_on: date, filings: list<Filing> }
fact c: Case
article 1 "Registry" {
  obligation register {
    addressee provider
    due c.met_on + 10 days
    done earliest f in c.filings where f.authority == national: f.date
    text "Register nationally."
  }
}
def last_filing = latest f in c.filings: f.date
def national_filings = count f in c.filings where f.authority == national: true
"#;
    let run = |filings: serde_json::Value| {
        decide_in(
            law,
            serde_json::json!({"c": {"met_on": "2026-12-01", "filings": filings}}),
            "2026-12-20",
        )
    };
    let d = run(serde_json::json!([
        {"date": "2026-12-05", "authority": "provincial"},
        {"date": "2026-12-15", "authority": "national"},
        {"date": "2026-12-09", "authority": "national"},
    ]));
    assert_eq!(norm(&d, "register")["done"], "2026-12-09");
    assert_eq!(norm(&d, "register")["status"], "fulfilled");
    assert_eq!(d["values"]["last_filing"], "2026-12-15");
    assert_eq!(d["values"]["national_filings"], 2);
    let d = run(serde_json::json!([{"date": "2026-12-05", "authority": "provincial"}]));
    assert_eq!(norm(&d, "register")["status"], "overdue");
    assert!(norm(&d, "register").get("done").is_none());
}
