//! What offhours saved (pure, no I/O, no clock): the resource-hours it kept resources
//! off, from the ledger's changes, and their estimated worth at hourly prices.
//!
//! Layout: [`hours_off`] turns [`Change`]s into [`Interval`]s (from each stop offhours
//! made to the next start, clipped to a window); [`report`] groups them ([`GroupBy`])
//! and prices them with [`Prices`] (`[savings.prices]` overrides first, then prices
//! from the Price List API, cached with [`PriceCache`]; a resource's price is the sum
//! of its [`parts`]: a DB cluster's members); [`off_seconds_per_week`],
//! [`governed`] and [`projected`] estimate a month ahead from each schedule's off hours
//! in the week from now and the resources it governs now; [`Tally`] keeps a window's
//! hours for the daemon's metrics and status page. Money is fixed-point: hourly prices ([`Rate`]) to
//! 10 decimal places, as the Price List gives them, amounts ([`Money`]) in cents, each
//! figure rounded once (half away from zero) from its exact value.

pub use crate::model::{ApiProduct, Part};

mod intervals;
mod money;
mod prices;
mod projection;
mod report;

pub use intervals::*;
pub use money::*;
pub use prices::*;
pub use projection::*;
pub use report::*;

#[cfg(test)]
mod tests;
