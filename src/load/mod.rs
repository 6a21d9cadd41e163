//! The load pipeline: turn an [`ObjectSpec`] into kernel objects, one stage
//! per method of [`Loader`], in this order:
//!
//! 1. RLIMIT_MEMLOCK, only where the kernel needs it ([`memlock`]);
//! 2. `.ksyms` externs resolved ([`ksyms`]), `.struct_ops*` variables laid
//!    out against the kernel's BTF ([`struct_ops`]);
//! 3. the object's BTF into the kernel ([`btf`]);
//! 4. `.kconfig` values of the running kernel ([`kconfig`]);
//! 5. maps: inner templates first, data written and `.rodata` frozen, pins
//!    ([`maps`]);
//! 6. CO-RE against the target BTF ([`target`], the pure driver in
//!    [`crate::reloc`]): it rewrites instructions only, so it comes after
//!    the maps, and the kernel's BTF it needs can be read on another thread
//!    meanwhile ([`target::KernelBtfPrefetch`]);
//! 7. programs: linked, fds patched, log retry ([`programs`], [`log`]);
//! 8. prog-array and map-in-map slots ([`slots`]).
//!
//! A failure anywhere drops what was created (every fd is owned by the
//! [`Loader`]) and removes the pins this load made, so nothing is left in
//! the kernel. Only [`crate::open`] calls this module; the [`Object`] it
//! returns is built through [`Object::from_parts`].

pub(crate) mod btf;
pub(crate) mod freplace;
pub(crate) mod kconfig;
pub(crate) mod ksyms;
pub(crate) mod log;
pub(crate) mod map_compat;
pub(crate) mod maps;
pub(crate) mod memlock;
pub(crate) mod programs;
pub(crate) mod slots;
pub(crate) mod struct_ops;
pub(crate) mod target;
pub(crate) mod token;

use crate::error::Result;
use crate::map::Map;
use crate::obj::ObjectSpec;
use crate::object::Object;
use crate::program::Program;
use crate::reloc::link::ExtInfo;
use crate::reloc::{CoreTarget, Selection};
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;

/// Options of a load: start from [`LoadOptions::default`] and chain the
/// setters, e.g. `LoadOptions::default().target_btf(path).log_level(2)`.
/// The fields stay readable and writable (through
/// [`OpenObject::options_mut`](crate::OpenObject::options_mut)); new ones
/// may be added, so the struct cannot be built by a literal outside tinybpf.
#[derive(Clone, Debug)]
#[non_exhaustive]
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
    /// How many threads load programs (the kernel verifies independent
    /// programs concurrently): 1 loads them one by one; 0, the default,
    /// means one per available CPU (counted only when helper threads are
    /// about to start). The result does not depend on it: the same programs
    /// in object order, or the error of the first failing program in object
    /// order (with `dump_insns`, programs after it may be dumped too).
    /// Anything but 1 also reads the running kernel's BTF (for CO-RE) on
    /// a thread of its own while the object's BTF and maps are created
    /// (CO-RE comes after the maps either way). Without the crate's
    /// `parallel-load` feature (on by default) every value means 1.
    pub jobs: usize,
    /// A bpffs mounted with `delegate_*` options to create a BPF token from
    /// (Linux 6.9+; loading inside a user namespace). `None`: the path in
    /// `LIBBPF_BPF_TOKEN_PATH` when set and not empty, else no token.
    pub token_path: Option<PathBuf>,
    /// Target programs of `freplace` programs, by program name (see
    /// [`crate::OpenObject::set_attach_target`]).
    pub attach_prog_targets: std::collections::BTreeMap<String, freplace::AttachProgTarget>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            log_level: 1,
            target_btf: None,
            pin_root: PathBuf::from("/sys/fs/bpf"),
            dump_insns: None,
            jobs: 0,
            token_path: None,
            attach_prog_targets: Default::default(),
        }
    }
}

impl LoadOptions {
    /// The verifier log level used when a program is rejected (1 or 2;
    /// default 1).
    #[must_use]
    pub fn log_level(mut self, level: u32) -> Self {
        self.log_level = level;
        self
    }
    /// Relocate CO-RE against this BTF file (raw BTF or an ELF file with a
    /// `.BTF` section) instead of the running kernel's.
    #[must_use]
    pub fn target_btf(mut self, path: impl Into<PathBuf>) -> Self {
        self.target_btf = Some(path.into());
        self
    }
    /// Pin `LIBBPF_PIN_BY_NAME` maps under this directory (default
    /// `/sys/fs/bpf`).
    #[must_use]
    pub fn pin_root(mut self, dir: impl Into<PathBuf>) -> Self {
        self.pin_root = dir.into();
        self
    }
    /// Write each program's final instructions to `DIR/<name>.insns`
    /// before loading it.
    #[must_use]
    pub fn dump_insns(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dump_insns = Some(dir.into());
        self
    }
}

/// One load in progress. Field order is drop order on failure: pins made
/// are removed first, then programs, maps and the BTF fd are closed.
pub(crate) struct Loader<'a> {
    pins: maps::PinGuard,
    programs: Vec<Program>,
    maps: Vec<Map>,
    btf_fd: Option<OwnedFd>,
    token: Option<OwnedFd>,
    btf: btf::ObjBtf,
    ext: ExtInfo,
    ksyms: ksyms::Ksyms,
    struct_ops: struct_ops::StructOps,
    spec: ObjectSpec,
    opts: &'a LoadOptions,
    /// The kernel's BTF being read on another thread (see [`Loader::run`]).
    prefetch: Option<target::KernelBtfPrefetch>,
}

