//! Regression tests for crafted objects that once panicked (issue #11),
//! built byte by byte with the generator's ELF writer (no tool needed).

#[path = "common/gen_elf.rs"]
mod gen_elf;

use gen_elf::*;
use tinybpf::obj::{ObjectSpec, ParseError};
use tinybpf::reloc::link::{link_program, LinkError};

const STT_NOTYPE: u8 = 0;
const STT_FUNC: u8 = 2;
/// File index of the first section given to `write_elf`.
const FIRST: u16 = 3;

fn sym(name: &str, bind: u8, ty: u8, shndx: u16, value: u64, size: u64) -> Sym {
    Sym {
        name: name.into(),
        info: (bind << 4) | ty,
        shndx,
        value,
        size,
    }
}

fn null_sym() -> Sym {
    sym("", 0, 0, 0, 0, 0)
}

fn code(insns: &[[u8; 8]]) -> Vec<u8> {
    insns.concat()
}

fn license() -> Section {
    Section::progbits("license", SHF_ALLOC | SHF_WRITE, b"GPL\0".to_vec())
}

/// Program `prog` in `tp/a/b` whose symbol size is `prog_len` instructions;
/// instruction 1 is an `ld_imm64` relocated against function `sub` of
/// `.text`. `tp/a/b` holds `code_len` instructions of the full body.
fn ld_imm64_func_object(prog_len: u64, code_len: usize) -> Vec<u8> {
    let body = [
        insn(MOV64_IMM, 0, 0, 0, 0),
        insn(LD_IMM64, 1, 0, 0, 0),
        insn(0, 0, 0, 0, 0),
        insn(EXIT, 0, 0, 0, 0),
    ];
    let sub = [insn(MOV64_IMM, 0, 0, 0, 1), insn(EXIT, 0, 0, 0, 0)];
    let secs = vec![
        Section::progbits("tp/a/b", SHF_ALLOC | SHF_EXEC, code(&body[..code_len])),
        Section::progbits(".text", SHF_ALLOC | SHF_EXEC, code(&sub)),
        license(),
        // Relocation of tp/a/b's instruction 1 against `sub` (symbol 2).
        Section::rel(".reltp/a/b", FIRST as u32, &[(8, 2, 1)]),
    ];
    let syms = vec![
        null_sym(),
        sym("prog", STB_GLOBAL, STT_FUNC, FIRST, 0, prog_len * 8),
        sym("sub", STB_GLOBAL, STT_FUNC, FIRST + 1, 0, 16),
    ];
    write_elf(secs, &syms, 1)
}

/// Issue #11, 1: a function's `.size` cuts an `ld_imm64` relocated against
/// a function in half. Linking it indexed past the end of the program.
#[test]
fn function_size_cutting_ld_imm64_is_an_error() {
    // Sanity: the uncut object links.
    let whole = ObjectSpec::parse("crafted", &ld_imm64_func_object(4, 4)).unwrap();
    link_program(&whole, 0, &Default::default()).expect("whole object links");

    // The symbol covers instructions 0..2: the ld_imm64's second half is
    // outside the function.
    let spec = ObjectSpec::parse("crafted", &ld_imm64_func_object(2, 4)).unwrap();
    match link_program(&spec, 0, &Default::default()) {
        Err(LinkError::Insn { insn, reason, .. }) => {
            assert_eq!(insn, 1);
            assert!(reason.contains("cut in half"), "{reason}");
        }
        other => panic!("expected a link error, got {other:?}"),
    }

    // The section itself ends after the first half: refused at parse.
    match ObjectSpec::parse("crafted", &ld_imm64_func_object(2, 2)) {
        Err(ParseError::Reloc { insn, reason, .. }) => {
            assert_eq!(insn, 1);
            assert!(reason.contains("truncated"), "{reason}");
        }
        other => panic!("expected a relocation error, got {other:?}"),
    }
}

