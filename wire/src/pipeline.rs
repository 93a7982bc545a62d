//! Reading a trace on every core while the caller judges it.
//!
//! Readers take turns cutting the input into blocks of whole lines (one at a time, so blocks and
//! line numbers come in order), then each reads the lines of its block on its own with
//! [`read_event_line`]: the line's key, and a message all the way to its [`Reading`] (everything
//! the codec reads without the session's tables). The readers are a worker thread for each core
//! but one, and the caller itself whenever it has no block to judge: so every core stays busy
//! whichever of reading and judging is the slower. The caller gets the blocks back in order and
//! judges them; only the session's tables (request ids, capability numbers) are left to it.
//!
//! Capability names are numbered per block, in order of first appearance in it (the block's own
//! [`Interner`]). [`CapMap`] gives them their session numbers just before each line is judged,
//! in the same order, so the session numbers them exactly as one reader reading every line in
//! turn would.
//!
//! Lines are read as [`crate::lines::LineReader`] reads them, by the same checks
//! ([`crate::lines`]): numbered from 1, blank ones skipped, a line that is not UTF-8, longer than
//! [`MAX_LINE`] or (the first) starting with a byte order mark is bad input.
//!
//! Memory is bounded: at most `POOL` blocks exist at once; a judged block goes back to the
//! readers for reuse.

use crate::lines::{line_str, TextProblem, MAX_LINE};
use crate::read::{PreBody, PreData, Reading};
use crate::trace::{read_event_line, EventLine, Key, Line};
use capneg_reference::CapSets;
use capneg_reference::{CapSet, Interner};
use std::borrow::Cow;
use std::io::{self, Read};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// The size of a block: big enough to amortise the hand-over, small enough to keep memory flat.
const BLOCK: usize = 1 << 19;

/// The most blocks in memory at once (being cut, read, waiting, judged).
const POOL: usize = 5;

/// The most worker threads.
const MAX_WORKERS: usize = 4;

/// A string of a line: where it lies in the block's text, or, unescaped, in its side text.
#[derive(Clone, Copy, Debug)]
enum Str {
    Text(u32, u32),
    Side(u32, u32),
}

/// A line, read.
#[derive(Debug)]
enum Parsed {
    /// A `client` or `widget` message; `caps` is the number of the block's capability names
    /// known once it is read.
    Message {
        key: Key,
        reading: Reading<Str>,
        caps: u32,
    },
    /// A `prompt` or `decision` line's capabilities (or why it is not of its shape), with the
    /// same `caps`.
    Caps {
        key: Key,
        set: Result<CapSet, String>,
        caps: u32,
    },
    /// A `session` line: where its raw JSON lies in the text.
    Session(u32, u32),
    /// Bad input: what is wrong.
    Bad(String),
}

/// A block of lines and what a worker read of them.
#[derive(Debug)]
pub struct Block {
    /// Its place in the input (0 for the first block).
    seq: u64,
    text: String,
    /// Strings that were unescaped, one after the other.
    side: String,
    lines: Vec<(u32, Parsed)>,
    /// The capability names of the block's lines, numbered in the block.
    caps: Interner,
    /// A failure to read (not bad input) that ended the input.
    error: Option<io::Error>,
}

/// One line of a block, for the judge.
pub enum Item<'a> {
    /// A `client` or `widget` message. Its capability sets are numbered in the block: give them
    /// their session numbers with [`CapMap`], up to `caps`, before judging it.
    Message {
        /// The line.
        line: Line,
        /// `client` or `widget`.
        key: Key,
        /// The message.
        reading: Reading<&'a str>,
        /// The number of the block's capability names known once it is read.
        caps: u32,
    },
    /// A `prompt` or `decision` line: its capabilities, numbered in the block, or why it is not
    /// of its shape.
    Caps {
        /// The line.
        line: Line,
        /// `prompt` or `decision`.
        key: Key,
        /// The capabilities.
        set: Result<&'a CapSet, &'a str>,
        /// As for a message.
        caps: u32,
    },
    /// A `session` line: the line and its raw JSON.
    Session(Line, &'a str),
    /// Bad input at this line.
    Bad(Line, &'a str),
}

impl Item<'_> {
    /// The line.
    pub fn line(&self) -> Line {
        match self {
            Item::Message { line, .. } | Item::Caps { line, .. } => *line,
            Item::Session(line, _) | Item::Bad(line, _) => *line,
        }
    }

    /// The line's key (`None` for bad input).
    pub fn key(&self) -> Option<Key> {
        match self {
            Item::Message { key, .. } | Item::Caps { key, .. } => Some(*key),
            Item::Session(..) => Some(Key::Session),
            Item::Bad(..) => None,
        }
    }
}

