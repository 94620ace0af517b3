//! One file per rule, named after the pattern it flags. Shared helpers below.

pub(super) mod allow_without_reason;
pub(super) mod credential_like_literal;
pub(super) mod implicit_on_delete;
pub(super) mod incomplete_cache_policy;
pub(super) mod lenient_login_rate;
pub(super) mod literal_secret;
pub(super) mod mass_assignment;
pub(super) mod missing_primary_key;
pub(super) mod missing_timestamps;
pub(super) mod non_unique_login_field;
pub(super) mod public_write;
pub(super) mod random_uuid_primary_key;
pub(super) mod readable_sensitive_field;
pub(super) mod soft_delete_unique_index;
pub(super) mod stale_cache;
pub(super) mod unbounded_input_string;
pub(super) mod unbounded_list;
pub(super) mod undeclared_auth;
pub(super) mod unindexed_foreign_key;
pub(super) mod unindexed_list_field;
pub(super) mod unknown_rule_code;
pub(super) mod unlimited_public_operation;
pub(super) mod unscoped_write;
pub(super) mod unused_allow;
pub(super) mod weak_password_hashing;
pub(super) mod wildcard_cors;

use crate::ir::{AuthRule, Entity, Ir};

/// Whether an index (or the primary key) has `field` as its leading column.
pub(super) fn leads_an_index(entity: &Entity, field: usize) -> bool {
    entity.primary_key.first() == Some(&field)
        || entity
            .indexes
            .iter()
            .any(|i| i.columns.first() == Some(&field))
}

/// `auth.user` must be known for the rule to restrict anything beyond signing in.
pub(super) fn restricts_beyond_authenticated(rule: &AuthRule) -> bool {
    match rule {
        AuthRule::Public | AuthRule::Authenticated | AuthRule::ApiKey(None) => false,
        AuthRule::Role(_) | AuthRule::Owner(_) | AuthRule::ApiKey(Some(_)) => true,
        // A condition on the record restricts callers only when it involves the caller.
        AuthRule::Predicate(e) => mentions_caller(e),
        AuthRule::And(rules) => rules.iter().any(restricts_beyond_authenticated),
        AuthRule::Or(rules) => rules.iter().all(restricts_beyond_authenticated),
        // `not role(banned)` still lets every signed-in caller through.
        AuthRule::Not(_) => false,
    }
}

/// Whether only callers with a role (never the record's owner or any signed-in user) pass.
pub(super) fn role_only(rule: &AuthRule) -> bool {
    match rule {
        AuthRule::Role(_) => true,
        AuthRule::Or(rules) => rules.iter().all(role_only),
        AuthRule::And(rules) => rules.iter().any(role_only),
        _ => false,
    }
}

/// The name of a field for messages.
pub(super) fn field_name(ir: &Ir, entity: crate::ir::EntityId, field: usize) -> String {
    let e = ir.entity(entity);
    format!("{}.{}", e.name, e.fields[field].name)
}

fn mentions_caller(e: &crate::ir::Expr) -> bool {
    use crate::ir::Expr;
    match e {
        Expr::Caller(_) => true,
        Expr::Or(es) | Expr::And(es) => es.iter().any(mentions_caller),
        Expr::Not(inner) => mentions_caller(inner),
        Expr::Compare { lhs, rhs, .. } => mentions_caller(lhs) || mentions_caller(rhs),
        Expr::Field(_) | Expr::This | Expr::Value(_) | Expr::Count(_) | Expr::Embed { .. } => false,
    }
}
