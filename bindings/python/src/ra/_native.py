"""The C API of ra through ctypes: the library, its structs and its functions."""

from __future__ import annotations

import ctypes
import os
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_char_p,
    c_double,
    c_int32,
    c_int64,
    c_size_t,
    c_uint8,
    c_uint16,
    c_uint32,
    c_uint64,
    c_void_p,
)
from pathlib import Path
from typing import List, Tuple

ra_result = c_uint32


from ._version import IncompatibleLibraryError, __version__, compatible

LIBRARY_NAME = "libra_ffi.so"
SONAME = "libra_ffi.so." + __version__.split(".")[0]
"""What the system's loader knows the library by (``libra_ffi.so.MAJOR``)."""


class _DlInfo(Structure):
    _fields_ = [("dli_fname", c_char_p), ("dli_fbase", c_void_p), ("dli_sname", c_char_p),
                ("dli_saddr", c_void_p)]


def _path_of(library: ctypes.CDLL, fallback: str) -> str:
    """The file a loaded library came from (dladdr on one of its symbols)."""
    try:
        libc = ctypes.CDLL(None)
        dladdr = libc.dladdr
        dladdr.argtypes = [c_void_p, POINTER(_DlInfo)]
        dladdr.restype = ctypes.c_int
        info = _DlInfo()
        address = ctypes.cast(library.ra_version, c_void_p)
        if dladdr(address, ctypes.byref(info)) and info.dli_fname:
            return os.path.realpath(os.fsdecode(info.dli_fname))
    except (OSError, AttributeError):
        pass
    return fallback


def _candidates() -> List[str]:
    """Where to look, in order: ``$RA_LIBRARY`` (alone: an explicit choice is
    never passed over), the copy bundled in this package, then the system's
    ``libra_ffi.so.MAJOR``."""
    explicit = os.environ.get("RA_LIBRARY")
    if explicit:
        return [explicit]
    candidates = []
    bundled = Path(__file__).with_name(LIBRARY_NAME)
    if bundled.exists():
        candidates.append(str(bundled))
    candidates.append(SONAME)
    return candidates


def _load() -> Tuple[ctypes.CDLL, str, str]:
    """Loads libra_ffi and checks its version; the library, its path and
    its version. :class:`IncompatibleLibraryError` for a version this
    package cannot use, OSError when none can be loaded."""
    errors = []
    for candidate in _candidates():
        try:
            # CDLL (not PyDLL) releases the GIL during calls, so the library's
            # threads can run Python callbacks while a call blocks.
            library = ctypes.CDLL(candidate)
        except OSError as e:
            errors.append(f"{candidate}: {e}")
            continue
        path = _path_of(library, candidate)
        try:
            version_function = library.ra_version
        except AttributeError:
            raise IncompatibleLibraryError(__version__, "unknown (no ra_version)", path) from None
        version_function.restype = c_char_p
        version_function.argtypes = []
        version = (version_function() or b"").decode("utf-8", "replace")
        if not compatible(__version__, version):
            raise IncompatibleLibraryError(__version__, version, path)
        return library, path, version
    raise OSError("cannot load libra_ffi (set RA_LIBRARY to the path of libra_ffi.so): "
                  + "; ".join(errors))


lib, library_path, library_version = _load()


class Sized(Structure):
    """A struct the library writes (or reads) with ``struct_size`` first: set
    to this struct's size on creation, as ``RA_SIZED`` does in C, so the
    library writes no more than this binding knows of."""

    def __init__(self, **fields) -> None:
        super().__init__(**fields)
        self.struct_size = ctypes.sizeof(self)


class Rect(Structure):
    _fields_ = [("x", c_int32), ("y", c_int32), ("width", c_uint32), ("height", c_uint32)]


class FrameData(Structure):
    _fields_ = [
        ("data", c_void_p),
        ("len", c_size_t),
        ("width", c_uint32),
        ("height", c_uint32),
        ("stride", c_size_t),
        ("damage", POINTER(Rect)),
        ("damage_len", c_size_t),
        ("captured_at_us", c_uint64),
        ("display", c_uint32),
    ]


class DisplayInfo(Structure):
    _fields_ = [("id", c_uint32), ("name", c_char_p), ("bounds", Rect), ("primary", c_uint8)]


class InputEventData(Structure):
    _fields_ = [
        ("kind", c_uint32),
        ("x", c_int32),
        ("y", c_int32),
        ("button", c_uint32),
        ("key", c_uint32),
        ("pressed", c_uint8),
        ("text", c_char_p),
    ]


