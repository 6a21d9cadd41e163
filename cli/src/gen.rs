//! `tinybpf gen skeleton OBJ`: Rust source generated from an object.

use crate::info::read_object;
use crate::Fail;
use std::path::PathBuf;
use tinybpf::skel::{self, SkelOptions};

/// Generate code from a BPF object
#[derive(Debug, clap::Args)]
pub struct GenArgs {
    #[command(subcommand)]
    pub what: GenCommand,
}

/// What to generate.
#[derive(Debug, clap::Subcommand)]
pub enum GenCommand {
    Skeleton(SkeletonArgs),
}

/// Write a typed Rust skeleton of a BPF object (parsing only: no root)
///
/// One module: the object embedded with include_bytes!, `<Name>Skel::open()`
/// → `Open<Name>Skel` (rodata_mut(), progs_mut(), maps_mut()) → `.load()` →
/// `<Name>Skel` (progs(), maps() with typed keys and values, bss()/data()
/// live views, attach()). Types come from the object's BTF as #[repr(C)]
/// structs implementing tinybpf::Pod, sizes and offsets checked at compile
/// time. Use it with `mod maps { include!("maps.skel.rs"); }`.
#[derive(Debug, clap::Args)]
#[command(
    verbatim_doc_comment,
    after_help = "\
Exit status: 0 success; 1 the object cannot be read, is not a BPF object or
has no BTF, or the output cannot be written; 2 usage error."
)]
pub struct SkeletonArgs {
    /// The BPF object file (*.bpf.o), compiled with -g (it needs BTF)
    pub obj: PathBuf,
    /// Write the skeleton here (default: standard output)
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Name of the skeleton (default: the file name without .bpf.o): maps → MapsSkel
    #[arg(long)]
    pub name: Option<String>,
    /// The path in the generated include_bytes! (default: the object's path
    /// as given); a leading $CARGO_MANIFEST_DIR/ makes it relative to the
    /// including crate
    #[arg(long, value_name = "PATH")]
    pub include: Option<String>,
}

/// Run `gen`.
pub fn run(a: &GenArgs) -> Result<(), Fail> {
    match &a.what {
        GenCommand::Skeleton(s) => skeleton(s),
    }
}

fn skeleton(a: &SkeletonArgs) -> Result<(), Fail> {
    let bytes = read_object(&a.obj)?;
    let path = a.obj.to_string_lossy().into_owned();
    let name = a
        .name
        .clone()
        .unwrap_or_else(|| skel::name_from_path(&path));
    let include = match &a.include {
        Some(i) => i.clone(),
        None => std::path::absolute(&a.obj)
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or(path),
    };
    let text = skel::generate(&bytes, &name, &SkelOptions::default().include_path(include))
        .map_err(|e| Fail::error(e.to_string()))?;
    match &a.output {
        Some(o) => {
            std::fs::write(o, text).map_err(|e| Fail::error(format!("{}: {e}", o.display())))
        }
        None => {
            print!("{text}");
            Ok(())
        }
    }
}
