//! Taskcluster's time format: UTC, always exactly three fraction digits (`2015-10-27T20:36:19.255Z`).

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

use crate::error::Error;

/// A point in time in UTC, with millisecond precision (what the wire carries, so a value
/// survives a round trip through JSON unchanged).
///
/// Serializes as `YYYY-MM-DDTHH:MM:SS.sssZ`; parses any RFC 3339 form (any offset, any number
/// of fraction digits).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(OffsetDateTime);

/// UTC, truncated to whole milliseconds.
fn normalize(t: OffsetDateTime) -> OffsetDateTime {
    let t = t.to_offset(UtcOffset::UTC);
    t.replace_nanosecond(t.nanosecond() / 1_000_000 * 1_000_000).unwrap_or(t)
}

impl Time {
    /// The current time.
    pub fn now() -> Self {
        Time(normalize(OffsetDateTime::now_utc()))
    }

    /// Now plus a Taskcluster offset expression such as `"2 days 3 hours"` or `"-1 year"`.
    pub fn from_now(expr: &str) -> Result<Self, Error> {
        Self::now().offset(expr)
    }

    /// `self` plus a Taskcluster offset expression (a year is 365 days, a month 30 days).
    pub fn offset(self, expr: &str) -> Result<Self, Error> {
        let (negative, seconds) = parse_offset(expr)?;
        let d = time::Duration::seconds(seconds);
        let t = if negative { self.0.checked_sub(d) } else { self.0.checked_add(d) };
        t.map(Time).ok_or_else(|| Error::invalid(format!("time offset {expr:?} leaves the representable range")))
    }

    /// Milliseconds since the Unix epoch.
    pub fn unix_millis(self) -> i64 {
        (self.0.unix_timestamp_nanos() / 1_000_000) as i64
    }

    /// From milliseconds since the Unix epoch.
    pub fn from_unix_millis(ms: i64) -> Result<Self, Error> {
        OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
            .map(Time)
            .map_err(|e| Error::invalid(format!("{ms} ms is out of range: {e}")))
    }

    /// The underlying `time::OffsetDateTime` (always UTC).
    pub fn as_offset_date_time(self) -> OffsetDateTime {
        self.0
    }
}

impl From<SystemTime> for Time {
    fn from(t: SystemTime) -> Self {
        Time(normalize(OffsetDateTime::from(t)))
    }
}

impl From<Time> for SystemTime {
    fn from(t: Time) -> Self {
        t.0.into()
    }
}

impl From<OffsetDateTime> for Time {
    fn from(t: OffsetDateTime) -> Self {
        Time(normalize(t))
    }
}

impl Time {
    /// `self + d`, or `None` past the representable range (year 9999).
    pub fn checked_add(self, d: Duration) -> Option<Time> {
        time::Duration::try_from(d).ok().and_then(|d| self.0.checked_add(d)).map(|t| Time(normalize(t)))
    }

    /// `self - d`, or `None` before the representable range.
    pub fn checked_sub(self, d: Duration) -> Option<Time> {
        time::Duration::try_from(d).ok().and_then(|d| self.0.checked_sub(d)).map(|t| Time(normalize(t)))
    }

    /// How long after `earlier` this is; `None` when `earlier` is later (like
    /// `SystemTime::duration_since`, a `std::time::Duration` cannot be negative).
    pub fn duration_since(self, earlier: Time) -> Option<Duration> {
        Duration::try_from(self.0 - earlier.0).ok()
    }
}

/// Panics past the representable range, as `SystemTime + Duration` does; see
/// [`Time::checked_add`].
impl std::ops::Add<Duration> for Time {
    type Output = Time;
    fn add(self, d: Duration) -> Time {
        Time(normalize(self.0 + d))
    }
}

/// Panics before the representable range, as `SystemTime - Duration` does; see
/// [`Time::checked_sub`].
impl std::ops::Sub<Duration> for Time {
    type Output = Time;
    fn sub(self, d: Duration) -> Time {
        Time(normalize(self.0 - d))
    }
}

impl std::ops::AddAssign<Duration> for Time {
    fn add_assign(&mut self, d: Duration) {
        *self = *self + d;
    }
}

impl std::ops::SubAssign<Duration> for Time {
    fn sub_assign(&mut self, d: Duration) {
        *self = *self - d;
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.0;
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.millisecond()
        )
    }
}

impl fmt::Debug for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Time({self})")
    }
}

