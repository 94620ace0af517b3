//! Migration generation speed: the schema, the initial migration for both dialects, and a
//! diff, for a synthetic 500-entity spec.

use criterion::{Criterion, criterion_group, criterion_main};
use svcc::load::MemoryFs;
use svcc::lower::sql::{self, Dialect};

#[path = "support/synth.rs"]
mod synth;

fn migrations(c: &mut Criterion) {
    let text = synth::spec(500);
    let compiled = svcc::compile_text("synth.svc", &text, &MemoryFs::default());
    assert!(
        compiled.diagnostics.is_empty(),
        "synthetic spec has diagnostics: {:?}",
        compiled.diagnostics.first()
    );
    let ir = &compiled.ir;
    let mut group = c.benchmark_group("migrations_500_entities");
    group.sample_size(20);
    group.bench_function("schema", |b| b.iter(|| sql::schema(ir)));
    let schema = sql::schema(ir);
    group.bench_function("initial_postgres_and_sqlite", |b| {
        b.iter(|| {
            (
                sql::initial(&schema, Dialect::Postgres),
                sql::initial(&schema, Dialect::Sqlite),
            )
        });
    });
    group.bench_function("full_build_from_scratch", |b| {
        b.iter(|| sql::migrations(ir, None, &Default::default()))
    });
    let mut changed = schema.clone();
    for t in changed.tables.iter_mut().step_by(10) {
        t.columns.pop();
    }
    group.bench_function("diff_against_previous", |b| {
        b.iter(|| sql::diff::diff(&changed, &schema, &sql::diff::Renames::default()))
    });
    group.finish();
}

criterion_group!(benches, migrations);
criterion_main!(benches);
