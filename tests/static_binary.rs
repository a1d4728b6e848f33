//! The release build of the README's install command (`--config .cargo/static-pie.toml`): a
//! static PIE with packed relative relocations and full RELRO, which must behave exactly as the
//! dynamic build. Each check runs both binaries, the test build (dynamic) and the static release
//! build, on the same input: host names through `/etc/hosts` and through DNS (NSS `files dns`),
//! TLS with `AWS_CA_BUNDLE`, `HTTPS_PROXY` and `NO_PROXY`, `HOME`, and the locale.
//!
//! The static binary is built here by cargo with the same configuration file the README names
//! (a no-op when it is current; CI's benchmark then reuses it). The checks that need a private
//! `/etc/hosts` or a DNS server of their own run this test binary again under
//! `unshare --mount --net`, as root: they fail, never skip, when that is impossible.
#![allow(clippy::disallowed_methods, reason = "tests read their own environment and clock")]
#![cfg(all(target_os = "linux", target_env = "gnu", target_arch = "x86_64"))]

mod common;

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use common::cache::cache_file;
use common::world::World;
use common::{Sandbox, assert_success, fresh_code, show, stderr, stdout};

/// Set in the environment of a test run again inside private namespaces: the test's name.
const NAMESPACE_VAR: &str = "AWSENV_TEST_IN_NAMESPACE";
/// Set beside it: the static binary, built by the outer run.
const STATIC_BINARY_VAR: &str = "AWSENV_TEST_STATIC_BINARY";

/// A name only the private `/etc/hosts` knows (`.test` is reserved: nothing real answers it).
const HOSTS_NAME: &str = "sts.hosts-file.awsenv.test";
/// A name only the test's DNS server knows.
const DNS_NAME: &str = "sts.dns.awsenv.test";

// ---------------------------------------------------------------------------
// The two binaries
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Build {
    /// The test build cargo made for this suite: dynamically linked.
    Dynamic,
    /// The release build with `.cargo/static-pie.toml`.
    Static,
}

const BOTH: [Build; 2] = [Build::Dynamic, Build::Static];

impl Build {
    fn path(self) -> &'static Path {
        match self {
            Build::Dynamic => Path::new(env!("CARGO_BIN_EXE_awsenv")),
            Build::Static => static_binary(),
        }
    }
}

/// The static release binary: built by the outer run with the README's configuration file (so
/// `cargo build --release` with it, a no-op when current), handed to an inner run by path.
fn static_binary() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| match std::env::var_os(STATIC_BINARY_VAR) {
        Some(path) => PathBuf::from(path),
        None => build_static_binary(),
    })
}

fn build_static_binary() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = manifest_dir.join(".cargo/static-pie.toml");
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args(["build", "--release", "--locked", "--message-format=json-render-diagnostics", "--config"])
        .arg(&config)
        .current_dir(manifest_dir)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit());
    // RUSTFLAGS would replace the file's flags (cargo's rule): build what the README's users get.
    for var in ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_BUILD_RUSTFLAGS", "CARGO_BUILD_TARGET"] {
        cmd.env_remove(var);
    }
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run cargo: {e}"));
    assert!(
        out.status.success(),
        "cargo build --release --config {} failed: {}",
        config.display(),
        out.status
    );
    let mut found = None;
    for line in stdout(&out).lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        if message["reason"] == "compiler-artifact"
            && message["target"]["name"] == "awsenv"
            && let Some(path) = message["executable"].as_str()
        {
            found = Some(PathBuf::from(path));
        }
    }
    let path = found.unwrap_or_else(|| panic!("cargo build named no awsenv executable\n{}", stdout(&out)));
    let host = format!("/{}/release/awsenv", host_triple());
    assert!(
        path.to_str().is_some_and(|p| p.ends_with(&host)),
        "the static build is under target/<host triple>/release: {}",
        path.display()
    );
    path
}

