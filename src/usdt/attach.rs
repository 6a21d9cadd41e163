//! Attaching USDT programs: specs written into the object's
//! `__bpf_usdt_specs` map, one uprobe per probe site with the spec id as its
//! BPF cookie (libbpf's `usdt.bpf.h` ABI).

use super::arg::encode_spec;
#[cfg(feature = "auto-uprobe")]
use super::parse_section;
use super::{probes, UsdtError, UsdtProbe};
use crate::error::{AttachError, Error, Result};
use crate::link::Link;
use crate::map::Map;
use crate::obj::section::attach_type;
use crate::program::Program;
use crate::sys::{self, PerfEventAttr};
use std::collections::HashMap;
use std::os::fd::AsFd;
use std::sync::Mutex;

/// The spec array map of `<bpf/usdt.bpf.h>`.
pub const SPECS_MAP: &str = "__bpf_usdt_specs";

/// How to attach a USDT probe.
#[derive(Clone, Debug)]
pub struct UsdtOpts {
    /// Only in this process (-1: every process running the binary).
    pub pid: i32,
    /// What `bpf_usdt_cookie()` returns in the program.
    pub cookie: u64,
}

impl Default for UsdtOpts {
    fn default() -> Self {
        UsdtOpts { pid: -1, cookie: 0 }
    }
}

/// The next free spec id of each `__bpf_usdt_specs` map (by map id) in this
/// process. Ids are not reused after a detach: a map holds
/// `BPF_USDT_MAX_SPEC_CNT` (256 by default) attachments of distinct specs
/// over its lifetime.
static NEXT_SPEC_ID: Mutex<Option<HashMap<u32, u32>>> = Mutex::new(None);

fn alloc_spec_ids(map_id: u32, n: u32, capacity: u32) -> Option<u32> {
    let mut g = NEXT_SPEC_ID.lock().unwrap_or_else(|e| e.into_inner());
    let next = g
        .get_or_insert_with(HashMap::new)
        .entry(map_id)
        .or_insert(0);
    let first = *next;
    let end = first.checked_add(n).filter(|&e| e <= capacity)?;
    *next = end;
    Some(first)
}

