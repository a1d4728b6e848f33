//! One driver for the tests that type into a real terminal: a tmux server on a socket of its own,
//! run with exactly the environment it is given and killed (its socket file removed) when its last
//! pane is dropped; panes in it running a shell; keys typed, the screen read back, and commands run
//! with their exit status echoed after them.

use std::cell::{Cell, RefCell};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::script::status_var;
use super::{Sandbox, Shell, show, stdout};

/// How long one step may take unless a test says otherwise; a timeout means something hangs.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(30);

/// Calls `probe` every 50 ms until it gives `Ok`, for at most `timeout`; its last `Err` otherwise.
pub fn poll<T, E>(timeout: Duration, mut probe: impl FnMut() -> Result<T, E>) -> Result<T, E> {
    let deadline = Instant::now() + timeout;
    loop {
        let result = probe();
        if result.is_ok() || Instant::now() >= deadline {
            return result;
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// A tmux server that starts with its first session. Configure it, then open panes with
/// [`Tmux::session`] or [`Tmux::shell`]; the panes keep it alive.
pub struct Tmux {
    server: Rc<Server>,
}

struct Server {
    program: PathBuf,
    socket: String,
    env: Vec<(String, String)>,
    cwd: Option<PathBuf>,
    config: PathBuf,
    /// Holds the config file, when there is one.
    dir: Option<TempDir>,
    timeout: Duration,
    /// The socket file, removed on drop (kill-server leaves it behind).
    socket_path: RefCell<Option<PathBuf>>,
}

impl Tmux {
    /// `tmux` as found on the PATH of `env`, with exactly `env`, no config file (panes get tmux's
    /// default TERM, `screen`).
    pub fn new(env: Vec<(String, String)>) -> Tmux {
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let socket = format!("awsenv-tmux-{}-{}", std::process::id(), SEQ.fetch_add(1, Ordering::SeqCst));
        let server = Server {
            program: PathBuf::from("tmux"),
            socket,
            env,
            cwd: None,
            config: PathBuf::from("/dev/null"),
            dir: None,
            timeout: STEP_TIMEOUT,
            socket_path: RefCell::new(None),
        };
        Tmux { server: Rc::new(server) }
    }

    /// The sandbox's environment, in its HOME.
    pub fn in_sandbox(sb: &Sandbox) -> Tmux {
        Tmux::new(sb.env()).current_dir(sb.home())
    }

    fn configure(mut self, change: impl FnOnce(&mut Server)) -> Tmux {
        change(Rc::get_mut(&mut self.server).expect("tmux is configured before its first pane"));
        self
    }

    /// Runs `program` instead of the `tmux` on the PATH.
    pub fn program(self, program: &Path) -> Tmux {
        self.configure(|s| s.program = program.to_path_buf())
    }

    /// The directory tmux (and so each pane's shell) starts in.
    pub fn current_dir(self, dir: &Path) -> Tmux {
        self.configure(|s| s.cwd = Some(dir.to_path_buf()))
    }

    /// The sandbox's own XDG directories ([`Sandbox::xdg_env`]) for every pane.
    pub fn xdg(self, sb: &Sandbox) -> Tmux {
        let vars = sb.xdg_env();
        self.configure(|s| {
            s.env.retain(|(k, _)| !vars.iter().any(|(v, _)| v == k));
            s.env.extend(vars);
        })
    }

    /// Panes with TERM=xterm-256color (and 20000 lines of history), as a user's terminal has.
    pub fn xterm(self) -> Tmux {
        let dir = tempfile::Builder::new().prefix("awsenv-tmux-").tempdir().expect("create tmux tempdir");
        let config = dir.path().join("tmux.conf");
        fs::write(&config, "set -g default-terminal xterm-256color\nset -g history-limit 20000\n")
            .expect("write tmux.conf");
        self.configure(|s| {
            s.config = config;
            s.dir = Some(dir);
        })
    }

    /// How long [`Pane::wait`] waits (30 s unless set).
    pub fn timeout(self, timeout: Duration) -> Tmux {
        self.configure(|s| s.timeout = timeout)
    }

    /// A new session `name` of `cols`x`rows` running `argv`, once its program has drawn something
    /// (keys typed before the shell reads its terminal may be thrown away). `shell` says how its
    /// commands report their status.
    pub fn session(&self, name: &str, (cols, rows): (u16, u16), shell: Shell, argv: &[&str]) -> Pane {
        let (cols, rows) = (cols.to_string(), rows.to_string());
        let mut args = vec!["new-session", "-d", "-x", &cols, "-y", &rows, "-s", name, "--"];
        args.extend_from_slice(argv);
        self.server.run(&args);
        if self.server.socket_path.borrow().is_none() {
            let path = self.server.run(&["display-message", "-p", "#{socket_path}"]);
            *self.server.socket_path.borrow_mut() = Some(PathBuf::from(path.trim_end()));
        }
        let pane = Pane {
            server: Rc::clone(&self.server),
            target: name.to_owned(),
            shell: Cell::new(shell),
            tags: Cell::new(0),
        };
        pane.wait("the first prompt", |screen| !screen.trim().is_empty());
        pane
    }

    /// `shell` without startup files in session `name`, 200x50.
    pub fn shell(&self, name: &str, shell: Shell) -> Pane {
        shell.require();
        let mut argv = vec![shell.name()];
        argv.extend_from_slice(shell.no_rc_flags());
        self.session(name, (200, 50), shell, &argv)
    }
}

impl Server {
    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .arg("-u")
            .arg("-L")
            .arg(&self.socket)
            .arg("-f")
            .arg(&self.config)
            .stdin(Stdio::null());
        if let Some(cwd) = &self.cwd {
            cmd.current_dir(cwd);
        }
        cmd
    }

    #[track_caller]
    fn run(&self, args: &[&str]) -> String {
        let out = self.command().args(args).output().unwrap_or_else(|e| {
            panic!("cannot run {} ({e}); install tmux — these tests never skip", self.program.display())
        });
        assert!(out.status.success(), "tmux {args:?}: {}", show(&out));
        stdout(&out)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.command().arg("kill-server").output();
        if let Some(path) = self.socket_path.get_mut() {
            let _ = fs::remove_file(path);
        }
    }
}

/// A pane of a [`Tmux`] server, running a shell.
pub struct Pane {
    server: Rc<Server>,
    target: String,
    shell: Cell<Shell>,
    tags: Cell<usize>,
}

impl Pane {
    /// The shell whose syntax commands are typed in.
    pub fn shell(&self) -> Shell {
        self.shell.get()
    }

    /// Another shell now reads the terminal (one the first started).
    pub fn set_shell(&self, shell: Shell) {
        self.shell.set(shell);
    }

    /// The session's name, for tmux's `-t`.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Runs a tmux command on this pane's server; returns its stdout.
    #[track_caller]
    pub fn tmux(&self, args: &[&str]) -> String {
        self.server.run(args)
    }

    /// Presses `keys` (tmux key names such as `Enter`, `C-c`, or `-l` and text).
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.target];
        args.extend_from_slice(keys);
        self.server.run(&args);
    }

    /// Types `text` as it is.
    pub fn type_text(&self, text: &str) {
        self.keys(&["-l", "--", text]);
    }

    /// Types `text` and Enter.
    pub fn type_line(&self, text: &str) {
        self.type_text(text);
        self.keys(&["Enter"]);
    }

    /// `capture-pane -p` of this pane with `flags`.
    pub fn capture(&self, flags: &[&str]) -> String {
        let mut args = vec!["capture-pane", "-p", "-t", &self.target];
        args.extend_from_slice(flags);
        self.server.run(&args)
    }

    /// The pane and its history as text, wrapped lines joined, trailing spaces kept.
    pub fn screen(&self) -> String {
        self.capture(&["-J", "-N", "-S", "-"])
    }

    /// The same with colours as escape sequences.
    pub fn coloured_screen(&self) -> String {
        self.capture(&["-e", "-J", "-N", "-S", "-"])
    }

    /// What the pane shows now, line by line as drawn.
    pub fn visible_screen(&self) -> String {
        self.capture(&[])
    }

    /// The line the cursor is on, without trailing blanks.
    pub fn cursor_line(&self) -> String {
        let y: usize = self
            .server
            .run(&["display-message", "-p", "-t", &self.target, "#{cursor_y}"])
            .trim()
            .parse()
            .unwrap_or(0);
        self.visible_screen().lines().nth(y).unwrap_or("").trim_end().to_owned()
    }

    /// Polls the screen until `done(screen)`, for the server's timeout; returns that screen.
    #[track_caller]
    pub fn wait(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        self.wait_for(what, self.server.timeout, done)
    }

    /// The same for at most `timeout`.
    #[track_caller]
    pub fn wait_for(&self, what: &str, timeout: Duration, done: impl Fn(&str) -> bool) -> String {
        let shell = self.shell();
        poll(timeout, || {
            let screen = self.screen();
            if done(&screen) { Ok(screen) } else { Err(screen) }
        })
        .unwrap_or_else(|screen| panic!("[{shell}] timed out waiting for {what}; the pane shows:\n{screen}"))
    }

    /// A number not used before in this pane, to tell one command's markers from another's.
    pub fn next_tag(&self) -> usize {
        let n = self.tags.get() + 1;
        self.tags.set(n);
        n
    }

    /// Types `command` followed by an echo of its status; returns the marker's number.
    pub fn start_command(&self, command: &str) -> usize {
        let n = self.next_tag();
        // Split in the typed line, so that only the echo's output matches.
        self.type_line(&format!("{command}; echo \"EX\"\"IT-{n}:{}\"", status_var(self.shell())));
        n
    }

    /// Waits for command `n` to end: its status, what it printed (the lines between the typed
    /// line and the status), and the pane.
    #[track_caller]
    pub fn finish(&self, n: usize) -> (i32, String, String) {
        let marker = format!("EXIT-{n}:");
        let screen =
            self.wait(&format!("the end of command {n}"), |s| s.lines().any(|l| l.starts_with(&marker)));
        let lines: Vec<&str> = screen.lines().collect();
        let end = lines.iter().position(|l| l.starts_with(&marker)).expect("marker line");
        let typed = format!("\"EX\"\"IT-{n}:");
        let start = lines[..end].iter().rposition(|l| l.contains(&typed)).map_or(0, |i| i + 1);
        let output = lines[start..end].iter().map(|l| l.trim_end()).collect::<Vec<_>>().join("\n");
        let code = lines[end][marker.len()..]
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("bad status line {:?}", lines[end]));
        (code, output, screen)
    }

    /// Runs `command` and returns its status, its output and the pane.
    #[track_caller]
    pub fn run(&self, command: &str) -> (i32, String, String) {
        let n = self.start_command(command);
        self.finish(n)
    }

    /// Runs `command`, which must succeed; returns its output.
    #[track_caller]
    pub fn ok(&self, command: &str) -> String {
        let (code, output, screen) = self.run(command);
        assert_eq!(code, 0, "[{}] `{command}` failed; the pane shows:\n{screen}", self.shell());
        output
    }

    /// Echoes `expression` (in the shell's double quotes) and returns what it printed.
    #[track_caller]
    pub fn vars(&self, expression: &str) -> String {
        let n = self.next_tag();
        let marker = format!("VARS-{n}:");
        self.type_line(&format!("echo \"VA\"\"RS-{n}:{expression}\""));
        let screen = self.wait("the echoed variables", |s| s.lines().any(|l| l.starts_with(&marker)));
        let line = screen.lines().find(|l| l.starts_with(&marker)).expect("a VARS line");
        line[marker.len()..].trim_end().to_owned()
    }
}
