//! Clients under test: the [`Adapter`] trait, for anything that speaks the adapter protocol
//! (docs/spec.md §8), and [`Process`], an external adapter process on pipes
//! (`capneg drive -- CMD`, docs/spec.md §7.8).
//!
//! [`Adapter`] sends one command and collects the output lines up to `idle`. It is implemented
//! by the in-process [`Handler`] and [`WidgetHandler`] (the reference or a mutant, no I/O) and by
//! [`Process`], an
//! external adapter on pipes: its stdout is read on a thread, so that an adapter that never says
//! `idle` is a [`Failure::NoAnswer`] after the timeout, never a hang; one that exits is a
//! [`Failure::Crashed`] with what it wrote on stderr. A failed process is killed and started
//! again at the next command.
//!
//! The pipe readers run on threads of their own: `read_stdout` hands over the lines before each
//! `idle` (bounded in lines and bytes, docs/spec.md §8.2; a line meant as `idle` but malformed,
//! such as `{"idle":{},"idle":{}}`, ends the command too and is handed over with its lines, where
//! it is not a protocol line), `read_stderr` keeps the end of stderr for the report.

use crate::protocol::{BadCommand, Handled, Handler, IDLE};
use crate::widget_protocol::WidgetHandler;
use capneg_wire::trace::LineReader;
use std::io::{BufReader, BufWriter, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, TryRecvError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Why a command got no complete answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The adapter did not say `idle` within the timeout.
    NoAnswer(Duration),
    /// The adapter ended, or closed its stdout, before saying `idle`.
    Crashed {
        /// How it ended (`exit status: 3`), if it did.
        status: Option<String>,
        /// What it wrote on stderr (the end of it).
        stderr: String,
        /// What went wrong on the pipes, if anything besides the end of output.
        detail: Option<String>,
        /// The lines it wrote for the command before ending.
        lines: Vec<String>,
    },
    /// The adapter could not be started at all.
    CannotStart(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::NoAnswer(t) => write!(f, "no answer: no `idle` within {} ms", t.as_millis()),
            Failure::Crashed { status, detail, .. } => {
                f.write_str("the adapter crashed")?;
                if let Some(s) = status {
                    write!(f, " ({s})")?;
                }
                if let Some(d) = detail {
                    write!(f, ": {d}")?;
                }
                Ok(())
            }
            Failure::CannotStart(e) => write!(f, "cannot start the adapter: {e}"),
        }
    }
}

/// A client that speaks the adapter protocol.
pub trait Adapter {
    /// Sends one command (a JSON line without its newline) and appends the output lines before
    /// `idle` to `out`.
    fn command(&mut self, line: &str, out: &mut Vec<String>) -> Result<(), Failure>;

    /// A mark in the adapter's stderr, for [`Adapter::stderr_since`].
    fn stderr_mark(&self) -> u64 {
        0
    }

    /// What the adapter wrote on stderr since `mark` (as far as it is kept).
    fn stderr_since(&self, mark: u64) -> String {
        let _ = mark;
        String::new()
    }
}

/// The answer of an in-process reference (or mutant) as an adapter's: a command it cannot take
/// is a crash whose stderr names it.
fn in_process(handled: Result<Handled, BadCommand>) -> Result<(), Failure> {
    match handled {
        Ok(Handled::Done | Handled::Ignored(_)) => Ok(()),
        Err(e) => Err(Failure::Crashed {
            status: None,
            stderr: format!("bad command: {e}"),
            detail: None,
            lines: Vec::new(),
        }),
    }
}

impl Adapter for Handler {
    fn command(&mut self, line: &str, out: &mut Vec<String>) -> Result<(), Failure> {
        in_process(self.handle(line, out))
    }
}

impl Adapter for WidgetHandler {
    fn command(&mut self, line: &str, out: &mut Vec<String>) -> Result<(), Failure> {
        in_process(self.handle(line, out))
    }
}

/// At most this much of an adapter's stderr is kept (its end).
const STDERR_KEPT: usize = 256 << 10;

