//! `ra-host diagnose`: the "verify the firewall" checklist of the library
//! (`ra_core::runtime::diagnose`) printed: a UDP socket binds; the broker
//! answers (RTT); the public address it sees; whether the NAT keeps one
//! mapping for two broker ports (direct paths likely or not); whether the
//! port is reachable from outside (the broker sends to it unasked: what a
//! helper dialling an invitation meets; `--bind 0.0.0.0:PORT` checks the port
//! `ra-host invite --listen` uses); local firewall rules (nftables, iptables)
//! that would drop the port; a one-line verdict.

use ra_core::runtime::diagnose;
use serde_json::json;

use super::args::BrokerArgs;
use crate::output::Output;

/// `ra-host diagnose`.
#[derive(Debug, Clone, clap::Args)]
pub struct DiagnoseArgs {
    /// The broker.
    #[command(flatten)]
    pub broker: BrokerArgs,
    /// One JSON object per line on stdout, each with an "event" field.
    #[arg(long)]
    pub json: bool,
}

/// Runs `ra-host diagnose`; the exit code (0 when assistance can work).
pub async fn run(args: DiagnoseArgs, output: Output) -> u8 {
    let options = match args.broker.options() {
        Ok(o) => o,
        Err(e) => {
            output.error(&e);
            return 2;
        }
    };
    let diagnosis = diagnose(&options).await;
    for check in diagnosis.checks() {
        let (name, ok, detail) = (check.name, check.ok, check.detail);
        output.event(
            "check",
            json!({ "name": name, "ok": ok, "detail": detail }),
            || format!("[{}] {name}: {detail}", if ok { "ok" } else { "!!" }),
        );
    }
    let (ok, text) = diagnosis.verdict();
    output.event("verdict", json!({ "ok": ok, "verdict": text }), || {
        format!("Verdict: {text}")
    });
    if ok { 0 } else { 1 }
}
