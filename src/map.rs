//! Maps of a loaded object (or opened from a pin): raw-bytes and typed access.

use crate::abi::map_type;
use crate::error::{Error, MapUsageError, Result};
use crate::obj::MapSpec;
use crate::sys::{self, Mmap, SysError};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::Path;

pub use crate::sys::Pod;

/// Update flags of `bpf_map_update_elem`.
pub mod flags {
    /// Create or update.
    pub const ANY: u64 = 0;
    /// Create only.
    pub const NOEXIST: u64 = 1;
    /// Update only.
    pub const EXIST: u64 = 2;
    /// Spin-locked value.
    pub const F_LOCK: u64 = 4;
}

/// A BPF map of a loaded [`Object`](crate::Object) (or opened with
/// [`Map::from_pin`] / [`Map::from_fd`]).
///
/// Access is by bytes ([`Map::lookup`], [`Map::update`], [`Map::delete`],
/// [`Map::keys`], [`Map::iter`]; queue/stack: [`Map::push`], [`Map::pop`])
/// or typed, for [`Pod`](crate::Pod) types whose sizes are checked against
/// the map's ([`Map::get`], [`Map::set`], [`Map::remove`]; per-CPU:
/// [`Map::get_percpu`], [`Map::set_percpu`]). Global data (`.data`,
/// `.bss`, `.rodata`) is an mmap'd array map: [`Map::data`],
/// [`Map::write_data`].
///
/// ```no_run
/// use tinybpf::map_flags;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let obj = tinybpf::OpenObject::open("bpf/maptypes.bpf.o")?.load()?;
/// let hash = obj.map("hash").ok_or("no map hash")?; // u32 → u64
/// hash.set(&5u32, &50u64, map_flags::NOEXIST)?;
/// assert_eq!(hash.get::<u32, u64>(&5)?, Some(50));
/// for key in hash.keys() {
///     println!("key {:?}", key?);
/// }
/// hash.pin("/sys/fs/bpf/my_hash")?; // outlives the object; Map::from_pin reopens it
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Map {
    name: String,
    symbol: String,
    map_type: u32,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    map_flags: u32,
    mmap: Option<Mmap>,
    fd: sys::MapFd,
    /// A struct_ops map's value layout (program fds go in at attach).
    struct_ops: Option<Box<crate::obj::StructOpsLayout>>,
}

impl Map {
    pub(crate) fn new(spec: &MapSpec, fd: sys::MapFd) -> Map {
        Map {
            name: spec.name.clone(),
            symbol: spec.symbol.clone(),
            map_type: spec.map_type,
            key_size: spec.key_size,
            value_size: spec.value_size,
            max_entries: spec.max_entries,
            map_flags: spec.map_flags,
            mmap: None,
            fd,
            struct_ops: None,
        }
    }

    pub(crate) fn set_struct_ops(&mut self, l: crate::obj::StructOpsLayout) {
        self.struct_ops = Some(Box::new(l));
    }

    /// The value layout of a struct_ops map.
    pub(crate) fn struct_ops(&self) -> Option<&crate::obj::StructOpsLayout> {
        self.struct_ops.as_deref()
    }

    /// The sized fd, for the loader's own element writes.
    pub(crate) fn map_fd(&self) -> &sys::MapFd {
        &self.fd
    }

    pub(crate) fn set_max_entries(&mut self, n: u32) {
        self.max_entries = n;
    }

    pub(crate) fn set_mmap(&mut self, m: Mmap) {
        self.mmap = Some(m);
    }

    /// Open a map pinned on bpffs.
    pub fn from_pin(path: impl AsRef<Path>) -> Result<Map> {
        let path = path.as_ref();
        let fd = sys::obj_get(path)
            .map_err(|e| Error::sys(format!("open pinned map {}", path.display()), e))?;
        Map::from_fd(fd)
    }

