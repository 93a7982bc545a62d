//! `capneg vectors` (being built).

pub fn run(
    out: &std::path::Path,
    profile: Option<capneg_reference::Profile>,
) -> std::process::ExitCode {
    let _ = (out, profile);
    eprintln!("capneg vectors: not available yet");
    std::process::ExitCode::from(2)
}
