//! Reading a trace on a second core: a background thread reads blocks of lines and parses each
//! line (its key, and a message into its envelope view) while the caller judges the lines of the
//! previous block. What crosses between the threads is owned: the block's text and, for each
//! line, where its parts lie in it.
//!
//! Lines are read as [`capneg_reference::trace::LineReader`] reads them: numbered from 1, blank
//! ones skipped, a line that is not UTF-8 or longer than [`MAX_LINE`] is bad input, and the
//! parsing is [`parse_event_line`]'s, so both readers give every line the same meaning.

use capneg_reference::trace::{parse_event_line, EventLine, EventValue, Key, MAX_LINE};
use capneg_reference::wire::EnvelopeView;
use std::io::{self, Read};
use std::ops::Range;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread;

/// The size of a block: big enough to amortise the hand-over, small enough to keep memory flat.
const BLOCK: usize = 1 << 18;

/// Blocks parsed ahead of the judge.
const AHEAD: usize = 2;

/// Where a part of a line lies in its block's text.
type Span = Range<u32>;

/// A line, parsed.
#[derive(Debug)]
enum Parsed {
    /// A message: the spans of its envelope fields (`api`, `widgetId`, `requestId`, `action`,
    /// `data`, `response`), or `None` if it is not an object or repeats a field.
    Message(Key, Option<[Option<Span>; 6]>),
    /// Another line: the span of its value.
    Raw(Key, Span),
    /// Bad input: what is wrong.
    Bad(String),
}

/// A block of lines and what the background thread read of them.
#[derive(Debug)]
pub struct Block {
    text: String,
    lines: Vec<(u32, Parsed)>,
    /// A failure to read (not bad input) that ended the input.
    error: Option<io::Error>,
}

/// One line of a block, for the judge.
pub enum Item<'a> {
    /// A line parsed (the number, the line).
    Line(u32, EventLine<'a>),
    /// Bad input at this line.
    Bad(u32, &'a str),
}

impl Block {
    /// The lines, in order.
    pub fn items(&self) -> impl Iterator<Item = Item<'_>> {
        let text = self.text.as_str();
        let at = move |s: &Span| text.get(s.start as usize..s.end as usize).unwrap_or("");
        self.lines.iter().map(move |(n, parsed)| match parsed {
            Parsed::Bad(message) => Item::Bad(*n, message),
            Parsed::Raw(key, span) => Item::Line(
                *n,
                EventLine {
                    key: *key,
                    value: EventValue::Raw(at(span)),
                },
            ),
            Parsed::Message(key, spans) => {
                let view = spans.as_ref().map(|s| {
                    let f = |i: usize| s[i].as_ref().map(at);
                    EnvelopeView {
                        api: f(0),
                        widget_id: f(1),
                        request_id: f(2),
                        action: f(3),
                        data: f(4),
                        response: f(5),
                    }
                });
                Item::Line(
                    *n,
                    EventLine {
                        key: *key,
                        value: EventValue::Message(view),
                    },
                )
            }
        })
    }

    /// The read failure that ended the input, if any.
    pub fn take_error(&mut self) -> Option<io::Error> {
        self.error.take()
    }
}

/// The blocks of a trace, in order, read and parsed on another thread.
pub struct Blocks {
    blocks: Receiver<Block>,
    /// Judged blocks go back to the reading thread, which reuses their memory: buffers are then
    /// freed by the thread that allocated them, and memory stays flat.
    spent: SyncSender<Block>,
}

impl Blocks {
    /// The next block, or `None` at the end.
    pub fn next_block(&mut self) -> Option<Block> {
        self.blocks.recv().ok()
    }

    /// Hands a judged block back for reuse.
    pub fn recycle(&mut self, block: Block) {
        let _ = self.spent.try_send(block);
    }
}

/// Starts reading `input` on a thread of `scope`. The thread stops when the input ends or the
/// [`Blocks`] are dropped.
pub fn spawn<'scope, R: Read + Send + 'scope>(
    scope: &'scope thread::Scope<'scope, '_>,
    input: R,
) -> Blocks {
    let (tx, rx) = sync_channel(AHEAD);
    let (spent_tx, spent_rx) = sync_channel::<Block>(AHEAD + 1);
    scope.spawn(move || {
        let mut reader = BlockReader::new(input);
        loop {
            let reuse = spent_rx.try_recv().ok();
            let Some(block) = reader.next_block(reuse) else {
                break;
            };
            let done = block.error.is_some();
            if tx.send(block).is_err() || done {
                break;
            }
        }
    });
    Blocks {
        blocks: rx,
        spent: spent_tx,
    }
}

/// Cuts the input into blocks of whole lines and parses them.
struct BlockReader<R> {
    input: R,
    /// Bytes read but not yet in a block (the start of a line).
    carry: Vec<u8>,
    line: u32,
    eof: bool,
    /// Skipping the rest of a line too long to keep.
    skipping: bool,
}

