//! The trace format (docs/spec.md §5) and the script format (docs/spec.md §6): JSON Lines, one object with
//! exactly one key per line.
//!
//! [`parse_line`] reads one line without building a JSON tree: the value of the key is kept as
//! raw JSON for the caller to read with a [`crate::Codec`]. [`read_event_line`] reads a line for
//! judging in one pass, a message all the way to its [`Reading`] (with the fast scanner of
//! [`crate::scan`] where it reads the line, `serde_json` otherwise). [`LineReader`] streams a
//! file line by line with one reused buffer, so memory stays flat in the length of a trace.

use crate::read::{read_raw, MessageSeed, OnlyCapsSeed, Poster, Reading};
use capneg_reference::caps::{CapSet, Interner};
use capneg_reference::{DeclinedPolicy, Settings};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;
use std::num::NonZeroU32;

/// A line of a trace (counting from 1: line 1 is the first line, the `session` line if any).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Line(pub NonZeroU32);

impl Line {
    /// The first line.
    pub const FIRST: Line = Line(NonZeroU32::MIN);

    /// Line `n`, for `n` at least 1.
    pub fn new(n: u32) -> Option<Line> {
        NonZeroU32::new(n).map(Line)
    }

    /// The line's number.
    pub const fn get(self) -> u32 {
        self.0.get()
    }

    /// The line after this one.
    pub fn next(self) -> Line {
        Line(self.0.saturating_add(1))
    }
}

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Whether a trace records the client's prompts and the user's decisions (docs/spec.md §5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Prompts {
    /// Every prompt and decision is in the trace.
    Recorded,
    /// Wire only: prompts and decisions are to be inferred.
    Hidden,
}

/// The `session` line: the widget and the settings of the session the trace records, and
/// whether its prompts are recorded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionLine {
    /// The widget's id; absent: taken from the first message.
    pub widget_id: Option<String>,
    /// Whether prompts are recorded; absent: recorded if any prompt or decision line is present.
    pub prompts: Option<Prompts>,
    /// The session's settings.
    pub settings: Settings<Vec<String>>,
}

impl SessionLine {
    /// Reads the value of a `session` line from its raw JSON text.
    pub fn from_raw(text: &str) -> Result<SessionLine, LineError> {
        typed_value::<SessionFields>(Key::Session, text).map(SessionFields::into_line)
    }

    /// The line of a session of `widget_id` with `settings`, prompts recorded.
    pub fn recorded(widget_id: &str, settings: &Settings<Vec<String>>) -> SessionLine {
        SessionLine {
            widget_id: Some(widget_id.to_owned()),
            prompts: Some(Prompts::Recorded),
            settings: settings.clone(),
        }
    }
}

impl Serialize for SessionLine {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let settings = &self.settings;
        SessionFields {
            widget_id: self.widget_id.clone(),
            prompts: self.prompts,
            auto_approve: settings.auto_approve.clone(),
            rate_limit: settings.rate_limit,
            wait_for_content_loaded: settings.wait_for_content_loaded,
            declined: (settings.declined != DeclinedPolicy::default()).then_some(settings.declined),
        }
        .serialize(s)
    }
}

/// The fields of a `session` line as written.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SessionFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    widget_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    prompts: Option<Prompts>,
    #[serde(default)]
    auto_approve: Vec<String>,
    #[serde(default)]
    rate_limit: bool,
    #[serde(default)]
    wait_for_content_loaded: bool,
    /// An extension of the `session` line: the client's policy for a capability the user
    /// declined before (`"prompt"` or `"deny"`), where the profile leaves it to the client.
    /// Absent: `prompt`.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "declined")]
    declined: Option<DeclinedPolicy>,
}

impl SessionFields {
    fn into_line(self) -> SessionLine {
        SessionLine {
            widget_id: self.widget_id,
            prompts: self.prompts,
            settings: Settings {
                auto_approve: self.auto_approve,
                rate_limit: self.rate_limit,
                wait_for_content_loaded: self.wait_for_content_loaded,
                declined: self.declined.unwrap_or_default(),
            },
        }
    }
}

