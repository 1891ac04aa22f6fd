//! Where windows are, by their class (`WM_CLASS`): the redaction mask
//! follows the windows the host masks as they move ([`X11WindowLocator`]).

use ra_core::media::{CaptureError, Rect, WindowLocator};
use x11rb::connection::Connection as _;
use x11rb::protocol::xproto::{AtomEnum, ConnectionExt as _, MapState, Window};
use x11rb::rust_connection::RustConnection;

use super::error::{failed, lost};

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

    /// Whether `window`'s `WM_CLASS` (instance or class) is one of `classes`.
    fn has_class(&self, window: Window, classes: &[String]) -> Result<bool, CaptureError> {
        let reply = self
            .conn
            .get_property(false, window, AtomEnum::WM_CLASS, AtomEnum::STRING, 0, 256)
            .map_err(lost)?
            .reply()
            .map_err(failed("GetProperty"))?;
        Ok(reply
            .value
            .split(|&b| b == 0)
            .filter(|part| !part.is_empty())
            .any(|part| {
                let name = String::from_utf8_lossy(part);
                classes.iter().any(|c| c.eq_ignore_ascii_case(&name))
            }))
    }

    /// Where `window` is on the root, border included.
    fn rect_of(&self, window: Window) -> Result<Rect, CaptureError> {
        let geometry = self
            .conn
            .get_geometry(window)
            .map_err(lost)?
            .reply()
            .map_err(failed("GetGeometry"))?;
        let at = self
            .conn
            .translate_coordinates(window, self.root, 0, 0)
            .map_err(lost)?
            .reply()
            .map_err(failed("TranslateCoordinates"))?;
        let border = i32::from(geometry.border_width);
        let side = |v: u16| u32::from(v) + 2 * u32::from(geometry.border_width);
        Ok(Rect::new(
            i32::from(at.dst_x) - border,
            i32::from(at.dst_y) - border,
            side(geometry.width),
            side(geometry.height),
        ))
    }

    /// The viewable windows below `parent` (to `depth` levels) whose class
    /// is one of `classes`.
    fn search(
        &self,
        parent: Window,
        depth: usize,
        classes: &[String],
        found: &mut Vec<Rect>,
    ) -> Result<(), CaptureError> {
        let tree = self
            .conn
            .query_tree(parent)
            .map_err(lost)?
            .reply()
            .map_err(failed("QueryTree"))?;
        for window in tree.children {
            // A window gone since the tree was read is no error.
            let Ok(Ok(attributes)) = self
                .conn
                .get_window_attributes(window)
                .map(|cookie| cookie.reply())
            else {
                continue;
            };
            if attributes.map_state != MapState::VIEWABLE {
                continue;
            }
            if self.has_class(window, classes).unwrap_or(false) {
                if let Ok(rect) = self.rect_of(window) {
                    found.push(rect);
                }
            } else if depth > 1
                && let Err(e) = self.search(window, depth - 1, classes, found)
                && matches!(e, CaptureError::SourceLost(_))
            {
                // A window that went away meanwhile is no error; a lost
                // connection is.
                return Err(e);
            }
        }
        Ok(())
    }
}

impl WindowLocator for X11WindowLocator {
    fn locate(&mut self, classes: &[String]) -> Result<Vec<Rect>, CaptureError> {
        let mut found = Vec::new();
        if !classes.is_empty() {
            self.search(self.root, MAX_DEPTH, classes, &mut found)?;
        }
        Ok(found)
    }
}
