//! Files as the tests write and inspect them.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// A test path as text (they are all UTF-8).
pub fn path_str(path: &Path) -> &str {
    path.to_str().expect("utf-8 test path")
}

/// The permission bits of `path`, set-id and sticky bits included.
pub fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap_or_else(|e| panic!("stat {}: {e}", path.display())).permissions().mode()
        & 0o7777
}

/// Creates `path` (and its directory) with `text`, with the process's umask.
pub fn write_file(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// Creates the script `path` (and its directory) with `text`, mode 0755.
pub fn write_executable(path: &Path, text: &str) {
    write_file(path, text);
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}
