// ra/types.hpp — the plain C++ types of the ra wrapper: values copied out of
// the library and the interfaces of backends written in C++. Nothing here
// calls the library; include "ra.hpp", which includes this file.
#ifndef RA_TYPES_HPP
#define RA_TYPES_HPP

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ra.h"

namespace ra {

/// A session's statistics (Host::stats, Helper::stats). Each side fills what
/// it knows; what a side cannot know is 0. Counters only grow.
struct SessionStats {
    std::chrono::microseconds rtt{0};           ///< smoothed round trip (0: no peer yet)
    uint64_t packets_sent = 0;                  ///< UDP packets sent to the peer
    uint64_t packets_lost = 0;                  ///< of those, how many were lost
    double loss = 0.0;                          ///< packets_lost / packets_sent, 0.0 to 1.0
    uint64_t bytes_sent = 0;                    ///< UDP bytes sent to the peer
    uint64_t bytes_received = 0;                ///< UDP bytes received from the peer
    uint32_t target_bitrate = 0;                ///< bits per second asked of the encoder
    double target_frame_rate = 0.0;             ///< frames per second allowed
    uint64_t frames_sent = 0;                   ///< host: frames put on the wire
    uint64_t frames_decoded = 0;                ///< helper: frames decoded and handed over
    uint64_t frames_dropped = 0;                ///< host: not delivered; helper: not shown
    std::chrono::microseconds encode_last{0};   ///< host: time to encode the last frame
    std::chrono::microseconds encode_mean{0};   ///< host: mean time to encode a frame
    std::chrono::microseconds decode_last{0};   ///< helper: time to decode the last frame
    std::chrono::microseconds decode_mean{0};   ///< helper: mean time to decode a frame
    uint64_t input_events_sent = 0;             ///< helper: input events sent
    uint64_t input_events_injected = 0;         ///< host: input events injected
    uint64_t input_events_held_back = 0;        ///< host: helper input held back or dropped
    uint64_t messages_dropped = 0;              ///< host: helper control messages over their rate limits; helper: the host's display lists and pointer updates over theirs
    uint64_t events_dropped = 0;                ///< events dropped because the application did not take them in time

    /// Converts the C struct (fields past its struct_size stay 0).
    static SessionStats from(const ra_session_stats& s) {
        using us = std::chrono::microseconds;
        auto micros = [](uint64_t v) { return us(static_cast<us::rep>(v)); };
        SessionStats r;
        r.rtt = micros(s.rtt_us);
        r.packets_sent = s.packets_sent;
        r.packets_lost = s.packets_lost;
        r.loss = s.loss;
        r.bytes_sent = s.bytes_sent;
        r.bytes_received = s.bytes_received;
        r.target_bitrate = s.target_bitrate;
        r.target_frame_rate = s.target_frame_rate;
        r.frames_sent = s.frames_sent;
        r.frames_decoded = s.frames_decoded;
        r.frames_dropped = s.frames_dropped;
        r.encode_last = micros(s.encode_us_last);
        r.encode_mean = micros(s.encode_us_mean);
        r.decode_last = micros(s.decode_us_last);
        r.decode_mean = micros(s.decode_us_mean);
        r.input_events_sent = s.input_events_sent;
        r.input_events_injected = s.input_events_injected;
        r.input_events_held_back = s.input_events_held_back;
        r.messages_dropped = s.messages_dropped;
        r.events_dropped = s.events_dropped;
        return r;
    }
};

/// What an invitation says (Invitation::info); never the password.
struct InvitationInfo {
    std::string host_name;       ///< the name the helper sees
    std::string session_id;      ///< the session id in hex
    int64_t created_at_unix = 0; ///< when it was made, seconds since the epoch
    int64_t expires_at_unix = 0; ///< when it expires, seconds since the epoch
    size_t address_count = 0;    ///< how many addresses it lists
};

/// A short code ("ABC-DEF-GHJ-KMN"), when it expires and how the session travels.
struct CodeInfo {
    std::string code;                 ///< as read out
    int64_t expires_at_unix = 0;      ///< seconds since the epoch
    uint32_t path = RA_PATH_UNKNOWN;  ///< RA_PATH_*

