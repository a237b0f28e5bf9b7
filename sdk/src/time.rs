//! Partner timestamps to Unix milliseconds, so the states of one threat can
//! be ordered whatever the partner's spelling.
//!
//! Partners write times as Unix milliseconds (Zimperium `timestamp`,
//! `device_time`), Unix seconds, ISO 8601 with or without fraction and zone
//! (Lookout `eventTime`, `created_time` with `+00:00`, Defender
//! `lastUpdateTime` with seven fraction digits) or RFC 2822 (Check Point
//! `last_connection`: "Fri, 30 Jul 2021 08:27:11 +0000"). No clock and no
//! time-zone database is needed: every form carries its own offset, and a
//! time without one is read as UTC.

use serde_json::Value;

/// Numbers below this are seconds, above it milliseconds (1e11 s is the
/// year 5138; 1e11 ms is 1973).
const SECONDS_LIMIT: f64 = 1e11;

/// Reads a JSON time value: a number (Unix seconds or milliseconds) or text.
pub fn value_to_ms(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_f64().and_then(number_to_ms),
        Value::String(s) => parse_ms(s),
        _ => None,
    }
}

fn number_to_ms(n: f64) -> Option<i64> {
    if !n.is_finite() {
        return None;
    }
    let ms = if n.abs() < SECONDS_LIMIT { n * 1000.0 } else { n };
    // Beyond ±10^15 ms (±31,000 years) a "time" is noise, not a date.
    (ms.abs() < 1e15).then_some(ms as i64)
}

/// Parses a timestamp text to Unix milliseconds.
pub fn parse_ms(text: &str) -> Option<i64> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    if let Ok(n) = t.parse::<f64>() {
        return number_to_ms(n);
    }
    iso(t).or_else(|| rfc2822(t))
}

/// Days from 1970-01-01 to a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn to_ms(date: (i64, i64, i64), time: (i64, i64, i64), millis: i64, offset_min: i64) -> Option<i64> {
    let (y, mo, d) = date;
    let (h, mi, s) = time;
    let valid = (1..=12).contains(&mo) && (1..=31).contains(&d) && h < 24 && mi < 60 && s <= 60;
    if !valid {
        return None;
    }
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s - offset_min * 60;
    Some(secs * 1000 + millis)
}

fn num(s: &str) -> Option<i64> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
}

/// `2024-01-10T12:20:37.059Z`, `2025-02-20 09:55:18.817+00:00`, `2017-01-03`.
fn iso(t: &str) -> Option<i64> {
    let (date, rest) = match t.find(['T', 't', ' ']) {
        Some(i) => (&t[..i], &t[i + 1..]),
        None => (t, ""),
    };
    let mut parts = date.split('-');
    let y = num(parts.next()?)?;
    let m = num(parts.next()?)?;
    let d = num(parts.next()?)?;
    if parts.next().is_some() {
        return None;
    }
    if rest.is_empty() {
        return to_ms((y, m, d), (0, 0, 0), 0, 0);
    }
    // Split the zone off: Z, ±HH:MM or ±HHMM after the clock.
    let (clock, offset) = if let Some(c) = rest.strip_suffix(['Z', 'z']) {
        (c, 0)
    } else if let Some(i) = rest.rfind(['+', '-']) {
        (&rest[..i], zone(&rest[i..])?)
    } else {
        (rest, 0)
    };
    let (hms, frac) = match clock.split_once(['.', ',']) {
        Some((a, b)) => (a, b),
        None => (clock, ""),
    };
    let mut hms = hms.split(':');
    let h = num(hms.next()?)?;
    let mi = num(hms.next()?)?;
    let s = match hms.next() {
        Some(s) => num(s)?,
        None => 0,
    };
    let millis = if frac.is_empty() {
        0
    } else {
        // Any number of fraction digits: keep the first three.
        let digits: String = frac.chars().chain("000".chars()).take(3).collect();
        num(&digits)?
    };
    to_ms((y, m, d), (h, mi, s), millis, offset)
}

/// `+00:00`, `-0530`, `+01`.
fn zone(z: &str) -> Option<i64> {
    let sign = if z.starts_with('-') { -1 } else { 1 };
    let digits: String = z[1..].chars().filter(|c| *c != ':').collect();
    let (h, m) = match digits.len() {
        2 => (num(&digits)?, 0),
        4 => (num(&digits[..2])?, num(&digits[2..])?),
        _ => return None,
    };
    Some(sign * (h * 60 + m))
}

const MONTHS: [&str; 12] =
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/// `Fri, 30 Jul 2021 08:27:11 +0000` (the weekday and the zone are optional).
fn rfc2822(t: &str) -> Option<i64> {
    let t = t.split_once(',').map_or(t, |(_, rest)| rest);
    let mut words = t.split_whitespace();
    let d = num(words.next()?)?;
    let month = words.next()?.to_ascii_lowercase();
    let m = MONTHS.iter().position(|x| month.starts_with(x))? as i64 + 1;
    let y = num(words.next()?)?;
    let mut hms = words.next()?.split(':');
    let h = num(hms.next()?)?;
    let mi = num(hms.next()?)?;
    let s = hms.next().map_or(Some(0), num)?;
    let offset = match words.next() {
        None => 0,
        Some("GMT" | "UT" | "UTC" | "Z") => 0,
        Some(z) => zone(z)?,
    };
    to_ms((y, m, d), (h, mi, s), 0, offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_spelling() {
        let base = 1_704_889_237_059; // 2024-01-10T12:20:37.059Z
        assert_eq!(parse_ms("2024-01-10T12:20:37.059Z"), Some(base));
        assert_eq!(parse_ms("2024-01-10T12:20:37.0590000Z"), Some(base));
        assert_eq!(parse_ms("2024-01-10 13:20:37.059+01:00"), Some(base));
        assert_eq!(parse_ms("2024-01-10T07:20:37.059-0500"), Some(base));
        assert_eq!(parse_ms("1704889237059"), Some(base));
        assert_eq!(value_to_ms(&serde_json::json!(1_704_889_237_059_i64)), Some(base));
        assert_eq!(value_to_ms(&serde_json::json!(1_704_889_237)), Some(base - 59));
        assert_eq!(parse_ms("Wed, 10 Jan 2024 12:20:37 +0000"), Some(base - 59));
        assert_eq!(parse_ms("10 Jan 2024 12:20:37 GMT"), Some(base - 59));
        assert_eq!(parse_ms("2024-01-10"), Some(1_704_844_800_000));
        assert_eq!(parse_ms("1970-01-01T00:00:00Z"), Some(0));
    }

    #[test]
    fn nonsense_is_none() {
        for t in ["", "yesterday", "2024-13-01T00:00:00Z", "2024-01-10T25:00:00Z", "1e300", "2024-01-10T1"] {
            assert_eq!(parse_ms(t), None, "{t}");
        }
        assert_eq!(value_to_ms(&serde_json::json!(true)), None);
    }
}
