//! `enum bpf_map_type`: constants and [`MapType`].

uapi_enum! {
    /// A map's type (`enum bpf_map_type`).
    MapType, "BPF_MAP_TYPE_" {
        Unspec = UNSPEC = 0 => "unspec",
        Hash = HASH = 1 => "hash",
        Array = ARRAY = 2 => "array",
        ProgArray = PROG_ARRAY = 3 => "prog_array",
        PerfEventArray = PERF_EVENT_ARRAY = 4 => "perf_event_array",
        PercpuHash = PERCPU_HASH = 5 => "percpu_hash",
        PercpuArray = PERCPU_ARRAY = 6 => "percpu_array",
        StackTrace = STACK_TRACE = 7 => "stack_trace",
        CgroupArray = CGROUP_ARRAY = 8 => "cgroup_array",
        LruHash = LRU_HASH = 9 => "lru_hash",
        LruPercpuHash = LRU_PERCPU_HASH = 10 => "lru_percpu_hash",
        LpmTrie = LPM_TRIE = 11 => "lpm_trie",
        ArrayOfMaps = ARRAY_OF_MAPS = 12 => "array_of_maps",
        HashOfMaps = HASH_OF_MAPS = 13 => "hash_of_maps",
        Devmap = DEVMAP = 14 => "devmap",
        Sockmap = SOCKMAP = 15 => "sockmap",
        Cpumap = CPUMAP = 16 => "cpumap",
        Xskmap = XSKMAP = 17 => "xskmap",
        Sockhash = SOCKHASH = 18 => "sockhash",
        CgroupStorage = CGROUP_STORAGE = 19 => "cgroup_storage",
        ReuseportSockarray = REUSEPORT_SOCKARRAY = 20 => "reuseport_sockarray",
        PercpuCgroupStorage = PERCPU_CGROUP_STORAGE = 21 => "percpu_cgroup_storage",
        Queue = QUEUE = 22 => "queue",
        Stack = STACK = 23 => "stack",
        SkStorage = SK_STORAGE = 24 => "sk_storage",
        DevmapHash = DEVMAP_HASH = 25 => "devmap_hash",
        StructOps = STRUCT_OPS = 26 => "struct_ops",
        Ringbuf = RINGBUF = 27 => "ringbuf",
        InodeStorage = INODE_STORAGE = 28 => "inode_storage",
        TaskStorage = TASK_STORAGE = 29 => "task_storage",
        BloomFilter = BLOOM_FILTER = 30 => "bloom_filter",
        UserRingbuf = USER_RINGBUF = 31 => "user_ringbuf",
        CgrpStorage = CGRP_STORAGE = 32 => "cgrp_storage",
        Arena = ARENA = 33 => "arena",
    }
}

impl MapType {
    /// Whether values are per CPU (user space sees `value_size` rounded up
    /// to 8, times the number of possible CPUs).
    pub fn is_per_cpu(self) -> bool {
        is_per_cpu(self.raw())
    }
}

/// Whether values of map type `t` are per CPU (user space sees
/// `value_size` rounded up to 8, times the number of possible CPUs).
pub fn is_per_cpu(t: u32) -> bool {
    matches!(
        t,
        PERCPU_HASH | PERCPU_ARRAY | LRU_PERCPU_HASH | PERCPU_CGROUP_STORAGE
    )
}

/// bpftool's name for map type `t` (`"unknown"` for types without one).
pub fn name(t: u32) -> &'static str {
    MapType::from_raw(t).name()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_names() {
        for v in 0..64 {
            assert_eq!(MapType::from_raw(v).raw(), v);
        }
        assert_eq!(MapType::from(RINGBUF), MapType::Ringbuf);
        assert_eq!(u32::from(MapType::Arena), 33);
        assert_eq!(MapType::PercpuArray.to_string(), "percpu_array");
        assert_eq!(MapType::from_raw(999), MapType::Unknown(999));
        assert_eq!(MapType::from_raw(999).to_string(), "unknown (999)");
        assert!(MapType::LruPercpuHash.is_per_cpu());
        assert!(!MapType::Hash.is_per_cpu());
    }
}
