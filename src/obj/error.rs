//! Errors of object parsing: each names the section, symbol or instruction.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum ParseError {
    #[error("empty file (0 bytes): not a BPF object")]
    Empty,
    #[error("truncated: {what} needs {needs} bytes, file has {has}")]
    Truncated { what: String, needs: u64, has: u64 },
    #[error("not a valid ELF file: {0}")]
    Elf(String),
    #[error("not a BPF object: ELF machine is {machine} (expected 247, EM_BPF), class {class}")]
    NotBpf { machine: u16, class: &'static str },
    #[error("section {section}: {reason}")]
    Section { section: String, reason: String },
    #[error("symbol {symbol}: {reason}")]
    Symbol { symbol: String, reason: String },
    #[error("section {section}, instruction {insn}: relocation against {symbol}: {reason}")]
    Reloc {
        section: String,
        insn: usize,
        symbol: String,
        reason: String,
    },
    #[error("map {map}: {reason}")]
    Map { map: String, reason: String },
    #[error("BTF: {0}")]
    Btf(String),
    #[error(".BTF.ext: {0}")]
    BtfExt(String),
    #[error("extern {name}: {reason}")]
    Extern { name: String, reason: String },
}

impl From<object::Error> for ParseError {
    fn from(e: object::Error) -> Self {
        ParseError::Elf(e.to_string())
    }
}

pub(crate) fn sec_err(section: &str, reason: impl Into<String>) -> ParseError {
    ParseError::Section {
        section: section.to_string(),
        reason: reason.into(),
    }
}
