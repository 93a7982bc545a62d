//! The script format (docs/spec.md §6): the one place that fills in what a script's message may
//! leave out.
//!
//! A client's script holds the widget's messages without the details that depend on the client:
//! a response need not name the request it answers (it answers the client's oldest open request
//! of its action), and a request need not carry a `requestId` or `widgetId`. [`Completer`] keeps
//! the client's open requests and the widget's request ids, and completes each widget message
//! against them. `capneg run` (the reference, or a deliberately wrong client, on a script) and
//! `capneg drive --replay` (an adapter on a script) both complete through it, so a script means
//! the same thing to both. A widget's script (`run --side widget`, docs/spec.md §9) holds the
//! client's messages, completed the same way with the sides swapped
//! ([`Completer::for_poster`]).

use crate::envelope::Envelope;
use crate::read::Poster;
use capneg_reference::Api;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::collections::HashSet;

/// A request the other side posted that the script's side has not answered yet.
#[derive(Clone, Debug)]
pub struct OpenRequest {
    /// Its `requestId`.
    pub request_id: String,
    /// Its `action`.
    pub action: String,
    /// Its `data`, as it was sent (a response echoes it).
    pub data: Box<RawValue>,
}

/// How a script's response names the request it answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Echo {
    /// By its exact `requestId` (the script was written for this client: `capneg run`).
    Exact,
    /// By its `requestId` where an open request has it, or else as the oldest open request of its
    /// `action`, whose id it then takes (a script or trace recorded from another client, whose
    /// request ids differ: `capneg drive --replay`).
    Retarget,
}

/// Why a script's response cannot be completed: it answers no open request of the other side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unanswerable(pub String);

impl std::fmt::Display for Unanswerable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unanswerable {}

/// The state a script's messages are completed against: the session's widget, the other
/// side's open requests, the request ids the script's side used.
#[derive(Clone, Debug)]
pub struct Completer {
    /// The side whose messages the script holds.
    poster: Poster,
    widget_id: String,
    open: Vec<OpenRequest>,
    own_ids: HashSet<String>,
    next_id: usize,
}

impl Completer {
    /// A session of the widget `widget_id`, before any message, completing the widget's
    /// messages (a client's script).
    pub fn new(widget_id: &str) -> Completer {
        Completer::for_poster(Poster::Widget, widget_id)
    }

    /// A session of the widget `widget_id`, before any message, completing `poster`'s messages.
    pub fn for_poster(poster: Poster, widget_id: &str) -> Completer {
        Completer {
            poster,
            widget_id: widget_id.to_owned(),
            open: Vec::new(),
            own_ids: HashSet::new(),
            next_id: 0,
        }
    }

    /// The `api` of the requests the other side starts, which the script's side answers.
    fn other_api(&self) -> Api {
        match self.poster {
            Poster::Widget => Api::ToWidget,
            Poster::Client => Api::FromWidget,
        }
    }

    /// The session's widget.
    pub fn widget_id(&self) -> &str {
        &self.widget_id
    }

    /// Notes a message the other side posted (the client, for a client's script): a request of
    /// its own (its `api`, no `response`) for the session's widget is open until the script's
    /// side answers it.
    pub fn counterpart_posted(&mut self, env: &Envelope) {
        if env.response.is_none() && env.api == self.other_api() && env.widget_id == self.widget_id
        {
            if let Ok(data) = serde_json::value::to_raw_value(&env.data) {
                self.open.push(OpenRequest {
                    request_id: env.request_id.clone(),
                    action: env.action.clone(),
                    data,
                });
            }
        }
    }

    /// Notes a request of the other side already read (its decoded `requestId` and `action`, and
    /// its `data` as raw JSON text).
    pub fn counterpart_requested(
        &mut self,
        request_id: String,
        action: String,
        data: Box<RawValue>,
    ) {
        self.open.push(OpenRequest {
            request_id,
            action,
            data,
        });
    }

    /// The open requests, oldest first.
    pub fn open(&self) -> &[OpenRequest] {
        &self.open
    }

    /// Takes the oldest open request of `action` (a generated session's answer to it).
    pub fn answer_oldest(&mut self, action: &str) -> Option<OpenRequest> {
        let i = self.open.iter().position(|o| o.action == action)?;
        Some(self.open.remove(i))
    }

    /// A fresh request id for a request of the script's side: `w0`, `w1`, ... for the widget,
    /// `c0`, `c1`, ... for the client, skipping the ids the script gave requests itself.
    pub fn fresh_id(&mut self) -> String {
        let side = match self.poster {
            Poster::Widget => 'w',
            Poster::Client => 'c',
        };
        loop {
            let id = format!("{side}{}", self.next_id);
            self.next_id += 1;
            if !self.own_ids.contains(&id) {
                self.own_ids.insert(id.clone());
                return id;
            }
        }
    }

