//! Secret id, secret key and optional session token, with a redacting `Debug`.

use crate::SecretString;

/// A secret id / secret key pair and an optional session token (temporary
/// credentials). `Debug` shows the secret id; the key and token are
/// [`SecretString`]s, which print as `<redacted>`, compare in constant time
/// and are zeroed in memory when dropped. There is deliberately no
/// `Display` and no `Serialize`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Credentials {
    secret_id: String,
    secret_key: SecretString,
    session_token: Option<SecretString>,
}

impl Credentials {
    /// Long-term credentials.
    pub fn new(secret_id: impl Into<String>, secret_key: impl Into<SecretString>) -> Self {
        Self {
            secret_id: secret_id.into(),
            secret_key: secret_key.into(),
            session_token: None,
        }
    }
    /// The same credentials with a session token (temporary credentials).
    pub fn with_session_token(self, token: impl Into<SecretString>) -> Self {
        Self {
            session_token: Some(token.into()),
            ..self
        }
    }
    /// The secret id (`q-ak`); not secret.
    pub fn secret_id(&self) -> &str {
        &self.secret_id
    }
    /// The secret key. Named so that every use is visible in review.
    pub fn expose_secret_key(&self) -> &str {
        self.secret_key.expose()
    }
    /// The session token, if any. Secret: never log it.
    pub fn expose_session_token(&self) -> Option<&str> {
        self.session_token.as_ref().map(SecretString::expose)
    }
    /// Whether these are temporary credentials (they carry a session token).
    pub fn is_temporary(&self) -> bool {
        self.session_token.is_some()
    }
}
