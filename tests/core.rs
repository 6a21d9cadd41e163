//! CO-RE on the real kernel: self-checking programs built against one layout
//! and loaded with another layout's BTF standing in for the kernel's, run with
//! BPF_PROG_TEST_RUN; each returns 0 when every relocated value is right.

mod common;

use tinybpf::reloc::core::CoreError;
use tinybpf::{Error, OpenObject, TestRunOpts};

fn core_obj(name: &str) -> std::path::PathBuf {
    common::obj(&format!("tests/core/{name}"))
}

fn run_with_target(name: &str, prog: &str) -> u32 {
    let mut open = OpenObject::open(core_obj(&format!("{name}.bpf.o"))).unwrap();
    open.options_mut().target_btf = Some(core_obj(&format!("{name}.target.bpf.o")));
    let obj = open.load().unwrap_or_else(|e| panic!("{name}: {e}"));
    let data = [0u8; 64];
    obj.program(prog)
        .unwrap()
        .test_run(&TestRunOpts::default().data_in(&data).repeat(1))
        .unwrap()
        .retval
}

#[test]
fn fields_bitfields_flavors_and_load_size_changes() {
    if !common::root_or_skip("fields_bitfields_flavors_and_load_size_changes") {
        return;
    }
    assert_eq!(
        run_with_target("fields", "check_fields"),
        0,
        "non-zero = number of the failing check"
    );
}

#[test]
fn type_and_enum_relocations() {
    if !common::root_or_skip("type_and_enum_relocations") {
        return;
    }
    assert_eq!(
        run_with_target("types", "check_types"),
        0,
        "non-zero = number of the failing check"
    );
}

#[test]
fn ambiguous_candidates_are_an_error() {
    // Pure: no kernel needed to find the ambiguity (it fails before any syscall
    // that matters; the error kind is what counts).
    let mut open = OpenObject::open(core_obj("ambig.bpf.o")).unwrap();
    open.options_mut().target_btf = Some(core_obj("ambig.target.bpf.o"));
    match open.load() {
        Err(Error::Core(e)) => {
            assert!(matches!(e, CoreError::Ambiguous { .. }), "{e:?}");
            assert!(e.to_string().contains("ambiguous"), "{e}");
        }
        Err(e) => panic!("expected a CO-RE ambiguity error, got {e}"),
        Ok(_) => panic!("ambiguous relocation loaded"),
    }
}

#[test]
fn relocates_against_the_running_kernel() {
    if !common::root_or_skip("relocates_against_the_running_kernel") {
        return;
    }
    let mut open = OpenObject::open(common::obj("execsnoop.bpf.o")).unwrap();
    open.set_autoload("handle_exec_perf", false).unwrap();
    let obj = open.load().unwrap();
    assert!(obj.program("handle_exec").is_some());
}

#[test]
fn missing_kernel_btf_fails_core_objects_only() {
    if !common::root_or_skip("missing_kernel_btf_fails_core_objects_only") {
        return;
    }
    let mut open = OpenObject::open(common::obj("execsnoop.bpf.o")).unwrap();
    open.options_mut().target_btf = Some("/nonexistent/vmlinux.btf".into());
    let err = open.load().unwrap_err();
    assert!(
        err.to_string().contains("/nonexistent/vmlinux.btf"),
        "{err}"
    );
    // An object without CO-RE does not need kernel BTF at all.
    let mut open = OpenObject::open(common::obj("hello.bpf.o")).unwrap();
    open.options_mut().target_btf = Some("/nonexistent/vmlinux.btf".into());
    open.load().unwrap();
    // Nor does one whose CO-RE programs are all deselected.
    let mut open = OpenObject::open(core_obj("select.bpf.o")).unwrap();
    open.options_mut().target_btf = Some("/nonexistent/vmlinux.btf".into());
    open.load_only(&[]).unwrap();
    open.load().unwrap();
}

#[path = "common/realworld.rs"]
mod realworld;

/// Byte offset of `field` in struct `name` of `btf` (top-level members only).
fn member_offset(btf: &tinybpf::btf::Btf, name: &str, field: &str) -> u64 {
    let id = btf
        .find_by_name_kind(name, tinybpf::btf::Kind::Struct)
        .unwrap();
    let t = btf.type_by_id(id).unwrap();
    let m = t
        .members()
        .map(|m| m.unwrap())
        .find(|m| m.name == field)
        .unwrap();
    (m.bit_offset / 8) as u64
}

