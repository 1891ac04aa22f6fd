//! Raw datagrams on a peer's socket and at the relay (probe, bind, their
//! answers): what decodes encodes back to the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ra_core::relay::RawDatagram;

fuzz_target!(|data: &[u8]| {
    if let Some(datagram) = RawDatagram::decode(data) {
        let bytes = datagram.encode();
        assert_eq!(RawDatagram::decode(&bytes), Some(datagram));
    }
});
