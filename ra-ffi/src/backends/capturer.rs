//! A capturer written in C.

use std::ffi::{CStr, c_void};
use std::time::Duration;

use ra_core::media::{
    CaptureError, Capturer, CursorUpdate, DisplayId, DisplayInfo, Frame, Rect, Timestamp,
};

use super::callbacks::{CBackend, Callbacks, callback_table};
use crate::error::{Error, Result};
use crate::events::RA_BACKEND_CAPTURER;
use crate::guard::backend_guard;
use crate::result::*;
use crate::types::{
    RA_MAX_DAMAGE_RECTS, cursor_from_c, frame_bytes_needed, ra_cursor_update, ra_display_info,
    ra_frame, ra_rect,
};

/// Largest number of displays accepted from a C capturer.
const MAX_DISPLAYS: usize = 64;

/// A capturer written in C: `user_data` first in every callback.
///
/// - `next_frame` (required): wait up to `timeout_ms` for the picture to
///   change; return `RA_RESULT_OK` with `*frame` filled in (its pixels and
///   damage stay valid until the next call of any of these callbacks), or
///   `RA_RESULT_TIMEOUT` when nothing changed. Any other code is a failure:
///   the host reports `RA_HOST_EVENT_BACKEND_ERROR` and stops sending video
///   until the helper asks for a keyframe or a display.
/// - `displays` (optional): point `*displays` at an array of `*count`
///   displays, valid until the next call; NULL means no display list.
/// - `select` (optional): capture display `display` from the next frame on.
///   Without it only display 0 can be selected.
/// - `invalidate` (optional): the next frame must be returned, whole, even if
///   nothing changed (a helper joined or asked for a keyframe).
/// - `destroy` (optional): the library is done with `user_data`.
/// - `cursor` (optional): report the pointer. Called after every
///   `next_frame` while a helper watches: return `RA_RESULT_OK` with
///   `*update` filled in when the pointer moved, appeared, disappeared or
///   changed shape since the last report (`update->shape.pixels` NULL when
///   the shape did not change; pixels valid until the next call of any of
///   these callbacks), or `RA_RESULT_TIMEOUT` when nothing changed. For a
///   pointer move to reach the helper at once, `next_frame` may return
///   `RA_RESULT_TIMEOUT` before `timeout_ms` when only the pointer changed.
///   Any other code, or an invalid shape, is reported as
///   `RA_HOST_EVENT_BACKEND_ERROR` and the update is dropped. Without it the
///   helper gets no pointer (draw it into the frames instead).
///
/// Fill the table with designated initializers, or zero it first: fields
/// may be added at its end in later versions, and unset ones must be NULL.
///
/// See the threads and ownership rules of `ra_host_backends`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ra_capturer_callbacks {
    /// Passed first to every callback.
    pub user_data: *mut c_void,
    /// Lists the displays.
    pub displays: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            displays: *mut *const ra_display_info,
            count: *mut usize,
        ) -> ra_result,
    >,
    /// Selects the display to capture.
    pub select: Option<unsafe extern "C" fn(user_data: *mut c_void, display: u32) -> ra_result>,
    /// Waits for and returns the next picture.
    pub next_frame: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            timeout_ms: u32,
            frame: *mut ra_frame,
        ) -> ra_result,
    >,
    /// Asks for a whole picture next time.
    pub invalidate: Option<unsafe extern "C" fn(user_data: *mut c_void)>,
    /// Releases `user_data`.
    pub destroy: Option<unsafe extern "C" fn(user_data: *mut c_void)>,
    /// Reports the pointer's changes.
    pub cursor: Option<
        unsafe extern "C" fn(user_data: *mut c_void, update: *mut ra_cursor_update) -> ra_result,
    >,
}

type NextFrameFn = unsafe extern "C" fn(*mut c_void, u32, *mut ra_frame) -> ra_result;

callback_table!(ra_capturer_callbacks, "capturer", RA_BACKEND_CAPTURER, next_frame: NextFrameFn);

