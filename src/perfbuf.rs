//! Reading `BPF_MAP_TYPE_PERF_EVENT_ARRAY` maps: one perf ring per CPU.
//!
//! For every online CPU the reader opens a `PERF_COUNT_SW_BPF_OUTPUT`
//! software event bound to that CPU, maps its ring (one metadata page, then
//! `2^n` data pages), stores the event's fd in the map at key = CPU and
//! enables it. `bpf_perf_event_output(ctx, &map, BPF_F_CURRENT_CPU, ...)` then
//! writes `PERF_RECORD_SAMPLE` records into the ring of the CPU it runs on;
//! when a ring is full the kernel counts the lost samples and later writes a
//! `PERF_RECORD_LOST` record.

use crate::abi::map_type;
use crate::callback::{Callbacks, IntoLostFn, IntoSampleFn, Local, Sendable};
use crate::error::{Error, Result};
use crate::map::Map;
use crate::ringbuf::PREFETCH_AHEAD;
use crate::sys::{self, Epoll, EpollEvent, Mmap, PerfEventAttr, SysError};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::atomic::Ordering;
use std::time::Duration;

/// `perf_event_header.type` of a sample.
pub const PERF_RECORD_SAMPLE: u32 = 9;
/// `perf_event_header.type` of a lost-samples record.
pub const PERF_RECORD_LOST: u32 = 2;

/// Offsets in `struct perf_event_mmap_page` (include/uapi/linux/perf_event.h).
const DATA_HEAD: usize = 1024;
const DATA_TAIL: usize = 1032;
const DATA_OFFSET: usize = 1040;
const DATA_SIZE: usize = 1048;
const HEADER_SIZE: usize = 8;

/// Default data pages per CPU.
pub const DEFAULT_PAGES: usize = 16;

/// When the kernel wakes a reader waiting in [`PerfBuffer::poll`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wakeup {
    /// After every `n` samples on a CPU (`perf_event_attr.wakeup_events`).
    Events(u32),
    /// When a CPU's ring holds at least this many unread bytes
    /// (`perf_event_attr.wakeup_watermark`, with the `watermark` flag).
    Watermark(u32),
}

impl Default for Wakeup {
    /// One wakeup per sample, as libbpf does.
    fn default() -> Self {
        Wakeup::Events(1)
    }
}

/// One decoded perf record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PerfRecord<'a> {
    /// `PERF_RECORD_SAMPLE` with `PERF_SAMPLE_RAW`: the raw bytes, as long as
    /// the kernel says (padded so that size field + data is a multiple of 8:
    /// a 64-byte output arrives as 68 bytes).
    Sample(&'a [u8]),
    /// `PERF_RECORD_LOST`: how many samples were dropped.
    Lost(u64),
    /// Any other record type (ignored).
    Other(u32),
}

/// Decode one whole record (header included). `None` when it is malformed.
#[inline]
pub fn decode_record(rec: &[u8]) -> Option<PerfRecord<'_>> {
    let ty = u32::from_ne_bytes(rec.get(0..4)?.try_into().ok()?);
    let size = u16::from_ne_bytes(rec.get(6..8)?.try_into().ok()?) as usize;
    let rec = rec.get(..size)?;
    match ty {
        PERF_RECORD_SAMPLE => {
            let raw = u32::from_ne_bytes(rec.get(8..12)?.try_into().ok()?) as usize;
            Some(PerfRecord::Sample(rec.get(12..12usize.checked_add(raw)?)?))
        }
        PERF_RECORD_LOST => Some(PerfRecord::Lost(u64::from_ne_bytes(
            rec.get(16..24)?.try_into().ok()?,
        ))),
        other => Some(PerfRecord::Other(other)),
    }
}

/// Copy `out.len()` bytes starting at ring position `pos` out of a ring of
/// `size` bytes (a power of two) whose data starts at `data_off`, joining
/// the two pieces of a record that straddles the end. `read(offset, dst)`
/// reads the underlying memory and says whether it was in bounds.
pub(crate) fn copy_wrapped(
    read: impl Fn(usize, &mut [u8]) -> bool,
    data_off: usize,
    size: u64,
    pos: u64,
    out: &mut [u8],
) -> bool {
    if size == 0 || out.len() as u64 > size {
        return false;
    }
    let start = (pos & (size - 1)) as usize;
    let first = (size as usize - start).min(out.len());
    let (a, b) = out.split_at_mut(first);
    let Some(off) = data_off.checked_add(start) else {
        return false;
    };
    read(off, a) && (b.is_empty() || read(data_off, b))
}

