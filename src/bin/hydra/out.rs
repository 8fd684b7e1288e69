//! Output directories written whole or not at all.
//!
//! Files are staged in a hidden directory beside their destination and moved
//! into place only by [`Staged::commit`]; dropping a [`Staged`] without
//! committing (an error, a panic) removes everything it wrote. Creating the
//! [`Staged`] first, before the work, proves the directory writable before
//! any time is spent.
//!
//! A commit moves the files one at a time, setting each file it replaces
//! aside first: if a move fails, the files already moved are taken back and
//! the ones set aside restored, so the directory holds the old set or the
//! new one, never a mix (short of the machine stopping mid-commit).
//!
//! A staging directory holds a locked file (`.lock`) while its run lives;
//! staging directories whose lock is free are left over from killed runs
//! and are removed by the next run into the same directory.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

const STAGING_PREFIX: &str = ".hydra-staging-";
const STAGING_LOCK: &str = ".lock";
/// Age after which a staging directory without a lock file is stale.
const UNLOCKED_STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(600);

/// A set of output files being written into `dir`.
#[derive(Debug)]
pub(crate) struct Staged {
    dir: PathBuf,
    staging: tempfile::TempDir,
    files: Vec<String>,
    /// `.lock` in the staging directory, locked while this run lives.
    _lock: File,
    /// Whether `dir` was created for this run (removed again, if still
    /// empty, when the run fails: a failed run leaves nothing behind).
    created_dir: bool,
    committed: bool,
}

/// One file's move in a commit, for taking it back.
struct Move<'a> {
    name: &'a str,
    /// The replaced file, set aside in the staging directory.
    set_aside: Option<PathBuf>,
    /// Whether the new file reached its place.
    placed: bool,
}

impl Staged {
    /// Starts writing into `dir`, creating it if needed, and removes the
    /// staging directories of killed runs.
    pub(crate) fn new(dir: &Path) -> anyhow::Result<Self> {
        let created_dir = !dir.exists();
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create output directory {}", dir.display()))?;
        remove_stale_staging(dir);
        let staging = tempfile::Builder::new()
            .prefix(STAGING_PREFIX)
            .tempdir_in(dir)
            .with_context(|| format!("cannot write into output directory {}", dir.display()))?;
        let lock = File::create(staging.path().join(STAGING_LOCK))
            .with_context(|| format!("cannot write into output directory {}", dir.display()))?;
        lock.try_lock().with_context(|| format!("cannot lock {}", staging.path().display()))?;
        let dir = dir.to_path_buf();
        Ok(Self { dir, staging, files: Vec::new(), _lock: lock, created_dir, committed: false })
    }

    /// Writes the file `name` with `write`, staged until [`Staged::commit`].
    pub(crate) fn write(
        &mut self,
        name: &str,
        write: impl FnOnce(&mut BufWriter<File>) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let path = self.staging.path().join(name);
        let file = File::create(&path).with_context(|| format!("cannot create {name}"))?;
        let mut w = BufWriter::with_capacity(1 << 16, file);
        write(&mut w)?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all().with_context(|| format!("cannot write {name}"))?;
        self.files.push(name.to_owned());
        Ok(())
    }

    /// Moves every staged file into place, all or nothing, and returns
    /// their final paths.
    pub(crate) fn commit(mut self) -> anyhow::Result<Vec<PathBuf>> {
        let mut moves = Vec::with_capacity(self.files.len());
        for name in &self.files {
            moves.push(Move { name, set_aside: None, placed: false });
            if let Err(e) = self.place(moves.last_mut().expect("just pushed")) {
                self.take_back(&moves);
                return Err(e);
            }
        }
        if let Ok(d) = File::open(&self.dir) {
            let _ = d.sync_all();
        }
        self.committed = true;
        Ok(self.files.iter().map(|name| self.dir.join(name)).collect())
    }

    /// Sets aside the file `m.name` replaces (not a directory), then moves
    /// the new one into place.
    fn place(&self, m: &mut Move<'_>) -> anyhow::Result<()> {
        let to = self.dir.join(m.name);
        if std::fs::symlink_metadata(&to).is_ok_and(|meta| !meta.is_dir()) {
            let aside = self.staging.path().join(format!("{}.replaced", m.name));
            std::fs::rename(&to, &aside)
                .with_context(|| format!("cannot replace {}", to.display()))?;
            m.set_aside = Some(aside);
        }
        std::fs::rename(self.staging.path().join(m.name), &to)
            .with_context(|| format!("cannot move {} into {}", m.name, self.dir.display()))?;
        m.placed = true;
        Ok(())
    }

    /// Undoes `moves`, last first (best effort: the error being reported
    /// matters more than one of these).
    fn take_back(&self, moves: &[Move<'_>]) {
        for m in moves.iter().rev() {
            let to = self.dir.join(m.name);
            if m.placed {
                let _ = std::fs::remove_file(&to);
            }
            if let Some(aside) = &m.set_aside {
                let _ = std::fs::rename(aside, &to);
            }
        }
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed && self.created_dir {
            // The staging directory goes first (its TempDir then finds it
            // gone), so that the output directory is empty again.
            let _ = std::fs::remove_dir_all(self.staging.path());
            let _ = std::fs::remove_dir(&self.dir);
        }
    }
}

/// Removes the staging directories in `dir` whose run is gone (their lock
/// is free). Best effort: a directory that cannot be removed stays.
fn remove_stale_staging(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let staging = entry.file_name().to_str().is_some_and(|n| n.starts_with(STAGING_PREFIX))
            && entry.file_type().is_ok_and(|t| t.is_dir());
        let stale = staging
            && match File::open(entry.path().join(STAGING_LOCK)) {
                Ok(lock) => lock.try_lock().is_ok(),
                // No lock: from an older hydra, or a run killed just after
                // creating it; stale once it has not changed for a while.
                Err(_) => entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > UNLOCKED_STALE_AFTER)),
            };
        if stale {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Refuses to write reports named `names` into `dir` if one of them is the
/// input file `input`: the run would replace what it reads.
pub(crate) fn check_not_replacing(input: &Path, dir: &Path, names: &[&str]) -> anyhow::Result<()> {
    let Ok(input_real) = input.canonicalize() else { return Ok(()) };
    for name in names {
        let target = dir.join(name);
        if target.canonicalize().is_ok_and(|t| t == input_real) {
            return Err(crate::exit::usage(format!(
                "the input {} is the report {} that this run would replace: write the reports \
                 into another --out directory",
                input.display(),
                target.display()
            )));
        }
    }
    Ok(())
}

/// Writes `value` as pretty JSON followed by a newline.
pub(crate) fn write_json<T: serde::Serialize>(w: &mut impl Write, value: &T) -> anyhow::Result<()> {
    serde_json::to_writer_pretty(&mut *w, value)?;
    w.write_all(b"\n")?;
    Ok(())
}

/// Writes the file `path` with `write`, via a temporary file in the same
/// directory that replaces `path` only once complete and synced.
pub(crate) fn write_file(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<tempfile::NamedTempFile>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".hydra-");
    // As any file the user creates (0666 less the umask), like the other
    // outputs, not a temporary file's private 0600.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let file = builder
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    write(&mut w)?;
    let file = w.into_inner().map_err(|e| e.into_error())?;
    file.as_file().sync_all()?;
    file.persist(path)?;
    Ok(())
}
