//! USDT probes (SystemTap SDT: `DTRACE_PROBE*`, `STAP_PROBE*`), attached the
//! way libbpf does, so BPF programs written with `<bpf/usdt.bpf.h>`
//! (`BPF_USDT`, `bpf_usdt_arg`, `bpf_usdt_cookie`) work unchanged.
//!
//! - [`note`]: the binary's `.note.stapsdt` → probe sites (file offset,
//!   semaphore offset, argument string), pure;
//! - [`arg`]: x86-64 argument specs (`-4@%edi`, `8@-16(%rbp)`, `4@$5`) and
//!   the `struct __bpf_usdt_spec` encoding, pure;
//! - attaching ([`Object::attach_usdt`](crate::object::Object::attach_usdt),
//!   and `SEC("usdt/PATH:PROVIDER:NAME")` through `attach_all`): each site
//!   gets a spec in the object's `__bpf_usdt_specs` array map at a fresh
//!   spec id and a uprobe whose BPF cookie is that id (the program's
//!   `bpf_get_attach_cookie()`); a probe with a semaphore gets the
//!   semaphore's file offset as the uprobe's `ref_ctr_offset`, so the
//!   kernel counts attached probes in it. Kernels without BPF cookies
//!   (before 5.15) are refused with a message.

pub mod arg;
mod attach;
pub mod note;

pub use arg::{ArgLocation, UsdtArg};
#[cfg(feature = "auto-uprobe")]
pub(crate) use attach::auto_attach;
pub(crate) use attach::specs_map;
pub use attach::{UsdtOpts, SPECS_MAP};
pub use note::{parse_probes, UsdtProbe};

use std::path::Path;

pub use crate::error::UsdtError;

/// The USDT probes of the binary at `path`.
pub fn probes(path: &Path) -> Result<Vec<UsdtProbe>, UsdtError> {
    let data = std::fs::read(path).map_err(|source| UsdtError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_probes(&data)
}

/// `usdt/PATH:PROVIDER:NAME` → (path, provider, name); `None` for a bare
/// `usdt` section or one without the three parts.
pub fn parse_section(section: &str) -> Option<(&str, &str, &str)> {
    let rest = section.strip_prefix("usdt/")?;
    let (path_provider, name) = rest.rsplit_once(':')?;
    let (path, provider) = path_provider.rsplit_once(':')?;
    (!path.is_empty() && !provider.is_empty() && !name.is_empty()).then_some((path, provider, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections() {
        assert_eq!(
            parse_section("usdt/lib/libc.so.6:libc:setjmp"),
            Some(("lib/libc.so.6", "libc", "setjmp"))
        );
        assert_eq!(
            parse_section("usdt//usr/bin/python3:python:function__entry"),
            Some(("/usr/bin/python3", "python", "function__entry"))
        );
        assert_eq!(parse_section("usdt"), None);
        assert_eq!(parse_section("usdt/x:y"), None);
        assert_eq!(parse_section("usdt/:p:n"), None);
    }
}
