//! `enum bpf_map_type` values.

pub const HASH: u32 = 1;
pub const ARRAY: u32 = 2;
pub const PROG_ARRAY: u32 = 3;
pub const PERF_EVENT_ARRAY: u32 = 4;
pub const PERCPU_HASH: u32 = 5;
pub const PERCPU_ARRAY: u32 = 6;
pub const STACK_TRACE: u32 = 7;
pub const CGROUP_ARRAY: u32 = 8;
pub const LRU_HASH: u32 = 9;
pub const LRU_PERCPU_HASH: u32 = 10;
pub const LPM_TRIE: u32 = 11;
pub const ARRAY_OF_MAPS: u32 = 12;
pub const HASH_OF_MAPS: u32 = 13;
pub const DEVMAP: u32 = 14;
pub const SOCKMAP: u32 = 15;
pub const CPUMAP: u32 = 16;
pub const XSKMAP: u32 = 17;
pub const SOCKHASH: u32 = 18;
pub const QUEUE: u32 = 22;
pub const STACK: u32 = 23;
pub const RINGBUF: u32 = 27;
pub const BLOOM_FILTER: u32 = 30;
pub const USER_RINGBUF: u32 = 31;

/// Whether values are per CPU (user space sees `value_size` rounded up to 8
/// times the number of possible CPUs).
pub fn is_per_cpu(t: u32) -> bool {
    matches!(
        t,
        PERCPU_HASH | PERCPU_ARRAY | LRU_PERCPU_HASH | 21 /* PERCPU_CGROUP_STORAGE */
    )
}

/// Human name for `bpftool`-like listings.
pub fn name(t: u32) -> &'static str {
    match t {
        HASH => "hash",
        ARRAY => "array",
        PROG_ARRAY => "prog_array",
        PERF_EVENT_ARRAY => "perf_event_array",
        PERCPU_HASH => "percpu_hash",
        PERCPU_ARRAY => "percpu_array",
        STACK_TRACE => "stack_trace",
        CGROUP_ARRAY => "cgroup_array",
        LRU_HASH => "lru_hash",
        LRU_PERCPU_HASH => "lru_percpu_hash",
        LPM_TRIE => "lpm_trie",
        ARRAY_OF_MAPS => "array_of_maps",
        HASH_OF_MAPS => "hash_of_maps",
        DEVMAP => "devmap",
        SOCKMAP => "sockmap",
        CPUMAP => "cpumap",
        XSKMAP => "xskmap",
        SOCKHASH => "sockhash",
        QUEUE => "queue",
        STACK => "stack",
        RINGBUF => "ringbuf",
        BLOOM_FILTER => "bloom_filter",
        USER_RINGBUF => "user_ringbuf",
        _ => "other",
    }
}