    /// Completes a script's message (a JSON object).
    ///
    /// A response answers one of the other side's requests only where that side would take it
    /// as an answer: with a `response` object, for the session's widget (its `widgetId` absent
    /// or the session's). It answers the open request with its `requestId` (and its `action`, if
    /// it names one), or else the oldest open request of its `action`; the missing `api`,
    /// `widgetId`, `requestId`, `action` and `data` are filled in from that request, which is no
    /// longer open. Any other response (another widget's, or one whose `response` is not an
    /// object) is left as it is and answers nothing. A request gets the session's `widgetId` and
    /// a fresh `requestId` where it has none.
    pub fn complete(
        &mut self,
        mut map: Map<String, Value>,
        echo: Echo,
    ) -> Result<Map<String, Value>, Unanswerable> {
        let answers = match (map.get("response"), map.get("widgetId")) {
            (Some(Value::Object(_)), None) => true,
            (Some(Value::Object(_)), Some(Value::String(w))) => *w == self.widget_id,
            _ => false,
        };
        let widget_id = Value::String(self.widget_id.clone());
        if answers {
            let open = self.answered(&map, echo)?;
            let api = self.other_api().as_str();
            map.entry("api")
                .or_insert_with(|| Value::String(api.into()));
            map.entry("widgetId").or_insert(widget_id);
            map.insert("requestId".into(), Value::String(open.request_id.clone()));
            map.entry("action")
                .or_insert_with(|| Value::String(open.action.clone()));
            if !map.contains_key("data") {
                let data = serde_json::from_str(open.data.get()).unwrap_or(Value::Null);
                map.insert("data".into(), data);
            }
        } else if !map.contains_key("response") {
            map.entry("widgetId").or_insert(widget_id);
            if !map.contains_key("requestId") {
                let id = self.fresh_id();
                map.insert("requestId".into(), Value::String(id));
            }
            if let Some(Value::String(id)) = map.get("requestId") {
                self.own_ids.insert(id.clone());
            }
        }
        Ok(map)
    }

    /// The open request of the other side a response answers, no longer open.
    fn answered(
        &mut self,
        map: &Map<String, Value>,
        echo: Echo,
    ) -> Result<OpenRequest, Unanswerable> {
        let bad = |s: &str| Err(Unanswerable(s.to_owned()));
        if let Some(api) = map.get("api") {
            if *api != self.other_api().as_str() {
                return Err(Unanswerable(match self.poster {
                    Poster::Widget => {
                        "a widget response must answer a client request (`api` \"toWidget\")".into()
                    }
                    Poster::Client => {
                        "a client response must answer a widget request (`api` \"fromWidget\")"
                            .into()
                    }
                }));
            }
        }
        let action = match map.get("action") {
            None => None,
            Some(Value::String(a)) => Some(a.as_str()),
            Some(_) => return bad("`action` is not a string"),
        };
        let by_action = |action: Option<&str>| {
            action.and_then(|a| self.open.iter().position(|o| o.action == a))
        };
        let index = match map.get("requestId") {
            Some(Value::String(id)) => self
                .open
                .iter()
                .position(|o| o.request_id == *id && action.is_none_or(|a| a == o.action))
                .or_else(|| match echo {
                    Echo::Retarget => by_action(action),
                    Echo::Exact => None,
                })
                .ok_or_else(|| {
                    Unanswerable(format!(
                        "a response that answers nothing: no open {} request `{id}`{}",
                        self.counterpart(),
                        action
                            .map(|a| format!(" with action `{a}`"))
                            .unwrap_or_default()
                    ))
                })?,
            Some(_) => return bad("`requestId` is not a string"),
            None => {
                let Some(action) = action else {
                    return bad(
                        "a response without `requestId` needs an `action` to find its request",
                    );
                };
                by_action(Some(action)).ok_or_else(|| {
                        Unanswerable(format!(
                            "a response that answers nothing: no open {} request with action `{action}`",
                            self.counterpart()
                        ))
                    })?
            }
        };
        Ok(self.open.remove(index))
    }

    /// The other side, in words.
    fn counterpart(&self) -> &'static str {
        match self.poster {
            Poster::Widget => "client",
            Poster::Client => "widget",
        }
    }
}