class CursorShape(Structure):
    _fields_ = [
        ("pixels", c_void_p),
        ("len", c_size_t),
        ("width", c_uint32),
        ("height", c_uint32),
        ("hot_x", c_uint32),
        ("hot_y", c_uint32),
    ]


class CursorUpdate(Structure):
    _fields_ = [("x", c_int32), ("y", c_int32), ("visible", c_uint8), ("shape", CursorShape)]


class CodeInfo(Sized):
    _fields_ = [("struct_size", c_size_t), ("code", c_char_p), ("expires_at_unix", c_int64), ("path", c_uint32)]


class DiagnosisCheck(Sized):
    _fields_ = [("struct_size", c_size_t), ("name", c_char_p), ("ok", c_uint8), ("detail", c_char_p)]


class HostEventData(Sized):
    _fields_ = [
        ("struct_size", c_size_t),
        ("kind", c_uint32),
        ("connection", c_uint64),
        ("helper_name", c_char_p),
        ("peer", c_char_p),
        ("text", c_char_p),
        ("reason", c_uint32),
        ("reason_name", c_char_p),
        ("attempts", c_uint32),
        ("max_attempts", c_uint32),
        ("grant", c_uint32),
        ("x", c_int32),
        ("y", c_int32),
        ("pointer_kind", c_uint32),
        ("backend", c_uint32),
        ("backend_result", ra_result),
        ("description", c_char_p),
        ("enabled", c_uint8),
        ("bytes", c_uint32),
        ("scopes", c_uint32),
        ("expires_at_ms", c_uint64),
        ("verified", c_uint8),
        ("organisation", c_char_p),
        ("organisation_key", c_char_p),
        ("verified_helper", c_char_p),
        ("helper_key", c_char_p),
        ("identity_expires_ms", c_uint64),
        ("identity_problem", c_char_p),
        ("warning", c_char_p),
        ("countersigned", c_uint8),
        ("display", c_uint32),
        ("redactions", POINTER(Rect)),
        ("redactions_len", c_size_t),
        ("silent_ms", c_uint64),
        ("resumes", c_char_p),
    ]


class HelperEventData(Sized):
    _fields_ = [
        ("struct_size", c_size_t),
        ("kind", c_uint32),
        ("host_name", c_char_p),
        ("text", c_char_p),
        ("reason", c_uint32),
        ("reason_name", c_char_p),
        ("grant", c_uint32),
        ("displays", POINTER(DisplayInfo)),
        ("displays_len", c_size_t),
        ("selected_display", c_uint32),
        ("frame", FrameData),
        ("seq", c_uint64),
        ("latency_us", c_uint64),
        ("encoded_bytes", c_size_t),
        ("description", c_char_p),
        ("enabled", c_uint8),
        ("cursor", CursorUpdate),
        ("scopes", c_uint32),
        ("expires_in_ms", c_uint64),
        ("countersigned", c_uint8),
        ("redactions", POINTER(Rect)),
        ("redactions_len", c_size_t),
        ("silent_ms", c_uint64),
    ]


class InvitationInfo(Sized):
    _fields_ = [
        ("struct_size", c_size_t),
        ("host_name", c_char_p),
        ("session_id", c_char_p),
        ("created_at_unix", c_int64),
        ("expires_at_unix", c_int64),
        ("address_count", c_size_t),
    ]


class PolicySettings(Sized):
    _fields_ = [
        ("struct_size", c_size_t),
        ("allow_assistance", c_uint8),
        ("allow_control", c_uint8),
        ("allow_clipboard", c_uint8),
        ("max_invitation_lifetime_ms", c_uint64),
        ("approval_timeout_ms", c_uint64),
        ("allow_resume_tickets", c_uint8),
        ("max_resume_ticket_lifetime_ms", c_uint64),
    ]


class SessionStats(Sized):
    _fields_ = [
        ("struct_size", c_size_t),
        ("rtt_us", c_uint64),
        ("packets_sent", c_uint64),
        ("packets_lost", c_uint64),
        ("loss", c_double),
        ("bytes_sent", c_uint64),
        ("bytes_received", c_uint64),
        ("target_bitrate", c_uint32),
        ("target_frame_rate", c_double),
        ("frames_sent", c_uint64),
        ("frames_decoded", c_uint64),
        ("frames_dropped", c_uint64),
        ("encode_us_last", c_uint64),
        ("encode_us_mean", c_uint64),
        ("decode_us_last", c_uint64),
        ("decode_us_mean", c_uint64),
        ("input_events_sent", c_uint64),
        ("input_events_injected", c_uint64),
        ("input_events_held_back", c_uint64),
        ("messages_dropped", c_uint64),
        ("events_dropped", c_uint64),
    ]


