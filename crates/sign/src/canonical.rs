//! Canonical parameter and header lists: keys encoded then lower-cased,
//! values encoded with case kept, sorted by key (then value).

/// One canonical list: `list` is `k1;k2;…` (the `q-url-param-list` or
/// `q-header-list`), `pairs` is `k1=v1&k2=v2…` (the HttpParameters or
/// HttpHeaders line of the http string).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Canonical {
    /// `k1;k2;…`
    pub list: String,
    /// `k1=v1&k2=v2…`
    pub pairs: String,
}

/// Canonicalise raw (decoded) key/value pairs. Independent of input order.
/// Duplicate keys are kept, one entry per value, sorted by value.
pub fn canonicalize<'a, I>(pairs: I) -> Canonical
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let _ = pairs.into_iter();
    todo!()
}
