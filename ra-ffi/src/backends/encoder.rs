//! An encoder written in C.

use std::ffi::c_void;

use ra_core::media::{CodecError, EncodedFrame, Encoder, Frame};

use super::callbacks::{CBackend, Callbacks, callback_table};
use crate::error::Error;
use crate::events::RA_BACKEND_ENCODER;
use crate::guard::backend_guard;
use crate::result::*;
use crate::types::{ra_frame, ra_rect};

/// Largest encoded frame accepted from a C encoder (the helper refuses larger ones).
const MAX_ENCODED_FRAME: usize = 16 * 1024 * 1024;

/// What a C encoder produced: `len` bytes at `data` (valid until the next
/// call of any of the encoder's callbacks); `len` 0 means the frame was skipped.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ra_encoded_frame {
    /// The compressed bitstream (H.264 Annex B for the built-in decoder).
    pub data: *const u8,
    /// Bytes at `data`; 0 skips the frame.
    pub len: usize,
    /// Nonzero if the frame decodes without any earlier frame.
    pub keyframe: u8,
}

/// An encoder written in C: `user_data` first in every callback.
///
/// - `encode` (required): compress `frame` (borrowed for the call), as a
///   keyframe if `force_keyframe` is nonzero; fill `*out` and return
///   `RA_RESULT_OK`. Any other code is a failure, reported as
///   `RA_HOST_EVENT_BACKEND_ERROR`; the engine then asks for a keyframe.
/// - `set_bitrate` (optional): a target in bits per second (a hint).
/// - `destroy` (optional): the library is done with `user_data`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ra_encoder_callbacks {
    /// Passed first to every callback.
    pub user_data: *mut c_void,
    /// Compresses one frame.
    pub encode: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            frame: *const ra_frame,
            force_keyframe: u8,
            out: *mut ra_encoded_frame,
        ) -> ra_result,
    >,
    /// Sets the target bitrate.
    pub set_bitrate: Option<unsafe extern "C" fn(user_data: *mut c_void, bits_per_second: u32)>,
    /// Releases `user_data`.
    pub destroy: Option<unsafe extern "C" fn(user_data: *mut c_void)>,
}

type EncodeFn =
    unsafe extern "C" fn(*mut c_void, *const ra_frame, u8, *mut ra_encoded_frame) -> ra_result;

callback_table!(ra_encoder_callbacks, "encoder", RA_BACKEND_ENCODER, encode: EncodeFn);

/// An owned encoder table; dropping it calls `destroy` once.
pub(crate) type EncoderCallbacks = Callbacks<ra_encoder_callbacks>;

/// [`Encoder`] over a C table.
pub(crate) type CEncoder = CBackend<ra_encoder_callbacks>;

impl Encoder for CEncoder {
    fn encode(
        &mut self,
        frame: &Frame<'_>,
        force_keyframe: bool,
    ) -> std::result::Result<Option<EncodedFrame>, CodecError> {
        let encode = self.callbacks.required;
        let user_data = self.callbacks.user_data();
        let damage: Vec<ra_rect> = frame.damage.iter().map(|&r| ra_rect::from(r)).collect();
        let view = ra_frame {
            data: frame.data.as_ptr(),
            len: frame.data.len(),
            width: frame.width,
            height: frame.height,
            stride: frame.stride,
            damage: damage.as_ptr(),
            damage_len: damage.len(),
            captured_at_us: frame.captured_at.as_micros(),
            display: frame.display.0,
        };
        let encoded = backend_guard(|| {
            let mut out = ra_encoded_frame {
                data: std::ptr::null(),
                len: 0,
                keyframe: 0,
            };
            // SAFETY: the application's callback, called as documented; `view`
            // and what it points at outlive the call.
            let code = unsafe { encode(user_data, &view, u8::from(force_keyframe), &mut out) };
            Self::check("encode", code)?;
            if out.len == 0 {
                return Ok(None);
            }
            if out.data.is_null() || out.len > MAX_ENCODED_FRAME {
                return Err(Error::new(
                    RA_RESULT_BACKEND,
                    format!("encode returned {} bytes at {:?}", out.len, out.data),
                ));
            }
            // SAFETY: non-NULL, `len` (bounded) bytes valid until the next
            // callback, by contract; copied before returning.
            let data = unsafe { std::slice::from_raw_parts(out.data, out.len) }.to_vec();
            Ok(Some(EncodedFrame {
                data,
                width: frame.width,
                height: frame.height,
                keyframe: out.keyframe != 0,
                captured_at: frame.captured_at,
                damage: frame.damage.clone(),
                display: frame.display,
            }))
        });
        encoded.map_err(|e| CodecError::Backend(self.report(e).into()))
    }