#[test]
fn second_kernel_btf_gives_that_kernels_offsets() {
    let Some(path) = realworld::second_kernel_btf() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must fetch the second kernel's BTF"
        );
        eprintln!("second kernel BTF not available (set TINYBPF_FETCH=1 to fetch it); skipped");
        return;
    };
    let other = tinybpf::btf::Btf::parse(std::fs::read(&path).unwrap()).unwrap();
    let here = tinybpf::btf::Btf::parse(std::fs::read("/sys/kernel/btf/vmlinux").unwrap()).unwrap();
    let bytes = std::fs::read(common::obj("execsnoop.bpf.o")).unwrap();
    let mut results = Vec::new();
    for btf in [&other, &here] {
        let mut spec = tinybpf::obj::ObjectSpec::parse("execsnoop", &bytes).unwrap();
        let out = tinybpf::reloc::relocate(&mut spec, btf).unwrap();
        let parent = out
            .iter()
            .find(|r| r.access.contains("real_parent") && r.kind.to_string() == "byte_off")
            .expect("a real_parent byte_off relocation");
        let tgid = out
            .iter()
            .find(|r| r.access.contains("tgid") && r.kind.to_string() == "byte_off")
            .expect("a tgid byte_off relocation");
        assert_eq!(
            parent.target_value,
            Some(member_offset(btf, "task_struct", "real_parent"))
        );
        assert_eq!(
            tgid.target_value,
            Some(member_offset(btf, "task_struct", "tgid"))
        );
        results.push((parent.target_value, tgid.target_value));
    }
    assert_ne!(
        results[0], results[1],
        "the two kernels' task_struct layouts should differ"
    );
    println!(
        "real_parent/tgid offsets: {} = {:?}, running kernel = {:?}",
        path.display(),
        results[0],
        results[1]
    );
}

// ------------------------------------------------------------ selection

/// Load `select.bpf.o` against its target BTF with only `progs` selected.
fn load_select(progs: &[&str]) -> tinybpf::Result<tinybpf::Object> {
    let mut open = OpenObject::open(core_obj("select.bpf.o")).unwrap();
    open.options_mut().target_btf = Some(core_obj("select.target.bpf.o"));
    for p in ["good_a", "good_b", "bad"] {
        open.set_autoload(p, progs.contains(&p)).unwrap();
    }
    open.load()
}

fn retval(obj: &tinybpf::Object, prog: &str) -> u32 {
    let data = [0u8; 64];
    obj.program(prog)
        .unwrap_or_else(|| panic!("{prog} not loaded"))
        .test_run(&TestRunOpts::default().data_in(&data).repeat(1))
        .unwrap()
        .retval
}

#[test]
fn deselected_program_with_ambiguous_relocation_does_not_break_the_others() {
    if !common::root_or_skip("deselected_program_with_ambiguous_relocation") {
        return;
    }
    for progs in [&["good_a"][..], &["good_b"], &["good_a", "good_b"]] {
        let obj = load_select(progs).unwrap_or_else(|e| panic!("{progs:?}: {e}"));
        for p in progs {
            assert_eq!(retval(&obj, p), 0, "{p}: non-zero = failing check");
        }
        assert!(obj.program("bad").is_none());
    }
    // load_only selects the same way.
    let mut open = OpenObject::open(core_obj("select.bpf.o")).unwrap();
    open.options_mut().target_btf = Some(core_obj("select.target.bpf.o"));
    open.load_only(&["good_b"]).unwrap();
    let obj = open.load().unwrap();
    assert_eq!(retval(&obj, "good_b"), 0);
}

#[test]
fn selected_ambiguous_program_fails_naming_type_and_candidates() {
    for progs in [&["bad"][..], &["good_a", "bad"]] {
        match load_select(progs) {
            Err(Error::Core(e)) => {
                let msg = e.to_string();
                for want in ["ambiguous", "struct sel_amb", "sel_amb___x", "sel_amb___y"] {
                    assert!(msg.contains(want), "{progs:?}: {want} missing in {msg}");
                }
            }
            Err(e) => panic!("{progs:?}: expected a CO-RE ambiguity error, got {e}"),
            Ok(_) => panic!("{progs:?}: ambiguous relocation loaded"),
        }
    }
}

#[test]
fn cli_test_run_relocates_only_the_program_it_runs() {
    if !common::root_or_skip("cli_test_run_relocates_only_the_program_it_runs") {
        return;
    }
    let obj = core_obj("select.bpf.o");
    let target = core_obj("select.target.bpf.o");
    let run = |prog: &str| {
        std::process::Command::new(common::cli_bin())
            .arg("test-run")
            .arg(&obj)
            .arg(prog)
            .arg("--btf")
            .arg(&target)
            .output()
            .unwrap()
    };
    for prog in ["good_a", "good_b"] {
        let out = run(prog);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("retval: 0"),
            "{prog}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = run("bad");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("ambiguous") && stderr.contains("sel_amb___y"),
        "{stderr}"
    );
}

