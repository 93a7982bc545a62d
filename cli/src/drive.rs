//! `capneg drive` (being built).

pub fn run(
    profile: capneg_reference::Profile,
    cases: u32,
    seed: Option<u64>,
    timeout_ms: u64,
    command: &[String],
) -> std::process::ExitCode {
    let _ = (profile, cases, seed, timeout_ms, command);
    eprintln!("capneg drive: not available yet");
    std::process::ExitCode::from(2)
}
