//! Helpers of the CLI tests: run the binary, read its tables.
#![allow(dead_code)]

use crate::common;
use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_tinybpf");

pub struct Run {
    pub code: i32,
    pub out: String,
    pub err: String,
}

pub fn tinybpf(args: &[&str]) -> Run {
    tinybpf_with(args, &[])
}

/// Run with extra environment variables (`RUST_LOG` is unset otherwise);
/// arguments may be any `OsStr` (non-UTF-8 paths).
pub fn tinybpf_with<A: AsRef<OsStr>>(args: &[A], env: &[(&str, &str)]) -> Run {
    let mut c = Command::new(BIN);
    c.args(args).env_remove("RUST_LOG");
    for (k, v) in env {
        c.env(k, v);
    }
    let o: Output = c.output().expect("run tinybpf");
    Run {
        code: o.status.code().unwrap_or(-1),
        out: String::from_utf8_lossy(&o.stdout).into_owned(),
        err: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

pub fn obj(name: &str) -> String {
    common::obj(name).display().to_string()
}

/// A fresh scratch directory for this test.
pub fn scratch(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tinybpf-cli-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// The row of a table whose first column is `first`, split into columns.
pub fn row<'a>(out: &'a str, first: &str) -> Vec<&'a str> {
    out.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|c| c.first() == Some(&first))
        .unwrap_or_else(|| panic!("no row starting with {first:?} in:\n{out}"))
}

/// Wait up to 2 s for a program id to disappear (freeing can trail close()).
pub fn prog_gone(id: u32) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(2) {
        if !common::prog_ids().contains(&id) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// The kernel id in the ID column of `first`'s row.
pub fn id_of(out: &str, first: &str) -> u32 {
    row(out, first)
        .last()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("no id for {first} in:\n{out}"))
}
