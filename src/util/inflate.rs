//! A small DEFLATE (RFC 1951) and gzip (RFC 1952) decoder, enough to read
//! `/proc/config.gz`.
//!
//! Output is bounded by a caller-given limit, every length field is checked
//! before use, and corrupt or truncated input is a typed [`InflateError`]
//! naming what was wrong and where (byte offset in the input); no input can
//! make it panic. Speed is secondary: Huffman codes are decoded canonically,
//! one bit at a time, which is plenty for a few hundred KiB.
//!
//! Only linked with the `kconfig-gz` feature (on by default); without it
//! [`InflateError`] is all that is used, and gzip data is
//! [`InflateError::NotCompiledIn`].
#![cfg_attr(not(feature = "kconfig-gz"), allow(dead_code))]

use thiserror::Error;

/// What was wrong with a compressed stream. `at` is a byte offset in the input.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum InflateError {
    #[error(
        "the kernel config is gzip-compressed (/proc/config.gz) and this build of tinybpf \
         has no `kconfig-gz` feature: rebuild with default features, or provide \
         /boot/config-$(uname -r)"
    )]
    /// gzip input, but the decoder was left out (`kconfig-gz` feature off).
    NotCompiledIn,
    #[error("compressed data truncated at byte {at}")]
    /// The input ends inside a block.
    Truncated {
        /// Byte offset in the input.
        at: usize,
    },
    #[error("byte {at}: invalid block type 3")]
    /// A block has the reserved type 3.
    BadBlockType {
        /// Byte offset in the input.
        at: usize,
    },
    #[error("byte {at}: stored block length {len:#06x} does not match its complement {nlen:#06x}")]
    /// A stored block's length and its complement disagree.
    StoredLength {
        /// Byte offset in the input.
        at: usize,
        /// The length.
        len: u16,
        /// Its stored complement.
        nlen: u16,
    },
    #[error("byte {at}: bad Huffman code lengths: {what}")]
    /// The Huffman code lengths do not form a valid code.
    BadCodes {
        /// Byte offset in the input.
        at: usize,
        /// Which part is invalid.
        what: &'static str,
    },
    #[error("byte {at}: invalid Huffman code")]
    /// A bit sequence is no Huffman code.
    BadSymbol {
        /// Byte offset in the input.
        at: usize,
    },
    #[error("byte {at}: invalid {what} symbol {symbol}")]
    /// A length or distance symbol is out of range.
    BadLengthOrDistance {
        /// Byte offset in the input.
        at: usize,
        /// Which part is invalid.
        what: &'static str,
        /// The symbol.
        symbol: u16,
    },
    #[error(
        "byte {at}: distance {distance} reaches before the start of the output ({have} bytes)"
    )]
    /// A back-reference reaches before the start of the output.
    DistanceTooFar {
        /// Byte offset in the input.
        at: usize,
        /// The distance.
        distance: usize,
        /// Bytes decompressed so far.
        have: usize,
    },
    #[error("decompressed data exceeds the limit of {limit} bytes")]
    /// The output would exceed the limit.
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    #[error("gzip header: {0}")]
    /// The gzip header is invalid.
    BadHeader(&'static str),
    #[error("gzip member at byte {at}: CRC32 is {actual:#010x}, trailer says {expected:#010x}")]
    /// A gzip member's CRC32 does not match its trailer.
    Crc {
        /// Byte offset in the input.
        at: usize,
        /// What the trailer says.
        expected: u32,
        /// What the data gives.
        actual: u32,
    },
    #[error("gzip member at byte {at}: size is {actual} (mod 2^32), trailer says {expected}")]
    /// A gzip member's size does not match its trailer.
    Size {
        /// Byte offset in the input.
        at: usize,
        /// What the trailer says.
        expected: u32,
        /// What the data gives.
        actual: u32,
    },
}

type Result<T> = std::result::Result<T, InflateError>;

/// Longest Huffman code DEFLATE allows.
const MAX_BITS: usize = 15;

/// Base lengths and extra bits of length symbols 257..=285.
const LEN_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LEN_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
/// Base distances and extra bits of distance symbols 0..=29.
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];
/// Order in which code-length code lengths are sent.
const CLEN_ORDER: [usize; 19] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

