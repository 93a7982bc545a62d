//! `capneg explore` (docs/spec.md §7.4): a port that cannot be had is bad input, said in one line
//! before anything else, never a panic.

mod common;

use common::{ended_within, spawn, Run, BAD_INPUT};
use std::net::{Ipv4Addr, TcpListener};
use std::time::Duration;

/// Runs `capneg explore ARGS`, killed after 20 s if it is still serving.
fn explore(args: &[&str]) -> Run {
    let mut child = spawn("explore", args);
    ended_within(&mut child, Duration::from_secs(20));
    Run::from(child.wait_with_output().expect("exits"))
}

#[test]
fn a_busy_port_is_bad_input_naming_the_address_and_the_reason() {
    let taken = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = taken.local_addr().unwrap().port();
    let run = explore(&["--port", &port.to_string()]);
    assert_eq!(run.code, BAD_INPUT, "{run}");
    let want = format!("capneg explore: cannot listen on 127.0.0.1:{port}: ");
    assert!(run.stderr.starts_with(&want), "{run}");
    assert!(run.stderr.contains("in use"), "the OS's reason: {run}");
    assert_eq!(run.stderr.lines().count(), 1, "{run}");
    assert!(run.stdout.is_empty(), "{run}");
    drop(taken);
}

#[test]
fn port_zero_is_refused() {
    let run = explore(&["--port", "0"]);
    assert_eq!(run.code, BAD_INPUT, "{run}");
    assert!(run.stderr.contains("0 is not in 1..=65535"), "{run}");
}
