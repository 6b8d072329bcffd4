//! The venue's instruments dump: Kite's CSV columns, BANKNIFTY futures around today.

use rust_decimal::Decimal;
use std::time::{SystemTime, UNIX_EPOCH};

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];

/// The civil date of a day count since 1970-01-01 (proleptic Gregorian).
fn civil(days: i64) -> (i64, usize, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, usize::try_from(month - 1).unwrap_or(0), day)
}

/// Today in India, as days since 1970-01-01.
fn ist_today() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
    (secs + 19_800).div_euclid(86_400)
}

/// A dump of three BANKNIFTY futures expiring 2, 30 and 60 days from today (India), and the
/// trading symbol of the one expiring in 30 days.
pub(crate) fn banknifty(lot: u32, tick: Decimal) -> (String, String) {
    let csv = futures(lot, tick, &[(2, 2), (30, 30), (60, 60)]);
    (csv, symbol(30))
}

/// The dump of the day the contract named for 30 days ahead expires tomorrow (inside any roll
/// of a day or more), and the trading symbol of the next one (named for 60 days ahead).
pub(crate) fn banknifty_rolled(lot: u32, tick: Decimal) -> (String, String) {
    let csv = futures(lot, tick, &[(2, 2), (30, 1), (60, 60)]);
    (csv, symbol(60))
}

/// The symbol of the future named for `ahead` days from today.
fn symbol(ahead: i64) -> String {
    let (year, month, day) = civil(ist_today() + ahead);
    format!(
        "BANKNIFTY{:02}{}{day:02}FUT",
        year.rem_euclid(100),
        MONTHS[month]
    )
}

/// BANKNIFTY futures: (days ahead of its name, days ahead of its expiry) each.
fn futures(lot: u32, tick: Decimal, contracts: &[(i64, i64)]) -> String {
    let mut csv = String::from("instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,lot_size,instrument_type,segment,exchange\n");
    let today = ist_today();
    for (i, (named, expires)) in contracts.iter().enumerate() {
        let (year, month, day) = civil(today + expires);
        csv.push_str(&format!(
            "{},{},{},\"BANKNIFTY\",0,{year:04}-{:02}-{day:02},0,{tick},{lot},FUT,NFO-FUT,NFO\n",
            12_074_242 + i,
            47_165 + i,
            symbol(*named),
            month + 1
        ));
    }
    csv
}

/// Whether the dump lists `tradingsymbol`.
pub(crate) fn lists(dump: &str, tradingsymbol: &str) -> bool {
    dump.lines()
        .any(|line| line.split(',').nth(2) == Some(tradingsymbol))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_are_right() {
        assert_eq!(civil(0), (1970, 0, 1));
        assert_eq!(civil(20_088), (2024, 11, 31));
        assert_eq!(civil(19_782), (2024, 1, 29));
    }
}