/// LSB-first bit reader over a byte slice.
struct Bits<'a> {
    data: &'a [u8],
    /// Next byte to load into `buf`.
    pos: usize,
    buf: u64,
    cnt: u32,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8]) -> Self {
        Bits {
            data,
            pos: 0,
            buf: 0,
            cnt: 0,
        }
    }

    /// Byte offset of the next unread bit (for error messages).
    fn at(&self) -> usize {
        self.pos - (self.cnt as usize).div_ceil(8)
    }

    /// Read `n` (<= 32) bits.
    fn bits(&mut self, n: u32) -> Result<u32> {
        debug_assert!(n <= 32);
        while self.cnt < n {
            let Some(&b) = self.data.get(self.pos) else {
                return Err(InflateError::Truncated { at: self.pos });
            };
            self.buf |= (b as u64) << self.cnt;
            self.pos += 1;
            self.cnt += 8;
        }
        let v = (self.buf & ((1u64 << n) - 1)) as u32;
        self.buf >>= n;
        self.cnt -= n;
        Ok(v)
    }

    /// Drop bits up to the next byte boundary.
    fn align(&mut self) {
        let r = self.cnt % 8;
        self.buf >>= r;
        self.cnt -= r;
    }

    /// Take `n` whole bytes (after [`Bits::align`]).
    fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        // Give back whole buffered bytes first.
        let back = (self.cnt / 8) as usize;
        self.pos -= back;
        self.buf = 0;
        self.cnt = 0;
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.data.len())
            .ok_or(InflateError::Truncated {
                at: self.data.len(),
            })?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    /// Bytes consumed so far, counting a partly read byte as consumed.
    fn consumed(&self) -> usize {
        self.pos - (self.cnt as usize) / 8
    }
}

/// A canonical Huffman code: how many codes of each length, and the symbols
/// ordered by code.
struct Huffman {
    counts: [u16; MAX_BITS + 1],
    symbols: Vec<u16>,
}

impl Huffman {
    /// Build from code lengths (0 = symbol unused). Over-subscribed lengths
    /// are an error; incomplete codes are accepted (an unassigned code is
    /// reported when met).
    fn new(lengths: &[u8], at: usize) -> Result<Huffman> {
        let mut counts = [0u16; MAX_BITS + 1];
        for &l in lengths {
            let l = l as usize;
            if l > MAX_BITS {
                return Err(InflateError::BadCodes {
                    at,
                    what: "code length over 15",
                });
            }
            counts[l] += 1;
        }
        counts[0] = 0;
        let mut left: i32 = 1;
        for &c in &counts[1..] {
            left = left * 2 - c as i32;
            if left < 0 {
                return Err(InflateError::BadCodes {
                    at,
                    what: "over-subscribed code",
                });
            }
        }
        let mut offs = [0u16; MAX_BITS + 2];
        for len in 1..=MAX_BITS {
            offs[len + 1] = offs[len] + counts[len];
        }
        let mut symbols = vec![0u16; offs[MAX_BITS + 1] as usize];
        for (sym, &l) in lengths.iter().enumerate() {
            if l != 0 {
                let o = &mut offs[l as usize];
                if let Some(slot) = symbols.get_mut(*o as usize) {
                    *slot = sym as u16;
                }
                *o += 1;
            }
        }
        Ok(Huffman { counts, symbols })
    }

    fn decode(&self, b: &mut Bits<'_>) -> Result<u16> {
        let at = b.at();
        let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
        for len in 1..=MAX_BITS {
            code |= b.bits(1)? as i32;
            let count = self.counts[len] as i32;
            if code - first < count {
                let i = (index + code - first) as usize;
                return self
                    .symbols
                    .get(i)
                    .copied()
                    .ok_or(InflateError::BadSymbol { at });
            }
            index += count;
            first = (first + count) << 1;
            code <<= 1;
        }
        Err(InflateError::BadSymbol { at })
    }
}

fn fixed_codes() -> (Huffman, Huffman) {
    let mut l = [0u8; 288];
    l[..144].fill(8);
    l[144..256].fill(9);
    l[256..280].fill(7);
    l[280..].fill(8);
    let d = [5u8; 30];
    // Both are complete or under-subscribed; construction cannot fail.
    let lit = Huffman::new(&l, 0).unwrap_or(Huffman {
        counts: [0; MAX_BITS + 1],
        symbols: Vec::new(),
    });
    let dist = Huffman::new(&d, 0).unwrap_or(Huffman {
        counts: [0; MAX_BITS + 1],
        symbols: Vec::new(),
    });
    (lit, dist)
}

