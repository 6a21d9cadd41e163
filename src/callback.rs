//! How [`RingBuffer`](crate::RingBuffer) and [`PerfBuffer`](crate::PerfBuffer)
//! store their callbacks, which decides whether the reader is `Send`.
//!
//! - [`Local`] (the default, `RingBuffer::new`, `PerfBuffer::builder`): any
//!   closure, e.g. one borrowing a `Cell` or an `Rc`; the reader stays on the
//!   thread that made it.
//! - [`Sendable`] (`RingBuffer::new_send`, `PerfBuffer::builder_send`; the
//!   aliases [`SendRingBuffer`](crate::SendRingBuffer) and
//!   [`SendPerfBuffer`](crate::SendPerfBuffer)): only `Send` closures, and
//!   the reader is `Send`: build it, then move it into a reader thread.

/// A way of storing callbacks: [`Local`] or [`Sendable`]; it decides
/// whether a [`RingBuffer`](crate::RingBuffer) or
/// [`PerfBuffer`](crate::PerfBuffer) is `Send`.
///
/// - [`Local`] (the default, `RingBuffer::new`, `PerfBuffer::builder`): any
///   closure, e.g. one borrowing a `Cell` or an `Rc`; the reader stays on the
///   thread that made it.
/// - [`Sendable`] (`RingBuffer::new_send`, `PerfBuffer::builder_send`; the
///   aliases [`SendRingBuffer`](crate::SendRingBuffer) and
///   [`SendPerfBuffer`](crate::SendPerfBuffer)): only `Send` closures, and
///   the reader is `Send`: build it, then move it into a reader thread.
pub trait Callbacks<'cb>: sealed::Sealed {
    /// A ring buffer record callback.
    type Record: ?Sized + FnMut(&[u8]) -> i32 + 'cb;
    /// A perf buffer sample callback.
    type Sample: ?Sized + FnMut(u32, &[u8]) + 'cb;
    /// A perf buffer lost-samples callback.
    type Lost: ?Sized + FnMut(u32, u64) + 'cb;
}

/// Callbacks may be any closure; the reader is not `Send`.
#[derive(Debug)]
pub enum Local {}

/// Callbacks must be `Send`; so is the reader.
#[derive(Debug)]
pub enum Sendable {}

impl<'cb> Callbacks<'cb> for Local {
    type Record = dyn FnMut(&[u8]) -> i32 + 'cb;
    type Sample = dyn FnMut(u32, &[u8]) + 'cb;
    type Lost = dyn FnMut(u32, u64) + 'cb;
}

impl<'cb> Callbacks<'cb> for Sendable {
    type Record = dyn FnMut(&[u8]) -> i32 + Send + 'cb;
    type Sample = dyn FnMut(u32, &[u8]) + Send + 'cb;
    type Lost = dyn FnMut(u32, u64) + Send + 'cb;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Local {}
    impl Sealed for super::Sendable {}
}

/// A closure a reader of kind `K` accepts as a ring buffer record callback.
pub trait IntoRecordFn<'cb, K: Callbacks<'cb>> {
    /// Boxed as `K` stores it.
    fn boxed(self) -> Box<K::Record>;
}

/// A closure a reader of kind `K` accepts as a perf buffer sample callback.
pub trait IntoSampleFn<'cb, K: Callbacks<'cb>> {
    /// Boxed as `K` stores it.
    fn boxed(self) -> Box<K::Sample>;
}

/// A closure a reader of kind `K` accepts as a lost-samples callback.
pub trait IntoLostFn<'cb, K: Callbacks<'cb>> {
    /// Boxed as `K` stores it.
    fn boxed(self) -> Box<K::Lost>;
}

macro_rules! into_fn {
    ($tr:ident, $assoc:ident, ($($arg:ty),*) $(-> $ret:ty)?) => {
        impl<'cb, F: FnMut($($arg),*) $(-> $ret)? + 'cb> $tr<'cb, Local> for F {
            fn boxed(self) -> Box<<Local as Callbacks<'cb>>::$assoc> {
                Box::new(self)
            }
        }
        impl<'cb, F: FnMut($($arg),*) $(-> $ret)? + Send + 'cb> $tr<'cb, Sendable> for F {
            fn boxed(self) -> Box<<Sendable as Callbacks<'cb>>::$assoc> {
                Box::new(self)
            }
        }
    };
}

into_fn!(IntoRecordFn, Record, (&[u8]) -> i32);
into_fn!(IntoSampleFn, Sample, (u32, &[u8]));
into_fn!(IntoLostFn, Lost, (u32, u64));
