//! The progress line of long work (`check`, `vectors`, `drive`): one line on stderr, rewritten in
//! place (`\r`) at most ten times a second and cleared at the end, and only when stderr is a
//! terminal: never in a pipe, a file or a test (docs/check.md, docs/driver.md).

use std::io::{IsTerminal, Stderr, Write};
use std::time::{Duration, Instant};

/// How often the line is rewritten at most.
const EVERY: Duration = Duration::from_millis(100);

/// The longest line shown, in characters: a terminal narrower than the line would wrap it, and
/// `\r` would then rewrite only its last row.
const WIDTH: usize = 78;

/// Back to the start of the line, and the line erased.
const ERASE: &str = "\r\x1b[2K";

/// A progress line on `out` (stderr).
pub struct ProgressLine<W: Write = Stderr> {
    /// Where to, or nowhere: stderr is not a terminal.
    out: Option<W>,
    /// When the line was last written.
    last: Option<Instant>,
    /// Whether something is on the line now.
    dirty: bool,
}

impl ProgressLine {
    /// A progress line on stderr, shown only when stderr is a terminal.
    pub fn new() -> ProgressLine {
        let err = std::io::stderr();
        ProgressLine::on(err.is_terminal().then_some(err))
    }
}

impl<W: Write> ProgressLine<W> {
    /// A progress line on `out`, or none.
    pub fn on(out: Option<W>) -> ProgressLine<W> {
        ProgressLine {
            out,
            last: None,
            dirty: false,
        }
    }

    /// Shows `text()` unless the line was written less than 100 ms ago (`text` is then not
    /// called).
    pub fn update(&mut self, text: impl FnOnce() -> String) {
        if self.last.is_some_and(|t| t.elapsed() < EVERY) {
            return;
        }
        self.show(text);
    }

    /// Shows `text()` now: the start of a new stage of the work.
    pub fn show(&mut self, text: impl FnOnce() -> String) {
        let Some(out) = &mut self.out else { return };
        self.last = Some(Instant::now());
        let text: String = text().chars().take(WIDTH).collect();
        let _ = write!(out, "{ERASE}{text}");
        let _ = out.flush();
        self.dirty = true;
    }

    /// Clears the line (before a report is printed).
    pub fn clear(&mut self) {
        if let (Some(out), true) = (&mut self.out, self.dirty) {
            let _ = write!(out, "{ERASE}");
            let _ = out.flush();
            self.dirty = false;
        }
    }
}

impl<W: Write> Drop for ProgressLine<W> {
    fn drop(&mut self) {
        self.clear();
    }
}

/// `n` per second over `elapsed`.
pub fn rate(n: f64, elapsed: Duration) -> f64 {
    n / elapsed.as_secs_f64().max(1e-9)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a progress line on a terminal wrote.
    fn written(line: ProgressLine<Vec<u8>>) -> String {
        let mut line = std::mem::ManuallyDrop::new(line);
        let out = line.out.take().unwrap_or_default();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn nothing_is_shown_off_a_terminal() {
        let mut line = ProgressLine::<Vec<u8>>::on(None);
        let mut called = false;
        line.update(|| {
            called = true;
            "x".into()
        });
        line.clear();
        assert!(!called, "the text is not even made");
        assert!(line.out.is_none());
    }

    #[test]
    fn one_line_is_rewritten_in_place_and_cleared() {
        let mut line = ProgressLine::on(Some(Vec::new()));
        line.update(|| "1 of 3".into());
        // Within 100 ms: not rewritten.
        line.update(|| "2 of 3".into());
        // A new stage is shown at once.
        line.show(|| "writing".into());
        line.clear();
        line.clear();
        assert_eq!(written(line), "\r\x1b[2K1 of 3\r\x1b[2Kwriting\r\x1b[2K");
    }

    #[test]
    fn a_long_line_is_cut_to_the_width() {
        let mut line = ProgressLine::on(Some(Vec::new()));
        line.update(|| "é".repeat(200));
        let out = written(line);
        assert_eq!(out.trim_start_matches(ERASE).chars().count(), WIDTH);
        assert!(!out.contains('\n'));
    }

    #[test]
    fn a_dropped_line_is_cleared() {
        let mut out = Vec::new();
        {
            let mut line = ProgressLine::on(Some(&mut out));
            line.update(|| "working".into());
        }
        assert!(String::from_utf8(out).unwrap().ends_with(ERASE));
    }
}
