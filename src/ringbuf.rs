//! Reading `BPF_MAP_TYPE_RINGBUF` maps from user space.
//!
//! A ring buffer map is memory-mapped in two parts: the consumer page
//! (writable: user space publishes how far it has read) and, read-only, the
//! producer page followed by the data area. The kernel maps the data area
//! twice back to back, so a record that wraps around the end of the ring is
//! still contiguous in memory.
//!
//! Each record starts with an 8-byte header: a `u32` length whose top bits
//! say the record is still being written ([`BUSY_BIT`]) or was thrown away
//! ([`DISCARD_BIT`]), and a `u32` page offset the kernel uses internally.
//! Records are 8-byte aligned.

use crate::abi::map_type;
use crate::callback::{Callbacks, IntoRecordFn, Local, Sendable};
use crate::error::{Error, Result};
use crate::map::Map;
use crate::sys::{self, Epoll, EpollEvent, Mmap};
use std::marker::PhantomData;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// Set in a record's length while the producer has not committed it yet.
pub const BUSY_BIT: u32 = 1 << 31;
/// Set in a record's length when the producer discarded it.
pub const DISCARD_BIT: u32 = 1 << 30;
/// Size of a record header.
pub const HEADER_SIZE: usize = 8;

/// What the record walk found at one position (pure, for tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Header {
    /// Not committed yet: stop here.
    Busy,
    /// A committed record of `len` bytes; `discarded` ones are skipped.
    Record { len: u32, discarded: bool },
}

impl Header {
    #[inline(always)]
    pub(crate) fn decode(word: u32) -> Header {
        if word & BUSY_BIT != 0 {
            Header::Busy
        } else {
            Header::Record {
                len: word & !(BUSY_BIT | DISCARD_BIT),
                discarded: word & DISCARD_BIT != 0,
            }
        }
    }
}

/// Bytes a record of `len` bytes occupies in the ring (header included,
/// rounded up to 8). `None` on overflow.
#[inline(always)]
pub(crate) fn record_span(len: u32) -> Option<u64> {
    // A u32 plus 15 cannot overflow a u64: `Option` for the callers' sake.
    // Round with add-and-mask (two instructions on the loop's critical
    // path, where div_ceil makes four).
    Some((len as u64 + HEADER_SIZE as u64 + 7) & !7)
}

/// One mapped ring buffer map and its callback.
struct Ring<'cb, K: Callbacks<'cb>> {
    name: String,
    /// A duplicate of the map's fd (keeps the map alive, registered in epoll).
    fd: OwnedFd,
    /// Consumer page, writable: `consumer_pos` at offset 0.
    consumer: Mmap,
    /// Producer page (`producer_pos` at 0), then the data area twice.
    producer: Mmap,
    /// Size of the data area (a power of two, the map's max_entries).
    size: u64,
    page: usize,
    callback: Box<K::Record>,
}

/// How a batch of records ended.
enum Batch {
    /// Every record up to the producer position was consumed.
    Drained,
    /// A record is still being written: stop here.
    Busy,
    /// The callback returned this non-zero value.
    Stopped(i32),
    /// The record at this position claims this length, more than the ring.
    TooLong(u64, u32),
}

