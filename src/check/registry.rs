//! The one table of readiness rules, sorted by code; one line per rule.

use std::fmt::Write as _;

use super::rule::Rule;
use super::rules;

pub(crate) use rules::unused_allow::UNUSED_ALLOW;

pub static RULES: &[&Rule] = &[
    &rules::allow_without_reason::ALLOW_WITHOUT_REASON,
    &rules::unknown_rule_code::UNKNOWN_RULE_CODE,
    &rules::unused_allow::UNUSED_ALLOW,
    &rules::implicit_on_delete::IMPLICIT_ON_DELETE,
    &rules::unindexed_foreign_key::UNINDEXED_FOREIGN_KEY,
    &rules::unindexed_list_field::UNINDEXED_LIST_FIELD,
    &rules::missing_primary_key::MISSING_PRIMARY_KEY,
    &rules::random_uuid_primary_key::RANDOM_UUID_PRIMARY_KEY,
    &rules::missing_timestamps::MISSING_TIMESTAMPS,
    &rules::non_unique_login_field::NON_UNIQUE_LOGIN_FIELD,
    &rules::unbounded_input_string::UNBOUNDED_INPUT_STRING,
    &rules::soft_delete_unique_index::SOFT_DELETE_UNIQUE_INDEX,
    &rules::undeclared_auth::UNDECLARED_AUTH,
    &rules::public_write::PUBLIC_WRITE,
    &rules::unscoped_write::UNSCOPED_WRITE,
    &rules::readable_sensitive_field::READABLE_SENSITIVE_FIELD,
    &rules::mass_assignment::MASS_ASSIGNMENT,
    &rules::unlimited_public_operation::UNLIMITED_PUBLIC_OPERATION,
    &rules::lenient_login_rate::LENIENT_LOGIN_RATE,
    &rules::unbounded_list::UNBOUNDED_LIST,
    &rules::incomplete_cache_policy::INCOMPLETE_CACHE_POLICY,
    &rules::stale_cache::STALE_CACHE,
    &rules::literal_secret::LITERAL_SECRET,
    &rules::credential_like_literal::CREDENTIAL_LIKE_LITERAL,
    &rules::wildcard_cors::WILDCARD_CORS,
    &rules::weak_password_hashing::WEAK_PASSWORD_HASHING,
];

/// A rule by code (`SVC101`, any case) or name (`implicit-on-delete`).
pub fn find_rule(code_or_name: &str) -> Option<&'static Rule> {
    RULES
        .iter()
        .copied()
        .find(|r| r.code.eq_ignore_ascii_case(code_or_name) || r.name == code_or_name)
}

/// The "Readiness rules" section of spec.md: a table, then each rule's documentation.
pub fn rules_markdown() -> String {
    let mut out = String::from("## Readiness rules\n\n");
    out.push_str("`svcc check` and `svcc build` run these rules on every spec. Errors stop a build; warnings are printed. ");
    out.push_str("Suppress a finding on one element with `@allow(CODE, reason: \"why\")`; change a rule's level for the whole spec with `rules { CODE = warning }` (or `error`, `off`) in the service block. ");
    out.push_str("`svcc explain CODE` prints a rule's documentation. This section is generated from the rule registry (`svcc rules --markdown`).\n\n");
    out.push_str("| code | name | default | summary |\n|---|---|---|---|\n");
    for r in RULES {
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | {} |",
            r.code,
            r.name,
            r.severity.as_str(),
            r.summary
        );
    }
    for r in RULES {
        let _ = write!(out, "\n### {} `{}`\n\n", r.code, r.name);
        // Rule docs use `##` headings; nest them under the rule's `###`.
        let doc = r.documentation();
        out.push_str(&doc.replace("\n## ", "\n#### ").replacen("## ", "#### ", 1));
        out.push('\n');
    }
    out
}
