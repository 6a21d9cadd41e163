//! The sys layer against the running kernel (unit tests, as `sys` is
//! crate-private). Needs root (CAP_BPF, CAP_PERFMON,
//! CAP_SYS_ADMIN for mounts): without it the tests say why and return, unless
//! `CI` is set, in which case they fail.

use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::sync::atomic::Ordering;

use crate::abi::insn::{Insn, BPF_ALU64, BPF_EXIT, BPF_JMP, BPF_K, BPF_MOV};
use crate::sys::{
    self, EpollEvent, LinkCreateExtra, LinkTarget, MapCreateAttr, MapFd, Mmap, PerfEventAttr,
    ProgLoadAttr,
};
use nix::errno::Errno;

const BPF_MAP_TYPE_HASH: u32 = 1;
const BPF_MAP_TYPE_ARRAY: u32 = 2;
const BPF_MAP_TYPE_PERCPU_ARRAY: u32 = 6;
const BPF_MAP_TYPE_QUEUE: u32 = 22;
const BPF_MAP_TYPE_RINGBUF: u32 = 27;
const BPF_F_MMAPABLE: u32 = 1 << 10;
const BPF_PROG_TYPE_SOCKET_FILTER: u32 = 1;
const BPF_PROG_TYPE_TRACEPOINT: u32 = 5;
const BPF_PROG_TYPE_XDP: u32 = 6;
const BPF_PERF_EVENT: u32 = 41;
const BPF_LINK_TYPE_PERF_EVENT: u32 = 7;

fn root() -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("these tests need root (CAP_BPF/CAP_PERFMON/CAP_SYS_ADMIN) and CI is set");
    }
    eprintln!("skipping: not root (set CI=true to make this a failure)");
    false
}

fn mov_r0(imm: i32) -> Insn {
    Insn::new(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, imm)
}

