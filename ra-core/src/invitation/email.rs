//! The invitation as an email: an RFC 5322 message with the file attached
//! and the token in the text, or a `mailto:` URI.

use mail_builder::MessageBuilder;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::rules::{format_time, shorten};
use super::{
    INVITATION_FILE_NAME, INVITATION_MEDIA_TYPE, Invitation, InvitationError, MAX_EMAIL_ADDRESS_LEN,
};
use crate::text::is_unsafe_char;

/// Recipients and subject of an invitation email.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmailOptions {
    /// The sender's address (`alice@example.com`).
    pub from: String,
    /// The recipients' addresses; may be empty to produce a draft.
    pub to: Vec<String>,
    /// The subject; `None` for "Remote assistance invitation from `<host name>`".
    pub subject: Option<String>,
}

impl Invitation {
    fn default_subject(&self) -> String {
        format!("Remote assistance invitation from {}", self.host_name)
    }

    /// The text of an invitation email. Never contains the password (it is
    /// not an input).
    fn email_text(&self, token: &str, attachment: bool) -> String {
        let expires = format_time(self.expires_at);
        let how = if attachment {
            format!(
                "1. Open the attached file \"{INVITATION_FILE_NAME}\" with an ra helper\n   \
                 program, or paste this invitation token into the helper program:"
            )
        } else {
            "1. Paste this invitation token into an ra helper program:".to_owned()
        };
        format!(
            "Hello,\n\
             \n\
             \"{host}\" is asking for your help through remote assistance (ra).\n\
             \n\
             To help:\n\
             \n\
             {how}\n\
             \n\
             {token}\n\
             \n\
             2. Type the password that the person who invited you tells you.\n   \
             The password is not in this message, on purpose: it comes\n   \
             separately (by phone, in person, or another way). Never send it\n   \
             by replying to this message.\n\
             \n\
             3. They approve your connection. You first only see their screen;\n   \
             you control it only if they allow it, and they can stop you at\n   \
             any moment.\n\
             \n\
             This invitation expires at {expires} (UTC).\n\
             If you did not expect it, do not use it.\n",
            host = self.host_name,
        )
    }

    /// An RFC 5322 message (`.eml`) inviting the recipients: instructions, the
    /// token in the text, and the invitation file attached as
    /// `invitation.rainv` (`application/x-ra-invitation`). The password is never
    /// part of it.
    ///
    /// Addresses are plain addresses (`alice@example.com`); `to` may be empty to
    /// make a draft.
    pub fn to_email(&self, options: &EmailOptions) -> Result<Vec<u8>, InvitationError> {
        self.validate()?;
        check_email_address(&options.from)?;
        for to in &options.to {
            check_email_address(to)?;
        }
        let subject = options
            .subject
            .clone()
            .unwrap_or_else(|| self.default_subject());
        if let Some(c) = subject.chars().find(|c| is_unsafe_char(*c)) {
            return Err(InvitationError::Email(format!(
                "the subject contains the control character U+{:04X}",
                u32::from(c)
            )));
        }
        let mut builder = MessageBuilder::new()
            .from(options.from.clone())
            .subject(subject);
        if !options.to.is_empty() {
            builder = builder.to(options.to.clone());
        }
        builder
            .text_body(self.email_text(&self.to_token(), true))
            .attachment(
                INVITATION_MEDIA_TYPE,
                INVITATION_FILE_NAME,
                self.to_file_string().into_bytes(),
            )
            .write_to_vec()
            .map_err(|e| InvitationError::Email(e.to_string()))
    }

    /// A `mailto:` URI that opens the user's mail program with the recipients,
    /// a subject and a text carrying the token (a URI cannot carry an
    /// attachment). The password is never part of it.
    pub fn mailto_uri(&self, to: &[String]) -> String {
        /// RFC 3986 unreserved characters stay, everything else is encoded.
        const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
            .remove(b'-')
            .remove(b'.')
            .remove(b'_')
            .remove(b'~');
        const ADDRESS: &AsciiSet = &COMPONENT.remove(b'@');
        let recipients: Vec<String> = to
            .iter()
            .map(|a| utf8_percent_encode(a.trim(), ADDRESS).to_string())
            .collect();
        // RFC 6068: line breaks in the body are CRLF.
        let body = self
            .email_text(&self.to_token(), false)
            .replace('\n', "\r\n");
        format!(
            "mailto:{}?subject={}&body={}",
            recipients.join(","),
            utf8_percent_encode(&self.default_subject(), COMPONENT),
            utf8_percent_encode(&body, COMPONENT)
        )
    }
}

