#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| escort::fuzz::github_listing(data));
