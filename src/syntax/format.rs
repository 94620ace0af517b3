pub fn format(_f: &super::ast::File, text: &str) -> String { text.to_string() }