/// `declined` as written: `"prompt"` or `"deny"`.
mod declined {
    use capneg_reference::DeclinedPolicy;
    use serde::de::{self, Deserialize, Deserializer};
    use serde::Serializer;

    pub fn serialize<S: Serializer>(d: &Option<DeclinedPolicy>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(d.as_str()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<DeclinedPolicy>, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        DeclinedPolicy::parse(&s).map(Some).ok_or_else(|| {
            de::Error::invalid_value(de::Unexpected::Str(&s), &"\"prompt\" or \"deny\"")
        })
    }
}

/// Declares the value of a line that holds one list of capability names, under one field.
macro_rules! list_line {
    ($(#[$doc:meta])* $name:ident { $(#[$field_doc:meta])* $field:ident }) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $(#[$field_doc])*
            pub $field: Vec<String>,
        }
    };
}

list_line!(
    /// A `prompt` line's value.
    PromptLine {
        /// The capabilities the client asked the user about.
        capabilities
    }
);

list_line!(
    /// A `decision` line's value.
    DecisionLine {
        /// The capabilities the user approved.
        approved
    }
);

list_line!(
    /// A `view` line's value: the widget's own belief, at this point, of the capabilities it
    /// holds (docs/spec.md §9.1).
    ViewLine {
        /// The capabilities the widget believes approved.
        approved
    }
);

list_line!(
    /// An `app` line's value: the widget's application asked its library for more capabilities
    /// (MSC2974, docs/spec.md §9.1).
    AppLine {
        /// The capabilities asked for.
        request
    }
);

/// The key of a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    /// `session`.
    Session,
    /// `client`.
    Client,
    /// `widget`.
    Widget,
    /// `prompt`.
    Prompt,
    /// `decision`.
    Decision,
    /// `view` (docs/spec.md §9.1).
    View,
    /// `app` (docs/spec.md §9.1).
    App,
}

impl Key {
    /// The key as written.
    pub const fn as_str(self) -> &'static str {
        match self {
            Key::Session => "session",
            Key::Client => "client",
            Key::Widget => "widget",
            Key::Prompt => "prompt",
            Key::Decision => "decision",
            Key::View => "view",
            Key::App => "app",
        }
    }

    /// The one field of a line whose value is a list of capabilities: `prompt`, `decision`,
    /// `view` and `app` lines.
    pub const fn caps_field(self) -> Option<&'static str> {
        match self {
            Key::Prompt => Some("capabilities"),
            Key::Decision | Key::View => Some("approved"),
            Key::App => Some("request"),
            Key::Session | Key::Client | Key::Widget => None,
        }
    }

    /// Who posted the message of a `client` or `widget` line.
    pub const fn poster(self) -> Option<Poster> {
        match self {
            Key::Client => Some(Poster::Client),
            Key::Widget => Some(Poster::Widget),
            _ => None,
        }
    }

    fn parse(s: &str) -> Option<Key> {
        Some(match s {
            "session" => Key::Session,
            "client" => Key::Client,
            "widget" => Key::Widget,
            "prompt" => Key::Prompt,
            "decision" => Key::Decision,
            "view" => Key::View,
            "app" => Key::App,
            _ => return None,
        })
    }
}

/// One line: its key and the raw JSON of its value.
#[derive(Clone, Copy, Debug)]
pub struct ParsedLine<'a> {
    /// The key.
    pub key: Key,
    /// The value, unparsed.
    pub value: &'a RawValue,
}

impl<'a> ParsedLine<'a> {
    /// Reads the value of a `session` line.
    pub fn session(&self) -> Result<SessionLine, LineError> {
        SessionLine::from_raw(self.value.get())
    }

    /// Reads the value of a `prompt` line.
    pub fn prompt(&self) -> Result<PromptLine, LineError> {
        self.typed()
    }

