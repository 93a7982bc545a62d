//! What the command lines of the two adapter protocols share ([`crate::protocol`] for a client,
//! [`crate::widget_protocol`] for a widget): one JSON object with exactly one key, whose value
//! is read into the command's fields, and errors that say what is wrong without `serde_json`'s
//! position.

use capneg_wire::envelope::raw_is_object;
use serde::de::{Deserializer, IgnoredAny};
use serde::Deserialize;
use serde_json::value::RawValue;

/// Declares `Keys<'a>`, the keys of the protocol's command lines: each present (with any JSON
/// value) or absent; `serde` refuses unknown and repeated keys.
macro_rules! command_keys {
    ($($key:ident),+) => {
        /// The keys of a command line.
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Keys<'a> {
            $(
                #[serde(default, borrow, deserialize_with = "crate::command_line::some_raw")]
                $key: Option<&'a serde_json::value::RawValue>,
            )+
        }
    };
}

pub(crate) use command_keys;

/// A key of a command line: present (with any JSON value) or absent.
pub(crate) fn some_raw<'de, D: Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&'de RawValue>::deserialize(d).map(Some)
}

/// `serde_json`'s message without the position it ends with (a command is one line).
pub(crate) fn strip_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

/// Reads a command line with `parse`; the error in one line (a key or value it quotes has its
/// line breaks escaped).
pub(crate) fn in_one_line<'a, T>(
    line: &'a str,
    parse: impl FnOnce(&'a str) -> Result<T, String>,
) -> Result<T, String> {
    parse(line).map_err(|e| capneg_wire::lines::one_line(&e).into_owned())
}

/// Reads the keys of a command line into `K`, the protocol's keys (unknown and repeated keys
/// refused). `expected` says what a line that is not an object should have been.
pub(crate) fn read_keys<'a, K: Deserialize<'a>>(
    line: &'a str,
    expected: &str,
) -> Result<K, String> {
    // JSON beyond what capneg reads is refused as in every other line (docs/spec.md §5).
    capneg_wire::lines::check_json(line).map_err(|problem| problem.to_string())?;
    let not_json = || {
        serde_json::from_str::<IgnoredAny>(line)
            .err()
            .map(|e| format!("not JSON: {}", strip_position(&e)))
    };
    if !line.trim_start().starts_with('{') {
        return Err(not_json().unwrap_or_else(|| expected.to_owned()));
    }
    serde_json::from_str(line).map_err(|e| not_json().unwrap_or_else(|| strip_position(&e)))
}

/// The value of the command `key`, an object, read into its fields.
pub(crate) fn read_fields<'a, T: Deserialize<'a>>(
    key: &str,
    value: &'a RawValue,
) -> Result<T, String> {
    if !raw_is_object(value.get()) {
        return Err(format!("`{key}` must be an object"));
    }
    serde_json::from_str(value.get()).map_err(|e| format!("bad `{key}`: {}", strip_position(&e)))
}

/// The fields of a `start` command, whose widget id (`widget_id` of them) must not be empty.
pub(crate) fn read_start<'a, T: Deserialize<'a>>(
    value: &'a RawValue,
    widget_id: impl Fn(&T) -> &str,
) -> Result<T, String> {
    let start: T = read_fields("start", value)?;
    if widget_id(&start).is_empty() {
        return Err("bad `start`: `widgetId` is empty".to_owned());
    }
    Ok(start)
}

/// The error of a command line with more than one key.
pub(crate) const MORE_THAN_ONE_KEY: &str = "more than one key: a command holds exactly one";

#[cfg(test)]
pub(crate) mod tests {
    /// `parse` refuses each case's line with an error, in one line, that says the case's words.
    pub(crate) fn assert_refused(
        parse: impl Fn(&str) -> Result<(), String>,
        cases: &[(&str, &str)],
    ) {
        for (text, want) in cases {
            let err = parse(text).unwrap_err();
            assert!(err.contains(want), "{text}: {err}");
            assert!(!err.contains('\n'), "{text}: {err}");
        }
    }

    /// Lines that are not one command, and what either protocol's error says of them.
    const NOT_ONE_COMMAND: [(&str, &str); 5] = [
        ("{", "not JSON"),
        ("[1]", "expected a JSON object"),
        ("{}", "an empty object"),
        (r#"{"foo": 1}"#, "unknown field `foo`"),
        (r#"{"start": {}, "start": {}}"#, "duplicate"),
    ];

    /// What is not one command is refused alike by both protocols.
    #[test]
    fn both_protocols_refuse_what_is_not_one_command() {
        let parse = |l: &str| crate::protocol::parse_command(l).map(drop);
        assert_refused(parse, &NOT_ONE_COMMAND);
        let parse = |l: &str| crate::widget_protocol::parse_widget_command(l).map(drop);
        assert_refused(parse, &NOT_ONE_COMMAND);
    }
}
