//! The conformance vectors, as written to disk, mean what `index.json` says: every expected trace
//! conforms, is what the reference prints for its script, every violating trace is rejected
//! naming its rule, every rule and every docs/spec.md §3 row is covered, and the bytes are the same
//! every run.

use capneg_model::rules::{Rule, Side};
use capneg_model::run::run_script;
use capneg_model::validate::{validate, Options, Verdict};
use capneg_model::vectors::{generate, write};
use capneg_model::widget_run::run_widget_script;
use capneg_reference::Profile;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh directory under the system's temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "capneg-vectors-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Generates every profile's vectors into a fresh directory.
fn generate_into(profiles: &[Profile]) -> TempDir {
    let dir = TempDir::new();
    let vectors = generate(profiles).unwrap_or_else(|e| panic!("generation failed: {e}"));
    write(&dir.0, &vectors).unwrap();
    dir
}

fn read(dir: &Path, name: &str) -> String {
    fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn index(dir: &Path) -> Vec<Value> {
    match serde_json::from_str(&read(dir, "index.json")).unwrap() {
        Value::Array(list) => list,
        other => panic!("index.json is not a list: {other}"),
    }
}

fn profile_of(entry: &Value) -> Profile {
    Profile::named(entry["profile"].as_str().unwrap()).unwrap()
}

fn side_of(entry: &Value) -> Side {
    Side::named(entry["side"].as_str().unwrap()).unwrap()
}

fn verdict(profile: Profile, side: Side, trace: &str) -> Verdict {
    let options = Options {
        profile,
        partial: false,
        side,
    };
    validate(options, trace.as_bytes()).unwrap()
}

/// The rows of docs/spec.md §3, with the profiles whose cell is not "—".
const SPEC_ROWS: [(&str, &[&str]); 10] = [
    ("re-exchange", &["msc", "widget-api", "legacy"]),
    (
        "request-before-established",
        &["msc", "widget-api", "legacy"],
    ),
    ("several-rounds-at-once", &["msc", "widget-api"]),
    ("declined-asked-again", &["msc", "widget-api"]),
    ("nothing-new", &["msc", "widget-api"]),
    ("notify-requested", &["msc", "widget-api", "legacy"]),
    ("notify-approved", &["msc", "widget-api", "legacy"]),
    ("ack-vs-notify", &["msc", "widget-api"]),
    ("rate-limit", &["msc", "widget-api", "legacy"]),
    ("request-id-reuse", &["msc", "widget-api", "legacy"]),
];

#[test]
fn vectors_mean_what_the_index_says() {
    let dir = generate_into(&Profile::ALL);
    let dir = &dir.0;
    let entries = index(dir);
    assert!(!entries.is_empty());
    let mut positives: BTreeSet<String> = BTreeSet::new();
    let mut negatives: BTreeSet<String> = BTreeSet::new();
    let mut rows: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut listed: BTreeSet<String> = BTreeSet::from(["index.json".to_owned()]);
    for entry in &entries {
        let name = entry["name"].as_str().unwrap();
        let profile = profile_of(entry);
        let side = side_of(entry);
        let files = &entry["files"];
        let expected = &entry["expected"];

        // The script, run by the reference, prints exactly the expected trace.
        let script_file = files["script"].as_str().unwrap();
        let trace_file = files["trace"].as_str().unwrap();
        assert_eq!(script_file, format!("{name}.script.jsonl"));
        assert_eq!(trace_file, format!("{name}.trace.jsonl"));
        let script = read(dir, script_file);
        let trace = read(dir, trace_file);
        assert!(
            script.starts_with("{\"session\":"),
            "{name}: no session line"
        );
        let mut rerun = Vec::new();
        match side {
            Side::Widget => run_widget_script(None, script.as_bytes(), &mut rerun),
            _ => run_script(profile, script.as_bytes(), &mut rerun),
        }
        .unwrap_or_else(|e| panic!("{name}: the script does not run: {e}"));
        assert_eq!(
            String::from_utf8(rerun).unwrap(),
            trace,
            "{name}: the reference does not reproduce the trace"
        );

        // The expected trace conforms.
        assert_eq!(expected["trace"], "conforms", "{name}");
        assert!(
            matches!(verdict(profile, side, &trace), Verdict::Conforms { .. }),
            "{name}: {:?}",
            verdict(profile, side, &trace)
        );

        // The violating trace is rejected, naming its rule at the line the index gives.
        if let Some(bad_file) = files.get("violating") {
            let bad_file = bad_file.as_str().unwrap();
            assert_eq!(bad_file, format!("{name}.violating.jsonl"));
            let rule = expected["violating"]["violates"].as_str().unwrap();
            assert!(Rule::from_id(rule).is_some(), "{name}: unknown rule {rule}");
            let bad = read(dir, bad_file);
            match verdict(profile, side, &bad) {
                Verdict::Violates { line, findings, .. } => {
                    assert!(
                        findings.iter().any(|f| f.rule.id() == rule),
                        "{name}: rejected, but not naming {rule}: {findings:?}"
                    );
                    assert_eq!(
                        expected["violating"]["line"].as_u64(),
                        Some(u64::from(line.get())),
                        "{name}"
                    );
                }
                other => panic!("{name}: the violating trace is not rejected: {other:?}"),
            }
            negatives.insert(rule.to_owned());
            listed.insert(bad_file.to_owned());
        } else {
            assert!(expected.get("violating").is_none(), "{name}");
        }
        for rule in entry["rules"].as_array().unwrap() {
            let rule = rule.as_str().unwrap();
            assert!(Rule::from_id(rule).is_some(), "{name}: unknown rule {rule}");
            positives.insert(rule.to_owned());
        }
        for row in entry["spec_rows"].as_array().unwrap() {
            *rows
                .entry((row.as_str().unwrap().to_owned(), profile.name.to_owned()))
                .or_default() += 1;
        }
        listed.insert(script_file.to_owned());
        listed.insert(trace_file.to_owned());
    }

    // Every rule is exercised by some vector, and broken by some violating trace.
    for rule in Rule::ALL {
        assert!(positives.contains(rule.id()), "no vector exercises {rule}");
        assert!(
            negatives.contains(rule.id()),
            "no violating trace breaks {rule}"
        );
    }
    // Every docs/spec.md §3 row, under every profile where it applies.
    for (row, profiles) in SPEC_ROWS {
        for p in profiles {
            assert!(
                rows.contains_key(&(row.to_owned(), p.to_string())),
                "no {p} vector covers the docs/spec.md §3 row {row}"
            );
        }
    }
    for (row, _) in rows.keys() {
        assert!(
            SPEC_ROWS.iter().any(|(r, _)| r == row),
            "unknown docs/spec.md §3 row {row}"
        );
    }
    // The index lists exactly the files written.
    let written: BTreeSet<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(written, listed);
}

#[test]
fn two_runs_write_the_same_bytes() {
    let a = generate_into(&Profile::ALL);
    let b = generate_into(&Profile::ALL);
    let names = |dir: &Path| -> BTreeSet<String> {
        fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect()
    };
    let files = names(&a.0);
    assert_eq!(files, names(&b.0));
    for f in &files {
        assert_eq!(
            fs::read(a.0.join(f)).unwrap(),
            fs::read(b.0.join(f)).unwrap(),
            "{f} differs between runs"
        );
    }
}

#[test]
fn one_profile_writes_only_its_vectors() {
    let dir = generate_into(&[Profile::LEGACY]);
    let entries = index(&dir.0);
    assert!(!entries.is_empty());
    for entry in &entries {
        assert_eq!(entry["profile"], "legacy");
        assert!(entry["name"].as_str().unwrap().starts_with("legacy_"));
    }
    // The two rules `legacy` reads the other way are exercised, each broken by its mutant's
    // `legacy` reading.
    for (rule, mutant) in [
        ("acknowledge-request", "wrong-reexchange-answer"),
        ("advertises-versions", "wrong-versions"),
    ] {
        assert!(
            entries.iter().any(|e| e["mutant"] == mutant
                && e["rules"].as_array().unwrap().iter().any(|r| r == rule)),
            "no legacy vector of {rule} broken by {mutant}"
        );
    }
}
