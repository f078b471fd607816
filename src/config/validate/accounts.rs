//! `[[accounts]]` and `[organization]`: account ids, role ARNs and names, external ids.

use std::collections::BTreeSet;

use toml::Spanned;

use crate::config::raw::{RawAccount, RawOrganization};
use crate::config::{AccountTarget, Organization};

use super::*;

pub(super) fn is_account_id(v: &str) -> bool {
    v.len() == 12 && v.chars().all(|c| c.is_ascii_digit())
}

/// `arn:PARTITION:iam::ACCOUNT:role/PATH/NAME`: `Some(account id)`.
fn role_account(arn: &str) -> Option<&str> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "iam"
        && parts[3].is_empty()
        && is_account_id(parts[4])
        && parts[5].strip_prefix("role/").is_some_and(|n| !n.is_empty() && !n.ends_with('/'));
    ok.then(|| parts[4])
}

/// A role name as IAM allows it: 1 to 64 of `A-Za-z0-9+=,.@_-`.
fn is_role_name(v: &str) -> bool {
    (1..=64).contains(&v.len()) && v.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
}

/// An external id as STS allows it: 2 to 1224 of `A-Za-z0-9+=,.@:/-_`.
fn external_id(c: &mut Checker, v: &Spanned<String>, field: &str) -> Option<String> {
    let s = v.get_ref();
    if (2..=1224).contains(&s.len()) && s.chars().all(|ch| ch.is_ascii_alphanumeric() || "+=,.@:/-_".contains(ch)) {
        Some(s.clone())
    } else {
        c.error(v.span(), field, "must be 2 to 1224 characters of A-Z a-z 0-9 + = , . @ : / - _ (its value is not shown)");
        None
    }
}

pub(super) fn account(c: &mut Checker, i: usize, raw: &Spanned<RawAccount>) -> Option<AccountTarget> {
    let body = raw.get_ref();
    let field = |f: &str| format!("accounts[{i}].{f}");
    let role = match &body.role_arn {
        None => {
            c.error(raw.span(), field("role_arn"), "is required: the role to assume in that account (arn:aws:iam::ACCOUNT:role/NAME)");
            None
        }
        Some(v) => match role_account(v.get_ref()) {
            Some(id) => Some((id.to_string(), v.get_ref().clone())),
            None => {
                c.error(v.span(), field("role_arn"), format!("`{}` is not a role ARN (arn:aws:iam::ACCOUNT:role/NAME)", v.get_ref()));
                None
            }
        },
    };
    let external_id = body.external_id.as_ref().and_then(|v| external_id(c, v, &field("external_id")));
    let name = match &body.name {
        Some(v) if is_account_id(v.get_ref()) => {
            c.error(v.span(), field("name"), "must not be 12 digits: it would read as an account id");
            None
        }
        Some(v) => c.non_empty(v, &field("name")),
        None => None,
    };
    let (id, role_arn) = role?;
    Some(AccountTarget { id, name, role_arn, external_id })
}

pub(super) fn organization(c: &mut Checker, raw: &Spanned<RawOrganization>) -> Option<Organization> {
    let body = raw.get_ref();
    let role_name = match &body.role_name {
        None => {
            c.error(raw.span(), "organization.role_name", "is required: the role offhours assumes in every account (e.g. offhours-member)");
            None
        }
        Some(v) if !is_role_name(v.get_ref()) => {
            c.error(
                v.span(),
                "organization.role_name",
                format!("`{}` is not a role name (1 to 64 of A-Z a-z 0-9 + = , . @ _ -)", v.get_ref()),
            );
            None
        }
        Some(v) => Some(v.get_ref().clone()),
    };
    let external_id = body.external_id.as_ref().and_then(|v| external_id(c, v, "organization.external_id"));
    let mut ous = Vec::new();
    for v in body.ous.iter().flatten() {
        let s = v.get_ref();
        let ok = (s.starts_with("ou-") && s.len() >= 11 || s.starts_with("r-") && s.len() >= 6)
            && s.chars().all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-');
        if !ok {
            c.error(
                v.span(),
                "organization.ous",
                format!("`{s}` is not an organizational unit id (ou-xxxx-xxxxxxxx) or a root id (r-xxxx)"),
            );
        } else if ous.contains(s) {
            c.error(v.span(), "organization.ous", format!("`{s}` is listed twice"));
        } else {
            ous.push(s.clone());
        }
    }
    let mut exclude = BTreeSet::new();
    for v in body.exclude.iter().flatten() {
        if !is_account_id(v.get_ref()) {
            c.error(v.span(), "organization.exclude", format!("`{}` is not a 12-digit account id", v.get_ref()));
        } else {
            exclude.insert(v.get_ref().clone());
        }
    }
    let refresh = match &body.refresh {
        Some(v) => match c.duration(v, "organization.refresh") {
            Some(d) if d < std::time::Duration::from_secs(60) => {
                c.error(v.span(), "organization.refresh", "must be at least 1m (Organizations throttles its list calls)");
                None
            }
            other => other,
        },
        None => Some(std::time::Duration::from_secs(3600)),
    };
    Some(Organization { role_name: role_name?, external_id, ous, exclude, refresh: refresh? })
}
