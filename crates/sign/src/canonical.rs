//! Canonical parameter and header lists: keys encoded then lower-cased,
//! values encoded with case kept, sorted by key (then value).

use crate::encode::encode_into;

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
///
/// Each key is encoded with [`encode`](crate::encode) and then ASCII
/// lower-cased (so `%2F` in a key becomes `%2f`); each value is encoded and
/// keeps its case. Entries are sorted byte-wise by (key, value).
///
/// ```
/// let c = cos_ci_sign::canonicalize([("prefix", "example-folder/"), ("delimiter", "/"), ("max-keys", "10")]);
/// assert_eq!(c.list, "delimiter;max-keys;prefix");
/// assert_eq!(c.pairs, "delimiter=%2F&max-keys=10&prefix=example-folder%2F");
/// ```
pub fn canonicalize<'a, I>(pairs: I) -> Canonical
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let mut entries: Vec<(String, String)> = pairs
        .into_iter()
        .map(|(k, v)| {
            let mut key = String::with_capacity(k.len());
            encode_into(&mut key, k.as_bytes());
            key.make_ascii_lowercase();
            let mut value = String::with_capacity(v.len());
            encode_into(&mut value, v.as_bytes());
            (key, value)
        })
        .collect();
    entries.sort_unstable();
    let mut out = Canonical::default();
    for (i, (k, v)) in entries.iter().enumerate() {
        if i > 0 {
            out.list.push(';');
            out.pairs.push('&');
        }
        out.list.push_str(k);
        out.pairs.push_str(k);
        out.pairs.push('=');
        out.pairs.push_str(v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty() {
        assert_eq!(canonicalize([]), Canonical::default());
    }

    #[test]
    fn example_d_acl() {
        let c = canonicalize([("acl", "")]);
        assert_eq!((c.list.as_str(), c.pairs.as_str()), ("acl", "acl="));
    }

    #[test]
    fn keys_lowercased_values_kept_duplicates_sorted() {
        let c = canonicalize([("B/x", "Zz"), ("a", "y"), ("a", "X"), ("A", "x")]);
        assert_eq!(c.list, "a;a;a;b%2fx");
        assert_eq!(c.pairs, "a=X&a=x&a=y&b%2fx=Zz");
    }
}
