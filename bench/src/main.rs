//! Benchmarks of writegraph's generated writes against hand-written tokio-postgres.

fn main() {
    eprintln!("no benchmark scenarios yet");
    std::process::exit(2);
}
