//! Organisation-signed helper identities: issued, written and read back;
//! checked against the trusted organisations, the revoked helpers and the
//! time; every kind of bad document is a clear error, never a panic.
#![allow(missing_docs)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ra_core::identity::{
    HelperCredential, HelperIdentity, IdentityCheck, IdentityError, MAX_DOCUMENT_BYTES, OrgKeyPair,
    OrgPublicKey,
};

const DAY: Duration = Duration::from_secs(86_400);

fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_796_000_000)
}

fn contoso() -> OrgKeyPair {
    OrgKeyPair::generate("Contoso IT").unwrap()
}

fn jane(org: &OrgKeyPair) -> HelperCredential {
    org.issue("Jane Doe", t0(), t0() + 30 * DAY).unwrap()
}

fn check(at: SystemTime, trusted: &[OrgPublicKey]) -> IdentityCheck<'_> {
    IdentityCheck {
        at,
        trusted,
        revoked: &[],
    }
}

#[test]
fn an_issued_identity_round_trips_and_verifies() {
    let org = contoso();
    // The organisation's key file.
    let again = OrgKeyPair::from_text(&org.to_text()).unwrap();
    assert_eq!(again.public_key(), org.public_key());
    assert_eq!(again.name(), "Contoso IT");
    let key_text = org.public_key().to_string();
    assert!(key_text.starts_with("raorg1-") && key_text.len() == 7 + 64);
    assert_eq!(key_text.parse::<OrgPublicKey>().unwrap(), org.public_key());

    // The helper's credential file, and the identity it shows.
    let credential = jane(&org);
    let read = HelperCredential::from_text(&credential.to_text()).unwrap();
    let identity = read.identity();
    assert_eq!(identity, credential.identity());
    assert_eq!(identity.organisation(), "Contoso IT");
    assert_eq!(identity.organisation_key(), org.public_key());
    assert_eq!(identity.helper(), "Jane Doe");
    assert_eq!(
        (identity.not_before(), identity.not_after()),
        (t0(), t0() + 30 * DAY)
    );
    let shown = HelperIdentity::parse(&identity.to_text()).unwrap();
    assert_eq!(&shown, identity);
    assert!(!identity.to_text().contains("private"));

    // Checked by a host that trusts Contoso, within the period.
    let trusted = [org.public_key()];
    shown.check(&check(t0() + DAY, &trusted)).unwrap();
    // The helper proves it holds the key.
    let signature = read.sign(b"this session's transcript");
    assert!(shown.verify_helper_signature(b"this session's transcript", &signature));
    assert!(!shown.verify_helper_signature(b"another session's transcript", &signature));
}

#[test]
fn the_host_refuses_other_organisations_revoked_helpers_and_other_times() {
    let org = contoso();
    let identity = jane(&org).identity().clone();
    let other = OrgKeyPair::generate("Fabrikam Support").unwrap();
    let trusted = [org.public_key()];
    assert!(matches!(
        identity.check(&check(t0() + DAY, &[other.public_key()])),
        Err(IdentityError::UntrustedOrganisation { .. })
    ));
    let revoked = [identity.helper_key()];
    let error = identity
        .check(&IdentityCheck {
            at: t0() + DAY,
            trusted: &trusted,
            revoked: &revoked,
        })
        .unwrap_err();
    assert_eq!(error, IdentityError::Revoked(identity.helper_key()));
    assert!(matches!(
        identity.check(&check(t0() - Duration::from_secs(1), &trusted)),
        Err(IdentityError::NotYetValid(_))
    ));
    let expired = identity
        .check(&check(t0() + 30 * DAY, &trusted))
        .unwrap_err();
    assert!(matches!(expired, IdentityError::Expired(_)));
    assert!(
        expired.to_string().starts_with("expired at 2026-"),
        "{expired}"
    );
}

