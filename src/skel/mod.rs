//! Typed skeletons: Rust source generated from a BPF object, with one typed
//! accessor per program, map and global section, like libbpf's skeletons
//! (`tinybpf gen skeleton OBJ`, or [`Builder`] in a `build.rs`).
//!
//! For `maps.bpf.o` the generated module has `MapsSkel::open()? →
//! OpenMapsSkel` (set `.rodata` with `rodata_mut()`, disable programs with
//! `progs_mut()`, resize maps with `maps_mut()`), `.load()? → MapsSkel` with
//! `progs().handle_execve()`, `maps().execs()` (typed `get`/`set`/`keys`
//! with the generated key and value types), `bss()`/`data()` (typed views of
//! the memory-mapped sections) and `attach()`. Every type comes from the
//! object's BTF as a `#[repr(C)]` struct with explicit padding fields,
//! implementing [`Pod`](crate::Pod) through [`pod!`](crate::pod), its size
//! and field offsets asserted at compile time. The generated code uses only
//! tinybpf's public API.
//!
//! This module is pure: it reads the object's bytes and returns text (the
//! [`Builder`] also runs clang, with `std::process`).

mod builder;
mod emit;
mod types;

pub use builder::Builder;

use crate::obj::{ObjectSpec, ParseError};

/// Why a skeleton could not be generated or built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SkelError {
    /// The object could not be parsed.
    #[error("{name}: {source}")]
    Parse {
        /// The object's name.
        name: String,
        /// What was wrong.
        #[source]
        source: ParseError,
    },
    /// The object has no BTF: its maps, globals and types cannot be typed.
    #[error("{name}: the object has no .BTF section; compile it with clang -g")]
    NoBtf {
        /// The object's name.
        name: String,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The compiler failed (its output is in the message).
    #[error("{0}")]
    Compile(String),
}

/// Options of [`generate`].
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct SkelOptions {
    include_path: Option<String>,
}

impl SkelOptions {
    /// The path in the generated `include_bytes!` (default: `<name>.bpf.o`,
    /// beside the generated file). A path starting with
    /// `$CARGO_MANIFEST_DIR/` is made relative to the including crate.
    pub fn include_path(mut self, path: impl Into<String>) -> SkelOptions {
        self.include_path = Some(path.into());
        self
    }
}

/// The Rust source of the skeleton of the object `obj` (its bytes), whose
/// types are named after `name` (`maps` → `MapsSkel`).
pub fn generate(obj: &[u8], name: &str, opts: &SkelOptions) -> Result<String, SkelError> {
    let spec = ObjectSpec::parse(name, obj).map_err(|source| SkelError::Parse {
        name: name.into(),
        source,
    })?;
    if spec.btf.is_none() {
        return Err(SkelError::NoBtf { name: name.into() });
    }
    let include = match &opts.include_path {
        Some(p) => match p.strip_prefix("$CARGO_MANIFEST_DIR/") {
            Some(rest) => format!("concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/{rest}\")"),
            None => format!("{p:?}"),
        },
        None => format!("\"{name}.bpf.o\""),
    };
    log::debug!(
        "skeleton of {name}: {} programs, {} maps",
        spec.programs.len(),
        spec.maps.len()
    );
    Ok(emit::skeleton(&spec, name, &include))
}

/// The object's name from a path: the file name without `.bpf.o` / `.o`,
/// as an identifier (`src/bpf/maps.bpf.o` → `maps`).
pub fn name_from_path(path: &str) -> String {
    let file = path.rsplit('/').next().unwrap_or(path);
    let stem = file
        .strip_suffix(".bpf.o")
        .or_else(|| file.strip_suffix(".bpf.c"))
        .or_else(|| file.strip_suffix(".o"))
        .or_else(|| file.strip_suffix(".c"))
        .unwrap_or(file);
    types::ident(stem)
}
