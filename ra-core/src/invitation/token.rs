//! The one-line token form of an invitation: `ra1-` and the base64url of
//! a protobuf `InvitationToken`, read back strictly.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use data_encoding::BASE64URL_NOPAD;
use prost::Message as _;

use super::rules::{check_address, check_address_count, check_host_name, check_times, shorten};
use super::{
    CertFingerprint, INVITATION_VERSION, MAX_INVITATION_FILE_SIZE, MAX_TOKEN_LEN, MAX_UNIX_SECS,
    SessionId, TOKEN_PREFIX,
};
use super::{Invitation, InvitationError, Rendezvous, TokenError};
use crate::code::Lookup;
use crate::proto::InvitationToken;

impl Invitation {
    /// The one-line copy-paste form: `ra1-` and the base64url (no padding) of
    /// the protobuf `InvitationToken`.
    ///
    /// Only an invitation that passes [`validate`](Self::validate) gives a token
    /// that [`from_token`](Self::from_token) reads back.
    pub fn to_token(&self) -> String {
        let secs = |t: SystemTime| {
            t.duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
        };
        let message = InvitationToken {
            version: self.version,
            session_id: self.session_id.0.to_vec(),
            host_name: self.host_name.clone(),
            addresses: self.addresses.iter().map(ToString::to_string).collect(),
            fingerprint: self.fingerprint.0.to_vec(),
            created_unix: secs(self.created_at),
            expires_unix: secs(self.expires_at),
            rendezvous_lookup: self
                .rendezvous
                .as_ref()
                .map(|r| r.lookup.to_string())
                .unwrap_or_default(),
            rendezvous_broker: self
                .rendezvous
                .as_ref()
                .map(|r| r.broker.to_string())
                .unwrap_or_default(),
            rendezvous_broker_fingerprint: self
                .rendezvous
                .as_ref()
                .map(|r| r.broker_fingerprint.0.to_vec())
                .unwrap_or_default(),
        };
        format!(
            "{TOKEN_PREFIX}{}",
            BASE64URL_NOPAD.encode(&message.encode_to_vec())
        )
    }

    /// Reads a token made by [`to_token`](Self::to_token). Whitespace (around it,
    /// or line breaks a mail program inserted) is ignored; everything else is
    /// strict and checked like a file.
    pub fn from_token(token: &str) -> Result<Self, InvitationError> {
        if token.len() > MAX_INVITATION_FILE_SIZE {
            return Err(TokenError::TooLong {
                len: token.chars().count(),
                max: MAX_TOKEN_LEN,
            }
            .into());
        }
        let compact: String = token.chars().filter(|c| !c.is_whitespace()).collect();
        if compact.is_empty() {
            return Err(TokenError::Empty.into());
        }
        if compact.len() > MAX_TOKEN_LEN {
            return Err(TokenError::TooLong {
                len: compact.chars().count(),
                max: MAX_TOKEN_LEN,
            }
            .into());
        }
        let payload = compact
            .strip_prefix(TOKEN_PREFIX)
            .ok_or(TokenError::BadPrefix)?;
        let bytes =
            BASE64URL_NOPAD
                .decode(payload.as_bytes())
                .map_err(|e| TokenError::BadBase64 {
                    position: TOKEN_PREFIX.len() + e.position + 1,
                })?;
        let message = InvitationToken::decode(bytes.as_slice()).map_err(TokenError::from)?;
        if message.version != INVITATION_VERSION {
            return Err(InvitationError::UnsupportedVersion {
                version: message.version,
                supported: INVITATION_VERSION,
            });
        }
        if message.encode_to_vec() != bytes {
            return Err(TokenError::NonCanonical.into());
        }

        let invalid =
            |field: &'static str, message: String| TokenError::InvalidField { field, message };
        let session_id = SessionId::try_from(message.session_id.as_slice())
            .map_err(|e| invalid("session id", e.to_string()))?;
        check_host_name(&message.host_name).map_err(|m| invalid("host name", m))?;
        check_address_count(message.addresses.len()).map_err(|m| invalid("addresses", m))?;
        let mut addresses = Vec::with_capacity(message.addresses.len());
        for text in &message.addresses {
            let address: SocketAddr = text
                .parse()
                .map_err(|_| invalid("address", format!("`{}` is not IP:port", shorten(text))))?;
            check_address(&address).map_err(|m| invalid("address", m))?;
            addresses.push(address);
        }
        let fingerprint = CertFingerprint::try_from(message.fingerprint.as_slice())
            .map_err(|e| invalid("fingerprint", e.to_string()))?;
        let time = |field: &'static str, secs: u64| {
            if secs > MAX_UNIX_SECS {
                Err(invalid(field, "the time is after the year 9999".into()))
            } else {
                Ok(UNIX_EPOCH + Duration::from_secs(secs))
            }
        };
        let created_at = time("creation time", message.created_unix)?;
        let expires_at = time("expiry time", message.expires_unix)?;
        check_times(created_at, expires_at).map_err(|m| invalid("expiry time", m))?;
        let rendezvous = if message.rendezvous_lookup.is_empty()
            && message.rendezvous_broker.is_empty()
            && message.rendezvous_broker_fingerprint.is_empty()
        {
            None
        } else {
            let lookup = Lookup::parse(&message.rendezvous_lookup)
                .map_err(|e| invalid("rendezvous lookup", e.to_string()))?;
            let broker: SocketAddr = message.rendezvous_broker.parse().map_err(|_| {
                invalid(
                    "rendezvous broker",
                    format!("`{}` is not IP:port", shorten(&message.rendezvous_broker)),
                )
            })?;
            check_address(&broker).map_err(|m| invalid("rendezvous broker", m))?;
            let broker_fingerprint =
                CertFingerprint::try_from(message.rendezvous_broker_fingerprint.as_slice())
                    .map_err(|e| invalid("rendezvous broker fingerprint", e.to_string()))?;
            Some(Rendezvous {
                lookup,
                broker,
                broker_fingerprint,
            })
        };

