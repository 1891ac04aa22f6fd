//! `ra-helper`: see (and, with the host's consent, control) someone's screen.
//!
//! Exit codes: 0 ok; 2 invalid invitation, token or usage; 3 wrong password;
//! 4 denied by the host; 5 invitation expired or closed; 6 host unreachable or
//! timed out; 1 anything else.
//!
//! With `--clipboard system`, the clipboard of this display ($DISPLAY) is
//! kept in step with the host's while the host shares its clipboard: text
//! copied here is sent to the host, the host's text is put here (and printed
//! as the `clipboard` event).
//!
//! `easy-connect` and `assist` (through a broker, with a short code instead
//! of an invitation and password) take the same options and have the same
//! exit codes; the session is run by [`ra_examples::helper_app`] in all three.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;

use clap::{ArgGroup, Parser, Subcommand};
use ra_codec::OpenH264Decoder;
use ra_core::invitation::{Invitation, InvitationError};
use ra_core::password::Password;
use ra_core::runtime::accept;
use ra_examples::broker_cli;
use ra_examples::exit;
use ra_examples::helper_app::{self, HelperArgs, SessionSetup};
use ra_examples::output::Output;
use ra_examples::program;
use serde_json::json;

#[derive(Parser)]
#[command(
    name = "ra-helper",
    version,
    about = "See and, with consent, control a host's screen (the helper side of ra)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Connect with an invitation (file or token) and the password the host told you.
    Accept(AcceptArgs),
    /// Easy Connect: connect with the code the host read out to you.
    EasyConnect(broker_cli::helper::EasyConnectArgs),
    /// Quick Assist: get a short code from a broker, read it to the host, wait.
    Assist(broker_cli::helper::AssistArgs),
}

#[derive(clap::Args)]
#[command(group(ArgGroup::new("source").required(true).args(["invitation", "token"])))]
struct AcceptArgs {
    /// The invitation file the host sent.
    #[arg(long, value_name = "FILE")]
    invitation: Option<PathBuf>,
    /// The invitation as a one-line token (starts with "ra1-").
    #[arg(long, value_name = "TOKEN")]
    token: Option<String>,
    /// The password the host told you (case, dashes and spaces do not matter).
    #[arg(long, value_name = "PW")]
    password: String,
    /// The helper's options (as for `easy-connect` and `assist`).
    #[command(flatten)]
    helper: HelperArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    program::init_logging();
    let output = Output::new(match &cli.command {
        Command::Accept(args) => args.helper.json,
        Command::EasyConnect(args) => args.helper.json,
        Command::Assist(args) => args.helper.json,
    });
    program::run_async(output, async move {
        match cli.command {
            Command::Accept(args) => run(args, output).await,
            Command::EasyConnect(args) => broker_cli::helper::run_easy_connect(args, output).await,
            Command::Assist(args) => broker_cli::helper::run_assist(args, output).await,
        }
    })
}

fn load_invitation(args: &AcceptArgs) -> Result<Invitation, InvitationError> {
    match (&args.invitation, &args.token) {
        (Some(path), _) => Invitation::load(path),
        (None, Some(token)) => Invitation::from_token(token),
        (None, None) => Err(InvitationError::Invalid("no invitation given".into())),
    }
}

async fn run(args: AcceptArgs, output: Output) -> i32 {
    let invitation = match load_invitation(&args) {
        Ok(i) => i,
        Err(e) => {
            output.error(&format!("invalid invitation: {e}"));
            return exit::INVALID;
        }
    };
    if invitation.is_expired(SystemTime::now()) {
        output.error("the invitation has expired: ask the host for a new one");
        return exit::EXPIRED;
    }
    let password = match Password::parse(&args.password) {
        Ok(p) => p,
        Err(e) => {
            output.error(&format!("wrong password: {e}"));
            return exit::WRONG_PASSWORD;
        }
    };
    let setup = match SessionSetup::open(&args.helper) {
        Ok(s) => s,
        Err((code, message)) => {
            output.error(&message);
            return code;
        }
    };
    let decoder = match OpenH264Decoder::new() {
        Ok(d) => d,
        Err(e) => {
            output.error(&format!("cannot start the video decoder: {e}"));
            return exit::OTHER;
        }
    };
    if !output.is_json() {
        println!(
            "Connecting to {} — waiting for the host to let you in…",
            invitation.host_name
        );
    }
    let options = match args.helper.accept_options() {
        Ok(options) => options,
        Err(e) => {
            output.error(&e);
            return exit::INVALID;
        }
    };
    let mut session = match accept(&invitation, &password, options, Box::new(decoder)).await {
        Ok(s) => s,
        Err(e) => {
            output.error(&e.to_string());
            return exit::for_accept_error(&e);
        }
    };
    output.event("connected", json!({ "host": session.host_name() }), || {
        format!(
            "Connected to {}: you see the screen (view only).",
            session.host_name()
        )
    });
    helper_app::run_session(&mut session, &args.helper, setup, output).await
}
