//! The settings of one session: what a client is told besides the profile it follows
//! (docs/spec.md §5 `session`, §8 `start`).
//!
//! One type serves every place that holds a session's settings: the machines read them, the
//! trace's `session` line, the script, the adapter's `start` command, the driver's generated
//! sessions and the model's initial states write them. Only the representation of the
//! capabilities differs ([`Settings`]'s parameter): names as the formats write them, interned
//! sets as the machines read them, or a model's masks.

use crate::caps::{CapSet, CapSets};

/// What the client does with a capability the user declined before and a later round asks for
/// again, where the profile leaves it to the client ([`crate::profile::Redecline::ClientPolicy`],
/// MSC2974: "the client might still show the already-approved capabilities" says nothing of
/// declined ones).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeclinedPolicy {
    /// Ask the user again.
    #[default]
    Prompt,
    /// Deny without asking.
    Deny,
}

impl DeclinedPolicy {
    /// The policy as written in a `session` line.
    pub const fn as_str(self) -> &'static str {
        match self {
            DeclinedPolicy::Prompt => "prompt",
            DeclinedPolicy::Deny => "deny",
        }
    }

    /// The policy written `s`.
    pub fn parse(s: &str) -> Option<DeclinedPolicy> {
        match s {
            "prompt" => Some(DeclinedPolicy::Prompt),
            "deny" => Some(DeclinedPolicy::Deny),
            _ => None,
        }
    }
}

/// A session's settings, with capabilities represented as `C` (an interned [`CapSet`] by
/// default; capability names, `Vec<String>`, in the formats).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Settings<C = CapSet> {
    /// Capabilities approved without asking the user (`autoApprove`).
    pub auto_approve: C,
    /// Whether the session declares a rate limit (`rateLimit`): a re-exchange request that
    /// arrives while a round is still open may be refused with an error, where the profile
    /// allows it (MSC2974, "Potential issues": clients "might be more strict on rate limits").
    pub rate_limit: bool,
    /// Whether the client sends `capabilities` only after the widget's `content_loaded`
    /// (`waitForContentLoaded`; MSC2764's `waitForIframeLoad: false`).
    pub wait_for_content_loaded: bool,
    /// The client's policy for a capability declined before (`declined`, an extension of the
    /// `session` line).
    pub declined: DeclinedPolicy,
}

impl<C> Settings<C> {
    /// The same settings with the capabilities represented by `f(auto_approve)`.
    pub fn map_caps<D>(self, f: impl FnOnce(C) -> D) -> Settings<D> {
        Settings {
            auto_approve: f(self.auto_approve),
            rate_limit: self.rate_limit,
            wait_for_content_loaded: self.wait_for_content_loaded,
            declined: self.declined,
        }
    }

    /// The same settings, borrowing the capabilities.
    pub fn as_ref(&self) -> Settings<&C> {
        Settings {
            auto_approve: &self.auto_approve,
            rate_limit: self.rate_limit,
            wait_for_content_loaded: self.wait_for_content_loaded,
            declined: self.declined,
        }
    }
}

impl<C: CapSets> CapSets for Settings<C> {
    fn each_set(&self, f: &mut dyn FnMut(&CapSet)) {
        self.auto_approve.each_set(f)
    }
    fn each_set_mut(&mut self, f: &mut dyn FnMut(&mut CapSet)) {
        self.auto_approve.each_set_mut(f)
    }
}
