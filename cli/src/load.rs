//! `tinybpf load`: load, attach, hold, tear down.

use crate::names;
use crate::open::{by_name, check_programs, load, open, plural, report_kept, ByName, LoadOpts};
use crate::table::Table;
use crate::Fail;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tinybpf::events::Interrupt;
use tinybpf::net::{NetHook, NetTarget, XdpMode};
use tinybpf::Object;

fn parse_duration(s: &str) -> Result<Duration, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && (0.0..=1e9).contains(&v) => Ok(Duration::from_secs_f64(v)),
        _ => Err(format!("{s:?} is not a number of seconds")),
    }
}

fn parse_xdp_mode(s: &str) -> Result<XdpMode, String> {
    Ok(match s {
        "default" => XdpMode::Default,
        "generic" | "skb" => XdpMode::Generic,
        "native" | "driver" | "drv" => XdpMode::Native,
        "offload" | "hw" => XdpMode::Offload,
        _ => return Err(format!("{s:?}: use default, generic, native or offload")),
    })
}

/// Load a BPF object, attach its programs, hold, then tear down
///
/// Loads every program of OBJ (or only those named with --program), attaches
/// each one whose section says where (tracepoints, raw tracepoints, fentry/
/// fexit/tp_btf/lsm, kprobes, uprobes, uprobe.multi, kprobe.multi; xdp and tc with --iface, cgroup
/// programs with --cgroup) unless --no-attach, prints what was
/// loaded and attached, then holds until Ctrl-C (or for --duration seconds)
/// and detaches and unloads everything. A program that should attach and
/// cannot is an error: everything is torn down and the reason printed.
/// Maps the object pins by name (LIBBPF_PIN_BY_NAME) are pinned under
/// /sys/fs/bpf and stay after exit; the output says where.
#[derive(Debug, clap::Args)]
#[command(
    verbatim_doc_comment,
    after_help = "\
Needs root (or CAP_BPF and CAP_PERFMON).
Exit status: 0 every selected program loaded, and every one whose section
says where attached (programs whose section does not say where are listed,
not attached); 1 an error, including a program that could not be attached;
2 usage error; 3 the kernel rejected a program (its whole log is printed)."
)]
pub struct LoadArgs {
    /// The BPF object file (*.bpf.o)
    pub obj: PathBuf,
    /// Load only this program (repeatable)
    #[arg(long, verbatim_doc_comment, value_name = "NAME")]
    pub program: Vec<String>,
    /// Load but do not attach
    #[arg(long, verbatim_doc_comment)]
    pub no_attach: bool,
    #[command(flatten)]
    pub load: LoadOpts,
    /// Write each program's final instructions to DIR/<program>.insns (8 bytes
    /// per instruction) before BPF_PROG_LOAD
    #[arg(long, verbatim_doc_comment, value_name = "DIR")]
    pub dump_insns: Option<PathBuf>,
    /// Pin every map, program and link under DIR as DIR/maps/<name>,
    /// DIR/progs/<name> and DIR/links/<program> ('.' in names becomes '_':
    /// bpffs refuses dots); they stay after exit (remove with rm -r DIR). DIR
    /// must be on bpffs (checked before loading); bpffs is mounted at
    /// /sys/fs/bpf if DIR is under it and nothing is mounted there
    #[arg(long, verbatim_doc_comment, value_name = "DIR")]
    pub pin: Option<PathBuf>,
    /// Attach xdp and tc/tcx programs to interface IFNAME (tc: tcx, or a
    /// clsact filter on kernels before 6.6; tc/egress sections: egress)
    #[arg(long, verbatim_doc_comment, value_name = "IFNAME")]
    pub iface: Option<String>,
    /// XDP mode with --iface: default, generic, native or offload
    #[arg(long, verbatim_doc_comment, value_name = "MODE", value_parser = parse_xdp_mode, default_value = "default")]
    pub xdp_mode: XdpMode,
    /// Attach cgroup programs (cgroup/*, cgroup_skb/*, sockops) to the cgroup
    /// v2 directory PATH
    #[arg(long, verbatim_doc_comment, value_name = "PATH")]
    pub cgroup: Option<PathBuf>,
    /// Hold for SECS seconds instead of until Ctrl-C (0: tear down at once)
    #[arg(long, verbatim_doc_comment, value_name = "SECS", value_parser = parse_duration)]
    pub duration: Option<Duration>,
}