/// `.data` of 8 bytes with a NOTYPE symbol of value `value`, and a program
/// whose `ld_imm64` (imm `imm`) is relocated against it.
fn data_reloc_object(value: u64, imm: i32) -> Vec<u8> {
    let body = [
        insn(LD_IMM64, 1, 0, 0, imm),
        insn(0, 0, 0, 0, 0),
        insn(MOV64_IMM, 0, 0, 0, 0),
        insn(EXIT, 0, 0, 0, 0),
    ];
    let secs = vec![
        Section::progbits("tp/a/b", SHF_ALLOC | SHF_EXEC, code(&body)),
        Section::progbits(".data", SHF_ALLOC | SHF_WRITE, vec![0; 8]),
        license(),
        Section::rel(".reltp/a/b", FIRST as u32, &[(0, 2, 1)]),
    ];
    let syms = vec![
        null_sym(),
        sym("prog", STB_GLOBAL, STT_FUNC, FIRST, 0, 32),
        sym("var", STB_GLOBAL, STT_NOTYPE, FIRST + 1, value, 0),
    ];
    write_elf(secs, &syms, 1)
}

/// Issue #11, 2: a data symbol's value near 2^63 overflowed the offset
/// computation (debug builds: "attempt to add with overflow").
#[test]
fn data_symbol_value_near_2_63_is_an_error() {
    let ok = ObjectSpec::parse("crafted", &data_reloc_object(4, 2)).unwrap();
    let l = link_program(&ok, 0, &Default::default()).unwrap();
    assert_eq!(l.insns[1].imm, 6, "offset 4 + 2 in .data");

    for (value, imm) in [
        (i64::MAX as u64, 1),
        (i64::MAX as u64, i32::MAX),
        (1 << 63, -1),
        (u64::MAX, 1),
        (u64::MAX, i32::MIN),
        (u64::MAX - 7, 0),
        (9, 0),
        (0, -1),
    ] {
        match ObjectSpec::parse("crafted", &data_reloc_object(value, imm)) {
            Err(ParseError::Reloc { symbol, reason, .. }) => {
                assert_eq!(symbol, "var");
                assert!(reason.contains("outside .data"), "{reason}");
            }
            other => panic!("value {value:#x} imm {imm}: expected an error, got {other:?}"),
        }
    }
}

/// Issue #11, 3: `encode_value` with crafted types (`CharArray{len:0}`
/// underflowed, `Int{size:16 or 0}` overflowed a shift).
#[test]
fn kconfig_encode_value_of_crafted_types_is_an_error() {
    use tinybpf::obj::kconfig::KconfigType;
    use tinybpf::reloc::kconfig::encode_value;
    let mut empty: [u8; 0] = [];
    let e = encode_value(
        "CONFIG_S",
        KconfigType::CharArray { len: 0 },
        "\"x\"",
        &mut empty,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("CONFIG_S") && e.contains("length 0"), "{e}");
    for size in [0u32, 3, 16, 64] {
        let mut out = vec![0u8; size as usize];
        for signed in [false, true] {
            let ty = KconfigType::Int { size, signed };
            let r = encode_value("CONFIG_N", ty, "5", &mut out);
            assert!(r.is_err(), "size {size}: {r:?}");
        }
    }
}

/// A CO-RE field access whose array index puts the bit offset 16 bits
/// below 2^64, then a member 32 bits in: the offset sum overflowed (debug
/// builds) in the local spec and in target matching.
#[test]
fn core_access_offset_near_2_64_is_an_error() {
    let mut btf = BtfW::new();
    let int = btf.ty("int", 1, 0, 4, &[(1 << 24) | 32]);
    let (a, b) = (btf.s("a"), btf.s("b"));
    // (2^31 - 2) * (2^30 + 1) * 8 = 2^64 - 16.
    let st = btf.ty("big", 4, 2, (1 << 30) + 1, &[a, int, 0, b, int, 32]);
    let sec = btf.s("tp/a/b");
    let access = btf.s("2147483646:1");
    let mut ext = Vec::new();
    ext.extend_from_slice(&0xeb9fu16.to_le_bytes());
    ext.extend_from_slice(&[1, 0]);
    // hdr_len 32; func_info and line_info empty; core_relo: 4 + 8 + 16.
    for v in [32u32, 0, 0, 0, 0, 0, 28] {
        ext.extend_from_slice(&v.to_le_bytes());
    }
    // insn_off 0, type, access, kind 0 (field byte offset).
    for v in [16u32, sec, 1, 0, st, access, 0] {
        ext.extend_from_slice(&v.to_le_bytes());
    }
    let body = [insn(0x61, 0, 1, 4, 0), insn(EXIT, 0, 0, 0, 0)];
    let secs = vec![
        Section::progbits("tp/a/b", SHF_ALLOC | SHF_EXEC, code(&body)),
        license(),
        Section::progbits(".BTF", 0, btf.bytes()),
        Section::progbits(".BTF.ext", 0, ext),
    ];
    let syms = vec![null_sym(), sym("prog", STB_GLOBAL, STT_FUNC, FIRST, 0, 16)];
    let bytes = write_elf(secs, &syms, 1);
    let mut spec = ObjectSpec::parse("crafted", &bytes).unwrap();
    let own = tinybpf::btf::Btf::from_elf(&bytes).unwrap();
    let err = tinybpf::reloc::relocate(&mut spec, &own)
        .expect_err("offset past 2^64 bits")
        .to_string();
    assert!(err.contains("overflows"), "{err}");
}

