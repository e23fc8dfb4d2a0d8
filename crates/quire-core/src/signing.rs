//! Signed values: the comment form's token (which paper, when shown) and
//! the cookie that lets a commenter see their own held comments. HMAC-SHA256
//! under the site key, checked in constant time.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Signs and checks short texts with one secret key.
#[derive(Clone)]
pub struct Signer {
    /// HMAC-SHA256 keyed once; each use starts from a copy.
    keyed: Hmac<Sha256>,
}

impl Signer {
    pub fn new(key: &[u8]) -> Signer {
        Signer {
            keyed: <Hmac<Sha256> as KeyInit>::new_from_slice(key)
                .expect("HMAC takes keys of any length (RFC 2104 hashes long ones)"),
        }
    }

    /// HMAC-SHA256 of `message`.
    pub fn mac(&self, message: &[u8]) -> [u8; 32] {
        let mut mac = self.keyed.clone();
        mac.update(message);
        mac.finalize().into_bytes().into()
    }

    /// `text` with its signature: `text.HEX`. `text` must not hold '.' in
    /// a way the reader cannot split: the signature is the part after the
    /// last dot.
    pub fn sign(&self, text: &str) -> String {
        let mac = self.mac(text.as_bytes());
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        format!("{text}.{hex}")
    }

    /// The text of a value made by `sign`, if its signature is right.
    pub fn open<'a>(&self, signed: &'a str) -> Option<&'a str> {
        let (text, hex) = signed.rsplit_once('.')?;
        if hex.len() != 64 {
            return None;
        }
        let mut given = [0u8; 32];
        for (i, byte) in given.iter_mut().enumerate() {
            *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        let mut mac = self.keyed.clone();
        mac.update(text.as_bytes());
        // Checked in constant time.
        mac.verify_slice(&given).ok().map(|()| text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// RFC 4231's test cases 1, 2 and 6 (a key longer than the block).
    #[test]
    fn macs_match_the_rfc_vectors() {
        assert_eq!(
            hex(&Signer::new(&[0x0b; 20]).mac(b"Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        assert_eq!(
            hex(&Signer::new(b"Jefe").mac(b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex(&Signer::new(&[0xaa; 131]).mac(b"Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn signed_values_open_only_unchanged_and_under_their_key() {
        let signer = Signer::new(b"site key");
        let signed = signer.sign("c.12.1700000000");
        assert_eq!(signer.open(&signed), Some("c.12.1700000000"));
        assert_eq!(Signer::new(b"other key").open(&signed), None);
        let tampered = signed.replacen("c.12.", "c.13.", 1);
        assert_eq!(signer.open(&tampered), None);
        for junk in [
            "",
            ".",
            "abc",
            "c.12.x",
            &format!("{signed}0"),
            &signed[..signed.len() - 1],
            "x.ééé",
        ] {
            assert_eq!(signer.open(junk), None, "{junk:?}");
        }
    }
}