    /// Wrap a map fd (its properties are read from the kernel).
    pub fn from_fd(fd: OwnedFd) -> Result<Map> {
        let info = sys::map_info(fd.as_fd()).map_err(|e| Error::sys("map from fd", e))?;
        let fd = sys::MapFd::new(fd).map_err(|e| Error::sys("map from fd", e))?;
        Ok(Map {
            symbol: info.name.clone(),
            name: info.name.clone(),
            map_type: info.map_type,
            key_size: info.key_size,
            value_size: info.value_size,
            max_entries: info.max_entries,
            map_flags: info.map_flags,
            mmap: None,
            fd,
            struct_ops: None,
        })
    }

    /// The map's full name: the variable, or `hello.rodata`-like for data
    /// maps. The kernel keeps a copy cut to 15 bytes; for a map opened with
    /// [`Map::from_pin`] or [`Map::from_fd`] that copy is all there is.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The map's name in the object (variable name, or data section).
    pub fn symbol(&self) -> &str {
        &self.symbol
    }
    /// The map's type (`MapType::Hash`, ...; `.raw()` for the number).
    pub fn map_type(&self) -> crate::abi::MapType {
        crate::abi::MapType::from_raw(self.map_type)
    }
    /// Key size in bytes.
    pub fn key_size(&self) -> u32 {
        self.key_size
    }
    /// Value size in bytes as the kernel sees it (per CPU for per-CPU maps).
    pub fn value_size(&self) -> u32 {
        self.value_size
    }
    /// Maximum number of entries (as created: a perf event array sized 0 gets the number of CPUs).
    pub fn max_entries(&self) -> u32 {
        self.max_entries
    }
    /// Creation flags (`BPF_F_*`).
    pub fn map_flags(&self) -> u32 {
        self.map_flags
    }
    /// The map's file descriptor, borrowed.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
    /// The kernel's id of this map.
    pub fn id(&self) -> Result<u32> {
        Ok(sys::map_info(self.fd()).map_err(|e| self.err(e))?.id)
    }

    /// A call that does not fit this map.
    fn usage(&self, problem: MapUsageError) -> Error {
        Error::MapUsage {
            map: self.name.clone(),
            problem,
        }
    }

    fn err(&self, e: SysError) -> Error {
        Error::sys(format!("map {}", self.name), e)
    }

    /// Size of a value as user space reads it (per-CPU maps: one 8-byte-aligned
    /// slot per possible CPU, see [`Map::percpu_slot_size`]).
    pub fn user_value_size(&self) -> usize {
        self.fd.sizes().value
    }

    /// Whether this map holds one value per CPU (`PERCPU_ARRAY`, `PERCPU_HASH`,
    /// `LRU_PERCPU_HASH`, ...): read it with [`Map::get_percpu`] or
    /// [`Map::lookup_percpu`].
    pub fn is_per_cpu(&self) -> bool {
        map_type::is_per_cpu(self.map_type)
    }

    /// Bytes one CPU's value takes in a per-CPU value buffer: the value size
    /// rounded up to 8, as the kernel lays the slots out.
    pub fn percpu_slot_size(&self) -> usize {
        sys::percpu_slot_size(self.value_size)
    }

    /// Number of per-CPU slots of a value (the possible CPUs); 1 for other maps.
    fn percpu_slots(&self) -> usize {
        match self.is_per_cpu() {
            true => self.user_value_size() / self.percpu_slot_size().max(1),
            false => 1,
        }
    }

    /// `size_of::<K>()` must be the key size (typed operation `op`).
    fn check_key_type<K>(&self, op: &'static str) -> Result<()> {
        let k = std::mem::size_of::<K>();
        if k != self.key_size as usize {
            return Err(self.usage(MapUsageError::KeyType {
                op,
                type_name: std::any::type_name::<K>(),
                given: k,
                expected: self.key_size,
            }));
        }
        Ok(())
    }

