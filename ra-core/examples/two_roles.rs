//! Both roles in one program, over loopback: the README's example, compiled.
//! Run it with `cargo run -p ra-core --example two_roles`.

use ra_core::invitation::Invitation;
use ra_core::password::Password;
use ra_core::runtime::{
    AcceptOptions, HelperSessionEvent, HostBackends, InviteOptions, accept, invite,
};
use ra_core::session::HostEvent;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir();
    // --- host: open an invitation, tell the password, consent to each step ---
    let options = InviteOptions {
        listen: "127.0.0.1:0".parse()?,
        ..InviteOptions::default()
    };
    let backends = HostBackends::new(
        Box::new(ra_capture::SyntheticCapturer::default()),
        Box::new(ra_codec::OpenH264Encoder::default()),
        Box::new(ra_input::LogInjector::stdout()),
    );
    let mut host = invite(options, backends).await?;
    host.invitation().save(&dir.join("help.rainv"))?; // the file goes to the helper…
    let password = host.password().to_string(); // …the password is read to them aloud
    tokio::spawn(async move {
        while let Some(event) = host.next_event().await {
            let _ = match event {
                HostEvent::ConnectionRequest { conn, .. } => host.approve(conn).await,
                HostEvent::ControlRequested { conn, .. } => host.grant_control(conn).await,
                _ => Ok(()),
            };
        }
    });

    // --- helper: accept with the file and the password, ask for control, watch ---
    let invitation = Invitation::load(&dir.join("help.rainv"))?;
    let decoder = Box::new(ra_codec::OpenH264Decoder::new()?);
    let mut helper = accept(
        &invitation,
        &Password::parse(&password)?,
        AcceptOptions::default(),
        decoder,
    )
    .await?;
    helper.request_control().await?;
    for _ in 0..30 {
        if let Some(HelperSessionEvent::Frame(frame)) = helper.next_event().await {
            println!(
                "frame {}: {}x{}",
                frame.seq, frame.frame.width, frame.frame.height
            );
        }
    }
    helper.end().await?;
    Ok(())
}
