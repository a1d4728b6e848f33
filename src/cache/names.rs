//! Cache file names: an injective, case-safe function of the account and the slot, bounded in
//! length, and the names versions before 0.2 used.

/// A name as part of a file name: lowercase letters, digits, `_` and `-` as they are, an uppercase
/// letter as `^` and its lowercase, any other byte as `%` and two hex digits. Injective, free of
/// `.` (which separates the parts of a name) and of uppercase (which a case-insensitive file
/// system would fold).
pub fn file_key(text: &str) -> String {
    let mut key = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' => key.push(byte as char),
            b'A'..=b'Z' => {
                key.push('^');
                key.push(byte.to_ascii_lowercase() as char);
            }
            _ => key.push_str(&format!("%{byte:02x}")),
        }
    }
    key
}

/// The name `file_key` made `key` from; `None` for a key it cannot have made (a shortened name).
pub fn name_of_key(key: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(key.len());
    let mut rest = key.bytes();
    while let Some(byte) = rest.next() {
        match byte {
            b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' => bytes.push(byte),
            b'^' => bytes.push(rest.next().filter(u8::is_ascii_lowercase)?.to_ascii_uppercase()),
            b'%' => {
                let hex = [rest.next()?, rest.next()?];
                bytes.push(u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?);
            }
            _ => return None,
        }
    }
    String::from_utf8(bytes).ok()
}

/// Names longer than a file system takes are shortened to a prefix and a hash of the whole, marked
/// with `~`, which `file_key` never writes.
pub fn bounded_name(name: String) -> String {
    const MAX: usize = 200;
    if name.len() <= MAX {
        return name;
    }
    let mut cut = 100;
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}~{:032x}", &name[..cut], fnv1a_128(name.as_bytes()))
}

/// FNV-1a, 128 bits: stable across versions and platforms, unlike std's hasher.
fn fnv1a_128(bytes: &[u8]) -> u128 {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013B;
    bytes.iter().fold(OFFSET, |hash, &byte| (hash ^ u128::from(byte)).wrapping_mul(PRIME))
}

/// The account id and the last part of an ARN (a role's, an MFA device's).
pub(super) fn arn_parts(arn: &str) -> (&str, &str) {
    let account_id = arn.split(':').nth(4).unwrap_or("");
    (account_id, arn.rsplit('/').next().unwrap_or(arn))
}

/// How versions before 0.2 named a role's file: `ACCOUNTID.NAME` with unsafe characters as `_`.
pub(super) fn legacy_arn_key(arn: &str) -> String {
    let (account_id, name) = arn_parts(arn);
    let safe = |c: char| c.is_ascii_alphanumeric() || "+=,@_-.".contains(c);
    format!("{account_id}.{name}").chars().map(|c| if safe(c) { c } else { '_' }).collect()
}
