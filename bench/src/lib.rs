//! Shared helpers of the benchmark runners: CPU/RSS accounting, a counting
//! allocator, one-line JSON results, and carving BPF objects out of
//! libbpf-tools executables.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// A global allocator that counts live and peak heap bytes.
pub struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = System.alloc(l);
        if !p.is_null() {
            let now = LIVE.fetch_add(l.size(), Ordering::Relaxed) + l.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        let q = System.realloc(p, l, new);
        if !q.is_null() {
            if new >= l.size() {
                let now = LIVE.fetch_add(new - l.size(), Ordering::Relaxed) + new - l.size();
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(l.size() - new, Ordering::Relaxed);
            }
        }
        q
    }
}

/// Live heap bytes now.
pub fn heap_live() -> usize {
    LIVE.load(Ordering::Relaxed)
}

/// Reset the peak to the live size; returns the live size.
pub fn heap_reset_peak() -> usize {
    let l = LIVE.load(Ordering::Relaxed);
    PEAK.store(l, Ordering::Relaxed);
    l
}

/// Peak heap bytes since the last reset.
pub fn heap_peak() -> usize {
    PEAK.load(Ordering::Relaxed)
}

/// A point in time and CPU usage.
#[derive(Clone, Copy)]
pub struct Mark {
    t: Instant,
    user_us: i64,
    sys_us: i64,
    cpu_ns: i64,
}

/// CPU time of the process (CLOCK_PROCESS_CPUTIME_ID: precise, unlike
/// getrusage's user/sys split, which the kernel derives from tick samples).
fn cpu_ns() -> i64 {
    // SAFETY: clock_gettime fills the timespec.
    unsafe {
        let mut ts: libc::timespec = std::mem::zeroed();
        libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts);
        ts.tv_sec * 1_000_000_000 + ts.tv_nsec
    }
}

fn rusage() -> libc::rusage {
    // SAFETY: getrusage fills the struct; all-zero is a valid rusage.
    unsafe {
        let mut r: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut r);
        r
    }
}

fn tv_us(tv: libc::timeval) -> i64 {
    tv.tv_sec * 1_000_000 + tv.tv_usec
}

impl Mark {
    pub fn now() -> Mark {
        let r = rusage();
        Mark {
            t: Instant::now(),
            user_us: tv_us(r.ru_utime),
            sys_us: tv_us(r.ru_stime),
            cpu_ns: cpu_ns(),
        }
    }
    /// Wall microseconds since `self`.
    pub fn t_since_us(&self) -> f64 {
        self.t.elapsed().as_nanos() as f64 / 1000.0
    }
    /// Precise CPU microseconds (user + sys) since `self`.
    pub fn cpu_since(&self) -> f64 {
        (cpu_ns() - self.cpu_ns) as f64 / 1000.0
    }
    /// (wall, user, sys) microseconds since `self`.
    pub fn since(&self) -> (f64, i64, i64) {
        let n = Mark::now();
        (
            n.t.duration_since(self.t).as_secs_f64() * 1e6,
            n.user_us - self.user_us,
            n.sys_us - self.sys_us,
        )
    }
}

/// Peak resident set size of this process in KiB.
pub fn maxrss_kib() -> i64 {
    rusage().ru_maxrss
}

/// CPU time of the calling thread, in nanoseconds.
pub fn thread_cpu_ns() -> i64 {
    // SAFETY: clock_gettime fills the timespec.
    unsafe {
        let mut ts: libc::timespec = std::mem::zeroed();
        libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts);
        ts.tv_sec * 1_000_000_000 + ts.tv_nsec
    }
}

/// Minor page faults of the process so far.
pub fn minflt() -> i64 {
    rusage().ru_minflt
}

/// One result line: `{"impl":..,"mode":..,"obj":..,"k":v,...}` on stdout.
pub struct Line {
    s: String,
}

impl Line {
    pub fn new(imp: &str, mode: &str, obj: &str) -> Line {
        Line {
            s: format!("{{\"impl\":\"{imp}\",\"mode\":\"{mode}\",\"obj\":\"{obj}\""),
        }
    }
    pub fn num(mut self, k: &str, v: f64) -> Line {
        self.s.push_str(&format!(",\"{k}\":{v:.1}"));
        self
    }
    pub fn int(mut self, k: &str, v: i64) -> Line {
        self.s.push_str(&format!(",\"{k}\":{v}"));
        self
    }
    pub fn print(mut self) {
        self.s.push('}');
        println!("{}", self.s);
    }
}

/// Short name of an object path (`bpf/hello.bpf.o` -> `hello`).
pub fn obj_label(path: &str) -> String {
    let f = path.rsplit('/').next().unwrap_or(path);
    f.trim_end_matches(".o")
        .trim_end_matches(".bpf")
        .to_string()
}

// ---- carving objects out of libbpf-tools executables ----

const EM_BPF: u16 = 247;

fn u16_at(b: &[u8], off: usize) -> Option<u16> {
    let s = b.get(off..off.checked_add(2)?)?;
    Some(u16::from_le_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    let s = b.get(off..off.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn u64_at(b: &[u8], off: usize) -> Option<u64> {
    let s = b.get(off..off.checked_add(8)?)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Some(u64::from_le_bytes(a))
}

/// Length of the little-endian ELF64 EM_BPF relocatable object at the start
/// of `data` (from its section header table and sections' extents).
fn bpf_object_len(data: &[u8]) -> Option<usize> {
    if data.get(..4)? != b"\x7fELF" || data.get(4..7)? != [2, 1, 1] {
        return None;
    }
    if u16_at(data, 16)? != 1 || u16_at(data, 18)? != EM_BPF {
        return None;
    }
    let shoff = usize::try_from(u64_at(data, 40)?).ok()?;
    let shnum = usize::from(u16_at(data, 60)?);
    if u16_at(data, 58)? != 64 || !(2..=65535).contains(&shnum) || shoff < 64 {
        return None;
    }
    let table_end = shoff.checked_add(shnum * 64)?;
    let table = data.get(shoff..table_end)?;
    let mut end = table_end;
    for sh in table.chunks_exact(64).skip(1) {
        if u32_at(sh, 4)? == 8 {
            continue; // SHT_NOBITS
        }
        let off = usize::try_from(u64_at(sh, 24)?).ok()?;
        let size = usize::try_from(u64_at(sh, 32)?).ok()?;
        end = end.max(off.checked_add(size)?);
    }
    (end <= data.len()).then_some(end)
}

/// Every BPF object embedded in an executable (libbpf skeletons embed the
/// whole `.bpf.o` as a byte array).
pub fn carve_bpf_objects(binary: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(rel) = binary
        .get(pos..)
        .and_then(|h| h.windows(4).position(|w| w == b"\x7fELF"))
    {
        let start = pos + rel;
        match bpf_object_len(&binary[start..]) {
            Some(len) => {
                out.push(&binary[start..start + len]);
                pos = start + len.max(1);
            }
            None => pos = start + 1,
        }
    }
    out
}