/// At most this much output (in bytes, and in lines) is read for one command.
const MAX_OUTPUT: usize = 64 << 20;
const MAX_LINES: usize = 100_000;

/// What the stdout thread hands over.
pub(crate) enum Batch {
    /// The lines before an `idle`.
    Idle(Vec<String>),
    /// The lines before the end of output, and what went wrong if anything.
    End(Vec<String>, Option<String>),
}

/// An adapter's stderr: its end, and how many bytes came in total.
#[derive(Default)]
struct Stderr {
    kept: Vec<u8>,
    total: u64,
    closed: bool,
}

struct Running {
    child: Child,
    stdin: BufWriter<ChildStdin>,
    batches: Receiver<Batch>,
    stderr: Arc<Mutex<Stderr>>,
    /// The `start` commands it was sent.
    sessions: u32,
}

/// An external adapter process.
pub struct Process {
    argv: Vec<String>,
    timeout: Duration,
    running: Option<Running>,
    /// Stderr of processes that ended, kept for the report.
    stderr: Arc<Mutex<Stderr>>,
}

impl std::fmt::Debug for Process {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Process")
            .field("argv", &self.argv)
            .field("running", &self.running.is_some())
            .finish()
    }
}

/// Whether `c` is whitespace between JSON tokens.
fn is_json_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// How a line of an adapter's stdout stands to `idle` (docs/spec.md §8.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum IdleLine {
    /// `{"idle": {}}`: the end of the command's output.
    Idle,
    /// A JSON object with an `idle` key, but not `{"idle": {}}` (another value, or other keys
    /// besides, or the key twice): the adapter meant to say `idle`, so the command's output ends
    /// there too; the line is kept as an output, where it is not a protocol line.
    Malformed,
    /// Any other line.
    Other,
}

fn idle_line(line: &str) -> IdleLine {
    // JSON's whitespace only: a line that starts with another space (a no-break space, a form
    // feed) is not JSON, so not `idle`.
    let t = line.trim_matches(is_json_space);
    if t == IDLE {
        return IdleLine::Idle;
    }
    // Only an object naming `idle` (or spelling it with escapes) can be one: the others are not
    // parsed here.
    if !t.starts_with('{') || !(t.contains("idle") || t.contains('\\')) {
        return IdleLine::Other;
    }
    let Ok(keys) = serde_json::from_str::<TopKeys>(t) else {
        return IdleLine::Other;
    };
    match keys.idle {
        0 => IdleLine::Other,
        1 if keys.count == 1 && keys.idle_empty => IdleLine::Idle,
        _ => IdleLine::Malformed,
    }
}

/// The top level of a JSON object: how many keys, how many of them are `idle`, and whether the
/// (last) `idle` value is `{}`.
#[derive(Default)]
struct TopKeys {
    count: usize,
    idle: usize,
    idle_empty: bool,
}

impl<'de> serde::Deserialize<'de> for TopKeys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Keys;
        impl<'de> serde::de::Visitor<'de> for Keys {
            type Value = TopKeys;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<TopKeys, A::Error> {
                let mut keys = TopKeys::default();
                while let Some(key) = map.next_key::<String>()? {
                    keys.count += 1;
                    if key == "idle" {
                        keys.idle += 1;
                        let value = map.next_value::<&'de serde_json::value::RawValue>()?;
                        keys.idle_empty = value
                            .get()
                            .chars()
                            .filter(|c| !is_json_space(*c))
                            .eq("{}".chars());
                    } else {
                        map.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
                Ok(keys)
            }
        }
        d.deserialize_map(Keys)
    }
}

impl Process {
    /// Starts `argv` (program and arguments) with piped stdin, stdout and stderr. `timeout` is how
    /// long each command may take.
    pub fn spawn(argv: &[String], timeout: Duration) -> Result<Process, Failure> {
        if argv.is_empty() {
            return Err(Failure::CannotStart("no command given".into()));
        }
        let mut p = Process {
            argv: argv.to_vec(),
            timeout,
            running: None,
            stderr: Arc::new(Mutex::new(Stderr::default())),
        };
        p.ensure()?;
        Ok(p)
    }

