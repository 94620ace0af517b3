//! Docs and deployment files for the generated crate: an ADR, the architecture, the data
//! model, a runbook, the API reference, a Dockerfile and a Kubernetes manifest. Each is
//! derived from the IR (and the schema and variable list the other lowerings use), so it
//! changes exactly when the service does.

mod api;
mod data_model;
mod deploy;
mod design;
mod markdown;
mod runbook;

pub use data_model::er_diagram;

use super::rust::{self, config};
use super::sql;
use super::{Listing, Output, OutputFile, Owner};
use crate::ir::{Ir, names};

/// The files, keyed by path. `crate_files` is the rest of the crate, which the
/// architecture document lists.
pub fn lower(ir: &Ir, spec: &str, crate_files: &Listing) -> Output {
    let mut files = reference(ir, spec);
    files.extend(design(ir, spec, crate_files));
    files
}

/// The files that need the IR alone: the deployment files, the API reference, the data
/// model and the runbook. A build makes them while the crate is being lowered.
pub fn reference(ir: &Ir, spec: &str) -> Output {
    let header = rust::file::header_text(spec);
    let binary = names::snake_case(&ir.service.name);
    let vars = rust::env_vars(ir);
    let port = vars[config::PORT]
        .default
        .clone()
        .unwrap_or_else(|| "8080".into());
    let shutdown_secs = vars
        .iter()
        .find(|v| v.name == "SHUTDOWN_TIMEOUT_SECS")
        .and_then(|v| v.default.as_deref()?.parse().ok())
        .unwrap_or(30);
    let redis = rust::runtime::uses_redis(ir);
    let schema = sql::schema::schema(ir);
    let mut secrets = vec![deploy::SecretVar {
        name: &vars[config::DATABASE_URL].name,
        optional: false,
    }];
    if ir.auth.is_some() {
        secrets.push(deploy::SecretVar {
            name: &vars[config::JWT_SECRET].name,
            optional: false,
        });
    }
    if config::asymmetric(ir) {
        // Not secret, but it comes with the private key and rotates with it.
        secrets.push(deploy::SecretVar {
            name: config::JWT_PUBLIC_KEY,
            optional: false,
        });
    }
    if redis {
        secrets.push(deploy::SecretVar {
            name: &vars[config::REDIS_URL].name,
            optional: true,
        });
    }
    let texts = [
        deploy::dockerfile(&binary, &port, &header),
        deploy::dockerignore(&header),
        deploy::kubernetes(&binary, &port, &secrets, shutdown_secs, &header),
        api::api_md(ir, &header),
        data_model::data_model_md(&schema, &sql::dialects(ir), &header),
        runbook::runbook_md(ir, &vars, &binary, redis, &header),
    ];
    generated(REFERENCE.into_iter().zip(texts))
}

/// The ADR and the architecture document, which list the crate's files (`crate_files`) and
/// say whether it has handlers of the user's.
pub fn design(ir: &Ir, spec: &str, crate_files: &Listing) -> Output {
    let header = rust::file::header_text(spec);
    let facts = design::Facts {
        ir,
        redis: rust::runtime::uses_redis(ir),
        rate_limited: !rust::rate::used(ir).is_empty(),
        cached: !rust::cache::used(ir).is_empty(),
        handlers: crate_files
            .iter()
            .any(|(_, owner)| *owner == Owner::UserSeed),
    };
    let mut files: Vec<String> = crate_files
        .iter()
        .map(|(path, owner)| match owner {
            Owner::Generated => path.clone(),
            Owner::UserSeed => format!("{path}  (yours: written once, never overwritten)"),
        })
        .collect();
    let others = [
        ADR,
        ARCHITECTURE,
        "migrations/<database>/NNNN_<name>.{up,down}.sql",
        "migrations/schema.json",
    ];
    files.extend(REFERENCE.into_iter().chain(others).map(str::to_owned));
    files.sort_unstable();
    generated([
        (ADR, design::adr_md(&facts, &header)),
        (
            ARCHITECTURE,
            design::architecture_md(&facts, &files, &header),
        ),
    ])
}

/// The paths `reference` writes, in its order.
const REFERENCE: [&str; 6] = [
    "Dockerfile",
    ".dockerignore",
    "deploy/kubernetes.yaml",
    "docs/api.md",
    "docs/data-model.md",
    "docs/runbook.md",
];
const ADR: &str = "docs/adr/ADR-001-architecture.md";
const ARCHITECTURE: &str = "docs/architecture.md";

fn generated<'a>(files: impl IntoIterator<Item = (&'a str, String)>) -> Output {
    files
        .into_iter()
        .map(|(path, contents)| {
            (
                path.to_owned(),
                OutputFile {
                    contents,
                    owner: Owner::Generated,
                },
            )
        })
        .collect()
}
