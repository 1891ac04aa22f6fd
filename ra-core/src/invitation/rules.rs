//! The field rules shared by `Invitation::validate`, the file parser and
//! the token reader, and the time format they use.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::text::is_unsafe_char;

use super::{MAX_ADDRESSES, MAX_HOST_NAME_CHARS, MAX_UNIX_SECS};

pub(super) fn check_host_name(name: &str) -> Result<(), String> {
    let chars = name.chars().count();
    if chars == 0 {
        return Err("the host name is empty".into());
    }
    if chars > MAX_HOST_NAME_CHARS {
        return Err(format!(
            "the host name has {chars} characters (at most {MAX_HOST_NAME_CHARS})"
        ));
    }
    if let Some(c) = name.chars().find(|c| is_unsafe_char(*c)) {
        return Err(format!(
            "the host name contains the control character U+{:04X}",
            u32::from(c)
        ));
    }
    if name.trim() != name {
        return Err("the host name starts or ends with whitespace".into());
    }
    Ok(())
}

pub(super) fn check_address(address: &SocketAddr) -> Result<(), String> {
    let ip = address.ip();
    if address.port() == 0 {
        Err(format!("address {address} has no port"))
    } else if ip.is_unspecified() || ip.is_multicast() {
        Err(format!("address {address} cannot be connected to"))
    } else {
        Ok(())
    }
}

pub(super) fn check_address_count(count: usize) -> Result<(), String> {
    if count == 0 {
        Err("the invitation lists no address".into())
    } else if count > MAX_ADDRESSES {
        Err(format!(
            "the invitation lists {count} addresses (at most {MAX_ADDRESSES})"
        ))
    } else {
        Ok(())
    }
}

/// Seconds since the Unix epoch, if the time can be written in RFC 3339.
pub(super) fn unix_secs(time: SystemTime) -> Result<u64, String> {
    match time.duration_since(UNIX_EPOCH) {
        Ok(d) if d.as_secs() <= MAX_UNIX_SECS => Ok(d.as_secs()),
        Ok(_) => Err("a time is after the year 9999".into()),
        Err(_) => Err("a time is before 1970".into()),
    }
}

pub(super) fn check_times(created: SystemTime, expires: SystemTime) -> Result<(), String> {
    unix_secs(created)?;
    unix_secs(expires)?;
    if expires <= created {
        return Err(format!(
            "it expires ({}) before or when it is created ({})",
            format_time(expires),
            format_time(created)
        ));
    }
    Ok(())
}

/// RFC 3339 in UTC at whole seconds; out-of-range times are clamped.
pub(super) fn format_time(time: SystemTime) -> String {
    let secs = match time.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs().min(MAX_UNIX_SECS),
        Err(_) => 0,
    };
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs)).to_string()
}

pub(super) fn parse_time(value: &str) -> Result<SystemTime, String> {
    let time = humantime::parse_rfc3339(value).map_err(|e| {
        format!(
            "invalid time `{}`: {e} (expected e.g. 2026-11-25T09:00:00Z)",
            shorten(value)
        )
    })?;
    match time.duration_since(UNIX_EPOCH) {
        Ok(d) if d.subsec_nanos() == 0 => Ok(time),
        _ => Err(format!(
            "invalid time `{}`: times are whole seconds",
            shorten(value)
        )),
    }
}

/// A value quoted in an error message, cut to a readable length.
pub(super) fn shorten(value: &str) -> String {
    const MAX: usize = 40;
    let mut out: String = value
        .chars()
        .take(MAX)
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect();
    if value.chars().count() > MAX {
        out.push('…');
    }
    out
}
