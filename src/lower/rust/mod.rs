//! The generated Axum service crate: `Cargo.toml`, the infrastructure modules, and
//! `.env.example`. Rust is built with `quote!` and printed by `file.rs` alone.

pub(crate) mod api_keys;
mod api_tests;
pub(crate) mod auth;
mod authz;
pub(crate) mod cache;
pub(crate) mod config;
mod cookies;
mod domain;
mod events;
pub mod file;
pub(crate) mod input;
mod manifest;
mod metrics;
pub(crate) mod rate;
pub(crate) mod repo;
mod resource;
pub(crate) mod runtime;
mod sessions;
pub mod test_keys;
pub(crate) mod types;
pub(crate) mod view;

use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};

use proc_macro2::TokenStream;
use quote::quote;

pub use config::{EnvVar, env_vars};

use super::{Listing, OutputFile, Owner, Sink};
use crate::diagnostics::{Code, Diagnostic};
use crate::ir::{Ir, ResourceId, names};

/// What `lower` handed its sink, and warnings about operations it could not generate.
pub struct Lowered {
    pub listing: Listing,
    pub warnings: Vec<Diagnostic>,
}

/// Every file of the crate except the migrations, each handed to `sink` when printed.
pub fn lower(ir: &Ir, spec: &str, sink: &dyn Sink) -> Result<Lowered, Vec<Diagnostic>> {
    let queued = AtomicUsize::new(0);
    std::thread::scope(|scope| lower_printing_aside(ir, spec, sink, &queued, scope))
}

