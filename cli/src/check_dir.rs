//! `tinybpf check OBJ --btf-dir DIR`: the object's CO-RE relocations against
//! every kernel BTF in a directory, one summary line per kernel and a matrix
//! (relocation × kernel) at the end. Kernels are relocated in parallel
//! (`std::thread::scope`); each is the library's CO-RE driver
//! (`relocate_copy` with `CoreTarget::Custom`) plus the reachability
//! classification, exactly as `check --btf FILE` does one by one.

use crate::table::func_at;
use crate::table::Table;
use crate::Fail;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tinybpf::obj::ObjectSpec;
use tinybpf::reloc::core::reach::{classify_object, Reach};
use tinybpf::reloc::core::RelocOutcome;
use tinybpf::reloc::{relocate_copy, CoreTarget, Selection};

/// One kernel's result.
enum KernelResult {
    /// The file is not BTF (skipped, with why).
    NotBtf(String),
    /// The relocation failed (malformed or ambiguous).
    Error { types: u32, err: String },
    /// Outcomes and their reachability classes.
    Done {
        types: u32,
        out: Vec<RelocOutcome>,
        reach: Vec<Reach>,
    },
}

/// Files of `dir`, sorted by name (directories and unreadable entries left
/// out).
pub fn files_in(dir: &Path) -> Result<Vec<PathBuf>, Fail> {
    let rd = std::fs::read_dir(dir).map_err(|e| Fail::error(format!("{}: {e}", dir.display())))?;
    let mut v: Vec<PathBuf> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    Ok(v)
}

fn check_one(spec: &ObjectSpec, path: &Path) -> KernelResult {
    let target = match tinybpf::kernel::read_btf_file(path) {
        Ok(b) => CoreTarget::Custom(Arc::new(b)),
        Err(e) => return KernelResult::NotBtf(e.to_string()),
    };
    let types = target.btf().len().saturating_sub(1);
    match relocate_copy(spec, Selection::All, &target) {
        Ok(out) => {
            let reach = classify_object(spec, &out);
            KernelResult::Done { types, out, reach }
        }
        Err(e) => KernelResult::Error {
            types,
            err: e.to_string(),
        },
    }
}

/// Relocate `spec` against each file, on up to `available_parallelism`
/// threads; results in the order of `files`.
fn check_all(spec: &ObjectSpec, files: &[PathBuf]) -> Vec<KernelResult> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(files.len())
        .max(1);
    let next = AtomicUsize::new(0);
    let mut results: Vec<(usize, KernelResult)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(f) = files.get(i) else { break };
                        mine.push((i, check_one(spec, f)));
                    }
                    mine
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

fn cell(r: &RelocOutcome, c: &Reach) -> &'static str {
    match (r.target_value, c) {
        (Some(_), _) => "ok",
        (None, Reach::Reachable { .. }) => "FAILED",
        (None, Reach::Unknown { .. }) => "unknown",
        (None, _) => "guarded",
    }
}

/// Check `spec` against `extra` files and every file in `dir`; print the
/// summaries and the matrix. Err(quiet 1) when some kernel fails.
pub fn run(spec: &ObjectSpec, extra: &[PathBuf], dir: &Path) -> Result<(), Fail> {
    let mut files: Vec<PathBuf> = extra.to_vec();
    files.extend(files_in(dir)?);
    let results = check_all(spec, &files);
    let mut failed = false;
    // (column label, file, outcomes, classes) of the kernels that relocated.
    let mut kernels: Vec<(String, &PathBuf, &[RelocOutcome], &[Reach])> = Vec::new();
    for (f, r) in files.iter().zip(&results) {
        let name = f.display();
        match r {
            KernelResult::NotBtf(why) => println!("skipping {name}: not BTF ({why})"),
            KernelResult::Error { types, err } => {
                failed = true;
                println!("{name} ({types} types): FAILED (relocation error: {err})");
            }
            KernelResult::Done { types, out, reach } => {
                let (mut dead, mut unknown, mut reachable) = (0, 0, 0);
                for (o, c) in out.iter().zip(reach) {
                    match cell(o, c) {
                        "FAILED" => reachable += 1,
                        "unknown" => unknown += 1,
                        "guarded" => dead += 1,
                        _ => {}
                    }
                }
                let unresolved = dead + unknown + reachable;
                let changed = out
                    .iter()
                    .filter(|o| o.target_value.is_some_and(|v| v != o.local_value))
                    .count();
                failed |= reachable > 0;
                let label = format!("K{}", kernels.len() + 1);
                println!(
                    "{label} {name} ({types} types): {} relocations, {} resolved ({changed} changed), {unresolved} unresolved ({dead} guarded, {unknown} unknown, {reachable} reachable): {}",
                    out.len(),
                    out.len() - unresolved,
                    if reachable == 0 { "OK" } else { "FAILED" }
                );
                kernels.push((label, f, out, reach));
            }
        }
    }
    let btfs = results
        .iter()
        .filter(|r| !matches!(r, KernelResult::NotBtf(_)))
        .count();
    if btfs == 0 {
        return Err(Fail::error(format!(
            "{}: no BTF file (raw BTF or ELF with .BTF) found",
            dir.display()
        )));
    }
    if let Some((_, _, first, _)) = kernels.first() {
        println!();
        println!(
            "matrix: {} relocations x {} kernels (ok: resolved; guarded: unresolved but unreachable; FAILED: unresolved and reachable)",
            first.len(),
            kernels.len()
        );
        let mut header = vec!["PROGRAM", "INSN", "KIND", "ACCESS"];
        let labels: Vec<&str> = kernels.iter().map(|k| k.0.as_str()).collect();
        header.extend(labels.iter());
        let mut t = Table::new(2, &header);
        for (i, r) in first.iter().enumerate() {
            let mut row = vec![
                func_at(spec, &r.section, r.insn_idx).to_string(),
                format!("{}:{}", r.section, r.insn_idx),
                r.kind.to_string(),
                r.access.clone(),
            ];
            for (_, _, out, reach) in &kernels {
                row.push(match (out.get(i), reach.get(i)) {
                    (Some(o), Some(c)) => cell(o, c).to_string(),
                    _ => "-".into(),
                });
            }
            t.row(row);
        }
        t.print();
    }
    println!(
        "{} of {} kernels relocate{}",
        kernels
            .iter()
            .filter(|(_, _, o, r)| o.iter().zip(*r).all(|(o, c)| cell(o, c) != "FAILED"))
            .count(),
        btfs,
        if failed { ": FAILED" } else { ": OK" }
    );
    if failed {
        Err(Fail::quiet(1))
    } else {
        Ok(())
    }
}
