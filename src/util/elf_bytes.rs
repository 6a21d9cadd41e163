//! [`ElfBytes`]: an ELF file's bytes as `object`'s [`ReadRef`], with string
//! lookups done by a plain scan (`object`'s errors here are `()`: the
//! caller turns them into its own).
//!
//! `&[u8]`'s own `read_bytes_at_until` (every section and symbol name)
//! calls the `memchr` crate, whose first call asks the CPU which vector
//! extensions it has: a dozen `cpuid` instructions, each a VM exit under a
//! hypervisor (~7 µs here), about a tenth of parsing a small object in a
//! fresh process. Names are short, so a byte loop is as fast.

use std::ops::Range;

use object::ReadRef;

/// Whether `data` says it is a 32-bit ELF file (`e_ident[EI_CLASS]` is
/// `ELFCLASS32`); the magic is not checked: callers parse it anyway.
pub(crate) fn is_elf32(data: &[u8]) -> bool {
    data.get(4) == Some(&1)
}

/// An object file's bytes, read by `object` through this type.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ElfBytes<'a>(pub(crate) &'a [u8]);

impl<'a> ReadRef<'a> for ElfBytes<'a> {
    fn len(self) -> Result<u64, ()> {
        Ok(self.0.len() as u64)
    }

    fn read_bytes_at(self, offset: u64, size: u64) -> Result<&'a [u8], ()> {
        self.0.read_bytes_at(offset, size)
    }

    fn read_bytes_at_until(self, range: Range<u64>, delimiter: u8) -> Result<&'a [u8], ()> {
        let start = usize::try_from(range.start).map_err(drop)?;
        let end = usize::try_from(range.end).map_err(drop)?;
        let b = self.0.get(start..end).ok_or(())?;
        let n = b.iter().position(|&c| c == delimiter).ok_or(())?;
        Ok(&b[..n])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_as_slices() {
        let b: &[u8] = b"abc\0de\0f";
        let e = ElfBytes(b);
        for s in 0..10u64 {
            for t in s..11 {
                assert_eq!(
                    e.read_bytes_at_until(s..t, 0).ok(),
                    b.read_bytes_at_until(s..t, 0).ok(),
                    "{s}..{t}"
                );
            }
        }
        assert_eq!(ReadRef::len(e).ok(), Some(8));
        assert_eq!(e.read_bytes_at(4, 2).ok(), Some(&b"de"[..]));
    }
}
