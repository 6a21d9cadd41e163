//! `tinybpf load` and `tinybpf test-run`: the commands that talk to the kernel.

use crate::args::{flag, val, Args, Opt};
use crate::names;
use crate::table::Table;
use crate::{globals, Fail};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tinybpf::events::Interrupt;
use tinybpf::obj::maps::map_type;
use tinybpf::{Error, Object, OpenObject, TestRunOpts};

pub const LOAD_HELP: &str = "\
tinybpf load: load a BPF object, attach its programs, hold, then tear down

Usage: tinybpf load OBJ [OPTIONS]

Loads every program of OBJ (or only those named with --program), attaches
each one whose section says where (tracepoints, raw tracepoints, fentry/
fexit/tp_btf/lsm, kprobes, uprobes) unless --no-attach, prints what was
loaded and attached, then holds until Ctrl-C (or for --duration seconds)
and detaches and unloads everything.

Options:
  --btf FILE         Relocate CO-RE against FILE instead of the running kernel's BTF
  --program NAME     Load only this program (repeatable)
  --no-attach        Load but do not attach
  --set NAME=VALUE   Set a global variable before loading (repeatable). VALUE is
                     an integer (decimal, 0x hex, negative allowed) sized to the
                     variable, true/false, or a string for char arrays (NUL-padded)
  --dump-insns DIR   Write each program's final instructions to DIR/<program>.insns
                     (8 bytes per instruction) before BPF_PROG_LOAD
  --log-level N      Verifier log level used when a program is rejected (1 or 2;
                     default 1)
  --pin DIR          Pin every map, program and link under DIR (on bpffs; bpffs
                     is mounted at /sys/fs/bpf if needed) as DIR/maps/<name>,
                     DIR/progs/<name> and DIR/links/<program> ('.' in names
                     becomes '_': bpffs refuses dots); they stay after exit
                     (remove with rm -r DIR)
  --duration SECS    Hold for SECS seconds instead of until Ctrl-C (0: tear down
                     at once)
  -h, --help         Show this help

Needs root (or CAP_BPF and CAP_PERFMON).
Exit status: 0 every selected program loaded (programs that cannot be attached
are reported and skipped); 2 the verifier
rejected a program (its whole log is printed); 1 any other error.
";

pub const TEST_RUN_HELP: &str = "\
tinybpf test-run: load one program and run it with BPF_PROG_TEST_RUN

Usage: tinybpf test-run OBJ PROGRAM [OPTIONS]

Loads only PROGRAM (and the maps of OBJ), runs it on --data-size zero bytes
(--repeat times) and prints the program's return value and the average run
time per repetition as measured by the kernel.

Options:
  --btf FILE         Relocate CO-RE against FILE instead of the running kernel's BTF
  --set NAME=VALUE   Set a global variable before loading (repeatable); see
                     tinybpf load --help
  --data-size N      Bytes of (zeroed) input data (default 64; XDP and skb
                     programs need at least 14)
  --repeat N         Run N times (default 1)
  --log-level N      Verifier log level used when the program is rejected (1 or 2)
  -h, --help         Show this help

Needs root. Exit status: 0 ran; 2 the verifier rejected the program; 1 any
other error (including program types the kernel cannot test-run).
";

const LOAD_OPTS: &[Opt] = &[
    val("btf"),
    val("program"),
    flag("no-attach"),
    val("set"),
    val("dump-insns"),
    val("log-level"),
    val("pin"),
    val("duration"),
];

const TEST_RUN_OPTS: &[Opt] = &[
    val("btf"),
    val("set"),
    val("data-size"),
    val("repeat"),
    val("log-level"),
];

/// Open OBJ and apply the options both commands share.
fn open(cmd: &str, path: &str, a: &Args) -> Result<OpenObject, Fail> {
    let mut obj = OpenObject::open(path).map_err(|e| Fail::error(e.to_string()))?;
    if let Some(btf) = a.one(cmd, "btf")? {
        if !Path::new(btf).exists() {
            return Err(Fail::error(format!("--btf {btf}: no such file")));
        }
        obj.options_mut().target_btf = Some(PathBuf::from(btf));
    }
    if let Some(level) = a.num::<u32>(cmd, "log-level")? {
        if !(1..=7).contains(&level) {
            return Err(Fail::usage(
                cmd,
                "--log-level must be 1, 2 (or up to 7 with stats)",
            ));
        }
        obj.options_mut().log_level = level;
    }
    for s in a.all("set") {
        let (name, value) = globals::split(s).map_err(|m| Fail::usage(cmd, m))?;
        let bytes = globals::value_bytes(obj.spec(), name, value).map_err(Fail::error)?;
        obj.set_global(name, &bytes)?;
    }
    Ok(obj)
}

