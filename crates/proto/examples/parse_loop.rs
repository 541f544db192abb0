//! Parse the benchmark's 100-item page N times (default 10), for counting
//! instructions, which unlike wall time do not depend on what else the
//! machine is doing:
//!
//! ```text
//! cargo build --release -p cos-ci-proto --example parse_loop
//! valgrind --tool=callgrind target/release/examples/parse_loop 60   # and again with 10
//! ```
//!
//! (instructions at 60 − instructions at 10) / 50 = instructions per page.
//! `docs/performance.md` records the figures.

use std::hint::black_box;

use cos_ci_proto::{CiAction, ListWorkflowExecutions};

#[path = "../benches/support/page.rs"]
mod page;

fn main() {
    let times: usize = match std::env::args().nth(1) {
        Some(arg) => arg.parse().expect("usage: parse_loop [TIMES]"),
        None => 10,
    };
    let body = page::page_100();
    let mut headers = http::HeaderMap::new();
    headers.insert(
        "x-ci-request-id",
        http::HeaderValue::from_static("NjJmMjEyMmFfZWM0YTYyNjRfN2U2NV8yNmI0"),
    );
    let mut items = 0;
    for _ in 0..times {
        let page = ListWorkflowExecutions::parse_response(
            http::StatusCode::OK,
            black_box(&headers),
            black_box(body.as_bytes()),
        )
        .expect("the page parses");
        items += page.executions.len();
    }
    println!("{times} pages of {} bytes, {items} executions", body.len());
}
