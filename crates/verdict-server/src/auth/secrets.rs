//! Password and secret hashing (argon2), random secrets and session tokens.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sha2::{Digest, Sha256};

/// Hashes a password or API secret for storage.
///
/// # Errors
/// Only if the system random source fails.
pub fn hash_secret(secret: &str) -> Result<String, argon2::password_hash::Error> {
    let mut salt_bytes = [0_u8; 16];
    getrandom::fill(&mut salt_bytes).map_err(|_| argon2::password_hash::Error::Crypto)?;
    let salt = SaltString::encode_b64(&salt_bytes)?;
    Ok(Argon2::default()
        .hash_password(secret.as_bytes(), &salt)?
        .to_string())
}

/// Checks a presented secret against a stored argon2 hash.
#[must_use]
pub fn verify_secret(secret: &str, stored_hash: &str) -> bool {
    PasswordHash::new(stored_hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(secret.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A random secret of `bytes` bytes, hex-encoded (passwords, API secrets, session tokens).
///
/// # Errors
/// Only if the system random source fails.
pub fn generate_secret(bytes: usize) -> Result<String, getrandom::Error> {
    let mut buf = vec![0_u8; bytes];
    getrandom::fill(&mut buf)?;
    Ok(hex(&buf))
}

/// Session tokens are stored hashed so a database leak does not leak sessions.
#[must_use]
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Lower-case hex of bytes.
#[must_use]
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_only_the_same_secret() {
        let hash = hash_secret("s3cret\"quote").unwrap();
        assert!(verify_secret("s3cret\"quote", &hash));
        assert!(!verify_secret("s3cret", &hash));
        assert!(!verify_secret("x", "not a hash"));
    }
}