/// Consume every committed record of one ring. Returns (records passed to
/// `f`, `f`'s non-zero return value if it asked to stop).
///
/// Records are passed in place (a borrow of the mapped ring, no copy):
/// once committed, a record is not written by the kernel again until the
/// consumer position passes it. The consumer position is published once per
/// drained batch (everything up to the producer position read at the start
/// of the batch), not per record as libbpf does, and also before returning
/// early (a stop, a record still being written, an error). Generic over `f`
/// so that a closure given to [`RingBuffer::consume_with`] is inlined in the
/// loop; the ring's own boxed callback costs one indirect call per record.
fn walk<F: FnMut(&[u8]) -> i32 + ?Sized>(
    name: &str,
    consumer: &Mmap,
    producer: &Mmap,
    size: u64,
    page: usize,
    f: &mut F,
) -> Result<(usize, Option<i32>)> {
    let invalid = |what: String| Error::Invalid(format!("ring buffer {name}: {what}"));
    let (Some(cons_a), Some(prod_a)) = (consumer.atomic_u64_at(0), producer.atomic_u64_at(0))
    else {
        return Err(invalid("consumer or producer page too small".into()));
    };
    // The data area, mapped twice back to back: a record at offset
    // `off < size` of at most `size` bytes is contiguous in `data`, and its
    // header is word `off / 4` of `hdrs`. Checked once here, not per record.
    let span_len = (size as usize).saturating_mul(2);
    let data = producer
        .as_slice()
        .get(page..page.saturating_add(span_len))
        .filter(|d| d.len() == span_len);
    let hdrs = producer.atomic_u32_slice(page, span_len / 4);
    let (Some(data), Some(hdrs)) = (data, hdrs) else {
        return Err(invalid(format!(
            "data area of {size} bytes not mapped twice"
        )));
    };
    let mask = size - 1;
    let mut cons = cons_a.load(Ordering::Acquire);
    let mut count = 0;
    loop {
        let prod = prod_a.load(Ordering::Acquire);
        if cons >= prod {
            return Ok((count, None));
        }
        let batch = drain(hdrs, data, size, mask, &mut cons, prod, &mut count, f);
        cons_a.store(cons, Ordering::Release);
        match batch {
            Batch::Drained => {}
            Batch::Busy => return Ok((count, None)),
            Batch::Stopped(r) => return Ok((count, Some(r))),
            Batch::TooLong(at, len) => {
                return Err(invalid(format!(
                    "record at {at} claims {len} bytes, more than the ring"
                )))
            }
        }
    }
}

/// How far ahead of the record being read the loops (this one and the
/// perf buffer's) ask for the ring's memory, in bytes: one page, about a
/// memory latency's worth of records. The hardware prefetcher does not
/// cross 4 KiB pages, so without this every page of a large ring starts
/// with a full miss.
pub(crate) const PREFETCH_AHEAD: u64 = 4096;

/// A record of another size than the one before (out of line: see `drain`;
/// the perf buffer's loop uses it too).
#[cold]
#[inline(never)]
pub(crate) fn new_stride(span: u64) -> u64 {
    span
}

/// The hot loop: pass the records from `*cons` up to `prod` to `f`, moving
/// `*cons` past each one consumed.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn drain<F: FnMut(&[u8]) -> i32 + ?Sized>(
    hdrs: &[AtomicU32],
    data: &[u8],
    size: u64,
    mask: u64,
    cons: &mut u64,
    prod: u64,
    count: &mut usize,
    f: &mut F,
) -> Batch {
    let mut at = *cons;
    let mut n = 0;
    // The span of the last record: the guess for the next one (records are
    // mostly of one size). See the end of the loop.
    let mut stride = 0u64;
    let batch = loop {
        if at >= prod {
            break Batch::Drained;
        }
        let off = (at & mask) as usize;
        sys::mmap::prefetch(data, ((at + PREFETCH_AHEAD) & mask) as usize);
        let (len, discarded) = match Header::decode(hdrs[off / 4].load(Ordering::Acquire)) {
            Header::Busy => break Batch::Busy,
            Header::Record { len, discarded } => (len, discarded),
        };
        let Some(span) = record_span(len).filter(|&s| s <= size) else {
            break Batch::TooLong(at, len);
        };
        if !discarded {
            let start = off + HEADER_SIZE;
            // In bounds: off < size and span <= size, in a 2 × size area.
            let r = f(&data[start..start + len as usize]);
            n += 1;
            if r != 0 {
                at += span;
                break Batch::Stopped(r);
            }
        }
        // Value speculation: the next header's address would depend on this
        // header's load (a chain of dependent loads, one per record). Adding
        // the guessed stride instead, checked by a well-predicted branch,
        // lets the CPU load the next headers before this one arrives.
        // `black_box` keeps the compiler from knowing that `stride` equals
        // `span` on the likely path, and the out-of-line call keeps it from
        // turning the branch into a conditional move (which would wait for
        // the load again).
        if span == std::hint::black_box(stride) {
            at += stride;
        } else {
            stride = new_stride(span);
            at += stride;
        }
    };
    *cons = at;
    *count += n;
    batch
}