fn host_triple() -> String {
    let out =
        Command::new("rustc").arg("-vV").output().unwrap_or_else(|e| panic!("cannot run rustc -vV: {e}"));
    assert_success(&out);
    stdout(&out)
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .unwrap_or_else(|| panic!("rustc -vV names no host: {}", stdout(&out)))
        .to_owned()
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// `awsenv mfa --shell bash work` of `build`, with a code of its own, after forgetting the cached
/// session so that it calls STS. Extra variables in `env`; `None` removes one.
fn mfa(sb: &Sandbox, build: Build, env: &[(&str, Option<&str>)]) -> Output {
    let _ = fs::remove_file(cache_file(sb, "work"));
    let mut cmd = sb.command(build.path().to_str().expect("utf-8 path"));
    cmd.args(["mfa", "--shell", "bash", "work"])
        .env("AWSENV_MFA_CODE", fresh_code())
        .env("AWSENV_TIMEOUT", "10");
    for (name, value) in env {
        match value {
            Some(value) => cmd.env(name, value),
            None => cmd.env_remove(name),
        };
    }
    cmd.output().unwrap_or_else(|e| panic!("cannot run {}: {e}", build.path().display()))
}

/// An MFA session was printed and made with one GetSessionToken call (`tokens` counted before and
/// after).
#[track_caller]
fn assert_new_session(build: Build, out: &Output, tokens: (usize, usize)) {
    assert!(out.status.success(), "{build:?} awsenv mfa failed\n{}", show(out));
    let exports = stdout(out);
    assert!(exports.contains("export AWS_SESSION_TOKEN="), "{build:?}: a session is exported\n{}", show(out));
    assert!(exports.contains("export AWSENV_SESSION='mfa'\n"), "{build:?}: an MFA session\n{}", show(out));
    assert_eq!(tokens.1, tokens.0 + 1, "{build:?}: one GetSessionToken call at moto\n{}", show(out));
}

// ---------------------------------------------------------------------------
// The build itself
// ---------------------------------------------------------------------------

fn tool(program: &str, args: &[&str], file: &Path) -> String {
    let out = Command::new(program)
        .args(args)
        .arg(file)
        .env("LC_ALL", "C")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} (binutils/file must be installed): {e}"));
    assert_success(&out);
    stdout(&out)
}

#[test]
fn the_release_build_is_a_static_pie_with_relr_and_full_relro() {
    let binary = static_binary();
    let header = tool("readelf", &["-hW"], binary);
    assert!(header.contains("DYN (Position-Independent Executable file)"), "a PIE\n{header}");
    let segments = tool("readelf", &["-lW"], binary);
    assert!(!segments.contains("INTERP"), "no program interpreter: nothing runs before awsenv\n{segments}");
    assert!(segments.contains("GNU_RELRO"), "a RELRO segment\n{segments}");
    let dynamic = tool("readelf", &["-dW"], binary);
    assert!(!dynamic.contains("(NEEDED)"), "no shared library\n{dynamic}");
    assert!(dynamic.contains("(RELR)"), "packed relative relocations (DT_RELR)\n{dynamic}");
    let flags = |tag: &str| dynamic.lines().find(|l| l.contains(tag)).unwrap_or_default().to_owned();
    assert!(flags("(FLAGS)").contains("BIND_NOW"), "BIND_NOW: RELRO covers everything\n{dynamic}");
    let flags_1 = flags("(FLAGS_1)");
    assert!(flags_1.contains("NOW") && flags_1.contains("PIE"), "FLAGS_1 NOW PIE\n{dynamic}");
    let file = tool("file", &["-b"], binary);
    assert!(file.contains("static-pie linked"), "file(1) agrees\n{file}");
    assert!(
        file.contains("stripped") && !file.contains("not stripped"),
        "stripped (at the link: build.rs, for .cargo/static-pie.toml keeps the profile's symbols)\n{file}"
    );

    // Issues 13 and 15 ask for at most 8 MB (10^6 bytes). The build measures 7,685,896 bytes with
    // ring in place of aws-lc and the whole program at opt-level "s" (9,406,632 before).
    let size = fs::metadata(binary).expect("stat the static binary").len();
    assert!(size <= 8_000_000, "the stripped binary is at most 8 MB: {size} bytes");

    // And it runs: nothing before main needs a loader.
    let out = Command::new(binary).arg("--version").output().expect("run the static binary");
    assert_success(&out);
    assert!(stdout(&out).starts_with("awsenv "), "{}", show(&out));
}

// ---------------------------------------------------------------------------
// Host names: localhost, a private /etc/hosts, DNS
// ---------------------------------------------------------------------------

#[test]
fn mfa_reaches_localhost_through_the_hosts_file() {
    let World { moto, sb, .. } = World::start();
    let endpoint = format!("http://localhost:{}", moto.port());
    for build in BOTH {
        let before = moto.sts_token_count();
        let out = mfa(&sb, build, &[("AWS_ENDPOINT_URL", Some(&endpoint))]);
        assert_new_session(build, &out, (before, moto.sts_token_count()));
    }
}

