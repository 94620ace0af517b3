use crate::check::rule::{RuleContext, Scope, declare_rule};
use crate::diagnostics::Severity;
use crate::ir::Ir;

declare_rule! {
    /// ## What it does
    /// Flags a cache policy without a `ttl`, or without `invalidated_by` naming the writes
    /// that make its entries stale.
    ///
    /// ## Why is this bad?
    /// A cache entry without a time to live is served forever after the data changed, and
    /// an unbounded cache is a memory leak. A policy that names no invalidating writes relies
    /// on the TTL alone, so every write is followed by a window of stale reads that the
    /// writer itself observes.
    ///
    /// ## Example
    /// ```svc
    /// cache posts_page {
    ///   etag = true
    /// }
    /// entity Post {
    ///   include uuid_id
    ///   include timestamps
    /// }
    /// resource posts: Post at "/posts" {
    ///   get {
    ///     auth  = public
    ///     cache = posts_page
    ///   }
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```svc
    /// cache posts_page {
    ///   ttl            = 30s
    ///   etag           = true
    ///   invalidated_by = [posts.delete]
    /// }
    /// entity Post {
    ///   include uuid_id
    ///   include timestamps
    /// }
    /// resource posts: Post at "/posts" {
    ///   get {
    ///     auth  = public
    ///     cache = posts_page
    ///   }
    ///   delete {
    ///     auth = role(admin)
    ///   }
    /// }
    /// ```
    pub(crate) static INCOMPLETE_CACHE_POLICY = {
        code: "SVC304",
        name: "incomplete-cache-policy",
        summary: "cache policy without a TTL or an invalidation rule",
        severity: Severity::Error,
        check: incomplete_cache_policy,
    }
}

fn incomplete_cache_policy(ir: &Ir, cx: &mut RuleContext<'_>) {
    for (i, cache) in ir.caches.iter().enumerate() {
        let scope = Scope::Cache(crate::ir::CacheId(crate::ir::id32(i)));
        if cache.ttl_ms.is_none() {
            cx.report(
                scope,
                cache.span,
                format!("cache policy `{}` has no `ttl`", cache.name),
            )
            .label("entries never expire")
            .help("add `ttl = 30s` (or whatever staleness the data tolerates)");
        }
        if cache.invalidated_by.is_empty() {
            cx.report(
                scope,
                cache.span,
                format!(
                    "cache policy `{}` names no writes that invalidate it",
                    cache.name
                ),
            )
            .label("no invalidation rule")
            .help("add `invalidated_by = [resource.update, resource.delete]`");
        }
    }
}
