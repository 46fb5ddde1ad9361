//! The public keys of external issuers: a PEM public key of the configuration, or the keys of a
//! JWKS document. A key verifies exactly one algorithm, the one of its family: an RSA key
//! `RS256`, an EC P-256 key `ES256`. Other keys (`oct`, `OKP`, other curves, encryption keys)
//! are never used, so that no key can become an HMAC secret.

use base64::{
    Engine as _,
    engine::{
        DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig,
        general_purpose::{STANDARD, URL_SAFE},
    },
};
use jsonwebtoken::{Algorithm, DecodingKey};
use p256::elliptic_curve::sec1::ToSec1Point;
use rsa::{BoxedUint, pkcs1::DecodeRsaPublicKey, pkcs8::DecodePublicKey, traits::PublicKeyParts};
use serde::Deserialize;
use serde_json::Value;

/// Shortest accepted RSA modulus, in bits.
pub const MIN_RSA_BITS: usize = 2048;

/// base64url with or without padding (JWKS publishers differ).
const B64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// One verification key of an issuer.
#[derive(Clone)]
pub struct VerifyKey {
    /// `kid` of the JWK; `None` for a PEM key.
    pub kid: Option<String>,
    /// The one algorithm this key verifies.
    pub alg: Algorithm,
    /// The key.
    pub key: DecodingKey,
}

impl std::fmt::Debug for VerifyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

fn rsa_key(key: &rsa::PublicKey) -> Result<DecodingKey, String> {
    let bits = key.n().bit_width_vartime() as usize;
    if bits < MIN_RSA_BITS {
        return Err(format!(
            "the RSA key has {bits} bits; at least {MIN_RSA_BITS} are required"
        ));
    }
    Ok(DecodingKey::from_rsa_raw_components(
        &key.n_bytes(),
        &key.e_bytes(),
    ))
}

fn ec_key(key: &p256::PublicKey) -> DecodingKey {
    DecodingKey::from_ec_der(key.to_sec1_point(false).as_bytes())
}

/// The key of a PEM text: `BEGIN PUBLIC KEY` (an RSA or EC P-256 SubjectPublicKeyInfo) or
/// `BEGIN RSA PUBLIC KEY` (PKCS#1). The error says what is wrong without showing the text.
pub fn from_pem(pem: &str) -> Result<VerifyKey, String> {
    let (label, der) = pem_block(pem)?;
    let (alg, key) = match label.as_str() {
        "PUBLIC KEY" => {
            if let Ok(key) = rsa::PublicKey::from_public_key_der(&der) {
                (Algorithm::RS256, rsa_key(&key)?)
            } else if let Ok(key) = p256::PublicKey::from_public_key_der(&der) {
                (Algorithm::ES256, ec_key(&key))
            } else {
                return Err(
                    "the PEM block is neither an RSA public key nor an EC P-256 public key".into(),
                );
            }
        }
        "RSA PUBLIC KEY" => {
            let key = rsa::PublicKey::from_pkcs1_der(&der)
                .map_err(|_| "the PEM block is not a valid RSA public key".to_string())?;
            (Algorithm::RS256, rsa_key(&key)?)
        }
        label if label.contains("PRIVATE KEY") => {
            return Err(format!(
                "this is a private key (`BEGIN {label}`); configure only the public key, e.g. the output of `openssl pkey -in key.pem -pubout`"
            ));
        }
        "CERTIFICATE" => {
            return Err(
                "this is a certificate; configure its public key, the output of `openssl x509 -in cert.pem -pubkey -noout`".into(),
            );
        }
        _ => {
            return Err("expected a `-----BEGIN PUBLIC KEY-----` block (RSA or EC P-256)".into());
        }
    };
    Ok(VerifyKey {
        kid: None,
        alg,
        key,
    })
}

/// The label and the bytes of the one PEM block of `text` (lines may be indented).
fn pem_block(text: &str) -> Result<(String, Vec<u8>), String> {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let not_pem = || {
        "it is not PEM text: expected `-----BEGIN PUBLIC KEY-----`, base64 lines and `-----END PUBLIC KEY-----`".to_string()
    };
    let label = lines
        .next()
        .and_then(|l| l.strip_prefix("-----BEGIN "))
        .and_then(|l| l.strip_suffix("-----"))
        .ok_or_else(not_pem)?
        .to_string();
    let end = format!("-----END {label}-----");
    let mut body = String::new();
    let mut ended = false;
    for line in lines.by_ref() {
        if line == end {
            ended = true;
            break;
        }
        if line.contains(':') {
            // RFC 1421 headers (`Proc-Type: ...`) mark an encrypted or legacy block.
            return Err(not_pem());
        }
        body.push_str(line);
    }
    if !ended || lines.next().is_some() {
        return Err(not_pem());
    }
    let der = STANDARD
        .decode(body.as_bytes())
        .map_err(|_| "the PEM block's base64 text is damaged".to_string())?;
    Ok((label, der))
}

/// A JWK as published: only the fields that matter here.
#[derive(Deserialize)]
struct RawJwk {
    kty: Option<String>,
    kid: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    alg: Option<String>,
    n: Option<String>,
    e: Option<String>,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
}