    /// Reads the value of a `decision` line.
    pub fn decision(&self) -> Result<DecisionLine, LineError> {
        self.typed()
    }

    /// Reads the value of a `view` line.
    pub fn view(&self) -> Result<ViewLine, LineError> {
        self.typed()
    }

    /// Reads the value of an `app` line.
    pub fn app(&self) -> Result<AppLine, LineError> {
        self.typed()
    }

    /// Reads the capability list of a `prompt`, `decision`, `view` or `app` line (its
    /// [`Key::caps_field`]), as the typed readers do.
    pub fn caps(&self) -> Result<Vec<String>, LineError> {
        caps_list(self.key, self.value.get())
    }

    fn typed<T: Deserialize<'a>>(&self) -> Result<T, LineError> {
        typed_value(self.key, self.value.get())
    }
}

/// Reads the value of a `session`, `prompt`, `decision`, `view` or `app` line.
fn typed_value<'a, T: Deserialize<'a>>(key: Key, text: &'a str) -> Result<T, LineError> {
    // Serde would also read a list positionally into a struct: only objects are values.
    if !crate::envelope::raw_is_object(text) {
        return Err(LineError::Value(key, "expected an object".into()));
    }
    serde_json::from_str(text).map_err(|e| LineError::Value(key, strip_position(&e.to_string())))
}

/// Why a line is not a trace line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LineError {
    /// Not JSON at all.
    NotJson(String),
    /// JSON, but not an object with exactly one of the seven keys.
    Shape(String),
    /// The value of the key is not of its shape.
    Value(Key, String),
    /// JSON beyond what capneg reads (docs/spec.md §5): too deep, or not Unicode text.
    Json(JsonProblem),
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A key or value quoted in the message may hold a line break: one line, always.
        match self {
            LineError::NotJson(e) => write!(f, "not JSON: {}", one_line(e)),
            LineError::Shape(e) => f.write_str(&one_line(e)),
            LineError::Value(key, e) => write!(f, "bad `{}` line: {}", key.as_str(), one_line(e)),
            LineError::Json(problem) => problem.fmt(f),
        }
    }
}

impl std::error::Error for LineError {}

fn strip_position(e: &str) -> String {
    match e.rfind(" at line ") {
        Some(i) => e[..i].to_owned(),
        None => e.to_owned(),
    }
}

const KEYS: &str = "session, client, widget, prompt, decision, view or app";

