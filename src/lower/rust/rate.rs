//! Rate limits: the generated `src/rate.rs` and the extractor each limited handler takes
//! first. Every policy an operation (or the auth endpoints) uses becomes a marker type, so a
//! handler names its limit in its signature: `_limit: Limit<rate::Writes>`.

use proc_macro2::TokenStream;
use quote::quote;

use super::types::type_ident;
use crate::ir::{Ir, Operation, RateAlgorithm, RateId, RateKey};

/// The policy an operation is limited by: its own, else the service's default.
pub fn of_operation(ir: &Ir, op: &Operation) -> Option<RateId> {
    op.rate.or(ir.service.default_rate)
}

/// The policy of the register and login endpoints.
pub fn of_auth(ir: &Ir) -> Option<RateId> {
    ir.auth
        .as_ref()
        .and_then(|a| a.rate)
        .or(ir.service.default_rate)
}

/// Policies some endpoint uses, in declaration order.
pub fn used(ir: &Ir) -> Vec<RateId> {
    let mut ids: Vec<RateId> = ir
        .resources
        .iter()
        .flat_map(|r| r.operations.iter().filter_map(|op| of_operation(ir, op)))
        .chain(of_auth(ir))
        .collect();
    ids.sort_by_key(|id| id.index());
    ids.dedup();
    ids
}

