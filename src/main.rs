//! The `escort` binary: everything is in the library (`escort::run`).

#[cfg(not(feature = "bench-mimalloc-crate"))]
#[global_allocator]
static ALLOC: escort::Mimalloc = escort::Mimalloc;

// scripts/bench.py's comparison build: the `mimalloc` crate's own allocator.
#[cfg(feature = "bench-mimalloc-crate")]
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    escort::run()
}
