//! Map specs: what one map of an object is, whether it comes from the legacy
//! `maps` section (`elf_map`), BTF `.maps` (`btf_maps`), global data, or a
//! `.struct_ops` variable (`struct_ops`).

use crate::abi::map_type;

/// Largest global-data section we accept (the kernel's own limit is lower).
pub const MAX_DATA_SIZE: u64 = 1 << 29;

/// Map flags used by the loader.
pub const BPF_F_NO_PREALLOC: u32 = 1 << 0;
/// Read-only for programs (`.rodata`, `.kconfig`).
pub const BPF_F_RDONLY_PROG: u32 = 1 << 7;
/// The value can be mmap'd (global data).
pub const BPF_F_MMAPABLE: u32 = 1 << 10;

/// Which kind of global data a data map holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataKind {
    /// `.rodata*`: constants (`const volatile`), frozen after load.
    Rodata,
    /// `.data*`: initialized globals.
    Data,
    /// `.bss`: zero-initialized globals.
    Bss,
    /// `.kconfig`: extern values filled in by the loader.
    Kconfig,
}

/// `pinning` of a BTF map definition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Pinning {
    #[default]
    /// Not pinned.
    None,
    /// LIBBPF_PIN_BY_NAME: pinned at `<pin dir>/<map name>`, reused if present.
    ByName,
}

/// What an initial slot of a prog array or map-in-map points at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SlotTarget {
    /// The program with this name.
    Program(String),
    /// The map with this name.
    Map(String),
}

/// Everything needed to create one map.
#[derive(Clone, Debug, Default)]
pub struct MapSpec {
    /// The map's name, in full: the variable name, or for data maps
    /// `<obj>.rodata`-like names (see [`data_map_name`]). The kernel gets a
    /// 15-byte sanitized copy ([`MapSpec::kernel_name`]); lookups, listings and
    /// pin paths use this one.
    pub name: String,
    /// Name in the object: the variable, or the section for data maps.
    pub symbol: String,
    /// ELF section the definition lives in.
    pub section: String,
    /// The map type (`BPF_MAP_TYPE_*`, see [`crate::abi::map_type`]).
    pub map_type: u32,
    /// Key size in bytes.
    pub key_size: u32,
    /// Value size in bytes.
    pub value_size: u32,
    /// Maximum number of entries.
    pub max_entries: u32,
    /// Creation flags (`BPF_F_*`).
    pub map_flags: u32,
    /// NUMA node (with `BPF_F_NUMA_NODE`).
    pub numa_node: u32,
    /// `map_extra` (bloom filter hashes, arena address).
    pub map_extra: u64,
    /// Whether the map is pinned by name.
    pub pinning: Pinning,
    /// BTF type id of the key in the object's BTF (0: none).
    pub btf_key_type_id: u32,
    /// BTF type id of the value in the object's BTF (0: none).
    pub btf_value_type_id: u32,
    /// The inner map's definition (map-in-map).
    pub inner: Option<Box<MapSpec>>,
    /// Initial contents of prog arrays and map-in-maps: (index, target).
    pub init_slots: Vec<(u32, SlotTarget)>,
    /// Global data: which kind, and the initial bytes (empty for `.bss`).
    pub data: Option<DataKind>,
    /// Initial bytes of a data map (empty for `.bss`).
    pub initial: Vec<u8>,
    /// A `.struct_ops*` variable (map type `BPF_MAP_TYPE_STRUCT_OPS`).
    pub struct_ops: Option<Box<StructOpsSpec>>,
    pub(crate) elf_section: Option<usize>,
    pub(crate) sec_offset: u64,
    pub(crate) values_offset: Option<u64>,
}

/// The copy of a map or program name given to the kernel (`map_name`,
/// `prog_name`): the characters the kernel accepts (letters, digits, '_' and
/// '.'; others become '_'), at most 15 bytes.
pub fn kernel_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .take(15)
        .collect()
}

/// Name of a data map the way libbpf names it: `<obj prefix><section>` for the
/// standard sections (`hello.rodata`, the object name cut so that the whole
/// fits the kernel's 15 bytes), the full section name for custom ones
/// (`.rodata.str1.1`, `.data.my_counters`; the kernel gets a truncated copy).
pub fn data_map_name(obj: &str, section: &str) -> String {
    let custom = section.get(1..).is_some_and(|s| s.contains('.'));
    if custom || section.len() >= 15 {
        return section.to_string();
    }
    let pfx_len = 15usize.saturating_sub(section.len()).min(obj.len());
    let pfx: String = obj.chars().take(pfx_len).collect();
    kernel_name(&format!("{pfx}{section}"))
}

impl MapSpec {
    pub(crate) fn data(
        obj: &str,
        section: &str,
        kind: DataKind,
        size: u32,
        initial: Vec<u8>,
        elf_index: usize,
    ) -> MapSpec {
        let map_flags = match kind {
            DataKind::Rodata | DataKind::Kconfig => BPF_F_RDONLY_PROG | BPF_F_MMAPABLE,
            _ => BPF_F_MMAPABLE,
        };
        MapSpec {
            name: data_map_name(obj, section),
            symbol: section.to_string(),
            section: section.to_string(),
            map_type: map_type::ARRAY,
            key_size: 4,
            value_size: size,
            max_entries: 1,
            map_flags,
            data: Some(kind),
            initial,
            elf_section: Some(elf_index),
            ..Default::default()
        }
    }

    /// The copy of [`MapSpec::name`] given to the kernel (see [`kernel_name`]).
    pub fn kernel_name(&self) -> String {
        kernel_name(&self.name)
    }

    /// Whether user space sees per-CPU values.
    pub fn is_per_cpu(&self) -> bool {
        map_type::is_per_cpu(self.map_type)
    }
}

/// A function-pointer member of a struct_ops variable set to a program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StructOpsFunc {
    /// The member's name (`ssthresh`).
    pub member: String,
    /// Byte offset of the member in the object's struct.
    pub offset: u32,
    /// The program (function symbol) it points at.
    pub program: String,
}

/// One struct_ops variable, as the object defines it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StructOpsSpec {
    /// The struct's name (`tcp_congestion_ops`): the kernel's value type is
    /// `bpf_struct_ops_<type_name>`.
    pub type_name: String,
    /// The struct's type id in the object's BTF.
    pub type_id: u32,
    /// The variable's bytes in the section (function pointers are 0).
    pub data: Vec<u8>,
    /// Function-pointer members set to programs, by offset.
    pub funcs: Vec<StructOpsFunc>,
    /// In `.struct_ops.link`: registered through BPF_LINK_CREATE (the map
    /// has `BPF_F_LINK`); otherwise by updating the map.
    pub link: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn names() {
        assert_eq!(data_map_name("hello", ".rodata"), "hello.rodata");
        assert_eq!(data_map_name("execsnoop", ".rodata"), "execsnoo.rodata");
        assert_eq!(data_map_name("x", ".rodata.str1.1"), ".rodata.str1.1");
        assert_eq!(
            data_map_name("x", ".data.counters_of_all"),
            ".data.counters_of_all"
        );
        assert_eq!(data_map_name("my-obj", ".bss"), "my_obj.bss");
        assert_eq!(kernel_name("a-very-long-map-name-here"), "a_very_long_map");
        assert_eq!(kernel_name(".data.counters_of_all"), ".data.counters_");
        assert_eq!(kernel_name("cilium_ratelimit_metrics"), "cilium_ratelimi");
    }
}