impl<'a> Loader<'a> {
    /// A load of `spec` with `opts`; nothing happens until [`run`](Self::run).
    pub(crate) fn new(spec: ObjectSpec, opts: &'a LoadOptions) -> Self {
        Loader {
            pins: maps::PinGuard::default(),
            programs: Vec::new(),
            maps: Vec::new(),
            btf_fd: None,
            token: None,
            btf: btf::ObjBtf::default(),
            ext: ExtInfo::default(),
            ksyms: ksyms::Ksyms::default(),
            struct_ops: struct_ops::StructOps::default(),
            spec,
            opts,
            prefetch: None,
        }
    }

    /// Every stage, in order; on error everything made so far is undone.
    pub(crate) fn run(mut self) -> Result<Object> {
        ::log::debug!("loading object {}", self.spec.name);
        // CO-RE changes only instructions, so it runs after the maps, in
        // every case (the same stage order, hence the same first error,
        // whatever `jobs` is). Against the running kernel it needs the
        // kernel's BTF parsed (most of the user-space time of a load): with
        // more than one job that is read on another thread from here on,
        // while this one uploads the object's BTF and creates the maps.
        if self.opts.jobs != 1
            && cfg!(feature = "parallel-load")
            && self.opts.target_btf.is_none()
            && crate::reloc::needs_target(&self.spec, Selection::Autoload)
        {
            self.prefetch = target::KernelBtfPrefetch::start();
        }
        memlock::ensure_memlock();
        self.token = token::open(self.opts)?;
        self.ksyms = ksyms::Ksyms::resolve(&self.spec)?;
        self.struct_ops = struct_ops::StructOps::prepare(&self.spec)?;
        self.upload_btf()?;
        self.fill_kconfig()?;
        self.create_maps()?;
        self.relocate()?;
        self.prefetch = None;
        self.load_programs()?;
        self.fill_slots()?;
        Ok(self.finish())
    }

    /// CO-RE: relocate the code of the programs that load (and their
    /// subprograms) against the target BTF: the custom BTF file when given
    /// (it replaces the kernel's BTF for CO-RE only), else the running kernel.
    fn relocate(&mut self) -> Result<()> {
        if !crate::reloc::needs_target(&self.spec, Selection::Autoload) {
            return Ok(());
        }
        let target = match &self.opts.target_btf {
            Some(p) => CoreTarget::file(p)?,
            None => CoreTarget::kernel()?,
        };
        self.btf.core = crate::reloc::relocate_spec(&mut self.spec, Selection::Autoload, &target)?;
        Ok(())
    }

    /// The object's BTF into the kernel (going on without it if rejected).
    fn upload_btf(&mut self) -> Result<()> {
        let core = std::mem::take(&mut self.btf.core);
        self.btf = btf::upload(&self.spec, core, self.token.as_ref().map(|t| t.as_fd()))?;
        self.btf_fd = self.btf.fd.take_fd();
        self.ext = self.btf.ext_info.clone().unwrap_or_default();
        Ok(())
    }

    /// `.kconfig` values, before the map is created (and frozen).
    fn fill_kconfig(&mut self) -> Result<()> {
        kconfig::fill(&mut self.spec)
    }

    fn create_maps(&mut self) -> Result<()> {
        for i in 0..self.spec.maps.len() {
            let btf_fd = self.btf_fd.as_ref().map(|f| f.as_fd());
            if let Some(m) = self.struct_ops.create_map(&self.spec, i, btf_fd)? {
                self.maps.push(m);
                continue;
            }
            let m = maps::create_map(
                &self.spec,
                i,
                self.opts,
                self.btf_fd.as_ref().map(|f| f.as_fd()),
                self.token.as_ref().map(|t| t.as_fd()),
                &mut self.pins,
            )?;
            self.maps.push(m);
        }
        Ok(())
    }

    /// Programs, in object order, on `opts.jobs` threads.
    fn load_programs(&mut self) -> Result<()> {
        let which: Vec<usize> = (0..self.spec.programs.len())
            .filter(|&i| self.spec.programs[i].autoload)
            .collect();
        let btf_fd = match &self.btf_fd {
            Some(fd) => Some(std::sync::Arc::new(fd.try_clone().map_err(|e| {
                crate::error::Error::Sys {
                    what: "duplicating the BTF fd for program loads".into(),
                    source: crate::sys::SysError::new(
                        "F_DUPFD_CLOEXEC",
                        nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(0)),
                    ),
                }
            })?)),
            None => None,
        };
        let token = match &self.token {
            Some(fd) => Some(std::sync::Arc::new(fd.try_clone().map_err(|e| {
                crate::error::Error::Sys {
                    what: "duplicating the BPF token fd for program loads".into(),
                    source: crate::sys::SysError::new(
                        "F_DUPFD_CLOEXEC",
                        nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(0)),
                    ),
                }
            })?)),
            None => None,
        };
        let cx = programs::Ctx {
            spec: &self.spec,
            maps: &self.maps,
            btf_fd,
            btf: &self.btf,
            ext: &self.ext,
            ksyms: &self.ksyms,
            token,
            struct_ops: &self.struct_ops,
            opts: self.opts,
        };
        self.programs = programs::load_all(&cx, &which, self.opts.jobs)?;
        Ok(())
    }

    /// Initial slots of prog arrays and map-in-maps.
    fn fill_slots(&mut self) -> Result<()> {
        slots::fill(&self.spec, &self.programs, &self.maps)
    }

    /// Keep the pins and hand every fd to the [`Object`].
    fn finish(self) -> Object {
        let Loader {
            mut pins,
            programs,
            maps,
            btf_fd,
            spec,
            ..
        } = self;
        pins.0.clear();
        ::log::debug!(
            "object {} loaded: {} programs, {} maps",
            spec.name,
            programs.len(),
            maps.len()
        );
        Object::from_parts(spec.name, btf_fd, maps, programs)
    }
}