impl FromStr for Time {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        // RFC 3339 allows a lower-case `t` and `z`; the parser wants upper case.
        OffsetDateTime::parse(&s.to_ascii_uppercase(), &Rfc3339)
            .map(Time::from)
            .map_err(|e| Error::invalid(format!("{s:?} is not an RFC 3339 time: {e}")))
    }
}

impl Serialize for Time {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let year = self.0.year();
        if !(0..10000).contains(&year) {
            return Err(serde::ser::Error::custom(format!("year {year} cannot be written in RFC 3339")));
        }
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        // Without the "invalid input:" prefix: whoever reports the decoding error adds its own.
        s.parse().map_err(|e| serde::de::Error::custom(crate::config::detail(e)))
    }
}

/// Parses `[+-] (<number> <unit>)+` into (negative, seconds).
fn parse_offset(expr: &str) -> Result<(bool, i64), Error> {
    let bad = |why: &str| Error::invalid(format!("invalid time offset {expr:?}: {why}"));
    let mut rest = expr.trim();
    let negative = rest.starts_with('-');
    if let Some(r) = rest.strip_prefix(['-', '+']) {
        rest = r.trim_start();
    }
    let mut total: i64 = 0;
    let mut any = false;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        if digits == 0 {
            return Err(bad("expected a number"));
        }
        let n: i64 = rest[..digits].parse().map_err(|_| bad("number too large"))?;
        rest = rest[digits..].trim_start();
        if rest.starts_with(['.', ',']) {
            return Err(bad("fractions are not supported (write 1h30m for 1.5h)"));
        }
        let letters = rest.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(rest.len());
        let unit = &rest[..letters];
        if unit.is_empty() {
            return Err(bad(&format!("missing a unit after {n} (e.g. {n}h, {n} days)")));
        }
        rest = rest[letters..].trim_start();
        let secs = unit_seconds(unit).ok_or_else(|| bad(&format!("unknown unit {unit:?}")))?;
        total = n.checked_mul(secs).and_then(|v| total.checked_add(v)).ok_or_else(|| bad("too large"))?;
        any = true;
    }
    if !any {
        return Err(bad("empty"));
    }
    Ok((negative, total))
}

/// Seconds per unit, with the abbreviations Taskcluster's clients accept.
fn unit_seconds(unit: &str) -> Option<i64> {
    const DAY: i64 = 86_400;
    Some(match unit.to_ascii_lowercase().as_str() {
        "y" | "yr" | "yrs" | "year" | "years" => 365 * DAY,
        "mo" | "mon" | "mons" | "month" | "months" => 30 * DAY,
        "w" | "wk" | "wks" | "week" | "weeks" => 7 * DAY,
        "d" | "day" | "days" => DAY,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3600,
        "m" | "min" | "mins" | "minute" | "minutes" => 60,
        "s" | "sec" | "secs" | "second" | "seconds" => 1,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_add_and_subtract() {
        let t: Time = "2024-01-31T23:59:59.500Z".parse().unwrap();
        let d = Duration::from_millis(1500);
        assert_eq!((t + d).to_string(), "2024-02-01T00:00:01.000Z");
        assert_eq!((t - d).to_string(), "2024-01-31T23:59:58.000Z");
        assert_eq!(t + d - d, t);
        let mut u = t;
        u += d;
        u -= Duration::from_secs(1);
        assert_eq!(u.to_string(), "2024-02-01T00:00:00.000Z");
        assert_eq!((t + d).duration_since(t), Some(d));
        assert_eq!(t.duration_since(t + d), None);
        assert_eq!(t.checked_add(Duration::from_secs(u64::MAX)), None);
        assert_eq!(t.checked_sub(Duration::from_secs(20_000 * 366 * 86_400)), None);
        assert_eq!(t.checked_sub(d), Some(t - d));
    }

    #[test]
    fn offset_mistakes_are_named() {
        let err = |expr: &str| parse_offset(expr).unwrap_err().to_string();
        assert!(err("1.5h").contains("fractions are not supported"), "{}", err("1.5h"));
        assert!(err("2").ends_with("missing a unit after 2 (e.g. 2h, 2 days)"), "{}", err("2"));
        assert!(err("1h 30").contains("missing a unit after 30"), "{}", err("1h 30"));
        assert!(err("3 fortnights").contains("unknown unit \"fortnights\""), "{}", err("3 fortnights"));
    }
}
