//! `.ci/run` gates on clippy and rustdoc, not only on build and tests.

#[test]
fn ci_runs_clippy_and_rustdoc_with_warnings_denied() {
    let script = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/run")).unwrap();
    let lines: Vec<&str> = script
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#') && !l.starts_with("echo"))
        .collect();
    assert!(
        lines.contains(&"cargo clippy --all-targets -- -D warnings"),
        "no clippy gate in .ci/run"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("RUSTDOCFLAGS=\"-D warnings\"")
                && l.ends_with("cargo doc --no-deps")),
        "no rustdoc gate in .ci/run"
    );
    // Both before the tests, so a lint failure is reported first.
    let pos = |p: &str| lines.iter().position(|l| l.contains(p)).unwrap();
    assert!(pos("cargo clippy") < pos("cargo test") && pos("cargo doc") < pos("cargo test"));
}
