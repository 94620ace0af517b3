//! Auth rules compiled to Rust for the service layer: on one record, a boolean computed from
//! the caller and the record (ownership through related rows asks the database); on a list,
//! a caller-only test that lifts the restriction, else ownership as query filters.

use proc_macro2::{Spacing, TokenStream, TokenTree};
use quote::{format_ident, quote};

use super::repo::{Condition, RepoSpec};
use super::types::{self, ident};
use crate::ir::{AuthRule, EntityId, FieldPath, FilterOp, Ir, Step};

/// A rule evaluated against one record: `lets` to run first, then `expr: bool`.
#[derive(Debug, Default)]
pub struct Compiled {
    pub lets: Vec<TokenStream>,
    pub expr: TokenStream,
}

/// Why a rule cannot be generated yet.
pub type Unsupported = String;

/// Where ownership is checked: the record (`record`) of `entity`.
pub struct Subject<'a> {
    pub entity: EntityId,
    pub record: TokenStream,
    /// How the generated module names this entity's repository (`repo` for the resource's
    /// own entity, `crate::repo::orders` for a parent).
    pub repo: TokenStream,
    /// Steps to drop from the front of every owner path (a nested create checks the
    /// parent: `order.customer` becomes `customer` on the order).
    pub skip: &'a [Step],
}

/// The rule as a boolean over `caller: Option<&Caller>` and the subject.
pub fn on_record(
    ir: &Ir,
    rule: &AuthRule,
    subject: &Subject<'_>,
    repos: &mut Vec<(EntityId, RepoSpec)>,
) -> Result<Compiled, Unsupported> {
    let mut out = Compiled::default();
    let mut counter = 0;
    out.expr = record_expr(ir, rule, subject, repos, &mut out.lets, &mut counter)?;
    Ok(out)
}

