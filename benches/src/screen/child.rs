//! Child processes (ffmpeg, getconf) that never outlive the bench.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::Res;

/// A child process, killed (by its PID) and reaped when dropped.
pub(crate) struct ChildGuard {
    /// The process.
    pub(crate) child: Child,
}

impl ChildGuard {
    /// Spawns `command` under a guard.
    pub(crate) fn spawn(command: &mut Command) -> std::io::Result<ChildGuard> {
        Ok(ChildGuard {
            child: command.spawn()?,
        })
    }

    /// Waits up to `timeout` for the process to exit; kills it after that.
    pub(crate) fn wait_timeout(&mut self, timeout: Duration) -> Res<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status);
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                return Err("timed out; killed".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// Runs `command` to completion (at most `timeout`), returning its stdout.
pub(crate) fn run_to_string(command: &mut Command, timeout: Duration) -> Res<String> {
    let mut child = ChildGuard::spawn(
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null()),
    )?;
    let mut stdout = child.child.stdout.take().ok_or("no stdout")?;
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    child.wait_timeout(timeout)?;
    reader.join().map_err(|_| "reader thread panicked".into())
}
