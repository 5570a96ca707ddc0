//! Classic pcap files of Ethernet frames read straight from a memory map: frames are
//! handed on where they lie in the file, with no copy. Everything else (pcapng, other
//! link types, the modified pcap formats, standard input) goes through libpcap.
//!
//! The file's pages are let go behind the reader, so that a large capture does not
//! show up in the resident set. Records are checked as libpcap checks them: a record
//! cut short is a truncated file, a capture length past the largest snapshot length is
//! a read error, and data past the file's snapshot length is skipped.

use std::fs::File;
use std::os::fd::AsRawFd;

const MAGIC_US: u32 = 0xa1b2_c3d4;
const MAGIC_NS: u32 = 0xa1b2_3c4d;
const LINKTYPE_ETHERNET: u32 = 1;
/// libpcap's largest snapshot length for Ethernet.
const MAX_SNAPLEN: u32 = 262_144;
/// Pages behind the reader are released in steps of this many bytes.
const RELEASE_STEP: usize = 2 << 20;

/// A record as read from the map.
pub struct Rec<'a> {
    pub ts: i64,
    pub data: &'a [u8],
    pub orig_len: u32,
}

#[derive(Debug, PartialEq, Eq)]
pub enum RecError {
    Truncated(String),
    Bad(String),
}

pub struct Mapped {
    base: *mut u8,
    len: usize,
    off: usize,
    /// Bytes before this offset were released.
    released: usize,
    swapped: bool,
    nanos: bool,
    snaplen: u32,
}

// SAFETY: the map is owned by this value and only read through it.
unsafe impl Send for Mapped {}

impl Drop for Mapped {
    fn drop(&mut self) {
        // SAFETY: base/len come from a successful mmap that is unmapped only here.
        unsafe {
            libc::munmap(self.base.cast(), self.len);
        }
    }
}

fn page() -> usize {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 {
        p as usize
    } else {
        4096
    }
}

