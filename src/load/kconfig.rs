//! `.kconfig` externs, the environment half: what the running kernel is
//! (release, `/proc/version_signature`, its config from `/proc/config.gz`
//! or `/boot/config-$(uname -r)`), and filling the `.kconfig` map's initial
//! value before the map is created. Encoding is pure, in
//! [`crate::reloc::kconfig`].

use crate::error::{Error, Result};
use crate::obj::DataKind;
use crate::obj::ObjectSpec;
use crate::reloc::kconfig::{compute, version_code, KernelConfig, KernelFacts};
use crate::sys;
use std::path::{Path, PathBuf};

impl KernelConfig {
    /// Read a config file (plain or gzip).
    pub fn from_file(path: &Path) -> Result<KernelConfig> {
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(&bytes).map_err(|e| Error::Kconfig {
            path: Some(path.to_path_buf()),
            source: crate::reloc::kconfig::KconfigError(e.to_string()),
        })
    }

    /// Where the running kernel's config may be, in the order tried.
    pub fn running_paths(release: &str) -> Vec<PathBuf> {
        vec![
            PathBuf::from("/proc/config.gz"),
            PathBuf::from(format!("/boot/config-{release}")),
        ]
    }

    /// The running kernel's config and where it came from; `Ok(None)` when
    /// none of [`KernelConfig::running_paths`] exists.
    pub fn running() -> Result<Option<(KernelConfig, PathBuf)>> {
        for p in Self::running_paths(&sys::uname_release()) {
            if p.exists() {
                log::debug!("reading kernel config from {}", p.display());
                return Ok(Some((Self::from_file(&p)?, p)));
            }
        }
        Ok(None)
    }
}

impl KernelFacts {
    /// Facts of the running kernel (its version), without reading its config.
    pub fn running() -> Result<KernelFacts> {
        Self::read_running(false)
    }

    /// Facts of the running kernel, with its config when one is found (see
    /// [`KernelConfig::running_paths`]; `config_source` says where from, or
    /// what was tried).
    pub fn running_with_config() -> Result<KernelFacts> {
        Self::read_running(true)
    }

    fn read_running(need_config: bool) -> Result<KernelFacts> {
        let release = sys::uname_release();
        // Ubuntu kernels report the upstream version here.
        let sig = std::fs::read_to_string("/proc/version_signature").ok();
        let version = sig
            .as_deref()
            .and_then(|s| s.split_whitespace().nth(2))
            .and_then(version_code)
            .or_else(|| version_code(&release))
            .ok_or_else(|| Error::KernelVersion {
                release: release.clone(),
            })?;
        let mut f = KernelFacts::for_version(version);
        // Probed, not implied by the version (backports exist).
        f.has_bpf_cookie = crate::features::Features::bpf_cookie();
        if need_config {
            match KernelConfig::running()? {
                Some((c, p)) => {
                    f.config = Some(c);
                    f.config_source = p.display().to_string();
                }
                None => {
                    f.config_source = format!(
                        "no kernel config found (tried {})",
                        KernelConfig::running_paths(&release)
                            .iter()
                            .map(|p| p.display().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            }
        }
        Ok(f)
    }
}

/// Fill the `.kconfig` map's initial value (called by the loader before
/// maps are created). Reads the kernel config only if a `CONFIG_*` extern
/// needs it.
pub(super) fn fill(spec: &mut ObjectSpec) -> Result<()> {
    let Some(mi) = spec
        .maps
        .iter()
        .position(|m| m.data == Some(DataKind::Kconfig))
    else {
        return Ok(());
    };
    let Some(btf) = &spec.btf else {
        return Ok(());
    };
    let (_, vars) = crate::obj::kconfig::vars(btf)?;
    let need_config = vars.iter().any(|v| v.name.starts_with("CONFIG_"));
    let facts = if need_config {
        KernelFacts::running_with_config()?
    } else {
        KernelFacts::running()?
    };
    let externs = &spec.externs;
    let weak = |n: &str| externs.iter().any(|e| e.name == n && e.weak);
    let size = spec.maps[mi].value_size as usize;
    let data = compute(&vars, size, &facts, weak)?;
    spec.maps[mi].initial = data;
    Ok(())
}
