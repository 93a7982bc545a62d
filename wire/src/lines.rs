//! What a line of capneg's JSON Lines formats is, decided in one place (docs/spec.md §5).
//!
//! Every reader of traces, scripts and adapter lines goes through this module: `capneg run`,
//! `capneg validate` (its pipeline reads blocks of lines on every core, but judges each line by
//! [`line_text`] and [`check_json`] as a [`LineReader`] does), `capneg adapter` and `capneg
//! drive`. So a line that is bad input for one is bad input for all, with the same message:
//!
//! - a line is the bytes up to a line feed (`\n`), one carriage return at its end dropped (the
//!   one before the line feed, or the last byte of a last line without one); the last line
//!   needs no line feed; lines are numbered from 1; blank lines are skipped;
//! - it must be UTF-8, at most [`MAX_LINE`] bytes long, and the first must not start with a
//!   byte order mark;
//! - its JSON must nest at most [`MAX_DEPTH`] lists and objects deep, and its `\u` escapes must
//!   name Unicode scalar values (a surrogate only as half of a pair): what a Rust string can
//!   hold ([`check_json`]). The JSON grammar itself is `serde_json`'s.

use std::fmt;
use std::io::{self, BufRead};

/// The longest line, without its line feed, that a reader accepts: a longer one is bad input,
/// not an unbounded allocation.
pub const MAX_LINE: usize = 16 << 20;

/// The deepest nesting of lists and objects in a line (the line's own object counts as 1).
pub const MAX_DEPTH: u32 = 100;

/// Why the bytes of a line are not a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextProblem {
    /// Not UTF-8.
    NotUtf8,
    /// Longer than [`MAX_LINE`].
    TooLong,
    /// The first line starts with a UTF-8 byte order mark.
    ByteOrderMark,
}

impl fmt::Display for TextProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextProblem::NotUtf8 => f.write_str("the line is not UTF-8"),
            TextProblem::TooLong => {
                write!(f, "the line is longer than {} MiB", MAX_LINE >> 20)
            }
            TextProblem::ByteOrderMark => f.write_str(
                "the file starts with a UTF-8 byte order mark (EF BB BF): save it without one",
            ),
        }
    }
}

/// The text of line `n` from its bytes (without the line feed): `None` for a blank line.
pub fn line_text(n: usize, bytes: &[u8]) -> Result<Option<&str>, TextProblem> {
    if bytes.len() > MAX_LINE {
        return Err(TextProblem::TooLong);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| TextProblem::NotUtf8)?;
    line_str(n, text)
}

/// As [`line_text`], for a line already known to be UTF-8.
pub fn line_str(n: usize, text: &str) -> Result<Option<&str>, TextProblem> {
    if text.len() > MAX_LINE {
        return Err(TextProblem::TooLong);
    }
    if n == 1 && text.starts_with('\u{feff}') {
        return Err(TextProblem::ByteOrderMark);
    }
    let text = text.strip_suffix('\r').unwrap_or(text);
    Ok((!text.trim().is_empty()).then_some(text))
}

/// Why a line's JSON is beyond what capneg reads, though `serde_json` might read it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonProblem {
    /// Nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// A `\u` escape names a surrogate that is not half of a pair.
    LoneSurrogate,
}

impl fmt::Display for JsonProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsonProblem::TooDeep => write!(
                f,
                "lists and objects nested deeper than {MAX_DEPTH} levels (capneg reads at most {MAX_DEPTH})"
            ),
            JsonProblem::LoneSurrogate => {
                f.write_str("a \\u escape names a lone surrogate: the string is not Unicode text")
            }
        }
    }
}

/// `text` on one line: control characters (and the Unicode line and paragraph separators)
/// escaped as Rust writes them (`\n`, `\u{2028}`). Every message that may quote input (a key,
/// a value, a request id) goes through it, so that an error is always one line.
pub fn one_line(text: &str) -> std::borrow::Cow<'_, str> {
    let breaks = |c: char| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}');
    if !text.chars().any(breaks) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if breaks(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Checks what `serde_json` does not check of a line's JSON wherever a value is kept raw or
/// skipped: the nesting depth and the surrogates of `\u` escapes. One pass over the text; the
/// grammar is left to the parser.
pub fn check_json(text: &str) -> Result<(), JsonProblem> {
    let bytes = text.as_bytes();
    let mut depth = 0u32;
    let mut i = 0;
    while i < bytes.len() {
        // The next string or opening; the closings before it lower the depth.
        let next = memchr::memchr3(b'"', b'[', b'{', &bytes[i..]).map_or(bytes.len(), |o| i + o);
        let closings = bytes[i..next]
            .iter()
            .filter(|&&b| b == b']' || b == b'}')
            .count() as u32;
        depth = depth.saturating_sub(closings);
        match bytes.get(next) {
            None => break,
            Some(b'"') => i = skip_string(bytes, next + 1)?,
            Some(_) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(JsonProblem::TooDeep);
                }
                i = next + 1;
            }
        }
    }
    Ok(())
}