/// A line read for judging (see [`read_event_line`]).
#[derive(Clone, Debug)]
pub enum EventLine<'a> {
    /// A `client` or `widget` message, read by [`crate::read`] in the same pass as the line
    /// (boxed: it is large, and moves through every layer of the reading).
    Message(Box<Reading<Cow<'a, str>>>),
    /// A `prompt` (its `capabilities`), `decision` or `view` (their `approved`) or `app` (its
    /// `request`) line: the capabilities, interned, or why the value is not of its shape.
    Caps(Result<CapSet, LineError>),
    /// A `session` line: the text of its raw JSON.
    Session(&'a str),
}

/// A line as the visitor reads it.
enum Parsed<'a> {
    Message(Box<Reading<Cow<'a, str>>>),
    /// A capability line's set; `None` where its value is not of its shape.
    Caps(Option<CapSet>),
    Raw(&'a RawValue),
}

/// What the line visitor does with a message.
enum Messages<'c> {
    /// Keeps it raw.
    Raw,
    /// Reads it, interning capability names in the interner.
    Read(&'c mut Interner),
}

/// Why the message of a `client` or `widget` line is bad input, in the words every reader uses:
/// not a JSON object (or one that repeats an envelope field); for a widget message, where the
/// widget is not judged, an object that is not a well-formed envelope. A malformed client
/// message is not bad input but the client's fault (rule `well-formed-message`), and where the
/// widget is judged a malformed widget message is the widget's (`widget-well-formed-message`,
/// docs/spec.md §9.4): use [`message_problem_judged`] there.
pub fn message_problem<S>(key: Key, reading: &Reading<S>) -> Option<String> {
    match reading {
        Reading::NotAnEnvelope => Some(format!(
            "the `{}` message is not a JSON object (or repeats an envelope field)",
            key.as_str()
        )),
        Reading::Envelope {
            msg: Err(fault), ..
        } if key == Key::Widget => Some(format!("malformed widget envelope: {fault}")),
        Reading::Envelope { .. } => None,
    }
}

/// [`message_problem`], where the widget's messages are judged too (`judge_widget`): then only
/// a message that is not a JSON object is bad input.
pub fn message_problem_judged<S>(
    key: Key,
    reading: &Reading<S>,
    judge_widget: bool,
) -> Option<String> {
    match reading {
        Reading::Envelope { .. } if judge_widget => None,
        _ => message_problem(key, reading),
    }
}

/// Parses one non-blank line.
pub fn parse_line(text: &str) -> Result<ParsedLine<'_>, LineError> {
    let (key, value) = parse_with(text, Messages::Raw)?;
    match value {
        Parsed::Raw(value) => Ok(ParsedLine { key, value }),
        Parsed::Message(_) | Parsed::Caps(_) => unreachable!("values are kept raw here"),
    }
}

/// Reads one non-blank line for judging, in one pass: a message is read by [`crate::read`]
/// (the half of the codec that needs no session state) and a prompt or decision into a set,
/// with capability names interned in `caps` in the order they appear.
pub fn read_event_line<'a>(
    text: &'a str,
    caps: &mut Interner,
) -> Result<(Key, EventLine<'a>), LineError> {
    let (key, value) = match parse_with(text, Messages::Read(caps)) {
        Ok(line) => line,
        // Valid JSON that a reader could not read in one pass (a number out of range where it
        // reads scalars): read the message field by field, as [`crate::read::read_text`] does.
        Err(LineError::Shape(_)) => match parse_with(text, Messages::Raw)? {
            (key, Parsed::Raw(raw)) => match key.poster() {
                Some(poster) => (key, Parsed::Message(Box::new(read_raw(raw, poster, caps)))),
                None => (key, Parsed::Raw(raw)),
            },
            line => line,
        },
        Err(e) => return Err(e),
    };
    let line = match value {
        Parsed::Message(reading) => EventLine::Message(reading),
        Parsed::Caps(Some(set)) => EventLine::Caps(Ok(set)),
        // Not of its shape: read again, as a `ParsedLine` would, for the reason.
        Parsed::Caps(None) => match parse_with(text, Messages::Raw)? {
            (_, Parsed::Raw(raw)) => EventLine::Caps(typed_caps(key, raw.get(), caps)),
            _ => unreachable!("values are kept raw here"),
        },
        Parsed::Raw(raw) => match key {
            Key::Prompt | Key::Decision | Key::View | Key::App => {
                EventLine::Caps(typed_caps(key, raw.get(), caps))
            }
            Key::Session | Key::Client | Key::Widget => EventLine::Session(raw.get()),
        },
    };
    Ok((key, line))
}

/// The set of a capability line's value, read as a [`ParsedLine`] reads it.
fn typed_caps(key: Key, text: &str, caps: &mut Interner) -> Result<CapSet, LineError> {
    let names = caps_list(key, text)?;
    Ok(caps.set(names.iter().map(String::as_str)))
}

/// The list of a capability line's value (`prompt`, `decision`, `view`, `app`).
fn caps_list(key: Key, text: &str) -> Result<Vec<String>, LineError> {
    match key {
        Key::Prompt => typed_value::<PromptLine>(key, text).map(|p| p.capabilities),
        Key::Decision => typed_value::<DecisionLine>(key, text).map(|d| d.approved),
        Key::View => typed_value::<ViewLine>(key, text).map(|v| v.approved),
        Key::App => typed_value::<AppLine>(key, text).map(|a| a.request),
        Key::Session | Key::Client | Key::Widget => {
            Err(LineError::Value(key, "not a line of capabilities".into()))
        }
    }
}

