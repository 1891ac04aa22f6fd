//! The sans-IO session state machines.
//!
//! Like `quinn-proto`, nothing here touches a socket, a thread or a clock:
//! inputs are bytes received on a stream, commands from the application and
//! the current time (`now`), passed in; outputs are bytes to send
//! ([`HostEndpoint::poll_transmit`]), the next timer
//! ([`HostEndpoint::poll_timeout`]), events for the application
//! ([`HostEndpoint::poll_event`]), and commands for the input injector and the
//! media pipeline. The async `runtime` drives them over QUIC; tests drive two
//! of them on a virtual clock.
//!
//! - [`HostEndpoint`]: one open invitation and the connections made to it
//!   (authentication, failed-attempt counting, approval, control, pause, policy).
//! - [`HelperConnection`]: the helper's side of one connection.

mod auth;
mod bucket;
mod framing;
mod helper;
mod host;
pub mod link;
mod types;
mod video_stream;
mod wire;

pub use auth::ChannelBinding;
pub use framing::{FrameDecoder, FramingError, encode_frame};
pub use helper::{
    HeldResumeOffer, HelperCommand, HelperConfig, HelperConnection, HelperEvent, HelperTransmit,
    RECEIPT_WAIT,
};
pub use host::{
    COUNTERSIGNATURE_WAIT, DeskCommand, HelperVerification, HostCommand, HostConfig, HostEndpoint,
    HostEvent, HostTransmit, Injection, MediaCommand, OfferRecord, ResumeGrant,
    UNVERIFIED_HELPER_WARNING,
};
pub use types::{
    CommandError, ConnectionId, ControlScopes, ControlState, DenyReason, EndReason, GrantId,
    InvitationCloseReason, PointerKind, RevokeReason, SessionRng,
};
pub use video_stream::{VideoStream, VideoStreamError, decode_video_stream, encode_video_header};
pub use wire::{
    MAX_CHAT_LEN, MAX_CLIPBOARD_LEN, MAX_CONTROL_MESSAGE, MAX_INPUT_MESSAGE, MAX_NAME_LEN,
    MAX_VIDEO_HEADER, decode_input_event, encode_input_event, end_reason_code,
    end_reason_from_code, sanitize_display_text,
};
