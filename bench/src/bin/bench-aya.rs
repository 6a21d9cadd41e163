//! aya side of the benchmark. One measurement per process; prints one JSON
//! line. Usage:
//!
//!   bench-aya load OBJ [PROG,PROG..]   open+load (only the named programs)
//!   bench-aya attach-seq OBJ           open+load, attach all, detach all
//!   bench-aya btf                      Btf::from_sys_fs + id_by_type_name_kind(task_struct)
//!
//! aya loads programs one by one and does not attach from section names, so
//! the program -> section map is read from the ELF symbol table first
//! (outside the timed region).

use aya::programs::{BtfTracePoint, Program, RawTracePoint, TracePoint};
use aya::{Btf, Ebpf, EbpfLoader};
use object::{Object, ObjectSection, ObjectSymbol, SymbolKind};
use std::collections::HashMap;
use std::process::exit;
use tinybpf_bench::{heap_live, heap_peak, heap_reset_peak, maxrss_kib, obj_label, Line, Mark};

#[global_allocator]
static A: tinybpf_bench::Counting = tinybpf_bench::Counting;

fn die(what: &str, e: impl std::fmt::Display) -> ! {
    eprintln!("bench-aya: {what}: {e}");
    exit(1)
}

/// Function symbol name -> section name, for the object at `path`.
fn sections(bytes: &[u8]) -> HashMap<String, String> {
    let f = object::File::parse(bytes).unwrap_or_else(|e| die("elf", e));
    let mut m = HashMap::new();
    for s in f.symbols() {
        if s.kind() != SymbolKind::Text || !s.is_global() {
            continue;
        }
        let Some(idx) = s.section_index() else {
            continue;
        };
        let (Ok(name), Ok(sec)) = (s.name(), f.section_by_index(idx)) else {
            continue;
        };
        if let Ok(sn) = sec.name() {
            m.insert(name.to_string(), sn.to_string());
        }
    }
    m
}

fn wanted(progs: Option<&str>, name: &str) -> bool {
    match progs.filter(|s| !s.is_empty() && *s != "-") {
        Some(list) => list.split(',').any(|p| p == name),
        None => true,
    }
}

fn after_slash(s: &str) -> &str {
    s.split_once('/').map(|(_, r)| r).unwrap_or("")
}

fn open_load(
    bytes: &[u8],
    secs: &HashMap<String, String>,
    progs: Option<&str>,
    btf: &Option<Btf>,
) -> (Ebpf, usize) {
    let mut ebpf = EbpfLoader::new()
        .btf(btf.as_ref())
        .load(bytes)
        .unwrap_or_else(|e| die("load", e));
    let mut n = 0;
    for (name, p) in ebpf.programs_mut() {
        if !wanted(progs, name) {
            continue;
        }
        let sec = secs.get(name).map(String::as_str).unwrap_or("");
        let r = match p {
            Program::TracePoint(p) => p.load(),
            Program::RawTracePoint(p) => p.load(),
            Program::Xdp(p) => p.load(),
            Program::KProbe(p) => p.load(),
            Program::UProbe(p) => p.load(),
            Program::BtfTracePoint(p) => match btf {
                Some(b) => p.load(after_slash(sec), b),
                None => die(name, "no kernel BTF"),
            },
            _ => die(name, "program type not handled by this benchmark"),
        };
        r.unwrap_or_else(|e| die(&format!("load {name}"), format!("{e:?}")));
        n += 1;
    }
    (ebpf, n)
}