pub use crate::sys::fs::parse_cpu_set;

/// The online CPUs (all possible ones if the list cannot be read).
pub fn online_cpus() -> Result<Vec<u32>> {
    match std::fs::read_to_string("/sys/devices/system/cpu/online") {
        Ok(s) => parse_cpu_set(&s).ok_or_else(|| {
            Error::Invalid(format!(
                "/sys/devices/system/cpu/online: cannot parse {:?}",
                s.trim()
            ))
        }),
        Err(_) => {
            let n = sys::num_possible_cpus().map_err(|e| Error::sys("possible CPUs", e))?;
            Ok((0..n).collect())
        }
    }
}

/// One CPU's perf event and its mapped ring.
struct CpuRing {
    cpu: u32,
    event: OwnedFd,
    mmap: Mmap,
    data_off: usize,
    data_size: u64,
}

impl CpuRing {
    fn open(
        map_fd: &sys::MapFd,
        map: &str,
        cpu: u32,
        pages: usize,
        wakeup: Wakeup,
    ) -> Result<Option<CpuRing>> {
        let what = |s: &str| format!("perf buffer {map}: CPU {cpu}: {s}");
        let mut attr = PerfEventAttr::bpf_output();
        match wakeup {
            Wakeup::Events(n) => attr.wakeup_events = n,
            Wakeup::Watermark(bytes) => {
                attr.wakeup_events = bytes;
                attr.flags |= sys::perf::PERF_ATTR_FLAG_WATERMARK;
            }
        }
        let event = match sys::perf_event_open(&attr, -1, cpu as i32, None, 0) {
            Ok(fd) => fd,
            // Went offline between reading the list and now.
            Err(e) if e.errno == nix::errno::Errno::ENODEV => {
                log::debug!("{}", what("offline, skipped"));
                return Ok(None);
            }
            Err(e) => return Err(Error::sys(what("perf_event_open"), e)),
        };
        let page = sys::mmap::page_size();
        let len = pages
            .checked_add(1)
            .and_then(|p| p.checked_mul(page))
            .ok_or_else(|| Error::Invalid(what("ring size overflows")))?;
        let mmap =
            Mmap::map_fd(event.as_fd(), len, true, 0).map_err(|e| Error::sys(what("mmap"), e))?;
        let load = |off| mmap.atomic_u64_at(off).map(|a| a.load(Ordering::Acquire));
        let (mut data_off, mut data_size) = (page as u64, (pages * page) as u64);
        if let (Some(o), Some(s)) = (load(DATA_OFFSET), load(DATA_SIZE)) {
            if s != 0 {
                (data_off, data_size) = (o, s);
            }
        }
        let fits = data_off
            .checked_add(data_size)
            .is_some_and(|end| end <= len as u64);
        if !fits || !data_size.is_power_of_two() {
            return Err(Error::Invalid(what(&format!(
                "kernel reports data at {data_off}+{data_size} in a {len}-byte mapping"
            ))));
        }
        let fd = event.as_raw_fd() as u32;
        map_fd
            .update(&cpu.to_ne_bytes(), &fd.to_ne_bytes(), 0)
            .map_err(|e| Error::sys(what("store the perf event in the map"), e))?;
        sys::perf_event_ioc_enable(event.as_fd()).map_err(|e| Error::sys(what("enable"), e))?;
        Ok(Some(CpuRing {
            cpu,
            event,
            mmap,
            data_off: data_off as usize,
            data_size,
        }))
    }
}