/// Runs the test `name` again in new mount and network namespaces, where `/etc/hosts`,
/// `/etc/resolv.conf` and `/etc/nsswitch.conf` are the test's own (`hosts: files dns`, the DNS
/// server at 127.0.0.1) and only the loopback interface exists: nothing can leave the machine,
/// whatever the binaries resolve. Panics with the inner run's output unless its one test passed.
fn run_in_private_namespaces(name: &str) {
    let dir = tempfile::Builder::new().prefix("awsenv-ns-").tempdir().expect("create tempdir");
    let hosts = dir.path().join("hosts");
    let resolv = dir.path().join("resolv.conf");
    let nsswitch = dir.path().join("nsswitch.conf");
    fs::write(&hosts, format!("127.0.0.1 localhost\n::1 localhost ip6-localhost\n127.0.0.1 {HOSTS_NAME}\n"))
        .unwrap();
    fs::write(&resolv, "nameserver 127.0.0.1\noptions timeout:2 attempts:2\n").unwrap();
    fs::write(&nsswitch, "passwd: files\ngroup: files\nhosts: files dns\n").unwrap();
    let unshare = system_tool("unshare");
    let ip = system_tool("ip");
    let setup = r#"set -eu
"$IP" link set lo up
mount --bind "$1" /etc/hosts
mount --bind "$2" /etc/resolv.conf
mount --bind "$3" /etc/nsswitch.conf
shift 3
exec "$@""#;
    let test_binary = std::env::current_exe().expect("the test binary's path");
    let out = Command::new(unshare)
        .args(["--mount", "--net", "--propagation", "private", "--", "sh", "-c", setup, "sh"])
        .args([&hosts, &resolv, &nsswitch, &test_binary])
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env("IP", ip)
        .env(NAMESPACE_VAR, name)
        .env(STATIC_BINARY_VAR, static_binary())
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run unshare: {e}"));
    assert!(
        out.status.success() && stdout(&out).contains("test result: ok. 1 passed"),
        "{name} inside `unshare --mount --net` (needs root and namespaces; never skipped)\n{}",
        show(&out)
    );
}

fn system_tool(name: &str) -> PathBuf {
    ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        .iter()
        .map(|dir| Path::new(dir).join(name))
        .find(|path| path.is_file())
        .unwrap_or_else(|| panic!("{name} is not installed (util-linux/iproute2): these tests never skip"))
}

/// Whether this process is the inner run of test `name`.
fn inside_namespaces(name: &str) -> bool {
    std::env::var(NAMESPACE_VAR).is_ok_and(|value| value == name)
}

/// A DNS server on 127.0.0.1:53 (python's standard library only): it answers `name` with the A
/// record 127.0.0.1 (and no AAAA record), every other name with NXDOMAIN, and logs each question
/// as `name type` to a file.
struct DnsServer {
    child: Child,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

const DNS_SERVER: &str = r#"
import os, socket, struct, sys
name, log = os.environ['DNS_NAME'].lower(), os.environ['DNS_LOG']
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(('127.0.0.1', 53))
print('ready', flush=True)
while True:
    query, peer = sock.recvfrom(4096)
    ident, flags, qdcount = struct.unpack('>HHH', query[:6])
    if qdcount != 1:
        continue
    pos, labels = 12, []
    while query[pos]:
        labels.append(query[pos + 1:pos + 1 + query[pos]].decode('ascii', 'replace'))
        pos += 1 + query[pos]
    qtype, qclass = struct.unpack('>HH', query[pos + 1:pos + 5])
    question = query[12:pos + 5]
    asked = '.'.join(labels).lower()
    with open(log, 'a') as f:
        f.write('%s %d\n' % (asked, qtype))
    answer = b''
    if asked == name and qtype == 1 and qclass == 1:
        answer = b'\xc0\x0c' + struct.pack('>HHIH', 1, 1, 60, 4) + socket.inet_aton('127.0.0.1')
    rcode = 0 if asked == name else 3
    header = struct.pack('>HHHHHH', ident, 0x8080 | (flags & 0x0100) | rcode, 1, 1 if answer else 0, 0, 0)
    sock.sendto(header + question + answer, peer)
"#;

impl DnsServer {
    fn start(name: &str) -> DnsServer {
        let dir = tempfile::Builder::new().prefix("awsenv-dns-").tempdir().expect("create tempdir");
        let log = dir.path().join("questions.log");
        fs::write(&log, "").unwrap();
        let mut child = common::moto::python_command()
            .args(["-c", DNS_SERVER])
            .env("DNS_NAME", name)
            .env("DNS_LOG", &log)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the DNS server: {e}"));
        let mut ready = String::new();
        BufReader::new(child.stdout.take().expect("piped stdout")).read_line(&mut ready).unwrap();
        assert_eq!(ready.trim(), "ready", "the DNS server did not start on 127.0.0.1:53");
        DnsServer { child, log, _dir: dir }
    }

