//! Running processes in tests: detached from the terminal, with a time limit, output collected.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Starts `cmd` in a new session with stdin null: no controlling terminal, nobody to ask.
pub fn detach(cmd: &mut Command) -> &mut Command {
    // SAFETY: setsid() is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.stdin(Stdio::null())
}

/// A child whose output is being collected; killed if dropped unfinished.
pub struct Running {
    child: Option<Child>,
    out: Option<thread::JoinHandle<Vec<u8>>>,
    err: Option<thread::JoinHandle<Vec<u8>>>,
    what: String,
}

pub fn spawn_captured(cmd: &mut Command) -> Running {
    let what = format!("{cmd:?}");
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    let drain = |mut r: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            buf
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    Running { child: Some(child), out: Some(out), err: Some(err), what }
}

impl Running {
    pub fn id(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// Whether it has ended (without collecting its output).
    pub fn exited(&mut self) -> bool {
        self.child.as_mut().unwrap().try_wait().unwrap().is_some()
    }

    /// Waits at most `limit`; panics (after killing it) with its output when it runs longer.
    pub fn finish(mut self, limit: Duration) -> Output {
        let mut child = self.child.take().unwrap();
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            thread::sleep(Duration::from_millis(25));
        };
        let out = self.out.take().unwrap().join().unwrap();
        let err = self.err.take().unwrap().join().unwrap();
        match status {
            Some(status) => Output { status, stdout: out, stderr: err },
            None => panic!(
                "{} still ran after {limit:?}; killed\n--- stdout ---\n{}\n--- stderr ---\n{}",
                self.what,
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&err)
            ),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Runs `cmd` detached and returns its output; panics if it takes longer than `limit`.
pub fn output_within(cmd: &mut Command, limit: Duration) -> Output {
    spawn_captured(detach(cmd)).finish(limit)
}
