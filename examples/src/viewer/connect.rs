//! Connecting as `ra-helper accept` does, with the same exit codes.

use std::path::Path;
use std::time::{Duration, SystemTime};

use ra_codec::OpenH264Decoder;
use ra_core::invitation::{Invitation, InvitationError};
use ra_core::password::Password;
use ra_core::runtime::{AcceptOptions, HelperSession, accept};
use ra_examples::exit;
use ra_examples::output::Output;

/// Where the invitation comes from.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Source<'a> {
    /// An invitation file.
    File(&'a Path),
    /// A one-line token.
    Token(&'a str),
}

/// What `accept` needs, checked before anything is opened.
pub(crate) struct Prepared {
    invitation: Invitation,
    password: Password,
    decoder: OpenH264Decoder,
}

impl Prepared {
    /// The invitation's host name.
    pub(crate) fn host_name(&self) -> &str {
        &self.invitation.host_name
    }
}

/// Reads the invitation and the password and starts a decoder; on failure
/// reports it and returns the exit code.
pub(crate) fn prepare(source: Source<'_>, password: &str, output: Output) -> Result<Prepared, i32> {
    let invitation = match source {
        Source::File(path) => Invitation::load(path),
        Source::Token(token) => Invitation::from_token(token),
    };
    let invitation = invitation.map_err(|e: InvitationError| {
        output.error(&format!("invalid invitation: {e}"));
        exit::INVALID
    })?;
    if invitation.is_expired(SystemTime::now()) {
        output.error("the invitation has expired: ask the host for a new one");
        return Err(exit::EXPIRED);
    }
    let password = Password::parse(password).map_err(|e| {
        output.error(&format!("wrong password: {e}"));
        exit::WRONG_PASSWORD
    })?;
    let decoder = OpenH264Decoder::new().map_err(|e| {
        output.error(&format!("cannot start the video decoder: {e}"));
        exit::OTHER
    })?;
    Ok(Prepared {
        invitation,
        password,
        decoder,
    })
}

/// Connects and waits for the host to let the helper in.
pub(crate) async fn connect(
    prepared: Prepared,
    name: String,
    approval_timeout: Duration,
    identity: Option<std::sync::Arc<ra_core::identity::HelperCredential>>,
    output: Output,
) -> Result<HelperSession, i32> {
    let options = AcceptOptions {
        helper_name: name,
        approval_timeout,
        identity,
        ..AcceptOptions::default()
    };
    let Prepared {
        invitation,
        password,
        decoder,
    } = prepared;
    accept(&invitation, &password, options, Box::new(decoder))
        .await
        .map_err(|e| {
            output.error(&e.to_string());
            exit::for_accept_error(&e)
        })
}