impl Mapped {
    /// Map `path` if it is a classic pcap file of Ethernet frames; `None` otherwise
    /// (libpcap then opens it and reports what is wrong with it).
    pub fn open(path: &str) -> Option<Mapped> {
        let f = File::open(path).ok()?;
        let len = usize::try_from(f.metadata().ok()?.len()).ok()?;
        if len < 24 {
            return None;
        }
        // SAFETY: a private read-only map of a file we opened; checked for failure.
        let base = unsafe { libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ, libc::MAP_PRIVATE, f.as_raw_fd(), 0) };
        if base == libc::MAP_FAILED {
            return None;
        }
        // SAFETY: as above; advice only.
        unsafe {
            libc::madvise(base, len, libc::MADV_SEQUENTIAL);
        }
        let mut m = Mapped { base: base.cast(), len, off: 24, released: 0, swapped: false, nanos: false, snaplen: MAX_SNAPLEN };
        let h = m.bytes(0, 24);
        let magic = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
        let (swapped, nanos) = match magic {
            MAGIC_US => (false, false),
            MAGIC_NS => (false, true),
            m if m == MAGIC_US.swap_bytes() => (true, false),
            m if m == MAGIC_NS.swap_bytes() => (true, true),
            _ => return None,
        };
        m.swapped = swapped;
        m.nanos = nanos;
        let major = m.u16_at(4);
        let snaplen = m.u32_at(16);
        let linktype = m.u32_at(20) & 0x03ff_ffff;
        if major != 2 || linktype != LINKTYPE_ETHERNET {
            return None;
        }
        m.snaplen = if snaplen == 0 || snaplen > MAX_SNAPLEN { MAX_SNAPLEN } else { snaplen };
        Some(m)
    }

    fn bytes(&self, at: usize, n: usize) -> &[u8] {
        // SAFETY: callers keep at + n within the map.
        unsafe { std::slice::from_raw_parts(self.base.add(at), n) }
    }

    fn u16_at(&self, at: usize) -> u16 {
        let b = self.bytes(at, 2);
        let v = u16::from_le_bytes([b[0], b[1]]);
        if self.swapped {
            v.swap_bytes()
        } else {
            v
        }
    }

    fn u32_at(&self, at: usize) -> u32 {
        let b = self.bytes(at, 4);
        let v = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        if self.swapped {
            v.swap_bytes()
        } else {
            v
        }
    }

    /// Let go of the pages the reader has passed.
    fn release_behind(&mut self) {
        if self.off - self.released < 2 * RELEASE_STEP {
            return;
        }
        let p = page();
        let upto = (self.off - RELEASE_STEP) / p * p;
        if upto > self.released {
            // SAFETY: the range lies within the map, and no frame handed out before it
            // is still borrowed (records borrow `self`).
            unsafe {
                libc::madvise(self.base.add(self.released).cast(), upto - self.released, libc::MADV_DONTNEED);
            }
            self.released = upto;
        }
    }

    /// The next record, `Ok(None)` at the end of the file.
    pub fn next(&mut self) -> Result<Option<Rec<'_>>, RecError> {
        self.release_behind();
        let left = self.len - self.off;
        if left == 0 {
            return Ok(None);
        }
        if left < 16 {
            self.off = self.len;
            return Err(RecError::Truncated(format!("truncated dump file; tried to read 16 header bytes, only got {left}")));
        }
        let at = self.off;
        let (sec, frac, caplen, orig_len) = (self.u32_at(at), self.u32_at(at + 4), self.u32_at(at + 8), self.u32_at(at + 12));
        if caplen > MAX_SNAPLEN {
            self.off = self.len;
            return Err(RecError::Bad(format!("invalid packet capture length {caplen}, bigger than maximum of {MAX_SNAPLEN}")));
        }
        if (caplen as usize) > left - 16 {
            self.off = self.len;
            return Err(RecError::Truncated(format!("truncated dump file; tried to read {caplen} captured bytes, only got {}", left - 16)));
        }
        self.off = at + 16 + caplen as usize;
        let ts = sec as i64 * 1_000_000_000 + if self.nanos { frac as i64 } else { frac as i64 * 1000 };
        let data = self.bytes(at + 16, caplen.min(self.snaplen) as usize);
        Ok(Some(Rec { ts, data, orig_len }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file written for one test, removed when dropped (even when the test fails).
    struct Tmp(String);

    impl Drop for Tmp {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    impl std::ops::Deref for Tmp {
        type Target = str;
        fn deref(&self) -> &str {
            &self.0
        }
    }

    fn file(name: &str, bytes: &[u8]) -> Tmp {
        let p = std::env::temp_dir().join(format!("gw-mapped-{}-{name}", std::process::id()));
        std::fs::write(&p, bytes).unwrap();
        Tmp(p.to_string_lossy().into_owned())
    }

    fn header(magic: u32, be: bool, snaplen: u32, linktype: u32) -> Vec<u8> {
        let w = |v: u32| if be { v.to_be_bytes() } else { v.to_le_bytes() };
        let mut v = Vec::new();
        v.extend_from_slice(&w(magic));
        v.extend_from_slice(&(if be { [0, 2, 0, 4] } else { [2, 0, 4, 0] }));
        v.extend_from_slice(&[0; 8]);
        v.extend_from_slice(&w(snaplen));
        v.extend_from_slice(&w(linktype));
        v
    }

    fn record(v: &mut Vec<u8>, be: bool, sec: u32, frac: u32, data: &[u8], orig: u32) {
        let w = |x: u32| if be { x.to_be_bytes() } else { x.to_le_bytes() };
        for x in [sec, frac, data.len() as u32, orig] {
            v.extend_from_slice(&w(x));
        }
        v.extend_from_slice(data);
    }

    #[test]
    fn both_byte_orders_and_precisions() {
        for (magic, be, nanos) in [(MAGIC_US, false, false), (MAGIC_NS, false, true), (MAGIC_US, true, false), (MAGIC_NS, true, true)] {
            let mut v = header(magic, be, 65535, 1);
            record(&mut v, be, 7, 5, &[1, 2, 3], 60);
            record(&mut v, be, 8, 0, &[], 0);
            let p = file(&format!("{magic:x}{be}"), &v);
            let mut m = Mapped::open(&p).expect("classic pcap");
            let r = m.next().unwrap().unwrap();
            assert_eq!((r.ts, r.data, r.orig_len), (7_000_000_000 + if nanos { 5 } else { 5000 }, &[1u8, 2, 3][..], 60));
            assert_eq!(m.next().unwrap().unwrap().ts, 8_000_000_000);
            assert!(m.next().unwrap().is_none());
        }
    }

    #[test]
    fn libpcap_reads_the_rest_and_bad_records_are_reported() {
        assert!(Mapped::open(&file("raw", &header(MAGIC_US, false, 65535, 101))).is_none(), "other link types go to libpcap");
        assert!(Mapped::open(&file("ng", &[0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])).is_none());
        assert!(Mapped::open(&file("short", &[0xd4, 0xc3, 0xb2, 0xa1])).is_none());
        let mut v = header(MAGIC_US, false, 4, 1);
        record(&mut v, false, 1, 0, &[9; 10], 10);
        let mut cut = v.clone();
        record(&mut cut, false, 2, 0, &[1; 10], 10);
        cut.truncate(cut.len() - 3);
        let mut m = Mapped::open(&file("cut", &cut)).unwrap();
        assert_eq!(m.next().unwrap().unwrap().data, &[9; 4], "data past the snapshot length is skipped");
        assert!(matches!(m.next(), Err(RecError::Truncated(s)) if s.contains("only got 7")));
        assert!(m.next().unwrap().is_none());
        let mut hdr_cut = v.clone();
        hdr_cut.extend_from_slice(&[0; 5]);
        let mut m = Mapped::open(&file("hdr", &hdr_cut)).unwrap();
        assert!(m.next().unwrap().is_some());
        assert!(matches!(m.next(), Err(RecError::Truncated(s)) if s.contains("16 header bytes, only got 5")));
        let mut huge = header(MAGIC_US, false, 65535, 1);
        for x in [1u32, 0, MAX_SNAPLEN + 1, 10] {
            huge.extend_from_slice(&x.to_le_bytes());
        }
        let mut m = Mapped::open(&file("huge", &huge)).unwrap();
        assert!(matches!(m.next(), Err(RecError::Bad(_))));
    }
}
