//! `tinybpf check OBJ [--btf FILE]...`: CO-RE relocations against target BTF,
//! without loading (pure: parsing, relocation, and the reachability of
//! unresolved relocations, `tinybpf::reloc_core::reach`).

use crate::args::{val, Args};
use crate::info::parse_object;
use crate::table::Table;
use crate::Fail;
use tinybpf::btf::Btf;
use tinybpf::insn::Insn;
use tinybpf::obj::ObjectSpec;
use tinybpf::reloc_core::reach::{classify_object, Reach};
use tinybpf::reloc_core::{relocate_object, RelocOutcome, Target};

pub const HELP: &str = "\
tinybpf check: resolve CO-RE relocations against BTF without loading (no root)

Usage: tinybpf check OBJ [--btf FILE]...

Runs the CO-RE engine on a copy of OBJ's code for each target BTF (default:
the running kernel's, /sys/kernel/btf/vmlinux) and prints one line per
relocation: program (function), ELF section, instruction index, kind, local
type, access string (with field names), and the value the instruction holds
locally -> the value for the target. Then a summary per BTF.

A relocation the target cannot satisfy poisons its instruction; the kernel
rejects a program only if a poisoned instruction is reachable. check follows
each program's control flow (with existence checks and other relocated
constants as known values, into subprograms) and puts each unresolved
relocation in one of three classes:
  poisoned; fine if unreachable (guarded/dead)
      behind a failed bpf_core_*_exists() check, or in code no program
      reaches: the verifier removes it
  poisoned, reachability unknown
      the analysis could not decide (TINYBPF_LOG=debug says why); not a
      failure
  unresolved, REACHABLE from PROG
      on a path PROG can take: loading PROG fails

Options:
  --btf FILE  Target BTF: raw BTF (like /sys/kernel/btf/vmlinux) or an ELF
              file with a .BTF section (repeatable: each is checked in turn)
  -h, --help  Show this help

Exit status: 0 no unresolved relocation is reachable, against every BTF; 1
some is (or a relocation or a BTF could not be read); 2 usage error.
";

const DEFAULT_BTF: &str = "/sys/kernel/btf/vmlinux";

/// Read a target BTF: raw, or the `.BTF` section of an ELF file.
pub fn read_btf(path: &str) -> Result<Btf, Fail> {
    let bytes = std::fs::read(path).map_err(|e| Fail::error(format!("{path}: {e}")))?;
    let btf = if bytes.starts_with(b"\x7fELF") {
        Btf::from_elf(&bytes)
    } else {
        Btf::parse(bytes)
    };
    btf.map_err(|e| Fail::error(format!("{path}: {e}")))
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

/// Relocate a copy of the object's code against `target`.
pub fn relocate(spec: &ObjectSpec, target: &Btf) -> Result<Vec<RelocOutcome>, String> {
    let (Some(local), Some(ext)) = (&spec.btf, &spec.btf_ext) else {
        return Ok(Vec::new());
    };
    let mut code: Vec<(String, Vec<Insn>)> = spec
        .code
        .iter()
        .map(|c| (c.name.clone(), c.insns.clone()))
        .collect();
    let mut sections: Vec<(&str, &mut [Insn])> = code
        .iter_mut()
        .map(|(n, i)| (n.as_str(), i.as_mut_slice()))
        .collect();
    relocate_object(local, ext, &Target { btfs: vec![target] }, &mut sections)
        .map_err(|e| e.to_string())
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
    let mut btfs: Vec<&str> = a.all("btf");
    if btfs.is_empty() {
        btfs.push(DEFAULT_BTF);
    }
    let mut failed = false;
    for (i, btf_path) in btfs.iter().enumerate() {
        if i > 0 {
            println!();
        }
        let target = match read_btf(btf_path) {
            Ok(t) => t,
            Err(f) => {
                println!("target {btf_path}: cannot read: {}", f.msg);
                failed = true;
                continue;
            }
        };
        println!(
            "target {btf_path} ({} types): {} CO-RE relocations in {}",
            target.len().saturating_sub(1),
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
