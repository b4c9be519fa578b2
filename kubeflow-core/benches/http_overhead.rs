//! Benchmark of the HTTP layer's overhead (filled by the HTTP layer work).
fn main() {}