/// `lower`, with a second thread printing each module while the next one is built.
fn lower_printing_aside<'scope>(
    ir: &Ir,
    spec: &'scope str,
    sink: &'scope dyn Sink,
    queued: &'scope AtomicUsize,
    scope: &'scope std::thread::Scope<'scope, '_>,
) -> Result<Lowered, Vec<Diagnostic>> {
    let crate_name = names::snake_case(&ir.service.name);
    let mut repos = Vec::new();
    let mut warnings = Vec::new();
    let mut modules = Rendered::new(spec, sink, queued, scope);
    let mut user_files: Vec<(String, TokenStream)> = Vec::new();
    let mut http_modules = Vec::new();
    let mut service_modules = Vec::new();
    let mut handler_modules = Vec::new();
    let mut skipped = Vec::new();
    if let Some(tokens) = auth::routes_rs(ir, &mut repos) {
        modules.push(("src/http/auth.rs".into(), tokens));
        http_modules.push(types::ident("auth"));
    }
    for (i, r) in ir.resources.iter().enumerate() {
        let id = ResourceId(crate::ir::id32(i));
        let code = resource::resource(ir, id, &mut repos);
        warnings.extend(code.warnings);
        skipped.push(code.skipped);
        modules.push((format!("src/http/{}.rs", r.name), code.http));
        modules.push((format!("src/service/{}.rs", r.name), code.service));
        if let Some(h) = code.handlers {
            user_files.push((format!("src/handlers/{}.rs", r.name), h));
            handler_modules.push(types::ident(&r.name));
        }
        http_modules.push(types::ident(&r.name));
        service_modules.push(types::ident(&r.name));
    }
    if let Some(tokens) = events::repo_rs(ir) {
        modules.push((format!("src/repo/{}.rs", events::MODULE), tokens));
    }
    if let Some(tokens) = events::events_rs(ir) {
        modules.push(("src/events.rs".into(), tokens));
    }
    if let Some(tokens) = events::handlers_rs(ir) {
        user_files.push(("src/handlers/events.rs".into(), tokens));
        handler_modules.push(types::ident("events"));
    }
    let exposed = domain::exposed_entities(ir);
    for id in &exposed {
        let entity = ir.entity(*id);
        let module = names::snake_case(&entity.name);
        modules.push((
            format!("src/domain/{module}.rs"),
            domain::entity_rs(ir, entity, events::carried(ir, *id)),
        ));
        let spec = authz::spec_of(&mut repos, *id).clone();
        let mut tokens = repo::entity_rs(ir, *id, &spec);
        if ir.auth.as_ref().is_some_and(|a| a.identity == *id) {
            tokens.extend(auth::credentials_fn(ir));
            tokens.extend(auth::grant_role_fn(ir));
        }
        modules.push((format!("src/repo/{}.rs", repo::module(ir, *id)), tokens));
    }
    let admin = auth::admin_rs(ir);
    let id_type = ir
        .auth
        .as_ref()
        .map_or_else(|| quote!(uuid::Uuid), |a| types::key_type(ir, a.identity));
    modules.extend([
        (
            "src/lib.rs".to_string(),
            runtime::lib_rs(ir, !handler_modules.is_empty(), admin.is_some()),
        ),
        (
            "src/main.rs".into(),
            runtime::main_rs(
                &crate_name,
                runtime::Commands {
                    grant_role: auth::admin_grants_roles(ir),
                    api_keys: api_keys::of(ir).is_some(),
                },
            ),
        ),
        ("src/config.rs".into(), config::config_rs(ir)),
        ("src/telemetry.rs".into(), runtime::telemetry_rs()),
        ("src/error.rs".into(), runtime::error_rs(ir)),
        ("src/db.rs".into(), runtime::db_rs(ir)),
        ("src/state.rs".into(), runtime::state_rs(ir)),
        ("src/health.rs".into(), runtime::health_rs(ir)),
        ("src/http.rs".into(), runtime::http_rs(&http_modules)),
        ("src/startup.rs".into(), runtime::startup_rs(ir)),
        ("src/extract.rs".into(), runtime::extract_rs()),
        ("src/metrics.rs".into(), metrics::metrics_rs()),
        ("src/auth.rs".into(), auth::auth_rs(ir)),
        ("src/validate.rs".into(), input::validate_rs()),
        ("src/domain/mod.rs".into(), domain::mod_rs(ir)),
        ("src/repo/mod.rs".into(), repo::mod_rs(ir, &exposed)),
        (
            "src/service/mod.rs".into(),
            runtime::service_mod_rs(&service_modules, &id_type),
        ),
    ]);
    if let Some(tokens) = admin {
        modules.push(("src/admin.rs".into(), tokens));
    }
    if let Some(tokens) = sessions::repo_rs(ir) {
        modules.push((format!("src/repo/{}.rs", sessions::MODULE), tokens));
    }
    if let Some(tokens) = api_keys::repo_rs(ir) {
        modules.push((format!("src/repo/{}.rs", api_keys::MODULE), tokens));
    }
    if let Some(tokens) = cache::cache_rs(ir) {
        modules.push(("src/cache.rs".into(), tokens));
    }
    if let Some(tokens) = rate::rate_rs(ir) {
        modules.push(("src/rate.rs".into(), tokens));
    }
    api_tests::files(ir, &crate_name, &skipped, &mut modules);
    if !handler_modules.is_empty() {
        modules.push((
            "src/handlers/mod.rs".into(),
            runtime::handlers_mod_rs(&handler_modules),
        ));
    }
    let (printed, failures) = modules.finish();
    let mut listing: Listing = printed
        .into_iter()
        .map(|path| (path, Owner::Generated))
        .collect();
    let mut errors = Vec::new();
    let mut internal = |message: String| {
        errors.push(
            Diagnostic::error(Code::INTERNAL, ir.service.span, message)
                .with_help("this is a bug in svcc; please report it with the spec"),
        );
    };
    failures.into_iter().for_each(&mut internal);
    let mut put = |path: String, file: OutputFile| {
        listing.push((path.clone(), file.owner));
        sink.put(path, file);
    };
    for (path, tokens) in user_files {
        match file::render_user(&path, spec, tokens) {
            Ok(text) => put(
                path,
                OutputFile {
                    contents: text,
                    owner: Owner::UserSeed,
                },
            ),
            Err(message) => internal(message),
        }
    }
    put(
        "Cargo.toml".to_string(),
        generated(manifest::cargo_toml(ir, &crate_name, spec)),
    );
    put(".env.example".to_string(), generated(env_example(ir, spec)));
    put(
        ".gitignore".to_string(),
        generated(format!(
            "# {}\n/target\n/.svcc\n*.db\n*.db-shm\n*.db-wal\n",
            file::header_text(spec)
        )),
    );
    listing.sort_by(|a, b| a.0.cmp(&b.0));
    if errors.is_empty() {
        Ok(Lowered { listing, warnings })
    } else {
        Err(errors)
    }
}

