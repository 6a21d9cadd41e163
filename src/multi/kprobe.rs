//! `kprobe.multi` / `kretprobe.multi`: one link, many kernel functions
//! (`BPF_TRACE_KPROBE_MULTI`, Linux 5.18+ with `CONFIG_FPROBE`).

use super::MULTI_RETURN;
use crate::error::{AttachError, Result};
use crate::link::Link;
use crate::obj::section::attach_type;
use crate::program::Program;
use crate::sys;
use crate::util::glob::{glob_match, is_glob};
use std::ffi::CString;

/// Where [`Program::attach_kprobe_multi`] attaches.
#[derive(Clone, Debug, Default)]
pub struct KprobeMultiOpts {
    /// A glob (`*`, `?`) over the traceable kernel functions
    /// (`available_filter_functions` in tracefs); ignored when `symbols` is
    /// not empty. A name without wildcards is used as is.
    pub pattern: String,
    /// Explicit function names instead of a pattern.
    pub symbols: Vec<String>,
    /// One BPF cookie per symbol (only with `symbols`; empty: none).
    pub cookies: Vec<u64>,
    /// kretprobes instead of kprobes.
    pub ret: bool,
}

/// The function names of `available_filter_functions` text (pure): the
/// first word of each line (`name [module]`), skipping ftrace's
/// placeholders, each once, in order.
pub(crate) fn filter_function_names(text: &str) -> Vec<&str> {
    let mut seen = std::collections::HashSet::new();
    text.lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| !n.starts_with("__ftrace_invalid_address__"))
        .filter(|n| seen.insert(*n))
        .collect()
}

/// The function names of `/proc/kallsyms` text (pure): text symbols
/// (`t`/`T`), each once, in order, as lines of names.
pub(crate) fn kallsyms_text_functions(text: &str) -> String {
    let mut seen = std::collections::HashSet::new();
    let mut out = String::new();
    for l in text.lines() {
        let mut w = l.split_whitespace();
        let (Some(_addr), Some(kind), Some(name)) = (w.next(), w.next(), w.next()) else {
            continue;
        };
        if matches!(kind, "t" | "T") && seen.insert(name) {
            out.push_str(name);
            out.push('\n');
        }
    }
    out
}

/// The traceable kernel functions, one per line: tracefs's
/// `available_filter_functions`, or the text symbols of `/proc/kallsyms`
/// where tracefs cannot be read (the error is then /proc/kallsyms's; why
/// tracefs could not be read is logged).
fn kernel_functions() -> std::result::Result<String, AttachError> {
    let tracefs = crate::tracefs::tracefs_dir()
        .map_err(|e| e.to_string())
        .and_then(|d| {
            let f = d.join("available_filter_functions");
            std::fs::read_to_string(&f).map_err(|e| format!("{}: {e}", f.display()))
        });
    match tracefs {
        Ok(t) if !t.is_empty() => Ok(t),
        Ok(_) | Err(_) => {
            let why = tracefs.err().unwrap_or_else(|| "empty".into());
            log::debug!("kprobe.multi: {why}; using /proc/kallsyms");
            std::fs::read_to_string("/proc/kallsyms")
                .map(|t| kallsyms_text_functions(&t))
                .map_err(|e| {
                    log::warn!("kprobe.multi: tracefs: {why}");
                    AttachError::io_step(
                        "expand the pattern: tracefs's available_filter_functions \
                         could not be read (see the log), nor /proc/kallsyms",
                        e,
                    )
                })
        }
    }
}

impl Program {
    /// Attach this `kprobe.multi` program to every kernel function matching
    /// `opts.pattern` (or to `opts.symbols`), with one link. The program
    /// must have been loaded for `BPF_TRACE_KPROBE_MULTI` (section
    /// `kprobe.multi[/...]`).
    pub fn attach_kprobe_multi(&self, opts: &KprobeMultiOpts) -> Result<Link> {
        let what = if opts.ret {
            "kretprobe.multi"
        } else {
            "kprobe.multi"
        };
        let target = if opts.symbols.is_empty() {
            format!("{what} {}", opts.pattern)
        } else {
            format!("{what} ({} functions)", opts.symbols.len())
        };
        if self.kind.expected_attach_type != attach_type::TRACE_KPROBE_MULTI {
            return Err(self.attach_err(
                target,
                AttachError::WrongSection {
                    section: self.section.clone(),
                    why: "was not loaded for kprobe.multi: \
                          use a SEC(\"kprobe.multi/...\") program",
                },
            ));
        }
        let names: Vec<String> = if !opts.symbols.is_empty() {
            opts.symbols.clone()
        } else if opts.pattern.is_empty() {
            return Err(self.attach_err(target, AttachError::NotGiven("a pattern or symbols")));
        } else if !is_glob(&opts.pattern) {
            vec![opts.pattern.clone()]
        } else {
            let text = kernel_functions().map_err(|e| self.attach_err(&target, e))?;
            let hits: Vec<String> = filter_function_names(&text)
                .into_iter()
                .filter(|n| glob_match(&opts.pattern, n))
                .map(str::to_string)
                .collect();
            if hits.is_empty() {
                return Err(self.attach_err(
                    target,
                    AttachError::NoMatch {
                        what: "traceable kernel function".into(),
                        pattern: opts.pattern.clone(),
                    },
                ));
            }
            log::debug!("{target}: {} functions", hits.len());
            hits
        };
        if !opts.cookies.is_empty() && opts.cookies.len() != names.len() {
            return Err(self.attach_err(
                target,
                AttachError::CookieCount {
                    cookies: opts.cookies.len(),
                    targets: names.len(),
                    of: "functions",
                    fix: "give one per symbol",
                },
            ));
        }
        let cnames = names
            .iter()
            .map(|n| CString::new(n.as_str()))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|_| {
                self.attach_err(&target, AttachError::NotPossible("NUL in a function name"))
            })?;
        let ptrs: Vec<*const std::ffi::c_char> = cnames.iter().map(|c| c.as_ptr()).collect();
        let fd = sys::link_create(
            self.fd(),
            sys::LinkTarget::None,
            attach_type::TRACE_KPROBE_MULTI,
            0,
            sys::LinkCreateExtra::KprobeMulti {
                syms: &ptrs,
                addrs: &[],
                cookies: &opts.cookies,
                flags: if opts.ret { MULTI_RETURN } else { 0 },
            },
        )
        .map_err(|e| {
            let hint = e.not_supported().then_some(
                "kprobes are not available in this kernel (CONFIG_KPROBES / CONFIG_FPROBE \
                 off, or a kernel older than 5.18): kprobe.multi needs fprobe support",
            );
            self.attach_err(&target, AttachError::sys_hint(e, hint))
        })?;
        Ok(Link::bpf(fd, None, format!("{} → {target}", self.name)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_functions_text() {
        let t = "vfs_read\nvfs_write [ext4]\n__ftrace_invalid_address___123\n\nvfs_read\n";
        assert_eq!(filter_function_names(t), vec!["vfs_read", "vfs_write"]);
        let k = "ffffffff81000000 T _stext\nffffffff81000010 t vfs_read\n\
                 ffffffff82000000 D some_data\nffffffffc0000000 t ext4_x\t[ext4]\n";
        assert_eq!(kallsyms_text_functions(k), "_stext\nvfs_read\next4_x\n");
    }
}
