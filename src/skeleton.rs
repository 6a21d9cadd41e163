//! Run-time support of generated skeletons (`tinybpf gen skeleton`,
//! [`crate::skel::Builder`]): the typed map views and the open-phase handles
//! every skeleton uses, kept here once instead of in each generated file.
//! Skeletons call these; using them directly is possible but rarely useful.

use crate::{Map, OpenObject, Pod, Result};
use std::borrow::Cow;
use std::marker::PhantomData;

/// Bytes up to the first NUL as text (invalid UTF-8 replaced): how a
/// skeleton reads a C `char[N]` member.
pub fn c_str(b: &[u8]) -> Cow<'_, str> {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end])
}

/// The initial contents of global section `section` (`.rodata`, `.data`,
/// `.bss`, ...) of `obj` as `T` (zero-extended), or `zero` when the object
/// has no such section.
pub fn initial<T: Pod>(obj: &OpenObject, section: &str, zero: T) -> T {
    let Some(m) = obj
        .spec()
        .maps
        .iter()
        .find(|m| m.section == section && m.data.is_some())
    else {
        return zero;
    };
    let mut b = m.initial.clone();
    b.resize(core::mem::size_of::<T>(), 0);
    T::from_bytes(&b).unwrap_or(zero)
}

/// A map with typed keys and values (`Deref`s to the [`Map`]).
#[derive(Clone, Copy)]
pub struct TypedMap<'a, K, V> {
    map: &'a Map,
    _t: PhantomData<(K, V)>,
}

impl<'a, K: Pod, V: Pod> TypedMap<'a, K, V> {
    /// `map` seen with key type `K` and value type `V` (sizes are checked
    /// on every access).
    pub fn new(map: &'a Map) -> Self {
        TypedMap {
            map,
            _t: PhantomData,
        }
    }
    /// The value of `key`.
    pub fn get(&self, key: &K) -> Result<Option<V>> {
        self.map.get(key)
    }
    /// Set `key` to `value` (`flags`: [`crate::map_flags`]).
    pub fn set(&self, key: &K, value: &V, flags: u64) -> Result<()> {
        self.map.set(key, value, flags)
    }
    /// Delete `key`; whether it was there.
    pub fn remove(&self, key: &K) -> Result<bool> {
        self.map.remove(key)
    }
    /// The keys.
    pub fn keys(&self) -> impl Iterator<Item = Result<K>> + 'a {
        typed_keys(self.map)
    }
}

impl<K, V> core::ops::Deref for TypedMap<'_, K, V> {
    type Target = Map;
    fn deref(&self) -> &Map {
        self.map
    }
}

/// A per-CPU map with typed keys and values (one value per possible CPU).
#[derive(Clone, Copy)]
pub struct PerCpuMap<'a, K, V> {
    map: &'a Map,
    _t: PhantomData<(K, V)>,
}

impl<'a, K: Pod, V: Pod> PerCpuMap<'a, K, V> {
    /// Per-CPU `map` seen with key type `K` and value type `V`.
    pub fn new(map: &'a Map) -> Self {
        PerCpuMap {
            map,
            _t: PhantomData,
        }
    }
    /// The values of `key`, one per possible CPU.
    pub fn get(&self, key: &K) -> Result<Option<Vec<V>>> {
        self.map.get_percpu(key)
    }
    /// Set `key` to one value per possible CPU.
    pub fn set(&self, key: &K, values: &[V], flags: u64) -> Result<()> {
        self.map.set_percpu(key, values, flags)
    }
    /// Delete `key`; whether it was there.
    pub fn remove(&self, key: &K) -> Result<bool> {
        self.map.remove(key)
    }
    /// The keys.
    pub fn keys(&self) -> impl Iterator<Item = Result<K>> + 'a {
        typed_keys(self.map)
    }
}

impl<K, V> core::ops::Deref for PerCpuMap<'_, K, V> {
    type Target = Map;
    fn deref(&self) -> &Map {
        self.map
    }
}

/// The keys of `map` as `K` (keys of another size are skipped).
fn typed_keys<'a, K: Pod>(map: &'a Map) -> impl Iterator<Item = Result<K>> + 'a {
    map.keys().filter_map(|k| match k {
        Ok(b) => K::from_bytes(&b).map(Ok),
        Err(e) => Some(Err(e)),
    })
}

/// A program before load.
pub struct OpenProgram<'a> {
    obj: &'a mut OpenObject,
    name: &'static str,
}

impl<'a> OpenProgram<'a> {
    /// Program `name` of `obj`.
    pub fn new(obj: &'a mut OpenObject, name: &'static str) -> Self {
        OpenProgram { obj, name }
    }
    /// The program's name.
    pub fn name(&self) -> &'static str {
        self.name
    }
    /// Whether the program is loaded (all are by default).
    pub fn set_autoload(self, load: bool) -> Result<()> {
        self.obj.set_autoload(self.name, load)
    }
}

/// A map before load.
pub struct OpenMap<'a> {
    obj: &'a mut OpenObject,
    name: &'static str,
}

impl<'a> OpenMap<'a> {
    /// Map `name` (its name in the object) of `obj`.
    pub fn new(obj: &'a mut OpenObject, name: &'static str) -> Self {
        OpenMap { obj, name }
    }
    /// The map's name in the object.
    pub fn name(&self) -> &'static str {
        self.name
    }
    /// Change the map's `max_entries`.
    pub fn set_max_entries(self, n: u32) -> Result<()> {
        self.obj.set_max_entries(self.name, n)
    }
}