    /// The questions so far, as `name type` lines.
    fn questions(&self) -> Vec<String> {
        fs::read_to_string(&self.log).unwrap().lines().map(str::to_owned).collect()
    }

    fn asked_for(&self, name: &str) -> usize {
        self.questions().iter().filter(|q| q.starts_with(&format!("{name} "))).count()
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Inside the namespaces: moto on 127.0.0.1, reached as `http://NAME:PORT` by both binaries.
/// Returns the DNS server's questions about `name` per build.
fn mfa_through_name(name: &str) -> Vec<usize> {
    let dns = DnsServer::start(DNS_NAME);
    let World { moto, sb, .. } = World::start();
    let endpoint = format!("http://{name}:{}", moto.port());
    let mut questions = Vec::new();
    for build in BOTH {
        let (before, asked) = (moto.sts_token_count(), dns.asked_for(name));
        let out = mfa(&sb, build, &[("AWS_ENDPOINT_URL", Some(&endpoint))]);
        assert_new_session(build, &out, (before, moto.sts_token_count()));
        questions.push(dns.asked_for(name) - asked);
    }
    questions
}

#[test]
fn mfa_reaches_a_name_only_a_private_hosts_file_knows() {
    let test = "mfa_reaches_a_name_only_a_private_hosts_file_knows";
    if !inside_namespaces(test) {
        return run_in_private_namespaces(test);
    }
    // Found by NSS `files`, so DNS is never asked.
    assert_eq!(mfa_through_name(HOSTS_NAME), [0, 0], "no DNS question for a name in /etc/hosts");
}

#[test]
fn mfa_reaches_a_name_only_dns_knows() {
    let test = "mfa_reaches_a_name_only_dns_knows";
    if !inside_namespaces(test) {
        return run_in_private_namespaces(test);
    }
    // Not in /etc/hosts: NSS `dns` asks the server of resolv.conf, from either binary.
    let questions = mfa_through_name(DNS_NAME);
    assert!(questions.iter().all(|&n| n > 0), "each binary asked the DNS server: {questions:?}");
}

// ---------------------------------------------------------------------------
// TLS and proxies
// ---------------------------------------------------------------------------

/// An HTTP CONNECT proxy on 127.0.0.1 that counts the tunnels it opens, and opens them only to
/// loopback addresses.
struct ConnectProxy {
    port: u16,
    tunnels: Arc<AtomicUsize>,
    targets: Arc<Mutex<Vec<String>>>,
}

impl ConnectProxy {
    fn start() -> ConnectProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let port = listener.local_addr().unwrap().port();
        let tunnels = Arc::new(AtomicUsize::new(0));
        let targets = Arc::new(Mutex::new(Vec::new()));
        let (count, seen) = (tunnels.clone(), targets.clone());
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (count, seen) = (count.clone(), seen.clone());
                thread::spawn(move || tunnel(client, &count, &seen));
            }
        });
        ConnectProxy { port, tunnels, targets }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn tunnels(&self) -> usize {
        self.tunnels.load(Ordering::SeqCst)
    }
}

/// One proxied connection: `CONNECT host:port HTTP/1.1`, headers, then bytes both ways.
fn tunnel(mut client: TcpStream, count: &AtomicUsize, seen: &Mutex<Vec<String>>) {
    client.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match client.read(&mut byte) {
            Ok(1) if head.len() < 8192 => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut words = head.split_whitespace();
    let (Some("CONNECT"), Some(target)) = (words.next(), words.next()) else {
        let _ = client.write_all(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n");
        return;
    };
    seen.lock().unwrap().push(target.to_owned());
    let address = target.to_socket_addrs().ok().and_then(|mut a| a.find(|a| a.ip().is_loopback()));
    let Some(server) = address.and_then(|a| TcpStream::connect_timeout(&a, Duration::from_secs(5)).ok())
    else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
        return;
    };
    count.fetch_add(1, Ordering::SeqCst);
    if client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").is_err() {
        return;
    }
    let (mut client_in, mut server_out) = (client.try_clone().unwrap(), server.try_clone().unwrap());
    let upstream = thread::spawn(move || {
        let _ = std::io::copy(&mut client_in, &mut server_out);
        let _ = server_out.shutdown(Shutdown::Write);
    });
    let (mut server_in, mut client_out) = (server, client);
    let _ = std::io::copy(&mut server_in, &mut client_out);
    let _ = client_out.shutdown(Shutdown::Write);
    let _ = upstream.join();
}

