//! Resume tickets from the command line: stdin `resume-ticket [DURATION]`
//! writes one for the live session to `--resume-ticket`, sealed with the key
//! in `--resume-key`; `ra-host resume` re-opens the session from it.

use std::time::Duration;

use ra_core::resume::{load_or_create_key, save_ticket};
use ra_core::runtime::HostHandle;
use serde_json::json;

use super::args::HostArgs;
use crate::output::Output;

/// How long a ticket lives unless the command says otherwise (the policy
/// may cap it).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// stdin `resume-ticket [DURATION]`: issues the ticket and writes it.
///
/// # Errors
/// What went wrong, for the person at the host.
pub(super) async fn issue(
    host: &HostHandle,
    args: &HostArgs,
    rest: &str,
    output: Output,
) -> Result<(), String> {
    let (Some(ticket), Some(key)) = (&args.resume_ticket, &args.resume_key) else {
        return Err("start ra-host with --resume-ticket FILE --resume-key FILE first".into());
    };
    let lifetime = match rest.trim() {
        "" => DEFAULT_LIFETIME,
        text => crate::parse_duration(text)?,
    };
    let key = load_or_create_key(key).map_err(|e| e.to_string())?;
    let sealed = host
        .issue_resume_ticket(&key, lifetime)
        .await
        .map_err(|e| format!("no resume ticket: {e}"))?;
    save_ticket(ticket, &sealed).map_err(|e| e.to_string())?;
    output.event(
        "resume_ticket",
        json!({ "file": ticket.display().to_string() }),
        || {
            format!(
                "Resume ticket written to {} (used once). Should this computer restart, run `ra-host resume` with the same --resume-ticket and --resume-key.",
                ticket.display()
            )
        },
    );
    Ok(())
}