/// An owned capturer table; dropping it calls `destroy` once.
pub(crate) type CapturerCallbacks = Callbacks<ra_capturer_callbacks>;

/// [`Capturer`] over a C table.
pub(crate) type CCapturer = CBackend<ra_capturer_callbacks>;

impl CCapturer {
    fn fail(&self, error: Error) -> CaptureError {
        CaptureError::Backend(self.report(error).into())
    }
}

impl Capturer for CCapturer {
    fn displays(&self) -> std::result::Result<Vec<DisplayInfo>, CaptureError> {
        let Some(displays) = self.callbacks.table.displays else {
            return Ok(Vec::new());
        };
        let user_data = self.callbacks.user_data();
        let listed = backend_guard(|| {
            let mut list: *const ra_display_info = std::ptr::null();
            let mut count = 0usize;
            // SAFETY: the application's callback, called as documented, with
            // pointers to two locals.
            let code = unsafe { displays(user_data, &mut list, &mut count) };
            if code != RA_RESULT_OK {
                return Err(Self::failed("displays", code));
            }
            if count == 0 {
                return Ok(Vec::new());
            }
            if list.is_null() || count > MAX_DISPLAYS {
                return Err(Error::new(
                    RA_RESULT_BACKEND,
                    format!("displays returned {count} displays at {list:?}"),
                ));
            }
            // SAFETY: the callback promised `count` displays at `list`, valid
            // until its next call; count is at most MAX_DISPLAYS.
            let infos = unsafe { std::slice::from_raw_parts(list, count) };
            Ok(infos
                .iter()
                .map(|info| DisplayInfo {
                    id: DisplayId(info.id),
                    name: if info.name.is_null() {
                        String::new()
                    } else {
                        // SAFETY: a non-NULL name is NUL-terminated (documented).
                        unsafe { CStr::from_ptr(info.name) }
                            .to_string_lossy()
                            .into_owned()
                    },
                    bounds: info.bounds.into(),
                    primary: info.primary != 0,
                })
                .collect())
        });
        listed.map_err(|e| self.fail(e))
    }

    fn select(&mut self, display: DisplayId) -> std::result::Result<(), CaptureError> {
        let Some(select) = self.callbacks.table.select else {
            return if display.0 == 0 {
                Ok(())
            } else {
                Err(CaptureError::NoSuchDisplay(display))
            };
        };
        let user_data = self.callbacks.user_data();
        let selected = backend_guard(|| {
            // SAFETY: the application's callback, called as documented.
            let code = unsafe { select(user_data, display.0) };
            Self::check("select", code)
        });
        selected.map_err(|e| self.fail(e))
    }

    fn next_frame(
        &mut self,
        timeout: Duration,
    ) -> std::result::Result<Option<Frame<'_>>, CaptureError> {
        let next_frame = self.callbacks.required;
        let user_data = self.callbacks.user_data();
        let timeout_ms = u32::try_from(timeout.as_millis()).unwrap_or(u32::MAX);
        let captured = backend_guard(|| {
            let mut frame = ra_frame::default();
            // SAFETY: the application's callback, called as documented, with
            // a pointer to a local.
            match unsafe { next_frame(user_data, timeout_ms, &mut frame) } {
                RA_RESULT_OK => {
                    // SAFETY: the callback promised the frame's memory stays
                    // valid until its next call; the returned `Frame` borrows
                    // `self`, so no callback runs while it lives.
                    unsafe { frame_from_c(&frame) }.map(Some)
                }
                RA_RESULT_TIMEOUT => Ok(None),
                code => Err(Self::failed("next_frame", code)),
            }
        });
        captured.map_err(|e| self.fail(e))
    }

    fn cursor(&mut self) -> Option<CursorUpdate> {
        let cursor = self.callbacks.table.cursor?;
        let user_data = self.callbacks.user_data();
        let reported = backend_guard(|| {
            let mut update = ra_cursor_update::default();
            // SAFETY: the application's callback, called as documented, with
            // a pointer to a local.
            match unsafe { cursor(user_data, &mut update) } {
                // SAFETY: the callback promised the shape's pixels stay valid
                // until its next call; they are copied here.
                RA_RESULT_OK => unsafe { cursor_from_c(&update) }
                    .map(Some)
                    .map_err(|e| Error::new(RA_RESULT_BACKEND, format!("cursor: {}", e.detail))),
                RA_RESULT_TIMEOUT => Ok(None),
                code => Err(Self::failed("cursor", code)),
            }
        });
        reported.unwrap_or_else(|e| {
            self.fail(e);
            None
        })
    }

    fn invalidate(&mut self) {
        if let Some(invalidate) = self.callbacks.table.invalidate {
            // SAFETY: the application's callback, called as documented.
            self.notify(|user_data| unsafe { invalidate(user_data) });
        }
    }
}