/// The index after the string whose contents start at `i`, its `\u` surrogates checked.
fn skip_string(bytes: &[u8], mut i: usize) -> Result<usize, JsonProblem> {
    loop {
        let Some(off) = memchr::memchr2(b'"', b'\\', &bytes[i..]) else {
            return Ok(bytes.len());
        };
        i += off;
        if bytes[i] == b'"' {
            return Ok(i + 1);
        }
        match bytes.get(i + 1) {
            Some(b'u') => match hex4(bytes, i + 2) {
                Some(0xD800..=0xDBFF) => {
                    let low = (bytes.get(i + 6) == Some(&b'\\') && bytes.get(i + 7) == Some(&b'u'))
                        .then(|| hex4(bytes, i + 8))
                        .flatten();
                    if !matches!(low, Some(0xDC00..=0xDFFF)) {
                        return Err(JsonProblem::LoneSurrogate);
                    }
                    i += 12;
                }
                Some(0xDC00..=0xDFFF) => return Err(JsonProblem::LoneSurrogate),
                _ => i += 6,
            },
            // Any other escape is two bytes; the parser checks which.
            _ => i += 2,
        }
        i = i.min(bytes.len());
    }
}

/// The value of four hex digits at `i`.
fn hex4(bytes: &[u8], i: usize) -> Option<u16> {
    let digits = std::str::from_utf8(bytes.get(i..i + 4)?).ok()?;
    u16::from_str_radix(digits, 16).ok()
}

/// A line that could not be read: its number and why.
#[derive(Debug)]
pub struct LineIoError {
    /// The 1-based line number.
    pub line: usize,
    /// The error; [`io::ErrorKind::InvalidData`] for a line that is not UTF-8 or too long.
    pub error: io::Error,
}

impl LineIoError {
    /// Whether the input itself is bad (as opposed to the reading failing).
    pub fn is_bad_input(&self) -> bool {
        self.error.kind() == io::ErrorKind::InvalidData
    }
}

impl fmt::Display for LineIoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.line, self.error)
    }
}

impl std::error::Error for LineIoError {}

/// Reads a JSON Lines file one line at a time, reusing one buffer; blank lines are skipped.
pub struct LineReader<R> {
    input: R,
    buf: Vec<u8>,
    line: usize,
}

impl<R: BufRead> LineReader<R> {
    /// A reader over `input`.
    pub fn new(input: R) -> Self {
        LineReader {
            input,
            buf: Vec::new(),
            line: 0,
        }
    }

    /// The next non-blank line with its 1-based number, or `None` at the end. A line that is not
    /// UTF-8 or longer than [`MAX_LINE`] is an [`io::ErrorKind::InvalidData`] error.
    pub fn next_line(&mut self) -> Option<Result<(usize, &str), LineIoError>> {
        loop {
            self.buf.clear();
            self.line += 1;
            match self.fill() {
                Ok(false) => return None,
                Ok(true) => {}
                Err(error) => {
                    return Some(Err(LineIoError {
                        line: self.line,
                        error,
                    }))
                }
            }
            let bytes = self.buf.strip_suffix(b"\n").unwrap_or(&self.buf);
            match line_text(self.line, bytes) {
                Err(problem) => {
                    return Some(Err(LineIoError {
                        line: self.line,
                        error: io::Error::new(io::ErrorKind::InvalidData, problem.to_string()),
                    }))
                }
                Ok(None) => continue,
                Ok(Some(_)) => break,
            }
        }
        // Checked just above; read again so that the borrow starts after the loop.
        let bytes = self.buf.strip_suffix(b"\n").unwrap_or(&self.buf);
        match line_text(self.line, bytes) {
            Ok(Some(text)) => Some(Ok((self.line, text))),
            _ => None,
        }
    }

