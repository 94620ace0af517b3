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
mod statements;
pub mod test_keys;
pub(crate) mod types;
pub(crate) mod view;

use std::fmt::Write as _;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};

use proc_macro2::TokenStream;
use quote::quote;

pub use config::{EnvVar, env_vars};

use super::{Listing, OutputFile, Owner, Sink};
use crate::diagnostics::{Code, Diagnostic};
use crate::ir::{EntityId, Ir, ResourceId, names};
use repo::RepoSpec;

/// What `lower` handed its sink, and warnings about operations it could not generate.
pub struct Lowered {
    pub listing: Listing,
    pub warnings: Vec<Diagnostic>,
}

/// Every file of the crate except the migrations, each handed to `sink` when printed.
///
/// Two threads share the work, each printing the modules it builds: token trees cannot
/// cross threads, and printing them where they are spares turning them into text and back.
/// First each thread lowers a contiguous half of the resources. Lowering a resource also
/// collects what entity repositories must offer, in first-use order, so the second half's
/// collection merged into the first's is what one pass would give. Then both threads take
/// the remaining modules from one queue.
pub fn lower(ir: &Ir, spec: &str, sink: &dyn Sink) -> Result<Lowered, Vec<Diagnostic>> {
    let crate_name = names::snake_case(&ir.service.name);
    let half = halfway(ir);
    let (mut resources, second) = on_two_threads(
        || lower_resources(ir, spec, sink, 0..half, true),
        || lower_resources(ir, spec, sink, half..ir.resources.len(), false),
    );
    let mut failures = Vec::new();
    match second {
        Some(second) => resources.absorb(second),
        None => failures.push(PANICKED.to_string()),
    }
    let exposed = domain::exposed_entities(ir);
    let jobs: Vec<Job> = [Job::Tests, Job::Runtime]
        .into_iter()
        .chain(exposed.iter().map(|id| Job::Entity(*id)))
        .collect();
    let next = AtomicUsize::new(0);
    let work = || {
        let mut printer = Printer::new(spec, sink);
        while let Some(job) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) {
            job.lower(ir, &crate_name, &resources, &exposed, &mut printer);
        }
        printer.printed
    };
    let (here, there) = on_two_threads(work, work);
    if there.is_none() {
        failures.push(PANICKED.to_string());
    }
    let mut printed = std::mem::take(&mut resources.printed);
    std::iter::once(here)
        .chain(there)
        .for_each(|p| printed.absorb(p));
    let Printed {
        mut listing,
        failures: unparsed,
    } = printed;
    failures.extend(unparsed);
    let mut put = |path: &str, contents: String| {
        listing.push((path.to_string(), Owner::Generated));
        sink.put(path.to_string(), generated(contents));
    };
    put("Cargo.toml", manifest::cargo_toml(ir, &crate_name, spec));
    put(".env.example", env_example(ir, spec));
    put(
        ".gitignore",
        format!(
            "# {}\n/target\n/.svcc\n*.db\n*.db-shm\n*.db-wal\n",
            file::header_text(spec)
        ),
    );
    listing.sort_by(|a, b| a.0.cmp(&b.0));
    if failures.is_empty() {
        Ok(Lowered {
            listing,
            warnings: resources.warnings,
        })
    } else {
        Err(failures
            .into_iter()
            .map(|message| {
                Diagnostic::error(Code::INTERNAL, ir.service.span, message)
                    .with_help("this is a bug in svcc; please report it with the spec")
            })
            .collect())
    }
}

const PANICKED: &str = "internal error: a thread lowering the service crate panicked";

/// Runs `here` on this thread while `there` runs on another; `None` if `there` panicked.
fn on_two_threads<A, B: Send>(
    here: impl FnOnce() -> A,
    there: impl FnOnce() -> B + Send,
) -> (A, Option<B>) {
    std::thread::scope(|scope| {
        let other = scope.spawn(there);
        let mine = here();
        (mine, other.join().ok())
    })
}

/// Where the second half of the resources starts: about half the operations are before it.
fn halfway(ir: &Ir) -> usize {
    let weight = |r: &crate::ir::Resource| r.operations.len() + 1;
    let total: usize = ir.resources.iter().map(weight).sum();
    let mut sum = 0;
    ir.resources
        .iter()
        .position(|r| {
            sum += weight(r);
            2 * sum >= total
        })
        .map_or(0, |i| i + 1)
}

