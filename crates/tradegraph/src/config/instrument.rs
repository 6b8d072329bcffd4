//! The bot's instrument: one of the three built in, or a custom one of the file's
//! `[[instruments]]`.

use super::file::{ConfigFile, HoursSpec, InstrumentSpec, SessionSpec};
use super::{ConfigError, Venue};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::BTreeSet;
use std::sync::Arc;
use tradegraph_core::instrument::parse_holidays;
use tradegraph_core::{Exchange, ExchangeSession, Instrument, Segment, Symbol, TradingSession};

/// The names of the built-in instruments.
pub(crate) const BUILT_IN: [&str; 3] = ["btc", "banknifty", "nifty"];

/// The first port of custom instruments' services (the built-in ones have 8001 to 8003).
const CUSTOM_PORT: u16 = 8010;

/// An instrument a bot can run on, with its defaults.
#[derive(Debug, Clone)]
pub(crate) struct Choice {
    pub(crate) name: String,
    pub(crate) instrument: Instrument,
    pub(crate) venue: Venue,
    /// The default port of its service.
    pub(crate) port: u16,
    /// The default Kite instrument token.
    pub(crate) kite_token: Option<u32>,
    /// The bundled sample of one-minute bars, relative to the repository root.
    pub(crate) sample: Option<&'static str>,
    /// Declared in the file.
    pub(crate) custom: bool,
}

/// A built-in instrument by name.
pub(crate) fn built_in(name: &str) -> Option<Choice> {
    let (instrument, venue, port, kite_token, sample) = match name {
        "btc" => (
            Instrument::btc_usdt(),
            Venue::Binance,
            8001,
            None,
            "examples/data/btcusdt-1m.csv",
        ),
        "banknifty" => (
            Instrument::bank_nifty(),
            Venue::Kite,
            8002,
            Some(260_105),
            "examples/data/banknifty-1m.csv",
        ),
        "nifty" => (
            Instrument::nifty_50(),
            Venue::Kite,
            8003,
            Some(256_265),
            "examples/data/nifty50-1m.csv",
        ),
        _ => return None,
    };
    Some(Choice {
        name: name.to_owned(),
        instrument,
        venue,
        port,
        kite_token,
        sample: Some(sample),
        custom: false,
    })
}

/// Every custom instrument of the file, checked.
pub(crate) fn custom(file: &ConfigFile) -> Result<Vec<Choice>, ConfigError> {
    let mut choices: Vec<Choice> = Vec::with_capacity(file.doc.instruments.len());
    for (index, entry) in file.doc.instruments.iter().enumerate() {
        let spec = entry.get_ref();
        let line = file.line_of(entry.span().start);
        let fail = |field: &str, message: String| ConfigError::Instrument {
            path: file.path.clone(),
            line,
            name: spec.name.clone(),
            field: field.to_owned(),
            message,
        };
        check_name(&spec.name).map_err(|m| fail("name", m))?;
        if choices.iter().any(|c| c.name == spec.name) {
            return Err(fail(
                "name",
                "declared twice; give each instrument its own name".into(),
            ));
        }
        let port = u16::try_from(index)
            .ok()
            .and_then(|i| CUSTOM_PORT.checked_add(i))
            .ok_or_else(|| fail("name", "too many instruments".into()))?;
        choices.push(Choice {
            name: spec.name.clone(),
            instrument: build(spec, file, &fail)?,
            venue: spec.venue,
            port,
            kite_token: None,
            sample: None,
            custom: true,
        });
    }
    Ok(choices)
}

fn check_name(name: &str) -> Result<(), String> {
    if BUILT_IN.contains(&name) {
        return Err(format!(
            "`{name}` is a built-in instrument; give the custom one another name"
        ));
    }
    let valid = !name.is_empty()
        && name.len() <= 32
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if valid {
        Ok(())
    } else {
        Err(
            "use 1 to 32 lowercase letters, digits, `-` or `_` (it names the `.env.<name>` file)"
                .to_owned(),
        )
    }
}

fn build(
    spec: &InstrumentSpec,
    file: &ConfigFile,
    fail: &dyn Fn(&str, String) -> ConfigError,
) -> Result<Instrument, ConfigError> {
    if spec.symbol.trim().is_empty() {
        return Err(fail("symbol", "must not be empty".into()));
    }
    for (field, value) in [("tick_size", spec.tick_size), ("lot_size", spec.lot_size)] {
        if value <= Decimal::ZERO {
            return Err(fail(field, format!("{value} must be greater than 0")));
        }
    }
    let exchange = match (spec.exchange, spec.venue) {
        (Some(Exchange::Binance), Venue::Kite)
        | (Some(Exchange::Nse | Exchange::Bse), Venue::Binance) => {
            return Err(fail(
                "exchange",
                format!("does not match venue `{}`", spec.venue.as_str()),
            ))
        }
        (Some(exchange), _) => exchange,
        (None, Venue::Binance) => Exchange::Binance,
        (None, Venue::Kite) => Exchange::Nse,
        (None, Venue::None) => {
            return Err(fail(
                "exchange",
                "required with venue \"none\": \"BINANCE\", \"NSE\" or \"BSE\"".into(),
            ))
        }
    };
    let segment =
        match (spec.segment, spec.venue) {
            (Some(segment), _) => segment,
            (None, Venue::Binance) => Segment::Spot,
            (None, _) => return Err(fail(
                "segment",
                "required unless the venue is binance: \"index\", \"equity\", \"derivatives\", \
                 \"currency\", \"commodity\" or \"spot\""
                    .into(),
            )),
        };
    let session = match &spec.session {
        SessionSpec::AlwaysOpen => TradingSession::AlwaysOpen,
        SessionSpec::Nse => TradingSession::Exchange(ExchangeSession::nse()),
        SessionSpec::Hours(hours) => TradingSession::Exchange(exchange_hours(hours, file, fail)?),
    };
    Ok(Instrument {
        symbol: Symbol::new(spec.symbol.trim()),
        exchange,
        segment,
        tick_size: spec.tick_size,
        lot_size: spec.lot_size,
        currency: spec.currency,
        session,
    })
}

fn exchange_hours(
    hours: &HoursSpec,
    file: &ConfigFile,
    fail: &dyn Fn(&str, String) -> ConfigError,
) -> Result<ExchangeSession, ConfigError> {
    let mut holidays: BTreeSet<NaiveDate> = hours.holidays.iter().map(|d| d.0).collect();
    if let Some(list) = &hours.holidays_file {
        let path = file.resolve(list);
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
            path: path.clone(),
            source,
        })?;
        let dates = parse_holidays(&text)
            .map_err(|e| fail("session.holidays_file", format!("{}: {e}", path.display())))?;
        holidays.extend(dates);
    }
    let offset = hours.timezone_offset_minutes;
    let time_zone = hours.time_zone.clone().unwrap_or_else(|| {
        let sign = if offset < 0 { '-' } else { '+' };
        let abs = offset.unsigned_abs();
        format!("UTC{sign}{:02}:{:02}", abs / 60, abs % 60)
    });
    let session = ExchangeSession {
        time_zone,
        utc_offset_minutes: offset,
        open: hours.open.0,
        close: hours.close.0,
        holidays: Arc::new(holidays),
    };
    if session.open >= session.close {
        return Err(fail(
            "session.open",
            format!(
                "open {} is not before close {}",
                session.open.format("%H:%M"),
                session.close.format("%H:%M")
            ),
        ));
    }
    session
        .validate()
        .map_err(|e| fail("session.timezone_offset_minutes", e.to_string()))?;
    Ok(session)
}
