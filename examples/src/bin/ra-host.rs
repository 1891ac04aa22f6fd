//! `ra-host`: share this screen with a helper.
//!
//! `ra-host invite` opens an invitation (file, token or email; the password is
//! shown here and must be given to the helper separately), asks before letting
//! the helper in and before giving control, and takes commands on stdin:
//! `revoke`, `pause`, `resume`, `chat TEXT`, `clipboard on|off` (share the
//! clipboard, if the policy allows it), `copy TEXT` (send clipboard text),
//! `policy FILE` (apply a new policy at once), `end`, `quit`.
//!
//! Sharing an X display (`--capture screen` or `--inject system`), the
//! display's own clipboard is shared too while clipboard sharing is on: text
//! copied there is sent to the helper, and the helper's text is put there
//! (and printed as the `clipboard` event).
//!
//! stdin `resume-ticket [DURATION]` (with `--resume-ticket FILE
//! --resume-key FILE` and a policy with `allow_resume_tickets = true`)
//! writes a single-use resume ticket for the live session; after a restart,
//! `ra-host resume` with the same two options re-opens the session from it:
//! the helper reconnects by itself, is asked for again, and is view-only
//! until control is granted anew.
//!
//! `easy-connect` and `join` (through a broker, with a short code instead of
//! an invitation and password) take the same options and commands; the
//! session is served by [`ra_examples::host_app`] in all three.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use ra_core::invitation::{CertFingerprint, EmailOptions};
use ra_core::runtime::{
    BrokerOptions, BrokerTrust, HostSession, InviteError, InviteOptions, ResumeOptions, invite,
    resume_from_file,
};
use ra_examples::broker_cli;
use ra_examples::host_app::{self, Credential, HostArgs, HostSetup};
use ra_examples::output::Output;
use ra_examples::{parse_duration, program};
use serde_json::json;

#[derive(Parser)]
#[command(
    name = "ra-host",
    version,
    about = "Share this screen with a helper (the host side of ra)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Open an invitation and wait for the helper.
    Invite(InviteArgs),
    /// Easy Connect: get a short code from a broker, read it to the helper, wait.
    EasyConnect(broker_cli::host::EasyConnectArgs),
    /// Quick Assist: connect with the code the helper read out to you.
    Join(broker_cli::host::JoinArgs),
    /// Check the network and the firewall for remote assistance through a broker.
    Diagnose(broker_cli::diagnose::DiagnoseArgs),
    /// Re-open the session of a resume ticket after a restart (needs --resume-ticket and --resume-key).
    Resume(ResumeArgs),
}

#[derive(clap::Args)]
struct ResumeArgs {
    /// The host's options (as for `invite`; --resume-ticket and --resume-key are required).
    #[command(flatten)]
    host: HostArgs,
}

#[derive(clap::Args)]
struct InviteArgs {
    /// Save the invitation file here. It holds no password: tell the helper the password separately.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Also print the invitation as a one-line token the helper can paste.
    #[arg(long)]
    token: bool,
    /// Write the invitation as an email message (.eml, invitation attached, no password) to FILE.
    #[arg(long, value_name = "FILE.eml", requires = "to")]
    email: Option<PathBuf>,
    /// The email's recipient (repeat for several).
    #[arg(long, value_name = "ADDR", requires = "email")]
    to: Vec<String>,
    /// The email's sender.
    #[arg(
        long,
        value_name = "ADDR",
        default_value = "remote-assistance@localhost"
    )]
    from: String,
    /// How long the invitation stays open; the policy may cap it.
    #[arg(long, value_name = "DURATION", default_value = "6h", value_parser = parse_duration)]
    lifetime: Duration,
    /// Where to listen for the helper (port 0: any free port).
    #[arg(long, value_name = "IP:PORT", default_value = "0.0.0.0:0")]
    listen: SocketAddr,
    /// A broker for helpers behind NATs and firewalls: the invitation then
    /// carries a rendezvous there (never the password), and a helper that
    /// cannot reach this machine connects by hole punching or the relay.
    #[arg(long, value_name = "IP:PORT", requires = "broker_fingerprint")]
    broker: Option<SocketAddr>,
    /// The rendezvous broker certificate's SHA-256 (as `ra-broker serve` prints it).
    #[arg(long, value_name = "sha256:HEX", requires = "broker")]
    broker_fingerprint: Option<CertFingerprint>,
    /// The host's options (as for `easy-connect` and `join`).
    #[command(flatten)]
    host: HostArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    program::init_logging();
    let output = Output::new(match &cli.command {
        Command::Invite(args) => args.host.json,
        Command::EasyConnect(args) => args.host.json,
        Command::Join(args) => args.host.json,
        Command::Diagnose(args) => args.json,
        Command::Resume(args) => args.host.json,
    });
    program::run_async(output, async move {
        i32::from(match cli.command {
            Command::Invite(args) => run(args, output).await,
            Command::EasyConnect(args) => broker_cli::host::run_easy_connect(args, output).await,
            Command::Join(args) => broker_cli::host::run_join(args, output).await,
            Command::Diagnose(args) => broker_cli::diagnose::run(args, output).await,
            Command::Resume(args) => run_resume(args, output).await,
        })
    })
}

