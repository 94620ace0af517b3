//! The little Markdown the generated docs need: headings, tables and fenced blocks, with
//! cell text escaped so a spec's doc comment cannot break a table.

use std::fmt::Write as _;

/// A Markdown document under construction.
#[derive(Debug, Default)]
pub struct Doc {
    text: String,
}

impl Doc {
    /// A document opening with the generated-file comment and a title.
    pub fn new(header: &str, title: &str) -> Doc {
        let mut doc = Doc::default();
        let _ = writeln!(doc.text, "<!-- {header} -->\n\n# {title}");
        doc
    }

    pub fn heading(&mut self, level: usize, text: &str) -> &mut Self {
        let _ = writeln!(self.text, "\n{} {text}", "#".repeat(level));
        self
    }

    /// A paragraph; blank-line separated from what came before.
    pub fn para(&mut self, text: &str) -> &mut Self {
        let _ = writeln!(self.text, "\n{text}");
        self
    }

    pub fn bullets<I, S>(&mut self, items: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.text.push('\n');
        for item in items {
            let _ = writeln!(self.text, "- {}", item.as_ref());
        }
        self
    }

    pub fn table(&mut self, headers: &[&str], rows: &[Vec<String>]) -> &mut Self {
        let _ = writeln!(self.text, "\n| {} |", headers.join(" | "));
        let _ = writeln!(self.text, "|{}", "---|".repeat(headers.len()));
        for row in rows {
            let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
            let _ = writeln!(self.text, "| {} |", cells.join(" | "));
        }
        self
    }

    pub fn code(&mut self, language: &str, body: &str) -> &mut Self {
        let _ = writeln!(self.text, "\n```{language}\n{}\n```", body.trim_end());
        self
    }

    pub fn finish(&self) -> String {
        self.text.clone()
    }
}

/// Table cell text: pipes escaped, line breaks folded.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// Inline code.
pub fn code(text: &str) -> String {
    format!("`{text}`")
}

/// Names as inline code, comma-separated; `none` when there are none.
pub fn code_list(names: &[String]) -> String {
    if names.is_empty() {
        return "none".to_owned();
    }
    names.iter().map(|n| code(n)).collect::<Vec<_>>().join(", ")
}

/// Milliseconds as the spec writes durations: `15m`, `7d`, `500ms`.
pub fn duration(ms: u64) -> String {
    const UNITS: [(u64, &str); 4] = [
        (86_400_000, "d"),
        (3_600_000, "h"),
        (60_000, "m"),
        (1_000, "s"),
    ];
    UNITS
        .iter()
        .find(|(size, _)| ms >= *size && ms.is_multiple_of(*size))
        .map_or_else(
            || format!("{ms}ms"),
            |(size, unit)| format!("{}{unit}", ms / size),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_the_spec() {
        assert_eq!(duration(900_000), "15m");
        assert_eq!(duration(604_800_000), "7d");
        assert_eq!(duration(90_000), "90s");
        assert_eq!(duration(1_500), "1500ms");
    }

    #[test]
    fn cells_cannot_break_a_table() {
        let mut doc = Doc::new("h", "T");
        doc.table(&["a"], &[vec!["x | y\nz".into()]]);
        assert!(doc.finish().contains("| x \\| y z |"));
    }
}
