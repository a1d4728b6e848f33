//! `awsenv serve` as a test runs it, and HTTP/1.1 against it: well-formed requests whose answers
//! must be well framed ([`Conn`], [`request`]), and raw bytes ([`raw`]).

use std::io::{self, BufRead, BufReader, Read, Write};
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

    /// Its resident memory (VmRSS), in kB.
    pub fn rss_kb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no VmRSS in {status}"))
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

/// One HTTP/1.1 connection to `awsenv serve`, kept alive between requests.
pub struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Conn {
    pub fn open(port: u16) -> io::Result<Conn> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        stream.set_nodelay(true)?;
        Ok(Conn { reader: BufReader::new(stream.try_clone()?), writer: stream })
    }

    /// `METHOD PATH` with `headers` (and `Host: 127.0.0.1` unless they name a host); reads the
    /// answer, which must be framed as HTTP/1.1 says: `HTTP/1.1 NNN`, `Name: value` headers and a
    /// body of `Content-Length` bytes (none after a HEAD).
    pub fn send(&mut self, method: &str, path: &str, headers: &[(&str, &str)]) -> io::Result<Answer> {
        let mut request = format!("{method} {path} HTTP/1.1\r\n");
        if !headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("host")) {
            request.push_str("Host: 127.0.0.1\r\n");
        }
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        self.writer.write_all(request.as_bytes())?;
        let head = read_head(&mut self.reader)?;
        let bad = |what: String| io::Error::new(io::ErrorKind::InvalidData, what);
        let status = head
            .strip_prefix("HTTP/1.1 ")
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| bad(format!("bad status line in {head:?}")))?;
        if let Some(line) = head.lines().skip(1).find(|line| !line.contains(':')) {
            return Err(bad(format!("bad header {line:?}")));
        }
        let mut answer = Answer { status, head, body: Vec::new() };
        let length: usize = answer
            .header("content-length")
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| bad(format!("no Content-Length in {:?}", answer.head)))?;
        if method != "HEAD" {
            answer.body = vec![0; length];
            self.reader.read_exact(&mut answer.body)?;
        }
        Ok(answer)
    }
}

/// `METHOD PATH` with `headers` on a connection of its own (`Connection: close`), read as
/// [`Conn::send`] reads it. After a HEAD, whatever the server still sends is kept as the body it
/// must not have.
pub fn request(port: u16, method: &str, path: &str, headers: &[(&str, &str)]) -> Answer {
    let mut all = headers.to_vec();
    all.push(("Connection", "close"));
    let once = || -> io::Result<Answer> {
        let mut conn = Conn::open(port)?;
        let mut answer = conn.send(method, path, &all)?;
        if method == "HEAD" {
            answer.body = read_rest(&mut conn.reader)?;
        }
        Ok(answer)
    };
    once().unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

/// Sends `request` (raw bytes, possibly malformed) on a new connection and reads one answer,
/// whatever its framing: any status line, a body of `Content-Length` bytes if it says so;
/// `head_only` for HEAD.
pub fn raw(port: u16, request: &[u8], head_only: bool) -> io::Result<Answer> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.write_all(request)?;
    let mut reader = BufReader::new(stream);
    let head = read_head(&mut reader)?;
    let bad = || io::Error::new(io::ErrorKind::InvalidData, format!("bad answer head {head:?}"));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or_else(bad)?;
    let mut answer = Answer { status, head, body: Vec::new() };
    let length: usize = answer.header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    if !head_only {
        answer.body = vec![0; length];
        reader.read_exact(&mut answer.body)?;
    } else {
        answer.body = read_rest(&mut reader)?;
    }
    Ok(answer)
}

/// The status line and headers, up to the empty line (or the end of the stream).
fn read_head(reader: &mut BufReader<TcpStream>) -> io::Result<String> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            return Ok(head);
        }
        head.push_str(&line);
    }
}

/// Whatever follows on the stream within 300 ms (a body a HEAD answer must not have).
fn read_rest(reader: &mut BufReader<TcpStream>) -> io::Result<Vec<u8>> {
    reader.get_ref().set_read_timeout(Some(Duration::from_millis(300)))?;
    let mut rest = Vec::new();
    let _ = reader.read_to_end(&mut rest);
    Ok(rest)
}

pub const TOKEN_PATH: &str = "/latest/api/token";
pub const CREDS_PATH: &str = "/latest/meta-data/iam/security-credentials/";
pub const TTL_HEADER: &str = "X-aws-ec2-metadata-token-ttl-seconds";
pub const TOKEN_HEADER: &str = "X-aws-ec2-metadata-token";
