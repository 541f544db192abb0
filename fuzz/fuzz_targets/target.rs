#![no_main]

// One binary for every target: `COS_CI_FUZZ_TARGET` names which (see
// `src/registry.rs`), so adding a target touches one line.
libfuzzer_sys::fuzz_target!(|data: &[u8]| cos_ci_fuzz::run_selected(data));
