//! The recorded traces of real clients (`fixtures/`) against their documented verdicts.
//!
//! `fixtures/matrix-widget-api/verdicts.json` holds, for every fixture NAME, the verdict of
//! `capneg validate` under `msc` and `widget-api` on NAME.trace.jsonl (prompts recorded) and
//! NAME.wire.jsonl (prompts hidden): `"conforms"`, or `{"line": N, "rules": [..]}`, the first
//! violation. This test validates every trace with `capneg_model::validate::validate` and asserts
//! exactly that verdict, checks that the directory and verdicts.json name the same fixtures, that
//! the reference runs stored next to them (NAME.reference-P.jsonl) conform under their own
//! profile, and that the verdict table of docs/real-clients.md says the same as verdicts.json.

use capneg_model::validate::{validate, Options, Verdict};
use capneg_reference::Profile;
use capneg_wire::trace::Prompts;
use serde_json::Value;
use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::BufReader;
use std::path::{Path, PathBuf};

const PROFILES: [&str; 2] = ["msc", "widget-api"];
const KINDS: [(&str, Prompts); 2] = [("trace", Prompts::Recorded), ("wire", Prompts::Hidden)];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}

fn dir() -> PathBuf {
    root().join("fixtures").join("matrix-widget-api")
}

fn verdicts() -> serde_json::Map<String, Value> {
    let path = dir().join("verdicts.json");
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let value: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    value
        .get("fixtures")
        .and_then(Value::as_object)
        .unwrap_or_else(|| panic!("{}: no `fixtures` object", path.display()))
        .clone()
}

/// The expected verdict of one trace under one profile.
#[derive(Debug, PartialEq, Eq)]
enum Expected {
    Conforms,
    Violates { line: u64, rules: Vec<String> },
}

