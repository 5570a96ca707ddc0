//! Points in time given on the command line (`--at`), and calendar arithmetic for UTC.

use crate::net::Ts;
use std::fmt;

const NS: i64 = 1_000_000_000;

/// A moment: absolute (nanoseconds since the epoch) or relative to the first frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AtTime {
    Absolute(Ts),
    /// Nanoseconds after the first frame.
    Relative(i64),
}

impl AtTime {
    /// The absolute time, given the first frame's timestamp.
    pub fn resolve(self, first: Ts) -> Ts {
        match self {
            AtTime::Absolute(t) => t,
            AtTime::Relative(d) => first.saturating_add(d),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeError(String);

impl fmt::Display for TimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "bad time {:?}: give epoch seconds (1700000000.5), +SECS after the first frame, or YYYY-MM-DDTHH:MM:SS[.frac][Z] in UTC",
            self.0
        )
    }
}

impl std::error::Error for TimeError {}

/// Parse `1700000000.5`, `+12.25`, or `2023-11-14T22:13:20[.5][Z|+HH:MM|-HH:MM]`
/// (a space may replace the `T`; no zone means UTC).
pub fn parse_at(s: &str) -> Result<AtTime, TimeError> {
    let err = || TimeError(s.to_string());
    let t = s.trim();
    if let Some(rel) = t.strip_prefix('+') {
        return secs(rel).map(AtTime::Relative).ok_or_else(err);
    }
    if t.len() >= 10 && t.as_bytes().get(4) == Some(&b'-') {
        return datetime(t).map(AtTime::Absolute).ok_or_else(err);
    }
    secs(t).map(AtTime::Absolute).ok_or_else(err)
}

/// `123`, `123.456789` (at most 9 fraction digits kept) as nanoseconds; no sign.
fn secs(s: &str) -> Option<i64> {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: i64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    whole.checked_mul(NS)?.checked_add(frac_ns(frac))
}

/// Fraction digits as nanoseconds (digits past the ninth are dropped).
fn frac_ns(frac: &str) -> i64 {
    let mut ns = 0i64;
    for (i, b) in frac.bytes().take(9).enumerate() {
        ns += i64::from(b - b'0') * 10i64.pow(8 - i as u32);
    }
    ns
}

fn num(s: &str, len: usize) -> Option<i64> {
    (s.len() == len && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
}

fn datetime(s: &str) -> Option<Ts> {
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (num(s.get(0..4)?, 4)?, num(s.get(5..7)?, 2)?, num(s.get(8..10)?, 2)?);
    let (h, mi, se) = (num(s.get(11..13)?, 2)?, num(s.get(14..16)?, 2)?, num(s.get(17..19)?, 2)?);
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo as u32) as i64 || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut rest = s.get(19..)?;
    let mut ns = 0;
    if let Some(r) = rest.strip_prefix('.') {
        let n = r.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        ns = frac_ns(&r[..n]);
        rest = &r[n..];
    }
    let offset = match rest {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let z = &rest[1..];
            let (oh, om) = match z.split_once(':') {
                Some((a, b)) => (num(a, 2)?, num(b, 2)?),
                None => (num(z.get(0..2)?, 2)?, num(z.get(2..)?, 2)?),
            };
            if oh > 23 || om > 59 {
                return None;
            }
            sign * (oh * 3600 + om * 60)
        }
    };
    let days = days_from_civil(y, mo as u32, d as u32);
    let secs = days * 86_400 + h * 3600 + mi * 60 + se - offset;
    secs.checked_mul(NS)?.checked_add(ns)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number since 1970-01-01: (year, month, day).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_seconds() {
        assert_eq!(parse_at("1700000000.5"), Ok(AtTime::Absolute(1_700_000_000_500_000_000)));
        assert_eq!(parse_at("1700000000"), Ok(AtTime::Absolute(1_700_000_000 * NS)));
        assert_eq!(parse_at(" 12.000000001 "), Ok(AtTime::Absolute(12 * NS + 1)));
        assert_eq!(parse_at("1.1234567891"), Ok(AtTime::Absolute(NS + 123_456_789)), "digits past ns dropped");
        assert_eq!(parse_at(".25"), Ok(AtTime::Absolute(NS / 4)));
    }

    #[test]
    fn relative_seconds() {
        assert_eq!(parse_at("+90"), Ok(AtTime::Relative(90 * NS)));
        assert_eq!(parse_at("+0.001"), Ok(AtTime::Relative(1_000_000)));
        assert_eq!(AtTime::Relative(5 * NS).resolve(100 * NS), 105 * NS);
        assert_eq!(AtTime::Absolute(7).resolve(100 * NS), 7);
    }

    #[test]
    fn rfc3339_utc_and_offsets() {
        // 1700000000 is 2023-11-14T22:13:20Z.
        assert_eq!(parse_at("2023-11-14T22:13:20Z"), Ok(AtTime::Absolute(1_700_000_000 * NS)));
        assert_eq!(parse_at("2023-11-14T22:13:20"), Ok(AtTime::Absolute(1_700_000_000 * NS)));
        assert_eq!(parse_at("2023-11-14 22:13:20.25"), Ok(AtTime::Absolute(1_700_000_000 * NS + NS / 4)));
        assert_eq!(parse_at("2023-11-14T23:13:20+01:00"), Ok(AtTime::Absolute(1_700_000_000 * NS)));
        assert_eq!(parse_at("2023-11-14T21:43:20-0030"), Ok(AtTime::Absolute(1_700_000_000 * NS)));
        assert_eq!(parse_at("1970-01-01T00:00:00Z"), Ok(AtTime::Absolute(0)));
        assert_eq!(parse_at("2024-02-29T00:00:00Z"), Ok(AtTime::Absolute(1_709_164_800 * NS)));
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["", "+", "abc", "12:30", "1.2.3", "-5", "+-5", "2023-02-29T00:00:00Z", "2023-13-01T00:00:00", "2023-11-14T22:13", "2023-11-14T22:13:20Q", "2023-11-14T22:13:20.", "99999999999999999999"] {
            assert!(parse_at(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(parse_at("nope").unwrap_err().to_string().contains("epoch seconds"));
    }

    #[test]
    fn calendar_round_trip() {
        for z in [-800_000i64, -1, 0, 59, 60, 11_016, 19_675, 2_932_896] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z, "day {z}");
        }
        assert_eq!(civil_from_days(19_675), (2023, 11, 14));
        assert_eq!(civil_from_days(0), (1970, 1, 1));
    }
}
