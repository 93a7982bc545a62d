//! `capneg vectors`: writes the conformance vectors (docs/spec.md §7; see docs/vectors.md).

use capneg_model::vectors::{generate, write};
use capneg_reference::Profile;
use std::path::Path;
use std::process::ExitCode;

/// Exit code for a file that cannot be written (docs/spec.md §7: 2 for I/O errors).
const IO_ERROR: u8 = 2;
/// Exit code for vectors whose expectations do not hold: a bug, never the user's input.
const INTERNAL: u8 = 1;

pub fn run(out: &Path, profile: Option<Profile>) -> ExitCode {
    let profiles: Vec<Profile> = match profile {
        Some(p) => vec![p],
        None => Profile::ALL.to_vec(),
    };
    let vectors = match generate(&profiles) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("capneg vectors: internal error: {e}");
            return ExitCode::from(INTERNAL);
        }
    };
    if let Err(e) = write(out, &vectors) {
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