impl<'cb, K: Callbacks<'cb>> Ring<'cb, K> {
    fn open(map: &Map, callback: Box<K::Record>) -> Result<Ring<'cb, K>> {
        let name = map.name().to_string();
        let err =
            |what: &str, e: sys::SysError| Error::sys(format!("ring buffer {name}: {what}"), e);
        let info = sys::map_info(map.fd()).map_err(|e| err("BPF_OBJ_GET_INFO_BY_FD", e))?;
        if info.map_type != map_type::RINGBUF {
            return Err(Error::Invalid(format!(
                "map {name} is of type {}, not a ring buffer (BPF_MAP_TYPE_RINGBUF = {})",
                info.map_type,
                map_type::RINGBUF
            )));
        }
        let size = info.max_entries as u64;
        let page = sys::mmap::page_size();
        if !size.is_power_of_two() || size % page as u64 != 0 {
            return Err(Error::Invalid(format!(
                "ring buffer {name}: size {size} is not a power-of-two multiple of the page size"
            )));
        }
        let fd = map
            .fd()
            .try_clone_to_owned()
            .map_err(|e| err("dup", sys::SysError::from_io("dup", &e)))?;
        let consumer =
            Mmap::map_fd(fd.as_fd(), page, true, 0).map_err(|e| err("mmap consumer page", e))?;
        let data_len = usize::try_from(size)
            .ok()
            .and_then(|s| s.checked_mul(2))
            .and_then(|s| s.checked_add(page))
            .ok_or_else(|| Error::Invalid(format!("ring buffer {name}: size {size} too large")))?;
        let producer = Mmap::map_fd(fd.as_fd(), data_len, false, page as u64)
            .map_err(|e| err("mmap producer page and data", e))?;
        log::debug!("ring buffer {name}: {size} bytes mapped");
        Ok(Ring {
            name,
            fd,
            consumer,
            producer,
            size,
            page,
            callback,
        })
    }

    /// Consume every committed record with the ring's own callback.
    fn consume(&mut self) -> Result<(usize, Option<i32>)> {
        let Ring {
            name,
            consumer,
            producer,
            size,
            page,
            callback,
            ..
        } = self;
        walk(name, consumer, producer, *size, *page, &mut **callback)
    }

    /// Consume every committed record with `f` instead (inlined).
    fn consume_with<F: FnMut(&[u8]) -> i32>(&self, f: &mut F) -> Result<(usize, Option<i32>)> {
        walk(
            &self.name,
            &self.consumer,
            &self.producer,
            self.size,
            self.page,
            f,
        )
    }

    /// Bytes committed or in flight and not consumed yet.
    fn available(&self) -> u64 {
        let cons = self
            .consumer
            .atomic_u64_at(0)
            .map(|a| a.load(Ordering::Acquire));
        let prod = self
            .producer
            .atomic_u64_at(0)
            .map(|a| a.load(Ordering::Acquire));
        match (cons, prod) {
            (Some(c), Some(p)) => p.saturating_sub(c),
            _ => 0,
        }
    }
}

/// A reader of one or more ring buffer maps, polled together through epoll.
///
/// Each map has its own callback, called with each record's bytes (borrowed
/// in place from the mapped ring, no copy; discarded records are skipped). A callback returns 0 to go on; any other
/// value stops the current [`RingBuffer::poll`]/[`RingBuffer::consume`] after
/// that record (the record counts as consumed) and is reported by
/// [`RingBuffer::stopped`].
///
/// A ring buffer map (`BPF_MAP_TYPE_RINGBUF`) is shared memory: the reader
/// maps it and passes on, in place, each record the BPF side committed with
/// `bpf_ringbuf_submit` / `bpf_ringbuf_output` (one ring for all CPUs, in
/// order).
///
/// ```no_run
/// use std::time::Duration;
/// use tinybpf::{OpenObject, RingBuffer};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut obj = OpenObject::open("bpf/execsnoop.bpf.o")?.load()?;
/// obj.attach("handle_exec")?;
/// let mut records = 0;
/// let mut rb = RingBuffer::new(obj.map("events").ok_or("no map events")?, |rec: &[u8]| {
///     records += 1;
///     println!("{} bytes", rec.len());
///     0 // non-zero stops this round of consumption
/// })?;
/// rb.poll(Duration::from_millis(100))?; // waits for data, then consumes it all
/// drop(rb);
/// println!("{records} records");
/// # Ok(()) }
/// ```
///
/// # Threads and async runtimes
///
/// `RingBuffer::new` accepts any closure and the reader stays on its
/// thread. [`RingBuffer::new_send`] (type [`SendRingBuffer`]) takes `Send`
/// closures only, and the reader is `Send`: build it, move it into a reader
/// thread that loops on [`RingBuffer::poll`] and hands records to the rest
/// of the program through a channel (`examples/ringbuf_thread.rs`).
///
/// With an async runtime, no thread is needed: the reader is [`AsFd`] (its
/// epoll fd, readable when any ring has data). Register that fd with the
/// runtime's readiness API (e.g. tokio's `AsyncFd`, async-io's `Async`,
/// glib's `unix_fd_add`); when it reports readable, call
/// [`RingBuffer::consume`] (which never blocks) and wait again. The reader
/// must outlive the registration.
pub struct RingBuffer<'cb, K: Callbacks<'cb> = Local> {
    rings: Vec<Ring<'cb, K>>,
    epoll: Epoll,
    events: Vec<EpollEvent>,
    stopped: Option<i32>,
    _cb: PhantomData<&'cb ()>,
}

