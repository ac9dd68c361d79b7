//! Short human-typable verification codes, as Chinese users know them from 学信网 reports:
//! `SC-7K3M-9QXD-2HFA` is the issuing member's code followed by 12 random Crockford base32
//! characters (60 bits), printed in groups of four.
//!
//! Parsing forgives what people do when they type a code off paper or a phone screen:
//! lowercase, full-width characters (from a Chinese input method), spaces and missing or
//! extra dashes, and Crockford's look-alikes (I and L read as 1, O as 0).

use std::fmt;

use rand::RngCore;

use crate::CredentialError;

/// Crockford's base32 alphabet: no I, L, O or U.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Random characters in a code.
pub const RANDOM_CHARS: usize = 12;

/// A verification code in canonical form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VerificationCode {
    /// The display form, e.g. `SC-7K3M-9QXD-2HFA`.
    text: String,
    member_len: usize,
}

impl VerificationCode {
    /// A fresh code for `member` with 60 random bits. The member code is uppercased; it
    /// must be 2–8 ASCII letters for [`Self::parse`] to read the code back, so check a
    /// configured member with [`Self::is_member_code`] once, at start-up.
    pub fn generate(member: &str, rng: &mut impl RngCore) -> VerificationCode {
        let bits = rng.next_u64();
        let random: Vec<u8> = (0..RANDOM_CHARS)
            .map(|i| ALPHABET[((bits >> (5 * i)) & 31) as usize])
            .collect();
        VerificationCode::assemble(&member.to_ascii_uppercase(), &random)
    }

    /// Whether `member` can prefix a code: 2–8 ASCII letters, any case.
    pub fn is_member_code(member: &str) -> bool {
        is_member(&member.to_ascii_uppercase())
    }

    /// Parses a code as typed; see the module documentation for what is forgiven.
    pub fn parse(input: &str) -> Result<VerificationCode, CredentialError> {
        let invalid = || CredentialError::CodeInvalid {
            input: input.chars().take(64).collect(),
        };
        let normalized = kernel::ids::normalize_code(input);
        let mut chars = Vec::with_capacity(24);
        for c in normalized.chars() {
            if c.is_whitespace() || matches!(c, '-' | '_' | '\u{2010}'..='\u{2015}' | '\u{2212}') {
                continue;
            }
            if !c.is_ascii_alphanumeric() || chars.len() >= 8 + RANDOM_CHARS {
                return Err(invalid());
            }
            chars.push(c as u8);
        }
        if chars.len() < 2 + RANDOM_CHARS {
            return Err(invalid());
        }
        let (member, random) = chars.split_at(chars.len() - RANDOM_CHARS);
        let member = std::str::from_utf8(member).map_err(|_| invalid())?;
        if !is_member(member) {
            return Err(invalid());
        }
        let random = random
            .iter()
            .map(|&c| match c {
                b'I' | b'L' => Some(b'1'),
                b'O' => Some(b'0'),
                c if ALPHABET.contains(&c) => Some(c),
                _ => None,
            })
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(invalid)?;
        Ok(VerificationCode::assemble(member, &random))
    }

    fn assemble(member: &str, random: &[u8]) -> VerificationCode {
        let mut text = String::with_capacity(member.len() + RANDOM_CHARS + 3);
        text.push_str(member);
        for group in random.chunks(4) {
            text.push('-');
            text.extend(group.iter().map(|&b| char::from(b)));
        }
        VerificationCode {
            text,
            member_len: member.len(),
        }
    }

    /// The issuing member's code, e.g. `SC`.
    pub fn member(&self) -> &str {
        &self.text[..self.member_len]
    }

    /// The canonical display form, e.g. `SC-7K3M-9QXD-2HFA`.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

fn is_member(s: &str) -> bool {
    (2..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_uppercase())
}

impl fmt::Display for VerificationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::str::FromStr for VerificationCode {
    type Err = CredentialError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        VerificationCode::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kernel::Localized as _;
    use proptest::prelude::*;
    use rand::SeedableRng as _;

    fn rng() -> rand::rngs::StdRng {
        rand::rngs::StdRng::seed_from_u64(7)
    }

    #[test]
    fn generate_and_parse_round_trip() {
        let mut rng = rng();
        let mut seen = std::collections::HashSet::new();
        for member in ["SC", "cq", "ABCDEFGH"] {
            for _ in 0..200 {
                let code = VerificationCode::generate(member, &mut rng);
                assert_eq!(code.member(), member.to_ascii_uppercase());
                assert_eq!(code.as_str().len(), member.len() + 15);
                assert_eq!(VerificationCode::parse(code.as_str()).unwrap(), code);
                assert_eq!(code.to_string().parse::<VerificationCode>().unwrap(), code);
                assert!(seen.insert(code));
            }
        }
    }

    #[test]
    fn forgiving_forms() {
        let canonical = VerificationCode::parse("SC-7K3M-9QXD-2HFA").unwrap();
        assert_eq!(canonical.as_str(), "SC-7K3M-9QXD-2HFA");
        assert_eq!(canonical.member(), "SC");
        for typed in [
            "sc-7k3m-9qxd-2hfa",
            "SC7K3M9QXD2HFA",
            " sc 7k3m 9qxd 2hfa ",
            "ＳＣ－７Ｋ３Ｍ－９ＱＸＤ－２ＨＦＡ",
            "SC--7K3M--9QXD--2HFA",
            "S-C-7-K-3-M-9-Q-X-D-2-H-F-A",
            "SC_7K3M_9QXD_2HFA",
            "SC\u{3000}7K3M\u{3000}9QXD\u{3000}2HFA",
            "SC—7K3M—9QXD—2HFA",
        ] {
            assert_eq!(
                VerificationCode::parse(typed).unwrap(),
                canonical,
                "{typed}"
            );
        }
        assert_eq!(
            VerificationCode::parse("sc-oooo-iiii-llll")
                .unwrap()
                .as_str(),
            "SC-0000-1111-1111"
        );
    }

    #[test]
    fn refuses() {
        for bad in [
            "",
            "SC",
            "SC-7K3M-9QXD-2HF", // 11 random characters: member would be "S"
            "S-7K3M-9QXD-2HFA", // one-letter member
            "ABCDEFGHI-7K3M-9QXD-2HFA", // nine-letter member
            "S1-7K3M-9QXD-2HFA", // digit in member
            "SC-7K3M-9QXD-2HFU", // U is not Crockford
            "SC-7K3M-9QXD-2HF!",
            "四川-7K3M-9QXD-2HFA",
            "SC-7K3M-9QXD-2HFA-7K3M-9QXD-2HFA",
        ] {
            let err = VerificationCode::parse(bad).unwrap_err();
            assert_eq!(err.code(), "credential.code_invalid", "{bad}");
        }
        for member in ["S", "S1", "四川", "ABCDEFGHI", ""] {
            assert!(!VerificationCode::is_member_code(member), "{member}");
            // Generating still works (and never panics); the code just does not parse.
            let code = VerificationCode::generate(member, &mut rng());
            assert!(VerificationCode::parse(code.as_str()).is_err(), "{member}");
        }
        assert!(VerificationCode::is_member_code("sc"));
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,40}") {
            if let Ok(code) = VerificationCode::parse(&s) {
                prop_assert_eq!(VerificationCode::parse(code.as_str()).unwrap(), code);
            }
        }

        #[test]
        fn parse_never_panics_on_near_codes(s in "[a-zA-Z0-9 \\-－ｓｃ]{0,30}") {
            let _ = VerificationCode::parse(&s);
        }
    }
}
