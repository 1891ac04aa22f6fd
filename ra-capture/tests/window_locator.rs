//! The X11 window locator on a private Xvfb: windows found by class (instance
//! or class name, without case) where they are, followed as they move; other
//! and unmapped windows left out.
#![cfg(target_os = "linux")]
#![allow(missing_docs)]

use ra_capture::x11::X11WindowLocator;
use ra_capture::xvfb::{XClient, Xvfb};
use ra_core::media::{Rect, WindowLocator};

#[test]
fn windows_are_found_by_class_where_they_are() {
    let xvfb = Xvfb::start(640, 480).unwrap();
    let client = XClient::connect(&xvfb.display()).unwrap();
    let secret = client
        .create_window(Rect::new(10, 20, 100, 50), 0xff_00_ff, "ra-secret")
        .unwrap();
    client
        .create_window(Rect::new(300, 300, 40, 40), 0x00_ff_00, "other")
        .unwrap();
    let mut locator = X11WindowLocator::connect(Some(&xvfb.display())).unwrap();
    let classes = vec!["RA-SECRET".to_owned()];
    assert_eq!(
        locator.locate(&classes).unwrap(),
        vec![Rect::new(10, 20, 100, 50)]
    );
    client.move_window(secret, 200, 100).unwrap();
    assert_eq!(
        locator.locate(&classes).unwrap(),
        vec![Rect::new(200, 100, 100, 50)]
    );
    assert_eq!(locator.locate(&[]).unwrap(), vec![]);
    assert_eq!(locator.locate(&["nothing".to_owned()]).unwrap(), vec![]);
}