    /// `size_of::<V>()` must be the value size, and the map must be per-CPU
    /// exactly when `percpu` (typed operation `op`).
    fn check_value_type<V>(&self, op: &'static str, percpu: bool) -> Result<()> {
        if self.is_per_cpu() && !percpu {
            return Err(self.usage(MapUsageError::PerCpu {
                op,
                map_type: self.map_type(),
            }));
        }
        if !self.is_per_cpu() && percpu {
            return Err(self.usage(MapUsageError::NotPerCpu {
                op,
                map_type: self.map_type(),
                instead: "get/set (or lookup/update)",
            }));
        }
        let v = std::mem::size_of::<V>();
        if v != self.value_size as usize {
            return Err(self.usage(MapUsageError::ValueType {
                op,
                type_name: std::any::type_name::<V>(),
                given: v,
                expected: self.value_size,
            }));
        }
        Ok(())
    }

    fn check_key(&self, key: &[u8]) -> Result<()> {
        if key.len() != self.key_size as usize {
            return Err(self.usage(MapUsageError::KeyLen {
                given: key.len(),
                expected: self.key_size,
            }));
        }
        Ok(())
    }

    /// Look up `key`; `None` when absent.
    pub fn lookup(&self, key: &[u8], flags: u64) -> Result<Option<Vec<u8>>> {
        self.check_key(key)?;
        let mut v = vec![0u8; self.user_value_size()];
        match self
            .fd
            .lookup(key, &mut v, flags)
            .map_err(|e| self.err(e))?
        {
            true => Ok(Some(v)),
            false => Ok(None),
        }
    }

    /// Insert or update `key` (flags: [`flags::ANY`], [`flags::NOEXIST`], ...).
    pub fn update(&self, key: &[u8], value: &[u8], flags: u64) -> Result<()> {
        if !key.is_empty() {
            self.check_key(key)?;
        }
        if value.len() != self.user_value_size() {
            return Err(self.usage(MapUsageError::ValueLen {
                given: value.len(),
                expected: self.user_value_size(),
            }));
        }
        self.fd.update(key, value, flags).map_err(|e| self.err(e))
    }

    /// Delete `key`; `false` when it was absent.
    pub fn delete(&self, key: &[u8]) -> Result<bool> {
        self.check_key(key)?;
        self.fd.delete(key).map_err(|e| self.err(e))
    }

    /// The key after `key` (the first key when `None`); `None` at the end.
    pub fn next_key(&self, key: Option<&[u8]>) -> Result<Option<Vec<u8>>> {
        let mut next = vec![0u8; self.key_size as usize];
        match self.fd.next_key(key, &mut next).map_err(|e| self.err(e))? {
            true => Ok(Some(next)),
            false => Ok(None),
        }
    }

