//! The object lifecycle: open (parse; no syscalls) → adjust (globals, map
//! sizes, which programs load) → load (maps, BTF, relocations, programs) →
//! attach (links) → drop (links, programs, maps, BTF: in that order).

use crate::error::{Error, Result};
use crate::link::Link;
use crate::linker::{self, ExtInfo, LinkedProgram};
use crate::map::Map;
use crate::obj::maps::{map_type, DataKind, Pinning, BPF_F_MMAPABLE};
use crate::obj::{MapSpec, ObjectSpec, SlotTarget};
use crate::program::Program;
use crate::sys::{self, Mmap};
use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

/// Options of a load.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// Verifier log level used when a program is rejected (1 or 2).
    pub log_level: u32,
    /// BTF to relocate CO-RE against instead of the running kernel's (like
    /// libbpf's `btf_custom_path`). BTF attach targets (tp_btf, fentry, lsm,
    /// iter, ...) are still looked up in the running kernel.
    pub target_btf: Option<PathBuf>,
    /// Where `LIBBPF_PIN_BY_NAME` maps are pinned (default /sys/fs/bpf).
    pub pin_root: PathBuf,
    /// Write each program's final instructions to `DIR/<name>.insns` before
    /// BPF_PROG_LOAD.
    pub dump_insns: Option<PathBuf>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            log_level: 1,
            target_btf: None,
            pin_root: PathBuf::from("/sys/fs/bpf"),
            dump_insns: None,
        }
    }
}

/// An object opened and parsed, not yet loaded: adjust it, then [`load`](Self::load).
#[derive(Debug)]
pub struct OpenObject {
    spec: ObjectSpec,
    opts: LoadOptions,
}

impl OpenObject {
    /// Open and parse `path` (no syscalls besides reading the file).
    pub fn open(path: impl AsRef<Path>) -> Result<OpenObject> {
        let path = path.as_ref();
        let data = std::fs::read(path).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })?;
        let name = crate::obj::object_name(&path.to_string_lossy());
        OpenObject::from_bytes(&name, &data)
    }

    /// Parse an object from memory; `name` prefixes data map names. `data`
    /// may have any alignment (e.g. `include_bytes!`): the ELF reader needs
    /// 8-byte alignment, so unaligned input is parsed from an aligned copy.
    pub fn from_bytes(name: &str, data: &[u8]) -> Result<OpenObject> {
        let spec = if data.as_ptr().align_offset(8) == 0 {
            ObjectSpec::parse(name, data)?
        } else {
            let mut buf = vec![0u8; data.len() + 8];
            let off = buf.as_ptr().align_offset(8).min(8);
            let copy = &mut buf[off..off + data.len()];
            copy.copy_from_slice(data);
            ObjectSpec::parse(name, copy)?
        };
        Ok(OpenObject {
            spec,
            opts: LoadOptions::default(),
        })
    }

    /// The parsed object.
    pub fn spec(&self) -> &ObjectSpec {
        &self.spec
    }

    pub fn options_mut(&mut self) -> &mut LoadOptions {
        &mut self.opts
    }

    /// Program names.
    pub fn program_names(&self) -> impl Iterator<Item = &str> {
        self.spec.programs.iter().map(|p| p.name.as_str())
    }

    /// Choose whether a program is loaded.
    pub fn set_autoload(&mut self, program: &str, load: bool) -> Result<()> {
        let p = self
            .spec
            .programs
            .iter_mut()
            .find(|p| p.name == program)
            .ok_or_else(|| Error::NotFound {
                kind: "program",
                name: program.into(),
            })?;
        p.autoload = load;
        Ok(())
    }

    /// Load only the named programs.
    pub fn load_only(&mut self, programs: &[&str]) -> Result<()> {
        for n in programs {
            if self.spec.program(n).is_none() {
                return Err(Error::NotFound {
                    kind: "program",
                    name: n.to_string(),
                });
            }
        }
        for p in &mut self.spec.programs {
            p.autoload = programs.contains(&p.name.as_str());
        }
        Ok(())
    }

    /// Change a map's `max_entries` before it is created.
    pub fn set_max_entries(&mut self, map: &str, n: u32) -> Result<()> {
        let m = self.map_spec_mut(map)?;
        if m.data.is_some() {
            return Err(Error::Invalid(format!(
                "map {map} holds global data; its size is fixed"
            )));
        }
        m.max_entries = n;
        Ok(())
    }

    fn map_spec_mut(&mut self, map: &str) -> Result<&mut MapSpec> {
        self.spec
            .maps
            .iter_mut()
            .find(|m| m.name == map || m.symbol == map)
            .ok_or_else(|| Error::NotFound {
                kind: "map",
                name: map.into(),
            })
    }

    /// Set a global variable (`.rodata`, `.data`, `.bss`) by name before load:
    /// `const volatile` configuration, initial counters, ...
    pub fn set_global(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        let (sec, off, size) = self
            .spec
            .globals
            .iter()
            .find(|g| g.name == name)
            .map(|g| (g.section.clone(), g.offset, g.size))
            .ok_or_else(|| Error::NotFound {
                kind: "global variable",
                name: name.into(),
            })?;
        if bytes.len() as u64 != size {
            return Err(Error::Invalid(format!(
                "global {name} is {size} bytes; {} given",
                bytes.len()
            )));
        }
        let m = self
            .spec
            .maps
            .iter_mut()
            .find(|m| m.section == sec && m.data.is_some())
            .ok_or_else(|| Error::NotFound {
                kind: "data section",
                name: sec.clone(),
            })?;
        if m.initial.len() < m.value_size as usize {
            m.initial.resize(m.value_size as usize, 0);
        }
        let slot = usize::try_from(off)
            .ok()
            .and_then(|o| m.initial.get_mut(o..o.checked_add(bytes.len())?))
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "global {name} at {off}+{size} lies outside {sec} ({} bytes)",
                    m.value_size
                ))
            })?;
        slot.copy_from_slice(bytes);
        Ok(())
    }

    /// Set a global variable from a plain-old-data value.
    pub fn set_global_value<T: sys::Pod>(&mut self, name: &str, value: &T) -> Result<()> {
        self.set_global(name, value.as_bytes())
    }

    /// Load everything: BTF, CO-RE relocations, maps, programs. On any failure,
    /// everything created so far is closed (and pins created are removed).
    pub fn load(self) -> Result<Object> {
        crate::loader::load(self.spec, &self.opts)
    }
}

