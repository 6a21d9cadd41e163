//! One `#[repr(C)]` struct per bpf(2) command, laid out as the matching member
//! of `union bpf_attr` (include/uapi/linux/bpf.h) and ending at the last field
//! that command uses. Padding is explicit (`_pad*` fields) so every byte handed
//! to the kernel is initialised; `size_of` of the struct is the size argument.
//! Pointers are `u64` (`__aligned_u64`); fds are `u32`.

/// `BPF_MAP_CREATE`, up to `map_token_fd` (6.9+; zero for older kernels).
#[repr(C)]
#[derive(Default)]
pub(crate) struct MapCreate {
    pub map_type: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub map_flags: u32,
    pub inner_map_fd: u32,
    pub numa_node: u32,
    pub map_name: [u8; 16],
    pub map_ifindex: u32,
    pub btf_fd: u32,
    pub btf_key_type_id: u32,
    pub btf_value_type_id: u32,
    pub btf_vmlinux_value_type_id: u32,
    pub map_extra: u64,
    pub value_type_btf_obj_fd: i32,
    pub map_token_fd: i32,
}

/// `BPF_MAP_{LOOKUP,UPDATE,DELETE}_ELEM`, `BPF_MAP_GET_NEXT_KEY`,
/// `BPF_MAP_LOOKUP_AND_DELETE_ELEM` (`value` doubles as `next_key`).
#[repr(C)]
#[derive(Default)]
pub(crate) struct MapElem {
    pub map_fd: u32,
    pub _pad0: u32,
    pub key: u64,
    pub value: u64,
    pub flags: u64,
}

/// `BPF_MAP_FREEZE`: only `map_fd`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct MapFd {
    pub map_fd: u32,
}

/// `BPF_MAP_*_BATCH` (`attr.batch`).
#[repr(C)]
#[derive(Default)]
pub(crate) struct MapBatch {
    pub in_batch: u64,
    pub out_batch: u64,
    pub keys: u64,
    pub values: u64,
    pub count: u32,
    pub map_fd: u32,
    pub elem_flags: u64,
    pub flags: u64,
}

/// `BPF_PROG_LOAD`, up to `log_true_size` (an output since 6.4; older
/// kernels accept it because it is zero on input).
#[repr(C)]
#[derive(Default)]
pub(crate) struct ProgLoad {
    pub prog_type: u32,
    pub insn_cnt: u32,
    pub insns: u64,
    pub license: u64,
    pub log_level: u32,
    pub log_size: u32,
    pub log_buf: u64,
    pub kern_version: u32,
    pub prog_flags: u32,
    pub prog_name: [u8; 16],
    pub prog_ifindex: u32,
    pub expected_attach_type: u32,
    pub prog_btf_fd: u32,
    pub func_info_rec_size: u32,
    pub func_info: u64,
    pub func_info_cnt: u32,
    pub line_info_rec_size: u32,
    pub line_info: u64,
    pub line_info_cnt: u32,
    pub attach_btf_id: u32,
    /// `attach_prog_fd` or `attach_btf_obj_fd` (a union in the header).
    pub attach_fd: u32,
    pub core_relo_cnt: u32,
    pub fd_array: u64,
    pub core_relos: u64,
    pub core_relo_rec_size: u32,
    pub log_true_size: u32,
    /// 6.9+ (zero for older kernels, which accept zeroed tail bytes).
    pub prog_token_fd: i32,
    pub fd_array_cnt: u32,
}

/// `BPF_OBJ_PIN` / `BPF_OBJ_GET`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct Obj {
    pub pathname: u64,
    pub bpf_fd: u32,
    pub file_flags: u32,
}

/// `BPF_PROG_ATTACH` / `BPF_PROG_DETACH`, up to `replace_bpf_fd`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct ProgAttach {
    pub target_fd: u32,
    pub attach_bpf_fd: u32,
    pub attach_type: u32,
    pub attach_flags: u32,
    pub replace_bpf_fd: u32,
}

