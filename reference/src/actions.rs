//! Typed data and response objects of each action (SPEC §2).
