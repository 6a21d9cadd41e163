//! What `load` and `test-run` share: the options that shape loading, opening
//! the object, and reporting a rejected program.

use crate::info::{object_name, read_object};
use crate::{globals, Fail, EXIT_REJECTED};
use std::path::{Path, PathBuf};
use tinybpf::obj::Pinning;
use tinybpf::{Error, Object, OpenObject};

/// `--set NAME=VALUE`, split.
#[derive(Debug, Clone)]
pub struct Setting {
    pub name: String,
    pub value: String,
}

/// clap parser of `--set`.
pub fn parse_set(s: &str) -> Result<Setting, String> {
    let (name, value) = match s.split_once('=') {
        Some((n, v)) if !n.is_empty() => (n, v),
        _ => return Err("expected NAME=VALUE".into()),
    };
    Ok(Setting {
        name: name.to_string(),
        value: value.to_string(),
    })
}

/// clap parser of a non-negative integer, decimal or `0x` hex.
pub fn parse_num(s: &str) -> Result<u64, String> {
    let t = s.trim();
    match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => t.parse().ok(),
    }
    .ok_or_else(|| format!("{s:?} is not a non-negative integer (decimal or 0x hex)"))
}

/// The options of `load` and `test-run` that shape loading.
#[derive(Debug, clap::Args)]
pub struct LoadOpts {
    /// Relocate CO-RE against FILE instead of the running kernel's BTF
    #[arg(long, verbatim_doc_comment, value_name = "FILE")]
    pub btf: Option<PathBuf>,
    /// Set a global variable before loading (repeatable). VALUE is an integer
    /// (decimal, 0x hex, negative allowed) sized to the variable, true/false,
    /// or a string for char arrays (NUL-padded)
    #[arg(long, verbatim_doc_comment, value_name = "NAME=VALUE", value_parser = parse_set)]
    pub set: Vec<Setting>,
    /// Verifier log level used when a program is rejected: 1 (the default:
    /// the path that failed), 2 (every instruction's state), plus 4 for
    /// statistics (so 1 to 7)
    #[arg(long, verbatim_doc_comment, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=7))]
    pub log_level: Option<u32>,
    /// Where maps the object pins by name (LIBBPF_PIN_BY_NAME) are pinned,
    /// or reused from when a pin exists: DIR/<map name>. Must be on bpffs.
    /// These pins stay after exit (that is what they are for)
    #[arg(
        long,
        verbatim_doc_comment,
        value_name = "DIR",
        default_value = "/sys/fs/bpf"
    )]
    pub pin_root: PathBuf,
    /// How many threads load programs (the kernel verifies them
    /// concurrently; 1: one by one). Default: one per available CPU. The
    /// result is the same either way
    #[arg(long, verbatim_doc_comment, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub jobs: Option<u32>,
    /// Load through a BPF token (Linux 6.9+) made from the bpffs at DIR,
    /// mounted with delegate_cmds/maps/progs/attachs options (for loading
    /// inside a user namespace). Default: $LIBBPF_BPF_TOKEN_PATH, if set
    #[arg(long, verbatim_doc_comment, value_name = "DIR")]
    pub bpf_token: Option<PathBuf>,
    /// Target program (kernel id) of the object's freplace programs: each
    /// replaces the function its section names (freplace/FUNC) in program ID
    #[arg(long, verbatim_doc_comment, value_name = "ID")]
    pub attach_prog: Option<u32>,
}

/// Maps pinned by name (LIBBPF_PIN_BY_NAME): (name, pin path).
pub type ByName = Vec<(String, PathBuf)>;

/// The maps of `obj` pinned by name, and where.
pub fn by_name(obj: &OpenObject, root: &Path) -> ByName {
    obj.spec()
        .maps
        .iter()
        .filter(|m| m.pinning == Pinning::ByName)
        .map(|m| (m.name.clone(), root.join(&m.name)))
        .collect()
}

/// Say which pins by name outlive this run; returns how many.
pub fn report_kept(by_name: &ByName) -> usize {
    let kept: Vec<String> = by_name
        .iter()
        .map(|(_, p)| p)
        .filter(|p| p.exists())
        .map(|p| p.display().to_string())
        .collect();
    if !kept.is_empty() {
        println!(
            "{} pinned by name (LIBBPF_PIN_BY_NAME) {} loaded: {} (remove with rm {})",
            plural(kept.len(), "map"),
            if kept.len() == 1 { "stays" } else { "stay" },
            kept.join(", "),
            kept.join(" ")
        );
    }
    kept.len()
}