fn dynamic_codes(b: &mut Bits<'_>) -> Result<(Huffman, Huffman)> {
    let at = b.at();
    let nlen = b.bits(5)? as usize + 257;
    let ndist = b.bits(5)? as usize + 1;
    let ncode = b.bits(4)? as usize + 4;
    if nlen > 286 || ndist > 30 {
        return Err(InflateError::BadCodes {
            at,
            what: "too many length or distance codes",
        });
    }
    let mut cl = [0u8; 19];
    for &i in CLEN_ORDER.iter().take(ncode) {
        cl[i] = b.bits(3)? as u8;
    }
    let clh = Huffman::new(&cl, at)?;
    let mut lengths = [0u8; 286 + 30];
    let total = nlen + ndist;
    let mut i = 0;
    while i < total {
        let sym = clh.decode(b)?;
        if sym < 16 {
            lengths[i] = sym as u8;
            i += 1;
            continue;
        }
        let (val, rep) = match sym {
            16 => {
                if i == 0 {
                    return Err(InflateError::BadCodes {
                        at: b.at(),
                        what: "repeat with no previous length",
                    });
                }
                (lengths[i - 1], 3 + b.bits(2)? as usize)
            }
            17 => (0, 3 + b.bits(3)? as usize),
            _ => (0, 11 + b.bits(7)? as usize),
        };
        if i + rep > total {
            return Err(InflateError::BadCodes {
                at: b.at(),
                what: "code lengths repeat past the end",
            });
        }
        lengths[i..i + rep].fill(val);
        i += rep;
    }
    if lengths[256] == 0 {
        return Err(InflateError::BadCodes {
            at,
            what: "no code for end-of-block",
        });
    }
    let lit = Huffman::new(&lengths[..nlen], at)?;
    let dist = Huffman::new(&lengths[nlen..total], at)?;
    Ok((lit, dist))
}

fn codes(
    b: &mut Bits<'_>,
    out: &mut Vec<u8>,
    limit: usize,
    lit: &Huffman,
    dist: &Huffman,
) -> Result<()> {
    loop {
        let sym = lit.decode(b)?;
        match sym {
            0..=255 => {
                if out.len() >= limit {
                    return Err(InflateError::TooLarge { limit });
                }
                out.push(sym as u8);
            }
            256 => return Ok(()),
            _ => {
                let at = b.at();
                let li = (sym - 257) as usize;
                let (Some(&base), Some(&extra)) = (LEN_BASE.get(li), LEN_EXTRA.get(li)) else {
                    return Err(InflateError::BadLengthOrDistance {
                        at,
                        what: "length",
                        symbol: sym,
                    });
                };
                let len = base as usize + b.bits(extra as u32)? as usize;
                let dsym = dist.decode(b)?;
                let di = dsym as usize;
                let (Some(&dbase), Some(&dextra)) = (DIST_BASE.get(di), DIST_EXTRA.get(di)) else {
                    return Err(InflateError::BadLengthOrDistance {
                        at,
                        what: "distance",
                        symbol: dsym,
                    });
                };
                let d = dbase as usize + b.bits(dextra as u32)? as usize;
                if d > out.len() {
                    return Err(InflateError::DistanceTooFar {
                        at,
                        distance: d,
                        have: out.len(),
                    });
                }
                if out.len() + len > limit {
                    return Err(InflateError::TooLarge { limit });
                }
                let start = out.len() - d;
                // Overlapping copies repeat the pattern: go byte by byte.
                for k in 0..len {
                    let c = out[start + k];
                    out.push(c);
                }
            }
        }
    }
}

/// Decompress a raw DEFLATE stream into at most `limit` bytes. Returns the
/// output and how many input bytes the stream used.
pub(crate) fn inflate(data: &[u8], limit: usize) -> Result<(Vec<u8>, usize)> {
    let mut out = Vec::new();
    let mut b = Bits::new(data);
    let mut fixed: Option<(Huffman, Huffman)> = None;
    loop {
        let last = b.bits(1)? == 1;
        let at = b.at();
        match b.bits(2)? {
            0 => {
                b.align();
                let hdr = b.bytes(4)?;
                let len = u16::from_le_bytes([hdr[0], hdr[1]]);
                let nlen = u16::from_le_bytes([hdr[2], hdr[3]]);
                if len != !nlen {
                    return Err(InflateError::StoredLength { at, len, nlen });
                }
                let s = b.bytes(len as usize)?;
                if out.len() + s.len() > limit {
                    return Err(InflateError::TooLarge { limit });
                }
                out.extend_from_slice(s);
            }
            1 => {
                let (lit, dist) = fixed.get_or_insert_with(fixed_codes);
                codes(&mut b, &mut out, limit, lit, dist)?;
            }
            2 => {
                let (lit, dist) = dynamic_codes(&mut b)?;
                codes(&mut b, &mut out, limit, &lit, &dist)?;
            }
            _ => return Err(InflateError::BadBlockType { at }),
        }
        if last {
            return Ok((out, b.consumed()));
        }
    }
}

const fn crc_table() -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}

static CRC_TABLE: [u32; 256] = crc_table();

/// CRC-32 (IEEE 802.3, as gzip uses it).
pub(crate) fn crc32(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in data {
        c = CRC_TABLE[((c ^ b as u32) & 0xff) as usize] ^ (c >> 8);
    }
    !c
}

