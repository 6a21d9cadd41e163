//! `--set NAME=VALUE`: turn a command-line value into a global's bytes.

use tinybpf::btf::Kind;
use tinybpf::obj::ObjectSpec;

/// Whether global `name` is an array of 1-byte integers (a C string).
fn is_char_array(spec: &ObjectSpec, name: &str) -> bool {
    let Some(btf) = &spec.btf else {
        return false;
    };
    let Some(var) = btf.find_by_name_kind(name, Kind::Var) else {
        return false;
    };
    let Some(ty) = btf.type_by_id(var).ok().and_then(|t| t.ref_type()) else {
        return false;
    };
    let Some(arr) = btf.skip_mods_and_typedefs(ty).ok().and_then(|t| t.array()) else {
        return false;
    };
    match btf.skip_mods_and_typedefs(arr.elem_type) {
        Ok(e) => e.kind == Kind::Int && e.size() == Some(1),
        Err(_) => false,
    }
}

/// Parse a signed or unsigned integer: decimal, `0x` hex, `0b` binary,
/// optional leading `-`.
fn parse_int(s: &str) -> Option<i128> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let v = if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok()?
    } else if let Some(b) = body.strip_prefix("0b") {
        u64::from_str_radix(b, 2).ok()?
    } else {
        body.parse::<u64>().ok()?
    } as i128;
    Some(if neg { -v } else { v })
}

/// The bytes `VALUE` stands for, for global `name` of `spec`.
pub fn value_bytes(spec: &ObjectSpec, name: &str, value: &str) -> Result<Vec<u8>, String> {
    let Some(g) = spec.globals.iter().find(|g| g.name == name) else {
        let known: Vec<&str> = spec.globals.iter().map(|g| g.name.as_str()).collect();
        return Err(format!(
            "--set {name}: no global variable {name:?} in this object (globals: {})",
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        ));
    };
    let size = g.size as usize;
    if is_char_array(spec, name) {
        if value.len() >= size {
            return Err(format!(
                "--set {name}: {value:?} is {} bytes; {name} is char[{size}] and needs room for the NUL",
                value.len()
            ));
        }
        let mut b = value.as_bytes().to_vec();
        b.resize(size, 0);
        return Ok(b);
    }
    if !matches!(size, 1 | 2 | 4 | 8) {
        return Err(format!(
            "--set {name}: {name} is {size} bytes; only 1/2/4/8-byte integers, booleans and char arrays can be set"
        ));
    }
    let v: i128 = match value {
        "true" => 1,
        "false" => 0,
        _ => parse_int(value).ok_or_else(|| {
            format!("--set {name}: {value:?} is not an integer (decimal or 0x hex) or true/false")
        })?,
    };
    let bits = size as u32 * 8;
    let max_unsigned = (1i128 << bits) - 1;
    let min_signed = -(1i128 << (bits - 1));
    if v > max_unsigned || v < min_signed {
        return Err(format!(
            "--set {name}: {value} does not fit in {size} bytes"
        ));
    }
    Ok((v as u128 as u64).to_le_bytes()[..size].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn globals() -> ObjectSpec {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../bpf/globals.bpf.o");
        let bytes = std::fs::read(path).unwrap();
        ObjectSpec::parse("globals", &bytes).unwrap()
    }

    #[test]
    fn values() {
        let s = globals();
        assert_eq!(value_bytes(&s, "multiplier", "3").unwrap(), [3, 0, 0, 0]);
        assert_eq!(
            value_bytes(&s, "multiplier", "0x10").unwrap(),
            [16, 0, 0, 0]
        );
        assert_eq!(value_bytes(&s, "multiplier", "-1").unwrap(), [255; 4]);
        assert_eq!(value_bytes(&s, "multiplier", "true").unwrap(), [1, 0, 0, 0]);
        assert!(value_bytes(&s, "multiplier", "4294967296").is_err());
        assert!(value_bytes(&s, "multiplier", "three").is_err());
        assert_eq!(
            value_bytes(&s, "counter", "0x0102").unwrap(),
            [2, 1, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(
            value_bytes(&s, "greeting", "yo").unwrap(),
            b"yo\0\0\0\0\0\0"
        );
        assert!(value_bytes(&s, "greeting", "12345678").is_err());
        assert!(value_bytes(&s, "nope", "1")
            .unwrap_err()
            .contains("multiplier"));
    }
}