impl Block {
    fn new() -> Block {
        Block {
            seq: 0,
            text: String::with_capacity(2 * BLOCK),
            side: String::new(),
            lines: Vec::new(),
            caps: Interner::new(),
            error: None,
        }
    }

    /// The lines, in order.
    pub fn items(&self) -> impl Iterator<Item = Item<'_>> {
        let (text, side) = (self.text.as_str(), self.side.as_str());
        let at = move |s: Str| match s {
            Str::Text(a, b) => text.get(a as usize..b as usize).unwrap_or(""),
            Str::Side(a, b) => side.get(a as usize..b as usize).unwrap_or(""),
        };
        self.lines.iter().map(move |(n, parsed)| {
            // Lines are counted from 1.
            let line = Line::new(*n).unwrap_or(Line::FIRST);
            match parsed {
                Parsed::Bad(message) => Item::Bad(line, message),
                Parsed::Session(a, b) => Item::Session(line, at(Str::Text(*a, *b))),
                Parsed::Caps { key, set, caps } => Item::Caps {
                    line,
                    key: *key,
                    set: set.as_ref().map_err(String::as_str),
                    caps: *caps,
                },
                Parsed::Message { key, reading, caps } => Item::Message {
                    line,
                    key: *key,
                    reading: reading.clone().map(at),
                    caps: *caps,
                },
            }
        })
    }

    /// The block's capability names, numbered in the block.
    pub fn caps(&self) -> &Interner {
        &self.caps
    }

    /// The read failure that ended the input, if any.
    pub fn take_error(&mut self) -> Option<io::Error> {
        self.error.take()
    }

    /// Reads `bytes` (whole lines, the first numbered `first`), appending their lines after the
    /// bad lines already found.
    fn read(&mut self, bytes: Vec<u8>, first: u32) {
        // The pieces between line feeds are the lines, but for the empty piece after a last
        // line feed: a last line without one is a line, also where it was emptied as bad.
        let pieces = memchr::memchr_iter(b'\n', &bytes).count()
            + usize::from(bytes.last().is_some_and(|&b| b != b'\n'));
        let bad_utf8 = match String::from_utf8(bytes) {
            Ok(text) => {
                self.text = text;
                Vec::new()
            }
            Err(e) => {
                let (text, bad) = without_bad_utf8(e.into_bytes());
                self.text = text;
                bad
            }
        };
        let text = self.text.as_str();
        let base = text.as_ptr() as usize;
        let side = &mut self.side;
        let mut keep = |s: Cow<'_, str>| -> Str {
            match s {
                Cow::Borrowed(b) => {
                    let start = (b.as_ptr() as usize - base) as u32;
                    Str::Text(start, start + b.len() as u32)
                }
                Cow::Owned(o) => {
                    let start = side.len() as u32;
                    side.push_str(&o);
                    Str::Side(start, side.len() as u32)
                }
            }
        };
        let mut rest = text;
        for index in 0..pieces {
            let (this, next) = match memchr::memchr(b'\n', rest.as_bytes()) {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, ""),
            };
            rest = next;
            let n = first + index as u32;
            if bad_utf8.binary_search(&index).is_ok() {
                let problem = TextProblem::NotUtf8.to_string();
                self.lines.push((n, Parsed::Bad(problem)));
                continue;
            }
            let this = match line_str(n as usize, this) {
                Ok(Some(text)) => text,
                Ok(None) => continue,
                Err(problem) => {
                    self.lines.push((n, Parsed::Bad(problem.to_string())));
                    continue;
                }
            };
            let parsed = match read_event_line(this, &mut self.caps) {
                Err(e) => Parsed::Bad(e.to_string()),
                Ok((key, EventLine::Message(reading))) => Parsed::Message {
                    key,
                    reading: (*reading).map(&mut keep),
                    caps: self.caps.len() as u32,
                },
                Ok((key, EventLine::Caps(set))) => Parsed::Caps {
                    key,
                    set: set.map_err(|e| e.to_string()),
                    caps: self.caps.len() as u32,
                },
                Ok((_, EventLine::Session(raw))) => match keep(Cow::Borrowed(raw)) {
                    Str::Text(a, b) | Str::Side(a, b) => Parsed::Session(a, b),
                },
            };
            self.lines.push((n, parsed));
        }
    }
}