    fn set_bitrate(&mut self, bits_per_second: u32) {
        if let Some(set_bitrate) = self.callbacks.table.set_bitrate {
            // SAFETY: the application's callback, called as documented.
            self.notify(|user_data| unsafe { set_bitrate(user_data, bits_per_second) });
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use ra_core::media::{DisplayId, Rect, Timestamp};

    use super::*;
    use crate::backends::BackendSink;
    use crate::events::HostItem;
    use crate::queue::{EventQueue, Pop};

    /// Counts calls and answers with 3 bytes, a keyframe when forced.
    #[derive(Default)]
    struct State {
        calls: u32,
        forced: u32,
        width: u32,
        damage: usize,
        destroyed: u32,
        fail: bool,
    }

    const BITSTREAM: [u8; 3] = [0, 0, 1];

    unsafe extern "C" fn encode(
        user_data: *mut c_void,
        frame: *const ra_frame,
        force_keyframe: u8,
        out: *mut ra_encoded_frame,
    ) -> ra_result {
        // SAFETY: the test passes a State; the library passes valid pointers.
        let (state, frame, out) = unsafe { (&mut *(user_data as *mut State), &*frame, &mut *out) };
        state.calls += 1;
        state.forced += u32::from(force_keyframe);
        state.width = frame.width;
        state.damage = frame.damage_len;
        if state.fail {
            return RA_RESULT_INVALID_STATE;
        }
        *out = ra_encoded_frame {
            data: BITSTREAM.as_ptr(),
            len: BITSTREAM.len(),
            keyframe: force_keyframe,
        };
        RA_RESULT_OK
    }

    unsafe extern "C" fn destroy(user_data: *mut c_void) {
        // SAFETY: the test passes a State.
        unsafe { (*(user_data as *mut State)).destroyed += 1 };
    }

    #[test]
    fn a_c_encoder_gets_frames_and_its_failures_are_reported() {
        let mut state = State::default();
        let table = ra_encoder_callbacks {
            user_data: (&mut state as *mut State).cast(),
            encode: Some(encode),
            set_bitrate: None,
            destroy: Some(destroy),
        };
        let queue = Arc::new(EventQueue::<HostItem>::new());
        let sink = BackendSink::new(queue.clone());
        // SAFETY: a valid table whose functions follow the contract.
        let callbacks = unsafe { EncoderCallbacks::from_c(&table) }.unwrap();
        let mut encoder = CEncoder::new(callbacks, sink.clone());
        let pixels = vec![0u8; 64 * 32 * 4];
        let frame = Frame {
            width: 64,
            height: 32,
            stride: 256,
            data: &pixels,
            damage: vec![Rect::new(0, 0, 8, 8), Rect::new(8, 8, 8, 8)],
            captured_at: Timestamp(42),
            display: DisplayId(0),
        };
        let encoded = encoder.encode(&frame, true).unwrap().unwrap();
        assert_eq!(encoded.data, BITSTREAM);
        assert!(encoded.keyframe);
        assert_eq!((encoded.width, encoded.captured_at), (64, Timestamp(42)));
        assert!(!encoder.encode(&frame, false).unwrap().unwrap().keyframe);

        state.fail = true;
        assert!(encoder.encode(&frame, false).is_err());
        match queue.pop(Some(std::time::Duration::ZERO), None) {
            Pop::Item(HostItem::Backend { backend, error }) => {
                assert_eq!(backend, crate::events::RA_BACKEND_ENCODER);
                assert_eq!(error.code, RA_RESULT_INVALID_STATE);
            }
            _ => panic!("no backend error reported"),
        }
        assert!(!sink.liveness().wait_none(std::time::Duration::ZERO));
        drop(encoder);
        assert!(sink.liveness().wait_none(std::time::Duration::ZERO));
        assert_eq!(
            (state.calls, state.forced, state.width, state.damage),
            (3, 1, 64, 2)
        );
        assert_eq!(state.destroyed, 1);
    }
}