/// A little-endian ELF32 relocatable file (machine `EM_386`) with one
/// section, `.BTF`, holding `btf`.
fn elf32_with_btf(btf: &[u8]) -> Vec<u8> {
    let shstrtab = b"\0.shstrtab\0.BTF\0";
    let (btf_off, str_off) = (52usize, 52 + btf.len());
    let sh_off = (str_off + shstrtab.len()).next_multiple_of(4);
    let mut f = Vec::new();
    f.extend_from_slice(b"\x7fELF\x01\x01\x01\0\0\0\0\0\0\0\0\0"); // ELF32, LE
    for half in [1u16, 3] {
        f.extend_from_slice(&half.to_le_bytes()); // e_type REL, e_machine 386
    }
    f.extend_from_slice(&1u32.to_le_bytes()); // e_version
    f.extend_from_slice(&0u32.to_le_bytes()); // e_entry
    f.extend_from_slice(&0u32.to_le_bytes()); // e_phoff
    f.extend_from_slice(&(sh_off as u32).to_le_bytes());
    f.extend_from_slice(&0u32.to_le_bytes()); // e_flags
    for half in [52u16, 0, 0, 40, 3, 1] {
        // ehsize, phentsize, phnum, shentsize, shnum, shstrndx
        f.extend_from_slice(&half.to_le_bytes());
    }
    f.extend_from_slice(btf);
    f.extend_from_slice(shstrtab);
    f.resize(sh_off, 0);
    let shdr = |name: u32, ty: u32, off: usize, size: usize| {
        [name, ty, 0, 0, off as u32, size as u32, 0, 0, 1, 0]
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .collect::<Vec<u8>>()
    };
    f.extend(shdr(0, 0, 0, 0));
    f.extend(shdr(1, 3, str_off, shstrtab.len())); // .shstrtab, SHT_STRTAB
    f.extend(shdr(11, 1, btf_off, btf.len())); // .BTF, SHT_PROGBITS
    f
}

/// BTF with no types and an empty string table.
fn empty_btf() -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&0xeb9fu16.to_le_bytes());
    b.extend_from_slice(&[1, 0]); // version, flags
    for w in [24u32, 0, 0, 0, 1] {
        // hdr_len, type_off, type_len, str_off, str_len
        b.extend_from_slice(&w.to_le_bytes());
    }
    b.push(0);
    b
}

#[test]
fn elf32_btf_is_read_and_elf32_object_is_not_bpf() {
    let elf = elf32_with_btf(&empty_btf());
    let btf = tinybpf::btf::Btf::from_elf(&elf).expect("the .BTF of an ELF32 file");
    assert_eq!(btf.len(), 1, "only the void type");
    match ObjectSpec::parse("elf32", &elf) {
        Err(ParseError::NotBpf { class, .. }) => assert_eq!(class, "ELF32"),
        other => panic!("expected NotBpf ELF32, got {other:?}"),
    }
    // Cut inside the section headers: an error naming the ELF, no panic.
    let cut = &elf[..elf.len() - 8];
    assert!(tinybpf::btf::Btf::from_elf(cut).is_err());
    assert!(matches!(
        ObjectSpec::parse("cut", cut),
        Err(ParseError::NotBpf { .. } | ParseError::Elf(_))
    ));
}