/// What lowering a run of resources printed and collected.
#[derive(Default)]
struct Resources {
    /// What each entity's repository must offer.
    repos: Vec<(EntityId, RepoSpec)>,
    warnings: Vec<Diagnostic>,
    /// Per resource, the operations not generated.
    skipped: Vec<Vec<usize>>,
    /// Module names under `src/http/`, `src/service/` and `src/handlers/`.
    http: Vec<String>,
    service: Vec<String>,
    handlers: Vec<String>,
    printed: Printed,
}

impl Resources {
    /// Appends the lowering of the run of resources after this one.
    fn absorb(&mut self, next: Resources) {
        for (entity, spec) in next.repos {
            authz::spec_of(&mut self.repos, entity).absorb(spec);
        }
        self.warnings.extend(next.warnings);
        self.skipped.extend(next.skipped);
        self.http.extend(next.http);
        self.service.extend(next.service);
        self.handlers.extend(next.handlers);
        self.printed.absorb(next.printed);
    }
}

/// The `http`, `service` and `handlers` modules of `ir.resources[range]`, after the
/// authentication routes when `with_auth`.
fn lower_resources(
    ir: &Ir,
    spec: &str,
    sink: &dyn Sink,
    range: Range<usize>,
    with_auth: bool,
) -> Resources {
    let mut printer = Printer::new(spec, sink);
    let mut out = Resources::default();
    if with_auth && let Some(tokens) = auth::routes_rs(ir, &mut out.repos) {
        printer.module("src/http/auth.rs".into(), tokens);
        out.http.push("auth".into());
    }
    for i in range {
        let r = &ir.resources[i];
        let code = resource::resource(ir, ResourceId(crate::ir::id32(i)), &mut out.repos);
        out.warnings.extend(code.warnings);
        out.skipped.push(code.skipped);
        printer.module(format!("src/http/{}.rs", r.name), code.http);
        printer.module(format!("src/service/{}.rs", r.name), code.service);
        if let Some(tokens) = code.handlers {
            printer.user_file(format!("src/handlers/{}.rs", r.name), tokens);
            out.handlers.push(r.name.clone());
        }
        out.http.push(r.name.clone());
        out.service.push(r.name.clone());
    }
    out.printed = printer.printed;
    out
}

/// The modules lowered once the resources are: any thread may take each.
enum Job {
    /// `tests/api/`.
    Tests,
    /// The service's infrastructure modules, events and module lists.
    Runtime,
    /// An entity's `src/domain/` and `src/repo/` modules.
    Entity(EntityId),
}

impl Job {
    fn lower(
        &self,
        ir: &Ir,
        crate_name: &str,
        resources: &Resources,
        exposed: &[EntityId],
        printer: &mut Printer,
    ) {
        match self {
            Job::Tests => api_tests::files(ir, crate_name, &resources.skipped, printer),
            Job::Runtime => runtime_modules(ir, crate_name, resources, exposed, printer),
            Job::Entity(id) => entity_modules(ir, *id, &resources.repos, printer),
        }
    }
}

fn entity_modules(ir: &Ir, id: EntityId, repos: &[(EntityId, RepoSpec)], printer: &mut Printer) {
    let entity = ir.entity(id);
    let module = names::snake_case(&entity.name);
    printer.module(
        format!("src/domain/{module}.rs"),
        domain::entity_rs(ir, entity, events::carried(ir, id)),
    );
    let offered = RepoSpec::default();
    let spec = repos
        .iter()
        .find(|(e, _)| *e == id)
        .map_or(&offered, |(_, spec)| spec);
    let mut tokens = repo::entity_rs(ir, id, spec);
    if ir.auth.as_ref().is_some_and(|a| a.identity == id) {
        tokens.extend(auth::credentials_fn(ir));
        tokens.extend(auth::grant_role_fn(ir));
    }
    printer.module(format!("src/repo/{}.rs", repo::module(ir, id)), tokens);
}