fn print_loaded(path: &Path, obj: &Object, by_name: &ByName) -> Result<(), Fail> {
    let in_file = |e: tinybpf::Error| Fail::error(format!("{}: {e}", path.display()));
    println!(
        "loaded {} ({}): {}, {}",
        obj.name(),
        path.display(),
        plural(obj.programs().len(), "program"),
        plural(obj.maps().len(), "map")
    );
    if !obj.programs().is_empty() {
        println!("programs:");
        let mut t = Table::new(2, &["NAME", "SECTION", "TYPE", "ID"]);
        for p in obj.programs() {
            t.row(vec![
                p.name().to_string(),
                p.section().to_string(),
                names::prog_type(p.prog_type()),
                p.id().map_err(in_file)?.to_string(),
            ]);
        }
        t.print();
    }
    if !obj.maps().is_empty() {
        println!("maps:");
        let mut t = Table::new(2, &["NAME", "TYPE", "MAX_ENTRIES", "ID", "PINNED"]);
        for m in obj.maps() {
            // The kernel's view: max_entries 0 of a perf array became the
            // number of CPUs.
            let info = tinybpf::kernel::map_info(m.fd())
                .map_err(|e| Fail::error(format!("{}: map {}: {e}", path.display(), m.name())))?;
            let pinned = by_name
                .iter()
                .find(|(n, _)| n == m.name())
                .map(|(_, p)| p.display().to_string())
                .unwrap_or_else(|| "-".into());
            t.row(vec![
                m.name().to_string(),
                m.map_type().name().to_string(),
                info.max_entries.to_string(),
                info.id.to_string(),
                pinned,
            ]);
        }
        t.print();
    }
    Ok(())
}

/// Attach every auto-attachable program and print the links. A program that
/// should attach and does not is an error (after trying the others).
fn attach(path: &Path, obj: &mut Object, net: &NetTarget) -> Result<(), Fail> {
    // Networking programs attach where --iface/--cgroup say.
    let by_net = |p: &tinybpf::Program| match p.net_hook() {
        Some(NetHook::Xdp | NetHook::Tc) => net.ifindex.is_some(),
        Some(NetHook::Cgroup) => net.cgroup.is_some(),
        None => false,
    };
    let names: Vec<(String, bool)> = obj
        .programs()
        .iter()
        .filter(|p| p.auto_attachable() || by_net(p))
        .map(|p| (p.name().to_string(), !p.auto_attachable()))
        .collect();
    let skipped: Vec<String> = obj
        .programs()
        .iter()
        .filter(|p| !p.auto_attachable() && !by_net(p))
        .filter(|p| p.prog_type() != tinybpf::ProgType::StructOps)
        .map(|p| p.name().to_string())
        .collect();
    let net_skipped = obj
        .programs()
        .iter()
        .any(|p| !p.auto_attachable() && !by_net(p) && p.net_hook().is_some());
    let mut failed = Vec::new();
    for (n, is_net) in &names {
        let r = if *is_net {
            obj.attach_net(n, net).map(|_| ())
        } else {
            obj.attach(n).map(|_| ())
        };
        if let Err(e) = r {
            failed.push(e.to_string());
        }
    }
    // struct_ops maps register their programs (e.g. a TCP congestion control).
    let struct_ops: Vec<String> = obj
        .maps()
        .iter()
        .filter(|m| m.map_type() == tinybpf::MapType::StructOps)
        .map(|m| m.name().to_string())
        .collect();
    for m in &struct_ops {
        if let Err(e) = obj.attach_struct_ops(m) {
            failed.push(e.to_string());
        }
    }
    if obj.links().is_empty() {
        println!("links: none");
    } else {
        println!("links:");
        let mut t = Table::new(2, &["ID", "ATTACHED"]);
        for l in obj.links() {
            let id = match l
                .info()
                .map_err(|e| Fail::error(format!("{}: {e}", path.display())))?
            {
                Some(i) => i.id.to_string(),
                None => "- (perf event, netlink or prog_attach)".into(),
            };
            t.row(vec![id, l.description().to_string()]);
        }
        t.print();
    }
    if !skipped.is_empty() {
        println!(
            "not attached (the section does not say where): {}",
            skipped.join(", ")
        );
        if net_skipped {
            println!("  (xdp and tc programs attach with --iface IFNAME, cgroup programs with --cgroup DIR)");
        }
    }
    if failed.is_empty() {
        return Ok(());
    }
    let file = path.display();
    for f in &failed {
        eprintln!("tinybpf: {file}: {f}");
    }
    Err(Fail::error(format!(
        "{file}: {} of {} could not be attached; everything was detached and unloaded \
         (--no-attach loads without attaching, --program selects programs)",
        plural(failed.len(), "program"),
        names.len() + struct_ops.len()
    )))
}