/// Gives the capability names of a block their numbers in the session, in the order the block
/// numbers them: the order of first appearance, as a single reader would have met them.
#[derive(Debug, Default)]
pub struct CapMap {
    /// The session number of each of the block's names met so far.
    map: Vec<u32>,
}

impl CapMap {
    /// Starts a new block.
    pub fn clear(&mut self) {
        self.map.clear();
    }

    /// Interns in `session` the block's names numbered below `upto` not interned yet, in order.
    pub fn sync(&mut self, block: &Interner, upto: u32, session: &mut Interner) {
        for i in self.map.len() as u32..upto.min(block.len() as u32) {
            let name = block.name(capneg_reference::Cap(i));
            self.map.push(session.intern(name).0);
        }
    }

    /// A set of the block's capabilities, numbered in the session (call [`CapMap::sync`] first).
    pub fn set(&self, set: &CapSet) -> CapSet {
        set.permute(&self.map)
    }

    /// Renumbers, in the session, the capability sets of a message's body.
    pub fn body<S>(&self, body: &mut PreBody<S>) {
        match body {
            PreBody::Request(PreData::Data(data)) => relabel(data, &self.map),
            PreBody::Response(reply) => relabel(reply, &self.map),
            PreBody::Request(_) => {}
        }
    }
}

/// Renumbers every capability of `value` by `map`.
fn relabel(value: &mut impl CapSets, map: &[u32]) {
    value.each_set_mut(&mut |s| *s = s.permute(map));
}

/// The blocks of a trace, in order, read by the workers and, while it waits for one, by the
/// caller itself.
pub struct Blocks<'a> {
    blocks: Receiver<Block>,
    /// Blocks that came before their turn.
    early: Vec<Block>,
    next: u64,
    /// Judged blocks go back to the pool, for reuse.
    spent: SyncSender<Block>,
    pool: Arc<Pool>,
    /// The input, for reading a block here rather than waiting for one.
    cutter: Arc<Mutex<dyn Cut + Send + 'a>>,
    /// Whether the input has no block left to cut.
    cut_all: bool,
}

impl Blocks<'_> {
    /// The next block, or `None` at the end. Rather than wait for a worker, the caller reads
    /// the next block of the input itself where a block's memory is free: every core keeps busy
    /// whether reading or judging is the slower.
    pub fn next_block(&mut self) -> Option<Block> {
        loop {
            if let Some(i) = self.early.iter().position(|b| b.seq == self.next) {
                self.next += 1;
                return Some(self.early.swap_remove(i));
            }
            if let Ok(block) = self.blocks.try_recv() {
                self.early.push(block);
                continue;
            }
            if !self.cut_all {
                if let Some(block) = self.pool.take(false) {
                    match cut(&*self.cutter, block, &self.pool) {
                        Some((mut block, bytes, first)) => {
                            block.read(bytes, first);
                            self.early.push(block);
                            continue;
                        }
                        None => self.cut_all = true,
                    }
                }
            }
            let block = recv_soon(&self.blocks)?;
            self.early.push(block);
        }
    }

    /// Hands a judged block back for reuse.
    pub fn recycle(&mut self, block: Block) {
        let _ = self.spent.try_send(block);
    }
}

/// How long a thread waiting for a block keeps its core (yielding it to any other thread that
/// can run) before it sleeps: on a virtual machine a core left idle is slow to wake (see
/// docs/performance.md), and a block is seldom more than this away.
const KEEP_CORE: Duration = Duration::from_micros(200);

/// The next value of `rx`, waiting for it without giving up the core for [`KEEP_CORE`], then
/// sleeping; `None` once every sender is gone.
fn recv_soon<T>(rx: &Receiver<T>) -> Option<T> {
    let start = Instant::now();
    loop {
        match rx.try_recv() {
            Ok(v) => return Some(v),
            Err(TryRecvError::Disconnected) => return None,
            Err(TryRecvError::Empty) if start.elapsed() < KEEP_CORE => thread::yield_now(),
            Err(TryRecvError::Empty) => return rx.recv().ok(),
        }
    }
}