/// A [`RingBuffer`] whose callbacks are `Send`, and which is `Send` itself.
pub type SendRingBuffer<'cb> = RingBuffer<'cb, Sendable>;

impl<'cb, K: Callbacks<'cb>> std::fmt::Debug for RingBuffer<'cb, K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.rings.iter().map(|r| r.name.as_str()).collect();
        f.debug_struct("RingBuffer").field("maps", &names).finish()
    }
}

impl<'cb> RingBuffer<'cb> {
    /// A reader of `map` (a `BPF_MAP_TYPE_RINGBUF`), calling `callback` for
    /// every record. The reader keeps its own reference to the map: it stays
    /// valid after the [`Map`] (or its object) is dropped.
    pub fn new(map: &Map, callback: impl FnMut(&[u8]) -> i32 + 'cb) -> Result<RingBuffer<'cb>> {
        RingBuffer::empty()?.with(map, callback)
    }
}

impl<'cb> SendRingBuffer<'cb> {
    /// [`RingBuffer::new`] with a `Send` callback: the reader is `Send`
    /// (move it into a reader thread).
    pub fn new_send(
        map: &Map,
        callback: impl FnMut(&[u8]) -> i32 + Send + 'cb,
    ) -> Result<SendRingBuffer<'cb>> {
        RingBuffer::empty()?.with(map, callback)
    }
}