enum LinkRef {
    Tp(String, aya::programs::trace_point::TracePointLinkId),
    Raw(String, aya::programs::raw_trace_point::RawTracePointLinkId),
    BtfTp(String, aya::programs::tp_btf::BtfTracePointLinkId),
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().map(String::as_str).unwrap_or("");
    let path = args.get(1).map(String::as_str).unwrap_or("");
    let progs = args.get(2).map(String::as_str);
    match mode {
        "load" => {
            let bytes = std::fs::read(path).unwrap_or_else(|e| die(path, e));
            let secs = sections(&bytes);
            heap_reset_peak();
            let m = Mark::now();
            // What EbpfLoader::new() does by default, made explicit so the
            // same BTF can be handed to BtfTracePoint::load.
            let btf = Btf::from_sys_fs().ok();
            let (_ebpf, n) = open_load(&bytes, &secs, progs, &btf);
            let (wall, user, sys) = m.since();
            let cpu = m.cpu_since();
            Line::new("aya", mode, &obj_label(path))
                .num("wall_us", wall)
                .num("cpu_us", cpu)
                .int("user_us", user)
                .int("sys_us", sys)
                .int("maxrss_kib", maxrss_kib())
                .int("heap_peak", heap_peak() as i64)
                .int("progs", n as i64)
                .print();
        }
        "attach-seq" => {
            let bytes = std::fs::read(path).unwrap_or_else(|e| die(path, e));
            let secs = sections(&bytes);
            let btf = Btf::from_sys_fs().ok();
            let (mut ebpf, _) = open_load(&bytes, &secs, progs, &btf);
            let m = Mark::now();
            let mut links = Vec::new();
            for (name, p) in ebpf.programs_mut() {
                if !wanted(progs, name) {
                    continue;
                }
                let sec = secs.get(name).map(String::as_str).unwrap_or("");
                let l = match p {
                    Program::TracePoint(p) => {
                        let (cat, tp) = after_slash(sec).split_once('/').unwrap_or(("", ""));
                        p.attach(cat, tp).map(|id| LinkRef::Tp(name.into(), id))
                    }
                    Program::RawTracePoint(p) => p
                        .attach(after_slash(sec))
                        .map(|id| LinkRef::Raw(name.into(), id)),
                    Program::BtfTracePoint(p) => {
                        p.attach().map(|id| LinkRef::BtfTp(name.into(), id))
                    }
                    _ => continue,
                };
                links.push(l.unwrap_or_else(|e| die(&format!("attach {name}"), format!("{e:?}"))));
            }
            let (attach, _, _) = m.since();
            let n = links.len();
            let m = Mark::now();
            for l in links {
                let r = match l {
                    LinkRef::Tp(n, id) => {
                        let p: &mut TracePoint = ebpf
                            .program_mut(&n)
                            .and_then(|p| p.try_into().ok())
                            .unwrap();
                        p.detach(id)
                    }
                    LinkRef::Raw(n, id) => {
                        let p: &mut RawTracePoint = ebpf
                            .program_mut(&n)
                            .and_then(|p| p.try_into().ok())
                            .unwrap();
                        p.detach(id)
                    }
                    LinkRef::BtfTp(n, id) => {
                        let p: &mut BtfTracePoint = ebpf
                            .program_mut(&n)
                            .and_then(|p| p.try_into().ok())
                            .unwrap();
                        p.detach(id)
                    }
                };
                r.unwrap_or_else(|e| die("detach", e));
            }
            let (teardown, tu, ts) = m.since();
            Line::new("aya", mode, &obj_label(path))
                .num("attach_us", attach)
                .num("teardown_us", teardown)
                .int("teardown_cpu_us", tu + ts)
                .int("links", n as i64)
                .print();
        }
        "btf" => {
            let base = heap_reset_peak();
            let m = Mark::now();
            let btf = Btf::from_sys_fs().unwrap_or_else(|e| die("btf", e));
            let id = btf
                .id_by_type_name_kind("task_struct", aya_obj::btf::BtfKind::Struct)
                .unwrap_or_else(|e| die("btf", e));
            let (wall, user, sys) = m.since();
            let cpu = m.cpu_since();
            Line::new("aya", mode, "vmlinux")
                .num("wall_us", wall)
                .num("cpu_us", cpu)
                .int("user_us", user)
                .int("sys_us", sys)
                .int("heap_peak", (heap_peak() - base) as i64)
                .int("heap_retained", (heap_live() - base) as i64)
                .int("id", id as i64)
                .print();
        }
        _ => {
            eprintln!("usage: bench-aya load|attach-seq|btf OBJ [PROGS]");
            exit(2)
        }
    }
}
