//! Calendar arithmetic on day numbers, and digit formatting without `format!`, because every
//! generated person needs a birth date and this runs millions of times.

/// A proleptic Gregorian date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ymd {
    pub year: u32,
    pub month: u32,
    pub day: u32,
}

/// Days since 1970-01-01 (H. Hinnant's `days_from_civil`); total for all dates we use.
pub(crate) fn days_from_civil(year: u32, month: u32, day: u32) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(month) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`] for days on or after 1970-01-01 minus a few millennia
/// (every date here is between 1965 and 2026).
pub(crate) fn civil_from_days(days: i64) -> Ymd {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // Years 1965–2026 and months/days of a real date always fit.
    Ymd {
        year: u32::try_from(year).unwrap_or(0),
        month: u32::try_from(month).unwrap_or(1),
        day: u32::try_from(day).unwrap_or(1),
    }
}

/// Appends `value` as exactly `width` decimal digits (zero-padded, high digits dropped).
pub(crate) fn push_digits(out: &mut String, value: u32, width: u32) {
    for k in (0..width).rev() {
        let digit = (value / 10u32.pow(k)) % 10;
        out.push(char::from(b'0' + digit as u8));
    }
}

impl Ymd {
    /// "YYYYMMDD", as inside an ID number.
    pub(crate) fn push_compact(self, out: &mut String) {
        push_digits(out, self.year, 4);
        push_digits(out, self.month, 2);
        push_digits(out, self.day, 2);
    }

    /// "YYYY-MM-DD".
    pub(crate) fn iso(self) -> String {
        let mut out = String::with_capacity(10);
        push_digits(&mut out, self.year, 4);
        out.push('-');
        push_digits(&mut out, self.month, 2);
        out.push('-');
        push_digits(&mut out, self.day, 2);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_day_we_generate() {
        let start = days_from_civil(1965, 1, 1);
        let end = days_from_civil(2027, 1, 1);
        assert_eq!(end - start, 62 * 365 + 15);
        for d in start..end {
            let ymd = civil_from_days(d);
            assert_eq!(days_from_civil(ymd.year, ymd.month, ymd.day), d);
        }
        assert_eq!(
            civil_from_days(days_from_civil(2020, 2, 29)).iso(),
            "2020-02-29"
        );
        assert_eq!(days_from_civil(1970, 1, 1), 0);
    }
}
