//! The accounts offhours acts in besides its own: the label every account-scoped
//! outcome carries, and the organization's accounts narrowed to those to act in.
//!
//! Pure: the Organizations calls are in `aws::organizations`, which returns
//! [`Discovered`]; [`select`] keeps the active, not excluded ones, and [`changes`] says
//! what a refresh added and removed.

use std::collections::{BTreeMap, BTreeSet};

pub use crate::aws::organizations::Discovered;
use crate::model::AccountRef;

/// The status of an account offhours acts in; any other (`SUSPENDED`,
/// `PENDING_CLOSURE`, none) is skipped.
pub const ACTIVE: &str = "ACTIVE";

/// The accounts to act in: active ones only, excluded ids dropped, each id once (an
/// account found under two organizational units), sorted by id.
pub fn select(found: Vec<Discovered>, exclude: &BTreeSet<String>) -> Vec<AccountRef> {
    let mut by_id: BTreeMap<String, AccountRef> = BTreeMap::new();
    for account in found {
        if !eligible(&account, exclude) {
            continue;
        }
        let kept = by_id.entry(account.id.clone()).or_insert_with(|| AccountRef { id: account.id, name: None });
        if kept.name.is_none() {
            kept.name = account.name;
        }
    }
    by_id.into_values().collect()
}

/// Whether an account found in the organization is one to act in: active, not excluded.
pub fn eligible(account: &Discovered, exclude: &BTreeSet<String>) -> bool {
    account.status.as_deref() == Some(ACTIVE) && !exclude.contains(&account.id)
}

/// The role assumed in an account: `arn:PARTITION:iam::ID:role/NAME`.
pub fn role_arn(partition: &str, account_id: &str, role_name: &str) -> String {
    format!("arn:{partition}:iam::{account_id}:role/{role_name}")
}

