//! The file reader the credential chain is given in a real process: the
//! sans-IO client only parses what a [`ReadFiles`] hands it.

use std::io::{self, Read as _};
use std::path::Path;

use cos_ci_client::credentials::ReadFiles;

/// The real file system, reading at most [`SystemFiles::MAX_BYTES`] of a
/// file (a credentials file is tiny; anything larger is refused). Pass it
/// to [`crate::CredentialChain::resolve`];
/// [`crate::credentials_from_environment`] does.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemFiles;

impl SystemFiles {
    /// Largest file read: 1 MiB.
    pub const MAX_BYTES: u64 = 1024 * 1024;
}

impl ReadFiles for SystemFiles {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        let file = std::fs::File::open(path)?;
        let mut bytes = Vec::new();
        file.take(Self::MAX_BYTES + 1).read_to_end(&mut bytes)?;
        if bytes.len() as u64 > Self::MAX_BYTES {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("larger than {} bytes", Self::MAX_BYTES),
            ));
        }
        Ok(bytes)
    }
}
