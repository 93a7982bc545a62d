//! `capneg explore`: the stateright Explorer over the model of `check` (docs/spec.md §7.4).

use crate::check::ClientArg;
use capneg_model::check::model::{Bounds, SessionModel};
use capneg_reference::Profile;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::process::ExitCode;

/// Exit code for a port that cannot be had (docs/spec.md §7: 2 for bad input).
const BAD_INPUT: u8 = 2;

pub struct ExploreArgs {
    pub port: u16,
    pub client: ClientArg,
    pub rules: Profile,
    pub bounds: Bounds,
}

pub fn run(args: ExploreArgs) -> ExitCode {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, args.port));
    // stateright 0.31 binds its own server (`CheckerBuilder::serve` takes addresses, not a
    // listener) and panics when it cannot. So the port is tried first: bound here, and let go
    // just before stateright binds it. Another program could take the port in between (a window
    // of microseconds); stateright would then panic as before. Nothing is lost to the try
    // itself: a listener that accepted no connection leaves no TIME_WAIT behind.
    if let Err(message) = port_free(address) {
        eprintln!("capneg explore: {message}");
        return ExitCode::from(BAD_INPUT);
    }
    let model = SessionModel::new(
        args.client.kind,
        args.client.profile,
        args.rules,
        args.bounds,
    );
    eprintln!(
        "capneg explore: the Explorer on http://{address}/ (client {}, rules {}); Ctrl-C stops it",
        args.client.profile, args.rules
    );
    quiet_dropped_connections();
    model.explore(args.port);
    ExitCode::SUCCESS
}

/// Whether `address` can be listened on now: binds it and lets it go. The error names the address
/// and the operating system's reason.
fn port_free(address: SocketAddr) -> Result<(), String> {
    TcpListener::bind(address)
        .map(drop)
        .map_err(|e| format!("cannot listen on {address}: {e}"))
}

/// The HTTP server under stateright's Explorer (tiny_http 0.12) unwraps the peer address of each
/// connection it reads, so a connection the other side resets before it is read (a browser tab
/// closed mid-load, a port scanner) panics the server's worker thread for it. The other workers
/// go on serving, so the panic is harmless; its backtrace becomes one line on stderr. Any other
/// panic is reported as before.
fn quiet_dropped_connections() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info
            .location()
            .is_some_and(|at| at.file().contains("tiny_http"))
        {
            eprintln!("capneg explore: a connection was reset before it was read; still serving");
        } else {
            report(info)
        }
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_port_is_named_with_the_reason() {
        let taken = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let address = taken.local_addr().unwrap();
        let message = port_free(address).unwrap_err();
        assert!(
            message.starts_with(&format!("cannot listen on {address}: ")),
            "{message}"
        );
        assert!(message.contains("in use"), "{message}");
        drop(taken);
        // Free again, and free after the try.
        assert_eq!(port_free(address), Ok(()));
        assert_eq!(port_free(address), Ok(()));
    }
}
