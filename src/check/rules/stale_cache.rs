use crate::check::rule::{RuleContext, Scope, declare_rule};
use crate::diagnostics::Severity;
use crate::ir::{CacheId, Ir};

declare_rule! {
    /// ## What it does
    /// Flags an operation that writes an entity whose cached reads its cache policy does not
    /// list in `invalidated_by`.
    ///
    /// ## Why is this bad?
    /// After such a write, the cached read keeps serving the old record until the TTL runs
    /// out: a user saves a change, reloads, and sees the old value. Every writer of a cached
    /// entity must invalidate it, and listing them keeps that decision reviewable.
    ///
    /// ## Example
    /// ```svc
    /// cache posts_page {
    ///   ttl            = 30s
    ///   invalidated_by = [posts.delete]
    /// }
    /// entity Post {
    ///   include uuid_id
    ///   title: string(1..200)
    ///   include timestamps
    /// }
    /// resource posts: Post at "/posts" {
    ///   get {
    ///     auth  = public
    ///     cache = posts_page
    ///   }
    ///   update {
    ///     auth   = role(admin)
    ///     fields = [title]
    ///   }
    ///   delete {
    ///     auth = role(admin)
    ///   }
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```svc
    /// cache posts_page {
    ///   ttl            = 30s
    ///   invalidated_by = [posts.update, posts.delete]
    /// }
    /// entity Post {
    ///   include uuid_id
    ///   title: string(1..200)
    ///   include timestamps
    /// }
    /// resource posts: Post at "/posts" {
    ///   get {
    ///     auth  = public
    ///     cache = posts_page
    ///   }
    ///   update {
    ///     auth   = role(admin)
    ///     fields = [title]
    ///   }
    ///   delete {
    ///     auth = role(admin)
    ///   }
    /// }
    /// ```
    pub(crate) static STALE_CACHE = {
        code: "SVC305",
        name: "stale-cache",
        summary: "a write of a cached entity does not invalidate the cache",
        severity: Severity::Error,
        check: stale_cache,
    }
}

fn stale_cache(ir: &Ir, cx: &mut RuleContext<'_>) {
    let mut checked: Vec<(CacheId, crate::ir::EntityId)> = Vec::new();
    for (_, resource, op) in ir.operations() {
        let Some(cache_id) = op.cache else { continue };
        if checked.contains(&(cache_id, resource.entity)) {
            continue;
        }
        checked.push((cache_id, resource.entity));
        let cache = ir.cache(cache_id);
        for writer in ir
            .writers_of(resource.entity)
            .into_iter()
            .filter(|w| !cache.invalidated_by.contains(w))
        {
            let name = ir.op_name(writer);
            cx.report(
                Scope::Operation(writer),
                cache.span,
                format!(
                    "`{name}` writes `{}` but does not invalidate cache `{}`",
                    ir.entity(resource.entity).name,
                    cache.name
                ),
            )
            .label("stale after that write")
            .secondary(ir.operation(writer).span, "this write")
            .help(format!("add `{name}` to `invalidated_by`"));
        }
    }
}
