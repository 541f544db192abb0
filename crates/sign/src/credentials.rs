//! Secret id, secret key and optional session token, with a redacting `Debug`.

/// A secret id / secret key pair and an optional session token (temporary
/// credentials). `Debug` shows the secret id only; the key and token are
/// never printed. There is deliberately no `Display` and no `Serialize`.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    secret_id: String,
    secret_key: String,
    session_token: Option<String>,
}

impl Credentials {
    /// Long-term credentials.
    pub fn new(secret_id: impl Into<String>, secret_key: impl Into<String>) -> Self {
        Self {
            secret_id: secret_id.into(),
            secret_key: secret_key.into(),
            session_token: None,
        }
    }
    /// The same credentials with a session token (temporary credentials).
    pub fn with_session_token(self, token: impl Into<String>) -> Self {
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
        &self.secret_key
    }
    /// The session token, if any. Secret: never log it.
    pub fn expose_session_token(&self) -> Option<&str> {
        self.session_token.as_deref()
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("secret_id", &self.secret_id)
            .field("secret_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}
