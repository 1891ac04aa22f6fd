//! Where windows are, by their class (`WM_CLASS`): the redaction mask
//! follows the windows the host masks as they move ([`X11WindowLocator`]).

use ra_core::media::{CaptureError, Rect, WindowLocator};
use x11rb::connection::Connection as _;
use x11rb::errors::{ConnectionError, ReplyError};
use x11rb::protocol::xproto::{AtomEnum, ConnectionExt as _, MapState, Window};
use x11rb::rust_connection::RustConnection;

use super::error::lost;

/// How deep below the root a client window is looked for: a window
/// manager puts each client in a frame (root → frame → client).
const MAX_DEPTH: usize = 3;

/// Finds viewable windows by class on an X display, for the redaction
/// mask. A connection of its own, so that the capturer's is never kept
/// waiting.
pub struct X11WindowLocator {
    conn: RustConnection,
    root: Window,
}

impl std::fmt::Debug for X11WindowLocator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("X11WindowLocator")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

impl X11WindowLocator {
    /// Connects to `display` (`None`: `$DISPLAY`).
    ///
    /// # Errors
    /// [`CaptureError::SourceLost`] when the display cannot be reached.
    pub fn connect(display: Option<&str>) -> Result<Self, CaptureError> {
        let (conn, screen) = RustConnection::connect(display)
            .map_err(|e| CaptureError::SourceLost(format!("cannot connect to X: {e}")))?;
        let root = conn.setup().roots[screen].root;
        Ok(X11WindowLocator { conn, root })
    }

    /// The viewable windows whose class is one of `classes`, looked for
    /// level by level down to [`MAX_DEPTH`] below the root. Each level's
    /// requests are all sent before any reply is read, so that a desktop of
    /// hundreds of windows costs a few round trips, not hundreds. A window
    /// that goes away meanwhile is no error; a lost connection is.
    fn search(&self, classes: &[String]) -> Result<Vec<Rect>, CaptureError> {
        let mut found = Vec::new();
        let mut level = vec![self.root];
        for _ in 0..MAX_DEPTH {
            let trees = level
                .iter()
                .map(|&window| self.conn.query_tree(window))
                .collect::<Result<Vec<_>, _>>()
                .map_err(lost)?;
            let mut children = Vec::new();
            for tree in trees {
                match tree.reply() {
                    Ok(tree) => children.extend(tree.children),
                    Err(ReplyError::ConnectionError(e)) => return Err(lost(e)),
                    Err(ReplyError::X11Error(_)) => {}
                }
            }
            let asked = children
                .iter()
                .map(|&window| {
                    Ok((
                        window,
                        self.conn.get_window_attributes(window)?,
                        self.conn.get_property(
                            false,
                            window,
                            AtomEnum::WM_CLASS,
                            AtomEnum::STRING,
                            0,
                            256,
                        )?,
                    ))
                })
                .collect::<Result<Vec<_>, ConnectionError>>()
                .map_err(lost)?;
            let mut next = Vec::new();
            let mut matched = Vec::new();
            for (window, attributes, class) in asked {
                let (attributes, class) = match (attributes.reply(), class.reply()) {
                    (Ok(attributes), Ok(class)) => (attributes, class),
                    (Err(ReplyError::ConnectionError(e)), _)
                    | (_, Err(ReplyError::ConnectionError(e))) => return Err(lost(e)),
                    _ => continue,
                };
                if attributes.map_state != MapState::VIEWABLE {
                    continue;
                }
                if has_class(&class.value, classes) {
                    matched.push(window);
                } else {
                    next.push(window);
                }
            }
            found.extend(self.rects_of(&matched)?);
            level = next;
        }
        Ok(found)
    }

    /// Where `windows` are on the root, borders included (windows gone
    /// meanwhile left out).
    fn rects_of(&self, windows: &[Window]) -> Result<Vec<Rect>, CaptureError> {
        let asked = windows
            .iter()
            .map(|&window| {
                Ok((
                    self.conn.get_geometry(window)?,
                    self.conn.translate_coordinates(window, self.root, 0, 0)?,
                ))
            })
            .collect::<Result<Vec<_>, ConnectionError>>()
            .map_err(lost)?;
        let mut rects = Vec::new();
        for (geometry, at) in asked {
            let (geometry, at) = match (geometry.reply(), at.reply()) {
                (Ok(geometry), Ok(at)) => (geometry, at),
                (Err(ReplyError::ConnectionError(e)), _)
                | (_, Err(ReplyError::ConnectionError(e))) => {
                    return Err(lost(e));
                }
                _ => continue,
            };
            let border = i32::from(geometry.border_width);
            let side = |v: u16| u32::from(v) + 2 * u32::from(geometry.border_width);
            rects.push(Rect::new(
                i32::from(at.dst_x) - border,
                i32::from(at.dst_y) - border,
                side(geometry.width),
                side(geometry.height),
            ));
        }
        Ok(rects)
    }
}

/// Whether a `WM_CLASS` value (instance and class, each NUL-terminated)
/// names one of `classes`, without case.
fn has_class(value: &[u8], classes: &[String]) -> bool {
    value
        .split(|&b| b == 0)
        .filter(|part| !part.is_empty())
        .any(|part| {
            let name = String::from_utf8_lossy(part);
            classes.iter().any(|c| c.eq_ignore_ascii_case(&name))
        })
}

impl WindowLocator for X11WindowLocator {
    fn locate(&mut self, classes: &[String]) -> Result<Vec<Rect>, CaptureError> {
        if classes.is_empty() {
            return Ok(Vec::new());
        }
        self.search(classes)
    }
}
