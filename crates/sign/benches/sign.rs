//! `sign/list_request`: the full `Authorization` value for the typical
//! `GET /workflowexecution` list request, through `Signer::authorization`.
//!
//! Run: `cargo bench -p cos-ci-sign --bench sign -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use cos_ci_sign::{Credentials, HeaderPolicy, KeyTime, SignableRequest, Signer, sign_stages};
use criterion::{Criterion, criterion_group, criterion_main};

const QUERY: &[(&str, &str)] = &[
    ("workflowId", "web6ac56c1ef54dbfa44d7f4103203be9"),
    ("states", "Success,Failed"),
    ("size", "10"),
    ("startCreationTime", "2022-08-09T14:00:00+0800"),
    ("nextToken", "115716"),
];
const HEADERS: &[(&str, &str)] = &[(
    "Host",
    "examplebucket-1250000000.ci.ap-beijing.myqcloud.com",
)];

fn bench(c: &mut Criterion) {
    let credentials = Credentials::new(
        "AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q",
        "BQYIM75p8x0iWVFSIgqEKwFprpRSVHlz",
    );
    let signer = Signer::new(credentials.clone(), HeaderPolicy::OfficialDefault);
    let request = SignableRequest {
        method: "GET",
        path: "/workflowexecution",
        query: QUERY,
        headers: HEADERS,
    };
    let key_time = KeyTime::starting_at(1_557_989_151, 7200);

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
