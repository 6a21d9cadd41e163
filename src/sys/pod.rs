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

/// `b` viewed as a `T`: `None` unless `b` holds at least `size_of::<T>()`
/// bytes and starts at an address aligned for `T`.
pub(crate) fn view<T: Pod>(b: &[u8]) -> Option<&T> {
    let ok = b.len() >= core::mem::size_of::<T>()
        && (b.as_ptr() as usize) % core::mem::align_of::<T>() == 0;
    // SAFETY: size and alignment checked; Pod accepts every bit pattern; the
    // reference borrows `b`.
    ok.then(|| unsafe { &*(b.as_ptr() as *const T) })
}

/// `b` viewed as a mutable `T` (the conditions of [`view`]).
pub(crate) fn view_mut<T: Pod>(b: &mut [u8]) -> Option<&mut T> {
    let ok = b.len() >= core::mem::size_of::<T>()
        && (b.as_ptr() as usize) % core::mem::align_of::<T>() == 0;
    // SAFETY: as in `view`; `&mut` borrows `b` exclusively, and every value
    // written through it is valid bytes (Pod has no padding).
    ok.then(|| unsafe { &mut *(b.as_mut_ptr() as *mut T) })
}

macro_rules! pod_prim {
    ($($t:ty),*) => { $(unsafe impl Pod for $t {})* };
}
pod_prim!(u8, u16, u32, u64, u128, i8, i16, i32, i64, i128, usize, isize);

/// Size of field type `F` of `T`, for [`pod!`](crate::pod); `F` must be
/// [`Pod`] itself.
#[doc(hidden)]
pub const fn __pod_field_size<T, F: Pod>(_: fn(&T) -> &F) -> usize {
    core::mem::size_of::<F>()
}

/// Size of type `F`, which must be [`Pod`], for [`pod!`](crate::pod).
#[doc(hidden)]
pub const fn __pod_type_size<F: Pod>() -> usize {
    core::mem::size_of::<F>()
}

/// Implement [`Pod`] for a `#[repr(C)]` struct after checking, at compile
/// time, that it has no padding: its size must equal the sum of its fields'
/// sizes, and every field must be `Pod` itself.
///
/// Two forms:
/// - `pod!(Type { field1, field2, ... })` names every field (all of them,
///   each once: the macro destructures the struct with exactly these fields,
///   so a missing, extra or repeated field does not compile). Preferred.
/// - `pod!(Type: T1, T2, ...)` lists the field types instead (for types whose
///   fields are not visible here, e.g. tuple structs); the sizes are checked,
///   that the list matches the fields is up to you.
///
/// The type must be `Copy` and should be `#[repr(C)]` so that its layout
/// matches the BPF program's C struct.
///
/// ```
/// #[repr(C)]
/// #[derive(Clone, Copy, Debug, Default)]
/// struct Event {
///     pid: u32,
///     uid: u32,
///     ts: u64,
///     comm: [u8; 16],
/// }
/// tinybpf::pod!(Event { pid, uid, ts, comm });
///
/// #[repr(C)]
/// #[derive(Clone, Copy)]
/// struct Pair(u32, u32);
/// tinybpf::pod!(Pair: u32, u32);
///
/// use tinybpf::Pod;
/// assert_eq!(Event::default().as_bytes().len(), 32);
/// ```
///
/// A struct with padding does not compile (4 bytes of padding after `a`):
///
/// ```compile_fail
/// #[repr(C)]
/// #[derive(Clone, Copy)]
/// struct Padded {
///     a: u32,
///     b: u64,
/// }
/// tinybpf::pod!(Padded { a, b });
/// ```
///
/// Nor does one with trailing padding, or a repeated field that would make
/// the sizes add up:
///
/// ```compile_fail
/// #[repr(C)]
/// #[derive(Clone, Copy)]
/// struct Tail {
///     a: u64,
///     b: u32,
/// }
/// tinybpf::pod!(Tail { a, b, b });
/// ```
#[macro_export]
macro_rules! pod {
    ($t:path { $($f:ident),+ $(,)? }) => {
        const _: () = {
            #[allow(dead_code)]
            fn __every_field_once(v: $t) {
                let $t { $($f: _),+ } = v;
            }
            assert!(
                ::core::mem::size_of::<$t>()
                    == 0 $(+ $crate::__private::__pod_field_size(|s: &$t| &s.$f))+,
                concat!(
                    "tinybpf::pod!: ",
                    stringify!($t),
                    " has padding (its size is not the sum of its fields' sizes); add explicit padding fields"
                )
            );
        };
        // SAFETY: checked above: every field is Pod and there are no padding bytes.
        unsafe impl $crate::Pod for $t {}
    };
    ($t:path : $($ft:ty),+ $(,)?) => {
        const _: () = assert!(
            ::core::mem::size_of::<$t>() == 0 $(+ $crate::__private::__pod_type_size::<$ft>())+,
            concat!(
                "tinybpf::pod!: ",
                stringify!($t),
                " has padding (its size is not the sum of the listed types' sizes)"
            )
        );
        // SAFETY: the listed field types are Pod and add up to the type's size.
        unsafe impl $crate::Pod for $t {}
    };
}
// SAFETY: arrays of Pod have no padding between elements.
unsafe impl<T: Pod, const N: usize> Pod for [T; N] {}