/// bpffs refuses names with a '.' (EPERM): `hello.rodata` is pinned as
/// `hello_rodata`.
fn pin_name(name: &str) -> String {
    name.replace('.', "_")
}

/// `--pin DIR`, checked before anything is loaded: DIR is (made) a directory
/// on bpffs. Remembers whether DIR existed, to remove it again on failure.
struct PinDir {
    dir: PathBuf,
    created: bool,
}

impl PinDir {
    fn prepare(dir: &Path) -> Result<PinDir, Fail> {
        let created = !dir.exists();
        tinybpf::kernel::ensure_bpffs(dir).map_err(|e| Fail::error(format!("--pin: {e}")))?;
        Ok(PinDir {
            dir: dir.to_path_buf(),
            created,
        })
    }

    /// Remove what `prepare` and a failed `pin_all` left (empty directories only).
    fn abandon(&self) {
        for sub in ["maps", "progs", "links"] {
            let _ = std::fs::remove_dir(self.dir.join(sub));
        }
        if self.created {
            let _ = std::fs::remove_dir(&self.dir);
        }
    }
}

/// Pin maps, programs and links under `dir`; on failure, remove what was pinned.
fn pin_all(obj: &Object, dir: &Path) -> Result<(), Fail> {
    let mut made: Vec<PathBuf> = Vec::new();
    let result = (|| -> Result<(), Fail> {
        let sub = |s: &str| -> Result<PathBuf, Fail> {
            let d = dir.join(s);
            std::fs::create_dir_all(&d)
                .map_err(|e| Fail::error(format!("{}: {e}", d.display())))?;
            Ok(d)
        };
        let maps = sub("maps")?;
        for m in obj.maps() {
            let p = maps.join(pin_name(m.name()));
            m.pin(&p)?;
            made.push(p);
        }
        let progs = sub("progs")?;
        for p in obj.programs() {
            let path = progs.join(pin_name(p.name()));
            p.pin(&path)?;
            made.push(path);
        }
        if !obj.links().is_empty() {
            let links = sub("links")?;
            for (i, l) in obj.links().iter().enumerate() {
                let name = pin_name(l.description().split_whitespace().next().unwrap_or("link"));
                let mut path = links.join(&name);
                if path.exists() {
                    path = links.join(format!("{name}_{i}"));
                }
                l.pin(&path)?;
                made.push(path);
            }
        }
        Ok(())
    })();
    match result {
        Ok(()) => {
            println!(
                "pinned {} under {} (they stay after exit; remove with rm -r {})",
                plural(made.len(), "object"),
                dir.display(),
                dir.display()
            );
            Ok(())
        }
        Err(e) => {
            for p in made.iter().rev() {
                let _ = std::fs::remove_file(p);
            }
            Err(e)
        }
    }
}

