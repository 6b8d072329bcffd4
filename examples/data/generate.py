#!/usr/bin/env python3
"""Sample OHLCV files for the examples (see README.md next to this script).

Writes, next to this script, CSV files with the columns
``timestamp,open,high,low,close,volume`` (timestamp RFC 3339 UTC):

  btcusd-1mo.csv     REAL. BTC/USD monthly bars 2012-01..2024-12 (156 rows),
                     copied from backtesting 0.6.6 (PyPI), file
                     backtesting/test/BTCUSD.csv.  Each bar is stamped with the
                     month's last day at 00:00 UTC, as in the source.
  nifty50-1m.csv     SYNTHETIC. Nifty 50, 1-minute bars, 5 NSE sessions.
  banknifty-1m.csv   SYNTHETIC. Bank Nifty, 1-minute bars, 5 NSE sessions.
  btcusdt-1m.csv     SYNTHETIC, only with --with-synthetic-btc. BTC/USDT,
                     1-minute bars over 3 days (no real 1-minute BTC data ships
                     in any PyPI package we checked).

The synthetic NSE sessions are 2025-02-03 .. 2025-02-07 (Mon-Fri, no NSE
holiday), 09:15-15:29 Asia/Kolkata = 03:45-09:59 UTC, 375 bars a day.  Prices
are a seeded geometric random walk (numpy default_rng, fixed seeds) with an
overnight gap, a U-shaped intraday volatility profile, and every price a
multiple of the 0.05 tick (prices are generated as integer tick counts and
printed exactly).  An index has no traded volume of its own (Kite reports 0),
so "volume" imitates the near-month index future's traded quantity per minute:
a whole number of lots (Nifty lot 75, Bank Nifty lot 30), larger near the open
and the close.  high >= max(open, close) and low <= min(open, close) always.

How to run (from the repository root; only PyPI is needed):

    python3 -m venv /tmp/datavenv
    /tmp/datavenv/bin/pip install numpy==2.4.6
    /tmp/datavenv/bin/pip install --no-deps backtesting==0.6.6   # data only
    /tmp/datavenv/bin/python examples/data/generate.py [--with-synthetic-btc]

backtesting is located with importlib and never imported, so its own
dependencies are not needed.
"""

import argparse
import csv
import datetime as dt
import importlib.util
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
UTC = dt.timezone.utc
HEADER = ["timestamp", "open", "high", "low", "close", "volume"]
NSE_DAYS = [dt.date(2025, 2, d) for d in (3, 4, 5, 6, 7)]
BARS_PER_SESSION = 375  # 09:15 .. 15:29 IST
SESSION_OPEN_UTC = dt.time(3, 45)  # 09:15 IST (UTC+05:30, no DST)


def rfc3339(t):
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write(name, rows):
    path = os.path.join(HERE, name)
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(HEADER)
        w.writerows(rows)
    print(f"{name}: {len(rows)} rows, {os.path.getsize(path)} bytes")


def real_btc_monthly():
    spec = importlib.util.find_spec("backtesting")
    if spec is None:
        sys.exit("backtesting is not installed: pip install --no-deps backtesting==0.6.6")
    path = os.path.join(spec.submodule_search_locations[0], "test", "BTCUSD.csv")
    with open(path, newline="") as f:
        source = list(csv.reader(f))[1:]  # header: ,Open,High,Low,Close,Volume
    rows = []
    for date, *values in source:
        t = dt.datetime.fromisoformat(date).replace(tzinfo=UTC)
        rows.append([rfc3339(t)] + values)  # values copied verbatim
    return rows


def ticks_to_text(ticks):
    """Integer count of 0.05 ticks -> exact decimal text, e.g. 1020001 -> '51000.05'."""
    return f"{ticks // 20}.{(ticks % 20) * 5:02d}"


def nse_index(seed, start_price, minute_sigma, lot, mean_lots):
    """Five NSE sessions of 1-minute bars, prices in 0.05 ticks."""
    rng = np.random.default_rng(seed)
    t = np.arange(BARS_PER_SESSION)
    # U-shaped volatility and volume: busiest at the open, busy again into the close.
    shape = 1.0 + 1.5 * np.exp(-t / 20.0) + 0.6 * np.exp(-(BARS_PER_SESSION - 1 - t) / 30.0)
    rows = []
    close = round(start_price / 0.05)
    for day in NSE_DAYS:
        start = dt.datetime.combine(day, SESSION_OPEN_UTC, tzinfo=UTC)
        prev = close * np.exp(rng.normal(0.0, 0.004))  # overnight gap
        for i in range(BARS_PER_SESSION):
            sigma = minute_sigma * shape[i]
            open_ = prev if i else round(prev)
            open_ = int(round(open_ + rng.normal(0.0, 0.15 * sigma * open_)))
            close = int(round(open_ * np.exp(rng.normal(0.0, sigma))))
            high = max(open_, close) + int(abs(rng.normal(0.0, 0.5 * sigma * close)))
            low = min(open_, close) - int(abs(rng.normal(0.0, 0.5 * sigma * close)))
            lots = max(1, int(rng.lognormal(np.log(mean_lots * shape[i] / 1.3), 0.6)))
            stamp = start + dt.timedelta(minutes=i)
            rows.append([rfc3339(stamp)] + [ticks_to_text(x) for x in (open_, high, low, close)]
                        + [str(lots * lot)])
            prev = close
    return rows


def synthetic_btc(seed=7, start_price=95_000.0, days=3):
    """1-minute BTC/USDT bars, 2-decimal prices, volume in BTC (5 decimals)."""
    rng = np.random.default_rng(seed)
    n = days * 24 * 60
    start = dt.datetime(2024, 12, 2, tzinfo=UTC)
    sigma = 0.0008 * np.where((np.arange(n) // 360) % 4 == 2, 2.0, 1.0)  # a busier 6 h in 24 h
    close = start_price * np.exp(np.cumsum(rng.normal(0.0, sigma)))
    open_ = np.concatenate([[start_price], close[:-1]])
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0.0, 0.5 * sigma)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0.0, 0.5 * sigma)))
    volume = rng.lognormal(np.log(15.0), 0.8, n) * sigma / 0.0008
    rows = []
    for i in range(n):
        o, c = round(open_[i], 2), round(close[i], 2)
        h, l = max(round(high[i], 2), o, c), min(round(low[i], 2), o, c)
        rows.append([rfc3339(start + dt.timedelta(minutes=i))]
                    + [f"{x:.2f}" for x in (o, h, l, c)] + [f"{volume[i]:.5f}"])
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--with-synthetic-btc", action="store_true",
                        help="also write the synthetic btcusdt-1m.csv")
    args = parser.parse_args()
    write("btcusd-1mo.csv", real_btc_monthly())
    write("nifty50-1m.csv", nse_index(seed=50, start_price=24_000.0, minute_sigma=0.00035,
                                      lot=75, mean_lots=300))
    write("banknifty-1m.csv", nse_index(seed=51, start_price=51_000.0, minute_sigma=0.00045,
                                        lot=30, mean_lots=120))
    if args.with_synthetic_btc:
        write("btcusdt-1m.csv", synthetic_btc())


if __name__ == "__main__":
    main()
