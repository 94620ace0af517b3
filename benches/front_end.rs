//! Front-end speed: parse, resolve and build the IR of synthetic specs.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use svcc::load::MemoryFs;

#[path = "support/synth.rs"]
mod synth;

fn front_end(c: &mut Criterion) {
    let mut group = c.benchmark_group("front_end");
    group.sample_size(20);
    for n in [10, 100, 500] {
        let text = synth::spec(n);
        let fs = MemoryFs::default();
        let check = svcc::compile_text("synth.svc", &text, &fs);
        assert!(
            check.diagnostics.is_empty(),
            "synthetic spec has diagnostics: {:?}",
            check.diagnostics.first()
        );
        group.bench_with_input(BenchmarkId::new("parse_resolve_ir", n), &text, |b, text| {
            b.iter(|| svcc::compile_text("synth.svc", text, &fs));
        });
        group.bench_with_input(BenchmarkId::new("parse_only", n), &text, |b, text| {
            b.iter(|| {
                let mut map = svcc::source::SourceMap::new();
                let id = map.add("synth.svc", text.as_str());
                svcc::syntax::parse(map.get(id))
            });
        });
    }
    group.finish();
}

criterion_group!(benches, front_end);
criterion_main!(benches);