/// The record of `ring` at `tail` (any kind, wrapped or not): passed
/// to the right callback. Returns its size and whether it was a sample;
/// on error, whether to skip everything up to `head` (resynchronise).
#[cold]
fn other_record<'cb, K: Callbacks<'cb>>(
    name: &str,
    ring: &CpuRing,
    scratch: &mut Vec<u8>,
    on_sample: &mut Option<Box<K::Sample>>,
    on_lost: &mut Option<Box<K::Lost>>,
    tail: u64,
    head: u64,
) -> std::result::Result<(u64, bool), (bool, String)> {
    let cpu = ring.cpu;
    let read = |off: usize, dst: &mut [u8]| ring.mmap.read_volatile(off, dst);
    let mut hdr = [0u8; HEADER_SIZE];
    if !copy_wrapped(read, ring.data_off, ring.data_size, tail, &mut hdr) {
        let e = format!("record header at {tail} out of bounds");
        return Err((false, e));
    }
    let size = u16::from_ne_bytes([hdr[6], hdr[7]]) as u64;
    if size < HEADER_SIZE as u64 || size > head - tail {
        // Resynchronise: drop what is there rather than loop forever.
        let e = format!(
            "record at {tail} has size {size} ({} bytes available)",
            head - tail
        );
        return Err((true, e));
    }
    scratch.resize(size as usize, 0);
    if !copy_wrapped(read, ring.data_off, ring.data_size, tail, scratch) {
        let e = format!("record at {tail} out of bounds");
        return Err((false, e));
    }
    let mut sample = false;
    match decode_record(scratch) {
        Some(PerfRecord::Sample(raw)) => {
            sample = true;
            if let Some(f) = on_sample {
                f(cpu, raw);
            }
        }
        Some(PerfRecord::Lost(n)) => match on_lost {
            Some(f) => f(cpu, n),
            None => log::warn!("perf buffer {}: CPU {cpu}: lost {n} samples", name),
        },
        Some(PerfRecord::Other(t)) => {
            log::debug!("perf buffer {}: CPU {cpu}: record type {t} ignored", name)
        }
        None => log::warn!(
            "perf buffer {}: CPU {cpu}: malformed record of {size} bytes skipped",
            name
        ),
    }
    Ok((size, sample))
}

/// The hot loop of a perf ring: pass each contiguous, well-formed sample
/// from `*tail` on to `f` in place, moving `*tail` past it; stop at `head`
/// or at the first record that is anything else (left to the caller).
#[inline(always)]
fn hot_samples<F: FnMut(u32, &[u8]) + ?Sized>(
    data: &[u8],
    mask: u64,
    cpu: u32,
    tail: &mut u64,
    head: u64,
    samples: &mut usize,
    f: &mut F,
) {
    let mut at = *tail;
    // The size of the last sample: the guess for the next (value
    // speculation, as in the ring buffer's loop: the next header's address
    // does not wait for this header's load).
    let mut stride = 0u64;
    while at < head {
        let off = (at & mask) as usize;
        sys::mmap::prefetch(data, ((at + PREFETCH_AHEAD) & mask) as usize);
        let Some(&[t0, t1, t2, t3, _, _, s0, s1]) = data.get(off..off + HEADER_SIZE) else {
            break;
        };
        let size = u16::from_ne_bytes([s0, s1]) as usize;
        if u32::from_ne_bytes([t0, t1, t2, t3]) != PERF_RECORD_SAMPLE
            || size < HEADER_SIZE + 4
            || size as u64 > head - at
        {
            break;
        }
        let Some(rec) = data.get(off..off + size) else {
            break; // straddles the end of the ring
        };
        let raw = u32::from_ne_bytes([rec[8], rec[9], rec[10], rec[11]]) as usize;
        let Some(raw) = rec.get(12..12 + raw) else {
            break;
        };
        f(cpu, raw);
        *samples += 1;
        let size = size as u64;
        if size == std::hint::black_box(stride) {
            at += stride;
        } else {
            stride = crate::ringbuf::new_stride(size);
            at += stride;
        }
    }
    *tail = at;
}

/// Builder of a [`PerfBuffer`].
pub struct PerfBufferBuilder<'m, 'cb, K: Callbacks<'cb> = Local> {
    map: &'m Map,
    pages: usize,
    wakeup: Wakeup,
    cpus: Option<Vec<u32>>,
    sample: Option<Box<K::Sample>>,
    lost: Option<Box<K::Lost>>,
}