/// Generated modules, printed as soon as they are built and handed to the sink: only one
/// module's token tree is alive at a time, which keeps memory flat on large specs. Token
/// trees cannot cross threads, so this thread turns each into text and a printer thread
/// parses and formats it (most of the printing cost) while the next module is built. When
/// the printer falls behind, this thread prints the module itself.
struct Rendered<'scope> {
    spec: &'scope str,
    sink: &'scope dyn Sink,
    modules: std::sync::mpsc::SyncSender<(String, String)>,
    /// Modules sent and not yet taken by the printer.
    queued: &'scope AtomicUsize,
    printer: std::thread::ScopedJoinHandle<'scope, Printed>,
    /// What this thread printed.
    here: Printed,
}

/// How many modules may wait for the printer thread.
const QUEUE: usize = 16;

/// The paths of printed modules, and the modules that did not parse.
#[derive(Default)]
struct Printed {
    paths: Vec<String>,
    failures: Vec<String>,
}

impl Printed {
    fn print(&mut self, sink: &dyn Sink, path: String, rendered: Result<String, String>) {
        match rendered {
            Ok(text) => {
                self.paths.push(path.clone());
                sink.put(path, generated(text));
            }
            Err(message) => self.failures.push(message),
        }
    }
}

impl<'scope> Rendered<'scope> {
    fn new(
        spec: &'scope str,
        sink: &'scope dyn Sink,
        queued: &'scope AtomicUsize,
        scope: &'scope std::thread::Scope<'scope, '_>,
    ) -> Self {
        let (modules, received) = std::sync::mpsc::sync_channel::<(String, String)>(QUEUE);
        let printer = scope.spawn(move || {
            let mut printed = Printed::default();
            for (path, text) in received {
                queued.fetch_sub(1, Ordering::Relaxed);
                let rendered = file::render(&path, spec, &text);
                printed.print(sink, path, rendered);
            }
            printed
        });
        Rendered {
            spec,
            sink,
            modules,
            queued,
            printer,
            here: Printed::default(),
        }
    }

    fn push(&mut self, (path, tokens): (String, TokenStream)) {
        // A full queue means the printer is behind: this thread prints the module itself,
        // straight from its tokens.
        if self.queued.load(Ordering::Relaxed) >= QUEUE {
            let rendered = file::render_tokens(&path, self.spec, tokens);
            self.here.print(self.sink, path, rendered);
            return;
        }
        self.queued.fetch_add(1, Ordering::Relaxed);
        // The printer only stops early by panicking, which `finish` reports.
        self.modules.send((path, tokens.to_string())).ok();
    }

    /// The paths of every printed module, and the modules that did not parse.
    fn finish(self) -> (Vec<String>, Vec<String>) {
        let Rendered {
            modules,
            printer,
            mut here,
            ..
        } = self;
        drop(modules);
        let there = printer.join().unwrap_or_else(|_| Printed {
            paths: Vec::new(),
            failures: vec![
                "internal error: the thread printing the generated modules panicked".to_string(),
            ],
        });
        here.paths.extend(there.paths);
        here.failures.extend(there.failures);
        (here.paths, here.failures)
    }
}

impl Extend<(String, TokenStream)> for Rendered<'_> {
    fn extend<I: IntoIterator<Item = (String, TokenStream)>>(&mut self, modules: I) {
        modules.into_iter().for_each(|m| self.push(m));
    }
}

fn generated(contents: String) -> OutputFile {
    OutputFile {
        contents,
        owner: Owner::Generated,
    }
}

/// Every variable the service reads, with its default and a comment.
fn env_example(ir: &Ir, spec: &str) -> String {
    let mut out = format!(
        "# {}\n# Every variable the service reads. Copy to `.env` or set them in the environment.\n",
        file::header_text(spec)
    );
    for v in env_vars(ir) {
        let _ = write!(out, "\n# {}\n", v.doc);
        match &v.default {
            Some(d) => {
                let _ = writeln!(out, "{}={d}", v.name);
            }
            None => {
                let _ = writeln!(out, "# {}=", v.name);
            }
        }
    }
    out
}
