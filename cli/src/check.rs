//! `tinybpf check OBJ [--btf FILE]...`: CO-RE relocations against target BTF,
//! without loading (pure: parsing and relocation only).

use crate::info::parse_object;
use crate::table::Table;
use crate::Fail;
use std::path::{Path, PathBuf};
use tinybpf::btf::Btf;
use tinybpf::insn::Insn;
use tinybpf::obj::ObjectSpec;
use tinybpf::reloc_core::{relocate_object, RelocOutcome, Target};

/// Resolve CO-RE relocations against BTF without loading (no root)
///
/// Runs the CO-RE engine on a copy of OBJ's code for each target BTF (default:
/// the running kernel's, /sys/kernel/btf/vmlinux) and prints one line per
/// relocation: program (function), ELF section, instruction index, kind, local
/// type, access string (with field names), and the value the instruction holds
/// locally -> the value for the target, or "unresolved" (the loader would
/// poison that instruction). Then a summary per BTF.
#[derive(Debug, clap::Args)]
#[command(
    verbatim_doc_comment,
    after_help = "\
Exit status: 0 every relocation resolved against every BTF; 1 some could not
be resolved (or a BTF could not be read); 2 usage error."
)]
pub struct CheckArgs {
    /// The BPF object file (*.bpf.o)
    pub obj: PathBuf,
    /// Target BTF: raw BTF (like /sys/kernel/btf/vmlinux) or an ELF file with
    /// a .BTF section (repeatable: each is checked in turn)
    #[arg(long, verbatim_doc_comment, value_name = "FILE")]
    pub btf: Vec<PathBuf>,
}

const DEFAULT_BTF: &str = "/sys/kernel/btf/vmlinux";

/// Read a target BTF: raw, or the `.BTF` section of an ELF file.
pub fn read_btf(path: &Path) -> Result<Btf, Fail> {
    let bytes = std::fs::read(path).map_err(|e| Fail::error(format!("{}: {e}", path.display())))?;
    let btf = if bytes.starts_with(b"\x7fELF") {
        Btf::from_elf(&bytes)
    } else {
        Btf::parse(bytes)
    };
    btf.map_err(|e| Fail::error(format!("{}: {e}", path.display())))
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
    let mut btfs: Vec<&Path> = a.btf.iter().map(PathBuf::as_path).collect();
    if btfs.is_empty() {
        btfs.push(Path::new(DEFAULT_BTF));
    }
    let mut failed = false;
    for (i, btf_path) in btfs.iter().enumerate() {
        let btf_path = btf_path.display();
        if i > 0 {
            println!();
        }
        let target = match read_btf(btfs[i]) {
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
