//! Structs the library writes into the caller's memory, safe across
//! versions: each starts with `size_t struct_size`, which the caller sets to
//! `sizeof` of the struct as its header declares it before the call. The
//! library writes no more than that many bytes, and sets `struct_size` to
//! what it wrote — so a program built against an older, shorter header gets
//! the fields it knows and nothing past them, and one built against a newer
//! header learns which of its fields this library filled (fields are only
//! ever appended).

use crate::error::{Error, Result};

/// A struct written with [`write_sized`].
///
/// # Safety
/// Implementors are `#[repr(C)]`, plain data (`Copy`: no destructor, any
/// bytes of it may be copied), and their first field is `struct_size: usize`.
pub(crate) unsafe trait SizedStruct: Copy {
    /// The C name, for error messages.
    const NAME: &'static str;
}

/// Reads the `struct_size` the caller set in `out`.
///
/// # Safety
/// `out` is NULL or points to at least a `size_t` the caller owns.
pub(crate) unsafe fn caller_size<T: SizedStruct>(out: *const T, what: &str) -> Result<usize> {
    if out.is_null() {
        return Err(Error::null(what));
    }
    // SAFETY: non-NULL; by the trait's contract the first field is a
    // `usize`, which the caller owns (it set it before the call).
    let size = unsafe { out.cast::<usize>().read() };
    if size < std::mem::size_of::<usize>() {
        return Err(Error::invalid(format!(
            "`{what}->struct_size` is {size}: set it to sizeof({}) first",
            T::NAME
        )));
    }
    Ok(size)
}

/// Writes `value` to `out`: at most the caller's `out->struct_size` bytes,
/// with `struct_size` set to the bytes written.
///
/// # Errors
/// `RA_RESULT_NULL_POINTER` for a NULL `out`, `RA_RESULT_INVALID_ARGUMENT`
/// when `struct_size` was not set (smaller than a `size_t`). Nothing is
/// written then.
///
/// # Safety
/// `out` is NULL or writable for the `struct_size` bytes it declares (or
/// for `size_of::<T>()`, whichever is smaller).
pub(crate) unsafe fn write_sized<T: SizedStruct>(out: *mut T, value: T, what: &str) -> Result<()> {
    // SAFETY: the caller's contract.
    let wanted = unsafe { caller_size(out, what) }?;
    let written = wanted.min(std::mem::size_of::<T>());
    let mut value = value;
    // SAFETY: `struct_size` is the first field of `T` (the trait's contract),
    // so `value` starts with a `usize` at its (aligned) address.
    unsafe {
        std::ptr::from_mut(&mut value)
            .cast::<usize>()
            .write(written)
    };
    // SAFETY: `value` is `size_of::<T>()` bytes of plain data (`Copy`), of
    // which `written` ≤ that many are copied; `out` is writable for
    // `written` bytes by contract; a local cannot overlap the caller's memory.
    unsafe {
        std::ptr::copy_nonoverlapping(
            std::ptr::from_ref(&value).cast::<u8>(),
            out.cast::<u8>(),
            written,
        );
    }
    Ok(())
}

/// Reads a struct the caller filled: its first `struct_size` bytes over
/// `base`, so fields past the caller's header (an older, shorter one) keep
/// `base`'s values.
///
/// # Errors
/// As [`write_sized`].
///
/// # Safety
/// `from` is NULL or readable for the `struct_size` bytes it declares (or
/// for `size_of::<T>()`, whichever is smaller), and every field of `T` is
/// valid for any bit pattern.
pub(crate) unsafe fn read_sized<T: SizedStruct>(from: *const T, base: T, what: &str) -> Result<T> {
    // SAFETY: the caller's contract.
    let given = unsafe { caller_size(from, what) }?;
    let read = given.min(std::mem::size_of::<T>());
    let mut value = base;
    // SAFETY: `from` is readable for `read` bytes by contract; `value` is
    // `size_of::<T>()` ≥ `read` bytes of plain data whose fields take any
    // bit pattern (contract); a local cannot overlap the caller's memory.
    unsafe {
        std::ptr::copy_nonoverlapping(
            from.cast::<u8>(),
            std::ptr::from_mut(&mut value).cast::<u8>(),
            read,
        );
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::{RA_RESULT_INVALID_ARGUMENT, RA_RESULT_NULL_POINTER};

    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Grown {
        struct_size: usize,
        old: u64,
        new: u64,
    }

    // SAFETY: repr(C), Copy, `struct_size: usize` first.
    unsafe impl SizedStruct for Grown {
        const NAME: &'static str = "grown";
    }

    const VALUE: Grown = Grown {
        struct_size: 0,
        old: 7,
        new: 9,
    };

    #[test]
    fn an_older_caller_gets_only_the_fields_it_knows() {
        // A caller whose header ends after `old`.
        let mut memory = [0xAAAA_AAAA_AAAA_AAAAu64; 3];
        memory[0] = 16;
        let out = memory.as_mut_ptr().cast::<Grown>();
        // SAFETY: 24 writable bytes, aligned for a `Grown`.
        unsafe { write_sized(out, VALUE, "out") }.unwrap();
        assert_eq!(memory[..2], [16, 7]);
        assert_eq!(
            memory[2], 0xAAAA_AAAA_AAAA_AAAA,
            "a byte past struct_size changed"
        );
    }

    #[test]
    fn a_newer_caller_learns_what_was_written() {
        #[repr(C)]
        struct Newer {
            grown: Grown,
            newer: u64,
        }
        let mut newer = Newer {
            grown: Grown {
                struct_size: std::mem::size_of::<Newer>(),
                old: 0,
                new: 0,
            },
            newer: 5,
        };
        // SAFETY: `newer` is larger than `Grown` and starts with one.
        unsafe { write_sized(std::ptr::from_mut(&mut newer).cast::<Grown>(), VALUE, "out") }
            .unwrap();
        assert_eq!(newer.grown.struct_size, std::mem::size_of::<Grown>());
        assert_eq!((newer.grown.old, newer.grown.new, newer.newer), (7, 9, 5));
    }

    #[test]
    fn an_older_callers_struct_is_read_over_a_base() {
        let memory = [16u64, 3, 0xDEAD];
        // SAFETY: 24 readable bytes, aligned for a `Grown`, of which 16 are declared.
        let read = unsafe { read_sized(memory.as_ptr().cast::<Grown>(), VALUE, "in") }.unwrap();
        assert_eq!((read.old, read.new), (3, 9));
    }

    #[test]
    fn an_unset_size_or_null_is_refused_and_nothing_written() {
        let mut grown = Grown {
            struct_size: 0,
            old: 1,
            new: 1,
        };
        // SAFETY: a valid struct.
        let error = unsafe { write_sized(&mut grown, VALUE, "out") }.unwrap_err();
        assert_eq!(error.code, RA_RESULT_INVALID_ARGUMENT);
        assert!(error.detail.contains("sizeof(grown)"), "{}", error.detail);
        assert_eq!((grown.old, grown.new), (1, 1));
        // SAFETY: NULL is checked.
        let error = unsafe { write_sized(std::ptr::null_mut::<Grown>(), VALUE, "out") };
        assert_eq!(error.unwrap_err().code, RA_RESULT_NULL_POINTER);
    }
}
