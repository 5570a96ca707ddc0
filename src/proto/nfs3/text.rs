//! One-line text summaries of NFSv3 calls and replies, in the manner of tcpdump.

use super::*;
use std::fmt;

impl fmt::Display for Sattr3 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        if let Some(m) = self.mode {
            write!(f, "mode {m:04o}")?;
            sep = " ";
        }
        if let Some(u) = self.uid {
            write!(f, "{sep}uid {u}")?;
            sep = " ";
        }
        if let Some(g) = self.gid {
            write!(f, "{sep}gid {g}")?;
            sep = " ";
        }
        if let Some(s) = self.size {
            write!(f, "{sep}size {s}")?;
            sep = " ";
        }
        for (what, t) in [("atime", self.atime), ("mtime", self.mtime)] {
            match t {
                SetTime::DontChange => {}
                SetTime::ServerTime => {
                    write!(f, "{sep}{what} now")?;
                    sep = " ";
                }
                SetTime::ClientTime(t) => {
                    write!(f, "{sep}{what} {}.{:09}", t.seconds, t.nseconds)?;
                    sep = " ";
                }
            }
        }
        Ok(())
    }
}

impl fmt::Display for Fattr3 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} mode {:04o} uid {} gid {} size {}", ftype_name(self.ftype), self.mode & 0o7777, self.uid, self.gid, self.size)
    }
}

/// Write " {attrs}" when non-empty.
fn sattr(f: &mut fmt::Formatter<'_>, a: &Sattr3) -> fmt::Result {
    let s = a.to_string();
    if s.is_empty() {
        Ok(())
    } else {
        write!(f, " {s}")
    }
}

impl fmt::Display for Call<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Call::*;
        match self {
            Null => Ok(()),
            Getattr { object: h } | Readlink { symlink: h } | Pathconf { object: h } => write!(f, "fh {h}"),
            Fsstat { fsroot: h } | Fsinfo { fsroot: h } => write!(f, "fh {h}"),
            Setattr { object, new_attributes, guard } => {
                write!(f, "fh {object}")?;
                sattr(f, new_attributes)?;
                if guard.is_some() {
                    f.write_str(" guarded")?;
                }
                Ok(())
            }
            Lookup { dir, name } | Remove { dir, name } | Rmdir { dir, name } => write!(f, "fh {dir} \"{name}\""),
            Access { object, access } => write!(f, "fh {object} access {access:#x}"),
            Read { file, offset, count } => write!(f, "fh {file} {count} bytes @ {offset}"),
            Write { file, offset, count, stable, .. } => {
                write!(f, "fh {file} {count} bytes @ {offset} {}", stable_name(*stable))
            }
            Create { dir, name, how } => {
                write!(f, "fh {dir} \"{name}\"")?;
                match how {
                    CreateHow::Unchecked { attributes } => {
                        f.write_str(" UNCHECKED")?;
                        sattr(f, attributes)
                    }
                    CreateHow::Guarded { attributes } => {
                        f.write_str(" GUARDED")?;
                        sattr(f, attributes)
                    }
                    CreateHow::Exclusive { verf } => write!(f, " EXCLUSIVE verf {verf}"),
                }
            }
            Mkdir { dir, name, attributes } => {
                write!(f, "fh {dir} \"{name}\"")?;
                sattr(f, attributes)
            }
            Symlink { dir, name, target, .. } => write!(f, "fh {dir} \"{name}\" -> \"{target}\""),
            Mknod { dir, name, what } => {
                write!(f, "fh {dir} \"{name}\" ")?;
                match what {
                    MknodData::Chr { spec, .. } => write!(f, "CHR {},{}", spec[0], spec[1]),
                    MknodData::Blk { spec, .. } => write!(f, "BLK {},{}", spec[0], spec[1]),
                    MknodData::Sock { .. } => f.write_str("SOCK"),
                    MknodData::Fifo { .. } => f.write_str("FIFO"),
                    MknodData::Other { ftype } => write!(f, "type {ftype}"),
                }
            }
            Rename { from_dir, from_name, to_dir, to_name } => {
                write!(f, "fh {from_dir} \"{from_name}\" -> fh {to_dir} \"{to_name}\"")
            }
            Link { file, dir, name } => write!(f, "fh {file} -> fh {dir} \"{name}\""),
            Readdir { dir, cookie, count, .. } => write!(f, "fh {dir} cookie {cookie} count {count}"),
            Readdirplus { dir, cookie, dircount, maxcount, .. } => {
                write!(f, "fh {dir} cookie {cookie} dircount {dircount} maxcount {maxcount}")
            }
            Commit { file, offset, count } => write!(f, "fh {file} {count} bytes @ {offset}"),
            Unknown { proc_num } => write!(f, "proc {proc_num}"),
        }
    }
}

impl fmt::Display for Reply<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Reply::*;
        let Some(status) = self.status() else {
            return match self {
                Unknown { proc_num } => write!(f, "proc {proc_num}"),
                _ => Ok(()),
            };
        };
        if !status.is_ok() {
            return status.fmt(f);
        }
        f.write_str("ok")?;
        match self {
            Getattr { attributes: Some(a), .. } => write!(f, " {a}"),
            Lookup { object: Some(h), .. } => write!(f, " fh {h}"),
            Create(r) | Mkdir(r) | Symlink(r) | Mknod(r) => match r.obj {
                Some(h) => write!(f, " fh {h}"),
                None => Ok(()),
            },
            Access { access: Some(a), .. } => write!(f, " access {a:#x}"),
            Readlink { data: Some(d), .. } => write!(f, " \"{d}\""),
            Read { count: Some(c), eof, .. } => {
                write!(f, " {c} bytes")?;
                if *eof == Some(true) {
                    f.write_str(" EOF")?;
                }
                Ok(())
            }
            Write { count: Some(c), committed: Some(s), .. } => write!(f, " {c} bytes {}", stable_name(*s)),
            Readdir { entries, eof, .. } => {
                write!(f, " {} entries", entries.len())?;
                if *eof == Some(true) {
                    f.write_str(" EOF")?;
                }
                Ok(())
            }
            Readdirplus { entries, eof, .. } => {
                write!(f, " {} entries", entries.len())?;
                if *eof == Some(true) {
                    f.write_str(" EOF")?;
                }
                Ok(())
            }
            Fsstat { res: Some(r), .. } => write!(f, " tbytes {} fbytes {} abytes {}", r.tbytes, r.fbytes, r.abytes),
            Fsinfo { res: Some(r), .. } => {
                write!(f, " rtmax {} wtmax {} maxfilesize {}", r.rtmax, r.wtmax, r.maxfilesize)
            }
            Pathconf { res: Some(r), .. } => write!(f, " linkmax {} name_max {}", r.linkmax, r.name_max),
            _ => Ok(()),
        }
    }
}
