//! The settled screen: grabbed with a plain GetImage (what the final PSNRs
//! compare against) and saved as a PNG for `--snapshots`.

use x11rb::connection::Connection as _;
use x11rb::protocol::xproto::{ConnectionExt as _, ImageFormat, Screen};
use x11rb::rust_connection::RustConnection;

use super::{HEIGHT, PICTURE_BYTES, Res, WIDTH};

/// A connection to `display` and its screen; on Wayland the screen's
/// `root` is the canvas the scenes are drawn in ([`super::stage::canvas`]).
pub(crate) fn connect(display: &str) -> Res<(RustConnection, Screen)> {
    let (conn, screen_num) = RustConnection::connect(Some(display))?;
    let mut screen = conn
        .setup()
        .roots
        .get(screen_num)
        .ok_or("the X server has no screen")?
        .clone();
    if let Some(canvas) = super::stage::canvas() {
        screen.root = canvas;
    }
    Ok((conn, screen))
}

/// The whole screen of `display`, read with a plain GetImage: BGRX, stride 4 × width.
pub(crate) fn grab_screen(display: &str) -> Res<Vec<u8>> {
    let (conn, screen) = connect(display)?;
    let root = screen.root;
    let reply = conn
        .get_image(ImageFormat::Z_PIXMAP, root, 0, 0, WIDTH, HEIGHT, !0)?
        .reply()?;
    if reply.data.len() != PICTURE_BYTES {
        return Err(format!(
            "GetImage returned {} bytes, expected {PICTURE_BYTES}",
            reply.data.len()
        )
        .into());
    }
    Ok(reply.data)
}

/// Writes a BGRX picture of the screen as a PNG.
pub(crate) fn save_png(path: &std::path::Path, bgrx: &[u8]) -> Res<()> {
    let file = std::fs::File::create(path)?;
    let mut encoder = png::Encoder::new(
        std::io::BufWriter::new(file),
        u32::from(WIDTH),
        u32::from(HEIGHT),
    );
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let rgb: Vec<u8> = bgrx
        .chunks_exact(4)
        .flat_map(|p| [p[2], p[1], p[0]])
        .collect();
    encoder.write_header()?.write_image_data(&rgb)?;
    Ok(())
}
