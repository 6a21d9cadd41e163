//! `tinybpf info OBJ`: what an object holds, from parsing alone.

use crate::names;
use crate::table::Table;
use crate::Fail;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tinybpf::abi::map_type;
use tinybpf::obj::{ObjectSpec, Reloc};

/// List what a BPF object holds (parsing only: no root, no kernel)
///
/// Prints the object's programs (name, ELF section, program type, instruction
/// count, auto-attach target), maps (name, type, key/value sizes, max_entries,
/// flags), global variables (name, section, offset, size), externs (.kconfig
/// and .ksyms) and how many relocations of each kind it carries: map
/// references, global data, calls and function pointers, kconfig, ksym, and
/// CO-RE relocations per kind from .BTF.ext.
#[derive(Debug, clap::Args)]
#[command(
    verbatim_doc_comment,
    after_help = "\
Exit status: 0 success; 1 the file cannot be read or is not a BPF object;
2 usage error."
)]
pub struct InfoArgs {
    /// The BPF object file (*.bpf.o)
    pub obj: PathBuf,
}

/// Read an object file.
pub fn read_object(path: &Path) -> Result<Vec<u8>, Fail> {
    std::fs::read(path).map_err(|e| Fail::error(format!("{}: {e}", path.display())))
}

/// The object name a path gives (file name up to the first '.').
pub fn object_name(path: &Path) -> String {
    tinybpf::obj::object_name(&path.to_string_lossy())
}

/// Read and parse an object file.
pub fn parse_object(path: &Path) -> Result<ObjectSpec, Fail> {
    let bytes = read_object(path)?;
    ObjectSpec::parse(&object_name(path), &bytes)
        .map_err(|e| Fail::error(format!("{}: {e}", path.display())))
}

pub fn run(a: &InfoArgs) -> Result<(), Fail> {
    let spec = parse_object(&a.obj)?;
    print!("{}", render(&a.obj.display().to_string(), &spec));
    Ok(())
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// The whole report, as printed.
pub fn render(path: &str, spec: &ObjectSpec) -> String {
    let mut out = String::new();
    let mut head = Table::bare(0);
    head.row(vec!["object:".into(), format!("{} ({path})", spec.name)]);
    head.row(vec!["license:".into(), spec.license.clone()]);
    if spec.kern_version != 0 {
        head.row(vec!["version:".into(), format!("{:#x}", spec.kern_version)]);
    }
    let btf = match &spec.btf {
        Some(b) => format!(
            "{} types, .BTF.ext: {}",
            b.len().saturating_sub(1),
            yes_no(spec.btf_ext.is_some())
        ),
        None => "none".into(),
    };
    head.row(vec!["BTF:".into(), btf]);
    out.push_str(&head.render());

    out.push_str(&format!("\nprograms ({}):\n", spec.programs.len()));
    if !spec.programs.is_empty() {
        let mut t = Table::new(2, &["NAME", "SECTION", "TYPE", "INSNS", "ATTACH"]);
        for p in &spec.programs {
            t.row(vec![
                p.name.clone(),
                p.section.clone(),
                names::kind_type(p.kind.as_ref()),
                p.len.to_string(),
                names::attach_target(p.kind.as_ref()),
            ]);
        }
        out.push_str(&t.render());
    }

    out.push_str(&format!("\nmaps ({}):\n", spec.maps.len()));
    if !spec.maps.is_empty() {
        let mut t = Table::new(
            2,
            &[
                "NAME",
                "TYPE",
                "KEY",
                "VALUE",
                "MAX_ENTRIES",
                "FLAGS",
                "NOTES",
            ],
        );
        for m in &spec.maps {
            let mut notes = Vec::new();
            if m.data.is_some() {
                notes.push(format!("data of {}", m.section));
            }
            if m.pinning == tinybpf::obj::Pinning::ByName {
                notes.push("pinned by name".into());
            }
            if let Some(inner) = &m.inner {
                notes.push(format!("inner {}", map_type::name(inner.map_type)));
            }
            if !m.init_slots.is_empty() {
                notes.push(format!("initial slots: {}", m.init_slots.len()));
            }
            if m.max_entries == 0 && m.map_type == map_type::PERF_EVENT_ARRAY {
                notes.push("max_entries 0: one per CPU".into());
            }
            t.row(vec![
                m.name.clone(),
                map_type::name(m.map_type).to_string(),
                m.key_size.to_string(),
                m.value_size.to_string(),
                m.max_entries.to_string(),
                names::map_flags(m.map_flags),
                notes.join("; "),
            ]);
        }
        out.push_str(&t.render());
    }

    out.push_str(&format!("\nglobals ({}):\n", spec.globals.len()));
    if !spec.globals.is_empty() {
        let mut t = Table::new(2, &["NAME", "SECTION", "OFFSET", "SIZE"]);
        for g in &spec.globals {
            t.row(vec![
                g.name.clone(),
                g.section.clone(),
                g.offset.to_string(),
                g.size.to_string(),
            ]);
        }
        out.push_str(&t.render());
    }

    out.push_str(&format!("\nexterns ({}):\n", spec.externs.len()));
    if !spec.externs.is_empty() {
        let mut t = Table::new(2, &["NAME", "KIND", "WEAK"]);
        for e in &spec.externs {
            t.row(vec![
                e.name.clone(),
                if e.kconfig { ".kconfig" } else { ".ksyms" }.into(),
                yes_no(e.weak).into(),
            ]);
        }
        out.push_str(&t.render());
    }

    out.push_str("\nrelocations:\n");
    let mut t = Table::new(2, &["KIND", "COUNT"]);
    for (k, n) in reloc_counts(spec) {
        t.row(vec![k, n.to_string()]);
    }
    out.push_str(&t.render());
    out
}

/// Relocation counts by kind: ELF ones first (always listed), then CO-RE
/// kinds present in `.BTF.ext`.
pub fn reloc_counts(spec: &ObjectSpec) -> Vec<(String, usize)> {
    let (mut map, mut data, mut func, mut kconfig, mut ksym) = (0, 0, 0, 0, 0);
    for cs in &spec.code {
        for r in cs.relocs.values() {
            match r {
                Reloc::Map { .. } => map += 1,
                Reloc::MapValue { .. } => data += 1,
                Reloc::Func { .. } => func += 1,
                Reloc::Kconfig { .. } => kconfig += 1,
                Reloc::Ksym { .. } => ksym += 1,
            }
        }
    }
    let mut out = vec![
        ("map".to_string(), map),
        ("data".to_string(), data),
        ("call/func".to_string(), func),
        ("kconfig".to_string(), kconfig),
        ("ksym".to_string(), ksym),
    ];
    let mut core: BTreeMap<u32, usize> = BTreeMap::new();
    let mut total = 0;
    if let Some(ext) = &spec.btf_ext {
        for (_, relos) in &ext.core_relos {
            for r in relos {
                *core.entry(r.kind).or_default() += 1;
                total += 1;
            }
        }
    }
    out.push(("core (all kinds)".to_string(), total));
    for (k, n) in core {
        out.push((format!("core {}", names::core_kind(k)), n));
    }
    out
}
