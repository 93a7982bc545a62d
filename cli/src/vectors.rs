//! `capneg vectors`: writes the conformance vectors (docs/spec.md §7.6; see docs/vectors.md).

use crate::progress::ProgressLine;
use capneg_model::vectors::{files, generate, index_json};
use capneg_reference::Profile;
use std::fs;
use std::path::Path;
use std::process::ExitCode;

/// Exit code for a file that cannot be written (docs/spec.md §7: 2 for I/O errors).
const IO_ERROR: u8 = 2;
/// Exit code for vectors whose expectations do not hold: a bug, never the user's input.
const INTERNAL: u8 = 1;
/// The index of the vectors (docs/vectors.md).
const INDEX: &str = "index.json";

pub fn run(out: &Path, profile: Option<Profile>) -> ExitCode {
    let profiles: Vec<Profile> = match profile {
        Some(p) => vec![p],
        None => Profile::ALL.to_vec(),
    };
    let mut line = ProgressLine::new();
    line.show(|| "generating the vectors".to_owned());
    let vectors = match generate(&profiles) {
        Ok(v) => v,
        Err(e) => {
            line.clear();
            eprintln!("capneg vectors: internal error: {e}");
            return ExitCode::from(INTERNAL);
        }
    };
    // The files of `capneg_model::vectors::write`, vector by vector for the progress line, then
    // the index.
    let write = |name: &str, contents: &str| {
        let path = out.join(name);
        fs::write(&path, contents).map_err(|e| format!("{}: {e}", path.display()))
    };
    let written = fs::create_dir_all(out)
        .map_err(|e| format!("{}: {e}", out.display()))
        .and_then(|()| {
            let total = vectors.len();
            for (i, vector) in vectors.iter().enumerate() {
                let text = || format!("writing the vectors: {} of {total}", i + 1);
                if i == 0 {
                    line.show(text);
                } else {
                    line.update(text);
                }
                for (name, contents) in files(std::slice::from_ref(vector)) {
                    if name != INDEX {
                        write(&name, &contents)?;
                    }
                }
            }
            write(INDEX, &index_json(&vectors))
        });
    line.clear();
    if let Err(e) = written {
        eprintln!("capneg vectors: cannot write {e}");
        return ExitCode::from(IO_ERROR);
    }
    let negatives = vectors.iter().filter(|v| v.negative.is_some()).count();
    let names: Vec<&str> = profiles.iter().map(|p| p.name).collect();
    println!(
        "wrote {} vectors ({negatives} with a violating trace) for {} to {}",
        vectors.len(),
        names.join(", "),
        out.display()
    );
    ExitCode::SUCCESS
}
