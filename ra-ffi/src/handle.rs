//! Opaque handles: boxed Rust values whose addresses C holds.
//!
//! Every live handle is recorded with its type in one registry, so a call with
//! a freed, foreign or garbage pointer is answered with
//! `RA_RESULT_INVALID_HANDLE` instead of being dereferenced. (A pointer that
//! is freed while another thread still uses it cannot be caught this way; the
//! documentation of each handle says what may be shared.)

use std::any::TypeId;
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::error::{Error, Result};
use crate::result::RA_RESULT_INVALID_HANDLE;

/// Address → type of every live handle.
static LIVE: Mutex<BTreeMap<usize, TypeId>> = Mutex::new(BTreeMap::new());

fn live() -> MutexGuard<'static, BTreeMap<usize, TypeId>> {
    // Every update is a single insert or remove, so a panic elsewhere cannot
    // leave the map half-changed: poisoning is ignored.
    LIVE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A Rust value that C holds by pointer.
pub(crate) trait Handle: Sized + 'static {
    /// How the type is named in error messages.
    const NAME: &'static str;
}

/// Boxes `value` and records its address; the pointer is what C receives.
pub(crate) fn into_raw<T: Handle>(value: T) -> *mut T {
    let pointer = Box::into_raw(Box::new(value));
    live().insert(pointer as usize, TypeId::of::<T>());
    pointer
}

/// Whether `pointer` is a live handle of type `T`.
fn check<T: Handle>(pointer: *const T, what: &str) -> Result<()> {
    if pointer.is_null() {
        return Err(Error::null(what));
    }
    match live().get(&(pointer as usize)) {
        Some(kind) if *kind == TypeId::of::<T>() => Ok(()),
        _ => Err(Error::new(
            RA_RESULT_INVALID_HANDLE,
            format!("`{what}` is not a live {}", T::NAME),
        )),
    }
}

/// Borrows the handle `pointer` points at.
///
/// # Safety
/// If `pointer` is a live handle of type `T`, no other thread may free it
/// during `'a` (the documented contract of every handle).
pub(crate) unsafe fn borrow<'a, T: Handle>(pointer: *const T, what: &str) -> Result<&'a T> {
    check(pointer, what)?;
    // SAFETY: the registry says `pointer` came from `into_raw::<T>` and has not
    // been freed; the caller guarantees it is not freed while borrowed.
    Ok(unsafe { &*pointer })
}

/// Borrows the handle mutably.
///
/// # Safety
/// As [`borrow`], and no other reference to the handle may be in use (handles
/// used this way are documented as not shareable between threads).
pub(crate) unsafe fn borrow_mut<'a, T: Handle>(pointer: *mut T, what: &str) -> Result<&'a mut T> {
    check(pointer, what)?;
    // SAFETY: as in `borrow`; exclusivity is the caller's contract.
    Ok(unsafe { &mut *pointer })
}

/// Takes the handle back from C and drops it. NULL is a no-op.
///
/// # Safety
/// No other thread may use the handle during or after the call.
pub(crate) unsafe fn free<T: Handle>(pointer: *mut T, what: &str) -> Result<()> {
    // SAFETY: forwarded contract.
    if let Some(value) = unsafe { take(pointer, what)? } {
        drop(value);
    }
    Ok(())
}

/// Takes the handle back from C without dropping it. NULL gives `None`.
///
/// # Safety
/// As [`free`].
pub(crate) unsafe fn take<T: Handle>(pointer: *mut T, what: &str) -> Result<Option<Box<T>>> {
    if pointer.is_null() {
        return Ok(None);
    }
    {
        let mut live = live();
        match live.get(&(pointer as usize)) {
            Some(kind) if *kind == TypeId::of::<T>() => {
                live.remove(&(pointer as usize));
            }
            _ => {
                return Err(Error::new(
                    RA_RESULT_INVALID_HANDLE,
                    format!("`{what}` is not a live {}", T::NAME),
                ));
            }
        }
    }
    // SAFETY: the registry held `pointer` as a `T` from `into_raw`, and it has
    // just been removed, so this is the only owner.
    Ok(Some(unsafe { Box::from_raw(pointer) }))
}

/// Forgets `pointer` if it is still live, returning whether it was: used when
/// the library lends a handle to a callback and takes it back afterwards (the
/// callback may have freed it, against the rules, or not).
pub(crate) fn forget<T: Handle>(pointer: *mut T) -> bool {
    let mut live = live();
    match live.get(&(pointer as usize)) {
        Some(kind) if *kind == TypeId::of::<T>() => live.remove(&(pointer as usize)).is_some(),
        _ => false,
    }
}

/// Records an address the library gave out that is not a `Box<T>` (a C
/// string), under the marker type `T`.
pub(crate) fn register_foreign<T: Handle>(pointer: *mut ()) {
    live().insert(pointer as usize, TypeId::of::<T>());
}

/// Removes an address recorded with [`register_foreign`]; fails if it is not
/// one of type `T`.
pub(crate) fn unregister_foreign<T: Handle>(pointer: *mut (), what: &str) -> Result<()> {
    let mut live = live();
    match live.get(&(pointer as usize)) {
        Some(kind) if *kind == TypeId::of::<T>() => {
            live.remove(&(pointer as usize));
            Ok(())
        }
        _ => Err(Error::new(
            RA_RESULT_INVALID_HANDLE,
            format!("`{what}` is not a live {}", T::NAME),
        )),
    }
}
