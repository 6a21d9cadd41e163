//! tinybpf side of the benchmark. One measurement per process; prints one
//! JSON line. Usage:
//!
//!   bench-tinybpf load OBJ [PROG,PROG..]     open+load (only the named programs)
//!   bench-tinybpf attach-par OBJ             open+load, attach_all, detach_all (parallel close)
//!   bench-tinybpf attach-seq OBJ             same, links dropped one by one
//!   bench-tinybpf btf                        kernel BTF open+index+find(task_struct)
//!   bench-tinybpf btf2                       the same a second time in one process (warm caches)
//!   bench-tinybpf check OBJ BTF...           CO-RE relocation of OBJ against each BTF
//!   bench-tinybpf carve EXECUTABLE OUT       write the BPF object embedded in EXECUTABLE
//!   bench-tinybpf load-all OBJ...            open+load each OBJ in turn (default
//!                                            LoadOptions), then close them all

use std::process::exit;
use tinybpf::btf::{Btf, Kind};
use tinybpf_bench::{
    heap_live, heap_peak, heap_reset_peak, maxrss_kib, minflt, obj_label, Line, Mark,
};

#[global_allocator]
static A: tinybpf_bench::Counting = tinybpf_bench::Counting;

fn die(what: &str, e: impl std::fmt::Display) -> ! {
    eprintln!("bench-tinybpf: {what}: {e}");
    exit(1)
}

fn open_load(path: &str, progs: Option<&str>) -> tinybpf::Object {
    let mut o = tinybpf::OpenObject::open(path).unwrap_or_else(|e| die(path, e));
    if let Some(list) = progs.filter(|s| !s.is_empty() && *s != "-") {
        let names: Vec<&str> = list.split(',').collect();
        o.load_only(&names).unwrap_or_else(|e| die(path, e));
    }
    o.load().unwrap_or_else(|e| die(path, e))
}

