// The one list of fuzz targets: `name => body`, where `body` is a
// `fn(&[u8])` in `fuzz/src/lib.rs`. Adding a target is one line here; the
// fuzz binary (`fuzz_targets/target.rs`), `cargo xtask fuzz` and the stable
// corpus replay (`xtask/tests/fuzz_corpus.rs`) all read this list. A
// response-parse target is `name => response::<TheAction>`.
//
// Kept free of `use` items: xtask includes this file only for the names.
macro_rules! for_each_target {
    ($callback:ident) => {
        $callback! {
            list_response => response::<cos_ci_proto::ListWorkflowExecutions>,
            describe_execution_response => response::<cos_ci_proto::DescribeWorkflowExecution>,
            error_body => error_body,
            wire_query => wire_query,
            authorization => authorization,
            emulator_request => emulator_request_target,
        }
    };
}
