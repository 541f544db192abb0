//! Every timestamp form CI is known to use, and the garbage we refuse.

use cos_ci_proto::CiTimestamp;

#[test]
fn accepted_forms() {
    // (text, unix seconds, offset seconds, request form)
    let table = [
        (
            "2022-08-09T14:54:17+08:00",
            1_660_028_057,
            28_800,
            "2022-08-09T14:54:17+0800",
        ),
        (
            "2022-08-09T14:54:17+0800",
            1_660_028_057,
            28_800,
            "2022-08-09T14:54:17+0800",
        ),
        (
            "2019-07-07T12:12:12+0800",
            1_562_472_732,
            28_800,
            "2019-07-07T12:12:12+0800",
        ),
        (
            "2020-12-01 11:00:41+0800",
            1_606_791_641,
            28_800,
            "2020-12-01T11:00:41+0800",
        ),
        (
            "2022-08-09T06:54:17Z",
            1_660_028_057,
            0,
            "2022-08-09T06:54:17+0000",
        ),
        (
            "2022-08-09t06:54:17z",
            1_660_028_057,
            0,
            "2022-08-09T06:54:17+0000",
        ),
        (
            "2022-08-09T06:54:17+00:00",
            1_660_028_057,
            0,
            "2022-08-09T06:54:17+0000",
        ),
        (
            "2022-08-09T01:24:17-05:30",
            1_660_028_057,
            -19_800,
            "2022-08-09T01:24:17-0530",
        ),
        ("1970-01-01T00:00:00Z", 0, 0, "1970-01-01T00:00:00+0000"),
        ("1969-12-31T23:59:59Z", -1, 0, "1969-12-31T23:59:59+0000"),
        (
            "2000-02-29T00:00:00+0800",
            951_753_600,
            28_800,
            "2000-02-29T00:00:00+0800",
        ),
        (
            "2001-01-01T00:00:00+0800",
            978_278_400,
            28_800,
            "2001-01-01T00:00:00+0800",
        ),
        (
            "9999-12-31T23:59:59+2359",
            253_402_214_459,
            86_340,
            "9999-12-31T23:59:59+2359",
        ),
        (
            "0000-01-01T00:00:00-2359",
            -62_167_132_860,
            -86_340,
            "0000-01-01T00:00:00-2359",
        ),
    ];
    for (text, unix, offset, api) in table {
        let parsed = CiTimestamp::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(parsed.unix_seconds(), unix, "{text}");
        assert_eq!(parsed.offset_seconds(), offset, "{text}");
        assert_eq!(parsed.as_str(), text, "text is kept");
        assert_eq!(parsed.to_string(), text, "Display is the text");
        assert_eq!(parsed.to_api_string(), api, "{text}");
        assert_eq!(
            CiTimestamp::parse(&parsed.to_api_string()),
            Ok(parsed.clone())
        );
    }
}

#[test]
fn equality_is_instant_and_offset_not_text() {
    let colon = CiTimestamp::parse("2022-08-09T14:54:17+08:00").unwrap();
    let plain = CiTimestamp::parse("2022-08-09T14:54:17+0800").unwrap();
    let spaced = CiTimestamp::parse("2022-08-09 14:54:17+0800").unwrap();
    let utc = CiTimestamp::parse("2022-08-09T06:54:17Z").unwrap();
    assert_eq!(colon, plain);
    assert_eq!(colon, spaced);
    assert_ne!(colon, utc, "same instant, different offset");
    assert_eq!(colon.unix_seconds(), utc.unix_seconds());
    assert!(utc < colon, "ordering breaks instant ties by offset");
}

