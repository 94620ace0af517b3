use crate::check::rule::{RuleContext, Scope, declare_rule};
use crate::diagnostics::Severity;
use crate::ir::Ir;

declare_rule! {
    /// ## What it does
    /// Flags a public operation with no rate limit: none on the operation or its resource,
    /// and no `default_rate` in the service block.
    ///
    /// ## Why is this bad?
    /// Unauthenticated endpoints are the ones scrapers, credential stuffers and accidental
    /// retry loops hit first. Without a limit, one client can exhaust the database pool for
    /// everyone. A service-wide `default_rate` covers every public operation at once.
    ///
    /// ## Example
    /// ```svc
    /// service doc {
    ///   version      = "1.0.0"
    ///   databases    = [postgres]
    ///   database_url = env("DATABASE_URL")
    /// }
    /// use std.mixins
    /// entity Post {
    ///   include uuid_id
    ///   include timestamps
    /// }
    /// resource posts: Post at "/posts" {
    ///   get {
    ///     auth = public
    ///   }
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```svc
    /// service doc {
    ///   version      = "1.0.0"
    ///   databases    = [postgres]
    ///   database_url = env("DATABASE_URL")
    ///   default_rate = reads
    /// }
    /// use std.mixins
    /// rate reads {
    ///   limit  = 100
    ///   window = 1m
    ///   key    = ip
    /// }
    /// entity Post {
    ///   include uuid_id
    ///   include timestamps
    /// }
    /// resource posts: Post at "/posts" {
    ///   get {
    ///     auth = public
    ///   }
    /// }
    /// ```
    pub(crate) static UNLIMITED_PUBLIC_OPERATION = {
        code: "SVC301",
        name: "unlimited-public-operation",
        summary: "public operation without a rate limit",
        severity: Severity::Error,
        check: unlimited_public_operation,
    }
}

fn unlimited_public_operation(ir: &Ir, cx: &mut RuleContext<'_>) {
    if ir.service.default_rate.is_some() {
        return;
    }
    for (op_ref, resource, op) in ir.operations() {
        let public = op.auth.as_ref().is_some_and(|a| a.value.is_public());
        if public && op.rate.is_none() {
            cx.report(
                Scope::Operation(op_ref),
                op.span,
                format!(
                    "public operation `{}.{}` has no rate limit",
                    resource.name, op.name
                ),
            )
            .label("no rate limit")
            .help(
                "add `rate = name` to the operation, or `default_rate = name` to the service block",
            );
        }
    }
}