fn exit() -> Insn {
    Insn::new(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
}

fn load(prog_type: u32, insns: &[Insn], name: &[u8]) -> OwnedFd {
    let attr = ProgLoadAttr {
        prog_type,
        insns,
        name,
        ..Default::default()
    };
    match sys::prog_load(&attr, None) {
        Ok(fd) => fd,
        Err(e) => {
            let mut log = sys::VerifierLog {
                level: 1,
                buf: vec![0; 1 << 20],
                true_size: 0,
            };
            let _ = sys::prog_load(&attr, Some(&mut log));
            panic!("{e}\n{}", log.text())
        }
    }
}

fn array(value_size: u32, max_entries: u32, flags: u32, name: &[u8]) -> MapFd {
    MapFd::create(&MapCreateAttr {
        map_type: BPF_MAP_TYPE_ARRAY,
        key_size: 4,
        value_size,
        max_entries,
        map_flags: flags,
        name,
        ..Default::default()
    })
    .unwrap()
}

#[test]
fn array_map_ops() {
    if !root() {
        return;
    }
    let m = array(8, 4, 0, b"tb_test_array");
    let fd = m.as_fd();
    let info = sys::map_info(fd).unwrap();
    assert_eq!(
        (
            info.map_type,
            info.key_size,
            info.value_size,
            info.max_entries
        ),
        (BPF_MAP_TYPE_ARRAY, 4, 8, 4)
    );
    assert_eq!(info.name, "tb_test_array");

    m.update(&2u32.to_ne_bytes(), &77u64.to_ne_bytes(), 0)
        .unwrap();
    let mut v = [0u8; 8];
    assert!(m.lookup(&2u32.to_ne_bytes(), &mut v, 0).unwrap());
    assert_eq!(u64::from_ne_bytes(v), 77);
    // Out of range: arrays say ENOENT.
    assert!(!m.lookup(&9u32.to_ne_bytes(), &mut v, 0).unwrap());
    // Arrays cannot delete.
    assert_eq!(
        m.delete(&2u32.to_ne_bytes()).unwrap_err().errno,
        Errno::EINVAL
    );

    // Buffers too small are refused before the kernel sees them.
    let mut small = [0u8; 4];
    let e = m.lookup(&2u32.to_ne_bytes(), &mut small, 0).unwrap_err();
    assert_eq!(e.errno, Errno::EINVAL);
    assert!(e.call.contains("value buffer too small"), "{e}");
    assert!(m.lookup(&[0u8; 2], &mut v, 0).is_err());

    let mut keys = Vec::new();
    let mut k = [0u8; 4];
    let mut prev: Option<[u8; 4]> = None;
    while m.next_key(prev.as_ref().map(|p| &p[..]), &mut k).unwrap() {
        keys.push(u32::from_ne_bytes(k));
        prev = Some(k);
    }
    assert_eq!(keys, vec![0, 1, 2, 3]);
}

#[test]
fn hash_map_delete_batch_and_freeze() {
    if !root() {
        return;
    }
    // A map made by BPF_MAP_CREATE, then wrapped (sizes asked of the kernel).
    let m = sys::map_create(&MapCreateAttr {
        map_type: BPF_MAP_TYPE_HASH,
        key_size: 4,
        value_size: 4,
        max_entries: 16,
        name: b"tb_test_hash",
        ..Default::default()
    })
    .unwrap();
    let m = MapFd::new(m).unwrap();
    assert_eq!(m.sizes(), sys::MapSizes { key: 4, value: 4 });
    let fd = m.as_fd();
    let keys: Vec<u8> = (1u32..=5).flat_map(|k| k.to_ne_bytes()).collect();
    let vals: Vec<u8> = (1u32..=5).flat_map(|k| (k * 10).to_ne_bytes()).collect();
    assert_eq!(sys::map_update_batch(fd, &keys, &vals, 5, 0).unwrap(), 5);
    assert!(
        sys::map_update_batch(fd, &keys, &vals, 6, 0).is_err(),
        "count beyond the buffers"
    );

    let (mut ks, mut vs, mut token) = (vec![0u8; 4 * 16], vec![0u8; 4 * 16], [0u8; 4]);
    let out = sys::map_lookup_batch(fd, None, &mut token, &mut ks, &mut vs, 16, 0).unwrap();
    assert_eq!(
        out,
        sys::BatchOut {
            count: 5,
            done: true
        }
    );
    let mut got: Vec<(u32, u32)> = (0..5)
        .map(|i| {
            let k = u32::from_ne_bytes(ks[i * 4..i * 4 + 4].try_into().unwrap());
            let v = u32::from_ne_bytes(vs[i * 4..i * 4 + 4].try_into().unwrap());
            (k, v)
        })
        .collect();
    got.sort();
    assert_eq!(got, vec![(1, 10), (2, 20), (3, 30), (4, 40), (5, 50)]);

    assert!(m.delete(&3u32.to_ne_bytes()).unwrap());
    assert!(!m.delete(&3u32.to_ne_bytes()).unwrap());
    assert_eq!(sys::map_delete_batch(fd, &keys[..8], 2, 0).unwrap(), 2);
    let mut v = [0u8; 4];
    assert!(!m.lookup(&1u32.to_ne_bytes(), &mut v, 0).unwrap());
    assert!(m.lookup(&4u32.to_ne_bytes(), &mut v, 0).unwrap());

    sys::map_freeze(fd).unwrap();
    let e = m.update(&4u32.to_ne_bytes(), &v, 0).unwrap_err();
    assert_eq!(e.errno, Errno::EPERM, "{e}");
}

#[test]
fn queue_and_percpu() {
    if !root() {
        return;
    }
    let q = MapFd::create(&MapCreateAttr {
        map_type: BPF_MAP_TYPE_QUEUE,
        value_size: 4,
        max_entries: 4,
        ..Default::default()
    })
    .unwrap();
    q.update(&[], &5u32.to_ne_bytes(), 0).unwrap();
    let mut v = [0u8; 4];
    assert!(q.lookup_and_delete(None, &mut v).unwrap());
    assert_eq!(u32::from_ne_bytes(v), 5);
    assert!(!q.lookup_and_delete(None, &mut v).unwrap());

    let ncpu = sys::num_possible_cpus().unwrap() as usize;
    let p = MapFd::create(&MapCreateAttr {
        map_type: BPF_MAP_TYPE_PERCPU_ARRAY,
        key_size: 4,
        value_size: 4,
        max_entries: 1,
        ..Default::default()
    })
    .unwrap();
    assert_eq!(
        sys::map_sizes(p.as_fd()).unwrap(),
        sys::MapSizes {
            key: 4,
            value: 8 * ncpu
        }
    );
    assert_eq!(p.sizes(), sys::map_sizes(p.as_fd()).unwrap());
    let mut one = [0u8; 4];
    assert!(p.lookup(&0u32.to_ne_bytes(), &mut one, 0).is_err());
    let mut all = vec![0xffu8; 8 * ncpu];
    assert!(p.lookup(&0u32.to_ne_bytes(), &mut all, 0).unwrap());
    assert!(all.iter().all(|&b| b == 0));
}

/// A BTF blob with one type: `int` (4 bytes, signed, 32 bits).
fn btf_int_blob(kind: u32) -> Vec<u8> {
    let strings = b"\0int\0";
    let mut types = Vec::new();
    for w in [1u32, kind << 24, 4, (1 << 24) | 32] {
        types.extend_from_slice(&w.to_le_bytes());
    }
    let mut b = Vec::new();
    b.extend_from_slice(&0xeb9fu16.to_le_bytes());
    b.push(1); // version
    b.push(0); // flags
    for w in [
        24u32,
        0,
        types.len() as u32,
        types.len() as u32,
        strings.len() as u32,
    ] {
        b.extend_from_slice(&w.to_le_bytes());
    }
    b.extend_from_slice(&types);
    b.extend_from_slice(strings);
    b
}

#[test]
fn btf_load() {
    if !root() {
        return;
    }
    let fd = sys::btf_load(&btf_int_blob(1), None).unwrap();
    let info = sys::btf_info(fd.as_fd()).unwrap();
    assert!(info.id > 0);
    assert!(!info.kernel_btf);
    assert_eq!(info.btf_size as usize, btf_int_blob(1).len());

    // Kind 31 does not exist: the kernel refuses it and says why in the log.
    let e = sys::btf_load(&btf_int_blob(31), None).unwrap_err();
    assert_eq!(sys::SysError::from(e).call, "BPF_BTF_LOAD");
    assert_eq!(e.errno, Errno::EINVAL);
    let mut log = sys::VerifierLog {
        level: 1,
        buf: vec![0; 64 * 1024],
        true_size: 0,
    };
    let e = sys::btf_load(&btf_int_blob(31), Some(&mut log)).unwrap_err();
    assert_eq!(e.errno, Errno::EINVAL);
    let text = log.text();
    assert!(!text.is_empty(), "no BTF log");
    assert!(text.contains("kind"), "{text}");
    assert_eq!(e.log_true_size, log.true_size);
    assert_eq!(log.true_size as usize, text.len() + 1);

    // A log too small makes the kernel say ENOSPC and report the size needed.
    let mut tiny = sys::VerifierLog {
        level: 1,
        buf: vec![0; 8],
        true_size: 0,
    };
    let e = sys::btf_load(&btf_int_blob(31), Some(&mut tiny)).unwrap_err();
    assert_eq!(e.errno, Errno::ENOSPC);
    assert_eq!(e.log_true_size as usize, text.len() + 1);
}

#[test]
fn prog_load_and_verifier_log() {
    if !root() {
        return;
    }
    let fd = load(BPF_PROG_TYPE_SOCKET_FILTER, &[mov_r0(0), exit()], b"tb_ok");
    let info = sys::prog_info(fd.as_fd()).unwrap();
    assert_eq!(info.prog_type, BPF_PROG_TYPE_SOCKET_FILTER);
    assert_eq!(info.name, "tb_ok");
    assert!(info.gpl_compatible);

    let bad = [exit()];
    let attr = ProgLoadAttr {
        prog_type: BPF_PROG_TYPE_SOCKET_FILTER,
        insns: &bad,
        ..Default::default()
    };
    let e = sys::prog_load(&attr, None).unwrap_err();
    assert_eq!(sys::SysError::from(e).call, "BPF_PROG_LOAD");
    assert_eq!(e.errno, Errno::EACCES);
    assert_eq!(e.log_true_size, 0, "no log asked for");

    // The single-shot form reports the size the log needed (6.4+).
    let mut vlog = sys::VerifierLog {
        level: 1,
        buf: vec![0; 4096],
        true_size: 0,
    };
    let err = sys::prog_load(&attr, Some(&mut vlog)).unwrap_err();
    assert_eq!(err.errno, Errno::EACCES);
    assert!(vlog.text().contains("R0 !read_ok"));
    assert_eq!(err.log_true_size as usize, vlog.text().len() + 1);

    // A log too small for the level-2 log makes the kernel say ENOSPC.
    let mut tiny = sys::VerifierLog {
        level: 2,
        buf: vec![0; 128],
        true_size: 0,
    };
    let ok = [mov_r0(0), mov_r0(1), mov_r0(2), mov_r0(3), exit()];
    let attr2 = ProgLoadAttr {
        prog_type: BPF_PROG_TYPE_SOCKET_FILTER,
        insns: &ok,
        ..Default::default()
    };
    let err = sys::prog_load(&attr2, Some(&mut tiny)).unwrap_err();
    assert_eq!(err.errno, Errno::ENOSPC);
    assert!(err.log_true_size > 128);

    // fd_array indices are checked before the call.
    let ld = [
        Insn::new(0x18, 1, 5, 0, 3),
        Insn::default(),
        mov_r0(0),
        exit(),
    ];
    let attr3 = ProgLoadAttr {
        prog_type: BPF_PROG_TYPE_SOCKET_FILTER,
        insns: &ld,
        ..Default::default()
    };
    assert_eq!(
        sys::prog_load(&attr3, None).unwrap_err().errno,
        Errno::EINVAL
    );
}

#[test]
fn test_run_xdp() {
    if !root() {
        return;
    }
    let fd = load(BPF_PROG_TYPE_XDP, &[mov_r0(2), exit()], b"tb_xdp_pass");
    let data = [0u8; 64];
    let mut out = [0xaau8; 128];
    let mut attr = sys::TestRunAttr::new(fd.as_fd());
    attr.data_in = &data;
    attr.data_out = Some(&mut out);
    attr.repeat = 3;
    let r = sys::prog_test_run(&mut attr).unwrap();
    assert_eq!(r.retval, 2);
    assert_eq!(r.data_size_out, 64);
    assert!(out[..64].iter().all(|&b| b == 0));
    assert!(out[64..].iter().all(|&b| b == 0xaa));
}

/// The id of `syscalls/sys_enter_execve`, read from tracefs (mounted at
/// /sys/kernel/tracing when it is not mounted anywhere). The sys layer may
/// not use `crate::tracefs`, whose own tests are in `src/tracefs.rs`.
fn execve_tracepoint_id() -> u64 {
    let dirs = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"];
    let events = |d: &str| Path::new(d).join("events/syscalls/sys_enter_execve/id");
    if !dirs.iter().any(|d| events(d).exists()) {
        sys::mount_fs("tracefs", Path::new(dirs[0])).unwrap();
    }
    let path = dirs.iter().map(|d| events(d)).find(|p| p.exists()).unwrap();
    let id = std::fs::read_to_string(&path)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(id > 0);
    id
}

#[test]
fn tracepoint_perf_event_link_and_ids() {
    if !root() {
        return;
    }
    let id = execve_tracepoint_id();

    let prog = load(BPF_PROG_TYPE_TRACEPOINT, &[mov_r0(0), exit()], b"tb_tp");
    let pe = sys::perf_event_open(&PerfEventAttr::tracepoint(id), -1, 0, None, 0).unwrap();
    let link = sys::link_create(
        prog.as_fd(),
        LinkTarget::Fd(pe.as_fd()),
        BPF_PERF_EVENT,
        0,
        LinkCreateExtra::PerfEvent { bpf_cookie: 7 },
    )
    .unwrap();
    let li = sys::link_info(link.as_fd()).unwrap();
    let pi = sys::prog_info(prog.as_fd()).unwrap();
    assert_eq!(li.link_type, BPF_LINK_TYPE_PERF_EVENT);
    assert_eq!(li.prog_id, pi.id);

    // The pre-link way on a second event (with a second program: the kernel
    // refuses the same program twice on one tracepoint with EEXIST).
    let prog2 = load(BPF_PROG_TYPE_TRACEPOINT, &[mov_r0(0), exit()], b"tb_tp2");
    let pe2 = sys::perf_event_open(&PerfEventAttr::tracepoint(id), -1, 0, None, 0).unwrap();
    sys::perf_event_ioc_set_bpf(pe2.as_fd(), prog2.as_fd()).unwrap();
    sys::perf_event_ioc_enable(pe2.as_fd()).unwrap();
    sys::perf_event_ioc_disable(pe2.as_fd()).unwrap();

    // Our objects show up when iterating ids, and reopen by id.
    let map = array(4, 1, 0, b"tb_ids");
    let mi = sys::map_info(map.as_fd()).unwrap();
    let find = |next: fn(u32) -> sys::SysResult<Option<u32>>, want: u32| {
        let mut cur = 0;
        while let Some(n) = next(cur).unwrap() {
            if n == want {
                return true;
            }
            cur = n;
        }
        false
    };
    assert!(find(sys::prog_get_next_id, pi.id));
    assert!(find(sys::map_get_next_id, mi.id));
    assert!(find(sys::link_get_next_id, li.id));
    assert_eq!(
        sys::prog_info(sys::prog_get_fd_by_id(pi.id).unwrap().as_fd())
            .unwrap()
            .id,
        pi.id
    );
    assert_eq!(
        sys::map_info(sys::map_get_fd_by_id(mi.id).unwrap().as_fd())
            .unwrap()
            .id,
        mi.id
    );
    assert_eq!(
        sys::link_info(sys::link_get_fd_by_id(li.id).unwrap().as_fd())
            .unwrap()
            .id,
        li.id
    );
    // The kernel's own BTF is among the BTF objects.
    let mut cur = 0;
    let mut saw_vmlinux = false;
    while let Some(n) = sys::btf_get_next_id(cur).unwrap() {
        if let Ok(fd) = sys::btf_get_fd_by_id(n) {
            let bi = sys::btf_info(fd.as_fd()).unwrap();
            saw_vmlinux |= bi.kernel_btf && bi.name == "vmlinux";
        }
        cur = n;
    }
    assert!(saw_vmlinux);
    assert!(sys::map_get_fd_by_id(u32::MAX).is_err());

    // Perf-event links cannot be detached (only dropped): the kernel says so.
    assert_eq!(
        sys::link_detach(link.as_fd()).unwrap_err().errno,
        Errno::EOPNOTSUPP
    );
    assert_eq!(
        sys::link_detach(prog.as_fd()).unwrap_err().errno,
        Errno::EINVAL,
        "not a link"
    );
}

#[test]
fn mmap_array_and_ringbuf() {
    if !root() {
        return;
    }
    let m = array(8, 4, BPF_F_MMAPABLE, b"tb_mmap");
    m.update(
        &1u32.to_ne_bytes(),
        &0x1122_3344_5566_7788u64.to_ne_bytes(),
        0,
    )
    .unwrap();
    let page = sys::mmap::page_size();
    let mut mm = Mmap::map_fd(m.as_fd(), page, true, 0).unwrap();
    assert_eq!(
        mm.atomic_u64_at(8).unwrap().load(Ordering::Acquire),
        0x1122_3344_5566_7788
    );
    // Writes through the mapping are seen by lookups.
    mm.as_mut_slice().unwrap()[16..24].copy_from_slice(&99u64.to_ne_bytes());
    let mut v = [0u8; 8];
    assert!(m.lookup(&2u32.to_ne_bytes(), &mut v, 0).unwrap());
    assert_eq!(u64::from_ne_bytes(v), 99);

    // Ring buffer: a writable consumer page, then read-only producer page + data (twice).
    let rb = sys::map_create(&MapCreateAttr {
        map_type: BPF_MAP_TYPE_RINGBUF,
        max_entries: page as u32,
        ..Default::default()
    })
    .unwrap();
    let cons = Mmap::map_fd(rb.as_fd(), page, true, 0).unwrap();
    let mut prod = Mmap::map_fd(rb.as_fd(), page + 2 * page, false, page as u64).unwrap();
    assert!(prod.as_mut_slice().is_none());
    assert_eq!(cons.atomic_u64_at(0).unwrap().load(Ordering::Acquire), 0);
    assert_eq!(prod.atomic_u64_at(0).unwrap().load(Ordering::Acquire), 0);
    // The kernel refuses a writable mapping of the producer side.
    assert_eq!(
        Mmap::map_fd(rb.as_fd(), page, true, page as u64)
            .unwrap_err()
            .errno,
        Errno::EPERM
    );
}

#[test]
fn vmlinux_btf_mmap() {
    if !root() {
        return;
    }
    let f = std::fs::File::open("/sys/kernel/btf/vmlinux").unwrap();
    let m = Mmap::map_file_readonly(&f).unwrap();
    assert!(m.len() > 1024 * 1024);
    assert_eq!(&m.as_ref()[..2], &0xeb9fu16.to_le_bytes());
}

#[test]
fn pin_and_get() {
    if !root() {
        return;
    }
    let dir = Path::new("/sys/fs/bpf").join(format!("tinybpf_sys_test_{}", std::process::id()));
    sys::bpffs_ensure(&dir).unwrap();
    let m = array(4, 1, 0, b"tb_pin");
    let path = dir.join("m");
    sys::obj_pin(m.as_fd(), &path).unwrap();
    let again = sys::obj_get(&path);
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_dir(&dir);
    let again = again.unwrap();
    assert_eq!(
        sys::map_info(again.as_fd()).unwrap().id,
        sys::map_info(m.as_fd()).unwrap().id
    );
    assert_eq!(sys::obj_get(&path).unwrap_err().errno, Errno::ENOENT);
}

#[test]
fn epoll_basics() {
    let ep = sys::Epoll::new().unwrap();
    let (r, w) = nix::unistd::pipe().unwrap();
    ep.add(r.as_fd(), 42).unwrap();
    let mut events = [EpollEvent::empty(); 4];
    assert_eq!(ep.wait(&mut events, 0).unwrap(), 0);
    nix::unistd::write(&w, b"x").unwrap();
    assert_eq!(ep.wait(&mut events, 1000).unwrap(), 1);
    assert_eq!(events[0].data(), 42);
    ep.delete(r.as_fd()).unwrap();
    assert_eq!(ep.wait(&mut events, 0).unwrap(), 0);
}

#[test]
fn raw_tracepoint_uprobe_and_raw_info() {
    if !root() {
        return;
    }
    const BPF_PROG_TYPE_RAW_TRACEPOINT: u32 = 17;
    let prog = load(
        BPF_PROG_TYPE_RAW_TRACEPOINT,
        &[mov_r0(0), exit()],
        b"tb_raw_tp",
    );
    let link = sys::raw_tracepoint_open(Some(c"sys_enter"), prog.as_fd()).unwrap();
    assert_eq!(
        sys::link_info(link.as_fd()).unwrap().prog_id,
        sys::prog_info(prog.as_fd()).unwrap().id
    );
    assert!(sys::raw_tracepoint_open(Some(c"no_such_raw_tp"), prog.as_fd()).is_err());

    // The raw info call fills a caller buffer (zeroed first) and reports the length.
    let mut buf = [0xffu8; 88];
    let n = sys::obj_get_info_by_fd(prog.as_fd(), &mut buf).unwrap();
    assert_eq!(n, 88);
    assert_eq!(
        u32::from_ne_bytes(buf[0..4].try_into().unwrap()),
        BPF_PROG_TYPE_RAW_TRACEPOINT
    );
    assert_eq!(&buf[64..74], b"tb_raw_tp\0");

    // uprobe through the dynamic PMU: config1 = path pointer, config2 = offset.
    let pmu = sys::ProbePmu::read("uprobe").unwrap();
    let attr = PerfEventAttr::uprobe(pmu, c"/bin/true", 0, false);
    let up = sys::perf_event_open(&attr, -1, 0, None, 0).unwrap();
    let attr = PerfEventAttr::uprobe(pmu, c"/no/such/file", 0, true);
    assert_eq!(
        sys::perf_event_open(&attr, -1, 0, None, 0)
            .unwrap_err()
            .errno,
        Errno::ENOENT
    );
    drop(up);
    // This kernel has no kprobes (CONFIG_KPROBES=n): the PMU is absent, and that is an error.
    if !Path::new("/sys/bus/event_source/devices/kprobe").exists() {
        assert_eq!(
            sys::ProbePmu::read("kprobe").unwrap_err().errno,
            Errno::ENOENT
        );
    }
}
