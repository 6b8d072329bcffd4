//! `[live]`: what live trading needs besides the feed's keys.

use super::Resolver;
use crate::config::{ConfigError, KiteApp, LiveSettings};
use rust_decimal::Decimal;
use tradegraph_broker::live::kite::KiteProduct;

/// Base-asset holdings that are not the bot's (Binance).
pub const BINANCE_RESERVED_BASE_VAR: &str = "BINANCE_RESERVED_BASE";
/// Kite's product: `MIS` or `NRML`.
pub const KITE_PRODUCT_VAR: &str = "KITE_PRODUCT";
/// Where `tradegraph kite login` keeps the day's token.
pub const DATA_DIR_VAR: &str = "TRADEGRAPH_DATA_DIR";

impl Resolver<'_> {
    /// `[live] binance_reserved_base` (not negative), `kite_product` (MIS or NRML) and
    /// `data_dir` (relative to the file's directory in the file, else to the working
    /// directory; `data` unless set).
    pub(super) fn live_trading(&mut self) -> Result<LiveSettings, ConfigError> {
        let section = self.doc().map(|d| &d.live);
        let reserved = section.and_then(|l| l.binance_reserved_base);
        let product = section.and_then(|l| l.kite_product.clone());
        let dir = self.file_path(section.and_then(|l| l.data_dir.as_deref()));
        let key = "live.binance_reserved_base";
        let binance_reserved_base = self.pick(
            key,
            None,
            Some(BINANCE_RESERVED_BASE_VAR),
            |v| {
                v.trim().parse::<Decimal>().map_err(|_| {
                    format!("`{v}` is not a quantity of the base asset like 0 or 0.25")
                })
            },
            reserved,
            || Decimal::ZERO,
        )?;
        if binance_reserved_base < Decimal::ZERO {
            return Err(self.invalid(
                key,
                format!(
                    "{binance_reserved_base} must not be negative (0: every holding is the bot's)"
                ),
            ));
        }
        let product = self.pick(
            "live.kite_product",
            None,
            Some(KITE_PRODUCT_VAR),
            |v| Ok(v.to_owned()),
            product,
            || "MIS".to_owned(),
        )?;
        let kite_product = product.parse::<KiteProduct>().map_err(|_| {
            self.invalid(
                "live.kite_product",
                format!(
                    "`{product}` is not a Kite product: use MIS (intraday) or NRML \
                     ({KITE_PRODUCT_VAR}, `[live] kite_product`)"
                ),
            )
        })?;
        let cwd = self.cwd;
        let data_dir = self.pick(
            "live.data_dir",
            None,
            Some(DATA_DIR_VAR),
            |v| Ok(cwd.join(v)),
            dir,
            || cwd.join("data"),
        )?;
        let kite_app = KiteApp {
            api_key: self.secret("feeds.kite.api_key", "KITE_API_KEY"),
            api_secret: self.secret("kite.api_secret", "KITE_API_SECRET"),
            api_url: self.kite_api_url()?,
        };
        Ok(LiveSettings {
            binance_reserved_base,
            kite_product,
            data_dir,
            kite_app,
        })
    }
}
