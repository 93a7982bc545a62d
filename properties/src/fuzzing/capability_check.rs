//! `capability`: capability strings ([`Capability::parse`]) on any text.
//!
//! The input, read as UTF-8 (invalid bytes replaced), is a capability string, then optionally,
//! after NUL characters, an event type, a state key and a msgtype for a `send_event`. Checked:
//!
//! - parsing the whole text, and the string before the first NUL, never panics and prints back
//!   exactly the string; the value parsed is canonical;
//! - [`Capability::permits`] never panics, and agrees with docs/spec.md §2.2 read directly from
//!   the string: `m.always_on_screen` permits `set_always_on_screen`; `m.send.event:T` (or
//!   `org.matrix.msc2762.send.event:T`) permits a `send_event` of type `T` without state key,
//!   where for `m.room.message` a `#M` suffix restricts the msgtype to `M` and no other event
//!   type reads a `#` (so a string `...:m.room.message#...` names `m.room.message`);
//!   `m.send.state_event:T` (or the unstable spelling) permits a `send_event` of type `T` with
//!   any state key, and `...:T#K` with state key `K`, the state key following the first `#` that
//!   is not escaped (`\#` is a `#` of the event type).
//!
//! The `send_event`s tried are those of the input, and some derived from the string, so that
//! the strings that permit are met often.

use capneg_reference::capability::Capability;
use capneg_reference::gate::Gated;

const EVENT_HEADS: [&str; 2] = ["m.send.event:", "org.matrix.msc2762.send.event:"];
const STATE_HEADS: [&str; 2] = [
    "m.send.state_event:",
    "org.matrix.msc2762.send.state_event:",
];
const ROOM_MESSAGE: &str = "m.room.message";

/// Checks every property of one input (module docs).
pub fn check(data: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(data);
    prints_back(&text)?;
    let mut parts = text.split('\0');
    let s = parts.next().unwrap_or_default();
    let cap = prints_back(s)?;
    let _ = (cap.prefix(), format!("{cap:?}"));

    // The send_events tried: (event type, state key, msgtype).
    let given: Vec<&str> = parts.collect();
    let mut tried: Vec<(String, Option<String>, Option<String>)> = Vec::new();
    if let Some(t) = given.first() {
        tried.push((
            t.to_string(),
            given.get(1).map(|k| k.to_string()),
            given.get(2).map(|m| m.to_string()),
        ));
        tried.push((t.to_string(), None, given.get(1).map(|m| m.to_string())));
    }
    for head in EVENT_HEADS {
        if let Some(rest) = s.strip_prefix(head) {
            let msgtype = rest.split_once('#').map(|(_, m)| m.to_owned());
            tried.push((rest.to_owned(), None, None));
            tried.push((ROOM_MESSAGE.to_owned(), None, msgtype.clone()));
            tried.push((ROOM_MESSAGE.to_owned(), None, None));
            tried.push((rest.to_owned(), Some(String::new()), msgtype));
        }
    }
    for head in STATE_HEADS {
        if let Some(rest) = s.strip_prefix(head) {
            let (t, k) = split_state(rest);
            tried.push((t.clone(), k.clone(), None));
            tried.push((t.clone(), None, k.clone()));
            tried.push((t.clone(), Some(format!("{}x", k.unwrap_or_default())), None));
            tried.push((rest.to_owned(), Some(String::new()), None));
        }
    }
    let mut gated = vec![Gated::AlwaysOnScreen];
    gated.extend(tried.iter().map(|(t, k, m)| Gated::SendEvent {
        event_type: t,
        state_key: k.as_deref(),
        msgtype: m.as_deref(),
    }));
    for g in &gated {
        let got = cap.permits(g);
        let want = spec_permits(s, g);
        if got != want {
            return Err(format!(
                "{s:?} {} {g:?}, but docs/spec.md §2.2 says it {}",
                if got { "permits" } else { "does not permit" },
                if want { "does" } else { "does not" }
            ));
        }
    }
    Ok(())
}

