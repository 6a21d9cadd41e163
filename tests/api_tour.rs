//! The README's API snippet is `examples/api_tour.rs` (the code between its
//! `README` markers), and that example runs and prints what it says.

mod common;

use std::process::Command;

/// The code between each `// README: begin` and `// README: end` of the
/// example, dedented, regions separated by a blank line.
fn example_regions() -> String {
    let src = std::fs::read_to_string(common::repo_root().join("examples/api_tour.rs")).unwrap();
    let mut regions = Vec::new();
    let mut cur: Option<Vec<&str>> = None;
    for line in src.lines() {
        match (line.trim(), &mut cur) {
            ("// README: begin", None) => cur = Some(Vec::new()),
            ("// README: end", Some(lines)) => {
                while lines.last().is_some_and(|l| l.trim().is_empty()) {
                    lines.pop();
                }
                let indent = lines
                    .iter()
                    .filter(|l| !l.trim().is_empty())
                    .map(|l| l.len() - l.trim_start().len())
                    .min()
                    .unwrap_or(0);
                let text: Vec<&str> = lines
                    .iter()
                    .map(|l| {
                        if l.len() >= indent {
                            &l[indent..]
                        } else {
                            l.trim()
                        }
                    })
                    .collect();
                regions.push(text.join("\n"));
                cur = None;
            }
            (t, _) if t.starts_with("// README:") => panic!("unbalanced marker: {line}"),
            (_, Some(lines)) => lines.push(line),
            _ => {}
        }
    }
    assert!(cur.is_none(), "`// README: begin` without end");
    assert_eq!(
        regions.len(),
        2,
        "expected the `use` region and the body region"
    );
    regions.join("\n\n")
}

/// The first ```rust block after the heading `## The API at a glance`.
fn readme_snippet() -> String {
    let readme = std::fs::read_to_string(common::repo_root().join("README.md")).unwrap();
    let at = readme
        .find("\n## The API at a glance\n")
        .expect("README heading `## The API at a glance`");
    let rest = &readme[at..];
    let start = rest.find("```rust\n").expect("a ```rust block") + "```rust\n".len();
    let len = rest[start..].find("\n```").expect("end of the block");
    rest[start..start + len].to_string()
}

#[test]
fn readme_snippet_is_the_example() {
    let (readme, example) = (readme_snippet(), example_regions());
    assert!(
        readme == example,
        "README.md's snippet and examples/api_tour.rs differ; make the README block:\n{example}\n\nREADME has:\n{readme}"
    );
}

#[test]
fn api_tour_runs() {
    if !common::root_or_skip("api_tour_runs") {
        return;
    }
    // From another directory: the example finds its object anyway.
    let out = Command::new(common::example("api_tour"))
        .current_dir("/")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "api_tour failed: {}\n{stdout}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout, "xdp_count returned 2, total = 192\n");
}
