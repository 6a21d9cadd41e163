//! `--jobs N`: programs loaded from N threads give the same output as one,
//! and a rejection names the first failing program in object order.

#[path = "../../tests/common/mod.rs"]
mod common;
mod support;

use support::{id_of, obj, prog_gone, tinybpf};

/// The program rows of `load`'s table: (name, id).
fn programs(out: &str) -> Vec<(String, u32)> {
    out.lines()
        .filter(|l| l.trim_start().starts_with("heavy_"))
        .map(|l| {
            let name = l.split_whitespace().next().unwrap().to_string();
            let id = id_of(out, &name);
            (name, id)
        })
        .collect()
}

#[test]
fn load_with_one_and_two_jobs() {
    if !common::root_or_skip("load_with_one_and_two_jobs") {
        return;
    }
    let want: Vec<String> = (0..16).map(|i| format!("heavy_{i}")).collect();
    for jobs in ["1", "2"] {
        let r = tinybpf(&[
            "load",
            &obj("bench_many.bpf.o"),
            "--no-attach",
            "--duration",
            "0",
            "--jobs",
            jobs,
        ]);
        assert_eq!(r.code, 0, "--jobs {jobs}: {}{}", r.out, r.err);
        assert!(r.out.contains("16 programs, 0 maps"), "{}", r.out);
        let progs = programs(&r.out);
        let names: Vec<String> = progs.iter().map(|p| p.0.clone()).collect();
        assert_eq!(names, want, "--jobs {jobs}: {}", r.out);
        for (name, id) in progs {
            assert!(prog_gone(id), "--jobs {jobs}: {name} (id {id}) left");
        }
    }
}

#[test]
fn rejection_with_two_jobs_names_the_first_failing_program() {
    if !common::root_or_skip("rejection_with_two_jobs_names_the_first_failing_program") {
        return;
    }
    let r = tinybpf(&[
        "load",
        &obj("parload_fail.bpf.o"),
        "--duration",
        "0",
        "--jobs",
        "2",
    ]);
    assert_eq!(r.code, 3, "{}{}", r.out, r.err);
    assert!(
        r.err.contains("program pf_bad_3 (section tc) was rejected"),
        "{}",
        r.err
    );
    assert!(r.err.contains("invalid access to packet"), "{}", r.err);
    assert!(!r.err.contains("pf_bad_6"), "{}", r.err);
}

#[test]
fn jobs_zero_is_refused() {
    let r = tinybpf(&["load", &obj("hello.bpf.o"), "--jobs", "0"]);
    assert_eq!(r.code, 2, "{}{}", r.out, r.err);
    assert!(r.err.contains("--jobs"), "{}", r.err);
}

/// With more than one job the kernel's BTF is read on a thread of its own
/// (a fresh process: nothing cached) and CO-RE runs after the maps; the
/// final instructions are those of `--jobs 1`, byte for byte but for the
/// map fds (which fd numbers the maps get depends on whether the BTF
/// thread has the BTF file open at that moment).
#[test]
fn co_re_on_the_btf_thread_gives_the_instructions_of_one_job() {
    if !common::root_or_skip("co_re_on_the_btf_thread_gives_the_instructions_of_one_job") {
        return;
    }
    let dir = support::scratch("co_re_btf_thread");
    let mut dumps = Vec::new();
    for jobs in ["1", "2"] {
        let d = dir.join(format!("jobs{jobs}"));
        std::fs::create_dir_all(&d).unwrap();
        let r = support::tinybpf_with(
            &[
                "load",
                &obj("execsnoop.bpf.o"),
                "--no-attach",
                "--duration",
                "0",
                "--jobs",
                jobs,
                "--dump-insns",
                d.to_str().unwrap(),
            ],
            &[("RUST_LOG", "tinybpf::load=debug")],
        );
        assert_eq!(r.code, 0, "--jobs {jobs}: {}{}", r.out, r.err);
        let threaded = r
            .err
            .contains("reading the kernel's BTF on a thread of its own");
        assert_eq!(threaded, jobs != "1", "--jobs {jobs}: {}", r.err);
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&d)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    without_map_fds(std::fs::read(e.path()).unwrap()),
                )
            })
            .collect();
        files.sort();
        assert!(!files.is_empty(), "--jobs {jobs}: nothing dumped");
        dumps.push(files);
    }
    assert_eq!(dumps[0], dumps[1]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `insns` with the fd in every map-referencing `ld_imm64` (src_reg
/// BPF_PSEUDO_MAP_FD or BPF_PSEUDO_MAP_VALUE) set to 0.
fn without_map_fds(mut insns: Vec<u8>) -> Vec<u8> {
    for insn in insns.chunks_exact_mut(8) {
        if insn[0] == 0x18 && matches!(insn[1] >> 4, 1 | 2) {
            insn[4..8].fill(0);
        }
    }
    insns
}
