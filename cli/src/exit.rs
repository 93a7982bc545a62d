//! Exit codes the commands share (docs/spec.md §7), and the one of a failed write.

use std::io;
use std::process::ExitCode;

/// Exit code for bad input (docs/spec.md §7).
pub const BAD_INPUT: u8 = 2;

/// The exit code of a command whose reading or writing failed with `e`: success when the reader
/// of its output went away (a broken pipe: nothing left to say), else bad input, said on stderr
/// after `who`.
pub fn io_failure(who: &str, e: &io::Error) -> ExitCode {
    if e.kind() == io::ErrorKind::BrokenPipe {
        return ExitCode::SUCCESS;
    }
    eprintln!("{who}: {e}");
    ExitCode::from(BAD_INPUT)
}
