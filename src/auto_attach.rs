//! Attach where the section name says (libbpf's auto-attach): the one
//! place that knows every attach kind, so it stands above the files that
//! implement them (`program.rs` for tracing, `iter.rs`, `multi/`, `usdt/`).

use crate::abi::prog_type;
use crate::error::Error;
use crate::error::{AttachError, Result};
use crate::iter::IterOpts;
use crate::link::Link;
use crate::multi::KprobeMultiOpts;
#[cfg(feature = "auto-uprobe")]
use crate::multi::UprobeMultiOpts;
use crate::obj::AttachTarget;
use crate::program::Program;
#[cfg(feature = "auto-uprobe")]
use crate::program::UprobeOpts;
use crate::usdt::parse_section;

impl Program {
    /// Whether the section says where to attach.
    pub fn auto_attachable(&self) -> bool {
        !matches!(
            self.kind.target,
            AttachTarget::None | AttachTarget::PerfEvent
        ) || parse_section(&self.section).is_some()
    }

    /// Attach where the section name says (libbpf's auto-attach).
    pub fn attach(&self) -> Result<Link> {
        if parse_section(&self.section).is_some() {
            return Err(self.attach_err(
                &self.section,
                AttachError::NotPossible(
                    "USDT programs need their object's __bpf_usdt_specs map: use Object::attach or Object::attach_usdt",
                ),
            ));
        }
        match self.kind.target.clone() {
            AttachTarget::Tracepoint { category, name } => self.attach_tracepoint(&category, &name),
            AttachTarget::RawTracepoint { name } => self.attach_raw_tracepoint(&name),
            AttachTarget::Btf { .. } if self.is_iter() => self.attach_iter(&IterOpts::All),
            AttachTarget::Btf { name } => self.attach_btf(&name),
            AttachTarget::Kprobe { func, offset, kind } => self.attach_kprobe(&func, offset, kind),
            #[cfg(feature = "auto-uprobe")]
            AttachTarget::Uprobe {
                path,
                symbol,
                offset,
                kind,
            } => {
                self.attach_uprobe_symbol(&path, &symbol, offset, UprobeOpts::default().kind(kind))
            }
            #[cfg(feature = "auto-uprobe")]
            AttachTarget::UprobeMulti { path, pattern, ret } => {
                self.attach_uprobe_multi(&UprobeMultiOpts {
                    binary: path,
                    pattern,
                    ret,
                    ..Default::default()
                })
            }
            #[cfg(not(feature = "auto-uprobe"))]
            AttachTarget::Uprobe { .. } | AttachTarget::UprobeMulti { .. } => {
                Err(self.no_auto_uprobe())
            }
            AttachTarget::KprobeMulti { pattern, ret } => {
                self.attach_kprobe_multi(&KprobeMultiOpts {
                    pattern,
                    ret,
                    ..Default::default()
                })
            }
            AttachTarget::PerfEvent => Err(self.attach_err(
                &self.section,
                AttachError::NotPossible(
                    "perf_event programs need a perf event: use attach_perf_event",
                ),
            )),
            AttachTarget::None if self.kind.prog_type == prog_type::STRUCT_OPS => {
                Err(self.attach_err(
                    &self.section,
                    AttachError::NotPossible(
                        "a struct_ops program is registered with its struct_ops map: use Object::attach_struct_ops(MAP) or attach_all",
                    ),
                ))
            }
            AttachTarget::None => Err(self.attach_err(
                &self.section,
                AttachError::NotPossible(
                    "the section does not say where to attach (not auto-attachable)",
                ),
            )),
        }
    }
    /// Why a uprobe, `uprobe.multi` or USDT section does not auto-attach
    /// when the `auto-uprobe` feature is off.
    #[cfg_attr(feature = "auto-uprobe", allow(dead_code))]
    pub(crate) fn no_auto_uprobe(&self) -> Error {
        self.attach_err(
            &self.section,
            AttachError::NotPossible(
                "auto-attaching uprobe, uprobe.multi and usdt sections needs tinybpf's `auto-uprobe` feature (on by default): enable it, or call attach_uprobe_symbol, attach_uprobe_multi or Object::attach_usdt",
            ),
        )
    }
}