#[test]
fn mfa_over_https_trusts_aws_ca_bundle_and_nothing_else() {
    let World { moto, sb, .. } = World::start_tls();
    let ca = moto.ca();
    let ca = ca.to_str().unwrap();
    // `localhost`: the name the certificate holds, resolved through /etc/hosts.
    let endpoint = moto.url().replace("127.0.0.1", "localhost");
    for build in BOTH {
        let before = moto.sts_token_count();
        let out = mfa(&sb, build, &[("AWS_ENDPOINT_URL", Some(&endpoint)), ("AWS_CA_BUNDLE", Some(ca))]);
        assert_new_session(build, &out, (before, moto.sts_token_count()));

        // Without the bundle the system roots (which do not hold the throw-away CA) refuse it.
        let started = Instant::now();
        let out = mfa(&sb, build, &[("AWS_ENDPOINT_URL", Some(&endpoint)), ("AWS_CA_BUNDLE", None)]);
        assert_eq!(
            out.status.code(),
            Some(6),
            "{build:?}: an untrusted certificate is exit 6\n{}",
            show(&out)
        );
        let line = stderr(&out).to_ascii_lowercase();
        assert!(
            ["certificate", "tls", "issuer"].iter().any(|word| line.contains(word)),
            "{build:?}: the line names the certificate\n{}",
            show(&out)
        );
        assert!(started.elapsed() < Duration::from_secs(10), "{build:?}: a refusal is not a timeout");
        assert_eq!(stdout(&out), "", "{build:?}: nothing on stdout\n{}", show(&out));
    }
}

#[test]
fn mfa_goes_through_https_proxy_unless_no_proxy_names_the_host() {
    let World { moto, sb, .. } = World::start_tls();
    let proxy = ConnectProxy::start();
    let ca = moto.ca();
    let ca = ca.to_str().unwrap();
    let endpoint = moto.url().replace("127.0.0.1", "localhost");
    let proxy_url = proxy.url();
    for build in BOTH {
        let via_proxy = [
            ("AWS_ENDPOINT_URL", Some(endpoint.as_str())),
            ("AWS_CA_BUNDLE", Some(ca)),
            ("HTTPS_PROXY", Some(proxy_url.as_str())),
            ("NO_PROXY", None),
        ];
        let (before, tunnels) = (moto.sts_token_count(), proxy.tunnels());
        let out = mfa(&sb, build, &via_proxy);
        assert_new_session(build, &out, (before, moto.sts_token_count()));
        assert_eq!(
            proxy.tunnels(),
            tunnels + 1,
            "{build:?}: one CONNECT tunnel through HTTPS_PROXY\n{}",
            show(&out)
        );

        let mut direct = via_proxy;
        direct[3] = ("NO_PROXY", Some("localhost"));
        let (before, tunnels) = (moto.sts_token_count(), proxy.tunnels());
        let out = mfa(&sb, build, &direct);
        assert_new_session(build, &out, (before, moto.sts_token_count()));
        assert_eq!(proxy.tunnels(), tunnels, "{build:?}: NO_PROXY=localhost goes direct\n{}", show(&out));
    }
    let targets = proxy.targets.lock().unwrap().clone();
    let expected = endpoint.trim_start_matches("https://");
    assert_eq!(targets, [expected, expected], "each binary tunnelled to the endpoint");
}

// ---------------------------------------------------------------------------
// HOME and the locale
// ---------------------------------------------------------------------------