/// The extractor argument limiting a handler, or nothing when no policy applies.
pub fn extractor(ir: &Ir, rate: Option<RateId>) -> TokenStream {
    match rate {
        Some(id) => {
            let marker = type_ident(&ir.rate(id).name);
            quote!(_limit: crate::rate::Limit<crate::rate::#marker>,)
        }
        None => quote!(),
    }
}

/// `src/rate.rs`, when some endpoint is limited.
pub fn rate_rs(ir: &Ir) -> Option<TokenStream> {
    let used = used(ir);
    if used.is_empty() {
        return None;
    }
    let service = &ir.service.name;
    let count = used.len();
    let policies = used.iter().map(|id| {
        let p = ir.rate(*id);
        let name = &p.name;
        let limit = p.limit;
        let window = p.window_ms;
        let burst = p.burst.unwrap_or(p.limit);
        let algorithm = match p.algorithm {
            RateAlgorithm::TokenBucket => quote!(Algorithm::TokenBucket),
            RateAlgorithm::SlidingWindow => quote!(Algorithm::SlidingWindow),
            RateAlgorithm::FixedWindow => quote!(Algorithm::FixedWindow),
        };
        let key = match p.key {
            RateKey::Ip => quote!(KeyBy::Ip),
            RateKey::User => quote!(KeyBy::User),
            RateKey::ApiKey => quote!(KeyBy::ApiKey),
        };
        quote! {
            Policy { name: #name, limit: #limit, window: Duration::from_millis(#window), burst: #burst, algorithm: #algorithm, key: #key },
        }
    });
    let markers = used.iter().enumerate().map(|(index, id)| {
        let p = ir.rate(*id);
        let marker = type_ident(&p.name);
        let doc = if p.docs.is_empty() {
            format!(" The `{}` policy.", p.name)
        } else {
            p.docs.join("\n")
        };
        quote! {
            #[doc = #doc]
            #[derive(Debug)]
            pub struct #marker;

            impl Named for #marker {
                const INDEX: usize = #index;
            }
        }
    });
    let user_key = if super::api_keys::of(ir).is_some() {
        quote! {
            KeyBy::User | KeyBy::ApiKey => {
                let MaybeCaller(caller) = MaybeCaller::from_request_parts(parts, state).await?;
                let Some(caller) = caller else {
                    return Ok(format!("ip:{}", client_ip(parts, &state.settings.trusted_proxies)));
                };
                let client = match (&caller.api_key, key) {
                    (Some(key), KeyBy::ApiKey) => format!("key:{}", key.id),
                    _ => format!("user:{}", caller.id),
                };
                // The operation's caller extractor takes it from here instead of checking again.
                parts.extensions.insert(caller);
                Ok(client)
            }
        }
    } else if ir.auth.is_some() {
        quote! {
            KeyBy::User | KeyBy::ApiKey => {
                let MaybeCaller(caller) = MaybeCaller::from_request_parts(parts, state).await?;
                let Some(caller) = caller else {
                    return Ok(format!("ip:{}", client_ip(parts, &state.settings.trusted_proxies)));
                };
                let client = format!("user:{}", caller.id);
                // The operation's caller extractor takes it from here instead of checking again.
                parts.extensions.insert(caller);
                Ok(client)
            }
        }
    } else {
        quote! {
            KeyBy::User | KeyBy::ApiKey => Ok(format!("ip:{}", client_ip(parts, &state.settings.trusted_proxies))),
        }
    };
    let maybe_caller = ir.auth.is_some().then(|| {
        quote!(
            use crate::auth::MaybeCaller;
        )
    });
    let prefix = format!("{service}:rate");
    Some(quote! {
        //! Rate limits from the spec. Each limited handler takes `Limit<Policy>` first, so a
        //! request over its budget is answered 429 before any token check, body parsing or
        //! query. Counters live in process (a token bucket from `governor`, window counters
        //! here) unless `REDIS_URL` is set; then every instance shares them through one atomic
        //! script per algorithm. A Redis failure lets requests through and logs an error:
        //! the limit is a safeguard, not a reason to refuse service.

        use std::collections::HashMap;
        use std::marker::PhantomData;
        use std::net::{IpAddr, SocketAddr};
        use std::num::NonZeroU32;
        use std::sync::{Arc, Mutex};
        use std::time::{Duration, Instant};

        use axum::extract::{ConnectInfo, FromRequestParts};
        use axum::http::request::Parts;
        use governor::clock::{Clock, DefaultClock};
        use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
        use redis::aio::ConnectionManager;

        #maybe_caller
        use crate::error::AppError;
        use crate::state::AppState;

        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Algorithm {
            TokenBucket,
            SlidingWindow,
            FixedWindow,
        }

        /// What a policy counts requests by.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum KeyBy {
            Ip,
            /// The signed-in user; anonymous requests count by address.
            User,
            /// The API key; requests without one count like `User`.
            ApiKey,
        }

        /// One `rate` policy of the spec.
        #[derive(Debug)]
        pub struct Policy {
            pub name: &'static str,
            pub limit: u32,
            pub window: Duration,
            /// Requests a token bucket allows at once.
            pub burst: u32,
            pub algorithm: Algorithm,
            pub key: KeyBy,
        }

        /// The policies endpoints use; `Named::INDEX` points here.
        pub const POLICIES: [Policy; #count] = [#(#policies)*];

        /// A policy as a type, so a handler's signature names its limit.
        pub trait Named {
            const INDEX: usize;
        }

        #(#markers)*

        /// Admits the request under policy `P`, or rejects it with 429.
        #[derive(Debug)]
        pub struct Limit<P>(PhantomData<P>);

        impl<P: Named> FromRequestParts<AppState> for Limit<P> {
            type Rejection = AppError;

            async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
                if !state.settings.rate_limits_enabled {
                    return Ok(Limit(PhantomData));
                }
                let policy = &POLICIES[P::INDEX];
                let client = client_key(parts, state, policy.key).await?;
                if let Err(refused) = state.limiter.check(P::INDEX, &client).await {
                    metrics::counter!("rate_limit_rejections_total", "policy" => policy.name).increment(1);
                    return Err(refused);
                }
                Ok(Limit(PhantomData))
            }
        }

        async fn client_key(parts: &mut Parts, state: &AppState, key: KeyBy) -> Result<String, AppError> {
            match key {
                KeyBy::Ip => Ok(format!("ip:{}", client_ip(parts, &state.settings.trusted_proxies))),
                #user_key
            }
        }

        /// The peer address, or, when the peer is a trusted proxy, the nearest address in
        /// `X-Forwarded-For` that is not one (clients can prepend anything, so read from the right).
        fn client_ip(parts: &Parts, trusted: &[IpAddr]) -> String {
            let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() else {
                return "unknown".to_owned();
            };
            let peer = peer.ip();
            if !trusted.contains(&peer) {
                return peer.to_string();
            }
            let forwarded = parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .filter_map(|a| a.parse::<IpAddr>().ok())
                .collect::<Vec<_>>();
            forwarded
                .iter()
                .rev()
                .find(|a| !trusted.contains(a))
                .copied()
                .unwrap_or(peer)
                .to_string()
        }

        /// Counters for every policy, in process or in Redis.
        pub struct Limiter {
            local: Vec<Local>,
            redis: Option<ConnectionManager>,
            started: Instant,
        }

        impl std::fmt::Debug for Limiter {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct("Limiter").field("shared", &self.redis.is_some()).finish_non_exhaustive()
            }
        }

        enum Local {
            Bucket(DefaultKeyedRateLimiter<String>),
            Windows(Mutex<HashMap<String, Window>>),
        }

        /// Requests counted in the current and the previous window.
        #[derive(Debug, Default)]
        struct Window {
            index: u64,
            current: u32,
            previous: u32,
        }

        impl Limiter {
            /// Counters in process, or in the shared Redis store when given one.
            pub fn new(redis: Option<ConnectionManager>) -> Self {
                let local = POLICIES.iter().map(local_counter).collect();
                Limiter { local, redis, started: Instant::now() }
            }

            /// Counts one request of `client` against policy `index`.
            pub async fn check(&self, index: usize, client: &str) -> Result<(), AppError> {
                let policy = &POLICIES[index];
                let wait = match &self.redis {
                    Some(redis) => match shared_check(redis.clone(), policy, client).await {
                        Ok(wait) => wait,
                        Err(err) => {
                            tracing::error!(error = %err, policy = policy.name, "rate limit store unavailable; request let through");
                            None
                        }
                    },
                    None => self.local_check(index, client),
                };
                match wait {
                    None => Ok(()),
                    Some(wait) => {
                        tracing::info!(policy = policy.name, "rate limit exceeded");
                        Err(AppError::RateLimited { limit: policy.limit, retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64 })
                    }
                }
            }

            /// How long until the request would be admitted, or `None` to admit it now.
            fn local_check(&self, index: usize, client: &str) -> Option<Duration> {
                let policy = &POLICIES[index];
                match &self.local[index] {
                    Local::Bucket(bucket) => bucket
                        .check_key(&client.to_owned())
                        .err()
                        .map(|not_until| not_until.wait_time_from(DefaultClock::default().now())),
                    Local::Windows(windows) => {
                        let window = policy.window.as_millis().max(1) as u64;
                        let now = self.started.elapsed().as_millis() as u64;
                        let mut windows = windows.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                        let slot = windows.entry(client.to_owned()).or_default();
                        admit(slot, policy, now, window)
                    }
                }
            }

            /// Forgets clients idle for a whole window, so memory follows the active set.
            pub fn forget_idle(&self) {
                let now = self.started.elapsed().as_millis() as u64;
                for (policy, local) in POLICIES.iter().zip(&self.local) {
                    match local {
                        Local::Bucket(bucket) => {
                            bucket.retain_recent();
                            bucket.shrink_to_fit();
                        }
                        Local::Windows(windows) => {
                            let current = now / policy.window.as_millis().max(1) as u64;
                            let mut windows = windows.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                            windows.retain(|_, w| w.index + 1 >= current);
                        }
                    }
                }
            }
        }

        /// Every minute, drops counters of clients idle for a window; ends with the limiter.
        pub fn forget_idle_clients(limiter: &Arc<Limiter>) {
            let limiter = Arc::downgrade(limiter);
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(60));
                tick.tick().await;
                loop {
                    tick.tick().await;
                    match limiter.upgrade() {
                        Some(limiter) => limiter.forget_idle(),
                        None => break,
                    }
                }
            });
        }

        fn local_counter(policy: &Policy) -> Local {
            match policy.algorithm {
                Algorithm::TokenBucket => {
                    let period = (policy.window / policy.limit.max(1)).max(Duration::from_nanos(1));
                    let burst = NonZeroU32::new(policy.burst).unwrap_or(NonZeroU32::MIN);
                    let quota = Quota::with_period(period).map_or_else(|| Quota::per_second(burst), |q| q.allow_burst(burst));
                    Local::Bucket(RateLimiter::keyed(quota))
                }
                Algorithm::SlidingWindow | Algorithm::FixedWindow => Local::Windows(Mutex::new(HashMap::new())),
            }
        }

        /// Window counting, at `now` milliseconds: a fixed window counts this window only; a
        /// sliding one also weighs the previous window by how much of it still overlaps.
        fn admit(slot: &mut Window, policy: &Policy, now: u64, window: u64) -> Option<Duration> {
            let index = now / window;
            if slot.index != index {
                slot.previous = if slot.index + 1 == index { slot.current } else { 0 };
                slot.current = 0;
                slot.index = index;
            }
            let elapsed = now % window;
            let counted = match policy.algorithm {
                Algorithm::SlidingWindow => u64::from(slot.previous) * (window - elapsed) / window + u64::from(slot.current),
                _ => u64::from(slot.current),
            };
            if counted >= u64::from(policy.limit) {
                return Some(Duration::from_millis(window - elapsed));
            }
            slot.current += 1;
            None
        }

        /// The same algorithms as one atomic script each, on the Redis server's clock.
        async fn shared_check(mut redis: ConnectionManager, policy: &Policy, client: &str) -> redis::RedisResult<Option<Duration>> {
            let script = match policy.algorithm {
                Algorithm::TokenBucket => redis::Script::new(TOKEN_BUCKET),
                Algorithm::SlidingWindow | Algorithm::FixedWindow => redis::Script::new(WINDOWS),
            };
            let sliding = i64::from(policy.algorithm == Algorithm::SlidingWindow);
            let key = format!("{}:{}:{client}", #prefix, policy.name);
            let (allowed, wait_ms): (i64, i64) = script
                .key(key)
                .arg(policy.limit)
                .arg(policy.window.as_millis() as u64)
                .arg(policy.burst)
                .arg(sliding)
                .invoke_async(&mut redis)
                .await?;
            Ok((allowed == 0).then(|| Duration::from_millis(wait_ms.max(1) as u64)))
        }

        /// GCRA: the bucket is the "theoretical arrival time" of the next request.
        const TOKEN_BUCKET: &str = r"
            local t = redis.call('TIME')
            local now = t[1] * 1000 + math.floor(t[2] / 1000)
            local emission = tonumber(ARGV[2]) / tonumber(ARGV[1])
            local tolerance = emission * tonumber(ARGV[3])
            local tat = tonumber(redis.call('GET', KEYS[1])) or now
            if tat < now then tat = now end
            local next_tat = tat + emission
            local allow_at = next_tat - tolerance
            if now < allow_at then return {0, math.ceil(allow_at - now)} end
            redis.call('SET', KEYS[1], next_tat, 'PX', math.ceil(next_tat - now))
            return {1, 0}
        ";

        /// Fixed and sliding windows: a counter per window, the previous one weighted when sliding.
        const WINDOWS: &str = r"
            local t = redis.call('TIME')
            local now = t[1] * 1000 + math.floor(t[2] / 1000)
            local limit = tonumber(ARGV[1])
            local window = tonumber(ARGV[2])
            local index = math.floor(now / window)
            local elapsed = now % window
            local current_key = KEYS[1] .. ':' .. index
            local counted = tonumber(redis.call('GET', current_key)) or 0
            if ARGV[4] == '1' then
                local previous = tonumber(redis.call('GET', KEYS[1] .. ':' .. (index - 1))) or 0
                counted = counted + math.floor(previous * (window - elapsed) / window)
            end
            if counted >= limit then return {0, window - elapsed} end
            redis.call('INCR', current_key)
            redis.call('PEXPIRE', current_key, window * 2)
            return {1, 0}
        ";
    })
}