    /// Iterate over keys (a snapshot taken lazily, like `bpf_map_get_next_key`).
    pub fn keys(&self) -> Keys<'_> {
        Keys {
            map: self,
            prev: None,
            done: false,
        }
    }

    /// Iterate over (key, value) pairs.
    pub fn iter(&self) -> impl Iterator<Item = Result<(Vec<u8>, Vec<u8>)>> + '_ {
        self.keys().filter_map(move |k| match k {
            Err(e) => Some(Err(e)),
            Ok(k) => match self.lookup(&k, 0) {
                Ok(Some(v)) => Some(Ok((k, v))),
                Ok(None) => None, // deleted meanwhile
                Err(e) => Some(Err(e)),
            },
        })
    }

    /// Queue/stack: push a value.
    pub fn push(&self, value: &[u8], flags: u64) -> Result<()> {
        self.update(&[], value, flags)
    }

    /// Queue/stack: pop a value (`None` when empty).
    pub fn pop(&self) -> Result<Option<Vec<u8>>> {
        let mut v = vec![0u8; self.value_size as usize];
        match self
            .fd
            .lookup_and_delete(None, &mut v)
            .map_err(|e| self.err(e))?
        {
            true => Ok(Some(v)),
            false => Ok(None),
        }
    }

    /// Queue/stack: read the next value without removing it.
    pub fn peek(&self) -> Result<Option<Vec<u8>>> {
        let mut v = vec![0u8; self.value_size as usize];
        match self.fd.lookup(&[], &mut v, 0).map_err(|e| self.err(e))? {
            true => Ok(Some(v)),
            false => Ok(None),
        }
    }

    /// Bloom filter: whether `value` may be in the set (`false`: surely not).
    pub fn peek_value(&self, value: &[u8]) -> Result<bool> {
        let mut v = value.to_vec();
        self.fd.lookup(&[], &mut v, 0).map_err(|e| self.err(e))
    }

    /// Look up and delete `key` atomically (hash maps).
    pub fn lookup_and_delete(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.check_key(key)?;
        let mut v = vec![0u8; self.user_value_size()];
        match self
            .fd
            .lookup_and_delete(Some(key), &mut v)
            .map_err(|e| self.err(e))?
        {
            true => Ok(Some(v)),
            false => Ok(None),
        }
    }

    /// Per-CPU maps: one value per possible CPU (each `value_size` bytes).
    pub fn lookup_percpu(&self, key: &[u8]) -> Result<Option<Vec<Vec<u8>>>> {
        self.check_percpu("lookup_percpu")?;
        let stride = self.percpu_slot_size().max(1);
        Ok(self.lookup(key, 0)?.map(|v| {
            v.chunks(stride)
                .map(|c| c[..self.value_size as usize].to_vec())
                .collect()
        }))
    }

    /// Per-CPU maps: set every CPU's value (one `value_size`-byte value per
    /// possible CPU).
    pub fn update_percpu(&self, key: &[u8], values: &[Vec<u8>], flags: u64) -> Result<()> {
        self.check_percpu("update_percpu")?;
        let vs = self.value_size as usize;
        if let Some((cpu, v)) = values.iter().enumerate().find(|(_, v)| v.len() != vs) {
            return Err(self.usage(MapUsageError::PerCpuValueLen {
                cpu,
                given: v.len(),
                expected: vs,
            }));
        }
        self.update(key, &self.percpu_buf(values)?, flags)
    }

    fn check_percpu(&self, op: &'static str) -> Result<()> {
        if self.is_per_cpu() {
            return Ok(());
        }
        Err(self.usage(MapUsageError::NotPerCpu {
            op,
            map_type: self.map_type(),
            instead: "lookup/update (or get/set)",
        }))
    }

    /// One buffer of per-CPU slots from one value per possible CPU.
    fn percpu_buf<B: AsRef<[u8]>>(&self, values: &[B]) -> Result<Vec<u8>> {
        let stride = self.percpu_slot_size().max(1);
        let cpus = self.percpu_slots();
        if values.len() != cpus {
            return Err(self.usage(MapUsageError::PerCpuCount {
                given: values.len(),
                cpus,
            }));
        }
        let mut buf = vec![0u8; self.user_value_size()];
        for (slot, v) in buf.chunks_mut(stride).zip(values) {
            let v = v.as_ref();
            slot[..v.len()].copy_from_slice(v);
        }
        Ok(buf)
    }

    /// Typed lookup for plain-old-data keys and values; `None` when the key is
    /// absent. An error when `size_of::<K>()`/`size_of::<V>()` differ from the
    /// map's key/value sizes, or when the map is per-CPU (use
    /// [`Map::get_percpu`]).
    pub fn get<K: Pod, V: Pod>(&self, key: &K) -> Result<Option<V>> {
        self.check_key_type::<K>("get")?;
        self.check_value_type::<V>("get", false)?;
        Ok(self
            .lookup(key.as_bytes(), 0)?
            .and_then(|v| V::from_bytes(&v)))
    }

    /// Typed update (same size checks as [`Map::get`]).
    pub fn set<K: Pod, V: Pod>(&self, key: &K, value: &V, flags: u64) -> Result<()> {
        self.check_key_type::<K>("set")?;
        self.check_value_type::<V>("set", false)?;
        self.update(key.as_bytes(), value.as_bytes(), flags)
    }

    /// Typed delete (an error when `size_of::<K>()` is not the key size).
    pub fn remove<K: Pod>(&self, key: &K) -> Result<bool> {
        self.check_key_type::<K>("remove")?;
        self.delete(key.as_bytes())
    }

    /// Typed per-CPU lookup: one value per possible CPU (index = CPU number);
    /// `None` when the key is absent. An error when the map is not per-CPU or
    /// the sizes of `K`/`V` differ from the map's.
    pub fn get_percpu<K: Pod, V: Pod>(&self, key: &K) -> Result<Option<Vec<V>>> {
        self.check_key_type::<K>("get_percpu")?;
        self.check_value_type::<V>("get_percpu", true)?;
        let stride = self.percpu_slot_size().max(1);
        let Some(buf) = self.lookup(key.as_bytes(), 0)? else {
            return Ok(None);
        };
        let vals: Option<Vec<V>> = buf.chunks(stride).map(V::from_bytes).collect();
        vals.map(Some)
            .ok_or_else(|| self.usage(MapUsageError::ShortPerCpu { op: "get_percpu" }))
    }

    /// Typed per-CPU update: `values[i]` is CPU `i`'s value, one per possible
    /// CPU (see [`crate::kernel::possible_cpus`]).
    pub fn set_percpu<K: Pod, V: Pod>(&self, key: &K, values: &[V], flags: u64) -> Result<()> {
        self.check_key_type::<K>("set_percpu")?;
        self.check_value_type::<V>("set_percpu", true)?;
        let bytes: Vec<&[u8]> = values.iter().map(Pod::as_bytes).collect();
        self.update(key.as_bytes(), &self.percpu_buf(&bytes)?, flags)
    }

    /// Freeze the map: user space can no longer write it.
    pub fn freeze(&self) -> Result<()> {
        sys::map_freeze(self.fd()).map_err(|e| self.err(e))
    }

    /// Pin the map on bpffs.
    pub fn pin(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        sys::obj_pin(self.fd(), path)
            .map_err(|e| Error::sys(format!("pin map {} at {}", self.name, path.display()), e))
    }

    /// The memory-mapped contents of a global-data map (`.data`, `.bss`,
    /// `.rodata`), if it was mapped.
    pub fn data(&self) -> Option<&[u8]> {
        self.mmap
            .as_ref()
            .map(|m| &m.as_slice()[..self.value_size as usize])
    }

    /// The memory-mapped contents of a global-data map viewed as a `T` (a
    /// struct laid out like the section, as `tinybpf gen skeleton`
    /// generates): `None` if the map is not memory-mapped or is smaller than
    /// `T`. BPF programs may change the values while you hold the reference.
    pub fn data_as<T: Pod>(&self) -> Option<&T> {
        sys::pod::view(self.data()?)
    }

    /// The memory-mapped contents of a writable `.data`/`.bss` map as a
    /// mutable `T`: `None` if the map is not mapped writable (`.rodata` is
    /// frozen) or is smaller than `T`.
    pub fn data_as_mut<T: Pod>(&mut self) -> Option<&mut T> {
        let size = self.value_size as usize;
        let m = self.mmap.as_mut()?.as_mut_slice()?;
        sys::pod::view_mut(m.get_mut(..size)?)
    }

    /// Write into a memory-mapped `.data`/`.bss` map at `offset`.
    pub fn write_data(&mut self, offset: usize, bytes: &[u8]) -> Result<()> {
        let size = self.value_size as usize;
        let name = self.name.clone();
        let m = self
            .mmap
            .as_mut()
            .and_then(|m| m.as_mut_slice())
            .ok_or_else(|| Error::Invalid(format!("map {name} is not memory-mapped writable")))?;
        let end = offset.checked_add(bytes.len()).filter(|&e| e <= size);
        let Some(end) = end else {
            return Err(Error::Invalid(format!("write past the end of map {name}")));
        };
        m[offset..end].copy_from_slice(bytes);
        Ok(())
    }

    /// Raw fd (for users bringing their own syscalls).
    pub fn raw_fd(&self) -> RawFd {
        self.fd.as_fd().as_raw_fd()
    }
}

/// Iterator over a map's keys.
pub struct Keys<'a> {
    map: &'a Map,
    prev: Option<Vec<u8>>,
    done: bool,
}

impl Iterator for Keys<'_> {
    type Item = Result<Vec<u8>>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.map.next_key(self.prev.as_deref()) {
            Ok(Some(k)) => {
                self.prev = Some(k.clone());
                Some(Ok(k))
            }
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}
