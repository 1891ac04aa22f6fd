//! `--snapshot`: the last frame, with the host's pointer drawn in, as a PNG.

use std::path::Path;

use ra_core::media::{CursorShape, CursorUpdate, DecodedFrame};

/// The host's pointer as last reported, to draw into snapshots.
#[derive(Default)]
pub(super) struct Pointer {
    x: i32,
    y: i32,
    visible: bool,
    shape: Option<CursorShape>,
}

impl Pointer {
    /// Takes in a move or a new shape (an update without a shape keeps the last).
    pub(super) fn update(&mut self, update: CursorUpdate) {
        self.x = update.x;
        self.y = update.y;
        self.visible = update.visible;
        if update.shape.is_some() {
            self.shape = update.shape;
        }
    }

    fn draw(&self, frame: &mut DecodedFrame) {
        if let (true, Some(shape)) = (self.visible, &self.shape) {
            frame.draw_cursor(shape, self.x, self.y);
        }
    }
}

/// Writes `frame` with `pointer` drawn in to `path`.
pub(super) fn write(path: &Path, mut frame: DecodedFrame, pointer: &Pointer) -> Result<(), String> {
    pointer.draw(&mut frame);
    write_png(path, &frame)
}

fn write_png(path: &Path, frame: &DecodedFrame) -> Result<(), String> {
    let file = std::fs::File::create(path).map_err(|e| e.to_string())?;
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), frame.width, frame.height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
    let row = frame.width as usize * 4;
    let mut rgba = Vec::with_capacity(row * frame.height as usize);
    for y in 0..frame.height as usize {
        let start = y * frame.stride;
        let line = frame
            .data
            .get(start..start + row)
            .ok_or("frame buffer too short")?;
        // Frames are BGRA; a screen is opaque whatever its alpha says.
        for px in line.chunks_exact(4) {
            rgba.extend_from_slice(&[px[2], px[1], px[0], 255]);
        }
    }
    writer.write_image_data(&rgba).map_err(|e| e.to_string())
}
