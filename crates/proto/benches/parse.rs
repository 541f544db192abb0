//! `parse/list_page_100`: parse a 100-item `GET /workflowexecution` page
//! shaped like the API page's sample (about 26 KB), through the full
//! `parse_response` path (status check, XML walk, timestamps).

use std::hint::black_box;

use cos_ci_proto::{CiAction, ListWorkflowExecutions};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// A page laid out like the API page's sample (one element per line), with
/// 100 executions and a token: about 26 KB.
fn page_100() -> String {
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

fn parse(c: &mut Criterion) {
    let body = page_100();
    let mut headers = http::HeaderMap::new();
    headers.insert(
        "x-ci-request-id",
        http::HeaderValue::from_static("NjJmMjEyMmFfZWM0YTYyNjRfN2U2NV8yNmI0"),
    );
    // Sanity: the page parses fully before it is timed.
    let parsed =
        ListWorkflowExecutions::parse_response(http::StatusCode::OK, &headers, body.as_bytes());
    assert_eq!(parsed.map(|page| page.executions.len()).ok(), Some(100));

    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("list_page_100", |b| {
        b.iter(|| {
            ListWorkflowExecutions::parse_response(
                http::StatusCode::OK,
                black_box(&headers),
                black_box(body.as_bytes()),
            )
        })
    });
    group.finish();
    println!("page size: {} bytes", body.len());
}

criterion_group!(benches, parse);
criterion_main!(benches);
