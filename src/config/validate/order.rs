//! A schedule's `order` (groups of kinds started one after the other) and
//! `order_on_failure`.

use super::Checker;
use crate::config::OnFailure;
use crate::config::raw::RawSchedule;
use crate::model::Kind;

/// The groups, each kind one the schedule acts on and named once, with the position of
/// any that is not (`schedules.web.order[1][0]`).
pub(super) fn order(c: &mut Checker, raw: &RawSchedule, kinds: &[Kind], field: &str) -> Vec<Vec<Kind>> {
    let Some(groups) = &raw.order else { return Vec::new() };
    if groups.get_ref().is_empty() {
        c.error(groups.span(), field, "must name at least one group of kinds (or be left out: every kind at once)");
    }
    let mut seen: Vec<(Kind, usize)> = Vec::new();
    let mut out = Vec::new();
    for (i, group) in groups.get_ref().iter().enumerate() {
        if group.get_ref().is_empty() {
            c.error(group.span(), format!("{field}[{i}]"), "a group must name at least one kind");
        }
        let mut kinds_of_group = Vec::new();
        for (j, name) in group.get_ref().iter().enumerate() {
            let at = format!("{field}[{i}][{j}]");
            let Some(kind) = crate::kinds::parse(name.get_ref()) else {
                let valid: Vec<&str> = crate::kinds::ids().iter().map(|k| k.as_str()).collect();
                c.error(name.span(), at, format!("unknown kind `{}` (valid: {})", name.get_ref(), valid.join(", ")));
                continue;
            };
            if let Some((_, first)) = seen.iter().find(|(k, _)| *k == kind) {
                c.error(name.span(), at, format!("`{kind}` is already in group {first} ({field}[{first}]): a kind is in one group only"));
            } else if !kinds.contains(&kind) {
                let acts_on: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
                c.error(name.span(), at, format!("`{kind}` is not a kind this schedule acts on (its kinds: {})", acts_on.join(", ")));
            } else {
                seen.push((kind, i));
                kinds_of_group.push(kind);
            }
        }
        out.push(kinds_of_group);
    }
    out
}

/// `"halt"` (the default) or `"continue"`; only with an `order`.
pub(super) fn on_failure(c: &mut Checker, raw: &RawSchedule, field: &str) -> OnFailure {
    let Some(value) = &raw.order_on_failure else { return OnFailure::default() };
    if raw.order.is_none() {
        c.error(value.span(), field, "only has a meaning with `order`");
    }
    OnFailure::parse(value.get_ref()).unwrap_or_else(|| {
        c.error(value.span(), field, format!("`{}` is neither \"halt\" nor \"continue\"", value.get_ref()));
        OnFailure::default()
    })
}