    fn ensure(&mut self) -> Result<&mut Running, Failure> {
        if self.running.is_none() {
            self.running = Some(self.start()?);
        }
        match self.running.as_mut() {
            Some(r) => Ok(r),
            None => Err(Failure::CannotStart("not running".into())),
        }
    }

    fn start(&mut self) -> Result<Running, Failure> {
        let mut child = Command::new(&self.argv[0])
            .args(&self.argv[1..])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Failure::CannotStart(format!("{}: {e}", self.argv[0])))?;
        let (stdin, stdout, stderr) =
            match (child.stdin.take(), child.stdout.take(), child.stderr.take()) {
                (Some(i), Some(o), Some(e)) => (i, o, e),
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(Failure::CannotStart("the pipes could not be opened".into()));
                }
            };
        let (tx, rx) = mpsc::channel();
        thread::Builder::new()
            .name("adapter-stdout".into())
            .spawn(move || read_stdout(stdout, tx))
            .map_err(|e| Failure::CannotStart(format!("cannot start a thread: {e}")))?;
        // Each process gets its own stderr buffer; a new one continues the totals so that marks
        // stay meaningful across restarts.
        let total = self.stderr.lock().map(|s| s.total).unwrap_or(0);
        let shared = Arc::new(Mutex::new(Stderr {
            total,
            ..Stderr::default()
        }));
        self.stderr = Arc::clone(&shared);
        let sink = Arc::clone(&shared);
        thread::Builder::new()
            .name("adapter-stderr".into())
            .spawn(move || read_stderr(stderr, sink))
            .map_err(|e| Failure::CannotStart(format!("cannot start a thread: {e}")))?;
        Ok(Running {
            child,
            stdin: BufWriter::with_capacity(64 << 10, stdin),
            batches: rx,
            stderr: shared,
            sessions: 0,
        })
    }

    /// Kills the process (if running) and forgets it: the next command starts a new one.
    pub fn kill(&mut self) {
        if let Some(mut r) = self.running.take() {
            let _ = r.child.kill();
            let _ = r.child.wait();
        }
    }

    /// The process ended or closed its output: wait for it, and report it with its stderr.
    fn crashed(&mut self, lines: Vec<String>, detail: Option<String>) -> Failure {
        let Some(mut r) = self.running.take() else {
            return Failure::Crashed {
                status: None,
                stderr: String::new(),
                detail,
                lines,
            };
        };
        let read_error = detail.is_some();
        // A failure that depends on what the process went through before this session.
        let detail = match (r.sessions, detail) {
            (n @ 2.., d) => Some(format!(
                "{}in the {} session of this process",
                d.map(|d| format!("{d}; ")).unwrap_or_default(),
                ordinal(n)
            )),
            (_, d) => d,
        };
        // After the end of its output it is ending: give it a moment. Output that could not be
        // read (`detail`) says nothing of that: it is killed at once.
        let deadline = Instant::now() + Duration::from_secs(2);
        let status = loop {
            if read_error {
                // Stopped by us: whatever status it had by now (a SIGPIPE, once its output pipe
                // was closed) is ours, not its own.
                let _ = r.child.kill();
                let _ = r.child.wait();
                break None;
            }
            match r.child.try_wait() {
                Ok(Some(status)) => break Some(status.to_string()),
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(5)),
                _ => {
                    let _ = r.child.kill();
                    let _ = r.child.wait();
                    break None;
                }
            }
        };
        // Let the stderr thread read what is left (bounded: a grandchild may hold the pipe).
        let deadline = Instant::now() + Duration::from_millis(500);
        while Instant::now() < deadline {
            if r.stderr.lock().map(|s| s.closed).unwrap_or(true) {
                break;
            }
            thread::sleep(Duration::from_millis(5));
        }
        let stderr = r
            .stderr
            .lock()
            .map(|s| String::from_utf8_lossy(&s.kept).into_owned())
            .unwrap_or_default();
        Failure::Crashed {
            status,
            stderr: tail(&stderr, 4096),
            detail,
            lines,
        }
    }
}

fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// The end of `text`, at most `max` bytes, starting at a line.
fn tail(text: &str, max: usize) -> String {
    let text = text.trim_end();
    if text.len() <= max {
        return text.to_owned();
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    let cut = &text[start..];
    match cut.find('\n') {
        Some(i) => cut[i + 1..].to_owned(),
        None => cut.to_owned(),
    }
}

pub(crate) fn read_stdout(stdout: impl Read, tx: mpsc::Sender<Batch>) {
    let mut lines = LineReader::new(BufReader::with_capacity(64 << 10, stdout));
    let mut batch = Vec::new();
    let mut bytes = 0;
    loop {
        match lines.next_line() {
            None => {
                let _ = tx.send(Batch::End(batch, None));
                return;
            }
            Some(Err(e)) => {
                let detail = format!("stdout line {}: {}", e.line, e.error);
                let _ = tx.send(Batch::End(batch, Some(detail)));
                return;
            }
            Some(Ok((_, text))) => {
                let idle = idle_line(text);
                if idle != IdleLine::Other {
                    if idle == IdleLine::Malformed {
                        batch.push(text.to_owned());
                    }
                    bytes = 0;
                    if tx.send(Batch::Idle(std::mem::take(&mut batch))).is_err() {
                        return;
                    }
                } else {
                    bytes += text.len();
                    if bytes > MAX_OUTPUT || batch.len() >= MAX_LINES {
                        let detail = format!(
                            "more than {MAX_LINES} lines or {} MiB of output without `idle`",
                            MAX_OUTPUT >> 20
                        );
                        let _ = tx.send(Batch::End(batch, Some(detail)));
                        return;
                    }
                    batch.push(text.to_owned());
                }
            }
        }
    }
}

/// How long [`await_batch`] polls before it sleeps: about one round trip of a quick adapter.
const SPIN: Duration = Duration::from_micros(200);

/// The adapter's answer to one command: polled for up to [`SPIN`], then waited for up to
/// `timeout`. A quick adapter answers within the polling, and the driver's thread, awake, takes
/// the answer without being woken (on a virtual machine an idle CPU is slow to wake, and a
/// command's round trip costs a few wake-ups: `docs/performance.md`).
fn await_batch(batches: &Receiver<Batch>, timeout: Duration) -> Result<Batch, RecvTimeoutError> {
    let polled = Instant::now();
    loop {
        match batches.try_recv() {
            Ok(batch) => return Ok(batch),
            Err(TryRecvError::Disconnected) => return Err(RecvTimeoutError::Disconnected),
            Err(TryRecvError::Empty) if polled.elapsed() < SPIN => std::hint::spin_loop(),
            Err(TryRecvError::Empty) => break,
        }
    }
    batches.recv_timeout(timeout.saturating_sub(polled.elapsed()))
}

fn read_stderr(mut stderr: impl Read, sink: Arc<Mutex<Stderr>>) {
    let mut buf = [0u8; 8192];
    loop {
        let n = match stderr.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let Ok(mut s) = sink.lock() else { return };
        s.kept.extend_from_slice(&buf[..n]);
        s.total += n as u64;
        if s.kept.len() > STDERR_KEPT {
            let excess = s.kept.len() - STDERR_KEPT;
            s.kept.drain(..excess);
        }
    }
    if let Ok(mut s) = sink.lock() {
        s.closed = true;
    }
}

impl Adapter for Process {
    fn command(&mut self, line: &str, out: &mut Vec<String>) -> Result<(), Failure> {
        let timeout = self.timeout;
        let running = self.ensure()?;
        if line.starts_with(r#"{"start""#) {
            running.sessions += 1;
        }
        let written = running
            .stdin
            .write_all(line.as_bytes())
            .and_then(|()| running.stdin.write_all(b"\n"))
            .and_then(|()| running.stdin.flush());
        if let Err(e) = written {
            // It most likely ended: collect its last output first.
            let lines = match running.batches.recv_timeout(Duration::from_millis(500)) {
                Ok(Batch::Idle(l) | Batch::End(l, _)) => l,
                Err(_) => Vec::new(),
            };
            let failure = match self.crashed(lines, None) {
                // Still running with its stdin closed: say so (an exit says it by its status).
                Failure::Crashed {
                    status: None,
                    stderr,
                    detail,
                    lines,
                } => Failure::Crashed {
                    status: None,
                    stderr,
                    detail: Some(match detail {
                        Some(d) => format!("writing its stdin: {e}; {d}"),
                        None => format!("writing its stdin: {e}"),
                    }),
                    lines,
                },
                other => other,
            };
            return Err(failure);
        }
        match await_batch(&running.batches, timeout) {
            Ok(Batch::Idle(lines)) => {
                if out.is_empty() {
                    *out = lines;
                } else {
                    out.extend(lines);
                }
                Ok(())
            }
            Ok(Batch::End(lines, detail)) => Err(self.crashed(lines, detail)),
            Err(RecvTimeoutError::Timeout) => {
                self.kill();
                Err(Failure::NoAnswer(timeout))
            }
            Err(RecvTimeoutError::Disconnected) => Err(self.crashed(Vec::new(), None)),
        }
    }

    fn stderr_mark(&self) -> u64 {
        self.stderr.lock().map(|s| s.total).unwrap_or(0)
    }

    fn stderr_since(&self, mark: u64) -> String {
        let Ok(s) = self.stderr.lock() else {
            return String::new();
        };
        let new = s.total.saturating_sub(mark).min(s.kept.len() as u64) as usize;
        String::from_utf8_lossy(&s.kept[s.kept.len() - new..]).into_owned()
    }
}

impl Process {
    /// Ends the adapter: closing its stdin asks it to end; it gets a moment, then it is killed.
    /// Its stderr is then read to the end (as far as it comes within a moment), so that
    /// [`Adapter::stderr_since`] has all of it.
    pub fn close(&mut self) {
        let Some(mut r) = self.running.take() else {
            return;
        };
        drop(r.stdin);
        let deadline = Instant::now() + Duration::from_millis(500);
        loop {
            match r.child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(2)),
                _ => {
                    let _ = r.child.kill();
                    let _ = r.child.wait();
                    break;
                }
            }
        }
        let deadline = Instant::now() + Duration::from_millis(500);
        while Instant::now() < deadline && !r.stderr.lock().map(|s| s.closed).unwrap_or(true) {
            thread::sleep(Duration::from_millis(2));
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_lines_are_recognised() {
        for idle in [
            r#"{"idle":{}}"#,
            r#" {"idle": {}} "#,
            "{ \"idle\" :\t{ } }",
            r#"{"\u0069dle":{}}"#,
        ] {
            assert_eq!(idle_line(idle), IdleLine::Idle, "{idle}");
        }
        // Meant as `idle`, but not one: the command's output ends, with the line in it.
        for bad in [
            r#"{"idle":{},"idle":{}}"#,
            r#"{"idle":{},"x":1}"#,
            r#"{"x":1,"idle":{}}"#,
            r#"{"idle":5}"#,
            r#"{"idle":null}"#,
            r#"{"idle":{"a":1}}"#,
        ] {
            assert_eq!(idle_line(bad), IdleLine::Malformed, "{bad}");
        }
        for other in [
            r#"{"client":{"action":"idle"}}"#,
            r#"{"client":{"idle":{}}}"#,
            r#"{"idle":{}"#,
            r#"["idle"]"#,
            "idle",
            r#"{"prompt":{"capabilities":["a\\b"]}}"#,
            // Not JSON: spaces JSON does not have.
            "\u{a0}{\"idle\":{}}",
            "\u{b}{\"idle\":{}}",
            "\u{c}{\"idle\":{},\"x\":1}",
        ] {
            assert_eq!(idle_line(other), IdleLine::Other, "{other}");
        }
    }

    #[test]
    fn tails_start_at_a_line() {
        assert_eq!(tail("a\nb\nc\n", 100), "a\nb\nc");
        assert_eq!(tail("aaaa\nbb\ncc", 6), "bb\ncc");
    }
}