#[test]
fn a_forged_or_altered_identity_does_not_verify() {
    let org = contoso();
    let text = jane(&org).identity().to_text();
    // Another name, another period, another helper key: the signature fails.
    for (from, to) in [
        ("Jane Doe", "John Doe"),
        ("not-after: 2026-12-30", "not-after: 2027-12-30"),
    ] {
        let forged = text.replacen(from, to, 1);
        assert_ne!(forged, text);
        assert!(
            matches!(
                HelperIdentity::parse(&forged),
                Err(IdentityError::BadSignature(_))
            ),
            "{from}"
        );
    }
    // Signed by Fabrikam but claiming Contoso's key.
    let fabrikam = OrgKeyPair::generate("Contoso IT").unwrap();
    let theirs = fabrikam
        .issue("Jane Doe", t0(), t0() + DAY)
        .unwrap()
        .identity()
        .to_text();
    let own_key = fabrikam.public_key().to_string();
    let claimed = theirs.replace(&own_key, &org.public_key().to_string());
    assert!(matches!(
        HelperIdentity::parse(&claimed),
        Err(IdentityError::BadSignature(_))
    ));
    // Every single changed byte is refused (most as a bad signature, some
    // as unreadable), never accepted and never a panic.
    let bytes = text.as_bytes();
    for i in 0..bytes.len() {
        let mut changed = bytes.to_vec();
        changed[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        let Ok(changed) = String::from_utf8(changed) else {
            continue;
        };
        assert!(
            HelperIdentity::parse(&changed).is_err(),
            "byte {i} changed was accepted"
        );
    }
}

#[test]
fn bad_documents_are_clear_errors() {
    let org = contoso();
    let credential = jane(&org);
    let text = credential.identity().to_text();
    // Cut short, anywhere.
    for end in [0, 10, text.len() / 2, text.len() - 20] {
        assert!(HelperIdentity::parse(&text[..end]).is_err(), "cut at {end}");
    }
    assert!(matches!(
        HelperIdentity::parse(&text[..text.find("signature").unwrap()]),
        Err(IdentityError::Malformed { line: 8, .. })
    ));
    // Too large.
    let huge = format!("{text}{}", "x".repeat(MAX_DOCUMENT_BYTES));
    assert!(matches!(
        HelperIdentity::parse(&huge),
        Err(IdentityError::TooLarge(_))
    ));
    // Another version, another kind of file.
    let v2 = text.replacen("ra-helper-identity 1", "ra-helper-identity 2", 1);
    let error = HelperIdentity::parse(&v2).unwrap_err();
    assert!(matches!(error, IdentityError::Version { .. }), "{error}");
    assert!(matches!(
        HelperIdentity::parse(&org.to_text()),
        Err(IdentityError::Version { .. })
    ));
    // An extra line, a carriage return, fields out of order.
    assert!(matches!(
        HelperIdentity::parse(&format!("{text}extra: 1\n")),
        Err(IdentityError::Malformed { line: 9, .. })
    ));
    assert!(HelperIdentity::parse(&text.replace('\n', "\r\n")).is_err());
    let mut lines: Vec<&str> = text.lines().collect();
    lines.swap(3, 4);
    assert!(matches!(
        HelperIdentity::parse(&lines.join("\n")),
        Err(IdentityError::Malformed { line: 4, .. })
    ));
    // Keys that are not keys.
    assert!(matches!(
        "raorg1-zz".parse::<OrgPublicKey>(),
        Err(IdentityError::Key { .. })
    ));
    assert!(matches!(
        org.public_key()
            .to_string()
            .replace("raorg1-", "rahelper1-")
            .parse::<OrgPublicKey>(),
        Err(IdentityError::Key { .. })
    ));
    // Names.
    for name in ["", "   ", "a\u{7}b", &"x".repeat(65)] {
        assert!(
            matches!(OrgKeyPair::generate(name), Err(IdentityError::Name(_))),
            "{name:?}"
        );
    }
    assert!(matches!(
        org.issue("Jane", t0(), t0()),
        Err(IdentityError::Validity)
    ));
    // A credential whose private key is another helper's.
    let other = org.issue("John Roe", t0(), t0() + DAY).unwrap().to_text();
    let other_key = other.lines().last().unwrap();
    let own = credential.to_text();
    let mut mixed: Vec<&str> = own.lines().collect();
    mixed.pop();
    mixed.push(other_key);
    assert!(matches!(
        HelperCredential::from_text(&mixed.join("\n")),
        Err(IdentityError::PrivateKey(_))
    ));
    // A credential without its key line, an organisation key file cut short.
    assert!(HelperCredential::from_text(&text).is_err());
    let org_text = org.to_text();
    assert!(OrgKeyPair::from_text(&org_text[..org_text.len() - 10]).is_err());
}
