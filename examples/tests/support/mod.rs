//! Support for the CLI contract tests: the example programs run as child
//! processes whose stdout (one JSON object per line) is read on a thread and
//! waited for with timeouts, never with sleeps.

use std::path::Path;

// Each test program uses part of what it shares.
#[allow(unused_imports)]
pub(crate) use ra_testkit::process::{Finished, Proc, TIMEOUT, named, position, run};
use serde_json::Value;

/// The path of `ra-host`.
pub(crate) const HOST: &str = env!("CARGO_BIN_EXE_ra-host");
/// The path of `ra-helper`.
#[allow(dead_code)]
pub(crate) const HELPER: &str = env!("CARGO_BIN_EXE_ra-helper");
/// The path of `ra-org`.
#[allow(dead_code)]
pub(crate) const ORG: &str = env!("CARGO_BIN_EXE_ra-org");
/// The path of `ra-audit`.
#[allow(dead_code)]
pub(crate) const AUDIT: &str = env!("CARGO_BIN_EXE_ra-audit");

/// A host started with `ra-host invite --json --listen 127.0.0.1:0` and
/// `args`, with its `invitation` event.
pub(crate) struct Host {
    /// The process.
    pub(crate) proc: Proc,
    /// The `invitation` event.
    pub(crate) invitation: Value,
}

impl Host {
    /// Starts a host and waits for its invitation.
    #[track_caller]
    pub(crate) fn start(args: &[&str]) -> Host {
        let mut all = vec!["invite", "--json", "--listen", "127.0.0.1:0"];
        all.extend_from_slice(args);
        let mut proc = Proc::spawn("ra-host", HOST, &all, true);
        let invitation = proc.expect("invitation");
        Host { proc, invitation }
    }

    /// The password shown in the invitation event.
    pub(crate) fn password(&self) -> String {
        self.field("password")
    }

    /// The token shown in the invitation event.
    pub(crate) fn token(&self) -> String {
        self.field("token")
    }

    fn field(&self, name: &str) -> String {
        self.invitation[name]
            .as_str()
            .unwrap_or_else(|| panic!("invitation event without {name:?}: {}", self.invitation))
            .to_owned()
    }
}

/// Starts `ra-helper accept --json` with `args` (stdin empty).
#[allow(dead_code)]
pub(crate) fn helper(args: &[&str]) -> Proc {
    let mut all = vec!["accept", "--json"];
    all.extend_from_slice(args);
    Proc::spawn("ra-helper", HELPER, &all, false)
}

/// `path` as a `&str` (test paths are UTF-8).
pub(crate) fn s(path: &Path) -> &str {
    path.to_str().expect("UTF-8 temporary path")
}
