//! `parse/list_page_100`: parse a 100-item `GET /workflowexecution` page
//! shaped like the API page's sample (about 26 KB), through the full
//! `parse_response` path (status check, XML walk, timestamps).

use std::hint::black_box;

use cos_ci_proto::{CiAction, ListWorkflowExecutions};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

#[path = "support/page.rs"]
mod page;
use page::page_100;

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
