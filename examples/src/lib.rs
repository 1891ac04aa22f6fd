//! Shared parts of the example programs `ra-host`, `ra-helper`, `ra-viewer`
//! and `ra-demo`: output (one JSON object per line, or text for people), input
//! scripts, exit codes, the system clipboard, `--stats`, and the two sides' sessions,
//! whichever way they were started ([`host_app`] serves `ra-host invite`,
//! `easy-connect` and `join`; [`helper_app`] runs `ra-helper accept`,
//! `easy-connect` and `assist`).

pub mod broker_cli;
pub mod clipboard;
pub mod desktop;
pub mod exit;
pub mod files;
pub mod helper_app;
pub mod host_app;
pub mod output;
pub mod program;
pub mod receipt_file;
pub mod script;
pub mod stats;

/// Parses a human duration such as `10m`, `90s` or `1h 30m`.
///
/// # Errors
/// A message naming what could not be read.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(text).map_err(|e| format!("invalid duration {text:?}: {e}"))
}

/// Parses a rectangle `X,Y,W,H` (desktop pixels; width and height more
/// than 0), as `--redact` takes it.
///
/// # Errors
/// A message naming what could not be read.
pub fn parse_rect(text: &str) -> Result<ra_core::media::Rect, String> {
    let bad = || format!("invalid rectangle {text:?}: write X,Y,W,H (e.g. 100,50,400,300)");
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let [x, y, width, height] = parts.as_slice() else {
        return Err(bad());
    };
    let rect = ra_core::media::Rect::new(
        x.parse().map_err(|_| bad())?,
        y.parse().map_err(|_| bad())?,
        width.parse().map_err(|_| bad())?,
        height.parse().map_err(|_| bad())?,
    );
    if rect.is_empty() {
        return Err(format!("rectangle {text:?} is empty"));
    }
    Ok(rect)
}

/// Parses a size `WxH` such as `1280x720`, each side 16 to `max`; `what`
/// names the option in the error message.
///
/// # Errors
/// A message naming what could not be read.
pub fn parse_wxh(text: &str, what: &str, max: u32) -> Result<(u32, u32), String> {
    let (w, h) = text
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("invalid {what} {text:?}: expected WxH, e.g. 1280x720"))?;
    let parse = |v: &str| {
        v.parse::<u32>()
            .ok()
            .filter(|n| (16..=max).contains(n))
            .ok_or_else(|| format!("invalid {what} {text:?}: sides must be 16 to {max}"))
    };
    Ok((parse(w)?, parse(h)?))
}