/// `BPF_PROG_TEST_RUN` (`attr.test`), up to `batch_size`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct TestRun {
    pub prog_fd: u32,
    pub retval: u32,
    pub data_size_in: u32,
    pub data_size_out: u32,
    pub data_in: u64,
    pub data_out: u64,
    pub repeat: u32,
    pub duration: u32,
    pub ctx_size_in: u32,
    pub ctx_size_out: u32,
    pub ctx_in: u64,
    pub ctx_out: u64,
    pub flags: u32,
    pub cpu: u32,
    pub batch_size: u32,
    pub _pad0: u32,
}

/// `BPF_*_GET_NEXT_ID` and `BPF_*_GET_FD_BY_ID`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct GetId {
    /// `start_id` / `prog_id` / `map_id` / `btf_id` / `link_id`.
    pub id: u32,
    pub next_id: u32,
    pub open_flags: u32,
}

/// `BPF_ITER_CREATE` (`attr.iter_create`).
#[repr(C)]
#[derive(Default)]
pub(crate) struct IterCreate {
    pub link_fd: u32,
    pub flags: u32,
}

/// `union bpf_iter_link_info` (16 bytes: the `cgroup` member is the largest);
/// `map.map_fd`, `task.{tid,pid,pid_fd}` and `cgroup.{order,cgroup_fd}`
/// share the first words.
#[repr(C)]
#[derive(Default, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IterLinkInfo {
    /// `map.map_fd`, `task.tid` or `cgroup.order`.
    pub word0: u32,
    /// `task.pid` or `cgroup.cgroup_fd`.
    pub word1: u32,
    /// `task.pid_fd`, or the low half of `cgroup.cgroup_id`.
    pub word2: u32,
    /// The high half of `cgroup.cgroup_id`.
    pub word3: u32,
}

impl IterLinkInfo {
    /// The union's bytes, as `BPF_LINK_CREATE` reads them through `iter_info`.
    pub fn bytes(&self) -> [u8; 16] {
        let mut b = [0u8; 16];
        for (i, w) in [self.word0, self.word1, self.word2, self.word3]
            .iter()
            .enumerate()
        {
            b[i * 4..i * 4 + 4].copy_from_slice(&w.to_ne_bytes());
        }
        b
    }
}

/// `BPF_OBJ_GET_INFO_BY_FD` (`attr.info`).
#[repr(C)]
#[derive(Default)]
pub(crate) struct InfoByFd {
    pub bpf_fd: u32,
    pub info_len: u32,
    pub info: u64,
}

/// `BPF_RAW_TRACEPOINT_OPEN`, up to `prog_fd`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct RawTracepoint {
    pub name: u64,
    pub prog_fd: u32,
    pub _pad0: u32,
}

/// `BPF_BTF_LOAD`, up to `btf_token_fd`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct BtfLoad {
    pub btf: u64,
    pub btf_log_buf: u64,
    pub btf_size: u32,
    pub btf_log_size: u32,
    pub btf_log_level: u32,
    pub btf_log_true_size: u32,
    /// 6.9+ (zero for older kernels).
    pub btf_flags: u32,
    pub btf_token_fd: i32,
}

/// `BPF_TOKEN_CREATE` (`attr.token_create`, 6.9+).
#[repr(C)]
#[derive(Default)]
pub(crate) struct TokenCreate {
    pub flags: u32,
    pub bpffs_fd: u32,
}

/// `attr.link_create.perf_event`.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct LinkPerfEvent {
    pub bpf_cookie: u64,
}

/// `attr.link_create.tracing`.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct LinkTracing {
    pub target_btf_id: u32,
    pub _pad0: u32,
    pub cookie: u64,
}

/// The anonymous `iter_info` member of `attr.link_create`.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct LinkIter {
    pub iter_info: u64,
    pub iter_info_len: u32,
    pub _pad0: u32,
}

/// `attr.link_create.uprobe_multi`.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct LinkUprobeMulti {
    pub path: u64,
    pub offsets: u64,
    pub ref_ctr_offsets: u64,
    pub cookies: u64,
    pub cnt: u32,
    pub flags: u32,
    pub pid: u32,
    pub _pad0: u32,
}

