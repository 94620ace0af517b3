//! pest errors → diagnostics with human names for what was expected.

use pest::error::{ErrorVariant, InputLocation};

use super::parser::Rule;
use crate::diagnostics::{Code, Diagnostic};
use crate::source::{FileId, Span};

pub(super) fn syntax_error(
    err: &pest::error::Error<Rule>,
    file: FileId,
    offset: usize,
    text: &str,
) -> Diagnostic {
    let pos = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((start, _)) => start,
    };
    let found = found_at(text, pos);
    let span = Span::new(file, offset + pos, offset + pos + found.len());
    let in_entity = matches!(&err.variant, ErrorVariant::ParsingError { positives, .. } if positives.contains(&Rule::member));
    if let Some(d) = common_mistake(text, pos, found, span, in_entity) {
        return d;
    }
    let expected = match &err.variant {
        ErrorVariant::ParsingError { positives, .. } => describe(positives),
        ErrorVariant::CustomError { message } => message.clone(),
    };
    let found_text = if found.is_empty() {
        "the end of the file".to_string()
    } else {
        format!("`{found}`")
    };
    Diagnostic::error(
        Code::SYNTAX,
        span,
        format!("expected {expected}, found {found_text}"),
    )
    .with_label(format!("expected {expected}"))
    .with_help(if found.is_empty() {
        "the file ends inside a block or statement: check for a missing `}` or `)`".to_string()
    } else {
        help_for(&err.variant, found)
    })
}

/// Mistakes with a better message than "expected X, found Y".
fn common_mistake(
    text: &str,
    pos: usize,
    found: &str,
    span: Span,
    in_entity: bool,
) -> Option<Diagnostic> {
    let rest_of_line = text
        .get(pos + found.len()..)
        .unwrap_or("")
        .split('\n')
        .next()
        .unwrap_or("");
    if found == "\"" && !rest_of_line.contains('"') {
        return Some(
            Diagnostic::error(Code::SYNTAX, span, "unterminated string")
                .with_label("this string is never closed")
                .with_help("close it with `\"` on the same line; strings cannot span lines"),
        );
    }
    if found == "(" && !rest_of_line.contains(')') {
        return Some(
            Diagnostic::error(Code::SYNTAX, span, "unclosed `(`")
                .with_label("this `(` is never closed")
                .with_help("close it on the same line, e.g. `string(1..200)`"),
        );
    }
    let is_word = found
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_');
    if in_entity
        && is_word
        && rest_of_line.trim_start().starts_with('=')
        && !rest_of_line.trim_start().starts_with("==")
    {
        return Some(
            Diagnostic::error(
                Code::SYNTAX,
                span,
                format!("`{found} =` is a setting, but fields are declared here"),
            )
            .with_label("expected `:`")
            .with_help(format!("a field is `name: type`: write `{found}: ...`")),
        );
    }
    None
}

/// The token at `pos`: a word, or one character.
fn found_at(text: &str, pos: usize) -> &str {
    let rest = text.get(pos..).unwrap_or("");
    let word_len = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    if word_len > 0 {
        return &rest[..word_len];
    }
    rest.chars().next().map_or("", |c| &rest[..c.len_utf8()])
}

