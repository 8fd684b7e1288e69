//! Output directories written whole or not at all.
//!
//! Files are staged in a hidden directory beside their destination and moved
//! into place only by [`Staged::commit`]; dropping a [`Staged`] without
//! committing (an error, a panic) removes everything it wrote.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

/// A set of output files being written into `dir`.
#[derive(Debug)]
pub(crate) struct Staged {
    dir: PathBuf,
    staging: tempfile::TempDir,
    files: Vec<String>,
}

impl Staged {
    /// Starts writing into `dir`, creating it if needed.
    pub(crate) fn new(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create output directory {}", dir.display()))?;
        let staging = tempfile::Builder::new()
            .prefix(".hydra-staging-")
            .tempdir_in(dir)
            .with_context(|| format!("cannot write into output directory {}", dir.display()))?;
        Ok(Self { dir: dir.to_path_buf(), staging, files: Vec::new() })
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

    /// Moves every staged file into place and returns their final paths.
    pub(crate) fn commit(self) -> anyhow::Result<Vec<PathBuf>> {
        let mut done = Vec::with_capacity(self.files.len());
        for name in &self.files {
            let to = self.dir.join(name);
            std::fs::rename(self.staging.path().join(name), &to)
                .with_context(|| format!("cannot move {name} into {}", self.dir.display()))?;
            done.push(to);
        }
        if let Ok(d) = File::open(&self.dir) {
            let _ = d.sync_all();
        }
        Ok(done)
    }
}

/// Writes `value` as pretty JSON followed by a newline.
pub(crate) fn write_json<T: serde::Serialize>(w: &mut impl Write, value: &T) -> anyhow::Result<()> {
    serde_json::to_writer_pretty(&mut *w, value)?;
    w.write_all(b"\n")?;
    Ok(())
}
