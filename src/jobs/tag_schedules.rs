//! Finding self-scheduled resources (`[tag_schedules]`): every resource of the kinds
//! asked for, in every account and region, whose tags carry `offhours:start` or
//! `offhours:stop`. Each kind's listing with no selector reads all its resources; those
//! without a time tag are dropped here.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::aws::CallCounter;
use crate::config::{Config, Schedule};
use crate::jobs::listing::{self, Read};
use crate::jobs::targets::Target;
use crate::model::Kind;
use crate::plan::tag_schedules::{Problem, Tagged, build};
use crate::schedule::tags::{START_TAG, STOP_TAG};

/// A kind and region (or an account) that could not be read: its resources are not
/// known this time.
#[derive(Debug, Clone)]
pub struct Unread {
    pub account: String,
    pub what: String,
    pub error: String,
}

/// Every resource carrying a time tag, over every account at once.
pub async fn discover(targets: &[Target], kinds: &[Kind]) -> (Vec<Tagged>, Vec<Unread>) {
    let calls = Arc::new(CallCounter::default());
    let everything = BTreeMap::new();
    let reads = targets.iter().map(|t| {
        let (calls, everything) = (&calls, &everything);
        async move {
            let regions = match &t.regions {
                Ok(r) => r,
                Err(e) => return (t, Err(e.clone())),
            };
            (t, Ok(listing::read(&t.aws, kinds, regions, Read::Tagged(everything), calls).await))
        }
    });
    let (mut tagged, mut unread) = (Vec::new(), Vec::new());
    for (t, read) in futures_util::future::join_all(reads).await {
        let listings = match read {
            Ok(l) => l,
            Err(error) => {
                unread.push(Unread { account: t.account.id.clone(), what: "its regions".into(), error });
                continue;
            }
        };
        for l in listings {
            match l.found {
                Ok(found) => tagged.extend(
                    found
                        .into_iter()
                        .filter(|r| r.tags.contains_key(START_TAG) || r.tags.contains_key(STOP_TAG))
                        .map(|resource| Tagged { account: t.account.clone(), resource }),
                ),
                Err(e) => {
                    unread.push(Unread { account: t.account.id.clone(), what: format!("{} in {}", l.kind, l.region), error: e.to_string() })
                }
            }
        }
    }
    (tagged, unread)
}

/// What the file's `[tag_schedules]` finds now: a schedule per resource whose tags
/// read, the resources left alone, and what could not be read.
pub struct Found {
    pub schedules: Vec<Schedule>,
    pub problems: Vec<Problem>,
    pub unread: Vec<Unread>,
}

/// Reads the self-scheduled resources of `targets` (the file's `[tag_schedules]`, or
/// its defaults when the file has none).
pub async fn find(config: &Config, targets: &[Target]) -> Found {
    let (kinds, max) = match &config.tag_schedules {
        Some(t) => (t.kinds.clone(), t.max_resources),
        None => (config.kinds.clone(), 500),
    };
    let (tagged, unread) = discover(targets, &kinds).await;
    let (schedules, problems) = build(&tagged, config.timezone, max);
    Found { schedules, problems, unread }
}