/// Why a JWK of a set is not used (for a debug log line; never key material).
fn jwk_key(jwk: RawJwk) -> Result<VerifyKey, String> {
    if jwk.use_.as_deref().is_some_and(|u| u != "sig") {
        return Err("not a signing key (`use` is not `sig`)".into());
    }
    let b64 = |field: &Option<String>, name: &str| {
        field
            .as_deref()
            .and_then(|v| B64URL.decode(v).ok().or_else(|| URL_SAFE.decode(v).ok()))
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("`{name}` is missing or not base64url"))
    };
    let (alg, key) = match jwk.kty.as_deref() {
        Some("RSA") => {
            let n = b64(&jwk.n, "n")?;
            let e = b64(&jwk.e, "e")?;
            let key = rsa::PublicKey::new(
                BoxedUint::from_be_slice_vartime(&n),
                BoxedUint::from_be_slice_vartime(&e),
            )
            .map_err(|_| "not a valid RSA public key".to_string())?;
            (Algorithm::RS256, rsa_key(&key)?)
        }
        Some("EC") => {
            if jwk.crv.as_deref() != Some("P-256") {
                return Err("an EC key of a curve other than P-256".into());
            }
            let x = b64(&jwk.x, "x")?;
            let y = b64(&jwk.y, "y")?;
            if x.len() != 32 || y.len() != 32 {
                return Err("`x` or `y` is not 32 bytes long".into());
            }
            let mut point = Vec::with_capacity(65);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            let key = p256::PublicKey::from_sec1_bytes(&point)
                .map_err(|_| "not a point of P-256".to_string())?;
            (Algorithm::ES256, ec_key(&key))
        }
        Some(other) => return Err(format!("key type `{other}` is not used")),
        None => return Err("no `kty`".into()),
    };
    let name = algorithm_name(alg);
    if let Some(declared) = &jwk.alg
        && *declared != name
    {
        return Err(format!(
            "its `alg` is `{declared}`, but such a key verifies only {name}"
        ));
    }
    Ok(VerifyKey {
        kid: jwk.kid,
        alg,
        key,
    })
}

/// The usable keys of a JWKS document, and one line per key left out (kid and reason, for a
/// debug log). Refuses a document that is not a JSON object with a `keys` list.
pub fn from_jwks(body: &[u8]) -> Result<(Vec<VerifyKey>, Vec<String>), String> {
    #[derive(Deserialize)]
    struct RawSet {
        keys: Vec<Value>,
    }
    let set: RawSet = serde_json::from_slice(body)
        .map_err(|_| "the document is not a JWK set (a JSON object with a `keys` list)")?;
    let mut keys = Vec::new();
    let mut skipped = Vec::new();
    for (i, value) in set.keys.into_iter().enumerate() {
        let raw: RawJwk = match serde_json::from_value(value) {
            Ok(raw) => raw,
            Err(_) => {
                skipped.push(format!("keys[{i}]: not a JWK object"));
                continue;
            }
        };
        let kid = raw.kid.clone().unwrap_or_default();
        match jwk_key(raw) {
            Ok(key) => keys.push(key),
            Err(why) => skipped.push(format!("keys[{i}] (kid {kid:?}): {why}")),
        }
    }
    Ok((keys, skipped))
}

/// The name of `alg` as tokens write it (`RS256`, `ES256`, `HS256`, ...).
pub fn algorithm_name(alg: Algorithm) -> String {
    format!("{alg:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_blocks_are_read_with_indentation_and_refused_with_reasons() {
        let text = "  -----BEGIN PUBLIC KEY-----\n  AAEC\n  -----END PUBLIC KEY-----\n";
        assert_eq!(
            pem_block(text).expect("pem"),
            ("PUBLIC KEY".to_string(), vec![0, 1, 2])
        );
        for bad in [
            "AAEC",
            "-----BEGIN PUBLIC KEY-----\nAAEC\n",
            "-----BEGIN PUBLIC KEY-----\nAA!C\n-----END PUBLIC KEY-----",
            "-----BEGIN PUBLIC KEY-----\nAAEC\n-----END PUBLIC KEY-----\nmore",
        ] {
            assert!(pem_block(bad).is_err(), "{bad}");
        }
        let e = from_pem("-----BEGIN PRIVATE KEY-----\nAAEC\n-----END PRIVATE KEY-----")
            .expect_err("private");
        assert!(e.contains("private key"), "{e}");
        assert!(!e.contains("AAEC"), "the text is never shown: {e}");
        let e = from_pem("-----BEGIN PUBLIC KEY-----\nAAEC\n-----END PUBLIC KEY-----")
            .expect_err("garbage");
        assert!(e.contains("neither"), "{e}");
    }

    #[test]
    fn a_jwk_verifies_only_the_algorithm_of_its_family() {
        let (keys, skipped) = from_jwks(
            br#"{"keys": [
                {"kty": "oct", "kid": "h", "k": "c2VjcmV0"},
                {"kty": "EC", "kid": "e", "crv": "P-384", "x": "AA", "y": "AA"},
                {"kty": "RSA", "kid": "r", "use": "enc", "n": "AQAB", "e": "AQAB"},
                {"kty": "RSA", "kid": "s", "n": "AQAB", "e": "AQAB"},
                "not an object"
            ]}"#,
        )
        .expect("a set");
        assert!(keys.is_empty(), "{keys:?}");
        assert_eq!(skipped.len(), 5, "{skipped:?}");
        assert!(skipped[0].contains("`oct`"), "{skipped:?}");
        assert!(skipped[3].contains("RSA"), "{skipped:?}");
        assert!(from_jwks(b"[]").is_err());
    }
}
