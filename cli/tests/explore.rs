//! `capneg explore` (docs/spec.md §7.4): a port that cannot be had is bad input, said in one line
//! before anything else, never a panic; a connection reset before it is read is one line too.

mod common;

use common::{ended_within, spawn, Run, BAD_INPUT};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

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

/// A free port on 127.0.0.1 (bound and let go).
fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    listener.local_addr().unwrap().port()
}

/// The status line of `GET path` on the Explorer at `port`.
fn get(port: u16, path: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    Ok(answer.lines().next().unwrap_or_default().to_owned())
}

/// Opens a connection to `port`, asks for the status and resets the connection at once (closed
/// with a linger of 0).
fn reset_connection(port: u16) {
    let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
    stream
        .write_all(b"GET /.status HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    socket2::SockRef::from(&stream)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
}

const RESET: &str = "capneg explore: a connection was reset before it was read; still serving";

#[test]
fn a_connection_reset_before_it_is_read_is_one_line_and_serving_goes_on() {
    let port = free_port();
    let mut child = spawn("explore", &["--port", &port.to_string(), "--caps", "1"]);
    let (lines, stderr) = mpsc::channel();
    let reader = BufReader::new(child.stderr.take().unwrap());
    std::thread::spawn(move || {
        reader
            .lines()
            .map_while(Result::ok)
            .try_for_each(|l| lines.send(l))
    });
    let up = Instant::now();
    while get(port, "/.status").is_err() {
        assert!(
            up.elapsed() < Duration::from_secs(20),
            "the Explorer never answered"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let banner = stderr.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(
        banner.starts_with("capneg explore: the Explorer on "),
        "{banner}"
    );
    // The server takes the peer's address of a connection when it accepts it, and unwraps it when
    // it reads a request: a connection reset before it is accepted is caught only if the server
    // is slower than the reset, so reset until one is caught.
    let mut said = None;
    for _ in 0..5000 {
        reset_connection(port);
        if let Ok(line) = stderr.recv_timeout(Duration::from_millis(2)) {
            said = Some(line);
            break;
        }
    }
    let said = said.expect("no reset was caught in 5000 tries");
    assert_eq!(get(port, "/.status").unwrap(), "HTTP/1.1 200 OK");
    child.kill().unwrap();
    child.wait().unwrap();
    let rest: Vec<String> = std::iter::once(said).chain(stderr.iter()).collect();
    assert!(rest.iter().all(|line| line == RESET), "{rest:#?}");
}
