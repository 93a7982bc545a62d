//! `capneg explore`: the stateright Explorer over the model of `check`.

use crate::check::ClientArg;
use capneg_model::check::model::{Bounds, SessionModel};
use capneg_reference::Profile;
use std::process::ExitCode;

pub struct ExploreArgs {
    pub port: u16,
    pub client: ClientArg,
    pub rules: Profile,
    pub bounds: Bounds,
}

pub fn run(args: ExploreArgs) -> ExitCode {
    let model = SessionModel::new(
        args.client.kind,
        args.client.profile,
        args.rules,
        args.bounds,
    );
    eprintln!(
        "capneg explore: the Explorer on http://127.0.0.1:{}/ (client {}, rules {}); Ctrl-C stops it",
        args.port, args.client.profile, args.rules
    );
    model.explore(args.port);
    ExitCode::SUCCESS
}