/// `attr.link_create.kprobe_multi`.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct LinkKprobeMulti {
    pub flags: u32,
    pub cnt: u32,
    pub syms: u64,
    pub addrs: u64,
    pub cookies: u64,
}

/// `attr.link_create.tcx` (and `netkit`): `relative_fd` or `relative_id`
/// (by `BPF_F_ID`), and the expected revision (0: any).
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct LinkTcx {
    pub relative: u32,
    pub _pad0: u32,
    pub expected_revision: u64,
}

/// `attr.link_create.netfilter`.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct LinkNetfilter {
    pub pf: u32,
    pub hooknum: u32,
    pub priority: i32,
    pub flags: u32,
}

/// The per-attach-type union of `attr.link_create`. Writing a member is safe;
/// `raw` is written first so every byte is initialised.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) union LinkExtra {
    pub raw: [u64; 6],
    pub target_btf_id: u32,
    pub perf_event: LinkPerfEvent,
    pub tracing: LinkTracing,
    pub iter: LinkIter,
    pub uprobe_multi: LinkUprobeMulti,
    pub kprobe_multi: LinkKprobeMulti,
    pub tcx: LinkTcx,
    pub netfilter: LinkNetfilter,
}

impl Default for LinkExtra {
    fn default() -> Self {
        LinkExtra { raw: [0; 6] }
    }
}

/// `BPF_LINK_CREATE` (`attr.link_create`), up to the end of `uprobe_multi`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct LinkCreate {
    pub prog_fd: u32,
    /// `target_fd` or `target_ifindex`.
    pub target: u32,
    pub attach_type: u32,
    pub flags: u32,
    pub extra: LinkExtra,
}

/// `BPF_LINK_UPDATE`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct LinkUpdate {
    pub link_fd: u32,
    pub new_prog_fd: u32,
    pub flags: u32,
    pub old_prog_fd: u32,
}

/// `BPF_LINK_DETACH`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct LinkDetach {
    pub link_fd: u32,
}

/// `BPF_PROG_BIND_MAP`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct ProgBindMap {
    pub prog_fd: u32,
    pub map_fd: u32,
    pub flags: u32,
}

/// `struct bpf_prog_info`, as of the 6.x UAPI header (up to `attach_btf_id`).
#[repr(C)]
#[derive(Default)]
pub(crate) struct ProgInfoRaw {
    pub prog_type: u32,
    pub id: u32,
    pub tag: [u8; 8],
    pub jited_prog_len: u32,
    pub xlated_prog_len: u32,
    pub jited_prog_insns: u64,
    pub xlated_prog_insns: u64,
    pub load_time: u64,
    pub created_by_uid: u32,
    pub nr_map_ids: u32,
    pub map_ids: u64,
    pub name: [u8; 16],
    pub ifindex: u32,
    /// Bit 0: `gpl_compatible`.
    pub bits: u32,
    pub netns_dev: u64,
    pub netns_ino: u64,
    pub nr_jited_ksyms: u32,
    pub nr_jited_func_lens: u32,
    pub jited_ksyms: u64,
    pub jited_func_lens: u64,
    pub btf_id: u32,
    pub func_info_rec_size: u32,
    pub func_info: u64,
    pub nr_func_info: u32,
    pub nr_line_info: u32,
    pub line_info: u64,
    pub jited_line_info: u64,
    pub nr_jited_line_info: u32,
    pub line_info_rec_size: u32,
    pub jited_line_info_rec_size: u32,
    pub nr_prog_tags: u32,
    pub prog_tags: u64,
    pub run_time_ns: u64,
    pub run_cnt: u64,
    pub recursion_misses: u64,
    pub verified_insns: u32,
    pub attach_btf_obj_id: u32,
    pub attach_btf_id: u32,
    pub _pad0: u32,
}

