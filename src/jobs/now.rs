//! One action of one schedule now, as `offhours apply` asks it: in every account the
//! file names (through [`apply_all`]), or in the own account with the region check,
//! the account's id and the listing made together (one round trip for the three;
//! nothing is acted on unless every region is known).

use chrono::{DateTime, Utc};

use super::apply::{ApplyReport, Cause, Request, act, apply_all, finished, list};
use super::targets::{multi_account, targets};
use crate::aws::Aws;
use crate::config::{Config, Schedule};
use crate::model::{AccountRef, Action};

/// Carries out `action` of `schedule` now; the error says why nothing could be done.
pub async fn apply_now(aws: &Aws, config: &Config, schedule: &Schedule, action: Action, now: DateTime<Utc>) -> Result<ApplyReport, String> {
    let base = |account, regions| Request {
        config,
        account,
        schedule,
        regions,
        action,
        dry_run: config.dry_run,
        now,
        cause: Cause::Manual,
        enforce: None,
        leads: None,
    };
    if multi_account(config) {
        let targets = targets(aws, config).await.map_err(|e| e.to_string())?;
        return apply_all(&targets, base(&targets[0].account, &[])).await.map_err(|e| e.to_string());
    }
    let regions = aws.configured_regions(&config.regions).map_err(|e| e.to_string())?;
    let unknown = AccountRef { id: String::new(), name: None };
    let req = base(&unknown, &regions);
    let (checked, id, listed) = tokio::join!(aws.check_regions(&regions, config.regions.is_empty()), aws.account_id(), list(aws, &req));
    let account = AccountRef { id: id.unwrap_or_default(), name: None };
    let req = Request { account: &account, ..req };
    checked.map_err(|e| e.to_string())?;
    let mut listed = listed.map_err(|e| e.to_string())?;
    listed.label(&account);
    let report = act(aws, req, listed).await.map_err(|e| e.to_string())?;
    finished(&req, &report);
    Ok(report)
}
