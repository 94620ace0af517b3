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
/// Both take units of work from one queue, so neither waits while the other has a long
/// tail. First the authentication routes and each resource: lowering a resource also
/// collects what entity repositories must offer, and merging those collections in resource
/// order gives what one pass would. Then the modules that need them.
pub fn lower(ir: &Ir, spec: &str, sink: &dyn Sink) -> Result<Lowered, Vec<Diagnostic>> {
    let crate_name = names::snake_case(&ir.service.name);
    let units: Vec<Unit> = std::iter::once(Unit::AuthRoutes)
        .chain((0..ir.resources.len()).map(Unit::Resource))
        .collect();
    let first = in_parallel(&units, spec, sink, |unit, printer| unit.lower(ir, printer));
    let mut failures = Vec::new();
    let mut resources = Resources::default();
    first.results.into_iter().for_each(|r| resources.absorb(r));
    let exposed = domain::exposed_entities(ir);
    let later = Later {
        ir,
        crate_name: &crate_name,
        resources: &resources,
        exposed: &exposed,
        tests: api_tests::Tests::new(ir, &crate_name, &resources.skipped),
    };
    let jobs: Vec<Job> = later
        .tests
        .parts()
        .map(Job::Tests)
        .chain([Job::Runtime])
        .chain(exposed.iter().map(|id| Job::Entity(*id)))
        .collect();
    let second = in_parallel(&jobs, spec, sink, |job, printer| later.run(job, printer));
    let test_modules: Vec<String> = second.results.into_iter().flatten().collect();
    let mut last = Printer::new(spec, sink);
    later.tests.finish(&test_modules, &mut last);
    let mut printed = first.printed;
    for phase in [first.panicked, second.panicked] {
        if phase {
            failures.push(PANICKED.to_string());
        }
    }
    printed.absorb(second.printed);
    printed.absorb(last.printed);
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

/// What `in_parallel` made of a list of jobs.
struct Shared<R> {
    /// Each job's result, in the jobs' order.
    results: Vec<R>,
    printed: Printed,
    /// Whether the second thread panicked; its results are then missing.
    panicked: bool,
}

/// Runs every job on two threads, each with its own printer, each taking the next job as
/// soon as it is free.
fn in_parallel<J: Sync, R: Send>(
    jobs: &[J],
    spec: &str,
    sink: &dyn Sink,
    run: impl Fn(&J, &mut Printer) -> R + Sync,
) -> Shared<R> {
    let next = AtomicUsize::new(0);
    let work = || {
        let mut printer = Printer::new(spec, sink);
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(job) = jobs.get(i) else { break };
            done.push((i, run(job, &mut printer)));
        }
        (done, printer.printed)
    };
    let ((mut results, mut printed), there) = std::thread::scope(|scope| {
        let other = scope.spawn(work);
        let mine = work();
        (mine, other.join().ok())
    });
    let panicked = there.is_none();
    if let Some((more, also)) = there {
        results.extend(more);
        printed.absorb(also);
    }
    results.sort_unstable_by_key(|(i, _)| *i);
    Shared {
        results: results.into_iter().map(|(_, r)| r).collect(),
        printed,
        panicked,
    }
}

/// What lowering resources collected.
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
}

impl Resources {
    /// Appends what the next unit collected.
    fn absorb(&mut self, next: Resources) {
        for (entity, spec) in next.repos {
            authz::spec_of(&mut self.repos, entity).absorb(spec);
        }
        self.warnings.extend(next.warnings);
        self.skipped.extend(next.skipped);
        self.http.extend(next.http);
        self.service.extend(next.service);
        self.handlers.extend(next.handlers);
    }
}

/// The first units of work, which the rest of the crate depends on.
enum Unit {
    /// The authentication routes, when the spec has them.
    AuthRoutes,
    /// A resource's `http`, `service` and `handlers` modules.
    Resource(usize),
}

impl Unit {
    fn lower(&self, ir: &Ir, printer: &mut Printer) -> Resources {
        let mut out = Resources::default();
        match *self {
            Unit::AuthRoutes => {
                if let Some(tokens) = auth::routes_rs(ir, &mut out.repos) {
                    printer.module("src/http/auth.rs".into(), tokens);
                    out.http.push("auth".into());
                }
            }
            Unit::Resource(i) => {
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
        }
        out
    }
}

/// The modules lowered once the resources are: any thread may take each.
enum Job {
    /// A part of `tests/api/`.
    Tests(api_tests::Part),
    /// The service's infrastructure modules, events and module lists.
    Runtime,
    /// An entity's `src/domain/` and `src/repo/` modules.
    Entity(EntityId),
}

/// What the jobs read.
struct Later<'a> {
    ir: &'a Ir,
    crate_name: &'a str,
    resources: &'a Resources,
    exposed: &'a [EntityId],
    tests: api_tests::Tests<'a>,
}

impl Later<'_> {
    /// Lowers `job`; answers the test modules it made.
    fn run(&self, job: &Job, printer: &mut Printer) -> Vec<String> {
        let ir = self.ir;
        match *job {
            Job::Tests(part) => return self.tests.part(part, printer),
            Job::Runtime => {
                runtime_modules(ir, self.crate_name, self.resources, self.exposed, printer)
            }
            Job::Entity(id) => entity_modules(ir, id, &self.resources.repos, printer),
        }
        Vec::new()
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
