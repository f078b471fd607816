//! The vocabulary every layer shares: actions, kinds, resources and where they stand,
//! how an action came out, what a notice is about, and accounts. A leaf: it imports
//! nothing else of the crate, so every other module can use it.

mod account;
mod action;
mod kind;
mod metric;
mod notice;
mod outcome;
mod price;
mod resource;

pub use account::AccountRef;
pub use action::{Action, Asks, Mode};
pub use kind::{Kind, KindInfo};
pub use metric::{Measure, MetricQuery};
pub use notice::{Filter, NoticeKind, Severity};
pub use outcome::{AccountFailure, ListFailure, Outcome, ResourceResult};
pub use price::{ApiProduct, Part};
pub use resource::{Deployment, Detail, KindDetail, Phase, Resource};
