//! The lock that keeps a state directory to one watcher at a time.
//!
//! An advisory lock (`flock` on Unix, `LockFileEx` on Windows) on the file
//! `lock` in the directory, held for as long as the [`DurableWatcher`]
//! lives. The operating system drops it when the process ends, however it
//! ends, so the lock of a killed watcher never blocks a restart; the file
//! keeps the holder's process id only to name it in the error.
//!
//! [`DurableWatcher`]: super::DurableWatcher

use std::fs::{File, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use crate::error::{Error, Result};

/// File name of the lock inside the state directory.
pub(crate) const LOCK_FILE: &str = "lock";

/// Takes the lock of the state directory `dir`, or says who holds it.
///
/// # Errors
///
/// [`Error::state`] naming the lock file if another process (or another
/// watcher in this one) holds it; [`Error::io`] if it cannot be opened.
pub(crate) fn acquire(dir: &Path) -> Result<File> {
    let path = dir.join(LOCK_FILE);
    let io = |what: &str, e: std::io::Error| {
        Error::io(format!("cannot {what} {}", path.display()), Some(path.clone()), e)
    };
    let mut file = super::ack::open_private(&path).map_err(|e| io("open", e))?;
    match try_lock_for_a_while(&file) {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = match holder.trim().parse::<u32>() {
                Ok(pid) => format!("process {pid}"),
                Err(_) => "another process".to_owned(),
            };
            return Err(Error::state(
                &path,
                format!(
                    "the state directory is in use by another hydra watch ({holder}); stop it \
                     first, or give this one another --state directory"
                ),
            ));
        }
        Err(TryLockError::Error(e)) => return Err(io("lock", e)),
    }
    file.set_len(0)
        .and_then(|()| file.seek(SeekFrom::Start(0)))
        .and_then(|_| writeln!(file, "{}", std::process::id()))
        .map_err(|e| io("write", e))?;
    Ok(file)
}

/// Tries the lock for up to a second: a process that forks while it holds
/// the lock shares it with the child until the child's `exec`, so a lock
/// just released by this process may still be held for a moment.
fn try_lock_for_a_while(file: &File) -> std::result::Result<(), TryLockError> {
    for _ in 0..20 {
        match file.try_lock() {
            Err(TryLockError::WouldBlock) => {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            other => return other,
        }
    }
    file.try_lock()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_and_a_released_lock_is_free() {
        let dir = tempfile::tempdir().unwrap();
        // A lock file left by a process that is gone blocks nothing.
        std::fs::write(dir.path().join(LOCK_FILE), "4000000\n").unwrap();
        let held = acquire(dir.path()).unwrap();
        let err = acquire(dir.path()).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("in use by another hydra watch"), "{message}");
        assert!(message.contains(&format!("process {}", std::process::id())), "{message}");
        drop(held);
        acquire(dir.path()).unwrap();
    }
}