/// Checks a frame from C and borrows its pixels.
///
/// # Safety
/// `frame.data` is readable for `frame.len` bytes and `frame.damage` for
/// `frame.damage_len` rectangles during `'a`.
unsafe fn frame_from_c<'a>(frame: &ra_frame) -> Result<Frame<'a>> {
    let invalid = |what: String| Error::new(RA_RESULT_BACKEND, format!("next_frame: {what}"));
    if frame.data.is_null() {
        return Err(invalid("frame->data is NULL".into()));
    }
    let needed = frame_bytes_needed(frame.width, frame.height, frame.stride)
        .map_err(|e| invalid(e.detail))?;
    if frame.len < needed || frame.len > isize::MAX as usize {
        return Err(invalid(format!(
            "frame->len is {}, {needed} needed for {}x{} with stride {}",
            frame.len, frame.width, frame.height, frame.stride
        )));
    }
    let damage = if frame.damage_len == 0 {
        vec![Rect::new(0, 0, frame.width, frame.height)]
    } else {
        if frame.damage.is_null() || frame.damage_len > RA_MAX_DAMAGE_RECTS {
            return Err(invalid(format!(
                "{} damage rectangles at {:?}",
                frame.damage_len, frame.damage
            )));
        }
        // SAFETY: non-NULL, `damage_len` (bounded) rectangles by contract.
        let rects: &[ra_rect] =
            unsafe { std::slice::from_raw_parts(frame.damage, frame.damage_len) };
        rects.iter().map(|&r| Rect::from(r)).collect()
    };
    Ok(Frame {
        width: frame.width,
        height: frame.height,
        stride: frame.stride,
        // SAFETY: non-NULL, readable for `len` ≤ isize::MAX bytes during 'a by contract.
        data: unsafe { std::slice::from_raw_parts(frame.data, frame.len) },
        damage,
        captured_at: if frame.captured_at_us == 0 {
            Timestamp::now()
        } else {
            Timestamp(frame.captured_at_us)
        },
        display: DisplayId(frame.display),
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::backends::BackendSink;
    use crate::events::HostItem;
    use crate::queue::{EventQueue, Pop};

    /// Answers `cursor` with `answer`: a shape on the first call, then only
    /// moves, or `code` when not OK.
    struct PointerState {
        calls: u32,
        code: ra_result,
        pixels: [u8; 8],
        destroyed: u32,
    }

    unsafe extern "C" fn never_a_frame(_: *mut c_void, _: u32, _: *mut ra_frame) -> ra_result {
        RA_RESULT_TIMEOUT
    }

    unsafe extern "C" fn report_cursor(
        user_data: *mut c_void,
        update: *mut ra_cursor_update,
    ) -> ra_result {
        // SAFETY: the test passes a PointerState; the library a valid update.
        let (state, update) = unsafe { (&mut *(user_data as *mut PointerState), &mut *update) };
        state.calls += 1;
        if state.code != RA_RESULT_OK {
            return state.code;
        }
        update.x = 10 * state.calls as i32;
        update.y = 5;
        update.visible = 1;
        if state.calls == 1 {
            update.shape = crate::types::ra_cursor_shape {
                pixels: state.pixels.as_ptr(),
                len: state.pixels.len(),
                width: 2,
                height: 1,
                hot_x: 1,
                hot_y: 0,
            };
        }
        RA_RESULT_OK
    }

    unsafe extern "C" fn destroy_pointer(user_data: *mut c_void) {
        // SAFETY: the test passes a PointerState.
        unsafe { (*(user_data as *mut PointerState)).destroyed += 1 };
    }

    #[test]
    fn a_c_capturer_reports_the_pointer() {
        let mut state = PointerState {
            calls: 0,
            code: RA_RESULT_OK,
            pixels: [1, 2, 3, 255, 0, 0, 0, 0],
            destroyed: 0,
        };
        let table = ra_capturer_callbacks {
            user_data: (&mut state as *mut PointerState).cast(),
            displays: None,
            select: None,
            next_frame: Some(never_a_frame),
            invalidate: None,
            destroy: Some(destroy_pointer),
            cursor: Some(report_cursor),
        };
        let queue = Arc::new(EventQueue::<HostItem>::new());
        // SAFETY: a valid table whose functions follow the contract.
        let callbacks = unsafe { CapturerCallbacks::from_c(&table) }.unwrap();
        let mut capturer = CCapturer::new(callbacks, BackendSink::new(queue.clone()));
        let first = capturer.cursor().unwrap();
        assert_eq!((first.x, first.y, first.visible), (10, 5, true));
        assert_eq!(first.shape.unwrap().pixels, [1, 2, 3, 255, 0, 0, 0, 0]);
        let second = capturer.cursor().unwrap();
        assert_eq!(second.x, 20);
        assert!(second.shape.is_none());

        state.code = RA_RESULT_TIMEOUT;
        assert!(capturer.cursor().is_none());
        assert!(matches!(
            queue.pop(Some(std::time::Duration::ZERO), None),
            Pop::Timeout
        ));
        state.code = RA_RESULT_INVALID_STATE;
        assert!(capturer.cursor().is_none());
        match queue.pop(Some(std::time::Duration::ZERO), None) {
            Pop::Item(HostItem::Backend { backend, error }) => {
                assert_eq!(backend, RA_BACKEND_CAPTURER);
                assert_eq!(error.code, RA_RESULT_INVALID_STATE);
            }
            _ => panic!("no backend error reported"),
        }
        drop(capturer);
        assert_eq!((state.calls, state.destroyed), (4, 1));
    }

    fn frame(pixels: &[u8], width: u32, height: u32, stride: usize) -> ra_frame {
        ra_frame {
            data: pixels.as_ptr(),
            len: pixels.len(),
            width,
            height,
            stride,
            ..ra_frame::default()
        }
    }

    #[test]
    fn frames_from_c_are_checked() {
        let pixels = vec![0u8; 16 * 4 * 4];
        // SAFETY: every frame points into `pixels` with its true length.
        unsafe {
            let ok = frame_from_c(&frame(&pixels, 16, 4, 64)).unwrap();
            assert_eq!(ok.damage, vec![Rect::new(0, 0, 16, 4)]);
            assert!(frame_from_c(&frame(&pixels, 16, 4, 32)).is_err()); // stride < 4 × width
            assert!(frame_from_c(&frame(&pixels, 16, 5, 64)).is_err()); // too short
            assert!(frame_from_c(&frame(&pixels, 0, 4, 64)).is_err());
            let mut no_data = frame(&pixels, 16, 4, 64);
            no_data.data = std::ptr::null();
            assert!(frame_from_c(&no_data).is_err());
            let mut bad_damage = frame(&pixels, 16, 4, 64);
            bad_damage.damage_len = 3; // with a NULL pointer
            assert!(frame_from_c(&bad_damage).is_err());
            let rects = [ra_rect {
                x: 1,
                y: 2,
                width: 3,
                height: 1,
            }];
            let mut damaged = frame(&pixels, 16, 4, 64);
            damaged.damage = rects.as_ptr();
            damaged.damage_len = 1;
            assert_eq!(
                frame_from_c(&damaged).unwrap().damage,
                vec![Rect::new(1, 2, 3, 1)]
            );
        }
    }
}
