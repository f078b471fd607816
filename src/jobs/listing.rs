//! The one listing every job uses: what a set of kinds holds in a set of regions of one
//! account, every (kind, region) read at once (the regions' bounds on calls in flight
//! pace them), each answer kept apart so that one failed read leaves the others.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::aws::{Aws, AwsError, CallCounter};
use crate::config::Schedule;
use crate::model::{Kind, Resource};

/// What to read of each kind.
#[derive(Debug, Clone, Copy)]
pub enum Read<'a> {
    /// Every resource carrying all these tags (a schedule's selector).
    Tagged(&'a BTreeMap<String, String>),
    /// The resources of these ids (gone ones are absent).
    Ids(&'a [String]),
}

/// What a schedule reads, and where: its tag selector in every region, or (a
/// resource's own schedule) its ids in their region.
pub fn of_schedule<'a>(schedule: &'a Schedule, selector: &'a BTreeMap<String, String>, regions: &'a [String]) -> (Read<'a>, &'a [String]) {
    match &schedule.only {
        Some(only) => (Read::Ids(&only.ids), std::slice::from_ref(&only.region)),
        None => (Read::Tagged(selector), regions),
    }
}

/// One kind's answer in one region.
#[derive(Debug)]
pub struct Listing {
    pub kind: Kind,
    pub region: String,
    pub found: Result<Vec<Resource>, AwsError>,
}

/// Reads `kinds` in `regions` of the account `aws` acts in, every pair at once; one
/// answer per (kind, region), in that order.
pub async fn read(aws: &Aws, kinds: &[Kind], regions: &[String], what: Read<'_>, calls: &Arc<CallCounter>) -> Vec<Listing> {
    let pairs: Vec<(Kind, &String)> = kinds.iter().flat_map(|k| regions.iter().map(move |r| (*k, r))).collect();
    let reads = pairs.iter().map(|(kind, region)| {
        let api = aws.api(region, calls);
        async move {
            let adapter = crate::kinds::of(*kind).adapter();
            match what {
                Read::Tagged(selector) => adapter.list(&api, selector).await,
                Read::Ids(ids) => adapter.describe(&api, ids).await,
            }
        }
    });
    let answers = futures_util::future::join_all(reads).await;
    pairs.into_iter().zip(answers).map(|((kind, region), found)| Listing { kind, region: region.clone(), found }).collect()
}

/// A read that failed: which kind, where, and why.
#[derive(Debug)]
pub struct Failed {
    pub kind: Kind,
    pub region: String,
    pub error: AwsError,
}

/// Everything found, or the first failed read (for views that must be whole).
pub fn whole(listings: Vec<Listing>) -> Result<Vec<Resource>, Box<Failed>> {
    let mut out = Vec::new();
    for Listing { kind, region, found } in listings {
        out.extend(found.map_err(|error| Box::new(Failed { kind, region, error }))?);
    }
    Ok(out)
}