/// Hold until `duration` passed (forever without one) or SIGINT/SIGTERM.
fn hold(interrupt: &Interrupt, duration: Option<Duration>) {
    match duration {
        Some(d) if d.is_zero() => {}
        Some(d) => {
            println!("holding for {} s (Ctrl-C to stop early)", d.as_secs_f64());
            let end = Instant::now() + d;
            loop {
                let left = end.saturating_duration_since(Instant::now());
                if left.is_zero() || interrupt.wait(left) {
                    break;
                }
            }
        }
        None => {
            println!("holding; press Ctrl-C to detach and unload");
            while !interrupt.wait(Duration::from_secs(3600)) {}
        }
    }
}

pub fn run(a: &LoadArgs) -> Result<(), Fail> {
    let path = a.obj.as_path();
    let net = NetTarget {
        ifindex: a
            .iface
            .as_deref()
            .map(|i| tinybpf::net::ifindex(i).map_err(|e| Fail::error(format!("--iface: {e}"))))
            .transpose()?,
        xdp_mode: a.xdp_mode,
        cgroup: a.cgroup.clone(),
    };
    let mut obj = open(path, &a.load)?;
    let wanted: Vec<&str> = a.program.iter().map(String::as_str).collect();
    if !wanted.is_empty() {
        check_programs(path, &obj, &wanted)?;
        obj.load_only(&wanted)
            .map_err(|e| Fail::error(format!("{}: {e}", path.display())))?;
    }
    // Maps pinned by name, where the loader pins (or finds) them.
    let by_name_spec = by_name(&obj, &a.load.pin_root);
    if let Some(dir) = &a.dump_insns {
        std::fs::create_dir_all(dir)
            .map_err(|e| Fail::error(format!("--dump-insns {}: {e}", dir.display())))?;
        obj.options_mut().dump_insns = Some(dir.clone());
    }
    // Before anything is loaded: DIR must be on bpffs.
    let pin_dir = a.pin.as_deref().map(PinDir::prepare).transpose()?;
    let loaded = (|| -> Result<(Object, Interrupt), Fail> {
        // Before anything can start threads: SIGINT/SIGTERM go to a signalfd.
        let interrupt = Interrupt::new()?;
        let mut obj = load(path, obj)?;
        print_loaded(path, &obj, &by_name_spec)?;
        if !a.no_attach {
            attach(path, &mut obj, &net)?;
        }
        if let Some(p) = &pin_dir {
            pin_all(&obj, &p.dir)
                .map_err(|f| Fail::error(format!("{}: {}", path.display(), f.msg)))?;
        }
        Ok((obj, interrupt))
    })();
    let (mut obj, interrupt) = match loaded {
        Ok(x) => x,
        Err(f) => {
            if let Some(p) = &pin_dir {
                p.abandon();
            }
            return Err(f);
        }
    };
    hold(&interrupt, a.duration);
    let (nl, np, nm) = (obj.links().len(), obj.programs().len(), obj.maps().len());
    obj.detach_all();
    drop(obj);
    // Pins by name outlive the run: that is what they are for.
    let kept = by_name_spec.iter().filter(|(_, p)| p.exists()).count();
    match &a.pin {
        None => println!(
            "detached {}, unloaded {} and {}",
            plural(nl, "link"),
            plural(np, "program"),
            plural(nm - kept.min(nm), "map")
        ),
        Some(dir) => println!(
            "closed {}, {} and {}; their pins under {} keep them loaded",
            plural(nl, "link"),
            plural(np, "program"),
            plural(nm, "map"),
            dir.display()
        ),
    }
    report_kept(&by_name_spec);
    Ok(())
}
