//! The `escort` binary: everything is in the library (`escort::run`).

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    escort::run()
}