/// Starts reading `input` on threads of `scope`: a worker for each core but one, the caller's,
/// which reads too while it has nothing to judge. The workers stop when the input ends or the
/// [`Blocks`] are dropped.
pub fn spawn<'scope, R: Read + Send + 'scope>(
    scope: &'scope thread::Scope<'scope, '_>,
    input: R,
) -> Blocks<'scope> {
    let (tx, rx) = sync_channel(POOL);
    let (spent_tx, spent_rx) = sync_channel::<Block>(POOL);
    let pool = Arc::new(Pool {
        spent: Mutex::new(spent_rx),
        made: Mutex::new(0),
    });
    let cutter: Arc<Mutex<dyn Cut + Send + 'scope>> = Arc::new(Mutex::new(Cutter::new(input)));
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    for _ in 0..(cores - 1).clamp(1, MAX_WORKERS) {
        let (cutter, pool, tx) = (Arc::clone(&cutter), Arc::clone(&pool), tx.clone());
        scope.spawn(move || {
            while let Some(block) = pool.take(true) {
                let Some((mut block, bytes, first)) = cut(&*cutter, block, &pool) else {
                    break;
                };
                block.read(bytes, first);
                if tx.send(block).is_err() {
                    break;
                }
            }
        });
    }
    Blocks {
        blocks: rx,
        early: Vec::new(),
        next: 0,
        spent: spent_tx,
        pool,
        cutter,
        cut_all: false,
    }
}

/// Cuts the next block into `block`: the block, its bytes and the number of their first line;
/// `None` at the end of the input (the block is given up).
fn cut(
    cutter: &Mutex<dyn Cut + Send + '_>,
    block: Block,
    pool: &Pool,
) -> Option<(Block, Vec<u8>, u32)> {
    let cut = match cutter.lock() {
        Ok(mut c) => c.cut(block),
        Err(_) => None,
    };
    if cut.is_none() {
        pool.give_up();
    }
    cut
}

/// The memory of the blocks: at most [`POOL`] exist at once.
struct Pool {
    /// Blocks judged, for reuse.
    spent: Mutex<Receiver<Block>>,
    made: Mutex<usize>,
}

impl Pool {
    /// A block to fill: a spent one, a new one while fewer than [`POOL`] exist, or (`wait`)
    /// the next one spent. `None` if none is free without waiting, or once the judge is gone.
    /// A worker waits holding only this lock, and the caller, which recycles the blocks, never
    /// waits for it.
    fn take(&self, wait: bool) -> Option<Block> {
        let spent = if wait {
            self.spent.lock().ok()?
        } else {
            self.spent.try_lock().ok()?
        };
        if let Ok(b) = spent.try_recv() {
            return Some(b);
        }
        if let Ok(mut made) = self.made.lock() {
            if *made < POOL {
                *made += 1;
                return Some(Block::new());
            }
        }
        if wait {
            recv_soon(&spent)
        } else {
            None
        }
    }

    /// A block taken but not used (the input ended): it no longer counts.
    fn give_up(&self) {
        if let Ok(mut made) = self.made.lock() {
            *made = made.saturating_sub(1);
        }
    }
}

/// The input, cut into blocks: what the caller and the workers share.
trait Cut {
    /// Cuts the next block into `block` (see [`cut`]).
    fn cut(&mut self, block: Block) -> Option<(Block, Vec<u8>, u32)>;
}

impl<R: Read> Cut for Cutter<R> {
    fn cut(&mut self, block: Block) -> Option<(Block, Vec<u8>, u32)> {
        self.cut_block(block)
    }
}

/// Cuts the input into blocks of whole lines, in order.
struct Cutter<R> {
    input: R,
    /// Bytes read but not yet in a block (the start of a line).
    carry: Vec<u8>,
    /// The number of the last line in a block.
    line: u32,
    eof: bool,
    /// Skipping the rest of a line too long to keep.
    skipping: bool,
    seq: u64,
}

impl<R: Read> Cutter<R> {
    fn new(input: R) -> Self {
        Cutter {
            input,
            carry: Vec::new(),
            line: 0,
            eof: false,
            skipping: false,
            seq: 0,
        }
    }

