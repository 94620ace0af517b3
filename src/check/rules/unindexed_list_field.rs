use super::{field_name, leads_an_index};
use crate::check::rule::{RuleContext, Scope, declare_rule};
use crate::diagnostics::Severity;
use crate::ir::{AuthRule, Entity, Ir, OpKind, Operation, Resource, Step};

declare_rule! {
    /// ## What it does
    /// Flags a filter or sort field of a list operation that no index leads with. For a
    /// filter through relations (`author.username`), the field matched at the end of the
    /// path must be indexed; the joins use the foreign-key indexes svcc adds.
    ///
    /// ## Why is this bad?
    /// A list endpoint is the most frequently called query of most services. Filtering or
    /// ordering on an unindexed column makes every call a full table scan and sort, which is
    /// invisible with test data and an outage with production data. A composite index counts
    /// for the field it starts with; equality filters first, then the sort column, serves
    /// both at once. A nested resource (`/posts/{post}/comments`) always filters by its
    /// parent, so an index on `(post, created_at)` covers sorting its list by `created_at`;
    /// likewise a list whose only rule is `owner(author)` always filters by its author.
    ///
    /// ## Example
    /// ```svc
    /// entity Post {
    ///   include uuid_id
    ///   title: string(1..200)
    ///   include timestamps
    /// }
    ///
    /// resource posts: Post at "/posts" {
    ///   list {
    ///     auth     = public
    ///     sort     = [created_at]
    ///     page     = 20
    ///     max_page = 100
    ///   }
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```svc
    /// entity Post {
    ///   include uuid_id
    ///   title: string(1..200)
    ///   include timestamps
    ///   index (created_at)
    /// }
    ///
    /// resource posts: Post at "/posts" {
    ///   list {
    ///     auth     = public
    ///     sort     = [created_at]
    ///     page     = 20
    ///     max_page = 100
    ///   }
    /// }
    /// ```
    pub(crate) static UNINDEXED_LIST_FIELD = {
        code: "SVC103",
        name: "unindexed-list-field",
        summary: "list filter or sort on a field no index covers",
        severity: Severity::Error,
        check: unindexed_list_field,
    }
}

/// An index leads with `field`, or starts with the always-filtered parent columns and then
/// has `field`.
/// Columns every query of the list compares for equality: the parent of a nested resource,
/// and the owner when ownership is the whole rule (nobody sees other callers' rows).
fn always_equal(resource: &Resource, op: &Operation) -> Vec<usize> {
    let mut columns: Vec<usize> = resource.parents.iter().map(|(f, _)| *f).collect();
    let owner = match op.auth.as_ref().map(|a| &a.value) {
        Some(AuthRule::Owner(path)) => match path.steps.as_slice() {
            [Step::Field { field, .. }] => Some(*field),
            _ => None,
        },
        _ => None,
    };
    columns.extend(owner);
    columns
}

/// Whether an index starts with `field`, or with always-compared columns and then `field`.
fn sorted_by_index(entity: &Entity, parents: &[usize], field: usize) -> bool {
    leads_an_index(entity, field)
        || entity.indexes.iter().any(|i| {
            let k = i.columns.iter().take_while(|c| parents.contains(c)).count();
            k > 0 && i.columns.get(k) == Some(&field)
        })
}

fn unindexed_list_field(ir: &Ir, cx: &mut RuleContext<'_>) {
    for (op_ref, resource, op) in ir.operations().filter(|(_, _, op)| op.kind == OpKind::List) {
        let Some(list) = &op.list else { continue };
        let scope = Scope::Operation(op_ref);
        let always = always_equal(resource, op);
        for filter in &list.filters {
            let Some(Step::Field { entity, field }) = filter.path.steps.last().copied() else {
                continue;
            };
            let own_column = entity == resource.entity && filter.path.steps.len() == 1;
            let covered = if own_column {
                sorted_by_index(ir.entity(entity), &always, field)
            } else {
                leads_an_index(ir.entity(entity), field)
            };
            if !covered {
                let name = field_name(ir, entity, field);
                cx.report(
                    scope,
                    filter.span,
                    format!(
                        "filter `{}` on `{}.{}` matches `{name}`, which no index covers",
                        filter.param, resource.name, op.name
                    ),
                )
                .label("unindexed filter")
                .help(format!(
                    "add `index ({})` to `{}`, or a composite index that starts with it",
                    ir.entity(entity).fields[field].name,
                    ir.entity(entity).name
                ));
            }
        }
        let sorts = list
            .sort
            .iter()
            .map(|s| (s.value, s.span))
            .chain(list.default_sort.as_ref().map(|d| (d.value.0, d.span)));
        let mut seen = Vec::new();
        for (field, span) in sorts {
            if seen.contains(&field) || sorted_by_index(ir.entity(resource.entity), &always, field)
            {
                continue;
            }
            seen.push(field);
            let name = field_name(ir, resource.entity, field);
            cx.report(
                scope,
                span,
                format!(
                    "`{}.{}` sorts by `{name}`, which no index covers",
                    resource.name, op.name
                ),
            )
            .label("unindexed sort")
            .help(format!(
                "add `index ({})` to `{}`, or after the equality filters in a composite index",
                ir.entity(resource.entity).fields[field].name,
                ir.entity(resource.entity).name
            ));
        }
    }
}
