//! `tinybpf check OBJ [--btf FILE]...`: CO-RE relocations against target BTF,
//! without loading (pure: parsing and relocation only).

use crate::args::{val, Args};
use crate::info::parse_object;
use crate::table::Table;
use crate::Fail;
use tinybpf::core_load::{relocate_copy, CoreTarget, Selection};
use tinybpf::obj::ObjectSpec;
use tinybpf::reloc_core::RelocOutcome;

pub const HELP: &str = "\
tinybpf check: resolve CO-RE relocations against BTF without loading (no root)

Usage: tinybpf check OBJ [--btf FILE]...

Runs the loader's CO-RE driver on a copy of OBJ's code for each target BTF
(default: the running kernel's, vmlinux then module BTF) and prints one line per
relocation: program (function), ELF section, instruction index, kind, local
type, access string (with field names), and the value the instruction holds
locally -> the value for the target, or \"unresolved\" (the loader would
poison that instruction). Then a summary per BTF.

Options:
  --btf FILE  Target BTF: raw BTF (like /sys/kernel/btf/vmlinux) or an ELF
              file with a .BTF section (repeatable: each is checked in turn)
  -h, --help  Show this help

Exit status: 0 every relocation resolved against every BTF; 1 some could not
be resolved (or a BTF could not be read); 2 usage error.
";

/// The target: the running kernel (vmlinux, then module BTF), or a file.
pub fn read_target(path: Option<&str>) -> Result<CoreTarget, Fail> {
    match path {
        None => CoreTarget::kernel(),
        Some(p) => CoreTarget::file(std::path::Path::new(p)),
    }
    .map_err(|e| Fail::error(e.to_string()))
}

/// The function (program or subprogram) holding instruction `insn` of `section`.
fn func_at<'a>(spec: &'a ObjectSpec, section: &str, insn: usize) -> &'a str {
    spec.code
        .iter()
        .find(|c| c.name == section)
        .and_then(|c| {
            c.funcs
                .iter()
                .find(|(_, start, len)| insn >= *start && insn < start + len)
        })
        .map(|(n, _, _)| n.as_str())
        .unwrap_or("?")
}

/// Relocate a copy of the object's code against `target` (the library's
/// CO-RE driver, every relocation).
pub fn relocate(spec: &ObjectSpec, target: &CoreTarget) -> Result<Vec<RelocOutcome>, String> {
    relocate_copy(spec, Selection::All, target).map_err(|e| e.to_string())
}

pub fn run(argv: &[String]) -> Result<(), Fail> {
    const CMD: &str = "check";
    let a = Args::parse(CMD, argv, &[val("btf")])?;
    if crate::print_help_if(CMD, &a) {
        return Ok(());
    }
    a.expect_positional(CMD, &["OBJ"])?;
    let path = &a.positional[0];
    let spec = parse_object(path)?;
    let total: usize = spec
        .btf_ext
        .as_ref()
        .map(|e| e.core_relos.iter().map(|(_, r)| r.len()).sum())
        .unwrap_or(0);
    if total == 0 {
        println!("{}: no CO-RE relocations; nothing to check", spec.name);
        return Ok(());
    }
    let mut btfs: Vec<Option<&str>> = a.all("btf").into_iter().map(Some).collect();
    if btfs.is_empty() {
        btfs.push(None);
    }
    let mut failed = false;
    for (i, btf_arg) in btfs.iter().enumerate() {
        if i > 0 {
            println!();
        }
        let btf_path = btf_arg.unwrap_or("/sys/kernel/btf/vmlinux (+ module BTF)");
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
        let mut unresolved = 0;
        for r in &out {
            let value = match r.target_value {
                Some(v) => format!("{} -> {v}", r.local_value),
                None => {
                    unresolved += 1;
                    format!("{} -> unresolved", r.local_value)
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
        println!(
            "summary for {btf_path}: {} relocations, {} resolved ({changed} changed), {unresolved} unresolved: {}",
            out.len(),
            out.len() - unresolved,
            if unresolved == 0 { "OK" } else { "FAILED" }
        );
        if unresolved > 0 {
            failed = true;
        }
    }
    if failed {
        Err(Fail::quiet(1))
    } else {
        Ok(())
    }
}