fn parse_with<'a>(text: &'a str, messages: Messages<'_>) -> Result<(Key, Parsed<'a>), LineError> {
    let messages = match messages {
        // The fast scanner first; `serde_json` where it gives up (the same reading, see
        // [`crate::scan`]).
        Messages::Read(caps) => {
            let visitor = LineVisitor {
                messages: Messages::Read(&mut *caps),
            };
            if let Ok(line) = crate::scan::read_str(text, visitor) {
                return line.map_err(LineError::Shape);
            }
            Messages::Read(caps)
        }
        Messages::Raw => Messages::Raw,
    };
    // What serde_json reads of a raw or skipped value but capneg does not: the same check
    // whichever reader reads the line ([`crate::lines`]). The fast scanner gives up on both.
    check_json(text).map_err(LineError::Json)?;
    let mut de = serde_json::Deserializer::from_str(text);
    let line = de
        .deserialize_any(LineVisitor { messages })
        .map_err(|e| classify(text, e))?;
    de.end().map_err(|e| classify(text, e))?;
    line.map_err(LineError::Shape)
}

fn classify(text: &str, e: serde_json::Error) -> LineError {
    match serde_json::from_str::<de::IgnoredAny>(text) {
        Err(syntax) => LineError::NotJson(strip_position(&syntax.to_string())),
        Ok(_) => LineError::Shape(strip_position(&e.to_string())),
    }
}

struct LineVisitor<'c> {
    messages: Messages<'c>,
}

/// A line's value visited as `what` (anything but an object): not a line, said with what it is.
macro_rules! not_an_object {
    ($($visit:ident($($arg:ty)?) $what:literal,)*) => {
        $(fn $visit<E: de::Error>(self, $(_: $arg)?) -> Result<Self::Value, E> {
            Ok(Err(format!(
                concat!($what, ": expected an object with one key, {}"),
                KEYS
            )))
        })*
    };
}

impl<'de> Visitor<'de> for LineVisitor<'_> {
    type Value = Result<(Key, Parsed<'de>), String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object with one key: {KEYS}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let Some(key) = map.next_key_seed(crate::visit::KeySeed)? else {
            return Ok(Err(format!("an empty object: expected one key, {KEYS}")));
        };
        let parsed = Key::parse(&key);
        let poster = parsed.and_then(Key::poster);
        let value = match (parsed, poster, self.messages) {
            (_, Some(poster), Messages::Read(caps)) => {
                Parsed::Message(map.next_value_seed(MessageSeed::new(poster, caps))?)
            }
            (Some(key), _, Messages::Read(caps)) if key.caps_field().is_some() => {
                let field = key.caps_field().unwrap_or_default();
                Parsed::Caps(map.next_value_seed(OnlyCapsSeed { field, caps })?)
            }
            _ => Parsed::Raw(map.next_value()?),
        };
        let Some(parsed) = parsed else {
            // The rest of the object is read too: left unread, it would be taken for a
            // trailing comma.
            while map
                .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
                .is_some()
            {}
            return Ok(Err(format!("unknown key `{key}`: expected {KEYS}")));
        };
        if let Some(second) = map.next_key_seed(crate::visit::KeySeed)? {
            map.next_value::<de::IgnoredAny>()?;
            while map
                .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
                .is_some()
            {}
            return Ok(Err(format!(
                "more than one key (`{key}` and `{second}`): a line holds exactly one"
            )));
        }
        Ok(Ok((parsed, value)))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<de::IgnoredAny>()?.is_some() {}
        Ok(Err(format!(
            "a list: expected an object with one key, {KEYS}"
        )))
    }

    not_an_object! {
        visit_str(&str) "a string",
        visit_bool(bool) "a boolean",
        visit_i64(i64) "a number",
        visit_u64(u64) "a number",
        visit_f64(f64) "a number",
        visit_unit() "null",
    }
}

use crate::lines::{check_json, one_line, JsonProblem};
pub use crate::lines::{LineIoError, LineReader, MAX_LINE};