/// `struct bpf_map_info` (up to `map_extra`).
#[repr(C)]
#[derive(Default)]
pub(crate) struct MapInfoRaw {
    pub map_type: u32,
    pub id: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub map_flags: u32,
    pub name: [u8; 16],
    pub ifindex: u32,
    pub btf_vmlinux_value_type_id: u32,
    pub netns_dev: u64,
    pub netns_ino: u64,
    pub btf_id: u32,
    pub btf_key_type_id: u32,
    pub btf_value_type_id: u32,
    pub _pad0: u32,
    pub map_extra: u64,
}

/// `struct bpf_link_info`: the common head and the per-type union as raw words.
#[repr(C)]
#[derive(Default)]
pub(crate) struct LinkInfoRaw {
    pub link_type: u32,
    pub id: u32,
    pub prog_id: u32,
    pub _pad0: u32,
    /// The union at offset 16; 64 bytes covers every member as of 6.18.
    pub extra: [u32; 16],
}

/// `struct bpf_btf_info`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct BtfInfoRaw {
    pub btf: u64,
    pub btf_size: u32,
    pub id: u32,
    pub name: u64,
    pub name_len: u32,
    pub kernel_btf: u32,
}

#[cfg(test)]
mod tests {
    //! Offsets and sizes written from include/uapi/linux/bpf.h (checked
    //! against the 6.18 kernel's own BTF for `union bpf_attr`).
    use super::*;
    use core::mem::{offset_of, size_of};

    #[test]
    fn map_create() {
        assert_eq!(offset_of!(MapCreate, numa_node), 24);
        assert_eq!(offset_of!(MapCreate, map_name), 28);
        assert_eq!(offset_of!(MapCreate, map_ifindex), 44);
        assert_eq!(offset_of!(MapCreate, btf_fd), 48);
        assert_eq!(offset_of!(MapCreate, btf_vmlinux_value_type_id), 60);
        assert_eq!(offset_of!(MapCreate, map_extra), 64);
        assert_eq!(offset_of!(MapCreate, value_type_btf_obj_fd), 72);
        assert_eq!(offset_of!(MapCreate, map_token_fd), 76);
        assert_eq!(size_of::<MapCreate>(), 80);
    }

    #[test]
    fn map_elem_and_batch() {
        assert_eq!(offset_of!(MapElem, key), 8);
        assert_eq!(offset_of!(MapElem, value), 16);
        assert_eq!(offset_of!(MapElem, flags), 24);
        assert_eq!(size_of::<MapElem>(), 32);
        assert_eq!(size_of::<MapFd>(), 4);
        assert_eq!(offset_of!(MapBatch, count), 32);
        assert_eq!(offset_of!(MapBatch, map_fd), 36);
        assert_eq!(offset_of!(MapBatch, elem_flags), 40);
        assert_eq!(offset_of!(MapBatch, flags), 48);
        assert_eq!(size_of::<MapBatch>(), 56);
    }

    #[test]
    fn prog_load() {
        assert_eq!(offset_of!(ProgLoad, insns), 8);
        assert_eq!(offset_of!(ProgLoad, license), 16);
        assert_eq!(offset_of!(ProgLoad, log_level), 24);
        assert_eq!(offset_of!(ProgLoad, log_buf), 32);
        assert_eq!(offset_of!(ProgLoad, kern_version), 40);
        assert_eq!(offset_of!(ProgLoad, prog_name), 48);
        assert_eq!(offset_of!(ProgLoad, prog_ifindex), 64);
        assert_eq!(offset_of!(ProgLoad, expected_attach_type), 68);
        assert_eq!(offset_of!(ProgLoad, prog_btf_fd), 72);
        assert_eq!(offset_of!(ProgLoad, func_info_rec_size), 76);
        assert_eq!(offset_of!(ProgLoad, func_info), 80);
        assert_eq!(offset_of!(ProgLoad, func_info_cnt), 88);
        assert_eq!(offset_of!(ProgLoad, line_info_rec_size), 92);
        assert_eq!(offset_of!(ProgLoad, line_info), 96);
        assert_eq!(offset_of!(ProgLoad, line_info_cnt), 104);
        assert_eq!(offset_of!(ProgLoad, attach_btf_id), 108);
        assert_eq!(offset_of!(ProgLoad, attach_fd), 112);
        assert_eq!(offset_of!(ProgLoad, core_relo_cnt), 116);
        assert_eq!(offset_of!(ProgLoad, fd_array), 120);
        assert_eq!(offset_of!(ProgLoad, core_relos), 128);
        assert_eq!(offset_of!(ProgLoad, core_relo_rec_size), 136);
        assert_eq!(offset_of!(ProgLoad, log_true_size), 140);
        assert_eq!(offset_of!(ProgLoad, prog_token_fd), 144);
        assert_eq!(offset_of!(ProgLoad, fd_array_cnt), 148);
        assert_eq!(size_of::<ProgLoad>(), 152);
    }