async fn run(args: InviteArgs, output: Output) -> u8 {
    let HostSetup { options, backends } = match HostSetup::open(&args.host, output) {
        Ok(setup) => setup,
        Err((code, message)) => {
            output.error(&message);
            return code;
        }
    };
    let rendezvous = match (args.broker, args.broker_fingerprint) {
        (Some(broker), Some(fingerprint)) => Some(BrokerOptions::new(
            broker,
            BrokerTrust::Fingerprint(fingerprint),
        )),
        _ => None,
    };
    let options = InviteOptions {
        lifetime: args.lifetime,
        listen: args.listen,
        rendezvous,
        ..options
    };
    let mut host = match invite(options, backends).await {
        Ok(h) => h,
        Err(e) => {
            output.error(&e.to_string());
            return match e {
                ra_core::runtime::InviteError::Policy => 5,
                _ => 1,
            };
        }
    };
    if let Err(message) = publish_invitation(&host, &args, output) {
        output.error(&message);
        return 1;
    }
    let code = host_app::serve(&mut host, &args.host, Credential::Password, output).await;
    host.shutdown().await;
    code
}

/// `ra-host resume`: takes the ticket out of its file and serves the
/// re-opened session.
async fn run_resume(args: ResumeArgs, output: Output) -> u8 {
    let (Some(ticket), Some(key)) = (&args.host.resume_ticket, &args.host.resume_key) else {
        output.error("ra-host resume needs --resume-ticket FILE and --resume-key FILE");
        return 2;
    };
    let key = match ra_core::resume::load_or_create_key(key) {
        Ok(key) => key,
        Err(e) => {
            output.error(&e.to_string());
            return 2;
        }
    };
    let HostSetup { options, backends } = match HostSetup::open(&args.host, output) {
        Ok(setup) => setup,
        Err((code, message)) => {
            output.error(&message);
            return code;
        }
    };
    let mut host =
        match resume_from_file(ticket, &key, ResumeOptions::from(options), backends).await {
            Ok(host) => host,
            Err(e) => {
                output.error(&e.to_string());
                return match e {
                    InviteError::Policy | InviteError::ResumeNotAllowed => 5,
                    InviteError::ResumeTicket(_) | InviteError::ResumeTicketFile(_) => 6,
                    _ => 1,
                };
            }
        };
    output.event(
        "resumed",
        json!({ "ticket": ticket.display().to_string() }),
        || {
            "Session re-opened from its resume ticket: waiting for the helper to come back."
                .to_owned()
        },
    );
    let code = host_app::serve(&mut host, &args.host, Credential::ResumeTicket, output).await;
    host.shutdown().await;
    code
}

/// Writes the invitation where asked and prints it with the password.
fn publish_invitation(host: &HostSession, args: &InviteArgs, output: Output) -> Result<(), String> {
    let invitation = host.invitation();
    if let Some(path) = &args.out {
        invitation.save(path).map_err(|e| e.to_string())?;
    }
    let mut mailto = None;
    if let Some(path) = &args.email {
        let email = invitation
            .to_email(&EmailOptions {
                from: args.from.clone(),
                to: args.to.clone(),
                subject: None,
            })
            .map_err(|e| e.to_string())?;
        std::fs::write(path, email).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        mailto = Some(invitation.mailto_uri(&args.to));
    }
    let token = invitation.to_token();
    let expires = humantime::format_rfc3339_seconds(invitation.expires_at).to_string();
    let password = host.password().to_string();
    output.event(
        "invitation",
        json!({
            "file": args.out.as_ref().map(|p| p.display().to_string()),
            "password": password,
            "expires_at": expires,
            "token": token,
            "email": args.email.as_ref().map(|p| p.display().to_string()),
            "mailto": mailto,
            "addresses": invitation.addresses.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "session_id": invitation.session_id.to_string(),
            "rendezvous": invitation.rendezvous.as_ref().map(|r| json!({
                "broker": r.broker.to_string(),
                "lookup": r.lookup.to_string(),
            })),
        }),
        || {
            let mut text = String::from("Invitation open.\n");
            if let Some(path) = &args.out {
                text += &format!(
                    "  Invitation file: {} (send it to your helper)\n",
                    path.display()
                );
            }
            if let Some(path) = &args.email {
                text += &format!(
                    "  Email message:   {} (open it in your mail program)\n",
                    path.display()
                );
            }
            if args.token || (args.out.is_none() && args.email.is_none()) {
                text += &format!("  Token:           {token}\n");
            }
            text += &format!(
                "  Password:        {password}  (tell it to your helper by phone or in person)\n"
            );
            if let Some(rendezvous) = &invitation.rendezvous {
                text += &format!(
                    "  Rendezvous:      {} at {} (for helpers behind NATs)\n",
                    rendezvous.lookup, rendezvous.broker
                );
            }
            text += &format!("  Expires:         {expires}");
            text
        },
    );
    Ok(())
}
