//! `ra-host easy-connect` and `ra-host join`: the host's side of the code
//! flows. The session is served as `invite`'s is ([`crate::host_app`]).

use ra_core::code::Code;
use ra_core::runtime::{
    BrokerOptions, ClaimError, CodeHostSession, HostBackends, InviteError, InviteOptions,
    WaitError, easy_connect_host, join,
};
use serde_json::json;

use super::args::BrokerArgs;
use crate::host_app::{self, Credential, HostArgs, HostSetup};
use crate::output::Output;

/// `ra-host easy-connect`: get a code from the broker and wait for the helper.
#[derive(Debug, Clone, clap::Args)]
pub struct EasyConnectArgs {
    /// The broker.
    #[command(flatten)]
    pub broker: BrokerArgs,
    /// The host's options (as for `invite`).
    #[command(flatten)]
    pub host: HostArgs,
}

/// `ra-host join`: connect with the code the helper read out.
#[derive(Debug, Clone, clap::Args)]
pub struct JoinArgs {
    /// The broker.
    #[command(flatten)]
    pub broker: BrokerArgs,
    /// The helper's code (case, dashes and spaces do not matter).
    #[arg(long, value_name = "CODE")]
    pub code: String,
    /// The host's options (as for `invite`).
    #[command(flatten)]
    pub host: HostArgs,
}

/// Opens what the host's options ask for, starts the session with `start`
/// (which reports its own failure, as an exit code, and what the person must
/// know, such as the code), and serves it until it is over; the exit code.
async fn run_flow<Start>(
    broker: &BrokerArgs,
    args: &HostArgs,
    output: Output,
    start: impl FnOnce(BrokerOptions, InviteOptions, HostBackends) -> Start,
) -> u8
where
    Start: Future<Output = Result<CodeHostSession, u8>>,
{
    let broker = match broker.options() {
        Ok(b) => b,
        Err(message) => {
            output.error(&message);
            return 2;
        }
    };
    let HostSetup { options, backends } = match HostSetup::open(args, output) {
        Ok(setup) => setup,
        Err((code, message)) => {
            output.error(&message);
            return code;
        }
    };
    let mut host = match start(broker, options, backends).await {
        Ok(h) => h,
        Err(code) => return code,
    };
    let code = host_app::serve(&mut host, args, Credential::Code, output).await;
    host.shutdown().await;
    code
}

/// Runs `ra-host easy-connect`; the exit code.
pub async fn run_easy_connect(args: EasyConnectArgs, output: Output) -> u8 {
    run_flow(
        &args.broker,
        &args.host,
        output,
        |broker, options, backends| async move {
            let host = easy_connect_host(broker, options, backends)
                .await
                .map_err(|e| {
                    output.error(&e.to_string());
                    match e {
                        WaitError::Host(InviteError::Policy) => 5,
                        _ => 1,
                    }
                })?;
            let code = host.code().to_string();
            let expires = humantime::format_rfc3339_seconds(host.expires_at()).to_string();
            output.event(
                "code",
                json!({ "code": code, "expires_at": expires, "flow": "easy_connect" }),
                || format!("Your code: {code}  (read it to your helper; valid until {expires})"),
            );
            Ok(host)
        },
    )
    .await
}

/// Runs `ra-host join`; the exit code.
pub async fn run_join(args: JoinArgs, output: Output) -> u8 {
    let code = match Code::parse(&args.code) {
        Ok(c) => c,
        Err(e) => {
            output.error(&format!("invalid code: {e}"));
            return 2;
        }
    };
    run_flow(
        &args.broker,
        &args.host,
        output,
        |broker, options, backends| async move {
            let host = join(broker, &code, options, backends).await.map_err(|e| {
                output.error(&e.to_string());
                match e {
                    ClaimError::Unavailable => 5,
                    ClaimError::Unreachable(_) | ClaimError::Broker(_) => 6,
                    ClaimError::RateLimited { .. } => 7,
                    _ => 1,
                }
            })?;
            let relayed = host.relayed().unwrap_or(false);
            output.event("joined", json!({ "relayed": relayed }), || {
                format!(
                    "Connected to the helper{}; waiting for it to authenticate.",
                    if relayed {
                        " through the broker's relay"
                    } else {
                        ""
                    }
                )
            });
            Ok(host)
        },
    )
    .await
}
