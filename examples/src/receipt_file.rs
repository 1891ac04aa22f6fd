//! Storing a session's consent receipt where `--receipt FILE` says, for
//! `ra-host`, `ra-helper` and `ra-viewer` alike.

use std::path::Path;

use ra_core::receipt::ConsentReceipt;
use serde_json::json;

use crate::output::Output;

/// Writes `receipt` to `path` (if given; replacing the file) and reports it
/// as a `receipt` event (`path`, `countersigned`, `session_id`).
pub fn store(output: Output, path: Option<&Path>, receipt: &ConsentReceipt) {
    let written = match path {
        Some(path) => match std::fs::write(path, format!("{}\n", receipt.to_text())) {
            Ok(()) => Some(path.display().to_string()),
            Err(e) => {
                output.error(&format!(
                    "cannot write the receipt to {}: {e}",
                    path.display()
                ));
                None
            }
        },
        None => None,
    };
    let countersigned = receipt.is_countersigned();
    output.event(
        "receipt",
        json!({
            "path": written,
            "countersigned": countersigned,
            "session_id": receipt.body().session_id.to_string(),
        }),
        || {
            let by = if countersigned {
                "signed by the host and the helper"
            } else {
                "signed by the host"
            };
            match &written {
                Some(path) => format!("The session's consent receipt ({by}) is in {path}."),
                None => format!("The session's consent receipt was made ({by})."),
            }
        },
    );
}

/// Reports a receipt the host sent that does not check.
pub fn refused(output: Output, problem: &str) {
    output.event("receipt_refused", json!({ "problem": problem }), || {
        format!("The host's consent receipt is not valid: {problem}")
    });
}