        let invitation = Self {
            version: INVITATION_VERSION,
            session_id,
            host_name: message.host_name,
            addresses,
            fingerprint,
            created_at,
            expires_at,
            rendezvous,
        };
        invitation.validate()?;
        Ok(invitation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invitation::testing::sample;

    #[test]
    fn a_rendezvous_travels_in_the_token() {
        let inv = crate::invitation::testing::sample_with_rendezvous();
        let token = inv.to_token();
        assert_eq!(Invitation::from_token(&token).unwrap(), inv);
        assert!(token.len() < 400, "{}", token.len());
        // A token with half a rendezvous is refused with the field named.
        let mut message = InvitationToken::decode(
            BASE64URL_NOPAD
                .decode(&token.as_bytes()[TOKEN_PREFIX.len()..])
                .unwrap()
                .as_slice(),
        )
        .unwrap();
        message.rendezvous_broker.clear();
        let half = format!(
            "{TOKEN_PREFIX}{}",
            BASE64URL_NOPAD.encode(&message.encode_to_vec())
        );
        let err = Invitation::from_token(&half).unwrap_err();
        assert!(err.to_string().contains("rendezvous broker"), "{err}");
    }

    #[test]
    fn token_round_trip() {
        let inv = sample();
        let token = inv.to_token();
        assert!(token.starts_with("ra1-"));
        assert!(token.len() < 300, "{}", token.len());
        assert!(
            token[4..]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(Invitation::from_token(&token).unwrap(), inv);
        assert_eq!(
            Invitation::from_token(&format!("  {token}\n")).unwrap(),
            inv
        );
        // Wrapped by a mail program.
        let wrapped = format!("{}\r\n {}", &token[..50], &token[50..]);
        assert_eq!(Invitation::from_token(&wrapped).unwrap(), inv);

        // The largest invitation fits in the token limit.
        let mut big = inv.clone();
        big.host_name = "字".repeat(64);
        big.addresses = (1..=16)
            .map(|_| {
                "[2001:db8:ffff:ffff:ffff:ffff:ffff:ffff%4294967295]:65535"
                    .parse::<SocketAddr>()
                    .unwrap()
            })
            .map(|mut a| {
                a.set_port(60000);
                a
            })
            .collect();
        let token = big.to_token();
        assert!(token.len() <= MAX_TOKEN_LEN, "{}", token.len());
        assert_eq!(Invitation::from_token(&token).unwrap(), big);
    }

    fn encode(message: &InvitationToken) -> String {
        format!("ra1-{}", BASE64URL_NOPAD.encode(&message.encode_to_vec()))
    }

    fn sample_message() -> InvitationToken {
        let token = sample().to_token();
        let bytes = BASE64URL_NOPAD.decode(&token.as_bytes()[4..]).unwrap();
        InvitationToken::decode(bytes.as_slice()).unwrap()
    }

    fn token_err(token: &str) -> TokenError {
        match Invitation::from_token(token) {
            Err(InvitationError::Token(e)) => e,
            other => panic!("expected a token error, got {other:?}"),
        }
    }

    #[test]
    fn token_errors() {
        let token = sample().to_token();
        assert!(matches!(token_err(""), TokenError::Empty));
        assert!(matches!(token_err(" \n"), TokenError::Empty));
        assert!(matches!(
            token_err(&"a".repeat(5000)),
            TokenError::TooLong { .. }
        ));
        assert!(matches!(
            token_err(&"a".repeat(20000)),
            TokenError::TooLong { .. }
        ));
        assert!(matches!(token_err(&token[1..]), TokenError::BadPrefix));
        assert!(matches!(
            token_err(&token.replace("ra1-", "ra2-")),
            TokenError::BadPrefix
        ));
        assert!(matches!(
            token_err(&token.replace("ra1-", "RA1-")),
            TokenError::BadPrefix
        ));
        let err = token_err(&format!("{}!{}", &token[..10], &token[11..]));
        assert!(
            matches!(err, TokenError::BadBase64 { position: 11 }),
            "{err:?}"
        );
        // Truncated: either bad base64 length or a bad protobuf message.
        for cut in [5, 10, 30, token.len() - 1] {
            let err = Invitation::from_token(&token[..cut]).unwrap_err();
            assert!(matches!(err, InvitationError::Token(_)), "{cut}: {err:?}");
        }
        let garbage = format!("ra1-{}", BASE64URL_NOPAD.encode(&[0xff; 20]));
        assert!(matches!(token_err(&garbage), TokenError::BadProtobuf(_)));

        // Unknown field appended: not canonical.
        let mut bytes = sample_message().encode_to_vec();
        bytes.extend_from_slice(&[0x78, 0x01]); // field 15, varint 1
        let extra = format!("ra1-{}", BASE64URL_NOPAD.encode(&bytes));
        assert!(matches!(token_err(&extra), TokenError::NonCanonical));

        // Invalid fields.
        let mut m = sample_message();
        m.version = 7;
        assert!(matches!(
            Invitation::from_token(&encode(&m)),
            Err(InvitationError::UnsupportedVersion { version: 7, .. })
        ));
        type Mutation = fn(&mut InvitationToken);
        let cases: [(&str, Mutation); 10] = [
            ("session id", |m| m.session_id.truncate(15)),
            ("host name", |m| m.host_name.clear()),
            ("host name", |m| m.host_name = "a\nb".into()),
            ("addresses", |m| m.addresses.clear()),
            ("address", |m| m.addresses[0] = "localhost:5".into()),
            ("address", |m| m.addresses[0] = "0.0.0.0:5".into()),
            ("fingerprint", |m| m.fingerprint.push(0)),
            ("expiry time", |m| m.expires_unix = m.created_unix),
            ("expiry time", |m| m.expires_unix = u64::MAX),
            ("creation time", |m| m.created_unix = MAX_UNIX_SECS + 1),
        ];
        for (field, mutate) in cases {
            let mut m = sample_message();
            mutate(&mut m);
            match token_err(&encode(&m)) {
                TokenError::InvalidField { field: f, .. } => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
        let err = Invitation::from_token("hello").unwrap_err();
        assert!(
            err.to_string().starts_with("invalid invitation token: "),
            "{err}"
        );
    }
}