fn check_programs(obj: &OpenObject, wanted: &[&str]) -> Result<(), Fail> {
    for w in wanted {
        if obj.spec().program(w).is_none() {
            let names: Vec<&str> = obj.program_names().collect();
            return Err(Fail::error(format!(
                "no program named {w:?} in this object (programs: {})",
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

/// Load, reporting a verifier rejection in full (exit 2).
fn load(obj: OpenObject) -> Result<Object, Fail> {
    let sections: Vec<(String, String)> = obj
        .spec()
        .programs
        .iter()
        .map(|p| (p.name.clone(), p.section.clone()))
        .collect();
    match obj.load() {
        Ok(o) => Ok(o),
        Err(e @ Error::Verifier { .. }) => {
            let Error::Verifier {
                program,
                errno,
                log,
            } = &e
            else {
                unreachable!()
            };
            let section = sections
                .iter()
                .find(|(n, _)| n == program)
                .map(|(_, s)| s.as_str())
                .unwrap_or("?");
            if log.trim().is_empty() {
                // Refused before verification (no log): the library's message
                // carries the likely cause.
                eprintln!("tinybpf: program {program} (section {section}) was refused by the kernel: {errno}");
                eprintln!("tinybpf: {e}");
            } else {
                eprintln!(
                    "tinybpf: program {program} (section {section}) was rejected by the verifier: {errno}"
                );
                eprintln!("verifier log:");
                eprint!("{log}");
                if !log.ends_with('\n') {
                    eprintln!();
                }
                if let Some(i) = tinybpf::error::log_failing_insn(log) {
                    eprintln!("failing program: {program}, instruction {i}");
                }
                eprintln!("tinybpf: {e}");
            }
            Err(Fail::quiet(2))
        }
        Err(e) => Err(e.into()),
    }
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

fn print_loaded(path: &str, obj: &Object) -> Result<(), Fail> {
    println!(
        "loaded {} ({path}): {}, {}",
        obj.name(),
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
                p.id()?.to_string(),
            ]);
        }
        t.print();
    }
    if !obj.maps().is_empty() {
        println!("maps:");
        let mut t = Table::new(2, &["NAME", "TYPE", "MAX_ENTRIES", "ID"]);
        for m in obj.maps() {
            // The kernel's view: max_entries 0 of a perf array became the
            // number of CPUs.
            let info = tinybpf::sys::map_info(m.fd())
                .map_err(|e| Fail::error(format!("map {}: {e}", m.name())))?;
            t.row(vec![
                m.name().to_string(),
                map_type::name(m.map_type()).to_string(),
                info.max_entries.to_string(),
                info.id.to_string(),
            ]);
        }
        t.print();
    }
    Ok(())
}

/// Attach every auto-attachable program; print the links.
fn attach(obj: &mut Object) -> Result<(), Fail> {
    let names: Vec<String> = obj
        .programs()
        .iter()
        .filter(|p| p.auto_attachable())
        .map(|p| p.name().to_string())
        .collect();
    let skipped: Vec<String> = obj
        .programs()
        .iter()
        .filter(|p| !p.auto_attachable())
        .map(|p| p.name().to_string())
        .collect();
    // Attach every program that can be attached; a failure (e.g. a kprobe on
    // a kernel without CONFIG_KPROBES) is reported and the others stay.
    let mut failed = Vec::new();
    for n in &names {
        if let Err(e) = obj.attach(n) {
            eprintln!("tinybpf: not attached: {e}");
            failed.push(n.clone());
        }
    }
    if obj.links().is_empty() {
        println!("links: none");
    } else {
        println!("links:");
        let mut t = Table::new(2, &["ID", "ATTACHED"]);
        for l in obj.links() {
            let id = match l.info()? {
                Some(i) => i.id.to_string(),
                None => "- (perf event)".into(),
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
    }
    if !failed.is_empty() {
        println!("failed to attach: {}", failed.join(", "));
    }
    Ok(())
}

/// bpffs refuses names with a '.' (EPERM): `hello.rodata` is pinned as
/// `hello_rodata`.
fn pin_name(name: &str) -> String {
    name.replace('.', "_")
}

/// Pin maps, programs and links under `dir`; on failure, remove what was pinned.
fn pin_all(obj: &Object, dir: &Path) -> Result<(), Fail> {
    tinybpf::sys::fs::bpffs_ensure(dir).map_err(|e| Fail::error(e.to_string()))?;
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

fn parse_duration(cmd: &str, a: &Args) -> Result<Option<Duration>, Fail> {
    match a.one(cmd, "duration")? {
        None => Ok(None),
        Some(s) => match s.parse::<f64>() {
            Ok(v) if v.is_finite() && (0.0..=1e9).contains(&v) => {
                Ok(Some(Duration::from_secs_f64(v)))
            }
            _ => Err(Fail::usage(
                cmd,
                format!("--duration: {s:?} is not a number of seconds"),
            )),
        },
    }
}

pub fn run_load(argv: &[String]) -> Result<(), Fail> {
    const CMD: &str = "load";
    let a = Args::parse(CMD, argv, LOAD_OPTS)?;
    if crate::print_help_if(CMD, &a) {
        return Ok(());
    }
    a.expect_positional(CMD, &["OBJ"])?;
    let path = a.positional[0].as_str();
    let duration = parse_duration(CMD, &a)?;
    let mut obj = open(CMD, path, &a)?;
    let wanted = a.all("program");
    if !wanted.is_empty() {
        check_programs(&obj, &wanted)?;
        obj.load_only(&wanted)?;
    }
    if let Some(dir) = a.one(CMD, "dump-insns")? {
        std::fs::create_dir_all(dir).map_err(|e| Fail::error(format!("{dir}: {e}")))?;
        obj.options_mut().dump_insns = Some(PathBuf::from(dir));
    }
    // Before anything can start threads: SIGINT/SIGTERM go to a signalfd.
    let interrupt = Interrupt::new()?;
    let mut obj = load(obj)?;
    print_loaded(path, &obj)?;
    if !a.has("no-attach") {
        attach(&mut obj)?;
    }
    let pinned = a.one(CMD, "pin")?;
    if let Some(dir) = pinned {
        pin_all(&obj, Path::new(dir))?;
    }
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
    let (nl, np, nm) = (obj.links().len(), obj.programs().len(), obj.maps().len());
    obj.detach_all();
    drop(obj);
    match pinned {
        None => println!(
            "detached {}, unloaded {} and {}",
            plural(nl, "link"),
            plural(np, "program"),
            plural(nm, "map")
        ),
        Some(dir) => println!(
            "closed {}, {} and {}; their pins under {dir} keep them loaded",
            plural(nl, "link"),
            plural(np, "program"),
            plural(nm, "map")
        ),
    }
    Ok(())
}

pub fn run_test_run(argv: &[String]) -> Result<(), Fail> {
    const CMD: &str = "test-run";
    let a = Args::parse(CMD, argv, TEST_RUN_OPTS)?;
    if crate::print_help_if(CMD, &a) {
        return Ok(());
    }
    a.expect_positional(CMD, &["OBJ", "PROGRAM"])?;
    let path = a.positional[0].as_str();
    let prog = a.positional[1].as_str();
    let size = a.num::<usize>(CMD, "data-size")?.unwrap_or(64);
    if size > 1 << 24 {
        return Err(Fail::usage(CMD, "--data-size is limited to 16 MiB"));
    }
    let repeat = a.num::<u32>(CMD, "repeat")?.unwrap_or(1);
    let mut obj = open(CMD, path, &a)?;
    check_programs(&obj, &[prog])?;
    obj.load_only(&[prog])?;
    let obj = load(obj)?;
    let p = obj
        .program(prog)
        .ok_or_else(|| Fail::error(format!("program {prog} was not loaded")))?;
    let data = vec![0u8; size];
    let r = p.test_run(&TestRunOpts {
        data_in: &data,
        repeat,
        ..Default::default()
    })?;
    println!(
        "program: {} ({}, id {})",
        p.name(),
        names::prog_type(p.prog_type()),
        p.id()?
    );
    println!("retval: {}", r.retval);
    println!("duration: {} ns", r.duration_ns);
    Ok(())
}
