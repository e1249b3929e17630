//! The `escort` binary: everything is in the library (`escort::run`).

#[global_allocator]
static ALLOC: escort::Mimalloc = escort::Mimalloc;

fn main() -> std::process::ExitCode {
    escort::run()
}
