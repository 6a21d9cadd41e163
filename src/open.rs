//! The object lifecycle, from the top: open (parse; no syscalls) → adjust
//! (globals, map sizes, which programs load) → load (the pipeline in
//! `load/`: BTF, relocations, maps, programs) → an [`Object`] to attach
//! (links) → drop (links, programs, maps, BTF: in that order).

use crate::error::{Error, Result};
pub use crate::load::LoadOptions;
use crate::load::Loader;
use crate::obj::{MapSpec, ObjectSpec};
use crate::object::Object;
use crate::sys;
use std::path::Path;

/// An object opened and parsed, not yet loaded: adjust it, then
/// [`load`](Self::load).
///
/// The lifecycle from the top: open (parse; no syscalls) → adjust (globals,
/// map sizes, which programs load, [`LoadOptions`]) → load (BTF,
/// relocations, maps, programs) → an [`Object`] to attach (links) → drop
/// (links, programs, maps, BTF: in that order). A failed load leaves nothing
/// in the kernel.
///
/// ```no_run
/// use tinybpf::OpenObject;
///
/// # fn main() -> tinybpf::Result<()> {
/// let mut open = OpenObject::open("bpf/globals.bpf.o")?;
/// for name in open.program_names() {
///     println!("program {name}");
/// }
/// open.set_global_value("multiplier", &3u32)?; // `const volatile __u32 multiplier`
/// open.load_only(&["xdp_count"])?; // the others are not loaded
/// open.options_mut().log_level = 2; // a verifier log even on success
/// let obj = open.load()?;
/// assert!(obj.program("xdp_calls").is_none());
/// # Ok(()) }
/// ```
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
            path: path.to_path_buf(),
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

    /// The options [`OpenObject::load`] will use, to change in place.
    pub fn options_mut(&mut self) -> &mut LoadOptions {
        &mut self.opts
    }

    /// Choose the program (by kernel id) and function an `freplace`
    /// program replaces; `func` `None` takes the name in its section
    /// (`freplace/FUNC`). The target must have been loaded with BTF.
    pub fn set_attach_target(
        &mut self,
        program: &str,
        target_prog_id: u32,
        func: Option<&str>,
    ) -> Result<()> {
        let p = self.spec.program(program).ok_or_else(|| Error::NotFound {
            kind: "program",
            name: program.into(),
        })?;
        if p.kind.as_ref().map(|k| k.prog_type) != Some(crate::obj::section::prog_type::EXT) {
            return Err(Error::Invalid(format!(
                "program {program} (section {}) is not an freplace program: only those take a target program",
                p.section
            )));
        }
        self.opts.attach_prog_targets.insert(
            program.to_string(),
            crate::load::freplace::AttachProgTarget {
                prog_id: target_prog_id,
                func: func.map(str::to_string),
            },
        );
        Ok(())
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
        Loader::new(self.spec, &self.opts).run()
    }
}

impl Object {
    /// Open, parse and load `path` with default options.
    pub fn load_file(path: impl AsRef<Path>) -> Result<Object> {
        OpenObject::open(path)?.load()
    }
}