/// A loaded object. Dropping it detaches links, then closes programs, maps and
/// BTF, in that order.
#[derive(Debug)]
pub struct Object {
    // Field order is drop order.
    pub(crate) links: Vec<Link>,
    pub(crate) programs: Vec<Program>,
    pub(crate) maps: Vec<Map>,
    pub(crate) btf_fd: Option<OwnedFd>,
    pub(crate) name: String,
}

impl Object {
    /// Open, parse and load `path` with default options.
    pub fn load_file(path: impl AsRef<Path>) -> Result<Object> {
        OpenObject::open(path)?.load()
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn programs(&self) -> &[Program] {
        &self.programs
    }

    pub fn maps(&self) -> &[Map] {
        &self.maps
    }

    pub fn links(&self) -> &[Link] {
        &self.links
    }

    /// A program by function name.
    pub fn program(&self, name: &str) -> Option<&Program> {
        self.programs.iter().find(|p| p.name == name)
    }

    /// A map by its full name ([`Map::name`]: the variable, or `hello.rodata`
    /// for data maps) or its name in the object ([`Map::symbol`]: the
    /// variable, or the data section such as `.rodata`). Names longer than
    /// the kernel's 15 bytes are matched in full, never by their truncation.
    pub fn map(&self, name: &str) -> Option<&Map> {
        self.map_index(name).map(|i| &self.maps[i])
    }

    fn map_index(&self, name: &str) -> Option<usize> {
        self.maps
            .iter()
            .position(|m| m.name() == name)
            .or_else(|| self.maps.iter().position(|m| m.symbol() == name))
    }

    /// A map by name, mutably (to write memory-mapped `.data`/`.bss`).
    pub fn map_mut(&mut self, name: &str) -> Option<&mut Map> {
        self.map_index(name).map(|i| &mut self.maps[i])
    }

    /// The object's BTF fd, if its BTF was loaded.
    pub fn btf_fd(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
        self.btf_fd.as_ref().map(|f| f.as_fd())
    }

    /// Attach every program whose section says where; keep the links in the
    /// object. Returns how many were attached.
    pub fn attach_all(&mut self) -> Result<usize> {
        let mut n = 0;
        for p in &self.programs {
            if p.auto_attachable() {
                let l = p.attach()?;
                log::debug!("attached {}", l.description());
                self.links.push(l);
                n += 1;
            }
        }
        Ok(n)
    }

    /// Attach one program by name and keep the link in the object.
    pub fn attach(&mut self, program: &str) -> Result<&Link> {
        let p = self.program(program).ok_or_else(|| Error::NotFound {
            kind: "program",
            name: program.into(),
        })?;
        let l = p.attach()?;
        self.links.push(l);
        Ok(self.links.last().expect("just pushed"))
    }

    /// Take the links out (they then live as long as the caller keeps them).
    pub fn take_links(&mut self) -> Vec<Link> {
        std::mem::take(&mut self.links)
    }

    /// Detach every link now (in parallel when there are several: closing a
    /// perf-event link waits for an RCU grace period in the kernel).
    pub fn detach_all(&mut self) {
        close_links(std::mem::take(&mut self.links));
    }
}

impl Drop for Object {
    fn drop(&mut self) {
        self.detach_all();
        log::debug!("closing object {}", self.name);
    }
}

/// Close links, several at once when there are more than two.
pub(crate) fn close_links(links: Vec<Link>) {
    if links.len() <= 2 {
        drop(links);
        return;
    }
    std::thread::scope(|s| {
        for l in links {
            s.spawn(move || drop(l));
        }
    });
}

// Loader internals kept here for access to private fields.
pub(crate) fn new_object(name: String) -> Object {
    Object {
        links: Vec::new(),
        programs: Vec::new(),
        maps: Vec::new(),
        btf_fd: None,
        name,
    }
}

pub(crate) fn mmap_data_map(m: &mut Map, spec: &MapSpec) -> Result<()> {
    if spec.map_flags & BPF_F_MMAPABLE == 0 {
        return Ok(());
    }
    let writable = spec.data != Some(DataKind::Rodata) && spec.data != Some(DataKind::Kconfig);
    let len = (spec.value_size as usize).max(1);
    let mm = Mmap::map_fd(m.fd(), len, writable, 0)
        .map_err(|e| Error::sys(format!("mmap map {}", spec.name), e))?;
    m.set_mmap(mm);
    Ok(())
}

// Helpers used by the loader.
pub(crate) fn c_license(s: &str) -> CString {
    CString::new(s.replace('\0', "")).unwrap_or_default()
}

pub(crate) fn slot_fd(obj: &Object, spec: &ObjectSpec, t: &SlotTarget) -> Option<i32> {
    match t {
        SlotTarget::Program(n) => obj.program(n).map(|p| p.fd().as_raw_fd()),
        SlotTarget::Map(n) => {
            let i = spec.maps.iter().position(|m| &m.symbol == n)?;
            obj.maps.get(i).map(|m| m.fd().as_raw_fd())
        }
    }
}

pub(crate) fn is_prog_array(t: u32) -> bool {
    t == map_type::PROG_ARRAY
}

/// Where a map pinned by name lives: `<pin root>/<full map name>` (as libbpf
/// does); `None` for maps not pinned. A name that is not a single path
/// component is an error rather than a path outside the pin root.
pub(crate) fn pin_path(opts: &LoadOptions, spec: &MapSpec) -> Result<Option<PathBuf>> {
    if spec.pinning != Pinning::ByName {
        return Ok(None);
    }
    let n = spec.name.as_str();
    if n.is_empty() || n == "." || n == ".." || n.contains('/') || n.contains('\0') {
        return Err(Error::Invalid(format!(
            "map {n:?}: pinned by name, but its name is not usable as a file name in {}",
            opts.pin_root.display()
        )));
    }
    Ok(Some(opts.pin_root.join(n)))
}

pub(crate) fn link(spec: &ObjectSpec, i: usize, ext: &ExtInfo) -> Result<LinkedProgram> {
    Ok(linker::link_program(spec, i, ext)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pin_path_is_the_full_name_under_the_root_and_never_escapes_it() {
        let opts = LoadOptions {
            pin_root: PathBuf::from("/sys/fs/bpf/x"),
            ..Default::default()
        };
        let spec = |name: &str| MapSpec {
            name: name.into(),
            pinning: Pinning::ByName,
            ..Default::default()
        };
        assert_eq!(
            pin_path(&opts, &spec("cilium_ratelimit_metrics")).unwrap(),
            Some(PathBuf::from("/sys/fs/bpf/x/cilium_ratelimit_metrics"))
        );
        let unpinned = MapSpec {
            name: "m".into(),
            ..Default::default()
        };
        assert_eq!(pin_path(&opts, &unpinned).unwrap(), None);
        for bad in ["", ".", "..", "../../etc/x", "a/b", "a\0b"] {
            let e = pin_path(&opts, &spec(bad)).unwrap_err().to_string();
            assert!(e.contains("not usable as a file name"), "{bad:?}: {e}");
        }
    }
}
