//! The checks of the fuzz targets (`fuzz/`, docs/reliability.md), shared with their regression
//! tests (`properties/tests/fuzz_regressions.rs`): a fuzz target is `check(bytes)` and a panic
//! on `Err`, and every input that ever failed a check is replayed through the same function by
//! `cargo test`.
//!
//! Each check takes the fuzz input as it is, so that a regression file is the exact input the
//! fuzzer found. `Ok(())` means every check held; `Err` says which did not, in words. A panic
//! of the code under test is a failure too (the fuzzer reports it; the regression test catches
//! it and names the file).
//!
//! - [`validate`]: `capneg validate` on any bytes, whole and in pieces.
//! - [`run`]: `capneg run` on any bytes as a script, and its trace validated.
//! - [`adapter`]: the reference's side of the adapter protocol on any command lines.
//! - [`drive_lines`]: the driver's reading of an adapter's output.
//! - [`capability`]: capability strings, parsed, printed and matched.

mod adapter_check;
mod capability_check;
mod drive_lines_check;
mod run_check;
mod validate_check;

pub use adapter_check::check as adapter;
pub use capability_check::check as capability;
pub use drive_lines_check::check as drive_lines;
pub use run_check::check as run;
pub use validate_check::check as validate;

use std::io::{self, Read};

/// A check: the fuzz input, and whether every property held.
pub type Check = fn(&[u8]) -> Result<(), String>;

/// The fuzz targets, by name (the names of `fuzz/fuzz_targets/*.rs` and of the folders of
/// `fuzz/seeds/` and `fuzz/regressions/`), with their checks.
pub const TARGETS: [(&str, Check); 5] = [
    ("validate", validate),
    ("run", run),
    ("adapter", adapter),
    ("drive_lines", drive_lines),
    ("capability", capability),
];

/// The check of the target `name`.
pub fn check_of(name: &str) -> Option<Check> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
}

/// `Err` unless `text`, which says `what`, is one non-empty line.
fn one_line(what: &str, text: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        return Err(format!("{what} is empty"));
    }
    if text.contains(['\n', '\r']) {
        return Err(format!("{what} is more than one line: {text:?}"));
    }
    Ok(())
}

/// The number of physical lines of `data`: the pieces between line feeds, a last line without
/// one included.
fn physical_lines(data: &[u8]) -> usize {
    let feeds = data.iter().filter(|&&b| b == b'\n').count();
    feeds + usize::from(data.last().is_some_and(|&b| b != b'\n'))
}

/// A hash of the input (FNV-1a): the seed of what a check derives from it besides its bytes.
fn seed_of(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A small deterministic generator (SplitMix64).
#[derive(Clone, Debug)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (`bound` at least 1).
    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound.max(1) as u64) as usize
    }
}

/// A reader that gives its bytes in pieces of random sizes, now and then failing with
/// [`io::ErrorKind::Interrupted`] (which a reader must retry): the same bytes as a slice gives,
/// cut differently.
#[derive(Debug)]
struct Pieces<'a> {
    data: &'a [u8],
    rng: Rng,
}

impl<'a> Pieces<'a> {
    fn new(data: &'a [u8], seed: u64) -> Self {
        Pieces {
            data,
            rng: Rng(seed),
        }
    }
}

impl Read for Pieces<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.data.is_empty() || buf.is_empty() {
            return Ok(0);
        }
        let pick = self.rng.next();
        if pick % 16 == 0 {
            return Err(io::Error::new(io::ErrorKind::Interrupted, "interrupted"));
        }
        let most = if pick % 2 == 0 { 16 } else { 1 << 16 };
        let n = (1 + self.rng.below(most))
            .min(buf.len())
            .min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_give_the_same_bytes() {
        let data: Vec<u8> = (0..=255u8).cycle().take(300_000).collect();
        for seed in 0..8 {
            let mut got = Vec::new();
            let mut r = Pieces::new(&data, seed);
            loop {
                let mut buf = [0u8; 100_000];
                match r.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => panic!("{e}"),
                }
            }
            assert_eq!(got, data);
        }
    }

    #[test]
    fn lines_are_counted_as_readers_count_them() {
        assert_eq!(physical_lines(b""), 0);
        assert_eq!(physical_lines(b"a"), 1);
        assert_eq!(physical_lines(b"a\n"), 1);
        assert_eq!(physical_lines(b"a\n\nb"), 3);
    }

    #[test]
    fn every_target_has_a_check() {
        for (name, _) in TARGETS {
            assert!(check_of(name).is_some(), "{name}");
        }
        assert!(check_of("nothing").is_none());
    }
}