impl<'m, 'cb, K: Callbacks<'cb>> PerfBufferBuilder<'m, 'cb, K> {
    fn new(map: &'m Map) -> Self {
        PerfBufferBuilder {
            map,
            pages: DEFAULT_PAGES,
            wakeup: Wakeup::default(),
            cpus: None,
            sample: None,
            lost: None,
        }
    }

    /// Data pages per CPU: a power of two (16 by default).
    pub fn pages(mut self, pages: usize) -> Self {
        self.pages = pages;
        self
    }

    /// Wake a waiting [`PerfBuffer::poll`] only after every `n` samples on a
    /// CPU instead of after each one (the default, `n` = 1, as libbpf).
    ///
    /// Each wakeup costs the reader an `epoll_wait` return and a pass over
    /// the rings, so with a busy producer a larger `n` drains more records
    /// per wakeup for much less CPU. The price is latency: fewer than `n`
    /// samples sitting in a ring wake nobody. They are not lost:
    /// [`PerfBuffer::poll`] reads every ring when its timeout expires and
    /// [`PerfBuffer::consume`] reads them at once, so poll with a timeout
    /// that bounds the latency you accept, and call `consume` once at the
    /// end to flush. `n` must be at least 1.
    pub fn wakeup_events(mut self, n: u32) -> Self {
        self.wakeup = Wakeup::Events(n);
        self
    }

    /// Wake a waiting [`PerfBuffer::poll`] when a CPU's ring holds at least
    /// `bytes` unread bytes (a watermark) instead of after each sample.
    /// Same trade-off and flushing as [`PerfBufferBuilder::wakeup_events`];
    /// `bytes` must be at least 1 and at most the ring's data size
    /// (pages × page size).
    pub fn watermark(mut self, bytes: u32) -> Self {
        self.wakeup = Wakeup::Watermark(bytes);
        self
    }

    /// Only these CPUs (default: every online CPU below the map's size).
    pub fn cpus(mut self, cpus: &[u32]) -> Self {
        self.cpus = Some(cpus.to_vec());
        self
    }

    /// Called with (CPU, raw sample bytes) for every sample.
    pub fn on_sample<F>(mut self, f: F) -> Self
    where
        F: FnMut(u32, &[u8]) + IntoSampleFn<'cb, K>,
    {
        self.sample = Some(f.boxed());
        self
    }

    /// Called with (CPU, number of samples lost) for every lost record
    /// (default: a log warning).
    pub fn on_lost<F>(mut self, f: F) -> Self
    where
        F: FnMut(u32, u64) + IntoLostFn<'cb, K>,
    {
        self.lost = Some(f.boxed());
        self
    }

    /// Open, map and enable one perf event per CPU and store them in the map.
    pub fn build(self) -> Result<PerfBuffer<'cb, K>> {
        let name = self.map.name().to_string();
        let info = sys::map_info(self.map.fd())
            .map_err(|e| Error::sys(format!("perf buffer {name}"), e))?;
        if info.map_type != map_type::PERF_EVENT_ARRAY {
            return Err(Error::Invalid(format!(
                "map {name} is of type {}, not a perf event array (BPF_MAP_TYPE_PERF_EVENT_ARRAY = {})",
                info.map_type,
                map_type::PERF_EVENT_ARRAY
            )));
        }
        if !self.pages.is_power_of_two() {
            return Err(Error::Invalid(format!(
                "perf buffer {name}: {} pages per CPU is not a power of two",
                self.pages
            )));
        }
        let data_bytes = self.pages.saturating_mul(sys::mmap::page_size());
        match self.wakeup {
            Wakeup::Events(0) => {
                return Err(Error::Invalid(format!(
                    "perf buffer {name}: wakeup_events(0): wake up after at least 1 sample"
                )))
            }
            Wakeup::Watermark(b) if b == 0 || b as usize > data_bytes => {
                return Err(Error::Invalid(format!(
                    "perf buffer {name}: watermark of {b} bytes: give 1 to {data_bytes} \
                     (the data size of a {}-page ring)",
                    self.pages
                )))
            }
            _ => {}
        }
        let cpus = match self.cpus {
            Some(c) => c,
            None => online_cpus()?
                .into_iter()
                .filter(|&c| c < info.max_entries)
                .collect(),
        };
        if let Some(&c) = cpus.iter().find(|&&c| c >= info.max_entries) {
            return Err(Error::Invalid(format!(
                "perf buffer {name}: CPU {c} has no slot in a map of {} entries",
                info.max_entries
            )));
        }
        let map_fd = self.map.fd().try_clone_to_owned().map_err(|e| {
            Error::sys(
                format!("perf buffer {name}: dup"),
                SysError::from_io("dup", &e),
            )
        })?;
        let map_fd = sys::MapFd::new(map_fd)
            .map_err(|e| Error::sys(format!("perf buffer {name}: BPF_OBJ_GET_INFO_BY_FD"), e))?;
        let epoll =
            Epoll::new().map_err(|e| Error::sys(format!("perf buffer {name}: epoll"), e))?;
        let mut pb = PerfBuffer {
            name,
            map_fd,
            rings: Vec::new(),
            epoll,
            events: Vec::new(),
            sample: self.sample,
            lost: self.lost,
            scratch: Vec::new(),
            swept: std::time::Instant::now(),
        };
        for cpu in cpus {
            // On error, `pb` is dropped and undoes what was done so far.
            let Some(ring) = CpuRing::open(&pb.map_fd, &pb.name, cpu, self.pages, self.wakeup)?
            else {
                continue;
            };
            let token = pb.rings.len() as u64;
            pb.epoll.add(ring.event.as_fd(), token).map_err(|e| {
                Error::sys(format!("perf buffer {}: CPU {cpu}: epoll_ctl", pb.name), e)
            })?;
            pb.rings.push(ring);
            pb.events.push(EpollEvent::empty());
        }
        log::debug!(
            "perf buffer {}: {} CPUs, {} pages each, wakeup {:?}",
            pb.name,
            pb.rings.len(),
            self.pages,
            self.wakeup
        );
        Ok(pb)
    }
}

