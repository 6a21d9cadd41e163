//! `.kconfig` externs: layout at open (no kernel), values on the running
//! kernel checked by a BPF program against expectations computed here
//! independently (gzip(1) for the config, /proc for the release), and load
//! errors for a strong missing extern and a value that does not fit.

mod common;

use std::collections::HashMap;
use tinybpf::btf::Kind;
use tinybpf::obj::kconfig::KconfigType;
use tinybpf::obj::{DataKind, ObjectSpec};
use tinybpf::{Error, OpenObject, TestRunOpts};

fn spec(name: &str) -> ObjectSpec {
    let bytes = std::fs::read(common::obj(name)).unwrap();
    ObjectSpec::parse(&tinybpf::obj::object_name(name), &bytes).unwrap()
}

#[test]
fn layout_at_open() {
    let s = spec("kconfig.bpf.o");
    let m = s
        .maps
        .iter()
        .find(|m| m.data == Some(DataKind::Kconfig))
        .expect("a .kconfig map");
    assert_eq!(m.name, "kconfig.kconfig");
    assert_eq!((m.key_size, m.max_entries), (4, 1));
    assert_eq!(m.initial.len(), m.value_size as usize);
    let btf = s.btf.as_ref().unwrap();
    let sec = btf.type_by_id(m.btf_value_type_id).unwrap();
    assert_eq!((sec.kind, sec.name), (Kind::Datasec, ".kconfig"));
    assert_eq!(sec.size(), Some(m.value_size));
    // Offsets: in declaration order, aligned, not overlapping, inside the map,
    // the same in the spec and in the BTF; VARs no longer extern.
    let (_, vars) = tinybpf::obj::kconfig::vars(btf).unwrap();
    assert_eq!(vars.len(), 13);
    assert_eq!(s.kconfig_offsets.len(), 13);
    let mut end = 0;
    for (v, (name, off)) in vars.iter().zip(&s.kconfig_offsets) {
        assert_eq!(&v.name, name);
        assert_eq!(v.offset, *off);
        assert_eq!(v.offset % v.ty.align(), 0, "{name} misaligned");
        assert!(v.offset >= end, "{name} overlaps");
        end = v.offset + v.ty.size();
        assert_eq!(btf.type_by_id(v.var_id).unwrap().linkage(), Some(1));
    }
    assert_eq!(end, m.value_size);
    let ty: HashMap<&str, KconfigType> = vars.iter().map(|v| (v.name.as_str(), v.ty)).collect();
    assert_eq!(ty["CONFIG_BPF"], KconfigType::Bool);
    assert_eq!(
        ty["CONFIG_HZ"],
        KconfigType::Int {
            size: 4,
            signed: true
        }
    );
    assert_eq!(
        ty["CONFIG_PHYSICAL_START"],
        KconfigType::Int {
            size: 8,
            signed: false
        }
    );
    assert_eq!(ty["CONFIG_BPF_SYSCALL"], KconfigType::Tristate { size: 4 });
    assert_eq!(ty["CONFIG_X86_64"], KconfigType::Char);
    assert_eq!(
        ty["CONFIG_LOCALVERSION"],
        KconfigType::CharArray { len: 16 }
    );
    assert_eq!(
        ty["CONFIG_TINYBPF_U16_MISSING"],
        KconfigType::Int {
            size: 2,
            signed: false
        }
    );
    // Externs: all kconfig, weak-ness from the ELF symbols.
    for e in &s.externs {
        assert!(e.kconfig, "{} not marked kconfig", e.name);
    }
    let weak = |n: &str| s.externs.iter().find(|e| e.name == n).unwrap().weak;
    assert!(weak("CONFIG_TINYBPF_DOES_NOT_EXIST"));
    assert!(!weak("CONFIG_BPF"));
    // Code references became .kconfig references.
    let refs: usize = s
        .code
        .iter()
        .flat_map(|c| c.relocs.values())
        .filter(|r| matches!(r, tinybpf::obj::Reloc::Kconfig { .. }))
        .count();
    assert!(refs >= 13, "only {refs} .kconfig relocations");
    // Objects without externs get no such map.
    assert!(spec("globals.bpf.o")
        .maps
        .iter()
        .all(|m| m.data != Some(DataKind::Kconfig)));
}

