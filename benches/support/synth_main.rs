//! `cargo run --release --example synth -- N`: prints the synthetic spec of N entities the
//! benchmarks use, so `bench/run.sh` can time whole `svcc build` runs on it.

#[path = "synth.rs"]
mod synth;

fn main() {
    let n = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(100);
    print!("{}", synth::spec(n));
}