/// A reader of a perf event array: one ring per CPU, polled through epoll.
///
/// For every online CPU the reader opens a `PERF_COUNT_SW_BPF_OUTPUT`
/// software event bound to that CPU, maps its ring, stores the event's fd in
/// the map at key = CPU and enables it. `bpf_perf_event_output(ctx, &map,
/// BPF_F_CURRENT_CPU, ...)` then writes samples into the ring of the CPU it
/// runs on; when a ring is full the kernel counts lost samples, reported to
/// the `on_lost` callback. Prefer a [`RingBuffer`](crate::RingBuffer) where
/// the kernel has them (5.8+): one ring, in order, no per-CPU memory.
///
/// ```no_run
/// use std::time::Duration;
/// use tinybpf::{OpenObject, PerfBuffer};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut obj = OpenObject::open("bpf/execsnoop.bpf.o")?.load()?;
/// obj.attach("handle_exec_perf")?;
/// let mut pb = PerfBuffer::builder(obj.map("events_perf").ok_or("no map events_perf")?)
///     .pages(8) // data pages per CPU, a power of two
///     .on_sample(|cpu, raw: &[u8]| println!("cpu {cpu}: {} bytes", raw.len()))
///     .on_lost(|cpu, n| eprintln!("cpu {cpu}: lost {n} samples"))
///     .build()?;
/// pb.poll(Duration::from_millis(100))?;
/// # Ok(()) }
/// ```
///
/// # Threads and async runtimes
///
/// `PerfBuffer::builder` accepts any closures and the reader stays on its
/// thread. [`PerfBuffer::builder_send`] (type [`SendPerfBuffer`]) takes
/// `Send` closures only, and the reader is `Send`: move it into a reader
/// thread that loops on [`PerfBuffer::poll`] and feeds a channel.
///
/// With an async runtime, no thread is needed: the reader is [`AsFd`] (its
/// epoll fd, readable when any CPU's ring has data). Register that fd with
/// the runtime's readiness API (e.g. tokio's `AsyncFd`, async-io's `Async`);
/// when it reports readable, call [`PerfBuffer::consume`] (which never
/// blocks) and wait again. The reader must outlive the registration.
pub struct PerfBuffer<'cb, K: Callbacks<'cb> = Local> {
    name: String,
    map_fd: sys::MapFd,
    rings: Vec<CpuRing>,
    epoll: Epoll,
    events: Vec<EpollEvent>,
    sample: Option<Box<K::Sample>>,
    lost: Option<Box<K::Lost>>,
    scratch: Vec<u8>,
    /// When every ring was last read (see [`PerfBuffer::poll`]).
    swept: std::time::Instant,
}