fn check_email_address(address: &str) -> Result<(), InvitationError> {
    let bad = address.is_empty()
        || address.len() > MAX_EMAIL_ADDRESS_LEN
        || !address.contains('@')
        || address.starts_with('@')
        || address.ends_with('@')
        || address.chars().any(|c| {
            c.is_whitespace() || is_unsafe_char(c) || matches!(c, '<' | '>' | ',' | ';' | '"')
        });
    if bad {
        Err(InvitationError::Email(format!(
            "invalid email address `{}`",
            shorten(address)
        )))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invitation::testing::sample;

    /// Undoes quoted-printable soft line breaks (test helper only).
    fn unfold_qp(text: &str) -> String {
        text.replace("=\r\n", "").replace("=3D", "=")
    }

    #[test]
    fn email() {
        let inv = sample();
        let options = EmailOptions {
            from: "alice@example.com".into(),
            to: vec!["bob@example.org".into(), "carol@example.net".into()],
            subject: None,
        };
        let eml = String::from_utf8(inv.to_email(&options).unwrap()).unwrap();
        assert!(eml.contains("From: <alice@example.com>"), "{eml}");
        assert!(eml.contains("bob@example.org") && eml.contains("carol@example.net"));
        assert!(eml.contains("Subject: Remote assistance invitation from Alice's laptop"));
        assert!(eml.contains("multipart/mixed"));
        assert!(eml.contains("Content-Type: application/x-ra-invitation"));
        assert!(eml.contains("invitation.rainv"));
        let text = unfold_qp(&eml);
        assert!(text.contains(&inv.to_token()), "{text}");
        assert!(text.contains("password"));
        assert!(text.contains("2026-11-25T15:00:00Z"));

        // The attachment is the invitation file.
        let start = eml
            .find("Content-Type: application/x-ra-invitation")
            .unwrap();
        let part = &eml[start..];
        let body_start = part.find("\r\n\r\n").unwrap() + 4;
        let body_end = body_start + part[body_start..].find("\r\n--").unwrap();
        let b64: String = part[body_start..body_end].split_whitespace().collect();
        let file = data_encoding::BASE64.decode(b64.as_bytes()).unwrap();
        assert_eq!(Invitation::parse_file(&file).unwrap(), inv);

        // Nothing that looks like a password: no 13-character Crockford run,
        // grouped or not (the token is base64url, checked apart).
        let without_token = text.replace(&inv.to_token(), "");
        let crockford_run = without_token
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .filter_map(|w| {
                let compact: String = w.chars().filter(|c| *c != '-').collect();
                crate::password::Password::parse(&compact)
                    .ok()
                    .map(|_| w.to_owned())
            })
            .collect::<Vec<_>>();
        assert!(crockford_run.is_empty(), "{crockford_run:?}");
        assert!(!text.to_lowercase().contains("password:"));

        // Custom subject, draft without recipients.
        let draft = inv
            .to_email(&EmailOptions {
                from: "alice@example.com".into(),
                to: vec![],
                subject: Some("Help please".into()),
            })
            .unwrap();
        let draft = String::from_utf8(draft).unwrap();
        assert!(draft.contains("Subject: Help please"));
        assert!(!draft.contains("\r\nTo:"));
    }

    #[test]
    fn email_errors() {
        let inv = sample();
        let ok = EmailOptions {
            from: "alice@example.com".into(),
            to: vec!["bob@example.org".into()],
            subject: None,
        };
        for bad in ["", "alice", "a b@c", "<a@b>", "a@b\r\nBcc: x@y", "@b", "a@"] {
            let mut o = ok.clone();
            o.from = bad.into();
            assert!(
                matches!(inv.to_email(&o), Err(InvitationError::Email(_))),
                "{bad:?}"
            );
            let mut o = ok.clone();
            o.to.push(bad.into());
            assert!(
                matches!(inv.to_email(&o), Err(InvitationError::Email(_))),
                "{bad:?}"
            );
        }
        let mut o = ok.clone();
        o.subject = Some("hi\r\nBcc: evil@example.com".into());
        assert!(matches!(inv.to_email(&o), Err(InvitationError::Email(_))));
        let mut bad = inv.clone();
        bad.addresses.clear();
        assert!(matches!(
            bad.to_email(&ok),
            Err(InvitationError::Invalid(_))
        ));
    }

    #[test]
    fn mailto() {
        let inv = sample();
        let uri = inv.mailto_uri(&["bob@example.org".into(), "c+d@example.net".into()]);
        assert!(
            uri.starts_with("mailto:bob@example.org,c%2Bd@example.net?subject="),
            "{uri}"
        );
        assert!(uri.contains(
            "subject=Remote%20assistance%20invitation%20from%20Alice%27s%20laptop&body="
        ));
        assert!(uri.contains(&inv.to_token()));
        assert!(uri.contains("%0D%0A"));
        assert!(!uri.contains(' ') && !uri.contains('\n'));
        let body = &uri[uri.find("&body=").unwrap() + 6..];
        let decoded = percent_encoding::percent_decode_str(body)
            .decode_utf8()
            .unwrap();
        assert!(decoded.contains("password"));
        assert!(decoded.contains(&inv.to_token()));
        assert!(inv.mailto_uri(&[]).starts_with("mailto:?subject="));
    }
}
