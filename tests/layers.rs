//! The crate's layering, checked: every `crate::…` path in `src/**/*.rs`
//! must point to a module its own layer may import (the table below, the
//! same as in docs/architecture.md). Pure layers (obj, btf, reloc) never
//! reach `sys` or the load pipeline; run-time types never reach `load` or
//! `open`; nothing but `open.rs`/`lib.rs`/`kernel.rs` reaches into `load`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The run-time handles, from the bottom up: each may import only those
/// before it, so they form no cycle (`link` knows no attach kind: `net`
/// gives it a `Detach`; `program` knows no iterator, multi-probe or USDT:
/// the dispatch by section is `auto_attach`, above them all).
const RUNTIME: &[&str] = &[
    "callback",
    "tracefs",
    "uprobe",
    "netlink",
    "map",
    "events",
    "ringbuf",
    "perfbuf",
    "link",
    "program",
    "iter",
    "multi",
    "usdt",
    "auto_attach",
    "object",
    "net",
];

/// Top-level modules each layer may import besides itself (`None`: any).
fn allowed(layer: &str) -> Option<Vec<&'static str>> {
    let v = match layer {
        "abi" | "util" => vec![],
        "btf" => vec!["util", "abi"],
        "sys" => vec!["abi", "util"],
        "obj" => vec!["btf", "abi", "util"],
        "reloc" => vec!["obj", "btf", "abi", "util"],
        // Skeleton generator: pure (its Builder spawns clang with std only).
        "skel" => vec!["obj", "btf", "abi", "util"],
        // The crate's error wraps every layer's error type (data only),
        // including the leaf run-time ones (tracefs, uprobe, netlink import
        // only sys).
        "error" => vec![
            "sys", "obj", "btf", "reloc", "abi", "util", "tracefs", "uprobe", "netlink",
        ],
        // Feature probes: tiny programs, maps and BTF loaded once per process.
        "features" => vec!["sys", "abi", "obj", "btf", "util", "error"],
        l if RUNTIME.contains(&l) => {
            let mut v = vec!["sys", "abi", "obj", "btf", "util", "error", "features"];
            let rank = RUNTIME.iter().position(|m| *m == l).unwrap();
            v.extend_from_slice(&RUNTIME[..rank]);
            v
        }
        "load" => {
            let mut v = vec![
                "sys", "abi", "obj", "btf", "util", "error", "reloc", "features",
            ];
            v.extend_from_slice(RUNTIME);
            v
        }
        "open" | "lib" | "kernel" | "skeleton" => return None,
        other => panic!(
            "src/{other}: a top-level module missing from the layer table in tests/layers.rs \
             (and docs/architecture.md): give it a row"
        ),
    };
    Some(v)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The layer of a file: its top-level module under src/.
fn layer_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// The top-level modules named by `crate::` paths in `code` (comments
/// stripped; `$crate::` of macros ignored), with their line numbers.
fn crate_refs(code: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in code.lines().enumerate() {
        let line = match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        };
        let b = line.as_bytes();
        let mut from = 0;
        while let Some(i) = line[from..].find("crate::") {
            let at = from + i;
            from = at + 7;
            if at > 0
                && (b[at - 1] == b'$' || b[at - 1] == b'_' || b[at - 1].is_ascii_alphanumeric())
            {
                continue;
            }
            let rest = &line[at + 7..];
            if let Some(group) = rest.strip_prefix('{') {
                // `crate::{a::b, c}`: the first segment of each item (one line).
                let mut depth = 0;
                let mut item = String::new();
                for ch in group.chars() {
                    match ch {
                        '{' => depth += 1,
                        '}' if depth == 0 => break,
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            push_first(&item, n, &mut out);
                            item.clear();
                            continue;
                        }
                        _ => {}
                    }
                    item.push(ch);
                }
                push_first(&item, n, &mut out);
            } else {
                push_first(rest, n, &mut out);
            }
        }
    }
    out
}

fn push_first(path: &str, line: usize, out: &mut Vec<(usize, String)>) {
    let seg: String = path
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    if !seg.is_empty() && seg != "self" {
        out.push((line + 1, seg));
    }
}

/// Every `crate::` import that its layer's row does not allow.
fn violations(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut bad = Vec::new();
    for f in &files {
        let layer = layer_of(src, f);
        let Some(ok) = allowed(&layer) else { continue };
        let code = std::fs::read_to_string(f).unwrap();
        for (line, target) in crate_refs(&code) {
            if target == layer || ok.contains(&target.as_str()) {
                continue;
            }
            bad.push(format!(
                "{}:{line}: layer `{layer}` imports `crate::{target}` (allowed: {})",
                f.display(),
                if ok.is_empty() {
                    "std only".to_string()
                } else {
                    ok.join(", ")
                }
            ));
        }
    }
    bad
}

#[test]
fn every_import_follows_the_layer_table() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let bad = violations(&src);
    assert!(bad.is_empty(), "layering violations:\n{}", bad.join("\n"));
}

#[test]
fn the_checker_sees_imports() {
    let refs = crate_refs(
        "use crate::sys::{self, MapFd};\nuse crate::{obj::ObjectSpec, btf::Btf};\n\
         // crate::load in a comment\nlet x = $crate::sys::Pod;\nfoo(crate::load::run());\n",
    );
    let got: BTreeSet<(usize, &str)> = refs.iter().map(|(l, s)| (*l, s.as_str())).collect();
    let want: BTreeSet<(usize, &str)> = [(1, "sys"), (2, "obj"), (2, "btf"), (5, "load")]
        .into_iter()
        .collect();
    assert_eq!(got, want);
    // A pure layer reaching for a syscall is refused; the load pipeline may.
    assert!(!allowed("reloc").unwrap().contains(&"sys"));
    assert!(!allowed("object").unwrap().contains(&"load"));
    assert!(allowed("load").unwrap().contains(&"sys"));
    // Run-time handles only import those below them.
    assert!(allowed("program").unwrap().contains(&"link"));
    assert!(!allowed("link").unwrap().contains(&"program"));
    assert!(!allowed("program").unwrap().contains(&"iter"));
}