    /// Copies the C struct.
    static CodeInfo from(const ra_code_info& info) {
        return CodeInfo{info.code ? info.code : "", info.expires_at_unix, info.path};
    }
};

/// What "verify the firewall" found (`diagnose`): the checks and the verdict.
struct Diagnosis {
    /// One check.
    struct Check {
        std::string name;  ///< "udp_bind", "broker", "public_address", "nat_mapping", "firewall"
        bool ok;           ///< whether it passed
        std::string detail;  ///< what was found, for a person
    };
    bool ok;              ///< whether assistance can work from here
    std::string verdict;  ///< one line for a person
    std::vector<Check> checks;  ///< in reading order
};

/// A host event, copied out of the library (fields that do not apply to
/// `kind` are 0 or empty; see ra_host_event_data).
struct HostEvent {
    uint32_t kind = RA_HOST_EVENT_OTHER;  ///< RA_HOST_EVENT_*; unknown numbers mean "other"
    uint64_t connection = 0;              ///< pass it to approve(), grant_control()…
    std::string helper_name;  ///< the helper's name (not authenticated)
    std::string peer;         ///< the helper's "IP:PORT"
    std::string text;         ///< chat message or clipboard text
    std::string reason_name;  ///< the reason's snake_case name ("host_ended")
    std::string description;  ///< for a person; never empty
    uint32_t reason = RA_REASON_OTHER;  ///< RA_END_*, RA_DENY_*, RA_REVOKE_*, RA_CLOSE_*
    uint32_t attempts = 0;      ///< failed password attempts so far
    uint32_t max_attempts = 0;  ///< failed attempts that close the invitation
    uint32_t grant = 0;         ///< the control grant's number
    int32_t x = 0;              ///< pointer mark column
    int32_t y = 0;              ///< pointer mark row
    uint32_t pointer_kind = 0;  ///< RA_POINTER_*
    uint32_t backend = 0;       ///< RA_BACKEND_* (RA_HOST_EVENT_BACKEND_ERROR)
    ra_result backend_result = RA_RESULT_OK;  ///< what the backend failed with
    bool enabled = false;  ///< clipboard sharing is on (RA_HOST_EVENT_CLIPBOARD_SHARING)
    uint32_t bytes = 0;    ///< bytes of text sent (RA_HOST_EVENT_CLIPBOARD_SENT)
    uint32_t scopes = 0;   ///< RA_SCOPE_* asked for (CONTROL_REQUESTED) or given (CONTROL_GRANTED)
    uint64_t expires_at_ms = 0;  ///< a grant's end, Unix ms; 0: until revoked
    bool verified = false;       ///< the helper's identity was verified (CONNECTION_REQUEST)
    std::string organisation;      ///< who vouches for the helper (verified)
    std::string organisation_key;  ///< its key, raorg1-… (verified)
    std::string verified_helper;   ///< the helper's name as the organisation wrote it
    std::string helper_key;        ///< the helper's key, rahelper1-… (verified)
    uint64_t identity_expires_ms = 0;  ///< when the identity expires, Unix ms
    std::string identity_problem;  ///< why a shown identity was not accepted
    std::string warning;           ///< the standard warning, with an unverified helper
    bool countersigned = false;    ///< the receipt in `text` is countersigned (RA_HOST_EVENT_RECEIPT)
    uint32_t display = 0;          ///< the display (RA_HOST_EVENT_DISPLAY_SELECTED, _DISPLAY_REFUSED)
    std::vector<ra_rect> redactions;  ///< the mask, desktop coordinates (RA_HOST_EVENT_REDACTIONS_CHANGED; classes in `text`, one per line)
    uint64_t silent_ms = 0;        ///< how long nothing arrived (RA_HOST_EVENT_CONNECTION_RESTORED)
    std::string resumes;           ///< the session (hex id) a CONNECTION_REQUEST resumes from a ticket; empty: none