INJECT = CFUNCTYPE(ra_result, c_void_p, POINTER(InputEventData))
RELEASE_ALL = CFUNCTYPE(ra_result, c_void_p)
DESTROY = CFUNCTYPE(None, c_void_p)
HOST_EVENT_CALLBACK = CFUNCTYPE(None, c_void_p, c_void_p)
HELPER_EVENT_CALLBACK = CFUNCTYPE(None, c_void_p, c_void_p)


DISPLAYS = CFUNCTYPE(ra_result, c_void_p, POINTER(POINTER(DisplayInfo)), POINTER(c_size_t))
SELECT = CFUNCTYPE(ra_result, c_void_p, c_uint32)
NEXT_FRAME = CFUNCTYPE(ra_result, c_void_p, c_uint32, POINTER(FrameData))
INVALIDATE = CFUNCTYPE(None, c_void_p)
CURSOR = CFUNCTYPE(ra_result, c_void_p, POINTER(CursorUpdate))


class CapturerCallbacks(Structure):
    _fields_ = [
        ("user_data", c_void_p),
        ("displays", DISPLAYS),
        ("select", SELECT),
        ("next_frame", NEXT_FRAME),
        ("invalidate", INVALIDATE),
        ("destroy", DESTROY),
        ("cursor", CURSOR),
    ]


class EncodedFrame(Structure):
    _fields_ = [("data", c_void_p), ("len", c_size_t), ("keyframe", c_uint8)]


ENCODE = CFUNCTYPE(ra_result, c_void_p, POINTER(FrameData), c_uint8, POINTER(EncodedFrame))
SET_BITRATE = CFUNCTYPE(None, c_void_p, c_uint32)


class EncoderCallbacks(Structure):
    _fields_ = [
        ("user_data", c_void_p),
        ("encode", ENCODE),
        ("set_bitrate", SET_BITRATE),
        ("destroy", DESTROY),
    ]


LOG_CALLBACK = CFUNCTYPE(None, c_void_p, c_uint32, c_char_p, c_char_p)


class InjectorCallbacks(Structure):
    _fields_ = [
        ("user_data", c_void_p),
        ("inject", INJECT),
        ("release_all", RELEASE_ALL),
        ("destroy", DESTROY),
    ]


def _declare(name: str, restype, *argtypes) -> None:
    function = getattr(lib, name)
    function.restype = restype
    function.argtypes = list(argtypes)


P = c_void_p  # opaque handles travel as void pointers
PP = POINTER(c_void_p)
STR_OUT = POINTER(c_void_p)  # char ** (freed with ra_string_free)