/// What a refresh changed, by id: the accounts added, then the accounts removed, each
/// sorted by id. A renamed account is neither.
pub fn changes(old: &[AccountRef], new: &[AccountRef]) -> (Vec<AccountRef>, Vec<AccountRef>) {
    let ids = |list: &[AccountRef]| list.iter().map(|a| a.id.clone()).collect::<BTreeSet<_>>();
    let (old_ids, new_ids) = (ids(old), ids(new));
    let only = |list: &[AccountRef], other: &BTreeSet<String>| {
        let mut out: Vec<AccountRef> = list.iter().filter(|a| !other.contains(&a.id)).cloned().collect();
        out.sort();
        out.dedup_by(|a, b| a.id == b.id);
        out
    };
    (only(new, &old_ids), only(old, &new_ids))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `id:name:status` with empty parts absent, e.g. `111111111111:dev:ACTIVE`,
    /// `222222222222::SUSPENDED`, `333333333333::`.
    fn found(spec: &str) -> Discovered {
        let parts: Vec<&str> = spec.split(':').collect();
        let part = |i: usize| parts.get(i).filter(|s| !s.is_empty()).map(|s| s.to_string());
        Discovered { id: parts[0].to_string(), name: part(1), status: part(2) }
    }

    fn labels(list: &[AccountRef]) -> Vec<String> {
        list.iter().map(ToString::to_string).collect()
    }

    #[track_caller]
    fn check_select(found_specs: &[&str], exclude: &[&str], expect: &[&str]) {
        let exclude = exclude.iter().map(|s| s.to_string()).collect();
        let selected = select(found_specs.iter().map(|s| found(s)).collect(), &exclude);
        assert_eq!(labels(&selected), expect);
    }

    #[test]
    fn select_keeps_active_not_excluded_accounts_once_sorted_by_id() {
        check_select(&[], &[], &[]);
        check_select(&["111111111111:dev:ACTIVE"], &[], &["dev (111111111111)"]);
        check_select(&["111111111111::ACTIVE"], &[], &["111111111111"]);
        check_select(&["111111111111:dev:SUSPENDED"], &[], &[]);
        check_select(&["111111111111:dev:PENDING_CLOSURE"], &[], &[]);
        check_select(&["111111111111:dev:"], &[], &[]);
        check_select(&["111111111111:dev:active"], &[], &[]);
        check_select(&["111111111111:dev:ACTIVE"], &["111111111111"], &[]);
        check_select(&["111111111111:dev:ACTIVE"], &["222222222222"], &["dev (111111111111)"]);
        check_select(
            &["333333333333:c:ACTIVE", "111111111111:a:ACTIVE", "222222222222:b:ACTIVE"],
            &[],
            &["a (111111111111)", "b (222222222222)", "c (333333333333)"],
        );
        check_select(&["111111111111:dev:ACTIVE", "111111111111:dev:ACTIVE"], &[], &["dev (111111111111)"]);
        check_select(&["111111111111::ACTIVE", "111111111111:dev:ACTIVE"], &[], &["dev (111111111111)"]);
        check_select(
            &["111111111111:dev:ACTIVE", "222222222222:prod:SUSPENDED", "333333333333:qa:ACTIVE"],
            &["333333333333"],
            &["dev (111111111111)"],
        );
    }

    #[test]
    fn role_arn_names_the_partition_account_and_role() {
        assert_eq!(role_arn("aws", "111111111111", "offhours-member"), "arn:aws:iam::111111111111:role/offhours-member");
        assert_eq!(role_arn("aws-cn", "111111111111", "r"), "arn:aws-cn:iam::111111111111:role/r");
        assert_eq!(role_arn("aws-us-gov", "111111111111", "r"), "arn:aws-us-gov:iam::111111111111:role/r");
    }

    #[test]
    fn an_account_shows_its_name_and_id_and_serializes_without_a_missing_name() {
        let named = AccountRef { id: "111111111111".into(), name: Some("dev".into()) };
        let bare = AccountRef { id: "222222222222".into(), name: None };
        assert_eq!(named.to_string(), "dev (111111111111)");
        assert_eq!(bare.to_string(), "222222222222");
        assert_eq!(serde_json::to_string(&named).unwrap(), r#"{"id":"111111111111","name":"dev"}"#);
        assert_eq!(serde_json::to_string(&bare).unwrap(), r#"{"id":"222222222222"}"#);
    }

    /// Accounts as `id` or `id:name`.
    fn refs(specs: &[&str]) -> Vec<AccountRef> {
        specs
            .iter()
            .map(|s| match s.split_once(':') {
                Some((id, name)) => AccountRef { id: id.into(), name: Some(name.into()) },
                None => AccountRef { id: s.to_string(), name: None },
            })
            .collect()
    }

    #[track_caller]
    fn check_changes(old: &[&str], new: &[&str], added: &[&str], removed: &[&str]) {
        let (a, r) = changes(&refs(old), &refs(new));
        assert_eq!(
            (labels(&a), labels(&r)),
            (added.iter().map(|s| s.to_string()).collect(), removed.iter().map(|s| s.to_string()).collect())
        );
    }

    #[test]
    fn changes_lists_added_then_removed_by_id() {
        check_changes(&[], &[], &[], &[]);
        check_changes(&[], &["111111111111:a"], &["a (111111111111)"], &[]);
        check_changes(&["111111111111:a"], &[], &[], &["a (111111111111)"]);
        check_changes(&["111111111111:a"], &["111111111111:a"], &[], &[]);
        check_changes(&["111111111111:a"], &["111111111111:renamed"], &[], &[]);
        check_changes(
            &["111111111111:a", "222222222222:b"],
            &["333333333333:c", "222222222222:b"],
            &["c (333333333333)"],
            &["a (111111111111)"],
        );
        check_changes(
            &["222222222222", "111111111111"],
            &["444444444444", "333333333333"],
            &["333333333333", "444444444444"],
            &["111111111111", "222222222222"],
        );
    }
}