impl<R: Read> BlockReader<R> {
    fn new(input: R) -> Self {
        BlockReader {
            input,
            carry: Vec::new(),
            line: 0,
            eof: false,
            skipping: false,
        }
    }

    /// The next block, or `None` at the end; `reuse` lends the memory of a spent block.
    fn next_block(&mut self, reuse: Option<Block>) -> Option<Block> {
        let (mut buf, mut lines) = match reuse {
            Some(b) => {
                let mut buf = b.text.into_bytes();
                buf.clear();
                let mut lines = b.lines;
                lines.clear();
                (buf, lines)
            }
            None => (Vec::with_capacity(2 * BLOCK), Vec::new()),
        };
        buf.extend_from_slice(&self.carry);
        self.carry.clear();
        let mut error = None;
        // Whether `buf[..scanned]` holds no newline.
        let mut scanned = 0;
        let mut has_newline = false;
        while !(self.eof || has_newline && buf.len() >= BLOCK) {
            let have = buf.len();
            // `read_to_end` fills spare capacity without zeroing it first.
            let n = match (&mut self.input).take(BLOCK as u64).read_to_end(&mut buf) {
                Ok(n) => n,
                Err(e) => {
                    buf.truncate(have);
                    error = Some(e);
                    self.eof = true;
                    break;
                }
            };
            if n == 0 {
                self.eof = true;
                break;
            }
            if self.skipping {
                match memchr::memchr(b'\n', &buf) {
                    Some(i) => {
                        buf.drain(..=i);
                        self.skipping = false;
                        scanned = 0;
                    }
                    None => {
                        buf.clear();
                        continue;
                    }
                }
            }
            if !has_newline {
                has_newline = memchr::memchr(b'\n', &buf[scanned..]).is_some();
                scanned = buf.len();
            }
            if !has_newline && buf.len() > MAX_LINE {
                // A line longer than a line may be: bad input; skip the rest of it.
                self.line += 1;
                let message = format!("the line is longer than {} MiB", MAX_LINE >> 20);
                lines.push((self.line, Parsed::Bad(message)));
                buf.clear();
                scanned = 0;
                self.skipping = true;
            }
        }
        // Keep whole lines; carry the start of the next one.
        let end = if self.eof {
            buf.len()
        } else {
            memchr::memrchr(b'\n', &buf).map_or(0, |i| i + 1)
        };
        self.carry.extend_from_slice(&buf[end..]);
        buf.truncate(end);
        if buf.is_empty() && lines.is_empty() && error.is_none() && self.eof {
            return None;
        }
        let (text, bad_utf8) = match String::from_utf8(buf) {
            Ok(t) => (t, Vec::new()),
            Err(e) => without_bad_utf8(e.into_bytes()),
        };
        self.parse(&text, &bad_utf8, &mut lines);
        Some(Block { text, lines, error })
    }

    fn parse(&mut self, text: &str, bad_utf8: &[usize], lines: &mut Vec<(u32, Parsed)>) {
        let base = text.as_ptr() as usize;
        let span = |s: &str| -> Span {
            let start = (s.as_ptr() as usize - base) as u32;
            start..start + s.len() as u32
        };
        let mut rest = text;
        let mut index = 0;
        while !rest.is_empty() {
            let (line, next) = match memchr::memchr(b'\n', rest.as_bytes()) {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, ""),
            };
            rest = next;
            self.line += 1;
            index += 1;
            if bad_utf8.binary_search(&(index - 1)).is_ok() {
                lines.push((self.line, Parsed::Bad("the line is not UTF-8".into())));
                continue;
            }
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.trim().is_empty() {
                continue;
            }
            let parsed = match parse_event_line(line) {
                Err(e) => Parsed::Bad(e.to_string()),
                Ok(EventLine {
                    key,
                    value: EventValue::Raw(raw),
                }) => Parsed::Raw(key, span(raw)),
                Ok(EventLine {
                    key,
                    value: EventValue::Message(view),
                }) => Parsed::Message(
                    key,
                    view.map(|v| {
                        [
                            v.api,
                            v.widget_id,
                            v.request_id,
                            v.action,
                            v.data,
                            v.response,
                        ]
                        .map(|f| f.map(span))
                    }),
                ),
            };
            lines.push((self.line, parsed));
        }
    }
}

/// The text of a block with every line that is not UTF-8 emptied, and the indexes of those lines.
fn without_bad_utf8(bytes: Vec<u8>) -> (String, Vec<usize>) {
    let mut out = String::with_capacity(bytes.len());
    let mut bad = Vec::new();
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        match std::str::from_utf8(line) {
            Ok(l) => out.push_str(l),
            Err(_) => bad.push(i),
        }
    }
    // A trailing newline leaves an empty last piece that is not a line.
    (out, bad)
}
