//! A loaded object: its programs, maps, BTF fd and the links made by
//! attaching. Built only by the load pipeline (see `open.rs` for open →
//! adjust → load); dropping it detaches links, then closes programs, maps
//! and BTF, in that order.

use crate::error::{Error, Result};
use crate::link::Link;
use crate::map::Map;
use crate::program::Program;
use std::os::fd::{AsFd, OwnedFd};

/// A loaded object: its programs, maps, BTF and the links made by attaching.
/// Made by [`OpenObject::load`](crate::OpenObject::load). Dropping it
/// detaches links, then closes programs, maps and BTF, in that order
/// (pinned maps, programs and links stay in the kernel).
///
/// ```no_run
/// # fn main() -> tinybpf::Result<()> {
/// let mut obj = tinybpf::OpenObject::open("bpf/hello.bpf.o")?.load()?;
/// for p in obj.programs() {
///     println!("{} (section {})", p.name(), p.section());
/// }
/// let n = obj.attach_all()?; // every program whose section says where
/// println!("{n} attached: {:?}", obj.links().iter().map(|l| l.description()).collect::<Vec<_>>());
/// obj.detach_all(); // or just drop the object
/// # Ok(()) }
/// ```
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
    /// An object made of what a load created (the load pipeline's last
    /// step; the only way an `Object` is built).
    pub(crate) fn from_parts(
        name: String,
        btf_fd: Option<OwnedFd>,
        maps: Vec<Map>,
        programs: Vec<Program>,
    ) -> Object {
        Object {
            links: Vec::new(),
            programs,
            maps,
            btf_fd,
            name,
        }
    }

    /// The object's name (`hello` for `hello.bpf.o`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Every loaded program.
    pub fn programs(&self) -> &[Program] {
        &self.programs
    }

    /// Every map, including the data maps (`.rodata`, `.data`, `.bss`, `.kconfig`).
    pub fn maps(&self) -> &[Map] {
        &self.maps
    }

    /// The links made by [`Object::attach_all`] and [`Object::attach`].
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

    /// Attach every program whose section says where, and register every
    /// struct_ops map ([`Object::attach_struct_ops`]); keep the links in the
    /// object. Returns how many links were made.
    pub fn attach_all(&mut self) -> Result<usize> {
        let mut n = 0;
        for p in &self.programs {
            if p.auto_attachable() && crate::usdt::parse_section(&p.section).is_none() {
                let l = p.attach()?;
                log::debug!("attached {}", l.description());
                self.links.push(l);
                n += 1;
            }
        }
        // SEC("usdt/PATH:PROVIDER:NAME"): one link per probe site.
        #[cfg(feature = "auto-uprobe")]
        {
            let usdt = crate::usdt::auto_attach(&self.programs, &self.maps)?;
            n += usdt.len();
            self.links.extend(usdt);
        }
        #[cfg(not(feature = "auto-uprobe"))]
        if let Some(p) =
            (self.programs.iter()).find(|p| crate::usdt::parse_section(&p.section).is_some())
        {
            return Err(p.no_auto_uprobe());
        }
        let struct_ops: Vec<String> = self
            .maps
            .iter()
            .filter(|m| m.struct_ops().is_some())
            .map(|m| m.name().to_string())
            .collect();
        for m in struct_ops {
            self.attach_struct_ops(&m)?;
            n += 1;
        }
        Ok(n)
    }

    /// Attach one program by name and keep the link in the object.
    pub fn attach(&mut self, program: &str) -> Result<&Link> {
        let p = self.program(program).ok_or_else(|| Error::NotFound {
            kind: "program",
            name: program.into(),
        })?;
        #[cfg(not(feature = "auto-uprobe"))]
        if crate::usdt::parse_section(&p.section).is_some() {
            return Err(p.no_auto_uprobe());
        }
        #[cfg(feature = "auto-uprobe")]
        if let Some((path, provider, name)) = crate::usdt::parse_section(&p.section) {
            // One link per probe site; the first is returned.
            let (path, provider, name) = (path.to_string(), provider.to_string(), name.to_string());
            let before = self.links.len();
            let opts = crate::usdt::UsdtOpts::default();
            self.attach_usdt(program, &path, &provider, &name, &opts)?;
            return Ok(&self.links[before]);
        }
        let l = p.attach()?;
        self.links.push(l);
        Ok(self.links.last().expect("just pushed"))
    }

    /// Register a struct_ops map (a `SEC(".struct_ops")` or
    /// `SEC(".struct_ops.link")` variable, e.g. a `tcp_congestion_ops`):
    /// its value, with the fds of its programs, is written to the map; a
    /// `.struct_ops.link` map is then registered through a BPF link, a
    /// `.struct_ops` one by that write. The link is kept in the object;
    /// dropping it (or the object) unregisters the map.
    pub fn attach_struct_ops(&mut self, map: &str) -> Result<&Link> {
        let m = self.map(map).ok_or_else(|| Error::NotFound {
            kind: "map",
            name: map.into(),
        })?;
        let prog_fd = |p: &str| {
            self.program(p)
                .map(|p| std::os::fd::AsRawFd::as_raw_fd(&p.fd()))
        };
        let l = crate::link::attach_struct_ops(m, map, &prog_fd)?;
        self.links.push(l);
        Ok(self.links.last().expect("just pushed"))
    }

    /// Attach `program` (a `SEC("usdt")` program using `<bpf/usdt.bpf.h>`) to
    /// USDT probe `provider:name` of `binary`; the links stay in the object.
    /// Returns how many probe sites were attached.
    pub fn attach_usdt(
        &mut self,
        program: &str,
        binary: &str,
        provider: &str,
        name: &str,
        opts: &crate::usdt::UsdtOpts,
    ) -> Result<usize> {
        let p = self.program(program).ok_or_else(|| Error::NotFound {
            kind: "program",
            name: program.into(),
        })?;
        let specs = crate::usdt::specs_map(&self.maps, program)?;
        let links = p.attach_usdt(specs, binary, provider, name, opts)?;
        let n = links.len();
        self.links.extend(links);
        Ok(n)
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
