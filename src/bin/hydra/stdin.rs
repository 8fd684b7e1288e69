//! Standard input as an event stream (`--input -`): gzip is recognised by
//! its magic bytes and decompressed, as a `.gz` file name would be.

use std::io::{self, Cursor, Read};

use flate2::read::MultiGzDecoder;

/// The first two bytes of every gzip member.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Standard input with its first bytes read ahead.
pub(crate) struct Stdin {
    /// Whether the input starts with gzip's magic bytes.
    pub(crate) gzip: bool,
    /// The bytes read ahead, then the rest.
    pub(crate) bytes: io::Chain<Cursor<Vec<u8>>, io::StdinLock<'static>>,
}

/// Reads the first bytes of standard input to see whether it is gzip.
pub(crate) fn open() -> io::Result<Stdin> {
    let mut head = Vec::with_capacity(GZIP_MAGIC.len());
    let mut stdin = io::stdin().lock();
    // `take` + `read_to_end` reads on after short reads, up to the magic's length.
    (&mut stdin).take(GZIP_MAGIC.len() as u64).read_to_end(&mut head)?;
    Ok(Stdin { gzip: head == GZIP_MAGIC, bytes: Cursor::new(head).chain(stdin) })
}

impl Stdin {
    /// The input's events' bytes: decompressed if it is gzip (several
    /// concatenated members read as one stream).
    pub(crate) fn decompressed(self) -> Box<dyn Read> {
        if self.gzip { Box::new(MultiGzDecoder::new(self.bytes)) } else { Box::new(self.bytes) }
    }
}