    #[test]
    fn small_commands() {
        assert_eq!(offset_of!(Obj, bpf_fd), 8);
        assert_eq!(offset_of!(Obj, file_flags), 12);
        assert_eq!(size_of::<Obj>(), 16);
        assert_eq!(offset_of!(ProgAttach, replace_bpf_fd), 16);
        assert_eq!(size_of::<ProgAttach>(), 20);
        assert_eq!(offset_of!(GetId, next_id), 4);
        assert_eq!(offset_of!(GetId, open_flags), 8);
        assert_eq!(size_of::<GetId>(), 12);
        assert_eq!(offset_of!(InfoByFd, info), 8);
        assert_eq!(size_of::<InfoByFd>(), 16);
        assert_eq!(offset_of!(RawTracepoint, prog_fd), 8);
        assert_eq!(size_of::<RawTracepoint>(), 16);
        assert_eq!(offset_of!(BtfLoad, btf_size), 16);
        assert_eq!(offset_of!(BtfLoad, btf_log_level), 24);
        assert_eq!(offset_of!(BtfLoad, btf_log_true_size), 28);
        assert_eq!(offset_of!(BtfLoad, btf_flags), 32);
        assert_eq!(offset_of!(BtfLoad, btf_token_fd), 36);
        assert_eq!(size_of::<BtfLoad>(), 40);
        assert_eq!(offset_of!(TokenCreate, bpffs_fd), 4);
        assert_eq!(size_of::<TokenCreate>(), 8);
        assert_eq!(size_of::<LinkUpdate>(), 16);
        assert_eq!(size_of::<LinkDetach>(), 4);
        assert_eq!(size_of::<ProgBindMap>(), 12);
        // attr.iter_create
        assert_eq!(offset_of!(IterCreate, flags), 4);
        assert_eq!(size_of::<IterCreate>(), 8);
        // union bpf_iter_link_info: map.map_fd @0; task.tid/pid/pid_fd @0/4/8;
        // cgroup.order/cgroup_fd @0/4, cgroup.cgroup_id (u64) @8; size 16.
        assert_eq!(offset_of!(IterLinkInfo, word1), 4);
        assert_eq!(offset_of!(IterLinkInfo, word2), 8);
        assert_eq!(size_of::<IterLinkInfo>(), 16);
        let id: u64 = 0x1122_3344_5566_7788;
        let info = IterLinkInfo {
            word0: 7,
            word2: id as u32,
            word3: (id >> 32) as u32,
            ..Default::default()
        };
        let b = info.bytes();
        assert_eq!(u32::from_ne_bytes(b[0..4].try_into().unwrap()), 7);
        assert_eq!(u64::from_ne_bytes(b[8..16].try_into().unwrap()), id);
    }

    #[test]
    fn test_run() {
        assert_eq!(offset_of!(TestRun, data_in), 16);
        assert_eq!(offset_of!(TestRun, data_out), 24);
        assert_eq!(offset_of!(TestRun, repeat), 32);
        assert_eq!(offset_of!(TestRun, duration), 36);
        assert_eq!(offset_of!(TestRun, ctx_size_in), 40);
        assert_eq!(offset_of!(TestRun, ctx_in), 48);
        assert_eq!(offset_of!(TestRun, ctx_out), 56);
        assert_eq!(offset_of!(TestRun, flags), 64);
        assert_eq!(offset_of!(TestRun, cpu), 68);
        assert_eq!(offset_of!(TestRun, batch_size), 72);
        assert_eq!(size_of::<TestRun>(), 80);
    }