/// The message as it is printed in a trace: in the envelope's field order where it is a
/// well-formed envelope, as it is otherwise.
pub fn print_message(map: Map<String, Value>) -> String {
    let value = Value::Object(map);
    match serde_json::from_value::<Envelope>(value.clone()) {
        Ok(env) => serde_json::to_string(&env).unwrap_or_else(|_| value.to_string()),
        Err(_) => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!("an object"),
        }
    }

    /// `c` completes the object `v` exactly, or the test fails.
    fn completed(c: &mut Completer, v: Value) -> Map<String, Value> {
        c.complete(object(v), Echo::Exact).unwrap()
    }

    /// `c` completes `response`, printed as `printed`, and has nothing left open.
    fn assert_answers_the_last(c: &mut Completer, response: Value, printed: &str) {
        assert_eq!(print_message(completed(c, response)), printed);
        assert!(c.open().is_empty());
    }

    /// `c` once the other side posted the request `request`.
    fn with_open(mut c: Completer, request: Value) -> Completer {
        let env: Envelope = serde_json::from_value(request).unwrap();
        c.counterpart_posted(&env);
        c
    }

    /// A client's completer, its `capabilities` request open.
    fn completer() -> Completer {
        with_open(
            Completer::new("w1"),
            json!({
                "api": "toWidget", "widgetId": "w1", "requestId": "c0", "action": "capabilities", "data": {}
            }),
        )
    }

    /// A widget's script: the client's messages, completed against the widget's requests.
    #[test]
    fn a_client_script_answers_the_widget() {
        let mut c = with_open(
            Completer::for_poster(Poster::Client, "w1"),
            json!({
                "api": "fromWidget", "widgetId": "w1", "requestId": "w0", "action": "supported_api_versions", "data": {}
            }),
        );
        let request = completed(
            &mut c,
            json!({"api": "toWidget", "action": "capabilities", "data": {}}),
        );
        assert_eq!(request["requestId"], "c0");
        assert_eq!(request["widgetId"], "w1");
        assert_answers_the_last(
            &mut c,
            json!({"action": "supported_api_versions", "response": {"supported_versions": []}}),
            r#"{"api":"fromWidget","widgetId":"w1","requestId":"w0","action":"supported_api_versions","data":{},"response":{"supported_versions":[]}}"#,
        );
        assert!(c
            .complete(
                object(json!({"api": "toWidget", "requestId": "c0", "response": {}})),
                Echo::Exact
            )
            .is_err());
    }

    #[test]
    fn a_response_answers_the_oldest_open_request_of_its_action() {
        let mut c = completer();
        assert_answers_the_last(
            &mut c,
            json!({"action": "capabilities", "response": {"capabilities": []}}),
            r#"{"api":"toWidget","widgetId":"w1","requestId":"c0","action":"capabilities","data":{},"response":{"capabilities":[]}}"#,
        );
    }

    /// Another widget's response answers nothing: it leaves the client's request open, so the
    /// real answer that follows still finds it (`run` and `drive --replay` read it alike).
    #[test]
    fn another_widgets_response_leaves_the_request_open() {
        let mut c = completer();
        let foreign = object(json!({
            "widgetId": "w2", "action": "capabilities", "response": {"capabilities": ["a"]}
        }));
        let done = c.complete(foreign.clone(), Echo::Exact).unwrap();
        assert_eq!(done, foreign);
        assert_eq!(c.open().len(), 1);
        let real = completed(
            &mut c,
            json!({"action": "capabilities", "response": {"capabilities": []}}),
        );
        assert_eq!(real["requestId"], "c0");
        assert!(c.open().is_empty());
    }

    #[test]
    fn a_response_to_nothing_is_unanswerable() {
        let mut c = completer();
        for bad in [
            json!({"action": "notify_capabilities", "response": {}}),
            json!({"requestId": "c9", "response": {}}),
            json!({"requestId": "c0", "action": "notify_capabilities", "response": {}}),
            json!({"response": {}}),
            json!({"api": "fromWidget", "action": "capabilities", "response": {}}),
        ] {
            assert!(
                c.complete(object(bad.clone()), Echo::Exact).is_err(),
                "{bad}"
            );
        }
        assert_eq!(c.open().len(), 1, "nothing was answered");
    }

    /// A trace recorded from another client names that client's request ids: replayed, its
    /// response answers this client's open request of the same action, and takes its id.
    #[test]
    fn a_replayed_response_is_retargeted() {
        let mut c = completer();
        let recorded =
            object(json!({"requestId": "widgetapi-1", "action": "capabilities", "response": {}}));
        assert!(c.complete(recorded.clone(), Echo::Exact).is_err());
        let done = c.complete(recorded, Echo::Retarget).unwrap();
        assert_eq!(done["requestId"], "c0");
        assert!(c.open().is_empty());
    }

    #[test]
    fn requests_get_fresh_ids_that_skip_the_scripts_own() {
        let mut c = completer();
        let named = c.complete(object(json!({"api": "fromWidget", "requestId": "w1", "action": "content_loaded", "data": {}})), Echo::Exact)
            .unwrap();
        assert_eq!(named["requestId"], "w1");
        let ids: Vec<Value> = (0..2)
            .map(|_| {
                c.complete(
                    object(json!({"api": "fromWidget", "action": "content_loaded", "data": {}})),
                    Echo::Exact,
                )
                .unwrap()["requestId"]
                    .clone()
            })
            .collect();
        assert_eq!(ids, [json!("w0"), json!("w2")]);
    }
}
