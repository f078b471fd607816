//! The least-privilege IAM policies offhours needs: exactly the API actions its code
//! calls, for the features the file turns on; with other accounts, the hub's and the
//! member role's (`deploy/member-role.yaml` grants the member's; tests keep all in step).

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::config::Config;
use crate::model::Kind;

/// The member role's name in `deploy/member-role.yaml`, assumed when no file names one.
pub const DEFAULT_MEMBER_ROLE: &str = "offhours-member";

/// Which statements a deployment needs.
#[derive(Debug, Clone)]
pub struct Features {
    /// Any schedule at all (the region check).
    pub schedules: bool,
    /// The kinds some schedule acts on.
    pub kinds: BTreeSet<Kind>,
    pub billing_alarm: bool,
    /// The billing alarm's name (`None`: any, when no file says which).
    pub alarm_name: Option<String>,
    /// The billing alarm's SNS topic, whose subscriptions are read (`None`: no topic).
    pub alarm_topic: Option<String>,
    pub iam_audit: bool,
    /// The audit may set keys Inactive (`deactivate = true` or `--deactivate`).
    pub iam_deactivate: bool,
    /// The SNS topic notifications are published to (`[notify] sns_topic_arn`); `*`
    /// when no file says which.
    pub notify_topic: Option<String>,
    /// `offhours snooze`: the override tag written on every kind (for the people who
    /// snooze; the daemon never does).
    pub snooze: bool,
    /// The override tag's key (`skip_tag`) and the schedule tag's (`tag_key`): the only
    /// keys the people's tag writes may name.
    pub skip_tag: String,
    pub tag_key: String,
    /// `[[accounts]]`: the role offhours assumes in each listed account, by ARN.
    pub member_roles: Vec<String>,
    /// `[organization]`: the role assumed in every account found, and how they are found.
    pub organization: Option<OrganizationReads>,
    /// The savings report's on-demand prices (the Price List Query API).
    pub pricing: bool,
    /// `[state] backend = "dynamodb"`: the shared table's ARN (a pattern when no file
    /// says which).
    pub state_table: Option<String>,
    /// `offhours init-state`: creating that table (for whoever sets it up).
    pub init_state: bool,
    /// `offhours suggest`: the resources' hourly metrics (GetMetricData), in every
    /// account it reads.
    pub suggest: bool,
    /// `mute_alarms` on a schedule: the alarms watching what it stops.
    pub mute_alarms: bool,
    /// The schedules' change calendars, as document ARNs (a name: in any account).
    pub change_calendars: Vec<String>,
}

/// How `[organization]` finds its accounts, and the role it assumes in each.
#[derive(Debug, Clone)]
pub struct OrganizationReads {
    /// The role's name, the same in every account (`role_name`).
    pub role_name: String,
    /// The whole organization is listed (`organizations:ListAccounts`): no `ous`.
    pub whole: bool,
    /// Organizational units are walked (`ListAccountsForParent`,
    /// `ListOrganizationalUnitsForParent`): `ous` is set.
    pub units: bool,
}

impl Features {
    /// Everything offhours can do in one account: the policy to use when no file is
    /// at hand.
    pub fn all() -> Features {
        Features {
            schedules: true,
            kinds: crate::kinds::ids().into_iter().collect(),
            billing_alarm: true,
            alarm_name: None,
            alarm_topic: Some("arn:aws:sns:us-east-1:*:*".into()),
            iam_audit: true,
            iam_deactivate: true,
            notify_topic: Some("arn:aws:sns:*:*:*".into()),
            snooze: true,
            skip_tag: crate::config::DEFAULT_SKIP_TAG.into(),
            tag_key: crate::config::DEFAULT_TAG_KEY.into(),
            member_roles: Vec::new(),
            organization: None,
            pricing: true,
            state_table: Some("arn:aws:dynamodb:*:*:table/*".into()),
            init_state: true,
            suggest: true,
            mute_alarms: true,
            change_calendars: vec!["arn:aws:ssm:*:*:document/*".into()],
        }
    }

    /// Everything offhours can do across accounts, when no file is at hand: an
    /// organization read both ways, its role named as the template's default.
    pub fn all_accounts() -> Features {
        let organization = OrganizationReads { role_name: DEFAULT_MEMBER_ROLE.into(), whole: true, units: true };
        Features { organization: Some(organization), ..Features::all() }
    }

    pub fn of(config: &Config) -> Self {
        let kinds: BTreeSet<Kind> = config.schedules.iter().flat_map(|s| s.kinds.iter().copied()).collect();
        let priced = kinds.iter().any(|k| crate::kinds::of(*k).pricing().asks_price_list());
        Features {
            schedules: !config.schedules.is_empty(),
            kinds,
            billing_alarm: config.billing_alarm.is_some(),
            alarm_name: config.billing_alarm.as_ref().map(|b| b.alarm_name.clone()),
            alarm_topic: config.billing_alarm.as_ref().and_then(|b| b.sns_topic_arn.clone()),
            iam_audit: config.iam_audit.is_some(),
            // `--deactivate` can turn it on from the command line: grant it with the audit.
            iam_deactivate: config.iam_audit.is_some(),
            notify_topic: config.notify.as_ref().and_then(|n| n.sns.as_ref()).map(|t| t.topic_arn.clone()),
            snooze: false,
            skip_tag: config.skip_tag.clone(),
            tag_key: config.tag_key.clone(),
            member_roles: config.accounts.iter().map(|a| a.role_arn.clone()).collect(),
            organization: config.organization.as_ref().map(|o| OrganizationReads {
                role_name: o.role_name.clone(),
                whole: o.ous.is_empty(),
                units: !o.ous.is_empty(),
            }),
            // `offhours report` asks the Price List API for instance types, DB instances
            // and DB clusters' members (by class, engine and deployment) the file does not
            // price, in USD only. Whether the file prices every type in use cannot
            // be known from the file: a `[savings]` section (one that sets anything) is
            // taken as the wish for the report, and the permission is then granted.
            pricing: config.savings != crate::config::Savings::default() && config.savings.currency == "USD" && priced,
            state_table: match &config.state {
                crate::config::StateSettings::DynamoDb(s) => Some(format!("arn:aws:dynamodb:{}:*:table/{}", s.region, s.table)),
                crate::config::StateSettings::File => None,
            },
            init_state: false,
            // A `[suggest]` section (one that sets anything) is taken as the wish to use
            // `offhours suggest`; `offhours policy --for suggest` asks for it outright.
            suggest: config.suggest != crate::config::Suggest::default(),
            mute_alarms: config.schedules.iter().any(|s| s.mute_alarms),
            change_calendars: change_calendar_arns(config),
        }
    }

    /// True when offhours acts in other accounts through a role (`[[accounts]]` or
    /// `[organization]`): then there are two policies, the hub's and the member's.
    pub fn across_accounts(&self) -> bool {
        !self.member_roles.is_empty() || self.organization.is_some()
    }

    fn uses(&self, kind: Kind) -> bool {
        self.kinds.contains(&kind)
    }
}

/// The document ARN of each schedule's change calendar, once each.
fn change_calendar_arns(config: &Config) -> Vec<String> {
    let mut arns: Vec<String> = Vec::new();
    for c in config.schedules.iter().filter_map(|s| s.change_calendar.as_ref()) {
        let arn = if c.name.starts_with("arn:") { c.name.clone() } else { format!("arn:aws:ssm:{}:*:document/{}", c.region, c.name) };
        if !arns.contains(&arn) {
            arns.push(arn);
        }
    }
    arns
}