const FTEXT_HCRC: u8 = 0x02;
const FEXTRA: u8 = 0x04;
const FNAME: u8 = 0x08;
const FCOMMENT: u8 = 0x10;

/// Skip a gzip member header; returns the offset of the DEFLATE data.
fn gzip_header(d: &[u8]) -> Result<usize> {
    let bad = InflateError::BadHeader;
    if d.len() < 10 {
        return Err(bad("shorter than 10 bytes"));
    }
    if d[0] != 0x1f || d[1] != 0x8b {
        return Err(bad("no gzip magic (1f 8b)"));
    }
    if d[2] != 8 {
        return Err(bad("compression method is not deflate (8)"));
    }
    let flags = d[3];
    if flags & 0xe0 != 0 {
        return Err(bad("reserved flag bits set"));
    }
    let mut p = 10usize;
    if flags & FEXTRA != 0 {
        let x = d.get(p..p + 2).ok_or(bad("truncated extra field"))?;
        let xlen = u16::from_le_bytes([x[0], x[1]]) as usize;
        p = p
            .checked_add(2 + xlen)
            .filter(|&e| e <= d.len())
            .ok_or(bad("truncated extra field"))?;
    }
    for (flag, what) in [
        (FNAME, "truncated file name"),
        (FCOMMENT, "truncated comment"),
    ] {
        if flags & flag != 0 {
            let n = d
                .get(p..)
                .and_then(|s| s.iter().position(|&c| c == 0))
                .ok_or(bad(what))?;
            p += n + 1;
        }
    }
    if flags & FTEXT_HCRC != 0 {
        let h = d.get(p..p + 2).ok_or(bad("truncated header CRC"))?;
        let want = u16::from_le_bytes([h[0], h[1]]);
        if (crc32(&d[..p]) & 0xffff) as u16 != want {
            return Err(bad("header CRC mismatch"));
        }
        p += 2;
    }
    Ok(p)
}

/// Decompress gzip data (one member or several concatenated, as `gzip`
/// writes them) into at most `limit` bytes, checking each member's CRC32 and
/// size. Trailing zero padding after the last member is ignored.
pub(crate) fn gunzip(data: &[u8], limit: usize) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut p = 0usize;
    loop {
        let member = p;
        let hdr = gzip_header(&data[p..])?;
        p += hdr;
        let (chunk, used) = inflate(&data[p..], limit - out.len()).map_err(|e| shift(e, p))?;
        p += used;
        let t = data
            .get(p..p + 8)
            .ok_or(InflateError::Truncated { at: data.len() })?;
        let expected = u32::from_le_bytes([t[0], t[1], t[2], t[3]]);
        let size = u32::from_le_bytes([t[4], t[5], t[6], t[7]]);
        let actual = crc32(&chunk);
        if actual != expected {
            return Err(InflateError::Crc {
                at: member,
                expected,
                actual,
            });
        }
        if size != chunk.len() as u32 {
            return Err(InflateError::Size {
                at: member,
                expected: size,
                actual: chunk.len() as u32,
            });
        }
        p += 8;
        out.extend_from_slice(&chunk);
        if data[p..].iter().all(|&b| b == 0) {
            return Ok(out);
        }
    }
}

/// Make an error's offset relative to the whole input.
fn shift(e: InflateError, by: usize) -> InflateError {
    use InflateError::*;
    match e {
        Truncated { at } => Truncated { at: at + by },
        BadBlockType { at } => BadBlockType { at: at + by },
        StoredLength { at, len, nlen } => StoredLength {
            at: at + by,
            len,
            nlen,
        },
        BadCodes { at, what } => BadCodes { at: at + by, what },
        BadSymbol { at } => BadSymbol { at: at + by },
        BadLengthOrDistance { at, what, symbol } => BadLengthOrDistance {
            at: at + by,
            what,
            symbol,
        },
        DistanceTooFar { at, distance, have } => DistanceTooFar {
            at: at + by,
            distance,
            have,
        },
        other => other,
    }
}

#[cfg(test)]
mod tests;

/// Test helpers for other modules: a gzip writer using stored blocks.
#[cfg(test)]
pub(crate) mod tests_support {
    /// Wrap `data` in a gzip member of stored DEFLATE blocks.
    pub fn gzip_stored(data: &[u8]) -> Vec<u8> {
        let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
        let mut chunks = data.chunks(65535).peekable();
        if chunks.peek().is_none() {
            out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
        }
        while let Some(c) = chunks.next() {
            out.push(u8::from(chunks.peek().is_none()));
            let len = c.len() as u16;
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(&(!len).to_le_bytes());
            out.extend_from_slice(c);
        }
        out.extend_from_slice(&super::crc32(data).to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out
    }
}
