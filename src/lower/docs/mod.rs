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
    let facts = design::Facts {
        ir,
        redis: rust::runtime::uses_redis(ir),
        rate_limited: !rust::rate::used(ir).is_empty(),
        cached: !rust::cache::used(ir).is_empty(),
        handlers: crate_files
            .iter()
            .any(|(_, owner)| *owner == Owner::UserSeed),
    };
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
    if facts.redis {
        secrets.push(deploy::SecretVar {
            name: &vars[config::REDIS_URL].name,
            optional: true,
        });
    }
    let mut files: Vec<String> = crate_files
        .iter()
        .map(|(path, owner)| match owner {
            Owner::Generated => path.clone(),
            Owner::UserSeed => format!("{path}  (yours: written once, never overwritten)"),
        })
        .collect();
    let own = [
        "Dockerfile",
        ".dockerignore",
        "deploy/kubernetes.yaml",
        "docs/adr/ADR-001-architecture.md",
        "docs/api.md",
        "docs/architecture.md",
        "docs/data-model.md",
        "docs/runbook.md",
    ];
    files.extend(own.iter().map(|p| (*p).to_owned()));
    files.extend([
        "migrations/<database>/NNNN_<name>.{up,down}.sql".to_owned(),
        "migrations/schema.json".to_owned(),
    ]);
    files.sort_unstable();
    let texts = [
        deploy::dockerfile(&binary, &port, &header),
        deploy::dockerignore(&header),
        deploy::kubernetes(&binary, &port, &secrets, shutdown_secs, &header),
        design::adr_md(&facts, &header),
        api::api_md(ir, &header),
        design::architecture_md(&facts, &files, &header),
        data_model::data_model_md(&schema, &sql::dialects(ir), &header),
        runbook::runbook_md(ir, &vars, &binary, facts.redis, &header),
    ];
    own.iter()
        .zip(texts)
        .map(|(path, contents)| {
            (
                (*path).to_owned(),
                OutputFile {
                    contents,
                    owner: Owner::Generated,
                },
            )
        })
        .collect()
}
