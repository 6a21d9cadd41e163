//! Memory mappings: read-only file maps (kernel BTF, no copy) and shared maps
//! of BPF objects (mmapable arrays, ring buffers, perf rings).

use std::fs::File;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU64};

use nix::errno::Errno;

use super::{last_errno, SysError, SysResult};

/// An owned mapping; unmapped on drop.
///
/// Shared mappings of BPF objects can be written by the kernel (or BPF
/// programs) at any time: for such memory prefer the atomic accessors and
/// [`Mmap::read_volatile`] over holding on to [`Mmap::as_slice`].
#[derive(Debug)]
pub struct Mmap {
    ptr: NonNull<u8>,
    len: usize,
    writable: bool,
}

// SAFETY: the mapping is plain memory owned by this value; all shared access
// goes through `&self` methods that only read (or use atomics).
unsafe impl Send for Mmap {}
unsafe impl Sync for Mmap {}

/// Hint the CPU to start loading the cache line of `data[off]` (no effect
/// when `off` is out of bounds, or on other architectures). For loops that
/// walk a large mapped ring: the hardware prefetcher stops at 4 KiB page
/// boundaries, so each new page of a ring otherwise starts with a full
/// memory miss.
#[inline(always)]
pub fn prefetch(data: &[u8], off: usize) {
    #[cfg(target_arch = "x86_64")]
    if off < data.len() {
        // SAFETY: a prefetch never faults and has no visible effect; SSE is
        // part of the x86_64 baseline. The address is inside `data`.
        unsafe {
            core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(
                data.as_ptr().add(off) as *const i8,
            )
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (data, off);
}

impl Mmap {
    fn map(
        call: &'static str,
        fd: libc::c_int,
        len: usize,
        prot: libc::c_int,
        flags: libc::c_int,
        offset: u64,
    ) -> SysResult<Mmap> {
        if len == 0 {
            return Ok(Mmap {
                ptr: NonNull::dangling(),
                len: 0,
                writable: prot & libc::PROT_WRITE != 0,
            });
        }
        let off = libc::off_t::try_from(offset).map_err(|_| SysError::new(call, Errno::EINVAL))?;
        // SAFETY: a fresh mapping chosen by the kernel (addr NULL); it aliases
        // no Rust object.
        let p = unsafe { libc::mmap(core::ptr::null_mut(), len, prot, flags, fd, off) };
        if p == libc::MAP_FAILED {
            return Err(SysError::new(call, last_errno()));
        }
        let ptr = NonNull::new(p as *mut u8).ok_or(SysError::new(call, Errno::EINVAL))?;
        Ok(Mmap {
            ptr,
            len,
            writable: prot & libc::PROT_WRITE != 0,
        })
    }

    /// Map a whole file read-only and private (e.g. /sys/kernel/btf/vmlinux).
    pub fn map_file_readonly(file: &File) -> SysResult<Mmap> {
        let call = "mmap (read-only file)";
        let len = file
            .metadata()
            .map_err(|e| SysError::from_io(call, &e))?
            .len();
        let len = usize::try_from(len).map_err(|_| SysError::new(call, Errno::EFBIG))?;
        Self::map(
            call,
            file.as_raw_fd(),
            len,
            libc::PROT_READ,
            libc::MAP_PRIVATE,
            0,
        )
    }

    /// A shared mapping of `len` bytes of `fd` at `offset` (a multiple of the
    /// page size), readable and, with `prot_write`, writable.
    pub fn map_fd(
        fd: BorrowedFd<'_>,
        len: usize,
        prot_write: bool,
        offset: u64,
    ) -> SysResult<Mmap> {
        let prot = if prot_write {
            libc::PROT_READ | libc::PROT_WRITE
        } else {
            libc::PROT_READ
        };
        Self::map("mmap", fd.as_raw_fd(), len, prot, libc::MAP_SHARED, offset)
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn is_writable(&self) -> bool {
        self.writable
    }

    pub fn as_ptr(&self) -> *const u8 {
        self.ptr.as_ptr()
    }

    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: `len` bytes at `ptr` are mapped readable for our lifetime
        // (or len is 0 and ptr is dangling but aligned).
        unsafe { core::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    /// The mapping as a mutable slice; `None` if it is not writable.
    pub fn as_mut_slice(&mut self) -> Option<&mut [u8]> {
        if !self.writable {
            return None;
        }
        // SAFETY: mapped writable, and `&mut self` gives exclusive access.
        Some(unsafe { core::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) })
    }

    fn aligned_at(&self, off: usize, size: usize) -> Option<*mut u8> {
        let end = off.checked_add(size)?;
        if end > self.len || (self.ptr.as_ptr() as usize + off) % size != 0 {
            return None;
        }
        // SAFETY: `off + size <= len`, within the mapping.
        Some(unsafe { self.ptr.as_ptr().add(off) })
    }

    /// The naturally aligned 8 bytes at `off` as an atomic; `None` when out of
    /// bounds or misaligned. Storing through it requires a writable mapping
    /// (a store to a read-only one faults).
    pub fn atomic_u64_at(&self, off: usize) -> Option<&AtomicU64> {
        let p = self.aligned_at(off, 8)?;
        // SAFETY: in bounds, 8-aligned, valid for our lifetime; atomics make
        // concurrent kernel/other-thread access well-defined.
        Some(unsafe { AtomicU64::from_ptr(p as *mut u64) })
    }

    /// As [`Mmap::atomic_u64_at`], for 4 bytes (ring buffer record headers).
    pub fn atomic_u32_at(&self, off: usize) -> Option<&AtomicU32> {
        let p = self.aligned_at(off, 4)?;
        // SAFETY: as for atomic_u64_at.
        Some(unsafe { AtomicU32::from_ptr(p as *mut u32) })
    }

    /// `count` naturally aligned 4-byte words from `off` as atomics (a ring
    /// buffer's record headers, indexed by offset / 4 in a hot loop); `None`
    /// when out of bounds or misaligned.
    pub fn atomic_u32_slice(&self, off: usize, count: usize) -> Option<&[AtomicU32]> {
        let p = self.aligned_at(off, 4)?;
        if off.checked_add(count.checked_mul(4)?)? > self.len {
            return None;
        }
        // SAFETY: `count` words from `off` are in bounds, 4-aligned, valid
        // for our lifetime; atomics make concurrent access well-defined.
        Some(unsafe { core::slice::from_raw_parts(p as *const AtomicU32, count) })
    }

    /// Copy `dst.len()` bytes from `off` with volatile reads (for memory the
    /// kernel may be writing). `false` (and nothing copied) when out of bounds.
    pub fn read_volatile(&self, off: usize, dst: &mut [u8]) -> bool {
        match off.checked_add(dst.len()) {
            Some(end) if end <= self.len => {
                for (i, b) in dst.iter_mut().enumerate() {
                    // SAFETY: `off + i < len`, within the mapping.
                    *b = unsafe { self.ptr.as_ptr().add(off + i).read_volatile() };
                }
                true
            }
            _ => false,
        }
    }
}

impl AsRef<[u8]> for Mmap {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl Drop for Mmap {
    fn drop(&mut self) {
        if self.len != 0 {
            // SAFETY: we own this mapping of `len` bytes; no borrows outlive `self`.
            unsafe { libc::munmap(self.ptr.as_ptr() as *mut libc::c_void, self.len) };
        }
    }
}

/// The system page size.
pub fn page_size() -> usize {
    // SAFETY: sysconf has no memory-safety preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if n > 0 {
        n as usize
    } else {
        4096
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_map_and_bounds() {
        let path = std::env::temp_dir().join(format!("tinybpf-mmap-{}", std::process::id()));
        std::fs::write(&path, b"0123456789abcdef").unwrap();
        let f = File::open(&path).unwrap();
        let m = Mmap::map_file_readonly(&f).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(m.as_ref(), b"0123456789abcdef");
        assert!(!m.is_writable());
        let mut b = [0u8; 4];
        assert!(m.read_volatile(12, &mut b));
        assert_eq!(&b, b"cdef");
        assert!(!m.read_volatile(13, &mut b));
        assert!(!m.read_volatile(usize::MAX, &mut b));
        let w = m
            .atomic_u64_at(8)
            .unwrap()
            .load(std::sync::atomic::Ordering::Acquire);
        assert_eq!(w.to_ne_bytes(), *b"89abcdef");
        assert!(m.atomic_u64_at(9).is_none());
        assert!(m.atomic_u64_at(16).is_none());
        assert!(m.atomic_u32_at(12).is_some());
        assert!(m.atomic_u32_at(usize::MAX - 1).is_none());
    }

    #[test]
    fn empty_file() {
        let path = std::env::temp_dir().join(format!("tinybpf-mmap-empty-{}", std::process::id()));
        std::fs::write(&path, b"").unwrap();
        let m = Mmap::map_file_readonly(&File::open(&path).unwrap()).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert!(m.is_empty());
        assert!(m.as_slice().is_empty());
        assert!(page_size() >= 4096);
    }
}
