//! BTF: the BPF type format (pure parsing; no syscalls).
//!
//! [`Btf`] parses the raw `.BTF` blob (or `/sys/kernel/btf/vmlinux`, or a
//! split module BTF on top of a base) with one pass that records where each
//! type starts; everything else is decoded on demand from the bytes. A name
//! index is built lazily the first time a lookup by name is needed.
//!
//! Files: `types` holds [`Kind`] and the borrowed views ([`Type`],
//! [`Member`], ...), `parse` the header checks, `walk` the type-section
//! walk (segments walked as interleaved chains), `query` lookups by id and string offset, `index` the lazily built name
//! index and lookups by name, `patch` the in-place fix-ups and
//! [`Btf::to_bytes`]; `build` writes new BTF ([`BtfBuilder`]), `subset`
//! writes some types of a BTF ([`Btf::write_subset`]), `sanitize`
//! rewrites an object's BTF for older kernels; `ext` decodes `.BTF.ext` and `maps` BTF-defined maps.

pub mod build;
pub mod dump;
pub(crate) mod ext;
mod index;
mod maps;
mod parse;
mod patch;
mod patch_extern;
mod query;
pub mod sanitize;
mod subset;
mod types;
mod walk;
#[cfg(test)]
mod walk_tests;

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, OnceLock};

pub use build::BtfBuilder;
pub use ext::{BtfExt, CoreRelo, FuncInfo, LineInfo};
pub use index::essential_name;
pub use maps::BtfMapDef;
pub use patch_extern::{raw_int, raw_var};
pub use sanitize::{sanitize, BtfFeatures};
pub use subset::{Keep, Subset};
pub use types::{
    ArrayInfo, Enumerator, IntInfo, Kind, Member, Param, Type, VarSecinfo, BTF_INT_BOOL,
    BTF_INT_CHAR, BTF_INT_SIGNED,
};

use index::NameIndex;

/// Magic number of a BTF header (as read little-endian).
pub const BTF_MAGIC: u16 = 0xeb9f;
const HDR_MIN: usize = 24;
const TYPE_HDR: usize = 12;
/// Pointer size on BPF.
pub const PTR_SIZE: u32 = 8;
/// Limit on chains of typedefs/modifiers/arrays we follow (cycles in bad input).
pub(crate) const MAX_CHAIN: usize = 64;

/// Errors from BTF and .BTF.ext parsing. Each names what was wrong and where.
#[derive(Debug, thiserror::Error)]
pub enum BtfError {
    #[error("BTF truncated: {what} needs {need} bytes at offset {offset}, only {len} available")]
    /// A structure ends past the end of the data.
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Its offset.
        offset: usize,
        /// Bytes it needs.
        need: usize,
        /// Bytes there are.
        len: usize,
    },
    #[error("bad BTF magic {0:#06x}")]
    /// Not BTF: the magic number found.
    BadMagic(u16),
    #[error("big-endian BTF is not supported")]
    /// Big-endian BTF (not supported).
    BigEndian,
    #[error("unsupported BTF version {0}")]
    /// An unsupported BTF version.
    Version(u8),
    #[error("bad BTF header: {0}")]
    /// The header is inconsistent.
    BadHeader(String),
    #[error("BTF type [{id}] at offset {offset}: {what}")]
    /// A type record is malformed.
    BadType {
        /// The type's id.
        id: u32,
        /// Its offset in the type section.
        offset: usize,
        /// What is wrong.
        what: String,
    },
    #[error("BTF type id {id} out of range (last id is {last})")]
    /// A type id past the last type.
    NoSuchType {
        /// The id asked for.
        id: u32,
        /// The last valid id.
        last: u32,
    },
    #[error("BTF string offset {offset} invalid: {what}")]
    /// A string offset is out of range or unterminated.
    BadString {
        /// The string offset.
        offset: u32,
        /// What refers to it.
        what: &'static str,
    },
    #[error("BTF type [{id}] '{name}' is {kind}, expected {expected}")]
    /// A type is not of the kind needed.
    WrongKind {
        /// The type's id.
        id: u32,
        /// Its name.
        name: String,
        /// Its kind.
        kind: Kind,
        /// The kinds that would do.
        expected: &'static str,
    },
    #[error("BTF type [{id}]: chain of typedefs/modifiers too long or cyclic")]
    /// A chain of typedefs/modifiers is too long or cyclic.
    TooDeep {
        /// Where the chain starts.
        id: u32,
    },
    #[error("BTF type [{id}] '{name}': size cannot be determined ({what})")]
    /// A type has no size (e.g. a forward declaration).
    NoSize {
        /// The type's id.
        id: u32,
        /// Its name.
        name: String,
        /// Why.
        what: &'static str,
    },
    #[error("map '{map}': {what}")]
    /// A BTF map definition in `.maps` is invalid.
    MapDef {
        /// The map's name.
        map: String,
        /// What is wrong.
        what: String,
    },
    #[error("ELF: {0}")]
    /// The ELF file holding the BTF is malformed.
    Elf(String),
    #[error(".BTF.ext: {what} (offset {offset})")]
    /// `.BTF.ext` is malformed.
    Ext {
        /// What is wrong.
        what: String,
        /// Byte offset in `.BTF.ext`.
        offset: usize,
    },
    #[error("cannot patch type [{id}]: {what}")]
    /// A type cannot be rewritten as asked.
    Patch {
        /// The type's id.
        id: u32,
        /// Why.
        what: &'static str,
    },
}