fn mmap_btf(path: &str) -> Btf {
    // mmap'd (no copy), as the loader reads the kernel's BTF.
    tinybpf::kernel::read_btf_file(std::path::Path::new(path)).unwrap_or_else(|e| die(path, e))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().map(String::as_str).unwrap_or("");
    let obj = args.get(1).map(String::as_str).unwrap_or("");
    match mode {
        "load" => {
            heap_reset_peak();
            let m = Mark::now();
            let o = open_load(obj, args.get(2).map(String::as_str));
            let (wall, user, sys) = m.since();
            let cpu = m.cpu_since();
            Line::new("tinybpf", mode, &obj_label(obj))
                .num("wall_us", wall)
                .num("cpu_us", cpu)
                .int("user_us", user)
                .int("sys_us", sys)
                .int("maxrss_kib", maxrss_kib())
                .int("heap_peak", heap_peak() as i64)
                .int("progs", o.programs().len() as i64)
                .print();
        }
        "load-all" => {
            // One process loading many objects through the library API, as a
            // program bundling several tools would: open+load each in turn
            // (default options: `jobs` 0 = auto), keep them all, then close all.
            let objs = &args[1..];
            let base = heap_reset_peak();
            let m = Mark::now();
            let mut loaded = Vec::with_capacity(objs.len());
            for o in objs {
                loaded.push(open_load(o, None));
            }
            let load_us = m.t_since_us();
            let load_cpu = m.cpu_since();
            let progs: usize = loaded.iter().map(|o| o.programs().len()).sum();
            let maps: usize = loaded.iter().map(|o| o.maps().len()).sum();
            drop(loaded);
            let (wall, user, sys) = m.since();
            let cpu = m.cpu_since();
            Line::new("tinybpf", mode, &format!("{}objs", objs.len()))
                .num("wall_us", wall)
                .num("cpu_us", cpu)
                .num("load_us", load_us)
                .num("load_cpu_us", load_cpu)
                .int("user_us", user)
                .int("sys_us", sys)
                .int("maxrss_kib", maxrss_kib())
                .int("heap_peak", (heap_peak() - base) as i64)
                .int("objs", objs.len() as i64)
                .int("progs", progs as i64)
                .int("maps", maps as i64)
                .print();
        }
        "attach-par" | "attach-seq" => {
            let mut o = open_load(obj, args.get(2).map(String::as_str));
            let m = Mark::now();
            let n = o.attach_all().unwrap_or_else(|e| die(obj, e));
            let (attach, _, _) = m.since();
            let m = Mark::now();
            if mode == "attach-par" {
                o.detach_all();
            } else {
                for l in o.take_links() {
                    drop(l);
                }
            }
            let (teardown, tu, ts) = m.since();
            Line::new("tinybpf", mode, &obj_label(obj))
                .num("attach_us", attach)
                .num("teardown_us", teardown)
                .int("teardown_cpu_us", tu + ts)
                .int("links", n as i64)
                .print();
        }
        "btf" => {
            let base = heap_reset_peak();
            let m = Mark::now();
            let btf = mmap_btf("/sys/kernel/btf/vmlinux");
            let parse_us = m.t_since_us();
            let heap_parse = heap_peak() - base;
            let id = btf
                .find_by_name_kind("task_struct", Kind::Struct)
                .unwrap_or_else(|| die("btf", "task_struct not found"));
            let (wall, user, sys) = m.since();
            let cpu = m.cpu_since();
            let retained = heap_live() - base;
            Line::new("tinybpf", mode, "vmlinux")
                .num("wall_us", wall)
                .num("cpu_us", cpu)
                .int("user_us", user)
                .int("sys_us", sys)
                .int("heap_peak", (heap_peak() - base) as i64)
                .int("heap_retained", retained as i64)
                .num("parse_us", parse_us)
                .int("heap_parse", heap_parse as i64)
                .int("minflt", minflt())
                .int("types", btf.len() as i64)
                .int("id", id as i64)
                .print();
        }
        "btf2" => {
            let b1 = mmap_btf("/sys/kernel/btf/vmlinux");
            let m = Mark::now();
            let btf = mmap_btf("/sys/kernel/btf/vmlinux");
            let p2 = m.t_since_us();
            let m = Mark::now();
            let _ = btf.find_by_name_kind("task_struct", Kind::Struct);
            let f2 = m.t_since_us();
            let m = Mark::now();
            let _ = b1.find_by_name_kind("task_struct", Kind::Struct);
            let f1 = m.t_since_us();
            println!("second parse {p2} us; find on second {f2} us, then on first {f1}");
        }
        "check" => {
            // What `tinybpf check` does per kernel: parse the object, parse the
            // kernel's BTF, relocate every CO-RE relocation.
            let bytes = std::fs::read(obj).unwrap_or_else(|e| die(obj, e));
            let m = Mark::now();
            let (mut relos, mut unresolved) = (0usize, 0usize);
            for b in &args[2..] {
                let mut spec = tinybpf::obj::ObjectSpec::parse(&obj_label(obj), &bytes)
                    .unwrap_or_else(|e| die(obj, e));
                let target = mmap_btf(b);
                let out =
                    tinybpf::reloc::relocate(&mut spec, &target).unwrap_or_else(|e| die(b, e));
                relos += out.len();
                unresolved += out.iter().filter(|r| r.target_value.is_none()).count();
            }
            let (wall, user, sys) = m.since();
            let cpu = m.cpu_since();
            Line::new("tinybpf", mode, &obj_label(obj))
                .num("wall_us", wall)
                .num("cpu_us", cpu)
                .int("user_us", user)
                .int("sys_us", sys)
                .int("btfs", (args.len() - 2) as i64)
                .int("relos", relos as i64)
                .int("unresolved", unresolved as i64)
                .int("maxrss_kib", maxrss_kib())
                .print();
        }
        "carve" => {
            let out = args
                .get(2)
                .unwrap_or_else(|| die("carve", "no output path"));
            let bin = std::fs::read(obj).unwrap_or_else(|e| die(obj, e));
            let objs = tinybpf_bench::carve_bpf_objects(&bin);
            let first = objs
                .first()
                .unwrap_or_else(|| die(obj, "no embedded BPF object"));
            std::fs::write(out, first).unwrap_or_else(|e| die(out, e));
        }
        _ => {
            eprintln!(
                "usage: bench-tinybpf load|load-all|attach-par|attach-seq|btf|check|carve OBJ ..."
            );
            exit(2)
        }
    }
}
