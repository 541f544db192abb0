//! The page both `benches/parse.rs` and `examples/parse_loop.rs` parse.

/// A page laid out like the API page's sample (one element per line), with
/// 100 executions and a token: about 26 KB.
pub(crate) fn page_100() -> String {
    let mut xml =
        String::from("<Response>\n<RequestId>NjJmMjEyMmFfZWM0YTYyNjRfN2U2NV8yNmI0</RequestId>\n");
    for i in 0..100u32 {
        xml.push_str(&format!(
            "<WorkflowExecutionList>\n<RunId>i{i:08x}17b011eda8a5525400c540df</RunId>\n\
             <WorkflowId>web6ac56c1ef54dbfa44d7f4103203be9</WorkflowId>\n\
             <Object>wk-test/game-{i:04}.mp4</Object>\n\
             <CreateTime>2022-08-09T14:{:02}:{:02}+08:00</CreateTime>\n\
             <State>{}</State>\n</WorkflowExecutionList>\n",
            i % 60,
            (i * 7) % 60,
            if i % 10 == 3 { "Failed" } else { "Success" },
        ));
    }
    xml.push_str("<NextToken>115716</NextToken>\n</Response>\n");
    xml
}
