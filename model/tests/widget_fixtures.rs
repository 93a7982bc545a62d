//! The recorded widget-side traces of real widget libraries (`fixtures/widget/`) against their
//! documented verdicts.
//!
//! `fixtures/widget/verdicts.json` holds, for every fixture LIB/NAME (the trace
//! LIB/NAME.trace.jsonl), the verdict of `capneg validate --side widget` under `msc`, `widget-api`
//! and `legacy`: `"conforms"`, or `{"line": N, "rules": [..]}`, the first violation. This test
//! validates every trace with `capneg_model::validate::validate` on the widget side and asserts
//! exactly that verdict, checks that the directory and verdicts.json name the same fixtures, that
//! every fixture is one of the three kinds `fixtures/widget/README.md` describes (a demo with its
//! adapter input, a replay with its script, or a drive's output), that each library has a
//! fixture that conforms and one that breaks `widget-view-follows-notify` (matrix-widget-api issue
//! #52), that the demo fixtures are the adapters' own transcripts, and that the verdict table of
//! fixtures/widget/README.md says the same as verdicts.json.

use capneg_model::rules::Side;
use capneg_model::validate::{validate, Options, Verdict};
use capneg_reference::Profile;
use serde_json::Value;
use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::BufReader;
use std::path::{Path, PathBuf};

const PROFILES: [&str; 3] = ["msc", "widget-api", "legacy"];
const LIBRARIES: [&str; 3] = [
    "matrix-widget-api",
    "matrix-widget-toolkit",
    "matrix-js-sdk",
];

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .join("fixtures")
        .join("widget")
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
    fn of(fixtures: &serde_json::Map<String, Value>, name: &str, profile: &str) -> Expected {
        let at = format!("{name} under {profile}");
        let v = fixtures
            .get(name)
            .and_then(|f| f.get(profile))
            .unwrap_or_else(|| panic!("verdicts.json: no verdict for {at}"));
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

    /// Whether `got` is this verdict (prompts are not part of a widget's verdict: a widget sees
    /// none).
    fn matches(&self, got: &Verdict) -> bool {
        match (self, got) {
            (Expected::Conforms, Verdict::Conforms { .. }) => true,
            (
                Expected::Violates { line, rules },
                Verdict::Violates {
                    line: l, findings, ..
                },
            ) => {
                u64::from(l.get()) == *line
                    && findings
                        .iter()
                        .map(|f| f.rule.id())
                        .eq(rules.iter().map(String::as_str))
            }
            _ => false,
        }
    }

    /// The cell of the verdict table in fixtures/widget/README.md.
    fn cell(&self) -> String {
        match self {
            Expected::Conforms => "conforms".into(),
            Expected::Violates { line, rules } => format!("{line}: {}", rules.join(", ")),
        }
    }
}

fn run(path: &Path, profile: &str) -> Verdict {
    let profile = Profile::named(profile).expect("a built-in profile");
    let file = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    validate(
        Options {
            profile,
            partial: false,
            side: Side::Widget,
        },
        BufReader::new(file),
    )
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The fixtures in the directory: LIB/NAME for every LIB/NAME.trace.jsonl.
fn traces() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for lib in LIBRARIES {
        let sub = dir().join(lib);
        for entry in fs::read_dir(&sub).unwrap_or_else(|e| panic!("{}: {e}", sub.display())) {
            let file = entry.expect("a directory entry").file_name();
            if let Some(name) = file.to_string_lossy().strip_suffix(".trace.jsonl") {
                names.insert(format!("{lib}/{name}"));
            }
        }
    }
    names
}

#[test]
fn every_fixture_is_recorded_and_has_its_verdicts() {
    let fixtures = verdicts();
    let listed: BTreeSet<String> = fixtures.keys().cloned().collect();
    assert_eq!(
        traces(),
        listed,
        "the traces of fixtures/widget and the fixtures of verdicts.json differ"
    );
    for name in &listed {
        // One of the kinds of README.md: a demo (its adapter input beside it), a replay (its
        // script beside it) or a drive's output.
        let input = dir().join(format!("{name}.in.jsonl"));
        let script = dir().join(format!("{name}.script.jsonl"));
        let drive = name
            .rsplit('/')
            .next()
            .is_some_and(|n| n.starts_with("drive-"));
        assert_eq!(
            [input.is_file(), script.is_file(), drive]
                .iter()
                .filter(|k| **k)
                .count(),
            1,
            "{name}: neither a demo (NAME.in.jsonl), a replay (NAME.script.jsonl) nor a drive (drive-P)"
        );
        for profile in PROFILES {
            let _ = Expected::of(&fixtures, name, profile);
        }
    }
}

