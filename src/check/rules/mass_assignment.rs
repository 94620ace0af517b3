use super::role_only;
use crate::check::rule::{RuleContext, Scope, declare_rule};
use crate::diagnostics::Severity;
use crate::ir::{EntityId, Field, Ir, OpKind, Operation};

declare_rule! {
    /// ## What it does
    /// Flags a create or update without a `fields` allowlist, and an allowlist that lets
    /// clients set a server-managed field: a primary key, a `@readonly` field (timestamps,
    /// status, role), a field filled from the caller (`@on_create(auth.user)`) or one the
    /// operation sets itself in `set { }`. Administrators (an `auth` of roles only) may write
    /// `@readonly` fields other than keys and timestamps.
    ///
    /// ## Why is this bad?
    /// Mass assignment, binding the request body straight onto the row, lets a client make
    /// itself an admin, take over another user's record by changing its owner, or backdate a
    /// timestamp (OWASP API3). An explicit allowlist is the only reliable defence.
    ///
    /// ## Example
    /// ```svc
    /// entity Post {
    ///   include uuid_id
    ///   title:  string(1..200)
    ///   author: ref Account @on_delete(cascade)
    ///   include timestamps
    /// }
    ///
    /// resource posts: Post at "/posts" {
    ///   create {
    ///     auth   = authenticated
    ///     fields = [title, author]
    ///     set {
    ///       author = auth.user
    ///     }
    ///   }
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```svc
    /// entity Post {
    ///   include uuid_id
    ///   title:  string(1..200)
    ///   author: ref Account @on_delete(cascade)
    ///   include timestamps
    /// }
    ///
    /// resource posts: Post at "/posts" {
    ///   create {
    ///     auth   = authenticated
    ///     fields = [title]
    ///     set {
    ///       author = auth.user
    ///     }
    ///   }
    /// }
    /// ```
    pub(crate) static MASS_ASSIGNMENT = {
        code: "SVC205",
        name: "mass-assignment",
        summary: "create/update without an allowlist, or one with server-managed fields",
        severity: Severity::Error,
        check: mass_assignment,
    }
}

fn mass_assignment(ir: &Ir, cx: &mut RuleContext<'_>) {
    for (op_ref, resource, op) in ir
        .operations()
        .filter(|(_, _, op)| matches!(op.kind, OpKind::Create | OpKind::Update))
    {
        let Some(fields) = &op.fields else {
            cx.report(
                Scope::Operation(op_ref),
                op.span,
                format!("`{}.{}` has no `fields` allowlist", resource.name, op.name),
            )
            .label("which fields may clients write?")
            .help("list them: `fields = [title, body]` (`fields = []` when clients send nothing)");
            continue;
        };
        let entity = ir.entity(resource.entity);
        let admins_only = op.auth.as_ref().is_some_and(|a| role_only(&a.value));
        for &f in &fields.value {
            let field = &entity.fields[f];
            if let Some(why) = server_managed(ir, op, resource.entity, f, field, admins_only) {
                cx.report(
                    Scope::Operation(op_ref),
                    fields.span,
                    format!(
                        "clients may set `{}.{}`, which {why}",
                        entity.name, field.name
                    ),
                )
                .label("server-managed field in the allowlist")
                .help(format!("remove `{}` from `fields`", field.name));
            }
        }
    }
}

/// Why a field must not be client-settable in `op`, if it must not.
fn server_managed(
    ir: &Ir,
    op: &Operation,
    entity: EntityId,
    index: usize,
    field: &Field,
    admins_only: bool,
) -> Option<&'static str> {
    if field.flags.primary {
        return Some("is the primary key");
    }
    if field.flags.updated_at || field.name == "created_at" {
        return Some("is a timestamp the server maintains");
    }
    if field.auto.is_some() {
        return Some("is filled from the caller's identity");
    }
    if op.set.iter().any(|(f, _)| *f == index) {
        return Some("this operation sets itself");
    }
    let is_role = ir
        .auth
        .as_ref()
        .is_some_and(|a| a.identity == entity && a.role_field == Some(index));
    if (field.flags.readonly || is_role) && !admins_only {
        return Some("is server-managed (`@readonly`)");
    }
    None
}
