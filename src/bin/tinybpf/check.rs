//! `tinybpf check OBJ [--btf FILE]...`: CO-RE relocations against target BTF,
//! without loading.

use crate::Fail;

pub const HELP: &str = "\
tinybpf check: resolve CO-RE relocations without loading (no root)

Usage: tinybpf check OBJ [--btf FILE]...
";

pub fn run(_argv: &[String]) -> Result<(), Fail> {
    Err(Fail::error("check: not built yet"))
}