for _name, _restype, _args in [
    ("ra_result_name", c_char_p, [ra_result]),
    ("ra_result_message", c_char_p, [ra_result]),
    ("ra_last_error_message", c_char_p, []),
    ("ra_string_free", ra_result, [c_void_p]),
    ("ra_version", c_char_p, []),
    ("ra_debug_inject_panic", ra_result, [c_uint32]),
    ("ra_set_log_callback", ra_result, [LOG_CALLBACK, c_void_p, c_uint32]),
    ("ra_log_message", ra_result, [c_uint32, c_char_p, c_char_p]),
    ("ra_policy_load", ra_result, [c_char_p, PP]),
    ("ra_invitation_parse", ra_result, [c_char_p, c_size_t, PP]),
    ("ra_receipt_verify", ra_result, [c_char_p, c_size_t, P, c_char_p, STR_OUT]),
    ("ra_audit_verify", ra_result, [c_char_p, c_char_p, c_size_t, STR_OUT]),
    ("ra_invitation_to_file_string", ra_result, [P, STR_OUT]),
    ("ra_invitation_mailto", ra_result, [P, POINTER(c_char_p), c_size_t, STR_OUT]),
    ("ra_invite_options_add_address", ra_result, [P, c_char_p]),
    ("ra_invite_options_set_audit_log", ra_result, [P, c_char_p]),
    ("ra_accept_options_set_connect_timeout_ms", ra_result, [P, c_uint64]),
    ("ra_frame_copy", ra_result, [POINTER(FrameData), c_void_p, c_size_t, c_size_t]),
    ("ra_host_backends_use_openh264_encoder", ra_result, [P]),
    ("ra_host_backends_set_encoder", ra_result, [P, POINTER(EncoderCallbacks)]),
    ("ra_host_backends_use_null_injector", ra_result, [P]),
    ("ra_host_backends_use_log_injector", ra_result, [P]),
    ("ra_host_set_event_callback", ra_result, [P, HOST_EVENT_CALLBACK, c_void_p]),
    ("ra_helper_set_event_callback", ra_result, [P, HELPER_EVENT_CALLBACK, c_void_p]),
    ("ra_key_from_name", ra_result, [c_char_p, POINTER(c_uint32)]),
    ("ra_policy_new", ra_result, [PP]),
    ("ra_policy_from_toml", ra_result, [c_char_p, PP]),
    ("ra_policy_get", ra_result, [P, POINTER(PolicySettings)]),
    ("ra_policy_set", ra_result, [P, POINTER(PolicySettings)]),
    ("ra_policy_to_toml", ra_result, [P, STR_OUT]),
    ("ra_policy_free", ra_result, [P]),
    ("ra_invitation_load", ra_result, [c_char_p, PP]),
    ("ra_invitation_from_token", ra_result, [c_char_p, PP]),
    ("ra_invitation_save", ra_result, [P, c_char_p]),
    ("ra_invitation_to_token", ra_result, [P, STR_OUT]),
    ("ra_invitation_to_email", ra_result, [P, c_char_p, POINTER(c_char_p), c_size_t, c_char_p, STR_OUT]),
    ("ra_invitation_get_info", ra_result, [P, POINTER(InvitationInfo)]),
    ("ra_invitation_free", ra_result, [P]),
    ("ra_invite_options_new", ra_result, [PP]),
    ("ra_invite_options_set_host_name", ra_result, [P, c_char_p]),
    ("ra_invite_options_set_listen", ra_result, [P, c_char_p]),
    ("ra_invite_options_set_rendezvous", ra_result, [P, P]),
    ("ra_invite_options_set_lifetime_ms", ra_result, [P, c_uint64]),
    ("ra_invite_options_set_policy", ra_result, [P, P]),
    ("ra_invite_options_free", ra_result, [P]),
    ("ra_accept_options_new", ra_result, [PP]),
    ("ra_accept_options_set_name", ra_result, [P, c_char_p]),
    ("ra_accept_options_set_identity", ra_result, [P, c_char_p]),
    ("ra_accept_options_set_approval_timeout_ms", ra_result, [P, c_uint64]),
    ("ra_accept_options_free", ra_result, [P]),
    ("ra_host_backends_new", ra_result, [PP]),
    ("ra_host_backends_use_synthetic_capturer", ra_result, [P, c_uint32, c_uint32, c_double]),
    ("ra_diagnose", ra_result, [P, POINTER(P)]),
    ("ra_diagnosis_get_verdict", ra_result, [P, POINTER(c_uint8), POINTER(c_char_p)]),
    ("ra_diagnosis_get_check_count", ra_result, [P, POINTER(c_size_t)]),
    ("ra_diagnosis_get_check", ra_result, [P, c_size_t, POINTER(DiagnosisCheck)]),
    ("ra_diagnosis_free", ra_result, [P]),
    ("ra_host_backends_use_screen_capturer", ra_result, [P, c_char_p]),
    ("ra_host_backends_use_system_injector", ra_result, [P, c_char_p]),
    ("ra_host_backends_set_wayland_api", ra_result, [P, c_uint32]),
    ("ra_host_backends_set_panic_key", ra_result, [P, c_char_p, c_char_p]),
    ("ra_host_backends_set_local_user_wins_ms", ra_result, [P, c_char_p, c_uint32]),
    ("ra_host_backends_use_system_clipboard", ra_result, [P, c_char_p]),
    ("ra_host_backends_set_injector", ra_result, [P, POINTER(InjectorCallbacks)]),
    ("ra_host_backends_set_capturer", ra_result, [P, POINTER(CapturerCallbacks)]),
    ("ra_host_backends_free", ra_result, [P]),
    ("ra_host_invite", ra_result, [P, P, PP]),
    ("ra_host_get_invitation", ra_result, [P, PP]),
    ("ra_host_get_password", ra_result, [P, STR_OUT]),
    ("ra_host_get_port", ra_result, [P, POINTER(c_uint16)]),
    ("ra_host_next_event", ra_result, [P, c_uint32, PP]),
    ("ra_host_event_get_data", ra_result, [P, POINTER(HostEventData)]),
    ("ra_host_event_free", ra_result, [P]),
    ("ra_host_approve", ra_result, [P, c_uint64]),
    ("ra_host_deny", ra_result, [P, c_uint64]),
    ("ra_host_grant_control", ra_result, [P, c_uint64]),
    ("ra_host_grant_control_with", ra_result, [P, c_uint64, c_uint32, c_uint64]),
    ("ra_unverified_helper_warning", c_char_p, []),
    ("ra_host_deny_control", ra_result, [P, c_uint64]),
    ("ra_host_revoke", ra_result, [P]),
    ("ra_host_revoke_panic_key", ra_result, [P]),
    ("ra_host_local_input_seen", ra_result, [P, c_uint32]),
    ("ra_host_pause", ra_result, [P]),
    ("ra_host_resume", ra_result, [P]),
    ("ra_host_chat", ra_result, [P, c_char_p]),
    ("ra_host_end", ra_result, [P]),
    ("ra_host_close_invitation", ra_result, [P]),
    ("ra_host_set_policy", ra_result, [P, P]),
    ("ra_host_set_clipboard_sharing", ra_result, [P, c_uint8]),
    ("ra_host_set_redactions", ra_result, [P, POINTER(Rect), c_size_t]),
    ("ra_host_set_redacted_windows", ra_result, [P, POINTER(c_char_p), c_size_t]),
    ("ra_host_send_clipboard", ra_result, [P, c_char_p]),
    ("ra_host_easy_connect", ra_result, [P, P, P, PP]),
    ("ra_host_join", ra_result, [P, c_char_p, P, P, PP]),
    ("ra_host_get_code_info", ra_result, [P, POINTER(CodeInfo)]),
    ("ra_host_issue_resume_ticket", ra_result, [P, c_char_p, c_size_t, c_uint64, c_char_p]),
    ("ra_host_resume_from_ticket", ra_result,
     [c_char_p, c_char_p, c_size_t, P, P, POINTER(P)]),
    ("ra_host_get_stats", ra_result, [P, POINTER(SessionStats)]),
    ("ra_host_free", ra_result, [P]),
    ("ra_helper_accept", ra_result, [P, c_char_p, P, PP]),
    ("ra_helper_get_host_name", ra_result, [P, STR_OUT]),
    ("ra_helper_get_control_state", ra_result, [P, POINTER(c_uint32)]),
    ("ra_helper_next_event", ra_result, [P, c_uint32, PP]),
    ("ra_helper_event_get_data", ra_result, [P, POINTER(HelperEventData)]),
    ("ra_helper_event_free", ra_result, [P]),
    ("ra_helper_request_control", ra_result, [P]),
    ("ra_helper_request_control_scopes", ra_result, [P, c_uint32]),
    ("ra_helper_release_control", ra_result, [P]),
    ("ra_helper_send_input", ra_result, [P, POINTER(InputEventData), c_size_t]),
    ("ra_helper_chat", ra_result, [P, c_char_p]),
    ("ra_helper_pointer", ra_result, [P, c_int32, c_int32, c_uint32]),
    ("ra_helper_select_display", ra_result, [P, c_uint32]),
    ("ra_helper_request_keyframe", ra_result, [P]),
    ("ra_helper_end", ra_result, [P]),
    ("ra_helper_send_clipboard", ra_result, [P, c_char_p]),
    ("ra_helper_get_path", ra_result, [P, POINTER(c_uint32)]),
    ("ra_helper_easy_connect", ra_result, [P, c_char_p, P, PP]),
    ("ra_helper_get_stats", ra_result, [P, POINTER(SessionStats)]),
    ("ra_helper_free", ra_result, [P]),
    ("ra_helper_assist", ra_result, [P, P, PP]),
    ("ra_assist_offer_get_code_info", ra_result, [P, POINTER(CodeInfo)]),
    ("ra_assist_offer_wait", ra_result, [P, c_uint32, PP]),
    ("ra_assist_offer_free", ra_result, [P]),
    ("ra_broker_options_new", ra_result, [c_char_p, PP]),
    ("ra_broker_options_set_fingerprint", ra_result, [P, c_char_p]),
    ("ra_broker_options_set_ca", ra_result, [P, c_char_p, c_size_t, c_char_p]),
    ("ra_broker_options_set_bind", ra_result, [P, c_char_p]),
    ("ra_broker_options_set_try_direct", ra_result, [P, c_uint8]),
    ("ra_broker_options_set_direct_timeout_ms", ra_result, [P, c_uint64]),
    ("ra_broker_options_set_connect_timeout_ms", ra_result, [P, c_uint64]),
    ("ra_broker_options_set_code_lifetime_ms", ra_result, [P, c_uint64]),
    ("ra_broker_options_free", ra_result, [P]),
]:
    _declare(_name, _restype, *_args)
