//! `uprobe.multi` / `uretprobe.multi`: one link, many functions of one
//! binary (`BPF_TRACE_UPROBE_MULTI`, Linux 6.6+).

use super::MULTI_RETURN;
use crate::error::{AttachError, Result};
use crate::link::Link;
use crate::obj::section::attach_type;
use crate::program::Program;
use crate::sys;
use crate::uprobe::UprobeError;
use crate::util::glob::glob_match;

/// Where [`Program::attach_uprobe_multi`] attaches.
#[derive(Clone, Debug, Default)]
pub struct UprobeMultiOpts {
    /// The binary: a path, or a bare library name (`libc.so.6`, found as
    /// [`crate::uprobe::resolve_binary`] says).
    pub binary: String,
    /// A glob (`*`, `?`) over the binary's function names (`.symtab` and
    /// `.dynsym`, without `@VERSION`); ignored when `offsets` is not empty.
    pub pattern: String,
    /// Explicit file offsets instead of a pattern.
    pub offsets: Vec<u64>,
    /// One BPF cookie per offset (only with `offsets`; empty: none).
    pub cookies: Vec<u64>,
    /// uretprobes instead of uprobes.
    pub ret: bool,
    /// Only this process (0: every process).
    pub pid: u32,
}

impl Program {
    /// Attach this `uprobe.multi` program to every function of
    /// `opts.binary` matching `opts.pattern` (or to `opts.offsets`), with
    /// one link. The program must have been loaded for
    /// `BPF_TRACE_UPROBE_MULTI` (section `uprobe.multi[/...]`).
    pub fn attach_uprobe_multi(&self, opts: &UprobeMultiOpts) -> Result<Link> {
        let what = if opts.ret {
            "uretprobe.multi"
        } else {
            "uprobe.multi"
        };
        let target = if opts.offsets.is_empty() {
            format!("{what} {}:{}", opts.binary, opts.pattern)
        } else {
            format!("{what} {} ({} offsets)", opts.binary, opts.offsets.len())
        };
        if self.kind.expected_attach_type != attach_type::TRACE_UPROBE_MULTI {
            return Err(self.attach_err(
                target,
                AttachError::WrongSection {
                    section: self.section.clone(),
                    why: "was not loaded for uprobe.multi: \
                          use a SEC(\"uprobe.multi/...\") program",
                },
            ));
        }
        let pid = i32::try_from(opts.pid).unwrap_or(-1);
        let path = crate::uprobe::resolve_binary(&opts.binary, (pid > 0).then_some(pid))
            .map_err(|e| self.attach_err(&target, e))?;
        let fail = |e: UprobeError| self.attach_err(&target, e);
        let io = |p: &std::path::Path| {
            let path = p.to_path_buf();
            move |source| fail(UprobeError::Io { path, source })
        };
        let abs = std::fs::canonicalize(&path).map_err(io(&path))?;
        let offsets: Vec<u64> = if opts.offsets.is_empty() {
            if opts.pattern.is_empty() {
                return Err(self.attach_err(&target, AttachError::NotGiven("a pattern or offsets")));
            }
            let data = std::fs::read(&abs).map_err(io(&abs))?;
            let pattern = opts.pattern.as_str();
            let hits = crate::uprobe::elf_sym::elf_matching_offsets(&data, &|name| {
                glob_match(pattern, name)
            })
            .map_err(|source| {
                fail(UprobeError::Symbol {
                    path: abs.clone(),
                    source,
                })
            })?;
            if hits.is_empty() {
                return Err(self.attach_err(
                    &target,
                    AttachError::NoMatch {
                        what: format!("function of {}", abs.display()),
                        pattern: pattern.to_string(),
                    },
                ));
            }
            log::debug!(
                "{target}: {} functions: {}",
                hits.len(),
                hits.iter()
                    .map(|(n, o)| format!("{n}@{o:#x}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            hits.into_iter().map(|(_, o)| o).collect()
        } else {
            opts.offsets.clone()
        };
        if !opts.cookies.is_empty() && opts.cookies.len() != offsets.len() {
            return Err(self.attach_err(
                &target,
                AttachError::CookieCount {
                    cookies: opts.cookies.len(),
                    targets: offsets.len(),
                    of: "offsets",
                    fix: "give one per offset (cookies need explicit offsets)",
                },
            ));
        }
        let c = std::ffi::CString::new(abs.as_os_str().as_encoded_bytes())
            .map_err(|_| self.attach_err(&target, AttachError::NotPossible("NUL in path")))?;
        let fd = sys::link_create(
            self.fd(),
            sys::LinkTarget::None,
            attach_type::TRACE_UPROBE_MULTI,
            0,
            sys::LinkCreateExtra::UprobeMulti {
                path: &c,
                offsets: &offsets,
                ref_ctr_offsets: &[],
                cookies: &opts.cookies,
                pid: opts.pid,
                flags: if opts.ret { MULTI_RETURN } else { 0 },
            },
        )
        .map_err(|e| {
            let hint = (e.not_supported() || e.errno == nix::errno::Errno::EINVAL)
                .then_some("uprobe.multi links need Linux 6.6+ with CONFIG_UPROBES");
            self.attach_err(&target, AttachError::sys_hint(e, hint))
        })?;
        Ok(Link::bpf(fd, None, format!("{} → {target}", self.name)))
    }
}
