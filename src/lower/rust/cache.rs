//! Response caching: the generated `src/cache.rs`, the cached variant of a `get` with a
//! `cache` policy, and which writes invalidate which policies.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::ir::{CacheId, Ir, OpRef, Operation, ResourceId};

/// Policies some `get` uses, in declaration order.
pub fn used(ir: &Ir) -> Vec<CacheId> {
    let mut ids: Vec<CacheId> = ir
        .resources
        .iter()
        .flat_map(|r| r.operations.iter().filter_map(|op| op.cache))
        .collect();
    ids.sort_by_key(|id| id.index());
    ids.dedup();
    ids
}

/// The generated constant naming a policy's position in `POLICIES`:
/// `crate::cache::PRODUCT_PAGE`.
pub fn constant(ir: &Ir, id: CacheId) -> TokenStream {
    let name = const_ident(&ir.cache(id).name);
    quote!(crate::cache::#name)
}

fn const_ident(policy: &str) -> syn::Ident {
    format_ident!(
        "{}",
        crate::ir::names::snake_case(policy).to_ascii_uppercase()
    )
}

/// Policies a successful `op` invalidates: those naming it in `invalidated_by`, and, for a
/// write, every policy caching a read of the same entity.
pub fn invalidated_by(
    ir: &Ir,
    resource: ResourceId,
    op_index: usize,
    op: &Operation,
) -> Vec<CacheId> {
    let entity = ir.resource(resource).entity;
    let this = OpRef {
        resource,
        op: op_index,
    };
    // Only resources over this entity are scanned, and `used` only when a policy names
    // the op: a scan of every resource per op made large specs quadratic.
    let mut ids: Vec<CacheId> = if op.kind.writes() {
        ir.resources
            .iter()
            .filter(|r| r.entity == entity)
            .flat_map(|r| r.operations.iter().filter_map(|o| o.cache))
            .collect()
    } else {
        Vec::new()
    };
    let named = (0..ir.caches.len())
        .map(|i| CacheId(crate::ir::id32(i)))
        .filter(|id| ir.cache(*id).invalidated_by.contains(&this) && !ids.contains(id))
        .collect::<Vec<_>>();
    if !named.is_empty() {
        let used = used(ir);
        ids.extend(named.into_iter().filter(|id| used.contains(id)));
    }
    ids.sort_by_key(|id| id.index());
    ids.dedup();
    ids
}

/// Statements invalidating the given policies, for a handler after its write succeeded.
pub fn invalidate(ir: &Ir, policies: &[CacheId]) -> TokenStream {
    let calls = policies.iter().map(|id| {
        let policy = constant(ir, *id);
        quote!(state.cache.invalidate(#policy).await;)
    });
    quote!(#(#calls)*)
}

/// `src/cache.rs`, when some `get` is cached.
pub fn cache_rs(ir: &Ir) -> Option<TokenStream> {
    let used = used(ir);
    if used.is_empty() {
        return None;
    }
    let count = used.len();
    let constants = used.iter().enumerate().map(|(index, id)| {
        let name = const_ident(&ir.cache(*id).name);
        let doc = format!(" The `{}` policy.", ir.cache(*id).name);
        quote!(#[doc = #doc] pub const #name: usize = #index;)
    });
    let prefix = format!("{}:cache", ir.service.name);
    let policies = used.iter().map(|id| {
        let p = ir.cache(*id);
        let name = &p.name;
        let ttl = p.ttl_ms.unwrap_or(60_000);
        let etag = p.etag;
        let control = match &p.control {
            Some(c) => quote!(Some(#c)),
            None => quote!(None),
        };
        quote!(Policy { name: #name, ttl: Duration::from_millis(#ttl), etag: #etag, control: #control },)
    });
    Some(quote! {
        //! Cached response bodies of `get` operations with a `cache` policy. In process (moka)
        //! by default; in Redis when `REDIS_URL` is set, so every instance sees one cache and
        //! a write on any instance invalidates it for all. Invalidation bumps the policy's
        //! generation, which every key contains, so it is one atomic step however many
        //! entries there are. A Redis failure falls back to the database and logs an error.

        use std::time::Duration;

        use axum::body::{Body, Bytes};
        use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
        use axum::response::{IntoResponse, Response};
        use redis::aio::ConnectionManager;
        use sha2::Digest as _;

        use crate::error::AppError;

        /// One `cache` policy of the spec.
        #[derive(Debug)]
        pub struct Policy {
            pub name: &'static str,
            pub ttl: Duration,
            /// Answer `If-None-Match` with 304.
            pub etag: bool,
            pub control: Option<&'static str>,
        }

        /// The policies `get` operations use, by the indexes below.
        pub const POLICIES: [Policy; #count] = [#(#policies)*];

        #(#constants)*

        /// A response body and its ETag (when the policy has ETags), computed once when
        /// the body is stored.
        #[derive(Debug, Clone)]
        pub struct Entry {
            pub body: Bytes,
            pub etag: Option<HeaderValue>,
        }

        impl Entry {
            fn new(policy: usize, body: Bytes) -> Self {
                let etag = if POLICIES[policy].etag {
                    HeaderValue::try_from(format!("\"{:x}\"", sha2::Sha256::digest(&body))).ok()
                } else {
                    None
                };
                Entry { body, etag }
            }
        }

        /// A response body, and whether it came from the cache.
        #[derive(Debug, Clone)]
        pub struct Cached {
            pub entry: Entry,
            pub hit: bool,
        }

        /// The stores of every policy.
        pub struct Cache {
            local: Vec<moka::future::Cache<String, Entry>>,
            redis: Option<ConnectionManager>,
        }

        impl std::fmt::Debug for Cache {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct("Cache").field("shared", &self.redis.is_some()).finish_non_exhaustive()
            }
        }

        impl Cache {
            /// Caches in process, or in the shared Redis store when given one.
            pub fn new(redis: Option<ConnectionManager>) -> Self {
                let local = POLICIES
                    .iter()
                    .map(|p| moka::future::Cache::builder().max_capacity(10_000).time_to_live(p.ttl).build())
                    .collect();
                Cache { local, redis }
            }

            /// The fresh entry stored under `key`, if any.
            pub async fn get(&self, policy: usize, key: &str) -> Option<Cached> {
                let Some(redis) = &self.redis else {
                    let entry = self.local[policy].get(key).await?;
                    return Some(Cached { entry, hit: true });
                };
                let found: redis::RedisResult<Option<Vec<u8>>> = redis::Script::new(GET)
                    .key(generation_key(policy))
                    .arg(entry_prefix(policy))
                    .arg(key)
                    .invoke_async(&mut redis.clone())
                    .await;
                let body = found.unwrap_or_else(|err| {
                    tracing::error!(error = %err, policy = POLICIES[policy].name, "cache unavailable");
                    None
                })?;
                Some(Cached { entry: Entry::new(policy, Bytes::from(body)), hit: true })
            }

            /// Stores a body for the policy's time to live; the miss to answer with.
            pub async fn put(&self, policy: usize, key: &str, body: Bytes) -> Cached {
                let entry = Entry::new(policy, body);
                let Some(redis) = &self.redis else {
                    self.local[policy].insert(key.to_owned(), entry.clone()).await;
                    return Cached { entry, hit: false };
                };
                let stored: redis::RedisResult<()> = redis::Script::new(PUT)
                    .key(generation_key(policy))
                    .arg(entry_prefix(policy))
                    .arg(key)
                    .arg(entry.body.as_ref())
                    .arg(POLICIES[policy].ttl.as_millis() as u64)
                    .invoke_async(&mut redis.clone())
                    .await;
                if let Err(err) = stored {
                    tracing::error!(error = %err, policy = POLICIES[policy].name, "cache unavailable");
                }
                Cached { entry, hit: false }
            }

            /// Drops every entry of the policy, on this instance and, with Redis, on all.
            pub async fn invalidate(&self, policy: usize) {
                let Some(redis) = &self.redis else {
                    self.local[policy].invalidate_all();
                    return;
                };
                let bumped: redis::RedisResult<i64> = redis::cmd("INCR").arg(generation_key(policy)).query_async(&mut redis.clone()).await;
                if let Err(err) = bumped {
                    tracing::error!(error = %err, policy = POLICIES[policy].name, "cache invalidation failed");
                }
            }
        }

        fn generation_key(policy: usize) -> String {
            format!("{}:{}:generation", #prefix, POLICIES[policy].name)
        }

        fn entry_prefix(policy: usize) -> String {
            format!("{}:{}:", #prefix, POLICIES[policy].name)
        }

        /// Reads the entry under the current generation.
        const GET: &str = r"
            local generation = redis.call('GET', KEYS[1]) or '0'
            return redis.call('GET', ARGV[1] .. generation .. ':' .. ARGV[2])
        ";

        /// Writes the entry under the current generation, expiring with the policy's TTL.
        const PUT: &str = r"
            local generation = redis.call('GET', KEYS[1]) or '0'
            redis.call('SET', ARGV[1] .. generation .. ':' .. ARGV[2], ARGV[3], 'PX', ARGV[4])
            return redis.status_reply('OK')
        ";

        /// `value` as a response body, wrapped in `{ "<envelope>": ... }` when given.
        pub fn json_body<T: serde::Serialize>(envelope: Option<&str>, value: &T) -> Result<Bytes, AppError> {
            let body = match envelope {
                None => serde_json::to_vec(value),
                Some(key) => {
                    let mut map = serde_json::Map::new();
                    map.insert(key.to_owned(), serde_json::to_value(value).map_err(|err| AppError::Internal(err.to_string()))?);
                    serde_json::to_vec(&map)
                }
            };
            body.map(Bytes::from).map_err(|err| AppError::Internal(err.to_string()))
        }

        /// The 200 (or 304, when `If-None-Match` names the body's ETag) for a cached body,
        /// with `Cache-Control`, `ETag`, `Vary` and `X-Cache`.
        pub fn respond(request: &HeaderMap, policy: usize, cached: Cached) -> Response {
            let policy = &POLICIES[policy];
            let Entry { body, etag } = cached.entry;
            let not_modified = etag.as_ref().is_some_and(|tag| matches_etag(request, tag));
            let mut response = if not_modified {
                StatusCode::NOT_MODIFIED.into_response()
            } else {
                ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], Body::from(body)).into_response()
            };
            let headers = response.headers_mut();
            if let Some(tag) = etag {
                headers.insert(header::ETAG, tag);
            }
            if let Some(control) = policy.control {
                headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(control));
            }
            headers.insert(header::VARY, HeaderValue::from_static("authorization"));
            let result = if cached.hit { "HIT" } else { "MISS" };
            headers.insert("x-cache", HeaderValue::from_static(result));
            metrics::counter!("cache_requests_total", "policy" => policy.name, "result" => result).increment(1);
            response
        }

        fn matches_etag(request: &HeaderMap, tag: &HeaderValue) -> bool {
            request
                .get_all(header::IF_NONE_MATCH)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(|v| v.trim().trim_start_matches("W/"))
                .any(|v| v.as_bytes() == tag.as_bytes() || v == "*")
        }
    })
}