    #[test]
    fn link_create() {
        assert_eq!(offset_of!(LinkCreate, attach_type), 8);
        assert_eq!(offset_of!(LinkCreate, flags), 12);
        assert_eq!(offset_of!(LinkCreate, extra), 16);
        assert_eq!(offset_of!(LinkTracing, cookie), 8);
        assert_eq!(offset_of!(LinkIter, iter_info_len), 8);
        assert_eq!(offset_of!(LinkUprobeMulti, cnt), 32);
        assert_eq!(offset_of!(LinkUprobeMulti, pid), 40);
        assert_eq!(offset_of!(LinkKprobeMulti, cnt), 4);
        assert_eq!(offset_of!(LinkKprobeMulti, syms), 8);
        assert_eq!(offset_of!(LinkKprobeMulti, addrs), 16);
        assert_eq!(offset_of!(LinkKprobeMulti, cookies), 24);
        assert_eq!(size_of::<LinkKprobeMulti>(), 32);
        assert_eq!(offset_of!(LinkTcx, expected_revision), 8);
        assert_eq!(size_of::<LinkTcx>(), 16);
        assert_eq!(offset_of!(LinkNetfilter, priority), 8);
        assert_eq!(size_of::<LinkNetfilter>(), 16);
        assert_eq!(size_of::<LinkExtra>(), 48);
        assert_eq!(size_of::<LinkCreate>(), 64);
    }

    #[test]
    fn info_structs() {
        assert_eq!(offset_of!(ProgInfoRaw, tag), 8);
        assert_eq!(offset_of!(ProgInfoRaw, jited_prog_insns), 24);
        assert_eq!(offset_of!(ProgInfoRaw, load_time), 40);
        assert_eq!(offset_of!(ProgInfoRaw, created_by_uid), 48);
        assert_eq!(offset_of!(ProgInfoRaw, map_ids), 56);
        assert_eq!(offset_of!(ProgInfoRaw, name), 64);
        assert_eq!(offset_of!(ProgInfoRaw, ifindex), 80);
        assert_eq!(offset_of!(ProgInfoRaw, bits), 84);
        assert_eq!(offset_of!(ProgInfoRaw, netns_dev), 88);
        assert_eq!(offset_of!(ProgInfoRaw, btf_id), 128);
        assert_eq!(offset_of!(ProgInfoRaw, func_info), 136);
        assert_eq!(offset_of!(ProgInfoRaw, line_info), 152);
        assert_eq!(offset_of!(ProgInfoRaw, nr_prog_tags), 180);
        assert_eq!(offset_of!(ProgInfoRaw, run_time_ns), 192);
        assert_eq!(offset_of!(ProgInfoRaw, verified_insns), 216);
        assert_eq!(offset_of!(ProgInfoRaw, attach_btf_id), 224);
        assert_eq!(size_of::<ProgInfoRaw>(), 232);
        assert_eq!(offset_of!(MapInfoRaw, name), 24);
        assert_eq!(offset_of!(MapInfoRaw, netns_dev), 48);
        assert_eq!(offset_of!(MapInfoRaw, btf_id), 64);
        assert_eq!(offset_of!(MapInfoRaw, map_extra), 80);
        assert_eq!(size_of::<MapInfoRaw>(), 88);
        assert_eq!(offset_of!(LinkInfoRaw, extra), 16);
        assert_eq!(offset_of!(BtfInfoRaw, id), 12);
        assert_eq!(offset_of!(BtfInfoRaw, name), 16);
        assert_eq!(offset_of!(BtfInfoRaw, kernel_btf), 28);
        assert_eq!(size_of::<BtfInfoRaw>(), 32);
    }
}
