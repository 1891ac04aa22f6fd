//! Desktops without the APIs: a session bus with neither GNOME's mutter nor
//! a portal on it (a private `dbus-daemon` that activates nothing) gives
//! `Unavailable` for both ways of opening a session, at once, not a hang;
//! an unreachable bus gives `Bus`.
#![cfg(target_os = "linux")]
#![allow(missing_docs)]

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ra_wayland::mutter::{MutterOptions, MutterSession};
use ra_wayland::portal::{PortalOptions, PortalSession};
use ra_wayland::{SessionError, WaylandEnv};

/// A private session bus that knows no service (no activation directories).
struct EmptyBus {
    daemon: Child,
    address: String,
    dir: tempfile::TempDir,
}

impl EmptyBus {
    fn start() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let config = dir.path().join("bus.conf");
        std::fs::write(
            &config,
            format!(
                "<busconfig><type>session</type><listen>unix:dir={}</listen>\
                 <auth>EXTERNAL</auth><policy context=\"default\">\
                 <allow send_destination=\"*\" eavesdrop=\"true\"/><allow eavesdrop=\"true\"/>\
                 <allow own=\"*\"/></policy></busconfig>",
                dir.path().display()
            ),
        )
        .expect("bus configuration");
        let mut daemon = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (package dbus)");
        let mut address = String::new();
        BufReader::new(daemon.stdout.take().expect("piped"))
            .read_line(&mut address)
            .expect("the bus's address");
        EmptyBus {
            daemon,
            address: address.trim().to_owned(),
            dir,
        }
    }

    fn env(&self) -> WaylandEnv {
        WaylandEnv {
            bus_address: Some(self.address.clone()),
            runtime_dir: Some(self.dir.path().to_owned()),
            wayland_display: None,
        }
    }
}

impl Drop for EmptyBus {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

#[test]
fn no_mutter_and_no_portal_are_clear_errors() {
    let bus = EmptyBus::start();
    let started = Instant::now();
    let mutter = MutterSession::open(&MutterOptions {
        env: bus.env(),
        ..MutterOptions::default()
    });
    match mutter {
        Err(error @ SessionError::Unavailable { .. }) => {
            assert_eq!(
                error.to_string(),
                "the desktop does not offer org.gnome.Mutter.RemoteDesktop"
            );
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    let portal = PortalSession::open(&PortalOptions {
        env: bus.env(),
        ..PortalOptions::default()
    });
    match portal {
        Err(error @ SessionError::Unavailable { .. }) => {
            assert_eq!(
                error.to_string(),
                "the desktop does not offer org.freedesktop.portal.Desktop"
            );
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "answered at once"
    );
    // Not a Wayland session either.
    assert!(!bus.env().is_wayland());
}

#[test]
fn an_unreachable_bus_is_a_bus_error() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let env = WaylandEnv {
        bus_address: Some(format!("unix:path={}/nobody", dir.path().display())),
        ..WaylandEnv::default()
    };
    let result = MutterSession::open(&MutterOptions {
        env,
        ..MutterOptions::default()
    });
    assert!(
        matches!(result, Err(SessionError::Bus(_))),
        "expected Bus, got {result:?}"
    );
}