/// Parses `s`; it must print back as `s` and be canonical.
fn prints_back(s: &str) -> Result<Capability, String> {
    let cap = Capability::parse(s);
    let printed = cap.to_string();
    if printed != s {
        return Err(format!(
            "{s:?} parses to {cap:?}, which prints as {printed:?}"
        ));
    }
    if !cap.is_canonical() {
        return Err(format!("{s:?} parses to {cap:?}, which is not canonical"));
    }
    Ok(cap)
}

/// The event type and state key of the part of a state capability after its head: the state
/// key follows the first `#` not preceded by a backslash; a backslash before a `#` escapes it.
fn split_state(rest: &str) -> (String, Option<String>) {
    let mut event_type = String::new();
    let mut chars = rest.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' if chars.peek().is_some_and(|&(_, n)| n == '#') => {
                event_type.push('#');
                chars.next();
            }
            '#' => return (event_type, Some(rest[i + 1..].to_owned())),
            c => event_type.push(c),
        }
    }
    (event_type, None)
}

/// Whether capability string `s` permits `gated`, by docs/spec.md §2.2.
fn spec_permits(s: &str, gated: &Gated<'_>) -> bool {
    match *gated {
        Gated::AlwaysOnScreen => s == "m.always_on_screen",
        Gated::SendEvent {
            event_type,
            state_key: None,
            msgtype,
        } => EVENT_HEADS.iter().any(|head| {
            let Some(rest) = s.strip_prefix(head) else {
                return false;
            };
            if event_type == ROOM_MESSAGE {
                rest == ROOM_MESSAGE
                    || msgtype.is_some_and(|m| rest.strip_prefix("m.room.message#") == Some(m))
            } else {
                rest == event_type && !rest.starts_with("m.room.message#")
            }
        }),
        Gated::SendEvent {
            event_type,
            state_key: Some(key),
            ..
        } => STATE_HEADS.iter().any(|head| {
            let Some(rest) = s.strip_prefix(head) else {
                return false;
            };
            let (t, k) = split_state(rest);
            t == event_type && k.is_none_or(|k| k == key)
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_strings_split_at_the_first_unescaped_hash() {
        let cases = [
            ("a", ("a", None)),
            ("a#b", ("a", Some("b"))),
            ("a\\#b", ("a#b", None)),
            ("a\\#b#c#d", ("a#b", Some("c#d"))),
            ("a\\\\#b", ("a\\#b", None)),
            ("\\\\##", ("\\#", Some(""))),
            ("a\\", ("a\\", None)),
        ];
        for (rest, (t, k)) in cases {
            assert_eq!(
                split_state(rest),
                (t.to_owned(), k.map(str::to_owned)),
                "{rest}"
            );
        }
    }

    #[test]
    fn the_spec_reading_permits_as_documented() {
        let send = |t, k, m| Gated::SendEvent {
            event_type: t,
            state_key: k,
            msgtype: m,
        };
        assert!(spec_permits("m.always_on_screen", &Gated::AlwaysOnScreen));
        assert!(spec_permits(
            "m.send.event:m.room.message#m.text",
            &send("m.room.message", None, Some("m.text"))
        ));
        assert!(!spec_permits(
            "m.send.event:m.room.message#m.text",
            &send("m.room.message", None, Some("m.notice"))
        ));
        assert!(spec_permits(
            "org.matrix.msc2762.send.state_event:m.room.topic#",
            &send("m.room.topic", Some(""), None)
        ));
        assert!(!spec_permits(
            "m.send.state_event:m.room.topic",
            &send("m.room.topic", None, None)
        ));
        for input in [
            "m.send.event:m.room.message#m.text\0m.room.message\0\0m.text",
            "m.send.state_event:a\\#b#c",
            "m.send.event:m.reaction#x",
            "",
        ] {
            check(input.as_bytes()).unwrap();
        }
    }
}
