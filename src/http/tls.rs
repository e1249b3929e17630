//! TLS for `https://` requests. The root certificates are read when the first
//! server certificate is verified, not when the client is built: a command that
//! makes no https request (a loopback API, `load --demo`) reads none, and the
//! roots cost about 80% of the instructions of a small load (docs/benchmarks.md).
//! They are read once per process, from one place (the system bundle, or the
//! certificate directory when there is no bundle), not from both as
//! rustls-platform-verifier does on Linux.

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::sync::{Arc, OnceLock};

/// The client's TLS configuration: ring, TLS 1.2 and 1.3, HTTP/2 or 1.1 by
/// ALPN (what reqwest sets up itself), and roots read on first use.
pub fn client_config(custom_roots: bool) -> Result<rustls::ClientConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = LazyRoots::new(
        provider.signature_verification_algorithms,
        if custom_roots { named_roots } else { system_roots },
    );
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// Reads the roots the first time a server certificate is verified.
/// Signatures of the handshake need no roots, only the algorithms.
#[derive(Debug)]
struct LazyRoots {
    algorithms: WebPkiSupportedAlgorithms,
    read: fn() -> Result<RootCertStore, rustls::Error>,
    /// The verifier over the roots, or why there is none (kept: read once).
    verifier: OnceLock<Result<Arc<WebPkiServerVerifier>, rustls::Error>>,
}

impl LazyRoots {
    fn new(algorithms: WebPkiSupportedAlgorithms, read: fn() -> Result<RootCertStore, rustls::Error>) -> Self {
        LazyRoots { algorithms, read, verifier: OnceLock::new() }
    }

    fn verifier(&self) -> Result<&Arc<WebPkiServerVerifier>, rustls::Error> {
        self.verifier
            .get_or_init(|| {
                let roots = (self.read)()?;
                let provider = CryptoProvider {
                    signature_verification_algorithms: self.algorithms,
                    ..rustls::crypto::ring::default_provider()
                };
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::new(provider))
                    .build()
                    .map_err(|e| rustls::Error::General(format!("the root certificates are unusable: {e}")))
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl ServerCertVerifier for LazyRoots {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.verifier()?.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The system's roots (`SSL_CERT_FILE` / `SSL_CERT_DIR`, when the settings say
/// one is set, are honoured exactly as rustls-native-certs reads them:
/// `named_roots`). Otherwise the first bundle file found, and only when
/// there is none, the certificate directories: on Debian the bundle is built
/// from that directory, so reading both parsed every root twice.
fn system_roots() -> Result<RootCertStore, rustls::Error> {
    let probe = openssl_probe::probe();
    store(match probe.cert_file {
        Some(bundle) => rustls_native_certs::load_certs_from_paths(Some(&bundle), None).certs,
        None => probe
            .cert_dir
            .iter()
            .flat_map(|dir| rustls_native_certs::load_certs_from_paths(None, Some(dir)).certs)
            .collect(),
    })
}

/// The roots `SSL_CERT_FILE` / `SSL_CERT_DIR` name.
fn named_roots() -> Result<RootCertStore, rustls::Error> {
    store(rustls_native_certs::load_native_certs().certs)
}

fn store(found: Vec<CertificateDer<'static>>) -> Result<RootCertStore, rustls::Error> {
    let mut roots = RootCertStore::empty();
    roots.add_parsable_certificates(found);
    if roots.is_empty() {
        return Err(rustls::Error::General(
            "no root certificates found on this machine (set SSL_CERT_FILE to a PEM bundle)".into(),
        ));
    }
    Ok(roots)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static READS: AtomicUsize = AtomicUsize::new(0);

    fn counted_empty() -> Result<RootCertStore, rustls::Error> {
        READS.fetch_add(1, Ordering::SeqCst);
        Err(rustls::Error::General("no roots in this test".into()))
    }

    /// Building the verifier reads nothing; the first certificate to verify
    /// reads the roots, and a second does not read them again (nor does a
    /// failure to find any make every connection read them anew).
    #[test]
    fn roots_are_read_on_the_first_certificate_only() {
        let algorithms = rustls::crypto::ring::default_provider().signature_verification_algorithms;
        let lazy = LazyRoots::new(algorithms, counted_empty);
        assert!(!lazy.supported_verify_schemes().is_empty());
        assert_eq!(READS.load(Ordering::SeqCst), 0, "read before any certificate was verified");
        let name = ServerName::try_from("example.com").unwrap();
        let cert = CertificateDer::from(vec![0x30, 0x00]);
        for _ in 0..2 {
            let err = lazy.verify_server_cert(&cert, &[], &name, &[], UnixTime::now()).unwrap_err();
            assert!(err.to_string().contains("no roots in this test"), "{err}");
        }
        assert_eq!(READS.load(Ordering::SeqCst), 1);
    }

    /// With roots, a certificate that is not one passes no verification.
    #[test]
    fn a_garbage_certificate_is_refused() {
        let algorithms = rustls::crypto::ring::default_provider().signature_verification_algorithms;
        let lazy = LazyRoots::new(algorithms, system_roots);
        let name = ServerName::try_from("example.com").unwrap();
        let cert = CertificateDer::from(vec![0x30, 0x00]);
        assert!(lazy.verify_server_cert(&cert, &[], &name, &[], UnixTime::now()).is_err());
        assert!(lazy.verifier.get().is_some_and(Result::is_ok), "this machine has root certificates");
    }

    #[test]
    fn the_config_offers_h2_and_http1() {
        let config = client_config(false).unwrap();
        assert_eq!(config.alpn_protocols, [b"h2".to_vec(), b"http/1.1".to_vec()]);
    }
}
