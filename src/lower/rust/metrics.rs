//! `src/metrics.rs` of the generated crate: Prometheus metrics at `GET /metrics`. Request
//! counts and latency histograms by method, route template and status (bounded label
//! sets: unmatched paths share one label), database pool usage read at scrape time, and
//! the counters rate limits and caches increment.

use proc_macro2::TokenStream;
use quote::quote;

pub fn metrics_rs() -> TokenStream {
    quote! {
        //! Prometheus metrics, served at `GET /metrics`: `http_requests_total` and
        //! `http_request_duration_seconds` by method, route and status, `db_pool_connections`,
        //! `rate_limit_rejections_total` and `cache_requests_total`. The endpoint has no
        //! authentication: keep it off the public network.

        use std::sync::{Arc, OnceLock};
        use std::time::{Duration, Instant};

        use axum::extract::{MatchedPath, Request, State};
        use axum::http::{Method, header};
        use axum::middleware::Next;
        use axum::response::{IntoResponse, Response};
        use metrics::{Label, SharedString};
        use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

        use crate::state::AppState;

        /// Upper bounds, in seconds, of the request latency histogram's buckets.
        const LATENCY_BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

        /// How often recorded latencies are folded into the histograms.
        const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

        /// The process-wide recorder, installed on first use: every app in the process
        /// (tests build many) shares it.
        fn handle() -> &'static PrometheusHandle {
            static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
            HANDLE.get_or_init(|| {
                let installed = PrometheusBuilder::new()
                    .set_buckets_for_metric(Matcher::Full("http_request_duration_seconds".to_owned()), &LATENCY_BUCKETS)
                    .and_then(PrometheusBuilder::install_recorder);
                match installed {
                    Ok(handle) => handle,
                    Err(err) => {
                        tracing::error!(error = %err, "metrics recorder not installed; /metrics stays empty");
                        PrometheusBuilder::new().build_recorder().handle()
                    }
                }
            })
        }

        /// Installs the recorder before the first request is counted.
        pub fn init() {
            handle();
        }

        /// Counts and times every request by its route template, never its raw path.
        pub async fn track(request: Request, next: Next) -> Response {
            let started = Instant::now();
            let method = method_label(request.method());
            let route: SharedString = request
                .extensions()
                .get::<MatchedPath>()
                .map_or(SharedString::const_str("unmatched"), |path| Arc::<str>::from(path.as_str()).into());
            let response = next.run(request).await;
            let status: SharedString = Arc::<str>::from(response.status().as_str()).into();
            // Shared strings, so the two keys reuse one copy of each label.
            let labels = vec![Label::new("method", method), Label::new("route", route), Label::new("status", status)];
            metrics::counter!("http_requests_total", labels.clone()).increment(1);
            metrics::histogram!("http_request_duration_seconds", labels).record(started.elapsed().as_secs_f64());
            response
        }

        /// The standard methods as static labels; any other shares one.
        fn method_label(method: &Method) -> SharedString {
            let name = match *method {
                Method::GET => "GET",
                Method::POST => "POST",
                Method::PUT => "PUT",
                Method::PATCH => "PATCH",
                Method::DELETE => "DELETE",
                Method::HEAD => "HEAD",
                Method::OPTIONS => "OPTIONS",
                _ => "other",
            };
            SharedString::const_str(name)
        }

        /// Folds recorded latencies into the histograms every few seconds. Without it they
        /// pile up between scrapes, and a service nobody scrapes grows with every request.
        /// The fold runs on the blocking pool: a few seconds of samples would otherwise hold
        /// up the requests queued behind it on a worker.
        pub async fn keep_up() {
            let mut ticks = tokio::time::interval(UPKEEP_INTERVAL);
            loop {
                ticks.tick().await;
                if let Err(err) = tokio::task::spawn_blocking(|| handle().run_upkeep()).await {
                    tracing::error!(error = %err, "metrics upkeep failed");
                }
            }
        }

        /// `GET /metrics`: the Prometheus text format.
        pub async fn render(State(state): State<AppState>) -> Response {
            let (open, idle) = state.db.pool_usage();
            let in_use = usize::try_from(open).unwrap_or(usize::MAX).saturating_sub(idle);
            metrics::gauge!("db_pool_connections", "state" => "idle").set(idle as f64);
            metrics::gauge!("db_pool_connections", "state" => "in_use").set(in_use as f64);
            let handle = handle();
            handle.run_upkeep();
            (
                [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                handle.render(),
            )
                .into_response()
        }
    }
}
