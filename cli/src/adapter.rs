//! `capneg adapter` (being built).

pub fn run(profile: capneg_reference::Profile, mutant: Option<String>) -> std::process::ExitCode {
    let _ = (profile, mutant);
    eprintln!("capneg adapter: not available yet");
    std::process::ExitCode::from(2)
}
