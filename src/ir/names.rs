//! Naming conventions shared by every stage: tables, columns, indexes.

/// `LineItem` → `line_item`, `HTTPServer` → `http_server`.
pub fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev_lower =
                i > 0 && (chars[i - 1].is_lowercase() || chars[i - 1].is_ascii_digit());
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            let prev_upper = i > 0 && chars[i - 1].is_uppercase();
            if i > 0 && (prev_lower || (prev_upper && next_lower)) && !out.ends_with('_') {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `created_at` → `createdAt`.
pub fn camel_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = !out.is_empty();
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// English plural of a snake_case word: `category` → `categories`, `box` → `boxes`.
pub fn plural(word: &str) -> String {
    let vowel_before_y = word.len() >= 2
        && matches!(
            word.as_bytes()[word.len() - 2],
            b'a' | b'e' | b'i' | b'o' | b'u'
        );
    if word.ends_with('y') && !vowel_before_y {
        format!("{}ies", &word[..word.len() - 1])
    } else if ["s", "x", "z", "ch", "sh"]
        .iter()
        .any(|s| word.ends_with(s))
    {
        format!("{word}es")
    } else {
        format!("{word}s")
    }
}

/// The table of an entity: snake_case plural.
pub fn table_name(entity: &str) -> String {
    plural(&snake_case(entity))
}

/// `idx_orders_status_created_at`, `uq_users_email`.
pub fn index_name(table: &str, columns: &[&str], unique: bool) -> String {
    let prefix = if unique { "uq" } else { "idx" };
    format!("{prefix}_{table}_{}", columns.join("_"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases() {
        assert_eq!(snake_case("LineItem"), "line_item");
        assert_eq!(snake_case("HTTPServer"), "http_server");
        assert_eq!(snake_case("already_snake"), "already_snake");
        assert_eq!(camel_case("created_at"), "createdAt");
        assert_eq!(table_name("Category"), "categories");
        assert_eq!(table_name("Day"), "days");
        assert_eq!(table_name("Box"), "boxes");
        assert_eq!(table_name("PostTag"), "post_tags");
    }
}
