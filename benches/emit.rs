//! Emission speed per lowering stage for synthetic specs of 10, 100 and 500 entities: the
//! Rust crate (token building plus prettyplease formatting), the docs and deployment files,
//! and the OpenAPI document. `bench/run.sh` measures whole builds and memory.

use std::sync::Mutex;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use svcc::load::MemoryFs;
use svcc::lower::Output;

#[path = "support/synth.rs"]
mod synth;

fn emit(c: &mut Criterion) {
    let mut group = c.benchmark_group("emit");
    group.sample_size(10);
    for n in [10, 100, 500] {
        let text = synth::spec(n);
        let compiled = svcc::compile_text("synth.svc", &text, &MemoryFs::default());
        assert!(
            !compiled.has_errors(),
            "synthetic spec has errors: {:?}",
            compiled.diagnostics.first()
        );
        let ir = &compiled.ir;
        group.bench_with_input(BenchmarkId::new("rust_crate", n), ir, |b, ir| {
            b.iter(|| {
                let output = Mutex::new(Output::new());
                svcc::lower::rust::lower(ir, "synth.svc", &output).map(|_| output)
            });
        });
        let crate_files = svcc::lower::rust::lower(ir, "synth.svc", &Mutex::new(Output::new()))
            .map(|lowered| lowered.listing)
            .unwrap_or_default();
        group.bench_with_input(BenchmarkId::new("docs", n), ir, |b, ir| {
            b.iter(|| svcc::lower::docs::lower(ir, "synth.svc", &crate_files));
        });
        group.bench_with_input(BenchmarkId::new("openapi", n), ir, |b, ir| {
            b.iter(|| svcc::lower::openapi::lower(ir, "synth.svc"));
        });
        group.bench_with_input(BenchmarkId::new("rules", n), ir, |b, ir| {
            b.iter(|| svcc::check::check(ir));
        });
    }
    group.finish();
}

criterion_group!(benches, emit);
criterion_main!(benches);