impl Program {
    /// Attach this program to every site of USDT probe `provider:name` in
    /// `binary` (a path, or a library name resolved as for uprobes).
    /// `specs` is the object's `__bpf_usdt_specs` map (see
    /// [`Object::attach_usdt`](crate::Object::attach_usdt), which finds it). One link per site.
    pub fn attach_usdt(
        &self,
        specs: &Map,
        binary: &str,
        provider: &str,
        name: &str,
        opts: &UsdtOpts,
    ) -> Result<Vec<Link>> {
        let target = format!("usdt {binary}:{provider}:{name}");
        let fail = |reason: AttachError| self.attach_err(&target, reason);
        let pid = (opts.pid > 0).then_some(opts.pid);
        let path = crate::uprobe::resolve_binary(binary, pid).map_err(|e| fail(e.into()))?;
        let sites: Vec<UsdtProbe> = probes(&path)
            .map_err(|e| fail(e.into()))?
            .into_iter()
            .filter(|p| p.provider == provider && p.name == name)
            .collect();
        if sites.is_empty() {
            return Err(fail(
                UsdtError::NoProbe {
                    path: path.clone(),
                    probe: format!("{provider}:{name}"),
                }
                .into(),
            ));
        }
        if specs.value_size() as usize != super::arg::SPEC_SIZE {
            return Err(fail(
                UsdtError::SpecSize {
                    map: specs.name().to_string(),
                    value_size: specs.value_size(),
                    expected: super::arg::SPEC_SIZE,
                }
                .into(),
            ));
        }
        // Sites with the same argument spec share one spec id.
        let mut distinct: Vec<&str> = sites.iter().map(|s| s.args_text.as_str()).collect();
        crate::util::sort::sort(&mut distinct);
        distinct.dedup();
        let map_id = specs.id()?;
        let first = alloc_spec_ids(map_id, distinct.len() as u32, specs.max_entries()).ok_or_else(
            || {
                fail(
                    UsdtError::SpecsFull {
                        map: specs.name().to_string(),
                        capacity: specs.max_entries(),
                    }
                    .into(),
                )
            },
        )?;
        for (i, text) in distinct.iter().enumerate() {
            let site = sites
                .iter()
                .find(|s| s.args_text == *text)
                .expect("from sites");
            let id = first + i as u32;
            specs.update(&id.to_le_bytes(), &encode_spec(&site.args, opts.cookie), 0)?;
        }
        let pmu = sys::ProbePmu::read("uprobe").map_err(|source| {
            fail(AttachError::NoPmu {
                what: "uprobe PMU",
                config: "CONFIG_UPROBE_EVENTS",
                source,
            })
        })?;
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|_| fail(AttachError::NotPossible("NUL in path")))?;
        let cpu = if opts.pid == -1 { 0 } else { -1 };
        let mut links = Vec::new();
        for site in &sites {
            let id = first
                + distinct
                    .binary_search(&site.args_text.as_str())
                    .unwrap_or(0) as u32;
            let mut attr = PerfEventAttr::uprobe(pmu, &c, site.offset, false);
            if site.semaphore_offset != 0 {
                let shift = sys::uprobe_ref_ctr_shift().map_err(|e| {
                    fail(AttachError::Sys {
                        step: Some("the probe has a semaphore"),
                        source: e,
                        hint: Some("this kernel takes no uprobe ref_ctr_offset: semaphores need Linux 4.20+"),
                    })
                })?;
                attr.config |= site.semaphore_offset << shift;
            }
            let desc = format!(
                "{} → usdt {}:{provider}:{name} @{:#x}",
                self.name,
                path.display(),
                site.offset
            );
            // Failures at one site name it in the target.
            let at_site =
                |e: AttachError| self.attach_err(format!("{target} (site {:#x})", site.offset), e);
            let perf = sys::perf_event_open(&attr, opts.pid, cpu, None, 0)
                .map_err(|e| at_site(e.into()))?;
            let link = sys::link_create(
                self.fd(),
                sys::LinkTarget::Fd(perf.as_fd()),
                attach_type::PERF_EVENT,
                0,
                sys::LinkCreateExtra::PerfEvent {
                    bpf_cookie: id as u64,
                },
            )
            .map_err(|e| {
                at_site(AttachError::sys_hint(
                    e,
                    Some("USDT programs need perf links with BPF cookies: Linux 5.15+"),
                ))
            })?;
            log::debug!("{desc}: spec id {id}, args {:?}", site.args_text);
            links.push(Link::bpf(link, Some(perf), desc));
        }
        Ok(links)
    }
}

/// The `__bpf_usdt_specs` map of an object, or an error saying what is missing.
pub(crate) fn specs_map<'a>(maps: &'a [Map], program: &str) -> Result<&'a Map> {
    maps.iter()
        .find(|m| m.symbol() == SPECS_MAP || m.name() == SPECS_MAP)
        .ok_or_else(|| Error::Attach {
            program: program.to_string(),
            target: "usdt".into(),
            // SPECS_MAP, spelled out: the message is static.
            reason: AttachError::NotPossible(
                "the object has no __bpf_usdt_specs map: USDT programs use <bpf/usdt.bpf.h> (BPF_USDT, bpf_usdt_arg)",
            ),
        })
}

/// Attach every `SEC("usdt/PATH:PROVIDER:NAME")` program (for `attach_all`).
#[cfg(feature = "auto-uprobe")]
pub(crate) fn auto_attach(programs: &[Program], maps: &[Map]) -> Result<Vec<Link>> {
    let mut links = Vec::new();
    for p in programs {
        let Some((path, provider, name)) = parse_section(&p.section) else {
            continue;
        };
        let specs = specs_map(maps, &p.name)?;
        links.extend(p.attach_usdt(specs, path, provider, name, &UsdtOpts::default())?);
    }
    Ok(links)
}