#[test]
fn refused_forms() {
    let table = [
        ("", "too short"),
        ("garbage", "too short"),
        ("2022-08-09", "too short"),
        ("2022-08-09T14:54:17", "too short"),
        ("2022-08-09T14:54:17+8:00", "offset"),
        ("2022-08-09T14:54:17+08", "offset"),
        ("2022-08-09T14:54:17+08:0", "offset"),
        ("2022-08-09T14:54:17 +0800", "expected `Z`"),
        ("2022-08-09T14:54:17.123+08:00", "fractional"),
        ("2022-08-09T14:54:17+24:00", "out of range"),
        ("2022-08-09T14:54:17+08:60", "out of range"),
        ("2022-13-09T14:54:17+08:00", "month 13"),
        ("2022-00-09T14:54:17+08:00", "month 0"),
        ("2022-02-29T14:54:17+08:00", "day 29"),
        ("1900-02-29T00:00:00Z", "day 29"),
        ("2022-04-31T14:54:17+08:00", "day 31"),
        ("2022-08-00T14:54:17+08:00", "day 0"),
        ("2022-08-09T24:00:00+08:00", "hour 24"),
        ("2022-08-09T14:60:17+08:00", "minute 60"),
        ("2022-08-09T14:54:60+08:00", "second 60"),
        ("2022/08/09T14:54:17+08:00", "`-`"),
        ("2022-08-09X14:54:17+08:00", "`T` or a space"),
        ("2022-08-09T14-54-17+08:00", "`:`"),
        ("20a2-08-09T14:54:17+08:00", "year must be 4 digits"),
        ("+022-08-09T14:54:17+08:00", "year must be 4 digits"),
        ("2022-08-09T14:54:17+08:00 ", "offset"),
        ("2022-08-09T14:54:17+08:00Z", "offset"),
        (
            "２０２２-08-09T14:54:17+08:00",
            "expected `-` after the year",
        ),
        ("2022-08-09T14:54:1７+08:00", "second must be 2 digits"),
    ];
    for (text, reason) in table {
        match CiTimestamp::parse(text) {
            Ok(parsed) => panic!("accepted {text:?} as {parsed:?}"),
            Err(error) => {
                assert!(
                    error.reason.contains(reason),
                    "{text:?}: {} (wanted {reason:?})",
                    error.reason
                );
                assert!(error.to_string().contains("invalid timestamp"), "{error}");
            }
        }
    }
}

#[test]
fn from_unix_renders_the_current_response_form() {
    let ts = CiTimestamp::from_unix(1_660_028_057, 8 * 3600).unwrap();
    assert_eq!(ts.as_str(), "2022-08-09T14:54:17+08:00");
    assert_eq!(
        CiTimestamp::from_unix(0, 0).unwrap().as_str(),
        "1970-01-01T00:00:00+00:00"
    );
    assert_eq!(
        CiTimestamp::from_unix(-1, -3600).unwrap().as_str(),
        "1969-12-31T22:59:59-01:00"
    );
    assert!(CiTimestamp::from_unix(0, 30).is_err(), "offset seconds");
    assert!(
        CiTimestamp::from_unix(0, 24 * 3600).is_err(),
        "offset a day"
    );
    assert!(CiTimestamp::from_unix(i64::MAX, 0).is_err());
    assert!(
        CiTimestamp::from_unix(253_402_300_800, 0).is_err(),
        "year 10000"
    );
    assert!(
        CiTimestamp::from_unix(-62_167_219_201, 0).is_err(),
        "year -1"
    );
}

#[test]
fn serde_writes_text_and_reads_any_form() {
    let ts = CiTimestamp::parse("2020-12-01 11:00:41+0800").unwrap();
    let json = serde_json::to_string(&ts).unwrap();
    assert_eq!(json, "\"2020-12-01 11:00:41+0800\"");
    let back: CiTimestamp = serde_json::from_str(&json).unwrap();
    assert_eq!(back.as_str(), ts.as_str());
    assert!(serde_json::from_str::<CiTimestamp>("\"yesterday\"").is_err());
    assert!(serde_json::from_str::<CiTimestamp>("12").is_err());
}