/// The same command of both builds: the same status, stdout and stderr.
#[track_caller]
fn same_in_both(sb: &Sandbox, args: &[&str], env: &[(&str, Option<&str>)]) -> Output {
    let run = |build: Build| {
        let mut cmd = sb.command(build.path().to_str().unwrap());
        cmd.args(args);
        for (name, value) in env {
            match value {
                Some(value) => cmd.env(name, value),
                None => cmd.env_remove(name),
            };
        }
        cmd.output().unwrap()
    };
    let (dynamic, fixed) = (run(Build::Dynamic), run(Build::Static));
    assert_eq!(
        (dynamic.status.code(), stdout(&dynamic), stderr(&dynamic)),
        (fixed.status.code(), stdout(&fixed), stderr(&fixed)),
        "awsenv {args:?} with {env:?}: the static build differs from the dynamic one"
    );
    dynamic
}

#[test]
fn home_and_locale_are_read_as_in_the_dynamic_build() {
    let World { moto, sb, key } = World::start();
    let endpoint = moto.url();

    // HOME finds the store; a locale changes nothing (no translated text, no other separators).
    for locale in ["C", "C.UTF-8", "tr_TR.UTF-8", "de_DE.UTF-8", "no_SUCH.locale"] {
        let env = [("LANG", Some(locale)), ("LC_ALL", Some(locale))];
        let out = same_in_both(&sb, &["switch", "--shell", "bash", "work"], &env);
        assert_success(&out);
        assert!(stdout(&out).contains(&format!("export AWS_ACCESS_KEY_ID='{key}'\n")), "{}", show(&out));
        let out = same_in_both(&sb, &["accounts"], &env);
        assert_success(&out);
    }
    // Without HOME: the same one-line refusal; with AWSENV_DIR instead, the same success, and STS
    // is reached alike (neither awsenv nor the SDK asks the password database for a home).
    let out = same_in_both(&sb, &["switch", "--shell", "bash", "work"], &[("HOME", None)]);
    assert!(
        !out.status.success() && stderr(&out).contains("HOME is not set"),
        "no HOME, no store\n{}",
        show(&out)
    );
    let store = sb.store();
    let store = store.to_str().unwrap();
    let out = same_in_both(
        &sb,
        &["switch", "--shell", "bash", "work"],
        &[("HOME", None), ("AWSENV_DIR", Some(store))],
    );
    assert_success(&out);
    for build in BOTH {
        let before = moto.sts_token_count();
        let out = mfa(
            &sb,
            build,
            &[("HOME", None), ("AWSENV_DIR", Some(store)), ("AWS_ENDPOINT_URL", Some(&endpoint))],
        );
        assert_new_session(build, &out, (before, moto.sts_token_count()));
    }
    // A HOME elsewhere is followed: an empty one has no store.
    let elsewhere = sb.root().join("elsewhere");
    fs::create_dir(&elsewhere).unwrap();
    let out = same_in_both(&sb, &["switch", "--shell", "bash", "work"], &[("HOME", elsewhere.to_str())]);
    assert_eq!(out.status.code(), Some(3), "another HOME, another store\n{}", show(&out));
    let store_elsewhere = format!("{}/aws-creds/", elsewhere.display());
    assert!(stderr(&out).contains(&store_elsewhere), "the store under the new HOME\n{}", show(&out));
}

#[test]
fn the_static_binary_loads_a_pkcs11_module() {
    // glibc's dlopen from a static PIE: the module (SoftHSM2, itself linked to the system's libc
    // and libcrypto) must load, and list the token's certificates as the dynamic build does.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("static-pkcs11");
    let _ = fs::remove_dir_all(&dir);
    let fakes = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fakes");
    let out = Command::new("bash")
        .arg(fakes.join("make-softhsm.sh"))
        .arg(&dir)
        .stdin(Stdio::null())
        .output()
        .expect("run make-softhsm.sh");
    assert!(out.status.success(), "make-softhsm.sh failed:\n{}", stderr(&out));
    let conf = dir.join("softhsm2.conf");
    let args = [
        "read-certificate-data",
        "--certificate",
        "pkcs11:token=awsenv",
        "--pkcs11-lib",
        "/usr/lib/softhsm/libsofthsm2.so",
    ];
    let run = |binary: &Path| {
        let out = Command::new(binary).args(args).env("SOFTHSM2_CONF", &conf).output().expect("run awsenv");
        assert_success(&out);
        stdout(&out)
    };
    let from_static = run(static_binary());
    assert!(from_static.starts_with("Matching identities\n"), "{from_static}");
    assert!(from_static.contains("CN=awsenv-test-hsm-ec"), "{from_static}");
    assert_eq!(from_static, run(Path::new(env!("CARGO_BIN_EXE_awsenv"))), "both builds list the same");
}
