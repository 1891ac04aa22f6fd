//! The one place with `unsafe`: a shared-memory segment for MIT-SHM.
//!
//! The segment is a memfd mapped into this process; a duplicate of its fd is
//! handed to the X server (`shm::attach_fd`), which maps the same pages and
//! writes `ShmGetImage` results into them. Passing the fd over the X socket
//! works even where SysV `shmget` segments are invisible to the server (a
//! separate IPC namespace, as in containers).
#![allow(unsafe_code)]

use std::io;
use std::os::fd::OwnedFd;
use std::ptr::{self, NonNull};

use rustix::fs::{MemfdFlags, ftruncate, memfd_create};
use rustix::mm::{MapFlags, ProtFlags, mmap, munmap};

/// A read-write shared mapping of `len` bytes backed by a memfd.
#[derive(Debug)]
pub(super) struct ShmSegment {
    ptr: NonNull<u8>,
    len: usize,
    fd: OwnedFd,
}

// SAFETY: the mapping is owned by this value alone (no other handle in this
// process refers to it) and is only reached through `&self`/`&mut self`, so
// moving the value to another thread moves sole access with it.
unsafe impl Send for ShmSegment {}

impl ShmSegment {
    /// Creates and maps a zeroed segment of `len` bytes (at least 1).
    pub(super) fn new(len: usize) -> io::Result<Self> {
        let len = len.max(1);
        let fd = memfd_create("ra-capture-shm", MemfdFlags::CLOEXEC)?;
        ftruncate(
            &fd,
            u64::try_from(len).map_err(|_| io::ErrorKind::InvalidInput)?,
        )?;
        // SAFETY: a null address hint lets the kernel choose a range that no
        // existing Rust object occupies; `fd` was just sized to `len`, so the
        // whole mapping is backed and no access can fault with SIGBUS.
        let raw = unsafe {
            mmap(
                ptr::null_mut(),
                len,
                ProtFlags::READ | ProtFlags::WRITE,
                MapFlags::SHARED,
                &fd,
                0,
            )?
        };
        let ptr = NonNull::new(raw.cast::<u8>()).ok_or(io::ErrorKind::AddrNotAvailable)?;
        Ok(ShmSegment { ptr, len, fd })
    }

    /// A new descriptor of the segment, for `shm::attach_fd` (which closes it).
    pub(super) fn dup_fd(&self) -> io::Result<OwnedFd> {
        self.fd.try_clone()
    }

    /// The segment's contents.
    ///
    /// The X server writes into the segment only while it processes a
    /// `ShmGetImage` this process sent; callers read only after its reply,
    /// and send requests only through `&mut` access to the owner, which this
    /// borrow excludes.
    pub(super) fn as_slice(&self) -> &[u8] {
        // SAFETY: `ptr` is a live mapping of `len` bytes until `drop`, every
        // byte pattern is a valid `u8`, and writes by this process need
        // `&mut self` (excluded by this borrow). The server's writes are
        // ordered before this read by the reply the caller waited for.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    /// The segment's contents, writable.
    pub(super) fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_slice`; `&mut self` guarantees no other slice of
        // the mapping is alive in this process.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for ShmSegment {
    fn drop(&mut self) {
        // SAFETY: `ptr`/`len` are exactly the mapping made in `new`, unmapped
        // only here; no slice of it outlives `self`. The server keeps its own
        // mapping (or dropped it on `shm::detach`), which this does not touch.
        let _ = unsafe { munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_segment_is_zeroed_writable_and_shared_through_its_fd() {
        let mut seg = ShmSegment::new(8192).unwrap();
        assert!(seg.as_slice().iter().all(|&b| b == 0));
        seg.as_mut_slice()[4100] = 0xab;
        // A second mapping of the same fd sees the write: the server would.
        let other = ShmSegment {
            ptr: {
                let fd = seg.dup_fd().unwrap();
                // SAFETY: a fresh shared mapping of the same 8192-byte memfd.
                let raw = unsafe {
                    mmap(
                        ptr::null_mut(),
                        8192,
                        ProtFlags::READ | ProtFlags::WRITE,
                        MapFlags::SHARED,
                        &fd,
                        0,
                    )
                    .unwrap()
                };
                NonNull::new(raw.cast::<u8>()).unwrap()
            },
            len: 8192,
            fd: seg.dup_fd().unwrap(),
        };
        assert_eq!(other.as_slice()[4100], 0xab);
    }
}
