//! libsodium's sealed box (`crypto_box_seal`), the encryption GitHub requires
//! for secret values: an ephemeral X25519 key, XSalsa20-Poly1305, standard
//! base64. The RNG is a parameter so a fixed vector can pin the format.

use crate::error;
use anyhow::Result;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use crypto_box::PublicKey;
use crypto_box::aead::rand_core::CryptoRngCore;

/// A target's public key and the id GitHub wants back with each value.
pub struct RecipientKey {
    pub id: String,
    key: PublicKey,
}

impl RecipientKey {
    /// `key` as GitHub sends it (base64). Anything but 32 bytes is refused:
    /// sealing to a wrong key would "succeed" and store garbage.
    pub fn parse(id: String, key: &str, whose: &str) -> Result<Self> {
        let bytes = STANDARD
            .decode(key.trim())
            .map_err(|_| error::backend(format!("the public key of {whose} is not base64")))?;
        let key = PublicKey::from_slice(&bytes).map_err(|_| {
            error::backend(format!(
                "the public key of {whose} is {} bytes, not the 32 of an X25519 key; refusing to encrypt with it",
                bytes.len()
            ))
        })?;
        Ok(RecipientKey { id, key })
    }

    /// The sealed box of `plaintext`, base64-encoded.
    pub fn seal(&self, plaintext: &[u8], rng: &mut impl CryptoRngCore) -> Result<String> {
        let sealed = self.key.seal(rng, plaintext).map_err(|_| anyhow::anyhow!("could not encrypt the value"))?;
        Ok(STANDARD.encode(sealed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crypto_box::SecretKey;
    use crypto_box::aead::OsRng;
    use crypto_box::aead::rand_core::{CryptoRng, RngCore};

    /// An RNG that returns the same byte forever.
    struct Fixed(u8);

    impl RngCore for Fixed {
        fn next_u32(&mut self) -> u32 {
            u32::from_le_bytes([self.0; 4])
        }
        fn next_u64(&mut self) -> u64 {
            u64::from_le_bytes([self.0; 8])
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            dest.fill(self.0);
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), crypto_box::aead::rand_core::Error> {
            dest.fill(self.0);
            Ok(())
        }
    }

    impl CryptoRng for Fixed {}

    #[test]
    fn fixed_vector() {
        let key = RecipientKey::parse("k".into(), "CDjXqf7AJBXWhMczcy+Fs7JlACEptgceysutztHaFQI=", "t").unwrap();
        assert_eq!(
            key.seal(b"a secret", &mut Fixed(5)).unwrap(),
            "UKYUCbHd0DJemxa3AOcZ6XcsBwALG9d4bpB8ZT0gSV39vl3BHiGSgj8zJapDxgB2BwqNqRhpjC4="
        );
    }

    #[test]
    fn opens_with_the_private_key_and_is_fresh_each_time() {
        let secret = SecretKey::generate(&mut OsRng);
        let key = RecipientKey::parse("k".into(), &STANDARD.encode(secret.public_key().as_bytes()), "t").unwrap();
        for text in ["", "line1\nline2\r\n", "naïve ✓ 秘密", &"x".repeat(48 * 1024)] {
            let a = key.seal(text.as_bytes(), &mut OsRng).unwrap();
            let b = key.seal(text.as_bytes(), &mut OsRng).unwrap();
            assert_ne!(a, b, "a fresh ephemeral key per value");
            let opened = secret.unseal(&STANDARD.decode(&a).unwrap()).unwrap();
            assert_eq!(opened, text.as_bytes());
        }
    }

    #[test]
    fn keys_that_are_not_32_bytes_are_refused() {
        // The OpenAPI example key is 33 bytes.
        let err = RecipientKey::parse("k".into(), &STANDARD.encode([1u8; 33]), "acme/app").err().unwrap();
        assert!(err.to_string().contains("33 bytes"), "{err}");
        assert!(RecipientKey::parse("k".into(), "not base64!", "t").is_err());
    }
}
