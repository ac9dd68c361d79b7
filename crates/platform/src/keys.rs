//! The node's Ed25519 signing key, kept as a PKCS#8 PEM file readable only by its owner.

use std::io::Write;
use std::path::Path;

use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, spki::der::pem::LineEnding};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("signing key file {0} already exists; refusing to overwrite it")]
    Exists(String),
    #[error("signing key file {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("signing key file {path} is not an Ed25519 PKCS#8 PEM key: {message}")]
    Format { path: String, message: String },
}

/// Creates a new key at `path` with mode 0600. Never overwrites an existing key: losing a
/// node key would orphan everything it signed.
pub fn generate(path: &Path) -> Result<SigningKey, KeyError> {
    let shown = path.display().to_string();
    let io = |source| KeyError::Io {
        path: shown.clone(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| KeyError::Format {
            path: shown.clone(),
            message: e.to_string(),
        })?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => KeyError::Exists(shown.clone()),
        _ => io(e),
    })?;
    file.write_all(pem.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)?;
    Ok(key)
}

pub fn load(path: &Path) -> Result<SigningKey, KeyError> {
    let shown = path.display().to_string();
    let pem = std::fs::read_to_string(path).map_err(|source| KeyError::Io {
        path: shown.clone(),
        source,
    })?;
    SigningKey::from_pkcs8_pem(&pem).map_err(|e| KeyError::Format {
        path: shown,
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_key_is_private_and_reloads() {
        let dir = std::env::temp_dir().join(format!("chuanyu-key-{}", std::process::id()));
        let path = dir.join("k.pem");
        let _ = std::fs::remove_dir_all(&dir);
        let key = generate(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(load(&path).unwrap().to_bytes(), key.to_bytes());
        assert!(matches!(generate(&path), Err(KeyError::Exists(_))));
        std::fs::write(&path, "garbage").unwrap();
        assert!(matches!(load(&path), Err(KeyError::Format { .. })));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
