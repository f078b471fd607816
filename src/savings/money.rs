//! Fixed-point money: hourly prices ([`Rate`]) to 10 decimal places, as the Price List
//! gives them, amounts ([`Money`]) in cents, hours, each figure rounded once.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

/// Seconds in an hour, the unit of every price.
pub(super) const HOUR: i128 = 3_600;
/// A [`Rate`]'s units per unit of currency.
pub(super) const RATE_SCALE: i64 = 10_000_000_000;
/// [`Rate`] units in a cent.
pub(super) const RATE_UNITS_PER_CENT: i128 = (RATE_SCALE / 100) as i128;
/// A month, for [`projected_monthly`], is 30.44 days: 3044/700 weeks.
pub(super) const MONTH_PER_WEEK: (i128, i128) = (3_044, 700);

/// An hourly price, fixed-point to 10 decimal places (the Price List's precision).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Rate(pub(super) i64);

impl Rate {
    /// From its units of 10^-10 of the currency.
    pub const fn from_units(units: i64) -> Rate {
        Rate(units)
    }

    /// Its units of 10^-10 of the currency.
    pub const fn units(self) -> i64 {
        self.0
    }

    /// From a number as the config file gives it, rounded to 10 decimal places.
    pub fn from_f64(value: f64) -> Result<Rate, String> {
        let units = (value * RATE_SCALE as f64).round();
        if !value.is_finite() || value < 0.0 || units >= i64::MAX as f64 {
            return Err(format!("a price must be a number from 0 up, got {value}"));
        }
        Ok(Rate(units as i64))
    }
}

impl FromStr for Rate {
    type Err = String;

    /// A decimal such as `0.0104000000`: digits, at most 10 of them (not counting
    /// trailing zeros) after the point.
    fn from_str(text: &str) -> Result<Rate, String> {
        let bad = || format!("not a price: {text:?} (expected a decimal such as 0.0104)");
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let fraction = fraction.trim_end_matches('0');
        if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || !fraction.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        if fraction.len() > 10 {
            return Err(format!("not a price: {text:?} has more than 10 decimal places"));
        }
        let whole: i64 = whole.parse().map_err(|_| bad())?;
        let fraction: i64 = if fraction.is_empty() { 0 } else { format!("{fraction:0<10}").parse().map_err(|_| bad())? };
        whole.checked_mul(RATE_SCALE).and_then(|w| w.checked_add(fraction)).map(Rate).ok_or_else(bad)
    }
}

impl fmt::Display for Rate {
    /// At least two decimals, more only when they are not zero: `0.0104`, `1.50`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fraction = format!("{:010}", self.0 % RATE_SCALE);
        let fraction = fraction.trim_end_matches('0');
        write!(f, "{}.{fraction:0<2}", self.0 / RATE_SCALE)
    }
}

/// An hourly price in a currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Price {
    pub per_hour: Rate,
    /// ISO 4217 code, `USD` from the Price List.
    pub currency: String,
}

/// An amount of money, exact to the cent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money {
    pub cents: i64,
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.cents < 0 { "-" } else { "" };
        write!(f, "{sign}{}.{:02}", self.cents.unsigned_abs() / 100, self.cents.unsigned_abs() % 100)
    }
}

impl Serialize for Money {
    /// A JSON number with at most two decimals (`12.3` for 12.30).
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.cents as f64 / 100.0)
    }
}

/// A duration of resource time, exact to the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hours {
    pub seconds: i64,
}

impl Hours {
    /// In hundredths of an hour, rounded half away from zero.
    pub fn hundredths(self) -> i64 {
        div_round(self.seconds as i128 * 100, HOUR) as i64
    }
}

impl fmt::Display for Hours {
    /// Hours to two decimals: `13.00`, `0.25`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = self.hundredths();
        let sign = if h < 0 { "-" } else { "" };
        write!(f, "{sign}{}.{:02}", h.unsigned_abs() / 100, h.unsigned_abs() % 100)
    }
}

impl Serialize for Hours {
    /// A JSON number of hours, to two decimals.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.hundredths() as f64 / 100.0)
    }
}

/// `n / d` rounded half away from zero (`d` > 0).
pub(super) fn div_round(n: i128, d: i128) -> i128 {
    let half = d / 2;
    if n >= 0 { (n + half) / d } else { -((-n + half) / d) }
}