/// The running kernel's config through gzip(1) (or /boot), not tinybpf.
fn config_independently() -> HashMap<String, String> {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let text = match std::process::Command::new("gzip")
        .args(["-dc", "/proc/config.gz"])
        .output()
    {
        Ok(o) if o.status.success() => String::from_utf8(o.stdout).unwrap(),
        _ => std::fs::read_to_string(format!("/boot/config-{}", release.trim()))
            .expect("no kernel config in /proc/config.gz or /boot"),
    };
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn version_independently() -> u32 {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let nums: Vec<u32> = release
        .trim()
        .split(['.', '-', '+', '_'])
        .take(3)
        .map(|p| {
            p.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .map(|p| p.parse().unwrap_or(0))
        .collect();
    (nums[0] << 16) | (nums[1] << 8) | nums.get(2).copied().unwrap_or(0).min(255)
}

#[test]
fn values_on_the_running_kernel() {
    if !common::root_or_skip("values_on_the_running_kernel") {
        return;
    }
    let cfg = config_independently();
    let hz: i32 = cfg["CONFIG_HZ"].parse().unwrap();
    let phys = cfg
        .get("CONFIG_PHYSICAL_START")
        .map(|v| u64::from_str_radix(v.trim_start_matches("0x"), 16).unwrap())
        .unwrap_or(0);
    let x86_64 = cfg
        .get("CONFIG_X86_64")
        .map(|v| v.as_bytes()[0])
        .unwrap_or(0);
    let mut localversion = [0u8; 16];
    if let Some(v) = cfg.get("CONFIG_LOCALVERSION") {
        let v = v.trim_matches('"').as_bytes();
        let n = v.len().min(15);
        localversion[..n].copy_from_slice(&v[..n]);
    }
    let version = version_independently();

    // The program really checks: a wrong expectation is reported.
    let mut open = OpenObject::open(common::obj("kconfig.bpf.o")).unwrap();
    open.set_global("expect_version", &version.to_le_bytes())
        .unwrap();
    open.set_global("expect_hz", &(hz + 1).to_le_bytes())
        .unwrap();
    let run = open
        .load()
        .unwrap()
        .program("xdp_kconfig")
        .unwrap()
        .test_run(&TestRunOpts::default().data_in(&[0u8; 64]).repeat(1))
        .unwrap();
    assert_eq!(
        run.retval, 4,
        "a wrong CONFIG_HZ expectation must fail check #4"
    );

    let mut open = OpenObject::open(common::obj("kconfig.bpf.o")).unwrap();
    open.set_global("expect_version", &version.to_le_bytes())
        .unwrap();
    open.set_global("expect_hz", &hz.to_le_bytes()).unwrap();
    open.set_global("expect_phys_start", &phys.to_le_bytes())
        .unwrap();
    open.set_global("expect_x86_64", &[x86_64]).unwrap();
    open.set_global("expect_localversion", &localversion)
        .unwrap();
    let obj = open.load().unwrap();
    // The patched BTF (sized DATASEC, global VARs) was accepted.
    assert!(obj.btf_fd().is_some(), "kernel refused the object's BTF");
    let run = obj
        .program("xdp_kconfig")
        .unwrap()
        .test_run(&TestRunOpts::default().data_in(&[0u8; 64]).repeat(1))
        .unwrap();
    assert_eq!(
        run.retval, 0,
        "check #{} of xdp_kconfig failed (see bpf/kconfig.bpf.c)",
        run.retval
    );

    // The map as user space sees it (mmap'd, frozen).
    let m = obj.map("kconfig.kconfig").expect(".kconfig map");
    let data = m.data().expect(".kconfig is mmap'd");
    let s = spec("kconfig.bpf.o");
    let off = |n: &str| {
        s.kconfig_offsets
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, o)| *o as usize)
            .unwrap()
    };
    let u32_at = |o: usize| u32::from_le_bytes(data[o..o + 4].try_into().unwrap());
    assert_eq!(u32_at(off("LINUX_KERNEL_VERSION")), version);
    assert_eq!(u32_at(off("CONFIG_HZ")) as i32, hz);
    assert_eq!(data[off("CONFIG_BPF")], 1);
    assert_eq!(data[off("CONFIG_TINYBPF_DOES_NOT_EXIST")], 0);
    assert_eq!(u32_at(off("CONFIG_BPF_SYSCALL")), 1);
    assert_eq!(&data[off("CONFIG_LOCALVERSION")..][..16], &localversion);
    // Read-only to the program, frozen for user space.
    let key = 0u32.to_le_bytes();
    assert!(m.update(&key, &vec![0u8; data.len()], 0).is_err());
}

#[test]
fn strong_missing_extern_fails_naming_it() {
    if !common::root_or_skip("strong_missing_extern_fails_naming_it") {
        return;
    }
    let err = OpenObject::open(common::obj("kconfig_missing.bpf.o"))
        .unwrap()
        .load()
        .unwrap_err();
    let msg = err.to_string();
    eprintln!("{msg}");
    assert!(matches!(err, Error::Kconfig { .. }), "{err:?}");
    assert!(msg.contains("CONFIG_TINYBPF_STRONG_MISSING"), "{msg}");
    assert!(msg.contains("not __weak"), "{msg}");
}

#[test]
fn value_not_fitting_its_type_fails_naming_it() {
    if !common::root_or_skip("value_not_fitting_its_type_fails_naming_it") {
        return;
    }
    let err = OpenObject::open(common::obj("kconfig_badtype.bpf.o"))
        .unwrap()
        .load()
        .unwrap_err();
    let msg = err.to_string();
    eprintln!("{msg}");
    assert!(msg.contains("extern CONFIG_HZ"), "{msg}");
    assert!(msg.contains("does not fit"), "{msg}");
}
