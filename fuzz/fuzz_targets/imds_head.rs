//! The scan `serve` runs over a connection's bytes to refuse a repeated Content-Length: one
//! verdict per complete request head, in order, whatever the bytes and however they are split
//! into reads. Two modes: raw bytes (no panic, never more verdicts than blank lines), and a
//! pipeline of well-formed requests (exactly one right verdict per request).
#![no_main]

use awsenv::fuzzing::head_verdicts;
use libfuzzer_sys::arbitrary::{self, Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;

struct Pipeline {
    /// The bytes of every request, one after the other.
    bytes: Vec<u8>,
    /// For each request, whether its head repeats Content-Length.
    repeated: Vec<bool>,
    /// Where reads end.
    cuts: Vec<usize>,
}

fn token(u: &mut Unstructured, alphabet: &[u8], max: usize) -> arbitrary::Result<Vec<u8>> {
    let length = u.int_in_range(1..=max)?;
    (0..length).map(|_| u.choose(alphabet).copied()).collect()
}

impl<'a> Arbitrary<'a> for Pipeline {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let mut bytes = Vec::new();
        let mut repeated = Vec::new();
        for _ in 0..u.int_in_range(1..=6)? {
            let newline: &[u8] = if u.arbitrary()? { b"\r\n" } else { b"\n" };
            // Blank lines before a request line are allowed (RFC 9112 2.2).
            for _ in 0..u.int_in_range(0..=2)? {
                bytes.extend_from_slice(newline);
            }
            let method = u.choose(&["GET", "PUT", "HEAD", "POST"])?;
            let path = token(u, b"/abcz-_.?=%0", 40)?;
            bytes.extend_from_slice(format!("{method} /").as_bytes());
            bytes.extend_from_slice(&path);
            bytes.extend_from_slice(b" HTTP/1.1");
            bytes.extend_from_slice(newline);
            let body = if u.arbitrary()? { u.arbitrary::<&[u8]>()?.to_vec() } else { Vec::new() };
            let lengths = u.int_in_range(0..=3)?;
            let mut written = 0;
            for _ in 0..u.int_in_range(0..=4)? {
                if written < lengths && u.arbitrary()? {
                    let spelling = u.choose(&["Content-Length", "content-length", "CONTENT-LENGTH"])?;
                    let space = if u.arbitrary()? { " " } else { "" };
                    bytes.extend_from_slice(format!("{spelling}:{space}{}", body.len()).as_bytes());
                    written += 1;
                } else {
                    let name = token(u, b"abcxyz-XYZ", 20)?;
                    let value = token(u, b"abc 0123:;=/\t\"", 60)?;
                    bytes.extend_from_slice(&name);
                    bytes.extend_from_slice(b": ");
                    bytes.extend_from_slice(&value);
                }
                bytes.extend_from_slice(newline);
            }
            if written == 0 && !body.is_empty() {
                bytes.extend_from_slice(format!("Content-Length: {}", body.len()).as_bytes());
                bytes.extend_from_slice(newline);
                written = 1;
            }
            bytes.extend_from_slice(newline);
            bytes.extend_from_slice(&body);
            repeated.push(written > 1);
        }
        let mut cuts: Vec<usize> = (0..u.int_in_range(0..=8)?)
            .map(|_| u.int_in_range(0..=bytes.len()))
            .collect::<arbitrary::Result<_>>()?;
        cuts.sort_unstable();
        Ok(Self { bytes, repeated, cuts })
    }
}

fn chunks<'b>(bytes: &'b [u8], cuts: &[usize]) -> Vec<&'b [u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    for &cut in cuts.iter().chain(std::iter::once(&bytes.len())) {
        out.push(&bytes[start..cut]);
        start = cut;
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    if mode % 2 == 0 {
        let cuts: Vec<usize> = rest.iter().take(4).map(|&b| usize::from(b) * rest.len() / 256).collect();
        let mut sorted = cuts.clone();
        sorted.sort_unstable();
        let verdicts = head_verdicts(&chunks(rest, &sorted));
        let blank_lines = rest.windows(2).filter(|w| w == b"\n\n").count()
            + rest.windows(3).filter(|w| w == b"\n\r\n").count();
        assert!(verdicts.len() <= blank_lines, "{} verdicts for {blank_lines} blank lines", verdicts.len());
        return;
    }
    let Ok(pipeline) = Pipeline::arbitrary_take_rest(Unstructured::new(rest)) else { return };
    let verdicts = head_verdicts(&chunks(&pipeline.bytes, &pipeline.cuts));
    assert_eq!(verdicts, pipeline.repeated, "for {:?}", String::from_utf8_lossy(&pipeline.bytes));
});