impl<'cb, K: Callbacks<'cb>> RingBuffer<'cb, K> {
    fn empty() -> Result<Self> {
        let epoll = Epoll::new().map_err(|e| Error::sys("ring buffer: epoll", e))?;
        Ok(RingBuffer {
            rings: Vec::new(),
            epoll,
            events: Vec::new(),
            stopped: None,
            _cb: PhantomData,
        })
    }

    /// Also read `map`, with its own callback.
    pub fn add<F>(&mut self, map: &Map, callback: F) -> Result<&mut Self>
    where
        F: FnMut(&[u8]) -> i32 + IntoRecordFn<'cb, K>,
    {
        let ring = Ring::open(map, callback.boxed())?;
        let token = self.rings.len() as u64;
        self.epoll
            .add(ring.fd.as_fd(), token)
            .map_err(|e| Error::sys(format!("ring buffer {}: epoll_ctl", ring.name), e))?;
        self.rings.push(ring);
        self.events.push(EpollEvent::empty());
        Ok(self)
    }

    /// [`RingBuffer::add`], by value (for chaining after `new`).
    pub fn with<F>(mut self, map: &Map, callback: F) -> Result<Self>
    where
        F: FnMut(&[u8]) -> i32 + IntoRecordFn<'cb, K>,
    {
        self.add(map, callback)?;
        Ok(self)
    }

    /// How many maps this reader reads.
    pub fn len(&self) -> usize {
        self.rings.len()
    }

    /// Whether it reads no ring.
    pub fn is_empty(&self) -> bool {
        self.rings.is_empty()
    }

    /// Wait up to `timeout` for data in any ring, then consume every ring.
    /// Returns the number of records passed to callbacks (0 on timeout or
    /// when a signal interrupted the wait).
    pub fn poll(&mut self, timeout: Duration) -> Result<usize> {
        let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
        self.epoll
            .wait(&mut self.events, ms)
            .map_err(|e| Error::sys("ring buffer: epoll_wait", e))?;
        self.consume()
    }

    /// Consume every committed record of every ring without waiting.
    pub fn consume(&mut self) -> Result<usize> {
        self.stopped = None;
        let mut total = 0;
        for ring in &mut self.rings {
            let (n, stop) = ring.consume()?;
            total += n;
            if stop.is_some() {
                self.stopped = stop;
                break;
            }
        }
        Ok(total)
    }

    /// Consume ring `index` with `f` in place of its own callback (same
    /// contract: each record borrowed in place, 0 goes on, non-zero stops
    /// and is reported by [`RingBuffer::stopped`]). `f` is inlined in the
    /// record loop, which saves the indirect call per record of the boxed
    /// callback: for the hottest readers.
    pub fn consume_with<F: FnMut(&[u8]) -> i32>(
        &mut self,
        index: usize,
        mut f: F,
    ) -> Result<usize> {
        self.stopped = None;
        let ring = self
            .rings
            .get(index)
            .ok_or_else(|| Error::Invalid(format!("ring buffer index {index} out of range")))?;
        let (n, stop) = ring.consume_with(&mut f)?;
        self.stopped = stop;
        Ok(n)
    }

    /// Consume ring `index` only (in the order maps were added).
    pub fn consume_ring(&mut self, index: usize) -> Result<usize> {
        self.stopped = None;
        let ring = self
            .rings
            .get_mut(index)
            .ok_or_else(|| Error::Invalid(format!("ring buffer index {index} out of range")))?;
        let (n, stop) = ring.consume()?;
        self.stopped = stop;
        Ok(n)
    }

    /// The non-zero value a callback returned to stop the last
    /// `poll`/`consume`, if one did.
    pub fn stopped(&self) -> Option<i32> {
        self.stopped
    }

    /// Bytes not consumed yet in ring `index` (headers and discarded records
    /// included).
    pub fn pending_bytes(&self, index: usize) -> u64 {
        self.rings.get(index).map_or(0, |r| r.available())
    }

    /// The epoll fd: readable when some ring has data. For callers with
    /// their own event loop (call [`RingBuffer::consume`] when it is).
    pub fn epoll_fd(&self) -> BorrowedFd<'_> {
        self.epoll.as_fd()
    }

    /// The map fd of ring `index` (pollable on its own).
    pub fn ring_fd(&self, index: usize) -> Option<BorrowedFd<'_>> {
        self.rings.get(index).map(|r| r.fd.as_fd())
    }
}