/// A [`PerfBuffer`] whose callbacks are `Send`, and which is `Send` itself.
pub type SendPerfBuffer<'cb> = PerfBuffer<'cb, Sendable>;

impl<'cb, K: Callbacks<'cb>> std::fmt::Debug for PerfBuffer<'cb, K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let cpus: Vec<u32> = self.rings.iter().map(|r| r.cpu).collect();
        f.debug_struct("PerfBuffer")
            .field("map", &self.name)
            .field("cpus", &cpus)
            .finish()
    }
}

impl<'cb> PerfBuffer<'cb> {
    /// Start building a reader of `map` (a `BPF_MAP_TYPE_PERF_EVENT_ARRAY`).
    pub fn builder(map: &Map) -> PerfBufferBuilder<'_, 'cb> {
        PerfBufferBuilder::new(map)
    }

    /// A reader with 16 data pages per CPU calling `sample` for every
    /// sample and `lost` for every lost record.
    pub fn new(
        map: &Map,
        sample: impl FnMut(u32, &[u8]) + 'cb,
        lost: impl FnMut(u32, u64) + 'cb,
    ) -> Result<PerfBuffer<'cb>> {
        Self::builder(map).on_sample(sample).on_lost(lost).build()
    }
}

impl<'cb> SendPerfBuffer<'cb> {
    /// [`PerfBuffer::builder`] for `Send` callbacks: the reader is `Send`.
    pub fn builder_send(map: &Map) -> PerfBufferBuilder<'_, 'cb, Sendable> {
        PerfBufferBuilder::new(map)
    }

    /// [`PerfBuffer::new`] with `Send` callbacks: the reader is `Send`.
    pub fn new_send(
        map: &Map,
        sample: impl FnMut(u32, &[u8]) + Send + 'cb,
        lost: impl FnMut(u32, u64) + Send + 'cb,
    ) -> Result<SendPerfBuffer<'cb>> {
        Self::builder_send(map)
            .on_sample(sample)
            .on_lost(lost)
            .build()
    }
}

