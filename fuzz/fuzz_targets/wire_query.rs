#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cos_ci_fuzz::wire_query(data));