fn record_expr(
    ir: &Ir,
    rule: &AuthRule,
    subject: &Subject<'_>,
    repos: &mut Vec<(EntityId, RepoSpec)>,
    lets: &mut Vec<TokenStream>,
    counter: &mut usize,
) -> Result<TokenStream, Unsupported> {
    if let Some(e) = caller_only(rule)? {
        return Ok(e);
    }
    Ok(match rule {
        AuthRule::Owner(path) => {
            let steps = path
                .steps
                .strip_prefix(subject.skip)
                .ok_or_else(|| "an ownership path that does not start at the record".to_string())?;
            match steps {
                [Step::Field { field, .. }] => {
                    let f = &ir.entity(subject.entity).fields[*field];
                    let name = ident(&f.name);
                    let record = &subject.record;
                    if f.optional {
                        quote!(caller.is_some_and(|c| #record.#name == Some(c.id)))
                    } else {
                        quote!(caller.is_some_and(|c| #record.#name == c.id))
                    }
                }
                [_, ..] => {
                    let condition = Condition::new(
                        FieldPath {
                            root: subject.entity,
                            steps: steps.to_vec(),
                        },
                        FilterOp::Eq,
                    );
                    let variant = condition.variant(ir);
                    let entity = ir.entity(subject.entity);
                    let pk = types::primary_key(entity).ok_or_else(|| {
                        "ownership of an entity without a one-column key".to_string()
                    })?;
                    let pk = ident(&pk.name);
                    let repo = &subject.repo;
                    spec_of(repos, subject.entity).add_condition(condition);
                    *counter += 1;
                    let var = format_ident!("owns_{}", *counter);
                    let record = &subject.record;
                    lets.push(quote! {
                        let #var = match caller {
                            Some(c) => #repo::matches(&state.db, &#record.#pk, &#repo::Filter::#variant(c.id)).await?,
                            None => false,
                        };
                    });
                    quote!(#var)
                }
                [] => return Err("an empty ownership path".into()),
            }
        }
        AuthRule::And(rules) => {
            let parts = rules
                .iter()
                .map(|r| record_expr(ir, r, subject, repos, lets, counter))
                .collect::<Result<Vec<_>, _>>()?;
            join(parts, Logic::And)
        }
        AuthRule::Or(rules) => {
            let parts = rules
                .iter()
                .map(|r| record_expr(ir, r, subject, repos, lets, counter))
                .collect::<Result<Vec<_>, _>>()?;
            join(parts, Logic::Or)
        }
        AuthRule::Not(inner) => {
            let inner = parenthesized(record_expr(ir, inner, subject, repos, lets, counter)?);
            quote!(!#inner)
        }
        AuthRule::Predicate(_) => return Err("auth predicates over record fields".into()),
        AuthRule::Public | AuthRule::Authenticated | AuthRule::Role(_) | AuthRule::ApiKey(_) => {
            return Err("internal: caller-only rule not folded".into());
        }
    })
}

/// A rule that needs only the caller, as a boolean; `None` when it needs a record.
pub fn caller_only(rule: &AuthRule) -> Result<Option<TokenStream>, Unsupported> {
    Ok(match rule {
        AuthRule::Public => Some(quote!(true)),
        AuthRule::Authenticated => Some(quote!(caller.is_some())),
        AuthRule::Role(role) => Some(quote!(caller.is_some_and(|c| c.has_role(#role)))),
        AuthRule::ApiKey(None) => Some(quote!(caller.is_some_and(|c| c.api_key.is_some()))),
        AuthRule::ApiKey(Some(scope)) => Some(quote!(caller.is_some_and(|c| c.has_scope(#scope)))),
        AuthRule::Owner(_) | AuthRule::Predicate(_) => None,
        AuthRule::And(rules) | AuthRule::Or(rules) => {
            let parts = rules
                .iter()
                .map(caller_only)
                .collect::<Result<Vec<_>, _>>()?;
            if parts.iter().any(Option::is_none) {
                return Ok(None);
            }
            let parts: Vec<_> = parts.into_iter().flatten().collect();
            if matches!(rule, AuthRule::And(_)) {
                Some(join(parts, Logic::And))
            } else {
                Some(join(parts, Logic::Or))
            }
        }
        AuthRule::Not(inner) => caller_only(inner)?.map(|e| {
            let e = parenthesized(e);
            quote!(!#e)
        }),
    })
}

/// A list rule: callers passing `lift` see every row; others see rows they own through
/// any of `owners` (paths from the listed entity).
pub struct ListRule {
    pub lift: TokenStream,
    pub owners: Vec<FieldPath>,
}

/// Splits `a or b or owner(x)` into caller-only alternatives and ownership paths.
pub fn on_list(rule: &AuthRule) -> Result<ListRule, Unsupported> {
    let alternatives: Vec<&AuthRule> = match rule {
        AuthRule::Or(rules) => rules.iter().collect(),
        other => vec![other],
    };
    let mut lift = Vec::new();
    let mut owners = Vec::new();
    for alt in alternatives {
        if let Some(e) = caller_only(alt)? {
            lift.push(e);
        } else if let AuthRule::Owner(path) = alt {
            owners.push(path.clone());
        } else {
            return Err("list rules that combine ownership with `and` or `not`".into());
        }
    }
    let lift = if lift.is_empty() {
        quote!(false)
    } else {
        join(lift, Logic::Or)
    };
    Ok(ListRule { lift, owners })
}

/// The repository spec of `entity`, created on first use.
pub fn spec_of(repos: &mut Vec<(EntityId, RepoSpec)>, entity: EntityId) -> &mut RepoSpec {
    let at = match repos.iter().position(|(e, _)| *e == entity) {
        Some(at) => at,
        None => {
            repos.push((entity, RepoSpec::default()));
            repos.len() - 1
        }
    };
    &mut repos[at].1
}

/// How `join` combines its parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Logic {
    And,
    Or,
}

/// `a op b op c`, parenthesizing parts that are themselves `&&` / `||` chains and folding
/// constant parts (`x || false` is `x`, `x && false` is `false`).
pub fn join(parts: Vec<TokenStream>, logic: Logic) -> TokenStream {
    // `||` is decided by a `true` part and ignores `false` parts; `&&` the reverse.
    let absorbing = logic == Logic::Or;
    if parts.iter().any(|p| is_literal(p, absorbing)) {
        return bool_literal(absorbing);
    }
    let parts: Vec<TokenStream> = parts
        .into_iter()
        .filter(|p| !is_literal(p, !absorbing))
        .collect();
    if parts.is_empty() {
        return bool_literal(!absorbing);
    }
    let op = match logic {
        Logic::And => quote!(&&),
        Logic::Or => quote!(||),
    };
    let mut out = TokenStream::new();
    for (n, part) in parts.into_iter().enumerate() {
        if n > 0 {
            out.extend(op.clone());
        }
        out.extend(parenthesized(part));
    }
    out
}

fn bool_literal(value: bool) -> TokenStream {
    if value { quote!(true) } else { quote!(false) }
}

/// Whether `e` is nothing but the literal `value`: a rule that always or never holds.
pub fn is_literal(e: &TokenStream, value: bool) -> bool {
    let mut trees = e.clone().into_iter();
    let word = if value { "true" } else { "false" };
    matches!((trees.next(), trees.next()), (Some(TokenTree::Ident(i)), None) if i == word)
}

/// `(e)` when `e` is a chain of `&&` / `||`, else `e`.
fn parenthesized(e: TokenStream) -> TokenStream {
    if has_chain(&e) { quote!((#e)) } else { e }
}

/// Whether `&&` or `||` appears in `e`, groups included.
fn has_chain(e: &TokenStream) -> bool {
    let mut joint: Option<char> = None;
    for tree in e.clone() {
        match &tree {
            TokenTree::Punct(p)
                if joint == Some(p.as_char()) && matches!(p.as_char(), '&' | '|') =>
            {
                return true;
            }
            TokenTree::Group(g) if has_chain(&g.stream()) => return true,
            _ => {}
        }
        joint = match tree {
            TokenTree::Punct(p) if p.spacing() == Spacing::Joint => Some(p.as_char()),
            _ => None,
        };
    }
    false
}

/// `return Err(deny)` unless `allowed` holds; nothing for a rule that always holds.
pub fn guard(allowed: &TokenStream, deny: TokenStream) -> TokenStream {
    if is_literal(allowed, true) {
        return quote!();
    }
    quote! {
        let allowed = #allowed;
        if !allowed {
            return Err(#deny);
        }
    }
}
