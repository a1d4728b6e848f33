//! `awsenv serve` as a test runs it, and raw HTTP/1.1 against it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::Duration;

use super::process::detach;

/// `awsenv serve` running in the background, killed on drop; its stderr is collected.
pub struct Serve {
    child: Child,
    pub port: u16,
    log: Arc<Mutex<String>>,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Serve {
    /// Starts `cmd` (an `awsenv serve ... --port 0` command) and waits for it to announce its port.
    pub fn start(cmd: &mut Command) -> Serve {
        cmd.stdout(Stdio::null()).stderr(Stdio::piped());
        let mut child = detach(cmd).spawn().expect("spawn awsenv serve");
        let err = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let log_writer = Arc::clone(&log);
        thread::spawn(move || {
            let mut tx = Some(tx);
            let mut reader = BufReader::new(err);
            let mut line = Vec::new();
            while reader.read_until(b'\n', &mut line).unwrap_or(0) > 0 {
                let text = String::from_utf8_lossy(&line).into_owned();
                log_writer.lock().unwrap().push_str(&text);
                let port = text
                    .trim_end()
                    .strip_prefix("awsenv: serving ")
                    .and_then(|rest| rest.split_once(" on http://127.0.0.1:"))
                    .and_then(|(_, rest)| rest.strip_suffix('/'))
                    .and_then(|port| port.parse::<u16>().ok());
                if let Some(port) = port
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(port);
                }
                line.clear();
            }
        });
        let mut server = Serve { child, port: 0, log };
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(port) => server.port = port,
            Err(_) => {
                let status = server.child.try_wait().unwrap();
                panic!("awsenv serve did not announce a port (status {status:?}):\n{}", server.log());
            }
        }
        server
    }

    /// Everything it wrote on stderr so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

/// An HTTP answer as read off the wire.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends `request` (raw bytes) on a new connection and reads one answer; `head_only` for HEAD.
pub fn raw(port: u16, request: &[u8], head_only: bool) -> std::io::Result<Answer> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.write_all(request)?;
    let mut reader = BufReader::new(stream);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        if line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, format!("bad answer head {head:?}"));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or_else(bad)?;
    let mut answer = Answer { status, head, body: Vec::new() };
    let length: usize = answer.header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    if !head_only {
        answer.body = vec![0; length];
        reader.read_exact(&mut answer.body)?;
    } else {
        // Whatever follows the head of a HEAD answer would be a body it must not have.
        reader.get_ref().set_read_timeout(Some(Duration::from_millis(300)))?;
        let mut rest = Vec::new();
        let _ = reader.read_to_end(&mut rest);
        answer.body = rest;
    }
    Ok(answer)
}

/// `METHOD PATH` with `Host: host` and `headers`, on its own connection.
pub fn request(port: u16, method: &str, path: &str, host: &str, headers: &[(&str, &str)]) -> Answer {
    let mut text = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    raw(port, text.as_bytes(), method == "HEAD").unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

pub const TOKEN_PATH: &str = "/latest/api/token";
pub const CREDS_PATH: &str = "/latest/meta-data/iam/security-credentials/";
pub const TTL_HEADER: &str = "X-aws-ec2-metadata-token-ttl-seconds";
pub const TOKEN_HEADER: &str = "X-aws-ec2-metadata-token";
