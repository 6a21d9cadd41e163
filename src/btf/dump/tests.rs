use super::*;

#[test]
fn empty_btf_is_only_the_wrapper() {
    let mut b = Vec::new();
    b.extend_from_slice(&crate::btf::BTF_MAGIC.to_le_bytes());
    b.extend_from_slice(&[1, 0]);
    for w in [24u32, 0, 0, 0, 1] {
        b.extend_from_slice(&w.to_le_bytes());
    }
    b.push(0);
    let btf = Btf::parse(b).unwrap();
    let h = to_c_header(&btf).unwrap();
    assert_eq!(h, format!("{HEADER}{FOOTER}"));
}