fn describe(rules: &[Rule]) -> String {
    let mut names: Vec<&str> = rules.iter().map(|r| rule_name(*r)).collect();
    names.sort_unstable();
    names.dedup();
    match names.as_slice() {
        [] => "something else".to_string(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

fn help_for(variant: &ErrorVariant<Rule>, found: &str) -> String {
    let ErrorVariant::ParsingError { positives, .. } = variant else {
        return "see spec.md for the syntax of this construct".to_string();
    };
    if positives.contains(&Rule::type_expr) || positives.contains(&Rule::scalar_type) {
        return "a field is `name: type`, e.g. `title: string(1..200)` or `author: ref User @on_delete(cascade)`".into();
    }
    if positives.contains(&Rule::item) {
        return "a statement starts with `service`, `entity`, `enum`, `type`, `mixin`, `resource`, `policy`, `rate`, `cache`, `auth`, `event` or `use`".into();
    }
    if positives.contains(&Rule::member) {
        return "entities hold fields (`name: type @attrs`), `include mixin`, `index (...)`, `unique (...)`, `primary (...)` and `check (...)`".into();
    }
    if positives.contains(&Rule::setting_entry) {
        return "blocks hold settings (`key = value`) and nested blocks (`name { ... }`)".into();
    }
    if positives.contains(&Rule::expr) || positives.contains(&Rule::paren) {
        return "a value is a string, number, duration (`30s`), `true`/`false`, a name, a list `[a, b]`, a call `f(x)` or `env(\"NAME\")`".into();
    }
    if found == "=" {
        return "fields use `:` (`name: type`); `=` is for settings (`key = value`)".into();
    }
    "see spec.md for the syntax of this construct".to_string()
}

fn rule_name(rule: Rule) -> &'static str {
    match rule {
        Rule::EOI => "the end of the file",
        Rule::item => "a statement",
        Rule::doc | Rule::doc_text => "a doc comment",
        Rule::use_decl | Rule::kw_use => "`use`",
        Rule::std_path => "a standard library module (`std.types`)",
        Rule::service | Rule::kw_service => "`service`",
        Rule::settings_item | Rule::settings_kw => "`auth`, `rate` or `cache`",
        Rule::entity | Rule::kw_entity => "`entity`",
        Rule::mixin | Rule::kw_mixin => "`mixin`",
        Rule::member => "a field",
        Rule::field => "a field",
        Rule::include | Rule::kw_include => "`include`",
        Rule::index_decl | Rule::index_kw => "`index`, `unique` or `primary`",
        Rule::check_decl | Rule::kw_check => "`check`",
        Rule::ident_list => "a list of field names",
        Rule::type_expr | Rule::scalar_type => "a field type",
        Rule::ref_type | Rule::kw_ref => "`ref`",
        Rule::many_type | Rule::kw_many => "`many`",
        Rule::optional => "`?`",
        Rule::type_args => "type arguments",
        Rule::int_list | Rule::int => "an integer",
        Rule::range | Rule::range_lit => "a range (`1..200`)",
        Rule::enum_decl | Rule::kw_enum => "`enum`",
        Rule::variant => "an enum variant",
        Rule::type_alias | Rule::kw_type => "`type`",
        Rule::resource | Rule::kw_resource => "`resource`",
        Rule::kw_at => "`at`",
        Rule::policy | Rule::kw_policy => "`policy`",
        Rule::event | Rule::kw_event => "`event`",
        Rule::settings_body => "`{`",
        Rule::setting_entry => "a setting or block",
        Rule::setting => "a setting (`key = value`)",
        Rule::block => "a block",
        Rule::label => "a label",
        Rule::attribute => "an attribute",
        Rule::attr_args => "attribute arguments",
        Rule::arg => "an argument",
        Rule::expr | Rule::paren | Rule::operand => "a value",
        Rule::infix_op => "an operator",
        Rule::cmp_op | Rule::partial_cmp => "a comparison operator",
        Rule::or_op => "`or`",
        Rule::and_op => "`and`",
        Rule::not_op => "`not`",
        Rule::env_call | Rule::kw_env => "`env(...)`",
        Rule::call => "a call",
        Rule::list => "a list",
        Rule::literal => "a literal",
        Rule::path => "a name",
        Rule::duration => "a duration",
        Rule::number => "a number",
        Rule::string | Rule::string_inner => "a string",
        Rule::boolean => "`true` or `false`",
        Rule::null => "`null`",
        Rule::ident | Rule::ident_char => "a name",
        Rule::keyword => "a keyword",
        Rule::kw_or => "`or`",
        Rule::kw_and => "`and`",
        Rule::kw_not => "`not`",
        Rule::kw_in => "`in`",
        Rule::file => "a file",
        Rule::WHITESPACE | Rule::COMMENT => "whitespace",
    }
}