impl<'cb, K: Callbacks<'cb>> AsFd for RingBuffer<'cb, K> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.epoll_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers() {
        assert_eq!(Header::decode(BUSY_BIT | 64), Header::Busy);
        assert_eq!(Header::decode(BUSY_BIT | DISCARD_BIT | 64), Header::Busy);
        assert_eq!(
            Header::decode(DISCARD_BIT | 64),
            Header::Record {
                len: 64,
                discarded: true
            }
        );
        assert_eq!(
            Header::decode(96),
            Header::Record {
                len: 96,
                discarded: false
            }
        );
    }

    /// A ring of `size` bytes holding `records` (header word, payload byte)
    /// from position 0, mapped twice like the kernel's: (headers, bytes).
    fn ring(size: usize, records: &[(u32, u8)]) -> (Vec<AtomicU32>, Vec<u8>) {
        let mut bytes = vec![0u8; size];
        let mut at = 0usize;
        for &(word, fill) in records {
            let len = (word & !(BUSY_BIT | DISCARD_BIT)) as usize;
            for i in 0..4 {
                bytes[(at + i) % size] = word.to_ne_bytes()[i];
            }
            for i in 0..len {
                bytes[(at + HEADER_SIZE + i) % size] = fill;
            }
            at += record_span(len as u32).unwrap() as usize;
        }
        bytes.extend_from_within(..);
        let words = bytes
            .chunks(4)
            .map(|c| AtomicU32::new(u32::from_ne_bytes(c.try_into().unwrap())))
            .collect();
        (words, bytes)
    }

    #[test]
    fn drain_mixed_sizes_discards_busy_and_stop() {
        // Sizes change from record to record (the stride guess misses and
        // is corrected), one record is discarded, the last one is busy.
        let recs = [
            (4, 1),
            (16, 2),
            (4, 3),
            (4, 4),
            (DISCARD_BIT | 4, 5),
            (8, 6),
            (BUSY_BIT | 4, 7),
        ];
        let (hdrs, data) = ring(256, &recs);
        let mut seen = Vec::new();
        let (mut cons, mut count) = (0, 0);
        let mut f = |r: &[u8]| {
            seen.push((r.len(), r[0]));
            assert!(r.iter().all(|&b| b == r[0]));
            0
        };
        let b = drain(&hdrs, &data, 256, 255, &mut cons, 1000, &mut count, &mut f);
        assert!(matches!(b, Batch::Busy));
        assert_eq!(seen, [(4, 1), (16, 2), (4, 3), (4, 4), (8, 6)]);
        assert_eq!((count, cons), (5, 16 + 24 + 16 + 16 + 16 + 16));
        // Up to a producer position short of the busy record: drained.
        let (mut cons, mut count) = (0, 0);
        let b = drain(
            &hdrs,
            &data,
            256,
            255,
            &mut cons,
            16 + 24,
            &mut count,
            &mut |_| 0,
        );
        assert!(matches!(b, Batch::Drained));
        assert_eq!((count, cons), (2, 40));
        // A stop: the record counts as consumed.
        let (mut cons, mut count) = (0, 0);
        let mut stop = |r: &[u8]| if r[0] == 3 { 9 } else { 0 };
        let b = drain(
            &hdrs, &data, 256, 255, &mut cons, 1000, &mut count, &mut stop,
        );
        assert!(matches!(b, Batch::Stopped(9)));
        assert_eq!((count, cons), (3, 56));
        // A length past the ring: refused, nothing passed on.
        let (hdrs, data) = ring(64, &[(8, 1)]);
        hdrs[0].store(200, Ordering::Relaxed);
        let (mut cons, mut count) = (0, 0);
        let b = drain(&hdrs, &data, 64, 63, &mut cons, 100, &mut count, &mut |_| 0);
        assert!(matches!(b, Batch::TooLong(0, 200)));
        assert_eq!((count, cons), (0, 0));
    }

    #[test]
    fn drain_wraps_around_the_end() {
        // Two 24-byte records from position 48 in a 64-byte ring: the
        // first straddles the end and is still one contiguous slice.
        let size = 64usize;
        let mut bytes = vec![0u8; size];
        let mut at = 48usize;
        for fill in 1..=2u8 {
            for i in 0..4 {
                bytes[(at + i) % size] = 12u32.to_ne_bytes()[i];
            }
            for i in 0..12 {
                bytes[(at + 8 + i) % size] = fill;
            }
            at += 24;
        }
        bytes.extend_from_within(..);
        let hdrs: Vec<AtomicU32> = bytes
            .chunks(4)
            .map(|c| AtomicU32::new(u32::from_ne_bytes(c.try_into().unwrap())))
            .collect();
        let mut seen = Vec::new();
        let (mut cons, mut count) = (48, 0);
        let mut f = |r: &[u8]| {
            seen.push(r.to_vec());
            0
        };
        let b = drain(
            &hdrs,
            &bytes,
            64,
            63,
            &mut cons,
            48 + 48,
            &mut count,
            &mut f,
        );
        assert!(matches!(b, Batch::Drained));
        assert_eq!(seen, [vec![1u8; 12], vec![2u8; 12]]);
        assert_eq!((count, cons), (2, 96));
    }

    #[test]
    fn spans() {
        assert_eq!(record_span(64), Some(72));
        assert_eq!(record_span(1), Some(16));
        assert_eq!(record_span(0), Some(8));
        assert_eq!(record_span(96), Some(104));
        assert_eq!(
            record_span(u32::MAX),
            Some((u32::MAX as u64 + 8).div_ceil(8) * 8)
        );
    }
}
