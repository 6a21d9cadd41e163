//! `tinybpf btf min OBJ... --btf KERNEL.btf -o OUT`: the minimal BTF of one
//! kernel for a set of objects (like `bpftool gen min_core_btf`), pure:
//! `tinybpf::reloc::min_btf`.

use crate::info::parse_object;
use crate::Fail;
use std::path::PathBuf;
use tinybpf::reloc::min_btf::MinBtf;
use tinybpf::reloc::{relocate_copy, CoreTarget, Selection};

/// Write the minimal BTF that CO-RE-relocates OBJ... like KERNEL.btf does
///
/// For kernels without BTF (CONFIG_DEBUG_INFO_BTF off), ship this small file
/// with the tool and load with it as the target BTF (`tinybpf load --btf`,
/// `LoadOptions::target_btf`, libbpf's btf_custom_path): it holds only what
/// the objects' CO-RE relocations use on that kernel. For field relocations:
/// the structs and unions along each access path with only the accessed
/// members (at their original offsets; sizes unchanged) and what the member
/// types' size and signedness checks read; for enumerator relocations: the
/// enum with the used enumerators; for type relocations: the type (whole,
/// recursively, for type_matches). Every relocation of every program is
/// covered. Relocating against it gives the same instructions as against
/// KERNEL.btf, except `bpf_core_type_id_kernel()` values (ids are
/// renumbered). Not covered: BTF-based attach targets (fentry, fexit, LSM,
/// raw_tp with BTF, struct_ops) and .ksyms externs, which need the running
/// kernel's own BTF.
#[derive(Debug, clap::Args)]
#[command(
    verbatim_doc_comment,
    after_help = "\
Exit status: 0 written; 1 an object or the BTF cannot be read, a relocation
is malformed or ambiguous, or the output cannot be written; 2 usage error."
)]
pub struct MinArgs {
    /// The BPF object files (*.bpf.o)
    #[arg(required = true)]
    pub objs: Vec<PathBuf>,
    /// The kernel's BTF: raw BTF (like /sys/kernel/btf/vmlinux) or an ELF
    /// file with a .BTF section (a vmlinux)
    #[arg(long, value_name = "KERNEL.btf", verbatim_doc_comment)]
    pub btf: PathBuf,
    /// Where to write the minimal BTF (raw BTF)
    #[arg(short, long, value_name = "OUT")]
    pub output: PathBuf,
}

pub fn run(a: &MinArgs) -> Result<(), Fail> {
    let target = CoreTarget::file(&a.btf)
        .map_err(|e| Fail::error(format!("--btf {}: {e}", a.btf.display())))?;
    let full = target.btf().clone();
    let mut min = MinBtf::new(&full);
    let (mut relocs, mut unresolved) = (0, 0);
    for path in &a.objs {
        let spec = parse_object(path)?;
        let out = relocate_copy(&spec, Selection::All, &target)
            .map_err(|e| Fail::error(format!("{}: {e}", path.display())))?;
        let bad = out.iter().filter(|o| o.target_value.is_none()).count();
        println!(
            "{}: {} CO-RE relocations{}",
            path.display(),
            out.len(),
            if bad > 0 {
                format!(" ({bad} unresolved on this kernel: poisoned with the minimal BTF too)")
            } else {
                String::new()
            }
        );
        relocs += out.len();
        unresolved += bad;
        min.add_outcomes(&out)
            .map_err(|e| Fail::error(format!("{}: {e}", path.display())))?;
    }
    let bytes = min
        .to_bytes()
        .map_err(|e| Fail::error(format!("writing the minimal BTF: {e}")))?;
    std::fs::write(&a.output, &bytes)
        .map_err(|e| Fail::error(format!("{}: {e}", a.output.display())))?;
    let full_size = std::fs::metadata(&a.btf).map(|m| m.len()).unwrap_or(0);
    println!(
        "wrote {}: {} bytes, {} of {} types ({relocs} relocations in {} objects, {unresolved} unresolved; {} is {full_size} bytes)",
        a.output.display(),
        bytes.len(),
        min.subset().len(),
        full.len().saturating_sub(1),
        a.objs.len(),
        a.btf.display(),
    );
    Ok(())
}