impl<'cb, K: Callbacks<'cb>> PerfBuffer<'cb, K> {
    /// The CPUs with a ring.
    pub fn cpus(&self) -> Vec<u32> {
        self.rings.iter().map(|r| r.cpu).collect()
    }

    /// Wait up to `timeout` for data on any CPU, then read the rings that
    /// epoll reported ready (each event carries its ring's index, as
    /// libbpf's `perf_buffer__poll`). When the wait times out (or a signal
    /// interrupts it), or when `timeout` has passed since every ring was
    /// last read, every ring is read, so that samples below a
    /// [`wakeup_events`](PerfBufferBuilder::wakeup_events) or
    /// [`watermark`](PerfBufferBuilder::watermark) threshold still arrive
    /// within about `timeout` even while other CPUs keep waking the
    /// reader. Returns the number of samples passed to the callback.
    pub fn poll(&mut self, timeout: Duration) -> Result<usize> {
        let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
        let ready = self
            .epoll
            .wait(&mut self.events, ms)
            .map_err(|e| Error::sys(format!("perf buffer {}: epoll_wait", self.name), e))?;
        if ready == 0 || self.swept.elapsed() >= timeout {
            return self.consume();
        }
        let mut n = 0;
        for k in 0..ready.min(self.events.len()) {
            let i = self.events[k].data() as usize;
            n += self.consume_index(i)?;
        }
        Ok(n)
    }

    /// Read every ring without waiting; returns the number of samples.
    pub fn consume(&mut self) -> Result<usize> {
        self.swept = std::time::Instant::now();
        let mut n = 0;
        for i in 0..self.rings.len() {
            n += self.consume_index(i)?;
        }
        Ok(n)
    }

    /// How many rings this reader has (one per CPU of [`PerfBuffer::cpus`]).
    pub fn ring_count(&self) -> usize {
        self.rings.len()
    }

    /// Read ring `index` only (the ring of CPU `cpus()[index]`) without
    /// waiting; returns the number of samples. For callers that wait on
    /// [`PerfBuffer::ring_fd`]s themselves (libbpf's
    /// `perf_buffer__consume_buffer`).
    pub fn consume_ring(&mut self, index: usize) -> Result<usize> {
        if index >= self.rings.len() {
            return Err(Error::Invalid(format!(
                "perf buffer {}: ring index {index} out of range ({} rings)",
                self.name,
                self.rings.len()
            )));
        }
        self.consume_index(index)
    }

    /// The perf event fd of ring `index` (readable when that CPU's ring
    /// woke its readers), to poll one CPU on its own.
    pub fn ring_fd(&self, index: usize) -> Option<BorrowedFd<'_>> {
        self.rings.get(index).map(|r| r.event.as_fd())
    }

    fn consume_index(&mut self, i: usize) -> Result<usize> {
        let Some(ring) = self.rings.get(i) else {
            return Ok(0);
        };
        let cpu = ring.cpu;
        let (Some(head_a), Some(tail_a)) = (
            ring.mmap.atomic_u64_at(DATA_HEAD),
            ring.mmap.atomic_u64_at(DATA_TAIL),
        ) else {
            return Err(self.invalid(cpu, "metadata page too small".into()));
        };
        let head = head_a.load(Ordering::Acquire);
        let mut tail = tail_a.load(Ordering::Relaxed);
        if tail >= head {
            // Empty: no store to data_tail (its cache line stays clean).
            return Ok(0);
        }
        let Some(data) = ring
            .mmap
            .as_slice()
            .get(ring.data_off..ring.data_off + ring.data_size as usize)
        else {
            return Err(self.invalid(cpu, "data area past the mapping".into()));
        };
        let mask = ring.data_size.wrapping_sub(1);
        let mut samples = 0;
        // Records between tail and head are not written by the kernel until
        // data_tail passes them: each sample is passed in place (a borrow
        // of the mapping). The hot loop takes contiguous, well-formed
        // samples; anything else (a record straddling the end of the ring,
        // a lost record, another type, a malformed one) goes through
        // `other_record`, one at a time. data_tail is published once, after
        // the batch.
        while tail < head {
            match &mut self.sample {
                Some(f) => hot_samples(data, mask, cpu, &mut tail, head, &mut samples, &mut **f),
                None => hot_samples(
                    data,
                    mask,
                    cpu,
                    &mut tail,
                    head,
                    &mut samples,
                    &mut |_, _| {},
                ),
            }
            if tail >= head {
                break;
            }
            let (sample, lost) = (&mut self.sample, &mut self.lost);
            match other_record::<K>(
                &self.name,
                ring,
                &mut self.scratch,
                sample,
                lost,
                tail,
                head,
            ) {
                Ok((size, sample)) => {
                    tail += size;
                    samples += sample as usize;
                }
                Err((resync, e)) => {
                    tail_a.store(if resync { head } else { tail }, Ordering::Release);
                    return Err(self.invalid(cpu, e));
                }
            }
        }
        tail_a.store(tail, Ordering::Release);
        Ok(samples)
    }

    fn invalid(&self, cpu: u32, s: String) -> Error {
        Error::Invalid(format!("perf buffer {}: CPU {cpu}: {s}", self.name))
    }

    /// The epoll fd: readable when some CPU's ring has data.
    pub fn epoll_fd(&self) -> BorrowedFd<'_> {
        self.epoll.as_fd()
    }
}

impl<'cb, K: Callbacks<'cb>> AsFd for PerfBuffer<'cb, K> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.epoll_fd()
    }
}

impl<'cb, K: Callbacks<'cb>> Drop for PerfBuffer<'cb, K> {
    fn drop(&mut self) {
        for r in &self.rings {
            let _ = sys::perf_event_ioc_disable(r.event.as_fd());
            // The map holds a reference to the event: take it out.
            let _ = self.map_fd.delete(&r.cpu.to_ne_bytes());
        }
    }
}

#[cfg(test)]
mod tests;
