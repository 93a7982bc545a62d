//! Profiles: readings of the ambiguous points of MSC2871 and MSC2974 (docs/spec.md §3).
//!
//! Each ambiguous point is one named choice; a [`Profile`] is a set of choices. The reference
//! client behaves by its profile's choices, and the rules (in `capneg-model`) judge by theirs, so
//! a new reading is a new value of this type, not new code paths.

use crate::msg::ReexchangeName;
use crate::settings::DeclinedPolicy;
use std::fmt;
use std::str::FromStr;

/// Which re-exchange action names are served (MSC2974), and whether `org.matrix.msc2974` is
/// advertised in `supported_api_versions`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reexchange {
    /// Both `org.matrix.msc2974.request_capabilities` and `request_capabilities`; advertised.
    BothNames,
    /// Only the unstable name; advertised.
    UnstableOnly,
    /// No re-exchange: `request_capabilities` gets an error; not advertised.
    Unsupported,
}

impl Reexchange {
    /// Whether a request under `name` is a re-exchange request in this reading.
    pub const fn accepts(self, name: ReexchangeName) -> bool {
        matches!(
            (self, name),
            (Reexchange::BothNames, _) | (Reexchange::UnstableOnly, ReexchangeName::Unstable)
        )
    }

    /// Whether `org.matrix.msc2974` is advertised.
    pub const fn advertised(self) -> bool {
        !matches!(self, Reexchange::Unsupported)
    }
}

/// A `request_capabilities` that arrives before the session is established.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EarlyRequest {
    /// Error response, nothing else (rule `no-request-before-session`).
    Refuse,
    /// Acked and processed at once.
    Process,
}

/// Several rounds open at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Concurrency {
    /// Each acked at once; processed one at a time in arrival order (rule `rounds-in-order`).
    Sequential,
    /// Processed in parallel, each as it arrives; a capability may be prompted twice.
    Parallel,
}

/// A capability the user declined earlier is asked for again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Redecline {
    /// The client may prompt again or deny without a prompt, by its policy
    /// ([`DeclinedPolicy`], a session setting).
    ClientPolicy,
    /// The client prompts again.
    PromptAgain,
}

/// What a notify reports as `requested` (rule `notify-reports-totals`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RequestedReport {
    /// The requested total: the union of the lists of all rounds processed so far. Without
    /// re-exchange this is round 0's list.
    SessionTotal,
    /// Round 0: its list; a later round: its new capabilities.
    RoundNew,
}

/// Whether the client may refuse a re-exchange request to limit its rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RateLimit {
    /// Only where the session declares `rateLimit`: an error instead of the ack, round dropped.
    WhereDeclared,
    /// Never.
    Never,
}

/// The scope in which the client must not reuse its own request ids (rule `unique-request-ids`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IdReuse {
    /// Never within the session.
    NeverInSession,
    /// Not while the earlier request with that id is open.
    NotWhileOpen,
}

/// A reading of the MSCs: one value per ambiguous point (docs/spec.md §3).
///
/// Three rows of that table read the same in every profile, so they are not choices here but
/// fixed parts of the rules: a round with nothing new gets no prompt and exactly one notify
/// (`no-prompt-without-new`, `one-notify-per-round`); a notify reports the approved set as
/// `approved` (`approvals-never-shrink`); a round's ack comes before its notify
/// (`ack-before-notify`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Profile {
    /// The profile's name.
    pub name: &'static str,
    /// Re-exchange names and advertisement.
    pub reexchange: Reexchange,
    /// A request before the session is established.
    pub early_request: EarlyRequest,
    /// Several rounds at once.
    pub concurrency: Concurrency,
    /// A declined capability asked again.
    pub redecline: Redecline,
    /// Notify `requested`.
    pub requested: RequestedReport,
    /// Rate limiting.
    pub rate_limit: RateLimit,
    /// Request id reuse.
    pub id_reuse: IdReuse,
}

impl Profile {
    /// `msc`: the MSCs as written, where they are clear, and the strictest sensible reading
    /// where they are not.
    pub const MSC: Profile = Profile {
        name: "msc",
        reexchange: Reexchange::BothNames,
        early_request: EarlyRequest::Refuse,
        concurrency: Concurrency::Sequential,
        redecline: Redecline::ClientPolicy,
        requested: RequestedReport::SessionTotal,
        rate_limit: RateLimit::WhereDeclared,
        id_reuse: IdReuse::NeverInSession,
    };

    /// `widget-api`: matrix-widget-api 1.19 as its code intends.
    pub const WIDGET_API: Profile = Profile {
        name: "widget-api",
        reexchange: Reexchange::UnstableOnly,
        early_request: EarlyRequest::Process,
        concurrency: Concurrency::Parallel,
        redecline: Redecline::PromptAgain,
        requested: RequestedReport::RoundNew,
        rate_limit: RateLimit::Never,
        id_reuse: IdReuse::NotWhileOpen,
    };

    /// `legacy`: no MSC2974, like matrix-rust-sdk.
    pub const LEGACY: Profile = Profile {
        name: "legacy",
        reexchange: Reexchange::Unsupported,
        early_request: EarlyRequest::Refuse,
        concurrency: Concurrency::Sequential,
        redecline: Redecline::PromptAgain,
        requested: RequestedReport::SessionTotal,
        rate_limit: RateLimit::Never,
        id_reuse: IdReuse::NeverInSession,
    };

    /// Every built-in profile, `msc` first.
    pub const ALL: [Profile; 3] = [Profile::MSC, Profile::WIDGET_API, Profile::LEGACY];

    /// The built-in profile called `name`.
    pub fn named(name: &str) -> Option<Profile> {
        Profile::ALL.into_iter().find(|p| p.name == name)
    }

    /// Whether a `request_capabilities` before the session is established is processed (true)
    /// or refused (false), for a name this profile accepts.
    pub const fn processes_early_requests(&self) -> bool {
        self.reexchange.advertised() && matches!(self.early_request, EarlyRequest::Process)
    }

    /// Whether the client may decline a capability without a prompt when it was declined before,
    /// given its own policy.
    pub const fn denies_redeclined(&self, policy: DeclinedPolicy) -> bool {
        matches!(
            (self.redecline, policy),
            (Redecline::ClientPolicy, DeclinedPolicy::Deny)
        )
    }
}

impl Default for Profile {
    fn default() -> Self {
        Profile::MSC
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// The error of parsing a profile name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownProfile(pub String);

impl fmt::Display for UnknownProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown profile `{}` (expected msc, widget-api or legacy)",
            self.0
        )
    }
}

impl std::error::Error for UnknownProfile {}

impl FromStr for Profile {
    type Err = UnknownProfile;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Profile::named(s).ok_or_else(|| UnknownProfile(s.to_owned()))
    }
}