    /// Copies the C struct (its strings belong to the event).
    static HostEvent from(const ra_host_event_data& d) {
        auto str = [](const char* s) { return std::string(s ? s : ""); };
        HostEvent e;
        e.kind = d.kind;
        e.connection = d.connection;
        e.helper_name = str(d.helper_name);
        e.peer = str(d.peer);
        e.text = str(d.text);
        e.reason = d.reason;
        e.reason_name = str(d.reason_name);
        e.attempts = d.attempts;
        e.max_attempts = d.max_attempts;
        e.grant = d.grant;
        e.x = d.x;
        e.y = d.y;
        e.pointer_kind = d.pointer_kind;
        e.backend = d.backend;
        e.backend_result = d.backend_result;
        e.description = str(d.description);
        e.enabled = d.enabled != 0;
        e.bytes = d.bytes;
        e.scopes = d.scopes;
        e.expires_at_ms = d.expires_at_ms;
        e.verified = d.verified != 0;
        e.organisation = str(d.organisation);
        e.organisation_key = str(d.organisation_key);
        e.verified_helper = str(d.verified_helper);
        e.helper_key = str(d.helper_key);
        e.identity_expires_ms = d.identity_expires_ms;
        e.identity_problem = str(d.identity_problem);
        e.warning = str(d.warning);
        e.countersigned = d.countersigned != 0;
        e.display = d.display;
        if (d.redactions) e.redactions.assign(d.redactions, d.redactions + d.redactions_len);
        e.silent_ms = d.silent_ms;
        e.resumes = str(d.resumes);
        return e;
    }
};

/// The SDK's standard warning for a helper whose identity is not verified.
inline std::string unverified_helper_warning() { return ra_unverified_helper_warning(); }

/// A C++ injector: std::functions called on the engine's injection thread,
/// only while the helper holds a control grant. Return RA_RESULT_OK,
/// RA_RESULT_UNSUPPORTED, or another code for a failure; an exception
/// counts as RA_RESULT_BACKEND (see "Exceptions in callbacks" in ra.hpp).
struct Injector {
    std::function<ra_result(const ra_input_event&)> inject;  ///< required: one event
    std::function<ra_result()> release_all;  ///< release every held key and button
};

/// A display (monitor) a Capturer offers.
struct Display {
    uint32_t id = 0;      ///< the id the helper selects it with
    std::string name;     ///< for a person
    ra_rect bounds{};     ///< position and size in the host's global coordinates
    bool primary = false; ///< the primary display
};

/// A picture a Capturer returns: BGRA rows `stride` bytes apart. The pixels
/// must stay valid until the capturer's next call (the library copies them).
struct CapturedFrame {
    const uint8_t* data = nullptr;  ///< the first pixel of the first row
    size_t len = 0;                 ///< bytes at data (≥ stride × (height − 1) + 4 × width)
    uint32_t width = 0;             ///< in pixels
    uint32_t height = 0;            ///< in pixels
    size_t stride = 0;              ///< bytes from one row to the next (≥ 4 × width)
    std::vector<ra_rect> damage;    ///< what changed; empty: the whole picture
    uint64_t captured_at_us = 0;    ///< microseconds since the epoch; 0: now
    uint32_t display = 0;           ///< which display it shows
};

/// Where the pointer is, and its new shape when it changed (Capturer::cursor).
struct CursorUpdate {
    int32_t x = 0;         ///< hotspot column in the captured display
    int32_t y = 0;         ///< hotspot row
    bool visible = true;   ///< shown over the captured display
    /// The new shape (premultiplied BGRA, rows packed, valid until the
    /// capturer's next call); shape.pixels NULL when it did not change.
    ra_cursor_shape shape{};
};

/// A capturer written in C++: derive from it and hand it to
/// HostBackends::capturer, which gives it to the library. Every method runs
/// on the engine's capture thread, one call at a time. Throwing is a
/// failure (RA_RESULT_BACKEND, see "Exceptions in callbacks" in ra.hpp):
/// the host reports RA_HOST_EVENT_BACKEND_ERROR and stops sending video
/// until the helper asks again.
class Capturer {
public:
    virtual ~Capturer() = default;
    /// Waits up to `timeout` for the picture to change: the new picture,
    /// or nullopt when nothing changed.
    virtual std::optional<CapturedFrame> next_frame(std::chrono::milliseconds timeout) = 0;
    /// The displays to offer (empty: no list).
    virtual std::vector<Display> displays() { return {}; }
    /// Captures `display` from the next frame on; false if there is no such
    /// display (by default only display 0 exists).
    virtual bool select(uint32_t display) { return display == 0; }
    /// The next frame must be returned whole, even if nothing changed (a
    /// helper joined or asked for a keyframe).
    virtual void invalidate() {}
    /// Called after every next_frame while a helper watches: the pointer's
    /// change, or nullopt when nothing changed (the default: no pointer).
    virtual std::optional<CursorUpdate> cursor() { return std::nullopt; }
};

/// What an Encoder produced for one frame.
struct Encoded {
    std::vector<uint8_t> bytes;  ///< H.264 Annex B (the helper decodes with OpenH264); empty: skipped
    bool keyframe = false;       ///< decodes without any earlier frame
};

/// An encoder written in C++: derive from it and hand it to
/// HostBackends::encoder. Runs on the engine's capture thread. Throwing is
/// a failure (RA_RESULT_BACKEND, reported as RA_HOST_EVENT_BACKEND_ERROR;
/// the engine then asks for a keyframe).
class Encoder {
public:
    virtual ~Encoder() = default;
    /// Compresses `frame` (BGRA, borrowed for the call), as a keyframe if
    /// `force_keyframe`.
    virtual Encoded encode(const ra_frame& frame, bool force_keyframe) = 0;
    /// A target in bits per second (a hint).
    virtual void set_bitrate(uint32_t /*bits_per_second*/) {}
};

}  // namespace ra

#endif