/// Prints a line with `key` holding `value` (JSON, no trailing newline).
pub fn print_line(key: Key, value: &impl Serialize) -> String {
    let mut out = String::from("{\"");
    out.push_str(key.as_str());
    out.push_str("\":");
    out.push_str(&serde_json::to_string(value).expect("trace values serialize"));
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_key_lines_parse() {
        let line = parse_line(r#"{"widget": {"api": "fromWidget"}}"#).unwrap();
        assert_eq!(line.key, Key::Widget);
        assert_eq!(line.value.get(), r#"{"api": "fromWidget"}"#);
        let d = parse_line(r#"{"decision":{"approved":["a"]}}"#).unwrap();
        assert_eq!(d.decision().unwrap().approved, ["a"]);
    }

    #[test]
    fn bad_lines_say_why() {
        let cases = [
            ("{", "not JSON"),
            ("[1]", "a list"),
            ("{}", "an empty object"),
            (r#"{"foo": 1}"#, "unknown key `foo`"),
            (r#"{"client": {}, "widget": {}}"#, "more than one key"),
            (r#"{"x": 1, "y": 2}"#, "unknown key `x`"),
            (r#"{"client": {}} x"#, "not JSON"),
            ("17", "a number"),
        ];
        for (text, want) in cases {
            let err = parse_line(text).unwrap_err().to_string();
            assert!(err.contains(want), "{text}: {err}");
        }
        let s = parse_line(r#"{"session": {"widgetID": "w"}}"#).unwrap();
        let err = s.session().unwrap_err().to_string();
        assert!(err.contains("unknown field `widgetID`"), "{err}");
    }

    /// A `prompt` or `decision` line read for judging (one pass) means what its `Line` means.
    #[test]
    fn caps_lines_read_in_one_pass_as_lines_read_them() {
        let values = [
            r#"{"capabilities":["a","b","a"]}"#,
            r#"{"capabilities":[]}"#,
            r#"{"capabilit\u0069es":["\u0061"]}"#,
            r#"{"capabilities":["a"],"capabilities":["b"]}"#,
            r#"{"capabilities":["a",1]}"#,
            r#"{"capabilities":["a",1e400]}"#,
            r#"{"capabilities":"a"}"#,
            r#"{"capabilities":["a"],"extra":1}"#,
            r#"{}"#,
            r#"[["a"]]"#,
            r#"null"#,
            r#"{"approved":["a"]}"#,
        ];
        for key in ["prompt", "decision"] {
            for value in values {
                let value = if key == "decision" {
                    value
                        .replace("capabilit", "appr")
                        .replace("appries", "approved")
                } else {
                    value.to_owned()
                };
                let text = format!(r#"{{"{key}":{value}}}"#);
                let mut caps = Interner::new();
                let one_pass = match read_event_line(&text, &mut caps) {
                    Ok((_, EventLine::Caps(set))) => set.map(|s| caps.to_vec(&s)),
                    other => panic!("{text}: {other:?}"),
                };
                let line = parse_line(&text).unwrap();
                let typed = match line.key {
                    Key::Prompt => line.prompt().map(|p| p.capabilities),
                    _ => line.decision().map(|d| d.approved),
                }
                .map(|names| {
                    let mut seen = Vec::new();
                    for n in names {
                        if !seen.contains(&n) {
                            seen.push(n);
                        }
                    }
                    seen
                });
                assert_eq!(one_pass, typed, "{text}");
            }
        }
    }

    #[test]
    fn reader_numbers_lines_and_skips_blanks() {
        let text = "{\"a\":1}\n\n  \n{\"b\":2}\r\n";
        let mut r = LineReader::new(text.as_bytes());
        assert_eq!(r.next_line().unwrap().unwrap(), (1, "{\"a\":1}"));
        assert_eq!(r.next_line().unwrap().unwrap(), (4, "{\"b\":2}"));
        assert!(r.next_line().is_none());
    }
}
