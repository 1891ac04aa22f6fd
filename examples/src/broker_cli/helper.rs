//! `ra-helper easy-connect` and `ra-helper assist`: the helper's side of the
//! code flows. The session is run as `accept`'s is ([`crate::helper_app`]).

use ra_codec::OpenH264Decoder;
use ra_core::code::Code;
use ra_core::runtime::{
    BrokerOptions, ClaimError, HelperSession, WaitError, assist, easy_connect_helper,
};
use serde_json::json;

use super::args::BrokerArgs;
use crate::exit;
use crate::helper_app::{self, HelperArgs, SessionSetup};
use crate::output::Output;

/// `ra-helper easy-connect`: connect with the code the host read out.
#[derive(Debug, Clone, clap::Args)]
pub struct EasyConnectArgs {
    /// The broker.
    #[command(flatten)]
    pub broker: BrokerArgs,
    /// The host's code (case, dashes and spaces do not matter).
    #[arg(long, value_name = "CODE")]
    pub code: String,
    /// The helper's options (as for `accept`).
    #[command(flatten)]
    pub helper: HelperArgs,
}

/// `ra-helper assist`: get a code from the broker and wait for the host.
#[derive(Debug, Clone, clap::Args)]
pub struct AssistArgs {
    /// The broker.
    #[command(flatten)]
    pub broker: BrokerArgs,
    /// The helper's options (as for `accept`).
    #[command(flatten)]
    pub helper: HelperArgs,
}

/// Runs `ra-helper easy-connect`; the exit code.
pub async fn run_easy_connect(args: EasyConnectArgs, output: Output) -> i32 {
    let code = match Code::parse(&args.code) {
        Ok(c) => c,
        Err(e) => {
            output.error(&format!("invalid code: {e}"));
            return exit::INVALID;
        }
    };
    let (broker, setup) = match prepare(&args.broker, &args.helper, output) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let decoder = match OpenH264Decoder::new() {
        Ok(d) => d,
        Err(e) => {
            output.error(&format!("cannot start the video decoder: {e}"));
            return exit::OTHER;
        }
    };
    let options = match args.helper.accept_options() {
        Ok(options) => options,
        Err(e) => {
            output.error(&e);
            return exit::INVALID;
        }
    };
    let (mut session, relayed) =
        match easy_connect_helper(broker, &code, options, Box::new(decoder)).await {
            Ok(s) => s,
            Err(e) => {
                output.error(&e.to_string());
                return match &e {
                    ClaimError::WrongCode => exit::WRONG_PASSWORD,
                    ClaimError::Unavailable => exit::EXPIRED,
                    ClaimError::Unreachable(_) | ClaimError::Broker(_) => exit::UNREACHABLE,
                    ClaimError::Session(inner) => exit::for_accept_error(inner),
                    _ => exit::OTHER,
                };
            }
        };
    connected(&session, relayed, output);
    helper_app::run_session(&mut session, &args.helper, setup, output).await
}

/// Runs `ra-helper assist`; the exit code.
pub async fn run_assist(args: AssistArgs, output: Output) -> i32 {
    let (broker, setup) = match prepare(&args.broker, &args.helper, output) {
        Ok(p) => p,
        Err(code) => return code,
    };
    // A decoder per host that tries the code (each attempt is a new session).
    let decoders = Box::new(|| {
        OpenH264Decoder::new().map(|d| Box::new(d) as Box<dyn ra_core::media::Decoder>)
    });
    let options = match args.helper.accept_options() {
        Ok(options) => options,
        Err(e) => {
            output.error(&e);
            return exit::INVALID;
        }
    };
    let offer = match assist(broker, options, decoders).await {
        Ok(o) => o,
        Err(e) => {
            output.error(&e.to_string());
            return exit::UNREACHABLE;
        }
    };
    let code = offer.code().to_string();
    let expires = humantime::format_rfc3339_seconds(offer.expires_at()).to_string();
    output.event(
        "code",
        json!({ "code": code, "expires_at": expires, "flow": "quick_assist" }),
        || format!("Your code: {code}  (read it to the person you help; valid until {expires})"),
    );
    let (mut session, relayed) = match offer.connected().await {
        Ok(s) => s,
        Err(e) => {
            output.error(&e.to_string());
            return match &e {
                WaitError::Expired | WaitError::TooManyFailures => exit::EXPIRED,
                WaitError::Session(inner) => exit::for_accept_error(inner),
                WaitError::Broker(_) => exit::UNREACHABLE,
                _ => exit::OTHER,
            };
        }
    };
    connected(&session, relayed, output);
    helper_app::run_session(&mut session, &args.helper, setup, output).await
}

/// The broker's options and what the helper's options need; on failure,
/// reports it and returns the exit code.
fn prepare(
    broker: &BrokerArgs,
    helper: &HelperArgs,
    output: Output,
) -> Result<(BrokerOptions, SessionSetup), i32> {
    let fail = |(code, message): (i32, String)| {
        output.error(&message);
        code
    };
    let broker = broker.options().map_err(|m| fail((exit::INVALID, m)))?;
    let setup = SessionSetup::open(helper).map_err(fail)?;
    Ok((broker, setup))
}

fn connected(session: &HelperSession, relayed: bool, output: Output) {
    output.event(
        "connected",
        json!({ "host": session.host_name(), "relayed": relayed }),
        || {
            format!(
                "Connected to {}{}: you see the screen (view only).",
                session.host_name(),
                if relayed {
                    " through the broker's relay"
                } else {
                    ""
                }
            )
        },
    );
}