/// Every module that is not a resource's, an entity's or a test.
fn runtime_modules(
    ir: &Ir,
    crate_name: &str,
    resources: &Resources,
    exposed: &[EntityId],
    printer: &mut Printer,
) {
    let idents = |modules: &[String]| modules.iter().map(|m| types::ident(m)).collect::<Vec<_>>();
    let mut handler_modules = idents(&resources.handlers);
    if let Some(tokens) = events::repo_rs(ir) {
        printer.module(format!("src/repo/{}.rs", events::MODULE), tokens);
    }
    if let Some(tokens) = events::events_rs(ir) {
        printer.module("src/events.rs".into(), tokens);
    }
    if let Some(tokens) = events::handlers_rs(ir) {
        printer.user_file("src/handlers/events.rs".into(), tokens);
        handler_modules.push(types::ident("events"));
    }
    let admin = auth::admin_rs(ir);
    let id_type = ir
        .auth
        .as_ref()
        .map_or_else(|| quote!(uuid::Uuid), |a| types::key_type(ir, a.identity));
    printer.extend([
        (
            "src/lib.rs".to_string(),
            runtime::lib_rs(ir, !handler_modules.is_empty(), admin.is_some()),
        ),
        (
            "src/main.rs".into(),
            runtime::main_rs(
                crate_name,
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
        (
            "src/http.rs".into(),
            runtime::http_rs(&idents(&resources.http)),
        ),
        ("src/startup.rs".into(), runtime::startup_rs(ir)),
        ("src/extract.rs".into(), runtime::extract_rs()),
        ("src/metrics.rs".into(), metrics::metrics_rs()),
        ("src/auth.rs".into(), auth::auth_rs(ir)),
        ("src/validate.rs".into(), input::validate_rs()),
        ("src/domain/mod.rs".into(), domain::mod_rs(ir)),
        ("src/repo/mod.rs".into(), repo::mod_rs(ir, exposed)),
        (
            "src/service/mod.rs".into(),
            runtime::service_mod_rs(&idents(&resources.service), &id_type),
        ),
    ]);
    let optional = [
        ("src/admin.rs".to_string(), admin),
        (
            format!("src/repo/{}.rs", sessions::MODULE),
            sessions::repo_rs(ir),
        ),
        (
            format!("src/repo/{}.rs", api_keys::MODULE),
            api_keys::repo_rs(ir),
        ),
        ("src/cache.rs".into(), cache::cache_rs(ir)),
        ("src/rate.rs".into(), rate::rate_rs(ir)),
    ];
    printer.extend(
        optional
            .into_iter()
            .filter_map(|(path, tokens)| Some((path, tokens?))),
    );
    if !handler_modules.is_empty() {
        printer.module(
            "src/handlers/mod.rs".into(),
            runtime::handlers_mod_rs(&handler_modules),
        );
    }
}

/// Prints modules on the thread that built them and hands them to the sink.
struct Printer<'a> {
    spec: &'a str,
    sink: &'a dyn Sink,
    printed: Printed,
}

/// The files printed, and the modules that did not parse.
#[derive(Default)]
struct Printed {
    listing: Listing,
    failures: Vec<String>,
}

impl Printed {
    fn absorb(&mut self, other: Printed) {
        self.listing.extend(other.listing);
        self.failures.extend(other.failures);
    }
}

impl<'a> Printer<'a> {
    fn new(spec: &'a str, sink: &'a dyn Sink) -> Self {
        Printer {
            spec,
            sink,
            printed: Printed::default(),
        }
    }

    /// A generated module, printed unless an earlier build printed the same tokens.
    fn module(&mut self, path: String, tokens: TokenStream) {
        let fingerprint = file::fingerprint(self.spec, &tokens);
        let printed = match self.sink.earlier(&path, fingerprint) {
            Some(contents) => Ok(contents),
            None => file::render(&path, self.spec, tokens),
        };
        self.put(path, printed, Owner::Generated, Some(fingerprint));
    }

    /// A module written once for the user to own.
    fn user_file(&mut self, path: String, tokens: TokenStream) {
        let printed = file::render_user(&path, self.spec, tokens);
        self.put(path, printed, Owner::UserSeed, None);
    }

    fn put(
        &mut self,
        path: String,
        printed: Result<String, String>,
        owner: Owner,
        fingerprint: Option<u64>,
    ) {
        let contents = match printed {
            Ok(contents) => contents,
            Err(message) => return self.printed.failures.push(message),
        };
        self.printed.listing.push((path.clone(), owner));
        let file = OutputFile { contents, owner };
        match fingerprint {
            Some(fingerprint) => self.sink.put_module(path, file, fingerprint),
            None => self.sink.put(path, file),
        }
    }
}

impl Extend<(String, TokenStream)> for Printer<'_> {
    fn extend<I: IntoIterator<Item = (String, TokenStream)>>(&mut self, modules: I) {
        modules
            .into_iter()
            .for_each(|(path, tokens)| self.module(path, tokens));
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
