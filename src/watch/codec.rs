//! A small little-endian binary encoding for the log and snapshots: fixed-size
//! integers and floats, length-prefixed byte strings. Decoding never panics:
//! every read is bounds-checked and reports what was being read.

/// Appends values to a byte buffer.
#[derive(Debug)]
pub(crate) struct Encoder<'a> {
    pub(crate) buf: &'a mut Vec<u8>,
}

impl<'a> Encoder<'a> {
    pub(crate) fn new(buf: &'a mut Vec<u8>) -> Self {
        Self { buf }
    }

    pub(crate) fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    pub(crate) fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub(crate) fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub(crate) fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub(crate) fn i64(&mut self, v: i64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub(crate) fn f32(&mut self, v: f32) {
        self.buf.extend_from_slice(&v.to_bits().to_le_bytes());
    }

    pub(crate) fn str(&mut self, v: &str) {
        self.u32(v.len() as u32);
        self.buf.extend_from_slice(v.as_bytes());
    }

    /// A list of strings: its length, then each string.
    pub(crate) fn strs<S: AsRef<str>>(&mut self, items: &[S]) {
        self.u64(items.len() as u64);
        for s in items {
            self.str(s.as_ref());
        }
    }
}

/// Reads values back; errors name what was being read.
#[derive(Debug)]
pub(crate) struct Decoder<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Decoder<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Self { data, pos: 0 }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos == self.data.len()
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], String> {
        if self.data.len() - self.pos < n {
            return Err(format!("truncated {what} at byte {}", self.pos));
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], String> {
        let s = self.take(N, what)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    pub(crate) fn u8(&mut self, what: &str) -> Result<u8, String> {
        Ok(self.array::<1>(what)?[0])
    }

    pub(crate) fn u16(&mut self, what: &str) -> Result<u16, String> {
        Ok(u16::from_le_bytes(self.array(what)?))
    }

    pub(crate) fn u32(&mut self, what: &str) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    pub(crate) fn u64(&mut self, what: &str) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    pub(crate) fn i64(&mut self, what: &str) -> Result<i64, String> {
        Ok(i64::from_le_bytes(self.array(what)?))
    }

    pub(crate) fn f32(&mut self, what: &str) -> Result<f32, String> {
        Ok(f32::from_bits(u32::from_le_bytes(self.array(what)?)))
    }

    pub(crate) fn str(&mut self, what: &str) -> Result<&'a str, String> {
        let n = self.u32(what)? as usize;
        let bytes = self.take(n, what)?;
        std::str::from_utf8(bytes).map_err(|_| format!("{what} is not UTF-8"))
    }

    /// A list of strings written by [`Encoder::strs`].
    pub(crate) fn strs(&mut self, what: &str) -> Result<Vec<&'a str>, String> {
        // A string takes at least its 4-byte length.
        let n = self.len(what, 4)?;
        (0..n).map(|_| self.str(what)).collect()
    }

    /// A length for a collection whose elements take at least `min_size`
    /// bytes each: rejects lengths the remaining input cannot hold, so a
    /// corrupted count cannot make us allocate gigabytes.
    pub(crate) fn len(&mut self, what: &str, min_size: usize) -> Result<usize, String> {
        let n = self.u64(what)? as usize;
        let remaining = self.data.len() - self.pos;
        if n.saturating_mul(min_size.max(1)) > remaining {
            return Err(format!("{what} count {n} exceeds the remaining {remaining} bytes"));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_truncation_is_reported() {
        let mut buf = Vec::new();
        let mut e = Encoder::new(&mut buf);
        e.u8(7);
        e.u16(300);
        e.u32(70_000);
        e.u64(1 << 40);
        e.i64(-5);
        e.f32(0.25);
        e.str("héllo");
        let mut d = Decoder::new(&buf);
        assert_eq!(d.u8("a").unwrap(), 7);
        assert_eq!(d.u16("b").unwrap(), 300);
        assert_eq!(d.u32("c").unwrap(), 70_000);
        assert_eq!(d.u64("d").unwrap(), 1 << 40);
        assert_eq!(d.i64("e").unwrap(), -5);
        assert_eq!(d.f32("f").unwrap(), 0.25);
        assert_eq!(d.str("g").unwrap(), "héllo");
        assert!(d.is_empty());
        let mut d = Decoder::new(&buf[..3]);
        d.u8("a").unwrap();
        assert_eq!(d.u32("count").unwrap_err(), "truncated count at byte 1");
        let mut d = Decoder::new(&[255, 255, 255, 255, 255, 255, 255, 255]);
        assert!(d.len("links", 8).is_err());
    }

    #[test]
    fn string_lists_round_trip_and_bad_counts_are_reported() {
        let mut buf = Vec::new();
        Encoder::new(&mut buf).strs(&["a", "", "ccc"]);
        assert_eq!(Decoder::new(&buf).strs("names").unwrap(), ["a", "", "ccc"]);
        // A count the input cannot hold is refused before any allocation.
        buf[..8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(Decoder::new(&buf).strs("names").unwrap_err().starts_with("names count"));
        buf[..8].copy_from_slice(&4u64.to_le_bytes());
        assert!(Decoder::new(&buf).strs("names").unwrap_err().contains("names"));
    }
}
