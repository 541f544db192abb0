//! The `cos-ci-emulator` binary.
fn main() {}
