//! Uprobe targets: a symbol of an ELF file → the file offset the kernel wants.

use object::{Object, ObjectSegment, ObjectSymbol};
use std::path::Path;

/// File offset of `symbol` in the ELF file at `path` (symtab, then dynsym),
/// translated from its virtual address through the program headers.
pub fn symbol_offset(path: &Path, symbol: &str) -> Result<u64, String> {
    let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    elf_symbol_offset(&data, symbol).map_err(|e| format!("{}: {e}", path.display()))
}

/// The same, over the file's bytes (pure).
pub fn elf_symbol_offset(data: &[u8], symbol: &str) -> Result<u64, String> {
    let file = object::File::parse(data).map_err(|e| format!("not an ELF file: {e}"))?;
    let sym = file
        .symbols()
        .chain(file.dynamic_symbols())
        .find(|s| s.name() == Ok(symbol) && s.is_definition())
        .ok_or_else(|| format!("no symbol {symbol}"))?;
    let addr = sym.address();
    for seg in file.segments() {
        let (start, size) = (seg.address(), seg.size());
        if addr >= start && addr < start + size {
            let (foff, _) = seg.file_range();
            return Ok(addr - start + foff);
        }
    }
    // Relocatable or unusual files: the address is the offset.
    Ok(addr)
}
