//! One widget session: the SDK's `WidgetDriver` running in the room, and the capabilities
//! provider that turns its requests into prompts.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use matrix_sdk::Room;
use matrix_sdk::widget::{
    Capabilities, CapabilitiesProvider, WidgetDriver, WidgetDriverHandle, WidgetSettings,
};
use serde_json::value::RawValue;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::note;

/// The URL the widget is said to be loaded from (the driver only keeps it).
const WIDGET_URL: &str = "https://widget.invalid/";

/// The output lines of the command being processed, in the order they happened.
#[derive(Clone, Debug, Default)]
pub struct Outputs(Arc<Mutex<Vec<String>>>);

impl Outputs {
    fn push(&self, line: String) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(line);
    }

    /// `{"client": ENVELOPE}`, with the message exactly as the driver wrote it.
    pub fn client(&self, message: String) {
        match RawValue::from_string(message) {
            // Verbatim: the driver's own text, key order and all.
            Ok(raw) => self.push(format!("{{\"client\":{}}}", raw.get())),
            Err(e) => note(&format!("the driver sent a message that is not JSON: {e}")),
        }
    }

    /// `{"prompt": {"capabilities": [..]}}`.
    pub fn prompt(&self, capabilities: &[String]) {
        self.push(serde_json::json!({ "prompt": { "capabilities": capabilities } }).to_string());
    }

    /// Takes the lines collected so far.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// How a session starts (docs/spec.md §8 `start`).
#[derive(Clone, Debug)]
pub struct Start {
    pub widget_id: String,
    pub auto_approve: Vec<String>,
    pub wait_for_content_loaded: bool,
}

/// The prompts of a session still waiting for a decision, oldest first.
type OpenPrompts = Arc<Mutex<VecDeque<oneshot::Sender<Vec<String>>>>>;

/// A running widget driver.
pub struct Session {
    handle: WidgetDriverHandle,
    task: JoinHandle<()>,
    prompts: OpenPrompts,
    outputs: Outputs,
}

impl Session {
    /// Creates the driver and spawns `WidgetDriver::run` on the current runtime. Its first
    /// actions (the `capabilities` request, unless it waits for `content_loaded`) happen once the
    /// runtime gets to run it.
    pub fn start(start: Start, room: Room, outputs: Outputs) -> Result<Session, String> {
        let settings = WidgetSettings::new(
            start.widget_id.clone(),
            start.wait_for_content_loaded,
            WIDGET_URL,
        )
        .map_err(|e| format!("widget settings: {e}"))?;
        let (driver, handle) = WidgetDriver::new(settings);
        let prompts = OpenPrompts::default();
        let provider = Provider {
            auto_approve: start.auto_approve,
            prompts: Arc::clone(&prompts),
            handle: handle.clone(),
            outputs: outputs.clone(),
        };
        let task = tokio::spawn(async move {
            if driver.run(room, provider).await.is_err() {
                note("the widget driver stopped: its channel to the widget closed");
            }
        });
        Ok(Session {
            handle,
            task,
            prompts,
            outputs,
        })
    }

    /// Hands a message the widget posted to the driver, as JSON text.
    pub async fn widget_posted(&self, text: String) {
        if !self.handle.send(text).await {
            note("the widget driver is no longer running: message dropped");
        }
    }

    /// Answers the oldest open prompt.
    pub fn decide(&self, approved: Vec<String>) {
        let prompt = self
            .prompts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front();
        match prompt {
            Some(prompt) => {
                if prompt.send(approved).is_err() {
                    note("the prompt's driver is gone: decision dropped");
                }
            }
            None => note("decision without an open prompt: ignored"),
        }
    }

    /// Moves what the driver has sent to the widget so far into the outputs.
    pub fn drain(&self) {
        drain(&self.handle, &self.outputs);
    }

    /// Stops the driver: its task is cancelled (with the provider and any open prompt) and the
    /// channels close, which ends the driver's own helper tasks. Nothing it sent is pending:
    /// the previous command's outputs took everything.
    pub fn stop(self) {
        self.task.abort();
    }
}

/// Moves every message waiting in the driver's to-widget channel into the outputs.
fn drain(handle: &WidgetDriverHandle, outputs: &Outputs) {
    while let Some(Some(message)) = poll_once(handle.recv()) {
        outputs.client(message);
    }
}

/// Polls a future once: `Some(output)` if it is ready now.
fn poll_once<F: Future>(future: F) -> Option<F::Output> {
    let future = pin!(future);
    match future.poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}

/// The user, as far as the driver can tell: asks about what `autoApprove` does not cover.
struct Provider {
    auto_approve: Vec<String>,
    prompts: OpenPrompts,
    /// To move the driver's earlier messages into the outputs before the prompt.
    handle: WidgetDriverHandle,
    outputs: Outputs,
}

impl CapabilitiesProvider for Provider {
    async fn acquire_capabilities(&self, capabilities: Capabilities) -> Capabilities {
        let requested = capability_strings(&capabilities);
        let (auto, rest): (Vec<String>, Vec<String>) = requested
            .iter()
            .cloned()
            .partition(|c| self.auto_approve.contains(c));
        if rest.is_empty() {
            return from_strings(auto);
        }
        let answer = {
            // Whatever the driver sent before it asked comes first.
            drain(&self.handle, &self.outputs);
            self.outputs.prompt(&rest);
            let (tx, rx) = oneshot::channel();
            self.prompts
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push_back(tx);
            rx
        };
        // An error means the session was torn down; the driver goes with it.
        let approved = answer.await.unwrap_or_default();
        let granted = requested
            .into_iter()
            .filter(|c| auto.contains(c) || (rest.contains(c) && approved.contains(c)))
            .collect();
        from_strings(granted)
    }
}

/// The capability strings of `capabilities`, as the SDK itself writes them (its `Serialize`
/// impl, used for `notify_capabilities`), without repetitions.
pub fn capability_strings(capabilities: &Capabilities) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let value = serde_json::to_value(capabilities).unwrap_or_default();
    for s in value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str())
    {
        if !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    }
    out
}

/// The SDK's capabilities for these strings (its `Deserialize` impl, used for the widget's
/// `capabilities` answer).
fn from_strings(strings: Vec<String>) -> Capabilities {
    serde_json::from_value(serde_json::Value::from(strings)).unwrap_or_else(|e| {
        note(&format!("cannot read back approved capabilities: {e}"));
        Capabilities::default()
    })
}
