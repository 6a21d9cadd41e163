//! Plain-old-data: types that may be viewed as bytes and built from bytes.

/// A type with no padding-sensitive invariants: any bit pattern is a valid
/// value and its bytes may be read (`#[repr(C)]` structs of integers and
/// arrays of them, without implicit padding).
///
/// # Safety
/// Implement only for `Copy` types with a stable layout (`#[repr(C)]` or
/// primitive), no padding bytes, no pointers or references, and for which
/// every bit pattern is valid.
pub unsafe trait Pod: Copy + 'static {
    /// The value's bytes.
    fn as_bytes(&self) -> &[u8] {
        // SAFETY: Pod guarantees no padding and a stable layout.
        unsafe {
            core::slice::from_raw_parts(
                self as *const Self as *const u8,
                core::mem::size_of::<Self>(),
            )
        }
    }
    /// A value from the first `size_of::<Self>()` bytes of `b` (`None` if short).
    fn from_bytes(b: &[u8]) -> Option<Self> {
        if b.len() < core::mem::size_of::<Self>() {
            return None;
        }
        // SAFETY: length checked; Pod accepts every bit pattern; read_unaligned
        // has no alignment requirement.
        Some(unsafe { core::ptr::read_unaligned(b.as_ptr() as *const Self) })
    }
}

macro_rules! pod {
    ($($t:ty),*) => { $(unsafe impl Pod for $t {})* };
}
pod!(u8, u16, u32, u64, u128, i8, i16, i32, i64, i128, usize, isize);
// SAFETY: arrays of Pod have no padding between elements.
unsafe impl<T: Pod, const N: usize> Pod for [T; N] {}
