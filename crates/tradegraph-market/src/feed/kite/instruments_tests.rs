#![allow(clippy::unwrap_used)]
use super::*;
use proptest::prelude::*;

const HEADER: &str = "instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,lot_size,instrument_type,segment,exchange\n";

fn dump(rows: &[&str]) -> String {
    let mut text = HEADER.to_owned();
    for row in rows {
        text.push_str(row);
        text.push('\n');
    }
    text
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

const BANK_JAN: &str =
    "12074242,47165,BANKNIFTY25JANFUT,\"BANKNIFTY\",0,2025-01-30,0,0.05,30,FUT,NFO-FUT,NFO";
const BANK_FEB: &str =
    "12075010,47168,BANKNIFTY25FEBFUT,\"BANKNIFTY\",0,2025-02-27,0,0.05,30,FUT,NFO-FUT,NFO";
const BANK_MAR: &str =
    "12076000,47170,BANKNIFTY25MARFUT,\"BANKNIFTY\",0,2025-03-27,0,0.05,30,FUT,NFO-FUT,NFO";
const NIFTY_JAN: &str =
    "13238786,51714,NIFTY25JANFUT,\"NIFTY\",0,2025-01-30,0,0.05,75,FUT,NFO-FUT,NFO";
const BANK_CE: &str = "10300674,40237,BANKNIFTY25JAN48000CE,\"BANKNIFTY\",512.5,2025-01-08,48000,0.05,30,CE,NFO-OPT,NFO";
const INDEX: &str = "260105,1016,NIFTY BANK,,0,,0,0,0,EQ,INDICES,NSE";

#[test]
fn rows_become_typed_records_exactly() {
    let rows = parse_instruments(&dump(&[BANK_JAN, BANK_CE, INDEX])).unwrap();
    assert_eq!(rows.len(), 3);
    let fut = &rows[0];
    assert_eq!(fut.instrument_token, 12_074_242);
    assert_eq!(fut.exchange_token, 47_165);
    assert_eq!(fut.tradingsymbol, "BANKNIFTY25JANFUT");
    assert_eq!(fut.name, "BANKNIFTY");
    assert_eq!(fut.expiry, Some(date(2025, 1, 30)));
    assert_eq!(fut.tick_size, Decimal::new(5, 2));
    assert_eq!((fut.lot_size, fut.is_future()), (30, true));
    assert_eq!(
        (fut.segment.as_str(), fut.exchange.as_str()),
        ("NFO-FUT", "NFO")
    );
    assert_eq!(rows[1].last_price, Decimal::new(5125, 1));
    assert_eq!(rows[1].strike, Decimal::from(48_000));
    assert_eq!((rows[2].expiry, rows[2].name.as_str()), (None, ""));
    assert!(!rows[2].is_future());
}

#[test]
fn columns_may_come_in_another_order() {
    let text = "exchange,segment,instrument_type,lot_size,tick_size,strike,expiry,last_price,name,tradingsymbol,exchange_token,instrument_token,extra\n\
                NFO,NFO-FUT,FUT,75,0.1,0,2025-01-30,0,NIFTY,NIFTY25JANFUT,51714,13238786,x\n";
    let rows = parse_instruments(text).unwrap();
    assert_eq!(rows[0].tradingsymbol, "NIFTY25JANFUT");
    assert_eq!(
        (rows[0].lot_size, rows[0].tick_size),
        (75, Decimal::new(1, 1))
    );
}

#[test]
fn bad_rows_are_named_by_line_and_column() {
    let cases = [
        (
            "x,47165,A,B,0,,0,0.05,30,FUT,NFO-FUT,NFO",
            "instrument_token `x`",
        ),
        (
            "1,2,A,B,0,2025-13-01,0,0.05,30,FUT,NFO-FUT,NFO",
            "expiry `2025-13-01`",
        ),
        ("1,2,A,B,0,,0,five,30,FUT,NFO-FUT,NFO", "tick_size `five`"),
        ("1,2,A,B,0,,0,0.05,-3,FUT,NFO-FUT,NFO", "lot_size `-3`"),
        (
            "1,2,A,B,0,,0,-0.05,1,FUT,NFO-FUT,NFO",
            "tick_size -0.05 is negative",
        ),
        (
            "1,2,,B,0,,0,0.05,1,FUT,NFO-FUT,NFO",
            "tradingsymbol is empty",
        ),
        ("1,2,A,B,0", "line 3"),
    ];
    for (row, wanted) in cases {
        let err = parse_instruments(&dump(&[BANK_JAN, row]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 3"), "{row}: {err}");
        assert!(err.contains(wanted), "{row}: {err}");
    }
    let err = parse_instruments("a,b\n1,2\n").unwrap_err().to_string();
    assert!(
        err.contains("line 1") && err.contains("instrument_token"),
        "{err}"
    );
}

#[test]
fn the_nearest_month_rolls_before_expiry() {
    let all =
        parse_instruments(&dump(&[BANK_MAR, BANK_FEB, BANK_CE, NIFTY_JAN, BANK_JAN])).unwrap();
    let pick = |d: NaiveDate, roll| {
        nearest_future(&all, "BANKNIFTY", d, roll).map(|i| i.tradingsymbol.as_str())
    };
    assert_eq!(pick(date(2025, 1, 2), 2), Some("BANKNIFTY25JANFUT"));
    assert_eq!(pick(date(2025, 1, 27), 2), Some("BANKNIFTY25JANFUT"));
    // Two days before the expiry: February.
    assert_eq!(pick(date(2025, 1, 28), 2), Some("BANKNIFTY25FEBFUT"));
    assert_eq!(pick(date(2025, 1, 29), 0), Some("BANKNIFTY25JANFUT"));
    assert_eq!(pick(date(2025, 1, 30), 0), Some("BANKNIFTY25FEBFUT"));
    assert_eq!(pick(date(2025, 3, 26), 0), Some("BANKNIFTY25MARFUT"));
    assert_eq!(pick(date(2025, 3, 27), 0), None);
    assert_eq!(
        nearest_future(&all, "NIFTY", date(2025, 1, 2), 2).map(|i| i.lot_size),
        Some(75)
    );
    assert!(nearest_future(&all, "FINNIFTY", date(2025, 1, 2), 2).is_none());
}

#[test]
fn a_bad_row_elsewhere_is_skipped_and_counted_but_not_one_the_instrument_needs() {
    let bad_equity = "x,1,INFY,INFY,0,,0,0.05,1,EQ,NSE,NSE";
    let bad_future =
        "12077000,47171,BANKNIFTY25APRFUT,\"BANKNIFTY\",0,2025-04-3O,0,0.05,30,FUT,NFO-FUT,NFO";
    let short = "1,2,A,B,0";
    let read = read_instruments(&dump(&[BANK_JAN, bad_equity, NIFTY_JAN, short])).unwrap();
    assert_eq!(read.instruments.len(), 2);
    let lines: Vec<u64> = read.bad_rows.iter().map(|r| r.line).collect();
    assert_eq!(lines, [3, 5]);
    assert!(read.bad_rows[0].reason.contains("instrument_token `x`"));
    assert!(read.check_needed("BANKNIFTY").is_ok());
    assert!(read.check_needed("BANKNIFTY25JANFUT").is_ok());
    let err = read.check_needed("INFY").unwrap_err().to_string();
    assert!(err.contains("line 3"), "{err}");
    let with_bad_future = read_instruments(&dump(&[BANK_JAN, bad_future])).unwrap();
    let err = with_bad_future
        .check_needed("BANKNIFTY")
        .unwrap_err()
        .to_string();
    assert!(err.contains("line 3") && err.contains("expiry"), "{err}");
    assert!(with_bad_future.check_needed("NIFTY").is_ok());
    assert!(read_instruments("a,b\n1,2\n").is_err());
}

proptest! {
    #[test]
    fn any_input_is_parsed_or_refused_without_panicking(text in "\\PC{0,400}") {
        let _ = parse_instruments(&text);
        let _ = parse_instruments(&format!("{HEADER}{text}"));
        if let Ok(dump) = read_instruments(&format!("{HEADER}{text}")) {
            let _ = dump.check_needed("BANKNIFTY");
        }
    }

    #[test]
    fn generated_rows_round_trip(
        token in 1u32..u32::MAX, lot in 1u32..10_000, ticks in 1i64..1_000,
        day in 0i64..3_000, name in "[A-Z]{3,12}",
    ) {
        let expiry = date(2024, 1, 1) + chrono::Duration::days(day);
        let tick = Decimal::new(ticks, 2);
        let row = format!("{token},7,{name}FUT,\"{name}\",0,{expiry},0,{tick},{lot},FUT,NFO-FUT,NFO");
        let rows = parse_instruments(&dump(&[&row])).unwrap();
        prop_assert_eq!(rows.len(), 1);
        prop_assert_eq!(rows[0].instrument_token, token);
        prop_assert_eq!(rows[0].lot_size, lot);
        prop_assert_eq!(rows[0].tick_size, tick);
        prop_assert_eq!(rows[0].expiry, Some(expiry));
        // The chosen future always expires more than `roll` days after the day asked.
        for roll in 0..4u32 {
            let today = expiry - chrono::Duration::days(i64::from(roll) + 1);
            prop_assert!(nearest_future(&rows, &name, today, roll).is_some());
            let later = expiry - chrono::Duration::days(i64::from(roll));
            prop_assert!(nearest_future(&rows, &name, later, roll).is_none());
        }
    }
}
