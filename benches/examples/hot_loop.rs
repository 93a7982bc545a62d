//! One benchmark's loop with nothing around it, for profilers (`perf record`, `valgrind
//! --tool=callgrind`): the long session's inputs through the compact client or a
//! `ClientSession`, its events through the observer, or its trace through the validator.
//!
//! ```sh
//! cargo build --release -p capneg-benches --example hot_loop
//! valgrind --tool=callgrind --toggle-collect='*Session::step_all*' \
//!     target/release/examples/hot_loop compact 20
//! perf record -g target/release/examples/hot_loop validate 50
//! ```

use capneg_benches::{long_script, run, Session};
use capneg_model::validate::{validate, Options};
use capneg_reference::Profile;
use std::hint::black_box;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(what), Some(Ok(reps))) = (args.first(), args.get(1).map(|r| r.parse::<usize>()))
    else {
        eprintln!("usage: hot_loop compact|json|observer|validate REPETITIONS [ROUNDS]");
        return ExitCode::from(2);
    };
    let rounds = match args.get(2).map(|r| r.parse::<usize>()) {
        None => 5000,
        Some(Ok(r)) => r,
        Some(Err(_)) => {
            eprintln!("hot_loop: ROUNDS is a number");
            return ExitCode::from(2);
        }
    };
    let trace = run(&long_script(rounds));
    let session = Session::from_trace(&trace);
    let (mut out, mut emitted, mut found) = (Vec::with_capacity(16), Vec::new(), Vec::new());
    let options = Options {
        profile: Profile::MSC,
        partial: false,
        side: capneg_model::rules::Side::Client,
    };
    for _ in 0..reps {
        match what.as_str() {
            "compact" => {
                black_box(session.step_all(&mut out));
            }
            "json" => {
                black_box(session.session_all(&mut emitted));
            }
            "observer" => {
                black_box(session.observe_all(&mut found));
            }
            "validate" => {
                black_box(validate(options, trace.as_bytes()).expect("in memory"));
            }
            _ => {
                eprintln!("hot_loop: unknown loop `{what}`: compact, json, observer or validate");
                return ExitCode::from(2);
            }
        }
    }
    ExitCode::SUCCESS
}