// ------------------------------------------------------------ poison

#[test]
fn poisoned_instruction_summary_names_the_relocation_at_the_failing_insn() {
    if !common::root_or_skip("poisoned_instruction_summary_names_the_relocation") {
        return;
    }
    let mut open = OpenObject::open(core_obj("poison.bpf.o")).unwrap();
    open.options_mut().target_btf = Some(core_obj("poison.target.bpf.o"));
    let err = match open.load() {
        Err(e) => e,
        Ok(_) => panic!("a program reaching a poisoned instruction loaded"),
    };
    let log = err.verifier_log().unwrap_or_else(|| panic!("{err}"));
    // Both relocations are listed; `poi.y` (insn 5) comes last.
    assert!(log.contains("(poi.x)") && log.contains("(poi.y)"), "{log}");
    let summary = err.to_string();
    assert!(
        summary.contains("at instruction 0:") && summary.contains("(poi.x)"),
        "summary must name the relocation at the failing insn: {summary}"
    );
    assert!(!summary.contains("poi.y"), "{summary}");
}

// ------------------------------------------------------------ one driver

/// The CO-RE driver behind both `load` and `check`: against the kernel,
/// types missing from vmlinux are looked up in module BTF (here a stand-in
/// module: types.target.bpf.o's BTF), giving what that BTF alone gives.
#[test]
fn kernel_target_falls_back_to_module_btf() {
    use tinybpf::reloc::{relocate_copy, CoreTarget, Selection};
    let bytes = std::fs::read(core_obj("types.bpf.o")).unwrap();
    let spec = tinybpf::obj::ObjectSpec::parse("types", &bytes).unwrap();
    let module = CoreTarget::file(&core_obj("types.target.bpf.o")).unwrap();
    let vmlinux = CoreTarget::kernel().unwrap();
    let with_module =
        CoreTarget::KernelWithModules(vmlinux.btf().clone(), vec![module.btf().clone()]);
    let alone = relocate_copy(&spec, Selection::All, &module).unwrap();
    let via_kernel = relocate_copy(&spec, Selection::All, &with_module).unwrap();
    assert!(alone.iter().all(|r| r.target_value.is_some()));
    let values = |o: &[tinybpf::reloc::core::RelocOutcome]| {
        o.iter().map(|r| r.target_value).collect::<Vec<_>>()
    };
    assert_eq!(values(&via_kernel), values(&alone));
    assert!(
        via_kernel.iter().any(|r| r.target_btf_index == Some(1)),
        "some relocation resolved in the module BTF"
    );
    // vmlinux alone (no module has these types) leaves some unresolved.
    let no_module = CoreTarget::KernelWithModules(vmlinux.btf().clone(), Vec::new());
    let out = relocate_copy(&spec, Selection::All, &no_module).unwrap();
    assert!(out.iter().any(|r| r.target_value.is_none()));
}

/// `tinybpf check` (default target) runs that driver against the kernel,
/// modules included: one line per outcome, the same values.
#[test]
fn check_cli_reports_the_drivers_kernel_outcomes() {
    use tinybpf::reloc::{relocate_copy, CoreTarget, Selection};
    let path = core_obj("types.bpf.o");
    let spec = tinybpf::obj::ObjectSpec::parse("types", &std::fs::read(&path).unwrap()).unwrap();
    let want = relocate_copy(&spec, Selection::All, &CoreTarget::kernel().unwrap()).unwrap();
    let out = std::process::Command::new(common::cli_bin())
        .arg("check")
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("vmlinux (+ module BTF)"), "{text}");
    for r in &want {
        let value = match r.target_value {
            Some(v) => format!("{} -> {v}", r.local_value),
            // Unresolved ones carry their reachability class after the arrow.
            None => format!("{} -> ", r.local_value),
        };
        assert!(
            text.lines()
                .any(|l| l.contains(&format!(" {} ", r.insn_idx))
                    && l.contains(r.kind.as_str())
                    && match r.target_value {
                        Some(_) => l.trim_end().ends_with(&value),
                        None =>
                            l.contains(&value)
                                && (l.contains("poisoned") || l.contains("unresolved")),
                    }),
            "no line for {r:?} in\n{text}"
        );
    }
}
