//! `.struct_ops*` maps: laid out against the running kernel's BTF before
//! the maps stage ([`crate::reloc::struct_ops`]), created as
//! `BPF_MAP_TYPE_STRUCT_OPS` with `btf_vmlinux_value_type_id`, and their
//! programs loaded with `attach_btf_id` = the kernel struct and
//! `expected_attach_type` = the member index. The value (with program fds)
//! is written at attach ([`crate::Object::attach_struct_ops`]).

use super::target::kernel_btf;
use crate::error::{Error, Result};
use crate::map::Map;
use crate::obj::section::prog_type;
use crate::obj::{MapSpec, ObjectSpec, ProgKind, StructOpsLayout, BPF_F_LINK};
use crate::sys::{self, MapCreateAttr};
use std::os::fd::BorrowedFd;

/// The layouts of an object's struct_ops maps, by map index.
#[derive(Debug, Default)]
pub(crate) struct StructOps {
    layouts: Vec<(usize, StructOpsLayout)>,
}

impl StructOps {
    /// Lay out every struct_ops map of `spec` against the running kernel,
    /// and check that every struct_ops program that loads implements a
    /// member of one of them (and only one kind of member).
    pub(crate) fn prepare(spec: &ObjectSpec) -> Result<StructOps> {
        let mut layouts = Vec::new();
        if spec.maps.iter().any(|m| m.struct_ops.is_some()) {
            let btf = spec.btf.as_ref().ok_or_else(|| {
                Error::Invalid(format!(
                    "object {}: struct_ops maps need the object's BTF",
                    spec.name
                ))
            })?;
            let kernel = kernel_btf()?;
            for (i, m) in spec.maps.iter().enumerate() {
                if let Some(so) = m.struct_ops.as_deref() {
                    layouts.push((
                        i,
                        crate::reloc::struct_ops::layout(&m.name, so, btf, &kernel)?,
                    ));
                }
            }
        }
        let this = StructOps { layouts };
        for p in spec.programs.iter().filter(|p| p.autoload) {
            if p.kind
                .as_ref()
                .is_some_and(|k| k.prog_type == prog_type::STRUCT_OPS)
            {
                this.attach(&p.name)?.ok_or_else(|| {
                    Error::Invalid(format!(
                        "program {}: a struct_ops program that no .struct_ops/.struct_ops.link variable uses (set a member of one to it, or turn its autoload off)",
                        p.name
                    ))
                })?;
            }
        }
        Ok(this)
    }

    /// For a struct_ops program: the kernel struct's type id and the member
    /// index (`attach_btf_id`, `expected_attach_type`). An error when two
    /// maps use the program for different members.
    pub(crate) fn attach(&self, program: &str) -> Result<Option<(u32, u32)>> {
        let mut found: Option<(u32, u32, &str)> = None;
        for (_, l) in &self.layouts {
            for p in l.progs.iter().filter(|p| p.program == program) {
                match found {
                    Some((t, i, m)) if (t, i) != (l.type_id, p.member_index) => {
                        return Err(Error::Invalid(format!(
                            "program {program}: implements both {m} and {} (a struct_ops program implements one member of one struct)",
                            p.member
                        )))
                    }
                    _ => found = Some((l.type_id, p.member_index, &p.member)),
                }
            }
        }
        Ok(found.map(|(t, i, _)| (t, i)))
    }

    /// Set the kind's expected attach type of a struct_ops program and
    /// return its `attach_btf_id`; `None` for other programs.
    pub(crate) fn program_target(&self, kind: &mut ProgKind, program: &str) -> Result<Option<u32>> {
        if kind.prog_type != prog_type::STRUCT_OPS {
            return Ok(None);
        }
        let Some((type_id, member)) = self.attach(program)? else {
            return Ok(None);
        };
        kind.expected_attach_type = member;
        Ok(Some(type_id))
    }

    /// The layout of map `i`, if it is a struct_ops map.
    fn layout(&self, i: usize) -> Option<&StructOpsLayout> {
        self.layouts.iter().find(|(j, _)| *j == i).map(|(_, l)| l)
    }

    /// Create struct_ops map `i` (`None`: not a struct_ops map).
    pub(crate) fn create_map(
        &self,
        spec: &ObjectSpec,
        i: usize,
        btf_fd: Option<BorrowedFd<'_>>,
    ) -> Result<Option<Map>> {
        let Some(l) = self.layout(i) else {
            return Ok(None);
        };
        let m: &MapSpec = &spec.maps[i];
        let Some(btf_fd) = btf_fd else {
            return Err(Error::Invalid(format!(
                "struct_ops map {}: the kernel did not take the object's BTF, and struct_ops maps need it",
                m.name
            )));
        };
        let value_size = u32::try_from(l.value.len())
            .map_err(|_| Error::Invalid(format!("struct_ops map {}: value too large", m.name)))?;
        let name = m.kernel_name();
        let attr = MapCreateAttr {
            map_type: m.map_type,
            key_size: 4,
            value_size,
            max_entries: 1,
            map_flags: m.map_flags,
            name: name.as_bytes(),
            btf_fd: Some(btf_fd),
            btf_vmlinux_value_type_id: l.value_type_id,
            ..Default::default()
        };
        let fd = sys::MapFd::create(&attr).map_err(|source| {
            if source.errno == nix::errno::Errno::EINVAL && m.map_flags & BPF_F_LINK != 0 {
                Error::sys(
                    format!(
                        "struct_ops map {}: a .struct_ops.link variable needs struct_ops links (Linux 6.4+); on older kernels put it in SEC(\".struct_ops\")",
                        m.name
                    ),
                    source,
                )
            } else {
                Error::Map {
                    map: m.name.clone(),
                    source,
                }
            }
        })?;
        let sized = MapSpec {
            value_size,
            ..m.clone()
        };
        let mut map = Map::new(&sized, fd);
        map.set_struct_ops(l.clone());
        ::log::debug!(
            "struct_ops map {} created ({} programs)",
            m.name,
            l.progs.len()
        );
        Ok(Some(map))
    }
}
