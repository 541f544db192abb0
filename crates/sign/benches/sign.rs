//! `sign/list_request`: the full `Authorization` value for the typical
//! `GET /workflowexecution` list request, through `Signer::authorization`.
//!
//! Run: `cargo bench -p cos-ci-sign --bench sign -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use cos_ci_sign::{HeaderPolicy, Signer, sign_stages};
use criterion::{Criterion, criterion_group, criterion_main};

#[path = "../tests/common/mod.rs"]
mod common;
use common::{HOST, credentials, key_time, list_request};

fn bench(c: &mut Criterion) {
    let credentials = credentials();
    let signer = Signer::new(credentials.clone(), HeaderPolicy::OfficialDefault);
    let headers = [("Host", HOST)];
    let request = list_request(&headers);
    let key_time = key_time();

    let mut group = c.benchmark_group("sign");
    group.bench_function("list_request", |b| {
        b.iter(|| signer.authorization(black_box(&request), black_box(key_time)))
    });
    group.bench_function("list_request_stages", |b| {
        b.iter(|| {
            sign_stages(
                &credentials,
                black_box(&request),
                black_box(key_time),
                &HeaderPolicy::OfficialDefault,
            )
        })
    });
    group.finish();
}

criterion_group!(benches, bench);

criterion_main!(benches);