/// A demo fixture is byte for byte the adapter's own transcript of that demo (README.md): the
/// adapters' `sh demo.sh --check` keeps those current, so the fixtures cannot drift from them.
#[test]
fn demo_fixtures_are_the_adapters_transcripts() {
    let adapters = dir().join("../../adapters");
    let mut wrong = Vec::new();
    for name in verdicts().keys() {
        let input = dir().join(format!("{name}.in.jsonl"));
        if !input.is_file() {
            continue;
        }
        let (lib, demo) = name.split_once('/').expect("LIB/NAME");
        let transcripts = match lib {
            "matrix-widget-api" => adapters.join(lib).join("widget-transcripts"),
            _ => adapters.join(lib).join("transcripts"),
        };
        for kind in ["in", "trace"] {
            let ours = dir().join(format!("{name}.{kind}.jsonl"));
            let theirs = transcripts.join(format!("{demo}.{kind}.jsonl"));
            let read = |p: &Path| fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            if read(&ours) != read(&theirs) {
                wrong.push(format!(
                    "{} differs from {}",
                    ours.display(),
                    theirs.display()
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "re-record with fixtures/widget/record.sh:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn recorded_widget_traces_get_their_documented_verdicts() {
    let fixtures = verdicts();
    let mut wrong = Vec::new();
    for name in fixtures.keys() {
        let path = dir().join(format!("{name}.trace.jsonl"));
        for profile in PROFILES {
            let want = Expected::of(&fixtures, name, profile);
            let got = run(&path, profile);
            if !want.matches(&got) {
                wrong.push(format!(
                    "{name}.trace.jsonl under {profile}: expected {want:?}, got {got:?}"
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "verdicts differ from fixtures/widget/verdicts.json:\n{}",
        wrong.join("\n")
    );
}

/// What the fixtures must show: for every library a conforming exchange and the re-approval
/// its view does not follow (matrix-widget-api issue #52, `widget-view-follows-notify`); for
/// matrix-widget-api also the request sent before the session.
#[test]
fn each_library_has_a_conforming_exchange_and_the_issue_52_violation() {
    let fixtures = verdicts();
    let shows = |lib: &str, want: &dyn Fn(&Expected) -> bool| {
        fixtures.keys().any(|name| {
            name.starts_with(&format!("{lib}/"))
                && PROFILES
                    .iter()
                    .all(|p| want(&Expected::of(&fixtures, name, p)))
        })
    };
    let breaks = |rule: &'static str| move |e: &Expected| matches!(e, Expected::Violates { rules, .. } if rules.iter().any(|r| r == rule));
    for lib in LIBRARIES {
        assert!(
            shows(lib, &|e| *e == Expected::Conforms),
            "{lib}: no fixture that conforms"
        );
        assert!(
            shows(lib, &breaks("widget-view-follows-notify")),
            "{lib}: no fixture that breaks widget-view-follows-notify"
        );
    }
    assert!(
        shows(
            "matrix-widget-api",
            &breaks("widget-reexchange-after-session")
        ),
        "matrix-widget-api: no fixture that breaks widget-reexchange-after-session"
    );
}

/// fixtures/widget/README.md has one row `| LIB/NAME | SHOWS | MSC | WIDGET-API | LEGACY |` per
/// fixture, saying what verdicts.json says, and no other such row.
#[test]
fn the_documented_table_matches_verdicts_json() {
    let fixtures = verdicts();
    let want: BTreeSet<Vec<String>> = fixtures
        .keys()
        .map(|name| {
            let mut row = vec![name.clone()];
            row.extend(
                PROFILES
                    .iter()
                    .map(|p| Expected::of(&fixtures, name, p).cell()),
            );
            row
        })
        .collect();
    let path = dir().join("README.md");
    let doc = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
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
        if cells.len() == 5 && cells[0].contains('/') && !cells[0].ends_with('/') {
            have.insert(vec![
                cells[0].clone(),
                cells[2].clone(),
                cells[3].clone(),
                cells[4].clone(),
            ]);
        }
    }
    let missing: Vec<_> = want.difference(&have).collect();
    let extra: Vec<_> = have.difference(&want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "fixtures/widget/README.md verdict table differs from verdicts.json\nmissing rows: {missing:?}\nrows not in verdicts.json: {extra:?}"
    );
}