/// Every API action the engine calls outside the kinds, as `service:Action` (each
/// kind's are in its folder: its statements and its snooze actions); the test below
/// holds both against the calls the code makes.
pub const ACTIONS: &[&str] = &[
    "ec2:DescribeRegions",
    "cloudwatch:DescribeAlarms",
    "cloudwatch:ListTagsForResource",
    "cloudwatch:PutMetricAlarm",
    "cloudwatch:ListMetrics",
    "cloudwatch:GetMetricData",
    "cloudwatch:DisableAlarmActions",
    "cloudwatch:EnableAlarmActions",
    "cloudwatch:TagResource",
    "cloudwatch:UntagResource",
    "ssm:GetCalendarState",
    "sns:ListSubscriptionsByTopic",
    "sns:Publish",
    "pricing:GetProducts",
    "iam:GenerateCredentialReport",
    "iam:GetCredentialReport",
    "iam:ListAccessKeys",
    "iam:GetAccessKeyLastUsed",
    "iam:ListUserTags",
    "iam:UpdateAccessKey",
    "sts:GetCallerIdentity",
    "organizations:ListAccounts",
    "organizations:ListAccountsForParent",
    "organizations:ListOrganizationalUnitsForParent",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:Query",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:CreateTable",
    "dynamodb:DescribeTable",
    "dynamodb:UpdateTimeToLive",
];

/// Calls IAM authorises through the actions of each item they touch, not an action of
/// their own: a transaction of a condition check on the lease and puts.
pub const PER_ITEM: &[(&str, &[&str])] = &[("TransactWriteItems", &["ConditionCheckItem", "PutItem"])];

/// Calls that need no permission (not in the policy).
pub const UNRESTRICTED: &[&str] = &["sts:GetCallerIdentity"];

/// Permissions AWS checks behind a call without it being a call of its own.
pub const IMPLIED: &[&str] = &["kms:CreateGrant", "cloudwatch:TagResource"];

/// Calls the SDK's credential providers make for offhours (not an adapter's): the
/// hub assuming each member role.
pub const CREDENTIALS: &[&str] = &["sts:AssumeRole"];

/// One of the two policies of a deployment across accounts (`offhours policy --role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Role {
    /// Where offhours runs: assumes the member roles, reads the organization, notifies,
    /// keeps the billing alarm.
    Hub,
    /// In every account acted on: the schedules' kinds, the region check, the key audit.
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Hub => "hub",
            Role::Member => "member",
        }
    }
}

/// What `offhours policy` prints: in one account its one policy; across accounts
/// `{"hub": .., "member": ..}`, or the one policy `role` names. An error when a role
/// is asked for but the file names no other account.
pub fn output(features: &Features, role: Option<Role>) -> Result<Value, String> {
    match (features.across_accounts(), role) {
        (false, None) => Ok(document(features.clone())),
        (false, Some(role)) => Err(format!(
            "--role {}: the file has no [[accounts]] or [organization], so offhours needs one policy, in its own account (leave out --role)",
            role.as_str()
        )),
        (true, None) => Ok(json!({ "hub": hub_document(features), "member": member_document(features) })),
        (true, Some(Role::Hub)) => Ok(hub_document(features)),
        (true, Some(Role::Member)) => Ok(member_document(features)),
    }
}