impl Expected {
    fn parse(at: &str, v: &Value) -> Expected {
        if v.as_str() == Some("conforms") {
            return Expected::Conforms;
        }
        let line = v.get("line").and_then(Value::as_u64);
        let rules = v.get("rules").and_then(Value::as_array).map(|rs| {
            rs.iter()
                .map(|r| r.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
        });
        match (line, rules) {
            (Some(line), Some(Some(rules))) if !rules.is_empty() => {
                Expected::Violates { line, rules }
            }
            _ => panic!("verdicts.json {at}: expected \"conforms\" or {{\"line\": N, \"rules\": [..]}}, got {v}"),
        }
    }

    /// The cell of the verdict table in docs/real-clients.md.
    fn cell(&self) -> String {
        match self {
            Expected::Conforms => "conforms".into(),
            Expected::Violates { line, rules } => format!("{line}: {}", rules.join(", ")),
        }
    }
}

fn expected(
    fixtures: &serde_json::Map<String, Value>,
    name: &str,
    kind: &str,
    profile: &str,
) -> Expected {
    let at = format!("{name}.{kind}.{profile}");
    let v = fixtures
        .get(name)
        .and_then(|f| f.get(kind))
        .and_then(|k| k.get(profile))
        .unwrap_or_else(|| panic!("verdicts.json: no verdict for {at}"));
    Expected::parse(&at, v)
}

fn run(path: &Path, profile: &str) -> Verdict {
    let profile = Profile::named(profile).expect("a built-in profile");
    let file = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    validate(
        Options {
            profile,
            partial: false,
            side: capneg_model::rules::Side::Client,
        },
        BufReader::new(file),
    )
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The fixtures in the directory: the NAME of every NAME.script.jsonl.
fn scripts() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for entry in fs::read_dir(dir()).expect("fixtures/matrix-widget-api") {
        let file = entry.expect("a directory entry").file_name();
        let file = file.to_string_lossy();
        if let Some(name) = file.strip_suffix(".script.jsonl") {
            names.insert(name.to_owned());
        }
    }
    names
}

#[test]
fn every_fixture_has_its_traces_and_verdicts() {
    let fixtures = verdicts();
    let listed: BTreeSet<String> = fixtures.keys().cloned().collect();
    assert_eq!(
        scripts(),
        listed,
        "the scripts of fixtures/matrix-widget-api and the fixtures of verdicts.json differ"
    );
    for name in &listed {
        for (kind, _) in KINDS {
            let path = dir().join(format!("{name}.{kind}.jsonl"));
            assert!(path.is_file(), "missing {}", path.display());
        }
    }
}

#[test]
fn recorded_traces_get_their_documented_verdicts() {
    let fixtures = verdicts();
    let mut wrong = Vec::new();
    for name in fixtures.keys() {
        for (kind, prompts) in KINDS {
            let path = dir().join(format!("{name}.{kind}.jsonl"));
            for profile in PROFILES {
                let want = expected(&fixtures, name, kind, profile);
                let got = run(&path, profile);
                let ok = match (&want, &got) {
                    (
                        Expected::Conforms,
                        Verdict::Conforms {
                            prompts: p,
                            events: _,
                        },
                    ) => *p == prompts,
                    (
                        Expected::Violates { line, rules },
                        Verdict::Violates {
                            line: l,
                            findings,
                            prompts: p,
                        },
                    ) => {
                        u64::from(l.get()) == *line
                            && *p == prompts
                            && findings
                                .iter()
                                .map(|f| f.rule.id())
                                .eq(rules.iter().map(String::as_str))
                    }
                    _ => false,
                };
                if !ok {
                    wrong.push(format!(
                        "{name}.{kind}.jsonl under {profile}: expected {want:?} ({prompts:?}), got {got:?}"
                    ));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "verdicts differ from verdicts.json:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn reference_runs_conform_under_their_profile() {
    let mut seen = 0;
    let mut wrong = Vec::new();
    for name in scripts() {
        for profile in PROFILES {
            let path = dir().join(format!("{name}.reference-{profile}.jsonl"));
            if !path.is_file() {
                continue;
            }
            seen += 1;
            let got = run(&path, profile);
            if !matches!(
                got,
                Verdict::Conforms {
                    prompts: Prompts::Recorded,
                    ..
                }
            ) {
                wrong.push(format!("{}: {got:?}", path.display()));
            }
        }
    }
    assert!(seen > 0, "no reference runs in fixtures/matrix-widget-api");
    assert!(
        wrong.is_empty(),
        "reference runs that do not conform:\n{}",
        wrong.join("\n")
    );
}

/// docs/real-clients.md has one row `| NAME | KIND | MSC | WIDGET-API |` per fixture and kind,
/// saying what verdicts.json says, and no other such row.
#[test]
fn the_documented_table_matches_verdicts_json() {
    let fixtures = verdicts();
    let doc_path = root().join("docs").join("real-clients.md");
    let doc =
        fs::read_to_string(&doc_path).unwrap_or_else(|e| panic!("{}: {e}", doc_path.display()));
    let mut want = BTreeSet::new();
    for name in fixtures.keys() {
        for (kind, _) in KINDS {
            let cells: Vec<String> = PROFILES
                .iter()
                .map(|p| expected(&fixtures, name, kind, p).cell())
                .collect();
            want.insert(vec![
                name.clone(),
                kind.to_owned(),
                cells[0].clone(),
                cells[1].clone(),
            ]);
        }
    }
    let mut have = BTreeSet::new();
    for line in doc.lines() {
        let Some(inner) = line
            .trim()
            .strip_prefix('|')
            .and_then(|l| l.strip_suffix('|'))
        else {
            continue;
        };
        let cells: Vec<String> = inner
            .split('|')
            .map(|c| c.trim().trim_matches('`').to_owned())
            .collect();
        if cells.len() == 4 && (cells[1] == "trace" || cells[1] == "wire") {
            have.insert(cells);
        }
    }
    let missing: Vec<_> = want.difference(&have).collect();
    let extra: Vec<_> = have.difference(&want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "docs/real-clients.md verdict table differs from verdicts.json\nmissing rows: {missing:?}\nrows not in verdicts.json: {extra:?}"
    );
}
