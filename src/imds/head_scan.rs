//! The one framing check hyper leaves to the endpoint: a repeated Content-Length.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use super::MAX_HEAD;

/// Watches the bytes of a connection for one thing hyper accepts and this endpoint refuses: a
/// request head with the same Content-Length twice (hyper keeps one, as RFC 9112 allows; a server
/// that cannot be confused about framing refuses it). For each head it reads, in order, it queues
/// whether the head repeated the header; the service takes one verdict per request.
pub struct HeadScan<S> {
    inner: S,
    verdicts: Arc<Mutex<VecDeque<bool>>>,
    /// The current line of a head, lowercased (bounded: hyper refuses longer heads anyway).
    line: Vec<u8>,
    /// Content-Length headers seen in the current head, and the last value.
    lengths: usize,
    length: u64,
    /// Body bytes still to pass before the next head.
    body_left: u64,
    started: bool,
}

impl<S> HeadScan<S> {
    pub fn new(inner: S) -> (Self, Arc<Mutex<VecDeque<bool>>>) {
        let verdicts = Arc::new(Mutex::new(VecDeque::new()));
        let scan = Self {
            inner,
            verdicts: Arc::clone(&verdicts),
            line: Vec::new(),
            lengths: 0,
            length: 0,
            body_left: 0,
            started: false,
        };
        (scan, verdicts)
    }

    pub fn scan(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            if self.body_left > 0 {
                self.body_left -= 1;
                continue;
            }
            if byte != b'\n' {
                if self.line.len() < MAX_HEAD {
                    self.line.push(byte.to_ascii_lowercase());
                }
                continue;
            }
            let line = self.line.strip_suffix(b"\r").unwrap_or(&self.line);
            if line.is_empty() {
                if self.started {
                    self.verdicts.lock().unwrap_or_else(|e| e.into_inner()).push_back(self.lengths > 1);
                    self.body_left = self.length;
                    (self.lengths, self.length, self.started) = (0, 0, false);
                }
            } else if let Some(value) = line.strip_prefix(b"content-length:") {
                self.lengths += 1;
                let value = std::str::from_utf8(value).unwrap_or("").trim();
                self.length = value.parse().unwrap_or(0);
            } else {
                self.started = true;
            }
            self.line.clear();
        }
    }
}

impl<S: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for HeadScan<S> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let poll = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        let read = buf.filled()[before..].to_vec();
        self.scan(&read);
        poll
    }
}

impl<S: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for HeadScan<S> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        data: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.inner).poll_write(cx, data)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