/// The policy document of a single account (offhours acts where it runs), as JSON.
/// The account fields of `features` play no part.
pub fn document(features: Features) -> Value {
    let mut statements = region_check(&features);
    statements.extend(kind_statements(&features));
    statements.extend(billing_statements(&features));
    statements.extend(audit_statements(&features));
    statements.extend(notify_statements(&features));
    statements.extend(snooze_statements(&features));
    statements.extend(pricing_statements(&features));
    statements.extend(state_statements(&features));
    statements.extend(suggest_statements(&features));
    statements.extend(mute_statements(&features));
    statements.extend(change_calendar_statements(&features));
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// The hub's policy, where offhours runs when it acts in other accounts: assume the
/// member roles, read the organization, and what stays in the hub's own account (the
/// billing alarm; notifications are sent from the hub). Nothing is acted on here: the
/// hub's account is scheduled only when it is listed too, through its own member role.
pub fn hub_document(features: &Features) -> Value {
    let organization_role = features.organization.as_ref().map(|o| format!("arn:aws:iam::*:role/{}", o.role_name));
    let mut roles: Vec<String> = Vec::new();
    for arn in features.member_roles.iter().cloned().chain(organization_role) {
        if !roles.contains(&arn) {
            roles.push(arn);
        }
    }
    let mut statements = Vec::new();
    if !roles.is_empty() {
        statements.push(json!({ "Sid": "AssumeMemberRoles", "Effect": "Allow", "Action": ["sts:AssumeRole"], "Resource": roles }));
    }
    if let Some(organization) = &features.organization {
        let mut reads = Vec::new();
        if organization.whole {
            reads.push("organizations:ListAccounts");
        }
        if organization.units {
            reads.extend(["organizations:ListAccountsForParent", "organizations:ListOrganizationalUnitsForParent"]);
        }
        if !reads.is_empty() {
            statements.push(json!({ "Sid": "DiscoverAccounts", "Effect": "Allow", "Action": reads, "Resource": "*" }));
        }
    }
    statements.extend(billing_statements(features));
    statements.extend(notify_statements(features));
    statements.extend(pricing_statements(features));
    statements.extend(state_statements(features));
    statements.extend(change_calendar_statements(features));
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// The member role's policy, in every account offhours acts in (what
/// `deploy/member-role.yaml` grants): the region check, the schedules' kinds, the
/// access-key audit (it runs in every account), and the snooze when asked.
pub fn member_document(features: &Features) -> Value {
    let mut statements = region_check(features);
    statements.extend(kind_statements(features));
    statements.extend(audit_statements(features));
    statements.extend(snooze_statements(features));
    statements.extend(suggest_statements(features));
    statements.extend(mute_statements(features));
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// `offhours suggest` reads metrics where the resources are (GetMetricData has no
/// resource-level permission).
/// `mute_alarms`: the alarms of the regions acted in are read (DescribeAlarms names no
/// alarm, but IAM checks it on the alarm type), their actions turned off and on, and
/// the tag that records it written and read, that tag only.
fn mute_statements(features: &Features) -> Vec<Value> {
    if !features.mute_alarms {
        return Vec::new();
    }
    let alarms = "arn:aws:cloudwatch:*:*:alarm:*";
    vec![
        json!({
            "Sid": "MuteAlarms",
            "Effect": "Allow",
            "Action": ["cloudwatch:DescribeAlarms", "cloudwatch:DisableAlarmActions", "cloudwatch:EnableAlarmActions", "cloudwatch:ListTagsForResource"],
            "Resource": alarms
        }),
        json!({
            "Sid": "RecordMutedAlarms",
            "Effect": "Allow",
            "Action": ["cloudwatch:TagResource", "cloudwatch:UntagResource"],
            "Resource": alarms,
            "Condition": { "ForAllValues:StringEquals": { "aws:TagKeys": [crate::plan::alarms::MUTED_TAG] } }
        }),
    ]
}

/// `change_calendar`: the calendars' state, read where offhours runs (the hub).
fn change_calendar_statements(features: &Features) -> Vec<Value> {
    if features.change_calendars.is_empty() {
        return Vec::new();
    }
    vec![
        json!({ "Sid": "ReadChangeCalendars", "Effect": "Allow", "Action": ["ssm:GetCalendarState"], "Resource": features.change_calendars }),
    ]
}

fn suggest_statements(features: &Features) -> Vec<Value> {
    if !features.suggest {
        return Vec::new();
    }
    vec![json!({ "Sid": "SuggestMetrics", "Effect": "Allow", "Action": ["cloudwatch:GetMetricData"], "Resource": "*" })]
}

fn region_check(features: &Features) -> Vec<Value> {
    if !features.schedules {
        return Vec::new();
    }
    vec![json!({
        "Sid": "CheckRegions",
        "Effect": "Allow",
        "Action": ["ec2:DescribeRegions"],
        "Resource": "*"
    })]
}

fn kind_statements(features: &Features) -> Vec<Value> {
    crate::kinds::all().filter(|k| features.uses(k.kind())).flat_map(|k| k.iam_statements()).collect()
}

fn billing_statements(features: &Features) -> Vec<Value> {
    if !features.billing_alarm {
        return Vec::new();
    }
    // The writes only on the alarm itself (the billing metrics live in us-east-1), so
    // the role cannot overwrite or silence anyone else's alarm; PutMetricAlarm with tags
    // also needs cloudwatch:TagResource. DescribeAlarms reads alarms in the billing
    // region only; ListMetrics has no resource-level permission.
    let alarm = format!("arn:aws:cloudwatch:us-east-1:*:alarm:{}", features.alarm_name.as_deref().unwrap_or("*"));
    let mut statements = vec![
        json!({ "Sid": "BillingMetrics", "Effect": "Allow", "Action": ["cloudwatch:ListMetrics"], "Resource": "*" }),
        json!({
            "Sid": "BillingAlarmReads",
            "Effect": "Allow",
            "Action": ["cloudwatch:DescribeAlarms"],
            "Resource": "arn:aws:cloudwatch:us-east-1:*:alarm:*"
        }),
        json!({
            "Sid": "BillingAlarm",
            "Effect": "Allow",
            "Action": ["cloudwatch:ListTagsForResource", "cloudwatch:PutMetricAlarm", "cloudwatch:TagResource"],
            "Resource": alarm
        }),
    ];
    // Its topic's subscriptions, only when the file names a topic.
    if let Some(topic) = &features.alarm_topic {
        statements.push(json!({
            "Sid": "BillingAlarmTopic",
            "Effect": "Allow",
            "Action": ["sns:ListSubscriptionsByTopic"],
            "Resource": topic
        }));
    }
    statements
}

const USERS: &str = "arn:aws:iam::*:user/*";

fn audit_statements(features: &Features) -> Vec<Value> {
    let mut statements = Vec::new();
    if features.iam_audit {
        // The credential report has no resource-level permission; a user's keys and
        // tags are read on the users.
        statements.push(json!({
            "Sid": "AccessKeyAudit",
            "Effect": "Allow",
            "Action": ["iam:GenerateCredentialReport", "iam:GetCredentialReport"],
            "Resource": "*"
        }));
        statements.push(json!({
            "Sid": "AccessKeyAuditUsers",
            "Effect": "Allow",
            "Action": ["iam:ListAccessKeys", "iam:GetAccessKeyLastUsed", "iam:ListUserTags"],
            "Resource": USERS
        }));
    }
    if features.iam_deactivate {
        statements.push(json!({
            "Sid": "DeactivateStaleAccessKeys",
            "Effect": "Allow",
            "Action": ["iam:UpdateAccessKey"],
            "Resource": USERS
        }));
    }
    statements
}

fn notify_statements(features: &Features) -> Vec<Value> {
    match &features.notify_topic {
        Some(topic) => vec![json!({ "Sid": "Notify", "Effect": "Allow", "Action": ["sns:Publish"], "Resource": topic })],
        None => Vec::new(),
    }
}

fn pricing_statements(features: &Features) -> Vec<Value> {
    if !features.pricing {
        return Vec::new();
    }
    // The Price List Query API has no resource-level permissions.
    vec![json!({ "Sid": "Prices", "Effect": "Allow", "Action": ["pricing:GetProducts"], "Resource": "*" })]
}

fn state_statements(features: &Features) -> Vec<Value> {
    let Some(table) = &features.state_table else {
        return Vec::new();
    };
    // The lease and the watermarks: reads, conditional writes, and transactions (which
    // IAM authorises per item: ConditionCheckItem on the lease, PutItem on each mark);
    // holds (`offhours hold --clear` deletes one).
    let mut statements = vec![json!({
        "Sid": "SharedState",
        "Effect": "Allow",
        "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"],
        "Resource": table
    })];
    if features.init_state {
        statements.push(json!({
            "Sid": "CreateSharedStateTable",
            "Effect": "Allow",
            "Action": ["dynamodb:CreateTable", "dynamodb:DescribeTable", "dynamodb:UpdateTimeToLive"],
            "Resource": table
        }));
    }
    statements
}

fn snooze_statements(features: &Features) -> Vec<Value> {
    if !features.snooze {
        return Vec::new();
    }
    // The override tag, on each kind the file uses (snooze looks among those only; ASG
    // and ECS tags are granted with their kinds), and how each finds a resource by id.
    let mut actions: Vec<&str> = Vec::new();
    for k in crate::kinds::all().filter(|k| features.uses(k.kind())) {
        for a in k.facts().snooze_actions {
            if !actions.contains(a) {
                actions.push(a);
            }
        }
    }
    // The tag writes may name the override tag only (and, for `suggest --tag`, the
    // schedule tag): whoever snoozes cannot rewrite a resource's schedule or any other
    // tag.
    let (writes, reads): (Vec<&str>, Vec<&str>) = actions.into_iter().partition(|a| is_tag_write(a));
    let used = || crate::kinds::all().filter(|k| features.uses(k.kind())).map(|k| k.facts());
    let resources = unique(used().map(|f| f.snooze_resource));
    // Reads with a resource-level permission are granted on the kinds' resources.
    let read_resources = unique(used().filter(|f| !f.snooze_reads_on_resource.is_empty()).map(|f| f.snooze_resource));
    let scoped = unique(used().flat_map(|f| f.snooze_reads_on_resource.iter().copied()));
    let (on_resource, anywhere): (Vec<&str>, Vec<&str>) = reads.into_iter().partition(|a| scoped.contains(a));
    let mut keys = vec![features.skip_tag.clone()];
    if features.suggest {
        keys.push(features.tag_key.clone());
    }
    let mut statements = Vec::new();
    if !anywhere.is_empty() {
        statements.push(json!({ "Sid": "SnoozeFind", "Effect": "Allow", "Action": anywhere, "Resource": "*" }));
    }
    if !on_resource.is_empty() {
        statements.push(json!({ "Sid": "SnoozeRead", "Effect": "Allow", "Action": on_resource, "Resource": read_resources }));
    }
    statements.push(json!({
        "Sid": "Snooze",
        "Effect": "Allow",
        "Action": writes,
        "Resource": resources,
        "Condition": { "ForAllValues:StringEquals": { "aws:TagKeys": keys } }
    }));
    statements
}

/// The items in first-seen order, each once.
fn unique<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// An action that writes or removes tags (its request names the tag keys).
fn is_tag_write(action: &str) -> bool {
    let name = action.split(':').nth(1).unwrap_or(action);
    matches!(
        name,
        "CreateTags"
            | "DeleteTags"
            | "AddTags"
            | "AddTagsToResource"
            | "RemoveTagsFromResource"
            | "TagResource"
            | "UntagResource"
            | "CreateOrUpdateTags"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actions(doc: &Value) -> Vec<String> {
        let mut out: Vec<String> = doc["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string()))
            .filter(|a| !IMPLIED.contains(&a.as_str()))
            .collect();
        out.sort();
        out
    }

    /// The operations the adapters name when they classify an error (`from_sdk("...")`,
    /// `api.err("...")`) or read pages (`pages(SERVICE, "...")`), in every file under
    /// `src/aws/`, `src/kinds/` and the shared table's `src/store/table.rs`.
    fn adapter_calls() -> Vec<String> {
        fn sources(dir: &std::path::Path, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    sources(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    out.push(std::fs::read_to_string(&path).unwrap());
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut texts = Vec::new();
        sources(&root.join("aws"), &mut texts);
        sources(&root.join("kinds"), &mut texts);
        texts.push(std::fs::read_to_string(root.join("store/table.rs")).unwrap());
        let mut called = Vec::new();
        for source in texts {
            for marker in ["from_sdk(\"", ".err(\"", "SERVICE, \""] {
                for part in source.split(marker).skip(1) {
                    called.push(part.split('"').next().unwrap().to_string());
                }
            }
        }
        called.sort();
        called.dedup();
        called
    }

    /// [`ACTIONS`] and every kind's own: its statements' and its snooze actions (but
    /// the implied ones).
    fn every_action() -> Vec<String> {
        let mut out: Vec<String> = ACTIONS.iter().map(|a| a.to_string()).collect();
        for k in crate::kinds::all() {
            let statements = k.iam_statements();
            let granted = statements.iter().flat_map(|s| s["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string()));
            out.extend(granted.chain(k.facts().snooze_actions.iter().map(|a| a.to_string())));
        }
        out.retain(|a| !IMPLIED.contains(&a.as_str()));
        out.sort();
        out.dedup();
        out
    }

    /// Every operation an adapter names in its error classification is in the policy,
    /// and the policies (one account, hub, member) grant nothing the adapters or the
    /// credential providers do not call (but the implied ones).
    #[test]
    fn policy_matches_the_calls_in_the_adapters() {
        let mut called = adapter_calls();
        for (call, actions) in PER_ITEM {
            called.retain(|c| c != call);
            called.extend(actions.iter().map(|a| a.to_string()));
        }
        called.sort();
        called.dedup();
        let every = every_action();
        // The credential calls (the hub's AssumeRole) are made in src/aws too.
        let mut listed: Vec<String> =
            every.iter().map(String::as_str).chain(CREDENTIALS.iter().copied()).map(|a| a.split(':').nth(1).unwrap().to_string()).collect();
        listed.sort();
        // One operation name can belong to two services (ec2 and autoscaling DeleteTags).
        listed.dedup();
        assert_eq!(called, listed, "ACTIONS must list exactly the operations the adapters call");
        let mut all: Vec<String> = every
            .iter()
            .map(String::as_str)
            .chain(CREDENTIALS.iter().copied())
            .filter(|a| !UNRESTRICTED.contains(a))
            .map(str::to_string)
            .collect();
        all.sort();
        all.dedup();
        let everything = Features::all_accounts();
        let mut granted: Vec<String> =
            [document(Features::all()), hub_document(&everything), member_document(&everything)].iter().flat_map(actions).collect();
        granted.sort();
        granted.dedup();
        assert_eq!(granted, all);
    }

    /// `offhours policy` for `Features::all()` before accounts existed (and since ECS
    /// services hold their Application Auto Scaling target: `HoldEcsServiceScaling`;
    /// and since the billing alarm's writes are scoped to the alarm, its topic's read to
    /// the topic; since snooze's tag writes may name the override tag only, and the
    /// daemon's its record tags only).
    const ALL_BEFORE: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"CheckRegions","Effect":"Allow","Action":["ec2:DescribeRegions"],"Resource":"*"},{"Sid":"ListInstances","Effect":"Allow","Action":["ec2:DescribeInstances","ec2:DescribeInstanceStatus"],"Resource":"*"},{"Sid":"StartStopInstances","Effect":"Allow","Action":["ec2:StartInstances","ec2:StopInstances"],"Resource":"arn:aws:ec2:*:*:instance/*"},{"Sid":"StartInstancesWithEncryptedVolumes","Effect":"Allow","Action":["kms:CreateGrant"],"Resource":"arn:aws:kms:*:*:key/*","Condition":{"Bool":{"kms:GrantIsForAWSResource":"true"}}},{"Sid":"ListDbInstances","Effect":"Allow","Action":["rds:DescribeDBInstances"],"Resource":"arn:aws:rds:*:*:db:*"},{"Sid":"StartStopDbInstances","Effect":"Allow","Action":["rds:StartDBInstance","rds:StopDBInstance"],"Resource":"arn:aws:rds:*:*:db:*"},{"Sid":"ListDbClusters","Effect":"Allow","Action":["rds:DescribeDBClusters","rds:DescribeDBInstances"],"Resource":["arn:aws:rds:*:*:cluster:*","arn:aws:rds:*:*:db:*"]},{"Sid":"StartStopDbClusters","Effect":"Allow","Action":["rds:StartDBCluster","rds:StopDBCluster"],"Resource":"arn:aws:rds:*:*:cluster:*"},{"Sid":"ListAutoScalingGroups","Effect":"Allow","Action":["autoscaling:DescribeAutoScalingGroups"],"Resource":"*"},{"Sid":"ScaleAutoScalingGroups","Effect":"Allow","Action":["autoscaling:UpdateAutoScalingGroup"],"Resource":"arn:aws:autoscaling:*:*:autoScalingGroup:*:autoScalingGroupName/*"},{"Sid":"RecordAutoScalingGroupSizes","Effect":"Allow","Action":["autoscaling:CreateOrUpdateTags","autoscaling:DeleteTags"],"Resource":"arn:aws:autoscaling:*:*:autoScalingGroup:*:autoScalingGroupName/*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["offhours:asg-sizes"]}}},{"Sid":"ListEcsServices","Effect":"Allow","Action":["ecs:ListClusters","ecs:ListServices"],"Resource":"*"},{"Sid":"ReadEcsServices","Effect":"Allow","Action":["ecs:DescribeServices"],"Resource":"arn:aws:ecs:*:*:service/*"},{"Sid":"ScaleEcsServices","Effect":"Allow","Action":["ecs:UpdateService"],"Resource":"arn:aws:ecs:*:*:service/*"},{"Sid":"RecordEcsServiceCounts","Effect":"Allow","Action":["ecs:TagResource","ecs:UntagResource"],"Resource":"arn:aws:ecs:*:*:service/*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["offhours:ecs-desired"]}}},{"Sid":"ReadEcsServiceScaling","Effect":"Allow","Action":["application-autoscaling:DescribeScalableTargets"],"Resource":"*"},{"Sid":"HoldEcsServiceScaling","Effect":"Allow","Action":["application-autoscaling:RegisterScalableTarget"],"Resource":"arn:aws:application-autoscaling:*:*:scalable-target/*"},{"Sid":"BillingMetrics","Effect":"Allow","Action":["cloudwatch:ListMetrics"],"Resource":"*"},{"Sid":"BillingAlarmReads","Effect":"Allow","Action":["cloudwatch:DescribeAlarms"],"Resource":"arn:aws:cloudwatch:us-east-1:*:alarm:*"},{"Sid":"BillingAlarm","Effect":"Allow","Action":["cloudwatch:ListTagsForResource","cloudwatch:PutMetricAlarm","cloudwatch:TagResource"],"Resource":"arn:aws:cloudwatch:us-east-1:*:alarm:*"},{"Sid":"BillingAlarmTopic","Effect":"Allow","Action":["sns:ListSubscriptionsByTopic"],"Resource":"arn:aws:sns:us-east-1:*:*"},{"Sid":"AccessKeyAudit","Effect":"Allow","Action":["iam:GenerateCredentialReport","iam:GetCredentialReport"],"Resource":"*"},{"Sid":"AccessKeyAuditUsers","Effect":"Allow","Action":["iam:ListAccessKeys","iam:GetAccessKeyLastUsed","iam:ListUserTags"],"Resource":"arn:aws:iam::*:user/*"},{"Sid":"DeactivateStaleAccessKeys","Effect":"Allow","Action":["iam:UpdateAccessKey"],"Resource":"arn:aws:iam::*:user/*"},{"Sid":"Notify","Effect":"Allow","Action":["sns:Publish"],"Resource":"arn:aws:sns:*:*:*"},{"Sid":"SnoozeFind","Effect":"Allow","Action":["ec2:DescribeInstances","autoscaling:DescribeAutoScalingGroups"],"Resource":"*"},{"Sid":"SnoozeRead","Effect":"Allow","Action":["rds:DescribeDBInstances","rds:DescribeDBClusters","ecs:DescribeServices"],"Resource":["arn:aws:rds:*:*:db:*","arn:aws:rds:*:*:cluster:*","arn:aws:ecs:*:*:service/*"]},{"Sid":"Snooze","Effect":"Allow","Action":["ec2:CreateTags","ec2:DeleteTags","rds:AddTagsToResource","rds:RemoveTagsFromResource","autoscaling:CreateOrUpdateTags","autoscaling:DeleteTags","ecs:TagResource","ecs:UntagResource"],"Resource":["arn:aws:ec2:*:*:instance/*","arn:aws:rds:*:*:db:*","arn:aws:rds:*:*:cluster:*","arn:aws:autoscaling:*:*:autoScalingGroup:*:autoScalingGroupName/*","arn:aws:ecs:*:*:service/*"],"Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["offhours:skip"]}}}]}"#;
    /// docs/iam.md's example: a file with instances only.
    const INSTANCES_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"CheckRegions","Effect":"Allow","Action":["ec2:DescribeRegions"],"Resource":"*"},{"Sid":"ListInstances","Effect":"Allow","Action":["ec2:DescribeInstances","ec2:DescribeInstanceStatus"],"Resource":"*"},{"Sid":"StartStopInstances","Effect":"Allow","Action":["ec2:StartInstances","ec2:StopInstances"],"Resource":"arn:aws:ec2:*:*:instance/*"},{"Sid":"StartInstancesWithEncryptedVolumes","Effect":"Allow","Action":["kms:CreateGrant"],"Resource":"arn:aws:kms:*:*:key/*","Condition":{"Bool":{"kms:GrantIsForAWSResource":"true"}}}]}"#;

    #[test]
    fn the_single_account_policy_is_unchanged() {
        // The Snooze statement lists each kind's actions together (the same actions as
        // before the kinds became plug-ins, ec2:DescribeInstances then third, not last).
        // Since then, reads with a resource-level permission are granted on their
        // resource types rather than `*` (what the IAM linter asks).
        let before: Value = serde_json::from_str(ALL_BEFORE).unwrap();
        // The prices came later: without them, the policy is as it was (but for
        // ListDbClusters' rds:DescribeDBInstances: its members' classes, for the prices).
        // The five kinds of that time.
        let five: std::collections::BTreeSet<_> = crate::kinds::ids()[..5].iter().copied().collect();
        let all = Features {
            pricing: false,
            state_table: None,
            kinds: five.clone(),
            suggest: false,
            mute_alarms: false,
            change_calendars: Vec::new(),
            ..Features::all()
        };
        assert_eq!(document(all.clone()), before);
        assert_eq!(
            document(Features {
                pricing: false,
                state_table: None,
                kinds: five,
                suggest: false,
                mute_alarms: false,
                change_calendars: Vec::new(),
                ..Features::all_accounts()
            }),
            before,
            "the account fields play no part in it"
        );
        assert_eq!(output(&all, None), Ok(before));
        let ec2 = Features { kinds: [crate::kinds::ec2::KIND].into(), ..none() };
        assert_eq!(document(ec2), serde_json::from_str::<Value>(INSTANCES_ONLY).unwrap());
    }

    /// No feature but the schedules (the region check).
    fn none() -> Features {
        Features {
            schedules: true,
            kinds: BTreeSet::new(),
            billing_alarm: false,
            alarm_name: None,
            alarm_topic: None,
            iam_audit: false,
            iam_deactivate: false,
            notify_topic: None,
            snooze: false,
            skip_tag: crate::config::DEFAULT_SKIP_TAG.into(),
            tag_key: crate::config::DEFAULT_TAG_KEY.into(),
            member_roles: Vec::new(),
            organization: None,
            pricing: false,
            state_table: None,
            init_state: false,
            suggest: false,
            mute_alarms: false,
            change_calendars: Vec::new(),
        }
    }

    /// The daemon writes and removes its record tags, and no other tag.
    #[test]
    fn record_tag_writes_name_the_record_tag_only() {
        let doc = document(Features { kinds: crate::kinds::ids().into_iter().collect(), ..none() });
        let conditioned: Vec<(String, Value)> = doc["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["Sid"].as_str().unwrap().starts_with("Record"))
            .map(|s| (s["Sid"].as_str().unwrap().to_string(), s["Condition"]["ForAllValues:StringEquals"]["aws:TagKeys"].clone()))
            .collect();
        assert_eq!(
            conditioned,
            [
                ("RecordAutoScalingGroupSizes".to_string(), json!([crate::kinds::asg::RECORD_TAG])),
                ("RecordEcsServiceCounts".to_string(), json!([crate::kinds::ecs::RECORD_TAG])),
                ("RecordEksNodegroupSizes".to_string(), json!([crate::kinds::eks::RECORD_TAG])),
            ]
        );
        // No other statement grants a tag write of theirs.
        for s in doc["Statement"].as_array().unwrap().iter().filter(|s| !s["Sid"].as_str().unwrap().starts_with("Record")) {
            let writes: Vec<&str> = s["Action"].as_array().unwrap().iter().filter_map(|a| a.as_str()).filter(|a| is_tag_write(a)).collect();
            assert!(writes.is_empty() || s["Condition"].is_object(), "{s}");
        }
    }

    /// Whoever snoozes may write the override tag only (and, for `suggest --tag`, the
    /// schedule tag), under the file's names for them.
    #[test]
    fn snooze_tag_writes_name_the_override_tag_only() {
        let text = "skip_tag = \"keep-up\"\ntag_key = \"Office\"\n[schedules.a]\nstop = \"0 19 * * *\"\n";
        let keys = |suggest: bool| {
            let doc = document(Features { snooze: true, suggest, ..features(text) });
            let statement = doc["Statement"].as_array().unwrap().iter().find(|s| s["Sid"] == "Snooze").unwrap().clone();
            (
                statement["Action"].clone(),
                statement["Condition"]["ForAllValues:StringEquals"]["aws:TagKeys"].clone(),
                statement["Resource"].clone(),
            )
        };
        assert_eq!(keys(false), (json!(["ec2:CreateTags", "ec2:DeleteTags"]), json!(["keep-up"]), json!(["arn:aws:ec2:*:*:instance/*"])));
        assert_eq!(keys(true).1, json!(["keep-up", "Office"]));
        assert!(is_tag_write("sagemaker:AddTags") && !is_tag_write("sagemaker:ListTags") && !is_tag_write("ec2:DescribeInstances"));
    }

    /// The billing alarm's writes are on that alarm only, and its topic's read on that
    /// topic only, granted only when the file names one.
    #[test]
    fn the_billing_alarm_writes_only_its_own_alarm() {
        let base = "[schedules.a]\nstop = \"0 19 * * *\"\n[billing_alarm]\nthreshold = 50\nalarm_name = \"budget\"\n";
        let billing =
            |text: &str| -> Vec<String> { summary(&document(features(text))).into_iter().filter(|s| s.starts_with("Billing")).collect() };
        assert_eq!(
            billing(base),
            [
                "BillingMetrics: cloudwatch:ListMetrics -> *",
                "BillingAlarmReads: cloudwatch:DescribeAlarms -> arn:aws:cloudwatch:us-east-1:*:alarm:*",
                "BillingAlarm: cloudwatch:ListTagsForResource cloudwatch:PutMetricAlarm cloudwatch:TagResource -> arn:aws:cloudwatch:us-east-1:*:alarm:budget",
            ]
        );
        let topic = "arn:aws:sns:us-east-1:123456789012:billing";
        let with_topic = billing(&format!("{base}sns_topic_arn = \"{topic}\"\n"));
        assert_eq!(
            with_topic.last().map(String::as_str),
            Some(format!("BillingAlarmTopic: sns:ListSubscriptionsByTopic -> {topic}").as_str())
        );
    }

    /// Each statement as `Sid: actions -> resources`.
    fn summary(doc: &Value) -> Vec<String> {
        let words = |v: &Value| match v {
            Value::Array(items) => items.iter().map(|i| i.as_str().unwrap()).collect::<Vec<_>>().join(" "),
            v => v.as_str().unwrap().to_string(),
        };
        let statements = doc["Statement"].as_array().unwrap();
        statements.iter().map(|s| format!("{}: {} -> {}", s["Sid"].as_str().unwrap(), words(&s["Action"]), words(&s["Resource"]))).collect()
    }

    fn features(text: &str) -> Features {
        use crate::config::{HostTimezone, from_str};
        Features::of(&from_str(text, "t.toml", &HostTimezone::fixed(chrono_tz::UTC)).unwrap())
    }

    const EC2: &str = "[schedules.a]\nstart = \"0 8 * * *\"\n";
    const RDS_ASG: &str = "[schedules.a]\nstart = \"0 8 * * *\"\nkinds = [\"rds\", \"asg\"]\n";
    const TWO_ACCOUNTS: &str = "[[accounts]]\nrole_arn = \"arn:aws:iam::111111111111:role/offhours-member\"\nexternal_id = \"ext-123\"\n\
                                [[accounts]]\nrole_arn = \"arn:aws:iam::222222222222:role/team/offhours\"\n";
    const ORG: &str = "[organization]\nrole_name = \"offhours-member\"\n";
    const ORG_OUS: &str = "[organization]\nrole_name = \"offhours-member\"\nous = [\"ou-ab12-cdef3456\"]\n";
    const HUB_ONLY: &str = "[billing_alarm]\nthreshold = 50\n[notify]\nsns_topic_arn = \"arn:aws:sns:eu-west-1:123456789012:ops\"\n";
    const AUDIT: &str = "[iam_audit]\n";

    fn check_hub(parts: &[&str], expect: &[&str]) {
        assert_eq!(summary(&hub_document(&features(&parts.concat()))), expect, "{parts:?}");
    }

    fn check_member(parts: &[&str], expect: &[&str]) {
        assert_eq!(summary(&member_document(&features(&parts.concat()))), expect, "{parts:?}");
    }

    const ASSUME_LISTED: &str =
        "AssumeMemberRoles: sts:AssumeRole -> arn:aws:iam::111111111111:role/offhours-member arn:aws:iam::222222222222:role/team/offhours";
    const ASSUME_ORG: &str = "AssumeMemberRoles: sts:AssumeRole -> arn:aws:iam::*:role/offhours-member";
    const LIST_WHOLE: &str = "DiscoverAccounts: organizations:ListAccounts -> *";
    const LIST_UNITS: &str = "DiscoverAccounts: organizations:ListAccountsForParent organizations:ListOrganizationalUnitsForParent -> *";
    // The alarm of the file (its default name), and no topic statement: the file's
    // [billing_alarm] names no topic.
    const BILLING: [&str; 3] = [
        "BillingMetrics: cloudwatch:ListMetrics -> *",
        "BillingAlarmReads: cloudwatch:DescribeAlarms -> arn:aws:cloudwatch:us-east-1:*:alarm:*",
        "BillingAlarm: cloudwatch:ListTagsForResource cloudwatch:PutMetricAlarm cloudwatch:TagResource -> arn:aws:cloudwatch:us-east-1:*:alarm:offhours-estimated-charges",
    ];
    const NOTIFY: &str = "Notify: sns:Publish -> arn:aws:sns:eu-west-1:123456789012:ops";
    const REGIONS: &str = "CheckRegions: ec2:DescribeRegions -> *";
    const INSTANCES: [&str; 3] = [
        "ListInstances: ec2:DescribeInstances ec2:DescribeInstanceStatus -> *",
        "StartStopInstances: ec2:StartInstances ec2:StopInstances -> arn:aws:ec2:*:*:instance/*",
        "StartInstancesWithEncryptedVolumes: kms:CreateGrant -> arn:aws:kms:*:*:key/*",
    ];

    #[test]
    fn the_hub_assumes_the_member_roles_reads_the_organization_and_acts_on_nothing() {
        check_hub(&[TWO_ACCOUNTS, EC2], &[ASSUME_LISTED]);
        check_hub(&[ORG, EC2], &[ASSUME_ORG, LIST_WHOLE]);
        check_hub(&[ORG_OUS, EC2], &[ASSUME_ORG, LIST_UNITS]);
        check_hub(
            &[TWO_ACCOUNTS, ORG, EC2],
            &[
                "AssumeMemberRoles: sts:AssumeRole -> arn:aws:iam::111111111111:role/offhours-member arn:aws:iam::222222222222:role/team/offhours arn:aws:iam::*:role/offhours-member",
                LIST_WHOLE,
            ],
        );
        check_hub(&[ORG_OUS, RDS_ASG, HUB_ONLY, AUDIT], &[ASSUME_ORG, LIST_UNITS, BILLING[0], BILLING[1], BILLING[2], NOTIFY]);
        check_hub(&[TWO_ACCOUNTS, HUB_ONLY], &[ASSUME_LISTED, BILLING[0], BILLING[1], BILLING[2], NOTIFY]);
    }

    #[test]
    fn the_member_role_gets_everything_done_in_each_account() {
        check_member(&[TWO_ACCOUNTS, EC2], &[REGIONS, INSTANCES[0], INSTANCES[1], INSTANCES[2]]);
        check_member(
            &[ORG_OUS, RDS_ASG, HUB_ONLY, AUDIT],
            &[
                REGIONS,
                "ListDbInstances: rds:DescribeDBInstances -> arn:aws:rds:*:*:db:*",
                "StartStopDbInstances: rds:StartDBInstance rds:StopDBInstance -> arn:aws:rds:*:*:db:*",
                "ListAutoScalingGroups: autoscaling:DescribeAutoScalingGroups -> *",
                "ScaleAutoScalingGroups: autoscaling:UpdateAutoScalingGroup -> arn:aws:autoscaling:*:*:autoScalingGroup:*:autoScalingGroupName/*",
                "RecordAutoScalingGroupSizes: autoscaling:CreateOrUpdateTags autoscaling:DeleteTags -> arn:aws:autoscaling:*:*:autoScalingGroup:*:autoScalingGroupName/*",
                "AccessKeyAudit: iam:GenerateCredentialReport iam:GetCredentialReport -> *",
                "AccessKeyAuditUsers: iam:ListAccessKeys iam:GetAccessKeyLastUsed iam:ListUserTags -> arn:aws:iam::*:user/*",
                "DeactivateStaleAccessKeys: iam:UpdateAccessKey -> arn:aws:iam::*:user/*",
            ],
        );
        check_member(&[TWO_ACCOUNTS, HUB_ONLY], &[]);
    }

    /// Whatever the file: the hub acts on no resource, the member assumes nothing and
    /// reads no organization, and the billing alarm, notifications and the shared
    /// state table stay in the hub.
    #[test]
    fn hub_and_member_never_overlap() {
        for everything in [Features::all_accounts(), features(&[TWO_ACCOUNTS, ORG_OUS, RDS_ASG, HUB_ONLY, AUDIT].concat())] {
            let hub = actions(&hub_document(&everything));
            assert!(
                hub.iter().all(|a| ["sts:", "organizations:", "cloudwatch:", "sns:", "pricing:", "dynamodb:", "ssm:"]
                    .iter()
                    .any(|s| a.starts_with(s))),
                "{hub:?}"
            );
            let member = actions(&member_document(&everything));
            // The kinds' own statements name their services (ECS's include Application
            // Auto Scaling, its services' scaling).
            let kinds_actions: Vec<String> = crate::kinds::all().flat_map(|k| actions(&json!({"Statement": k.iam_statements()}))).collect();
            let prefixes: Vec<String> = kinds_actions
                .iter()
                .map(|a| format!("{}:", a.split(':').next().unwrap()))
                // Metrics for suggest; alarms of the resources muted where they are.
                .chain(["ec2:".into(), "iam:".into(), "cloudwatch:".into()])
                .collect();
            assert!(member.iter().all(|a| prefixes.iter().any(|s| a.starts_with(s.as_str()))), "{member:?}");
        }
    }

    #[test]
    fn role_selects_one_policy_and_needs_other_accounts() {
        let single = features(EC2);
        let across = features(&[TWO_ACCOUNTS, EC2].concat());
        let no_accounts =
            "the file has no [[accounts]] or [organization], so offhours needs one policy, in its own account (leave out --role)";
        assert_eq!(output(&single, None), Ok(document(single.clone())));
        assert_eq!(output(&single, Some(Role::Hub)), Err(format!("--role hub: {no_accounts}")));
        assert_eq!(output(&single, Some(Role::Member)), Err(format!("--role member: {no_accounts}")));
        assert_eq!(output(&across, None), Ok(json!({ "hub": hub_document(&across), "member": member_document(&across) })));
        assert_eq!(output(&across, Some(Role::Hub)), Ok(hub_document(&across)));
        assert_eq!(output(&across, Some(Role::Member)), Ok(member_document(&across)));
    }

    /// `--role` as `offhours policy` declares it: `hub` or `member`, nothing else.
    #[test]
    fn role_parses_from_the_command_line() {
        use clap::Parser;
        #[derive(Parser)]
        struct Args {
            #[arg(long, value_enum)]
            role: Option<Role>,
        }
        let parse = |args: &[&str]| Args::try_parse_from([&["policy"], args].concat()).map(|a| a.role).map_err(|e| e.kind());
        assert_eq!(parse(&[]), Ok(None));
        assert_eq!(parse(&["--role", "hub"]), Ok(Some(Role::Hub)));
        assert_eq!(parse(&["--role", "member"]), Ok(Some(Role::Member)));
        assert_eq!(parse(&["--role", "admin"]), Err(clap::error::ErrorKind::InvalidValue));
    }

    const TEMPLATE: &str = include_str!("../deploy/member-role.yaml");

    /// The template's inline policy as `(condition, "Sid: actions -> resource")`, in
    /// order; the condition is `""` for a statement outside any `!If`. Reads the
    /// template's own layout: `- !If`, `- UseX`, `- Sid: ..`, `- service:Action` lines,
    /// `Resource: ..`.
    fn template_statements() -> Vec<(String, String)> {
        let policies = TEMPLATE.split_once("\n      Policies:\n").expect("the role's Policies").1;
        let policies = policies.split_once("\nOutputs:").map_or(policies, |(p, _)| p);
        let mut statements: Vec<(String, String, Vec<String>, String)> = Vec::new();
        let (mut after_if, mut condition) = (false, None);
        for line in policies.lines().map(str::trim) {
            if line == "- !If" {
                after_if = true;
            } else if after_if {
                condition = line.strip_prefix("- ").map(str::to_string);
                after_if = false;
            } else if let Some(sid) = line.strip_prefix("- Sid: ") {
                statements.push((condition.take().unwrap_or_default(), sid.to_string(), Vec::new(), String::new()));
            } else if let Some(resource) = line.strip_prefix("Resource: ") {
                statements.last_mut().unwrap().3 = resource.trim_matches('"').to_string();
            } else if let Some(arn) = line.strip_prefix("- \"arn:") {
                // One of a list of resources.
                let resources = &mut statements.last_mut().unwrap().3;
                let arn = format!("arn:{}", arn.trim_end_matches('"'));
                *resources = if resources.is_empty() { arn } else { format!("{resources} {arn}") };
            } else if let Some(action) = line.strip_prefix("- ")
                && let Some((service, name)) = action.split_once(':')
                && !service.is_empty()
                && service.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && name.chars().all(|c| c.is_ascii_alphanumeric())
            {
                statements.last_mut().unwrap().2.push(action.to_string());
            }
        }
        statements.into_iter().map(|(c, sid, actions, resource)| (c, format!("{sid}: {} -> {resource}", actions.join(" ")))).collect()
    }

    /// `deploy/member-role.yaml` grants, for each of its feature parameters, exactly
    /// what `member_document` grants for that feature alone, statement by statement.
    #[test]
    fn the_member_template_grants_what_member_document_grants() {
        let statements = template_statements();
        let kind = |i: usize| Features { kinds: [crate::kinds::ids()[i]].into(), ..none() };
        let cases = [
            ("UseInstances", kind(0)),
            ("UseDbInstances", kind(1)),
            ("UseDbClusters", kind(2)),
            ("UseAutoScalingGroups", kind(3)),
            ("UseEcsServices", kind(4)),
            ("UseRedshiftClusters", kind(5)),
            ("UseEksNodegroups", kind(6)),
            ("UseSageMakerNotebooks", kind(7)),
            ("UseKeyAudit", Features { iam_audit: true, ..none() }),
            ("UseKeyDeactivation", Features { iam_deactivate: true, ..none() }),
            ("UseSuggest", Features { suggest: true, ..none() }),
            ("UseMuteAlarms", Features { mute_alarms: true, ..none() }),
        ];
        for (condition, features) in &cases {
            let granted: Vec<&str> = statements.iter().filter(|(c, _)| c.is_empty() || c == condition).map(|(_, s)| s.as_str()).collect();
            assert_eq!(granted, summary(&member_document(features)), "{condition}");
        }
        for (condition, statement) in &statements {
            assert!(condition.is_empty() || cases.iter().any(|(c, _)| c == condition), "{statement} under an untested {condition}");
        }
        // And as a whole: every action of the member role with every feature on.
        let everything = Features { snooze: false, ..Features::all_accounts() };
        let mut granted: Vec<String> = member_document(&everything)["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string()))
            .collect();
        granted.sort();
        let mut in_template: Vec<String> =
            statements.iter().flat_map(|(_, s)| s.split(" -> ").next().unwrap().split(' ').skip(1).map(str::to_string)).collect();
        in_template.sort();
        assert_eq!(in_template, granted);
        for needed in [
            "kms:GrantIsForAWSResource: \"true\"",
            "AWS: !Ref HubPrincipalArn",
            "sts:ExternalId: !Ref ExternalId",
            "MaxSessionDuration: 3600",
            // The daemon's tag writes name its record tags only.
            "aws:TagKeys:\n                        - \"offhours:asg-sizes\"",
            "aws:TagKeys:\n                        - \"offhours:ecs-desired\"",
            "aws:TagKeys:\n                        - \"offhours:eks-sizes\"",
        ] {
            assert!(TEMPLATE.contains(needed), "the template lacks `{needed}`");
        }
    }
}

#[cfg(test)]
mod kinds_tests {
    use super::*;
    use crate::config::{HostTimezone, from_str};

    fn actions_for(text: &str) -> Vec<String> {
        let config = from_str(text, "t.toml", &HostTimezone::fixed(chrono_tz::UTC)).unwrap();
        let doc = document(Features::of(&config));
        let mut out: Vec<String> = doc["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string()))
            .collect();
        out.sort();
        out
    }

    #[test]
    fn the_policy_grants_exactly_the_kinds_in_use() {
        let ec2_only = actions_for("[schedules.a]\nstart = \"0 8 * * *\"\n");
        assert!(ec2_only.iter().all(|a| a.starts_with("ec2:") || a == "kms:CreateGrant"), "{ec2_only:?}");
        let asg = actions_for("[schedules.a]\nstart = \"0 8 * * *\"\nkinds = [\"asg\"]\n");
        assert_eq!(
            asg,
            vec![
                "autoscaling:CreateOrUpdateTags",
                "autoscaling:DeleteTags",
                "autoscaling:DescribeAutoScalingGroups",
                "autoscaling:UpdateAutoScalingGroup",
                "ec2:DescribeRegions"
            ]
        );
        let mixed = actions_for(
            "kinds = [\"rds\"]\n[schedules.a]\nstart = \"0 8 * * *\"\n[schedules.b]\nstop = \"0 8 * * *\"\nkinds = [\"ecs\"]\n",
        );
        assert!(mixed.contains(&"rds:StopDBInstance".to_string()) && mixed.contains(&"ecs:UpdateService".to_string()), "{mixed:?}");
        assert!(!mixed.iter().any(|a| a.starts_with("rds:") && a.contains("Cluster")), "{mixed:?}");
        // A cluster's members' classes are read with DescribeDBInstances.
        let clusters = actions_for("[schedules.a]\nstart = \"0 8 * * *\"\nkinds = [\"rds-cluster\"]\n");
        assert_eq!(
            clusters,
            ["ec2:DescribeRegions", "rds:DescribeDBClusters", "rds:DescribeDBInstances", "rds:StartDBCluster", "rds:StopDBCluster"]
        );
        assert!(!mixed.contains(&"ec2:StopInstances".to_string()), "{mixed:?}");
    }

    #[test]
    fn the_price_list_is_granted_with_a_savings_section_for_instances_or_databases_in_usd() {
        let office = "[schedules.a]\nstart = \"0 8 * * *\"\n";
        let cases = [
            ("", false),
            ("[savings]\nretention = \"30d\"\n", true),
            ("[savings.prices]\n\"t3.micro\" = 0.0104\n", true),
            ("[savings]\nprice_refresh = \"1d\"\n", true),
            // The Price List prices in USD only: in another currency it is never asked.
            ("[savings]\ncurrency = \"EUR\"\n", false),
            // Instances, DB instances and (Aurora) clusters' members are priced from the
            // API; groups and services are not.
            ("kinds = [\"rds\", \"asg\"]\n[savings]\nretention = \"30d\"\n", true),
            ("kinds = [\"rds-cluster\", \"asg\", \"ecs\"]\n[savings]\nretention = \"30d\"\n", true),
            ("kinds = [\"asg\", \"ecs\"]\n[savings]\nretention = \"30d\"\n", false),
        ];
        for (extra, granted) in cases {
            let actions = actions_for(&format!("{office}{extra}"));
            assert_eq!(actions.contains(&"pricing:GetProducts".to_string()), granted, "{extra}");
        }
    }
}

#[cfg(test)]
mod notify_tests {
    use super::*;
    use crate::config::{HostTimezone, from_str};

    #[test]
    fn publish_is_granted_on_the_configured_topic_only_and_snooze_only_when_asked() {
        let text = "[schedules.a]\nstart = \"0 8 * * *\"\n[notify]\nsns_topic_arn = \"arn:aws:sns:eu-west-1:123456789012:ops\"\n";
        let config = from_str(text, "t.toml", &HostTimezone::fixed(chrono_tz::UTC)).unwrap();
        let doc = document(Features::of(&config));
        let statements = doc["Statement"].as_array().unwrap();
        let notify = statements.iter().find(|s| s["Sid"] == "Notify").expect("a Notify statement");
        assert_eq!(notify["Action"], json!(["sns:Publish"]));
        assert_eq!(notify["Resource"], "arn:aws:sns:eu-west-1:123456789012:ops");
        assert!(!statements.iter().any(|s| s["Sid"] == "Snooze"), "the daemon never snoozes");
        let mut with_snooze = Features::of(&config);
        with_snooze.snooze = true;
        assert!(document(with_snooze)["Statement"].as_array().unwrap().iter().any(|s| s["Sid"] == "Snooze"));
        let plain = from_str("[schedules.a]\nstart = \"0 8 * * *\"\n", "t.toml", &HostTimezone::fixed(chrono_tz::UTC)).unwrap();
        assert!(!document(Features::of(&plain)).to_string().contains("sns:Publish"));
    }
}

#[cfg(test)]
mod organization_tests {
    use super::*;
    use crate::config::{HostTimezone, from_str};

    fn sids(text: &str, policy: fn(&Features) -> Value) -> Vec<String> {
        let config = from_str(text, "t.toml", &HostTimezone::fixed(chrono_tz::UTC)).unwrap();
        policy(&Features::of(&config))["Statement"].as_array().unwrap().iter().map(|s| s["Sid"].as_str().unwrap().to_string()).collect()
    }

    /// The Organizations reads are the hub's, and only with an organization.
    #[test]
    fn the_organizations_reads_are_granted_only_with_an_organization() {
        let single = |f: &Features| document(f.clone());
        let schedule = "[schedules.a]\nstart = \"0 8 * * *\"\n";
        assert!(!sids(schedule, single).contains(&"DiscoverAccounts".to_string()));
        let org = format!("[organization]\nrole_name = \"offhours-member\"\n{schedule}");
        assert!(sids(&org, hub_document).contains(&"DiscoverAccounts".to_string()));
        assert!(!sids(&org, member_document).contains(&"DiscoverAccounts".to_string()));
        let accounts = format!("[[accounts]]\nrole_arn = \"arn:aws:iam::111111111111:role/offhours-member\"\n{schedule}");
        assert!(!sids(&accounts, hub_document).contains(&"DiscoverAccounts".to_string()));
        let hub = hub_document(&Features::all_accounts());
        let discover = hub["Statement"].as_array().unwrap().iter().find(|s| s["Sid"] == "DiscoverAccounts").unwrap();
        assert_eq!(
            discover["Action"],
            json!(["organizations:ListAccounts", "organizations:ListAccountsForParent", "organizations:ListOrganizationalUnitsForParent"])
        );
    }
}

#[cfg(test)]
mod state_tests {
    use super::*;
    use crate::config::{HostTimezone, from_str};

    const EC2: &str = "[schedules.a]\nstart = \"0 8 * * *\"\n";
    const TWO_ACCOUNTS: &str = "[[accounts]]\nrole_arn = \"arn:aws:iam::111111111111:role/offhours-member\"\n";

    fn features(text: &str) -> Features {
        Features::of(&from_str(text, "t.toml", &HostTimezone::fixed(chrono_tz::UTC)).unwrap())
    }

    /// Each statement as `Sid: actions -> resource`.
    fn summary(doc: &Value) -> Vec<String> {
        doc["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                let actions: Vec<&str> = s["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
                format!("{}: {} -> {}", s["Sid"].as_str().unwrap(), actions.join(" "), s["Resource"])
            })
            .collect()
    }

    #[test]
    fn shared_state_grants_the_table_s_item_calls_on_that_table_only() {
        let text = "regions = [\"eu-west-1\"]\n[state]\nbackend = \"dynamodb\"\ntable = \"offhours-state\"\n";
        let doc = document(features(&format!("{text}{EC2}")));
        let shared: Vec<String> = summary(&doc).into_iter().filter(|s| s.starts_with("SharedState")).collect();
        assert_eq!(
            shared,
            [
                "SharedState: dynamodb:GetItem dynamodb:PutItem dynamodb:UpdateItem dynamodb:Query dynamodb:DeleteItem dynamodb:ConditionCheckItem -> \"arn:aws:dynamodb:eu-west-1:*:table/offhours-state\""
            ]
        );
        assert!(!summary(&doc).iter().any(|s| s.contains("CreateTable")), "the daemon never creates the table");
        let hub = hub_document(&features(&format!("{text}{TWO_ACCOUNTS}{EC2}")));
        assert!(summary(&hub).iter().any(|s| s.starts_with("SharedState")), "the table is the hub's");
        let member = member_document(&features(&format!("{text}{TWO_ACCOUNTS}{EC2}")));
        assert!(!summary(&member).iter().any(|s| s.contains("dynamodb")), "members never see the table");
        assert!(!summary(&document(features(EC2))).iter().any(|s| s.contains("dynamodb")), "a state file needs no table");
    }
}