    /// Cuts the next block into `block` (see [`cut`]).
    fn cut_block(&mut self, mut block: Block) -> Option<(Block, Vec<u8>, u32)> {
        if self.eof && self.carry.is_empty() {
            return None;
        }
        block.seq = self.seq;
        block.side.clear();
        block.lines.clear();
        block.caps.clear();
        block.error = None;
        let mut buf = std::mem::take(&mut block.text).into_bytes();
        buf.clear();
        buf.extend_from_slice(&self.carry);
        self.carry.clear();
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
                    block.error = Some(e);
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
                let message = TextProblem::TooLong.to_string();
                block.lines.push((self.line, Parsed::Bad(message)));
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
        if buf.is_empty() && block.lines.is_empty() && block.error.is_none() {
            // Nothing after all.
            return None;
        }
        let first = self.line + 1;
        let newlines = memchr::memchr_iter(b'\n', &buf).count();
        let unterminated = buf.last().is_some_and(|&b| b != b'\n');
        self.line += (newlines + usize::from(unterminated)) as u32;
        self.seq += 1;
        Some((block, buf, first))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::PreBody;

    /// Lines naming capabilities from a pool that grows as the trace goes on, in an order no
    /// sorting would give: a `prompt`, then a widget request, in turn.
    fn lines(n: usize) -> Vec<String> {
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move |bound: usize| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) as usize % bound
        };
        (0..n)
            .map(|i| {
                let pool = 3 + i / 40;
                let names: Vec<String> = (0..1 + next(4))
                    .map(|_| format!("\"org.example.c{}\"", next(pool)))
                    .collect();
                let list = names.join(",");
                if i % 2 == 0 {
                    format!(r#"{{"prompt":{{"capabilities":[{list}]}}}}"#)
                } else {
                    format!(
                        r#"{{"widget":{{"api":"fromWidget","widgetId":"w","requestId":"r{i}","action":"org.matrix.msc2974.request_capabilities","data":{{"capabilities":[{list}]}}}}}}"#
                    )
                }
            })
            .collect()
    }

    /// The names of a message's or a prompt's set, in the order of their numbers.
    fn names(caps: &Interner, set: &CapSet) -> Vec<String> {
        caps.names(set).map(str::to_owned).collect()
    }

    fn body_set<S>(body: &PreBody<S>) -> &CapSet {
        match body {
            PreBody::Request(PreData::Data(capneg_reference::Data::Capabilities(set))) => set,
            _ => panic!("a request_capabilities"),
        }
    }

    #[test]
    fn blocks_number_capabilities_as_one_reader_in_turn_would() {
        let lines = lines(24_000);
        let text = lines.join("\n");
        assert!(text.len() > POOL * BLOCK, "reuses blocks: {}", text.len());

        // One reader, every line in turn.
        let mut one = Interner::new();
        let mut want = Vec::new();
        for line in &lines {
            match read_event_line(line, &mut one).unwrap() {
                (_, EventLine::Caps(Ok(set))) => want.push(names(&one, &set)),
                (_, EventLine::Message(reading)) => match *reading {
                    Reading::Envelope { msg: Ok(m), .. } => {
                        want.push(names(&one, body_set(&m.body)))
                    }
                    other => panic!("{other:?}"),
                },
                other => panic!("{other:?}"),
            }
        }

        // The blocks, renumbered by a CapMap.
        let mut session = Interner::new();
        let mut got = Vec::new();
        let mut numbers = Vec::new();
        thread::scope(|scope| {
            let mut blocks = spawn(scope, text.as_bytes());
            let mut map = CapMap::default();
            while let Some(block) = blocks.next_block() {
                map.clear();
                for item in block.items() {
                    match item {
                        Item::Caps {
                            line,
                            set: Ok(set),
                            caps,
                            ..
                        } => {
                            map.sync(block.caps(), caps, &mut session);
                            got.push(names(&session, &map.set(set)));
                            numbers.push(line);
                        }
                        Item::Message {
                            line,
                            reading: Reading::Envelope { msg: Ok(mut m), .. },
                            caps,
                            ..
                        } => {
                            map.sync(block.caps(), caps, &mut session);
                            map.body(&mut m.body);
                            got.push(names(&session, body_set(&m.body)));
                            numbers.push(line);
                        }
                        _ => panic!("every line reads"),
                    }
                }
                blocks.recycle(block);
            }
        });
        let expected: Vec<Line> = (1..=lines.len() as u32).filter_map(Line::new).collect();
        assert_eq!(numbers, expected);
        assert_eq!(got, want);
        let order = |c: &Interner| -> Vec<String> {
            (0..c.len() as u32)
                .map(|i| c.name(capneg_reference::Cap(i)).to_owned())
                .collect()
        };
        assert_eq!(order(&session), order(&one));
        assert!(session.len() > 300, "{}", session.len());
    }
}