    /// Reads one line (with its newline) into `buf`; false at end of input.
    fn fill(&mut self) -> io::Result<bool> {
        loop {
            let chunk = match self.input.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                return Ok(!self.buf.is_empty());
            }
            let (take, done) = match memchr::memchr(b'\n', chunk) {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            // The line without its line feed may be MAX_LINE bytes long.
            if self.buf.len() + take - usize::from(done) > MAX_LINE {
                self.input.consume(take);
                self.skip_rest(done)?;
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("the line is longer than {} MiB", MAX_LINE >> 20),
                ));
            }
            self.buf.extend_from_slice(&chunk[..take]);
            self.input.consume(take);
            if done {
                return Ok(true);
            }
        }
    }

    fn skip_rest(&mut self, mut done: bool) -> io::Result<()> {
        while !done {
            let chunk = self.input.fill_buf()?;
            if chunk.is_empty() {
                break;
            }
            let take = match memchr::memchr(b'\n', chunk) {
                Some(i) => {
                    done = true;
                    i + 1
                }
                None => chunk.len(),
            };
            self.input.consume(take);
        }
        self.buf.clear();
        Ok(())
    }

    /// The number of the last line read.
    pub fn line_number(&self) -> usize {
        self.line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_one_line() {
        assert_eq!(one_line("a`b`"), "a`b`");
        assert_eq!(one_line("key `\n`, `\r`"), "key `\\n`, `\\r`");
        assert_eq!(one_line("\u{2028}\u{7f}"), "\\u{2028}\\u{7f}");
    }

    fn nested(depth: usize) -> String {
        format!("{}{}", "[".repeat(depth), "]".repeat(depth))
    }

    #[test]
    fn depth_counts_lists_and_objects_but_not_strings() {
        assert_eq!(check_json(&nested(MAX_DEPTH as usize)), Ok(()));
        assert_eq!(
            check_json(&nested(MAX_DEPTH as usize + 1)),
            Err(JsonProblem::TooDeep)
        );
        let wide = format!("[{}]", vec![nested(50); 100].join(","));
        assert_eq!(check_json(&wide), Ok(()));
        let quoted = format!(r#"{{"a":"{}"}}"#, "[{".repeat(500));
        assert_eq!(check_json(&quoted), Ok(()));
        let escaped = r#"{"a":"\"[[[[\\","b":[1]}"#;
        assert_eq!(check_json(escaped), Ok(()));
    }

    #[test]
    fn surrogates_must_pair() {
        assert_eq!(check_json(r#"["\ud83d\ude00"]"#), Ok(()));
        assert_eq!(check_json(r#"["\ud800"]"#), Err(JsonProblem::LoneSurrogate));
        assert_eq!(
            check_json(r#"["\ud800\u0041"]"#),
            Err(JsonProblem::LoneSurrogate)
        );
        assert_eq!(check_json(r#"["\udc00"]"#), Err(JsonProblem::LoneSurrogate));
        assert_eq!(
            check_json(r#"{"\ud800":1}"#),
            Err(JsonProblem::LoneSurrogate)
        );
        assert_eq!(
            check_json(r#"["\u00e9\\ud800"]"#),
            Ok(()),
            "an escaped backslash"
        );
        assert_eq!(check_json(r#"["\ud800"#), Err(JsonProblem::LoneSurrogate));
    }

    #[test]
    fn line_texts() {
        assert_eq!(line_text(1, b"{}"), Ok(Some("{}")));
        assert_eq!(line_text(2, b"{}\r"), Ok(Some("{}")));
        assert_eq!(line_text(2, b"  \r"), Ok(None));
        assert_eq!(line_text(3, b"\xff"), Err(TextProblem::NotUtf8));
        assert_eq!(
            line_text(1, "\u{feff}{}".as_bytes()),
            Err(TextProblem::ByteOrderMark)
        );
        assert_eq!(
            line_text(2, "\u{feff}{}".as_bytes()),
            Ok(Some("\u{feff}{}"))
        );
        assert_eq!(line_text(1, &vec![b' '; MAX_LINE]), Ok(None));
        assert_eq!(
            line_text(1, &vec![b' '; MAX_LINE + 1]),
            Err(TextProblem::TooLong)
        );
    }

    #[test]
    fn the_last_line_needs_no_line_feed_and_bad_ones_are_named() {
        let input: &[u8] = b"{}\n\n{\"a\":1}\n\xff";
        let mut r = LineReader::new(input);
        assert_eq!(r.next_line().unwrap().unwrap(), (1, "{}"));
        assert_eq!(r.next_line().unwrap().unwrap(), (3, r#"{"a":1}"#));
        let e = r.next_line().unwrap().unwrap_err();
        assert_eq!(
            (e.line, e.error.to_string()),
            (4, "the line is not UTF-8".to_owned())
        );
        assert!(r.next_line().is_none());
    }
}