/// Byte storage of a [`Btf`]: owned (patchable) or shared (e.g. an mmap).
enum Storage {
    Owned(Vec<u8>),
    Shared(Box<dyn AsRef<[u8]> + Send + Sync>),
}

impl Storage {
    fn bytes(&self) -> &[u8] {
        match self {
            Storage::Owned(v) => v,
            Storage::Shared(b) => (**b).as_ref(),
        }
    }
}

/// Parsed BTF.
pub struct Btf {
    data: Storage,
    /// Start and length of the type section within `data`.
    types_start: usize,
    types_len: usize,
    /// Start and length of the string section within `data`.
    strs_start: usize,
    strs_len: usize,
    /// Offset (within the type section) of every [`SPARSE`]-th own type of
    /// each segment the parse walk was cut into (see `segs`): for a segment
    /// whose first own type is `s` and first entry here is `e`,
    /// `sparse[e + i]` is where own type `s + i * SPARSE` starts; the types
    /// in between are found by stepping over their headers. A dense table
    /// would be 0.5 MiB for vmlinux and its stores and page faults were a
    /// third of the parse time.
    sparse: Vec<u32>,
    /// (first own type index, first `sparse` entry) of each segment, in
    /// order; unused entries are `(u32::MAX, 0)`.
    segs: [(u32, u32); walk::MAX_CHAINS],
    /// Number of own types.
    count: u32,
    first_id: u32,
    base: Option<Arc<Btf>>,
    /// Length of the base's string section (0 if not split).
    base_str_len: u32,
    /// Own named non-FUNC types as (id, name_off), collected by the parse
    /// pass: what the type index is built from without walking every type
    /// again.
    named_types: Vec<(u32, u32)>,
    /// Own named types by name, one index per class; each built on the
    /// first lookup that needs it.
    index: [OnceLock<NameIndex>; 2],
    /// Offsets of own types looked up lately, direct-mapped by type index:
    /// `(index + 1) << 32 | offset`, 0 when empty. CO-RE (and attach
    /// targets) come back to the same few types over and over; this spares
    /// them the steps over up to `SPARSE - 1` headers of each lookup.
    recent: [AtomicU64; RECENT],
}

/// One own type in this many has its offset recorded (see `Btf::sparse`).
const SPARSE: usize = 16;
/// Entries of `Btf::recent`.
const RECENT: usize = 256;

impl fmt::Debug for Btf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Btf")
            .field("types", &self.count)
            .field("first_id", &self.first_id)
            .field("strings", &self.strs_len)
            .field("split", &self.base.is_some())
            .finish()
    }
}

impl Btf {
    fn bytes(&self) -> &[u8] {
        self.data.bytes()
    }
    fn types(&self) -> &[u8] {
        self.bytes()
            .get(self.types_start..self.types_start + self.types_len)
            .unwrap_or(&[])
    }
    fn strs(&self) -> &[u8] {
        self.bytes()
            .get(self.strs_start..self.strs_start + self.strs_len)
            .unwrap_or(&[])
    }
    fn total_str_len(&self) -> u32 {
        self.base_str_len.saturating_add(self.strs_len as u32)
    }
    /// The DATASEC named `name` (own types only): one walk over the type
    /// headers that decodes only DATASECs.
    pub fn datasec_named(&self, name: &str) -> Option<Type<'_>> {
        self.datasecs().find(|t| t.name == name)
    }
    /// The id the next type would get (= number of ids including void).
    fn next_id(&self) -> u32 {
        self.first_id + self.count
    }

    /// Number of type ids, including void (id 0) and, for split BTF, the
    /// base's types: valid ids are `0..len()`.
    pub fn len(&self) -> u32 {
        self.next_id()
    }
    /// Whether it defines no type but void.
    pub fn is_empty(&self) -> bool {
        self.next_id() <= 1
    }
    /// First id defined by this BTF (1, or after the base for split BTF).
    pub fn first_own_id(&self) -> u32 {
        self.first_id
    }
    /// Ids defined by this BTF itself (not its base).
    pub fn own_ids(&self) -> std::ops::Range<u32> {
        self.first_id..self.next_id()
    }
    /// The base BTF of split BTF (module BTF: vmlinux).
    pub fn base(&self) -> Option<&Arc<Btf>> {
        self.base.as_ref()
    }

    /// Map definitions from the `.maps` DATASEC (BTF-defined maps).
    pub fn map_defs(&self) -> Result<Vec<BtfMapDef>, BtfError> {
        maps::map_defs(self)
    }
}

/// Where to look for kernel BTF, in order: sysfs, then the paths libbpf
/// tries for a vmlinux image with debug info. `release` is `uname -r`.
pub fn kernel_btf_paths(release: &str) -> Vec<PathBuf> {
    let mut v = vec![PathBuf::from("/sys/kernel/btf/vmlinux")];
    for pat in [
        "/boot/vmlinux-%s",
        "/lib/modules/%s/vmlinux-%s",
        "/lib/modules/%s/build/vmlinux",
        "/usr/lib/modules/%s/kernel/vmlinux",
        "/usr/lib/debug/boot/vmlinux-%s",
        "/usr/lib/debug/boot/vmlinux-%s.debug",
        "/usr/lib/debug/lib/modules/%s/vmlinux",
    ] {
        v.push(PathBuf::from(pat.replace("%s", release)));
    }
    v
}
