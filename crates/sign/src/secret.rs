//! A string that must never be shown: a secret key, a session token, a
//! web-identity token.

use std::fmt;

use subtle::ConstantTimeEq;
use zeroize::Zeroize;

/// A secret string: `Debug` and `Display` print `<redacted>`, equality is
/// constant-time, and the bytes are overwritten with zeros when it is
/// dropped (the whole allocation, spare capacity included).
///
/// Read it with [`SecretString::expose`], named so that every use stands
/// out in review. Copies made from the exposed `&str` (into a request
/// header, a signature key) are the caller's to handle.
///
/// ```
/// use cos_ci_sign::SecretString;
///
/// let key = SecretString::new("my-secret-key");
/// assert_eq!(format!("{key:?} {key}"), "<redacted> <redacted>");
/// assert_eq!(key.expose(), "my-secret-key");
/// ```
#[derive(Clone, Default)]
pub struct SecretString(String);

impl SecretString {
    /// Take ownership of `secret` (no copy when given a `String`).
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself. Never log or format it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Its length in bytes (not secret in itself).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for SecretString {
    fn from(secret: String) -> Self {
        Self(secret)
    }
}

impl From<&str> for SecretString {
    fn from(secret: &str) -> Self {
        Self(secret.to_owned())
    }
}

impl Drop for SecretString {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl PartialEq for SecretString {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for SecretString {}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_and_compares() {
        let a = SecretString::new("abc");
        let b = SecretString::from("abc".to_owned());
        assert_eq!(a, b);
        assert_ne!(a, SecretString::from("abd"));
        assert_ne!(a, SecretString::from("ab"));
        assert_eq!(
            format!("{a} {a:?} {a:#?}"),
            "<redacted> <redacted> <redacted>"
        );
        assert_eq!(a.len(), 3);
        assert!(SecretString::default().is_empty());
    }

    #[test]
    fn zeroes_the_buffer_on_drop() {
        // `zeroize` on a String overwrites the contents and the spare
        // capacity before the allocation is released; checked here on the
        // same call the Drop impl makes.
        let mut text = String::with_capacity(32);
        text.push_str("super-secret");
        let mut secret = SecretString::from(text);
        secret.0.zeroize();
        assert!(secret.0.is_empty());
    }
}
