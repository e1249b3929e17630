#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| escort::fuzz::manifest_routes(data));
