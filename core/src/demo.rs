//! The Chinook demo database, shipped inside the crate so that the engine runs with no
//! configuration from any directory.
//!
//! On first use the bytes are written to a cache folder (`$XDG_CACHE_HOME` or `~/.cache`, then
//! `heliosdb-conversational-bi/`) and made read-only; later uses find the file in place. A file
//! whose content differs (an older version, a partial write) is replaced.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// The Chinook SQLite database (lerocha/chinook-database 1.4.5, MIT licence).
pub static CHINOOK_SQLITE: &[u8] = include_bytes!("../../examples/chinook/chinook.sqlite");

/// The folder the demo database is written to.
pub fn cache_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".cache"))
        })
        .unwrap_or_else(std::env::temp_dir);
    base.join("heliosdb-conversational-bi")
}

/// Writes the demo database to the cache folder if needed and returns its path.
pub fn chinook_path() -> Result<PathBuf> {
    write_demo(&cache_dir())
}

/// The `sqlite://` URL of the demo database, opened read-only.
pub fn chinook_url() -> Result<String> {
    Ok(format!("sqlite://{}?mode=ro", chinook_path()?.display()))
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

fn write_demo(dir: &Path) -> Result<PathBuf> {
    let want = digest(CHINOOK_SQLITE);
    let path = dir.join(format!("chinook-{}.sqlite", hex8(&want)));
    if std::fs::read(&path).is_ok_and(|bytes| digest(&bytes) == want) {
        return Ok(path);
    }
    let io = |what: &str, e: std::io::Error| {
        Error::internal(format!(
            "cannot {what} the demo database in {}: {e}",
            dir.display()
        ))
    };
    std::fs::create_dir_all(dir).map_err(|e| io("create the folder for", e))?;
    // Write to a private temporary name and rename, so that a concurrent first use never sees a
    // partial file. The name is private to this call, not only to this process: two threads of
    // one process writing the same file would rename it from under each other.
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let tmp = dir.join(format!(
        ".chinook-{}-{}-{}.tmp",
        std::process::id(),
        WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        hex8(&want)
    ));
    std::fs::write(&tmp, CHINOOK_SQLITE).map_err(|e| io("write", e))?;
    let mut perms = std::fs::metadata(&tmp)
        .map_err(|e| io("stat", e))?
        .permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(&tmp, perms).map_err(|e| io("protect", e))?;
    if path.exists() {
        // A stale or damaged copy: make it writable so that it can be replaced.
        if let Ok(meta) = std::fs::metadata(&path) {
            let mut p = meta.permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            p.set_readonly(false);
            let _ = std::fs::set_permissions(&path, p);
        }
    }
    std::fs::rename(&tmp, &path).map_err(|e| io("install", e))?;
    Ok(path)
}

fn hex8(d: &[u8; 32]) -> String {
    d[..4].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_is_written_once_read_only_and_repaired() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write_demo(dir.path()).expect("written");
        assert_eq!(
            std::fs::read(&path).expect("read").len(),
            CHINOOK_SQLITE.len()
        );
        assert!(
            std::fs::metadata(&path)
                .expect("meta")
                .permissions()
                .readonly()
        );
        let again = write_demo(dir.path()).expect("found");
        assert_eq!(path, again);

        // A damaged copy is replaced.
        let mut p = std::fs::metadata(&path).expect("meta").permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        p.set_readonly(false);
        std::fs::set_permissions(&path, p).expect("chmod");
        std::fs::write(&path, b"garbage").expect("damage");
        let repaired = write_demo(dir.path()).expect("repaired");
        assert_eq!(std::fs::read(&repaired).expect("read"), CHINOOK_SQLITE);
    }

    #[test]
    fn threads_of_one_process_may_write_it_at_once() {
        for _ in 0..5 {
            let dir = tempfile::tempdir().expect("tempdir");
            let writers: Vec<_> = (0..8)
                .map(|_| {
                    let dir = dir.path().to_path_buf();
                    std::thread::spawn(move || write_demo(&dir))
                })
                .collect();
            for writer in writers {
                let path = writer.join().expect("thread").expect("written");
                assert_eq!(std::fs::read(&path).expect("read"), CHINOOK_SQLITE);
            }
        }
    }

    #[test]
    fn demo_bytes_are_a_sqlite_database() {
        assert!(CHINOOK_SQLITE.starts_with(b"SQLite format 3\0"));
    }
}
