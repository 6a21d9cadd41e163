//! `tinybpf check OBJ [--btf FILE]... [--btf-dir DIR]`: CO-RE relocations against target BTF,
//! without loading (pure: parsing, relocation, and the reachability of
//! unresolved relocations, `tinybpf::reloc::core::reach`).

use crate::info::parse_object;
use crate::table::{func_at, Table};
use crate::Fail;
use std::path::{Path, PathBuf};
use tinybpf::obj::ObjectSpec;
use tinybpf::reloc::core::reach::{classify_object, Reach};
use tinybpf::reloc::core::RelocOutcome;
use tinybpf::reloc::{relocate_copy, CoreTarget, Selection};

/// Resolve CO-RE relocations against BTF without loading (no root)
///
/// Runs the loader's CO-RE driver on a copy of OBJ's code for each target BTF
/// (default: the running kernel's, vmlinux then module BTF) and prints one line
/// per relocation: program (function), ELF section, instruction index, kind,
/// local type, access string (with field names), and the value the instruction
/// holds locally -> the value for the target. Then a summary per BTF.
///
/// A relocation the target cannot satisfy poisons its instruction; the kernel
/// rejects a program only if a poisoned instruction is reachable. check follows
/// each program's control flow (with existence checks and other relocated
/// constants as known values, into subprograms) and puts each unresolved
/// relocation in one of three classes:
///   poisoned; fine if unreachable (guarded/dead)
///       behind a failed bpf_core_*_exists() check, or in code no program
///       reaches: the verifier removes it
///   poisoned, reachability unknown
///       the analysis could not decide (RUST_LOG=debug says why); not a
///       failure
///   unresolved, REACHABLE from PROG
///       on a path PROG can take: loading PROG fails
#[derive(Debug, clap::Args)]
#[command(
    verbatim_doc_comment,
    after_help = "\
Exit status: 0 no unresolved relocation is reachable, against every BTF; 1
some is (or a relocation or a BTF given with --btf could not be read, or
--btf-dir holds no BTF); 2 usage error."
)]
pub struct CheckArgs {
    /// The BPF object file (*.bpf.o)
    pub obj: PathBuf,
    /// Target BTF: raw BTF (like /sys/kernel/btf/vmlinux) or an ELF file with
    /// a .BTF section (repeatable: each is checked in turn)
    #[arg(long, verbatim_doc_comment, value_name = "FILE")]
    pub btf: Vec<PathBuf>,
    /// Check against every BTF file in DIR (raw or ELF with .BTF; other
    /// files are skipped with a note), in parallel: one summary line per
    /// kernel, then a matrix of relocations x kernels (ok / guarded /
    /// FAILED) instead of the per-relocation tables
    #[arg(long, verbatim_doc_comment, value_name = "DIR")]
    pub btf_dir: Option<PathBuf>,
}

/// The target: the running kernel (vmlinux, then module BTF), or a file.
pub fn read_target(path: Option<&Path>) -> Result<CoreTarget, Fail> {
    match path {
        None => CoreTarget::kernel(),
        Some(p) => CoreTarget::file(p),
    }
    .map_err(|e| Fail::error(e.to_string()))
}

/// Relocate a copy of the object's code against `target` (the library's
/// CO-RE driver, every relocation).
pub fn relocate(spec: &ObjectSpec, target: &CoreTarget) -> Result<Vec<RelocOutcome>, String> {
    relocate_copy(spec, Selection::All, target).map_err(|e| e.to_string())
}

pub fn run(a: &CheckArgs) -> Result<(), Fail> {
    let spec = parse_object(&a.obj)?;
    let total: usize = spec
        .btf_ext
        .as_ref()
        .map(|e| e.core_relos.iter().map(|(_, r)| r.len()).sum())
        .unwrap_or(0);
    if total == 0 {
        println!("{}: no CO-RE relocations; nothing to check", spec.name);
        return Ok(());
    }
    if let Some(dir) = &a.btf_dir {
        return crate::check_dir::run(&spec, &a.btf, dir);
    }
    let mut btfs: Vec<Option<&Path>> = a.btf.iter().map(|p| Some(p.as_path())).collect();
    if btfs.is_empty() {
        btfs.push(None);
    }
    let mut failed = false;
    for (i, btf_arg) in btfs.iter().enumerate() {
        if i > 0 {
            println!();
        }
        let btf_path = match btf_arg {
            Some(p) => p.display().to_string(),
            None => "/sys/kernel/btf/vmlinux (+ module BTF)".to_string(),
        };
        let target = match read_target(*btf_arg) {
            Ok(t) => t,
            Err(f) => {
                println!("target {btf_path}: cannot read: {}", f.msg);
                failed = true;
                continue;
            }
        };
        println!(
            "target {btf_path} ({} types): {} CO-RE relocations in {}",
            target.btf().len().saturating_sub(1),
            total,
            spec.name
        );
        let out = match relocate(&spec, &target) {
            Ok(o) => o,
            Err(e) => {
                println!("  error: {e}");
                println!("summary for {btf_path}: FAILED (relocation error)");
                failed = true;
                continue;
            }
        };
        let mut t = Table::new(
            2,
            &[
                "PROGRAM", "SECTION", "INSN", "KIND", "TYPE", "ACCESS", "VALUE",
            ],
        );
        let reach = classify_object(&spec, &out);
        let (mut dead, mut unknown, mut reachable) = (0, 0, 0);
        for (r, class) in out.iter().zip(&reach) {
            let value = match (r.target_value, class) {
                (Some(v), _) => format!("{} -> {v}", r.local_value),
                (None, Reach::Reachable { program }) => {
                    reachable += 1;
                    format!("{} -> unresolved, REACHABLE from {program}", r.local_value)
                }
                (None, Reach::Unknown { reason }) => {
                    unknown += 1;
                    log::debug!(
                        "check: insn #{}: reachability unknown: {reason}",
                        r.insn_idx
                    );
                    format!("{} -> poisoned, reachability unknown", r.local_value)
                }
                (None, _) => {
                    dead += 1;
                    format!(
                        "{} -> poisoned; fine if unreachable (guarded/dead)",
                        r.local_value
                    )
                }
            };
            t.row(vec![
                func_at(&spec, &r.section, r.insn_idx).to_string(),
                r.section.clone(),
                r.insn_idx.to_string(),
                r.kind.to_string(),
                r.type_name.clone(),
                r.access.clone(),
                value,
            ]);
        }
        t.print();
        let changed = out
            .iter()
            .filter(|r| r.target_value.is_some_and(|v| v != r.local_value))
            .count();
        let unresolved = dead + unknown + reachable;
        let classes = if unresolved == 0 {
            String::new()
        } else {
            format!(" ({dead} unreachable, {unknown} reachability unknown, {reachable} reachable)")
        };
        println!(
            "summary for {btf_path}: {} relocations, {} resolved ({changed} changed), {unresolved} unresolved{classes}: {}",
            out.len(),
            out.len() - unresolved,
            if reachable == 0 { "OK" } else { "FAILED" }
        );
        if reachable > 0 {
            failed = true;
        }
    }
    if failed {
        Err(Fail::quiet(1))
    } else {
        Ok(())
    }
}
