use std::time::{Duration, UNIX_EPOCH};

use super::*;
use crate::identity::{HelperCredential, OrgKeyPair};

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000 + secs)
}

fn credential() -> (OrgKeyPair, HelperCredential) {
    let org = OrgKeyPair::generate("Contoso IT").unwrap();
    let credential = org.issue("Jane Doe", at(0), at(86_400)).unwrap();
    (org, credential)
}

fn body(identity: Option<&HelperCredential>) -> ReceiptBody {
    ReceiptBody {
        session_id: SessionId([7; 16]),
        host_name: "Alice's PC".into(),
        helper_name: "Jane".into(),
        helper_identity: identity.map(|c| c.identity().to_text()),
        approved_at: at(10),
        grants: vec![ReceiptGrant {
            scopes: "pointer,keyboard".into(),
            from: at(20) + Duration::from_nanos(123_456_789),
            to: at(80),
            ended: "expired".into(),
        }],
        grants_not_listed: 0,
        ended_at: at(100),
        end_reason: "host_ended".into(),
        audit_head: Some(ChainHash([9; 32]).to_string()),
    }
}

fn countersigned() -> (ConsentReceipt, OrgKeyPair, HostReceiptKey) {
    let (org, credential) = credential();
    let key = HostReceiptKey::generate().unwrap();
    let mut receipt = ConsentReceipt::sign(&body(Some(&credential)), &key).unwrap();
    let signature = credential.sign(&receipt.countersignature_message());
    receipt.countersign(&signature).unwrap();
    (receipt, org, key)
}

#[test]
fn a_signed_receipt_reads_back_and_verifies() {
    let (receipt, org, key) = countersigned();
    let text = receipt.to_text();
    let read = ConsentReceipt::parse(&format!("{text}\n")).unwrap();
    assert_eq!(read, receipt);
    // Times keep milliseconds, no more.
    assert_eq!(
        read.body().grants[0].from,
        at(20) + Duration::from_millis(123)
    );
    let summary = read
        .verify(&ReceiptCheck {
            pinned: Some(CertFingerprint::of_der(key.certificate())),
            session: Some(SessionId([7; 16])),
            organisation: Some(org.public_key()),
        })
        .unwrap();
    assert!(summary.countersigned);
    assert_eq!(summary.audit_head, Some(ChainHash([9; 32])));
    assert_eq!(summary.helper_identity.unwrap().helper(), "Jane Doe");
}

#[test]
fn flipping_any_byte_fails() {
    let (receipt, _, _) = countersigned();
    let text = receipt.to_text();
    for i in 0..text.len() {
        for flip in [0x01u8, 0x20] {
            let mut bytes = text.clone().into_bytes();
            bytes[i] ^= flip;
            let Ok(altered) = String::from_utf8(bytes) else {
                continue;
            };
            let verdict =
                ConsentReceipt::parse(&altered).and_then(|r| r.verify(&ReceiptCheck::default()));
            assert!(verdict.is_err(), "byte {i} ^ {flip:#x} went unnoticed");
        }
    }
}

#[test]
fn another_session_or_host_or_organisation_is_refused() {
    let (receipt, _, _) = countersigned();
    assert!(matches!(
        receipt.verify(&ReceiptCheck {
            session: Some(SessionId([8; 16])),
            ..ReceiptCheck::default()
        }),
        Err(ReceiptError::OtherSession { .. })
    ));
    assert!(matches!(
        receipt.verify(&ReceiptCheck {
            pinned: Some(CertFingerprint([1; 32])),
            ..ReceiptCheck::default()
        }),
        Err(ReceiptError::OtherHost { .. })
    ));
    let stranger = OrgKeyPair::generate("Fabrikam").unwrap();
    assert_eq!(
        receipt.verify(&ReceiptCheck {
            organisation: Some(stranger.public_key()),
            ..ReceiptCheck::default()
        }),
        Err(ReceiptError::NotOrganisation(stranger.public_key()))
    );
}

#[test]
fn an_unverified_helper_cannot_countersign() {
    let key = HostReceiptKey::generate().unwrap();
    let mut receipt = ConsentReceipt::sign(&body(None), &key).unwrap();
    assert!(
        !receipt
            .verify(&ReceiptCheck::default())
            .unwrap()
            .countersigned
    );
    assert_eq!(
        receipt.countersign(&[0; 64]),
        Err(ReceiptError::CountersignedWithoutIdentity)
    );
    // A countersignature by someone else's key.
    let (_, credential) = credential();
    let mut verified = ConsentReceipt::sign(&body(Some(&credential)), &key).unwrap();
    let (_, other) = self::credential();
    let forged = other.sign(&verified.countersignature_message());
    assert_eq!(
        verified.countersign(&forged),
        Err(ReceiptError::BadHelperSignature)
    );
}

#[test]
fn a_key_that_is_not_the_certificates_is_refused() {
    let one = HostReceiptKey::generate().unwrap();
    let other = rcgen::KeyPair::generate().unwrap();
    assert!(matches!(
        HostReceiptKey::from_pkcs8(one.certificate().to_vec(), &other.serialize_der()),
        Err(ReceiptError::Signing(_))
    ));
    assert!(matches!(
        HostReceiptKey::from_pkcs8(one.certificate().to_vec(), b"garbage"),
        Err(ReceiptError::Signing(_))
    ));
}

#[test]
fn bad_input_gets_a_clear_error() {
    let (receipt, _, _) = countersigned();
    let text = receipt.to_text();
    assert!(matches!(
        ConsentReceipt::parse(&"x".repeat(MAX_RECEIPT_BYTES + 1)),
        Err(ReceiptError::TooLarge(_))
    ));
    assert!(matches!(
        ConsentReceipt::parse(&text.replace(RECEIPT_FORMAT, "ra-consent-receipt-2")),
        Err(ReceiptError::Version(_))
    ));
    for cut in [0, 1, text.len() / 2, text.len() - 1] {
        assert!(matches!(
            ConsentReceipt::parse(&text[..cut]),
            Err(ReceiptError::Malformed(_))
        ));
    }
    // The same values spelt otherwise.
    let pretty =
        serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(&text).unwrap())
            .unwrap();
    assert!(matches!(
        ConsentReceipt::parse(&pretty),
        Err(ReceiptError::Malformed(_))
    ));
    // A receipt of an unknown extra field.
    let extra = text.replacen('{', "{\"x\":1,", 1);
    assert!(matches!(
        ConsentReceipt::parse(&extra),
        Err(ReceiptError::Malformed(_))
    ));
}
