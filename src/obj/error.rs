//! Errors of object parsing: each names the section, symbol or instruction.

use thiserror::Error;

#[derive(Debug, Error)]
/// Why an object file could not be parsed: each variant names the
/// section, symbol, map or instruction concerned.
pub enum ParseError {
    #[error("empty file (0 bytes): not a BPF object")]
    /// The file is empty.
    Empty,
    #[error("truncated: {what} needs {needs} bytes, file has {has}")]
    /// A structure ends past the end of the file.
    Truncated {
        /// What was being read.
        what: String,
        /// Bytes it needs.
        needs: u64,
        /// Bytes there are.
        has: u64,
    },
    #[error("not a valid ELF file: {0}")]
    /// The ELF structure itself is malformed.
    Elf(String),
    #[error("not a BPF object: ELF machine is {machine} (expected 247, EM_BPF), class {class}")]
    /// Not a 64-bit little-endian BPF ELF file.
    NotBpf {
        /// The ELF `e_machine`.
        machine: u16,
        /// The ELF class and byte order found.
        class: &'static str,
    },
    #[error("section {section}: {reason}")]
    /// A section is malformed.
    Section {
        /// The section's name.
        section: String,
        /// What is wrong.
        reason: String,
    },
    #[error("symbol {symbol}: {reason}")]
    /// A symbol is malformed or unusable.
    Symbol {
        /// The symbol's name.
        symbol: String,
        /// What is wrong.
        reason: String,
    },
    #[error("section {section}, instruction {insn}: relocation against {symbol}: {reason}")]
    /// A relocation cannot be applied.
    Reloc {
        /// The code section.
        section: String,
        /// Instruction index within the section.
        insn: usize,
        /// The symbol the relocation refers to.
        symbol: String,
        /// What is wrong.
        reason: String,
    },
    #[error("map {map}: {reason}")]
    /// A map definition is invalid.
    Map {
        /// The map's name.
        map: String,
        /// What is wrong.
        reason: String,
    },
    #[error("BTF: {0}")]
    /// The `.BTF` section could not be parsed.
    Btf(String),
    #[error(".BTF.ext: {0}")]
    /// The `.BTF.ext` section could not be parsed.
    BtfExt(String),
    #[error("extern {name}: {reason}")]
    /// An extern (`.kconfig` / `.ksyms`) is unusable.
    Extern {
        /// The extern's name.
        name: String,
        /// What is wrong.
        reason: String,
    },
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
