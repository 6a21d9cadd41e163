//! Aligned columns for human-readable output.

/// A table: a header row and data rows, printed with two-space gaps and an
/// indent. The last column is not padded.
pub struct Table {
    indent: usize,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(indent: usize, header: &[&str]) -> Table {
        Table {
            indent,
            rows: vec![header.iter().map(|s| s.to_string()).collect()],
        }
    }

    /// A table without a header row.
    pub fn bare(indent: usize) -> Table {
        Table {
            indent,
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn render(&self) -> String {
        let ncol = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let mut width = vec![0usize; ncol];
        for r in &self.rows {
            for (i, c) in r.iter().enumerate() {
                width[i] = width[i].max(c.chars().count());
            }
        }
        let mut out = String::new();
        for r in &self.rows {
            let mut line = " ".repeat(self.indent);
            for (i, c) in r.iter().enumerate() {
                if i + 1 == r.len() {
                    line.push_str(c);
                } else {
                    line.push_str(c);
                    line.push_str(&" ".repeat(width[i] - c.chars().count() + 2));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }

    pub fn print(&self) {
        print!("{}", self.render());
    }
}

/// The function (program or subprogram) holding instruction `insn` of `section`.
pub fn func_at<'a>(spec: &'a tinybpf::obj::ObjectSpec, section: &str, insn: usize) -> &'a str {
    spec.code
        .iter()
        .find(|c| c.name == section)
        .and_then(|c| {
            c.funcs
                .iter()
                .find(|(_, start, len)| insn >= *start && insn < start + len)
        })
        .map(|(n, _, _)| n.as_str())
        .unwrap_or("?")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns() {
        let mut t = Table::new(2, &["NAME", "N"]);
        t.row(vec!["a".into(), "1".into()]);
        t.row(vec!["longer".into(), "22".into()]);
        assert_eq!(t.render(), "  NAME    N\n  a       1\n  longer  22\n");
    }
}