/// Read and parse OBJ and apply `opts`; every error names the file.
pub fn open(path: &Path, opts: &LoadOpts) -> Result<OpenObject, Fail> {
    let in_file = |msg: String| Fail::error(format!("{}: {msg}", path.display()));
    let bytes = read_object(path)?;
    let mut obj =
        OpenObject::from_bytes(&object_name(path), &bytes).map_err(|e| in_file(e.to_string()))?;
    if let Some(btf) = &opts.btf {
        if !btf.exists() {
            return Err(Fail::error(format!(
                "--btf {}: no such file",
                btf.display()
            )));
        }
        obj.options_mut().target_btf = Some(btf.clone());
    }
    if !by_name(&obj, &opts.pin_root).is_empty() {
        // Checked before anything is loaded.
        tinybpf::kernel::ensure_bpffs(&opts.pin_root)
            .map_err(|e| Fail::error(format!("--pin-root: {e}")))?;
        obj.options_mut().pin_root = opts.pin_root.clone();
    }
    if let Some(level) = opts.log_level {
        obj.options_mut().log_level = level;
    }
    if let Some(jobs) = opts.jobs {
        obj.options_mut().jobs = jobs as usize;
    }
    if let Some(id) = opts.attach_prog {
        let ext: Vec<String> = obj
            .spec()
            .programs
            .iter()
            .filter(|p| p.kind.as_ref().map(|k| k.prog_type) == Some(tinybpf::abi::prog_type::EXT))
            .map(|p| p.name.clone())
            .collect();
        if ext.is_empty() {
            return Err(in_file(format!(
                "--attach-prog {id}: the object has no freplace program"
            )));
        }
        for name in ext {
            obj.set_attach_target(&name, id, None)
                .map_err(|e| in_file(e.to_string()))?;
        }
    }
    if let Some(dir) = &opts.bpf_token {
        obj.options_mut().token_path = Some(dir.clone());
    }
    for s in &opts.set {
        let bytes = globals::value_bytes(obj.spec(), &s.name, &s.value).map_err(in_file)?;
        obj.set_global(&s.name, &bytes)
            .map_err(|e| in_file(e.to_string()))?;
    }
    Ok(obj)
}

/// Fail unless every name in `wanted` is a program of OBJ.
pub fn check_programs(path: &Path, obj: &OpenObject, wanted: &[&str]) -> Result<(), Fail> {
    for w in wanted {
        if obj.spec().program(w).is_none() {
            let names: Vec<&str> = obj.program_names().collect();
            return Err(Fail::error(format!(
                "{}: no program named {w:?} in this object (programs: {})",
                path.display(),
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            )));
        }
    }
    Ok(())
}

/// Open `path` and load only its program `prog` (which must exist), with
/// the maps it pins by name (and where).
pub fn load_one(path: &Path, opts: &LoadOpts, prog: &str) -> Result<(Object, ByName), Fail> {
    let mut obj = open(path, opts)?;
    let pinned = by_name(&obj, &opts.pin_root);
    check_programs(path, &obj, &[prog])?;
    obj.load_only(&[prog])
        .map_err(|e| Fail::error(format!("{}: {e}", path.display())))?;
    Ok((load(path, obj)?, pinned))
}

/// Load, reporting a rejection in full (exit 3); other errors name the file.
pub fn load(path: &Path, obj: OpenObject) -> Result<Object, Fail> {
    let sections: Vec<(String, String)> = obj
        .spec()
        .programs
        .iter()
        .map(|p| (p.name.clone(), p.section.clone()))
        .collect();
    match obj.load() {
        Ok(o) => Ok(o),
        Err(Error::Verifier {
            program,
            errno,
            log,
        }) => {
            let section = sections
                .iter()
                .find(|(n, _)| *n == program)
                .map(|(_, s)| s.as_str())
                .unwrap_or("?");
            let file = path.display();
            if log.trim().is_empty() {
                // Refused before verification (no log): the library's message
                // carries the likely cause.
                eprintln!("tinybpf: {file}: program {program} (section {section}) was refused by the kernel: {errno}");
            } else {
                eprintln!(
                    "tinybpf: {file}: program {program} (section {section}) was rejected by the verifier: {errno}"
                );
                eprintln!("verifier log:");
                eprint!("{log}");
                if !log.ends_with('\n') {
                    eprintln!();
                }
                if let Some(i) = tinybpf::error::log_failing_insn(&log) {
                    eprintln!("failing program: {program}, instruction {i}");
                }
            }
            let e = Error::Verifier {
                program,
                errno,
                log,
            };
            eprintln!("tinybpf: error: {file}: {e}");
            Err(Fail::quiet(EXIT_REJECTED))
        }
        Err(e) => Err(Fail::error(format!("{}: {e}", path.display()))),
    }
}

/// "1 map", "2 maps".
pub fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}
