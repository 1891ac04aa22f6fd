// ra.hpp — a header-only C++17 RAII wrapper over the C API of ra (ra.h).
// The calls into the library are split by purpose into the headers under
// ra/, included here in order: ra/error.hpp (ra::Error, the version check),
// ra/log.hpp, ra/invitation.hpp (Policy, Invitation, InviteOptions,
// AcceptOptions), ra/receipt.hpp (verify_receipt, verify_audit_log), ra/broker.hpp (BrokerOptions, diagnose), ra/backends.hpp
// (HostBackends), ra/host.hpp and ra/helper.hpp (Helper, AssistOffer). The
// plain value types and the interfaces of C++ backends are in ra/types.hpp.
// Include this file only.
//
// - Handles are std::unique_ptr with the matching ra_*_free as deleter;
//   the classes are movable, not copyable.
// - Failures throw ra::Error, carrying the ra_result code, its name and the
//   library's detail message (ra_last_error_message).
// - Version check: the wrapper was made for RA_VERSION_MAJOR.MINOR of the
//   ra.h it is compiled against. The first object made (and
//   ra::check_library_version()) compares that with the loaded library's
//   ra_version(): the same major, and while it is 0 the same minor, or
//   ra::IncompatibleLibrary (an ra::Error) naming both versions is thrown.
// - Events are copied into plain C++ structs (strings as std::string),
//   except frames, whose pixels are borrowed from the event that holds them.
//
// Exceptions in callbacks. Callbacks run on the library's threads; no
// exception may cross into C. One thrown by your event callback
// (Host::on_event, Helper::on_event), injector, capturer or encoder is
// caught at the boundary, written to the library's log as an error from
// origin "ra.cpp" (ra_log_message; see set_log_callback), and kept: the
// next call on the Host or Helper it belongs to (the host whose backends
// they are) rethrows it, once (the first one kept wins until then). Where
// the C callback returns a code, the library gets RA_RESULT_BACKEND and
// reports RA_HOST_EVENT_BACKEND_ERROR. An exception thrown by the log
// callback itself cannot be logged (the library drops what its log
// callback logs): it goes to stderr, and the next set_log_callback,
// reset_log_callback or log_message rethrows it. Exceptions kept when the
// object is destroyed are lost (they were logged).
//
// Threads: as in ra.h — Host and Helper may be used from several threads;
// builders (options, backends, policies) from one at a time.
#ifndef RA_HPP
#define RA_HPP

#include "ra.h"
#include "ra/types.hpp"

#include "ra/error.hpp"
#include "ra/log.hpp"
#include "ra/invitation.hpp"
#include "ra/receipt.hpp"
#include "ra/broker.hpp"
#include "ra/backends.hpp"
#include "ra/host.hpp"
#include "ra/helper.hpp"

#endif
