//! What a stop of a service records in its tag (`offhours:ecs-desired`): the desired
//! count and, for a service under Application Auto Scaling, its scalable target's
//! minimum, maximum and suspended scaling, so that a start restores all of it exactly.
//! Application Auto Scaling would otherwise scale a service set to 0 back up to its
//! minimum within minutes: a stop sets the target to 0..0 with its scaling suspended.

/// Which scaling of a scalable target is suspended (its `SuspendedState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Suspended {
    pub dynamic_in: bool,
    pub dynamic_out: bool,
    pub scheduled: bool,
}

impl Suspended {
    pub const ALL: Suspended = Suspended { dynamic_in: true, dynamic_out: true, scheduled: true };

    /// `none`, or the suspended parts joined by `+` (`in+out+scheduled`): the
    /// characters every service accepts in a tag value.
    fn word(self) -> String {
        let parts: Vec<&str> = [(self.dynamic_in, "in"), (self.dynamic_out, "out"), (self.scheduled, "scheduled")]
            .into_iter()
            .filter_map(|(on, name)| on.then_some(name))
            .collect();
        if parts.is_empty() { "none".to_string() } else { parts.join("+") }
    }

    fn parse(word: &str) -> Result<Suspended, String> {
        let mut s = Suspended::default();
        if word == "none" {
            return Ok(s);
        }
        for part in word.split('+') {
            match part {
                "in" => s.dynamic_in = true,
                "out" => s.dynamic_out = true,
                "scheduled" => s.scheduled = true,
                other => return Err(format!("unknown suspended scaling `{other}` (in, out, scheduled or none)")),
            }
        }
        Ok(s)
    }
}

/// A service's scalable target (`ecs:service:DesiredCount`) as it was, or is to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub min: i32,
    pub max: i32,
    pub suspended: Suspended,
}

impl Target {
    /// What a stop sets: nothing to scale to, and no scaling at all.
    pub const STOPPED: Target = Target { min: 0, max: 0, suspended: Suspended::ALL };
}

/// What a stop records and a start restores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    pub desired: i32,
    /// `None`: the service had no scalable target.
    pub target: Option<Target>,
}

/// What a stop records: the count now and the target now, except a target offhours
/// itself holds at 0..0 (the service was scaled up by hand since the last stop, its
/// record still there): then the target the earlier stop recorded, which a start must
/// put back.
pub fn at_stop(desired: i32, target: Option<Target>, previous: Option<&Record>) -> Record {
    let target = match (target, previous.and_then(|p| p.target)) {
        (Some(Target::STOPPED), Some(recorded)) => Some(recorded),
        (now, _) => now,
    };
    Record { desired, target }
}

/// The tag's value: the bare count without a target (as offhours always wrote it),
/// else `desired=2 min=1 max=4 suspended=none`.
pub fn format(r: Record) -> String {
    match r.target {
        None => r.desired.to_string(),
        Some(t) => format!("desired={} min={} max={} suspended={}", r.desired, t.min, t.max, t.suspended.word()),
    }
}

/// Reads the tag's value (either form).
pub fn parse(value: &str) -> Result<Record, String> {
    let value = value.trim();
    if !value.contains('=') {
        return match value.parse::<i32>() {
            Ok(desired) if desired >= 0 => Ok(Record { desired, target: None }),
            _ => Err(format!("`{value}` is not a desired count")),
        };
    }
    let (mut desired, mut min, mut max, mut suspended) = (None, None, None, None);
    for part in value.split_whitespace() {
        let (key, v) = part.split_once('=').ok_or_else(|| format!("`{part}` is not key=value"))?;
        let number = || v.parse::<i32>().ok().filter(|n| *n >= 0).ok_or_else(|| format!("{key}: `{v}` is not a count"));
        // A key given twice is a record someone edited by hand: which value is meant
        // cannot be known.
        let once = |seen: bool| if seen { Err(format!("{key} is given twice")) } else { Ok(()) };
        match key {
            "desired" => {
                once(desired.is_some())?;
                desired = Some(number()?);
            }
            "min" => {
                once(min.is_some())?;
                min = Some(number()?);
            }
            "max" => {
                once(max.is_some())?;
                max = Some(number()?);
            }
            "suspended" => {
                once(suspended.is_some())?;
                suspended = Some(Suspended::parse(v).map_err(|e| format!("suspended: {e}"))?);
            }
            other => return Err(format!("unknown field `{other}`")),
        }
    }
    let desired = desired.ok_or("needs desired")?;
    match (min, max, suspended) {
        (Some(min), Some(max), Some(suspended)) if min <= max => Ok(Record { desired, target: Some(Target { min, max, suspended }) }),
        (Some(_), Some(_), Some(_)) => Err("the target's min is above its max".into()),
        _ => Err("a target needs min, max and suspended".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_reads_back_as_written_and_the_old_form_still_reads() {
        let target = |min, max, suspended| Some(Target { min, max, suspended });
        let partly = Suspended { dynamic_in: true, dynamic_out: false, scheduled: true };
        // (record, its tag value)
        let cases = [
            (Record { desired: 2, target: None }, "2"),
            (Record { desired: 3, target: target(1, 4, Suspended::default()) }, "desired=3 min=1 max=4 suspended=none"),
            (Record { desired: 0, target: target(0, 2, partly) }, "desired=0 min=0 max=2 suspended=in+scheduled"),
            (Record { desired: 5, target: target(2, 9, Suspended::ALL) }, "desired=5 min=2 max=9 suspended=in+out+scheduled"),
        ];
        for (record, text) in cases {
            assert_eq!(format(record), text);
            assert_eq!(parse(text), Ok(record), "{text}");
        }
        assert_eq!(parse(" 7 "), Ok(Record { desired: 7, target: None }));
    }

    #[test]
    fn a_stop_keeps_the_target_an_earlier_stop_recorded_while_offhours_holds_it() {
        let own = Target { min: 2, max: 6, suspended: Suspended::default() };
        let earlier = Record { desired: 3, target: Some(own) };
        let other = Target { min: 1, max: 2, suspended: Suspended::default() };
        // (target now, the record already there, what is recorded)
        let cases = [
            (None, None, None),
            (Some(own), None, Some(own)),
            // Scaled up by hand while held: the held 0..0 is ours, not the service's.
            (Some(Target::STOPPED), Some(earlier), Some(own)),
            // Someone changed the target since: theirs wins.
            (Some(other), Some(earlier), Some(other)),
            (Some(Target::STOPPED), None, Some(Target::STOPPED)),
            (None, Some(earlier), None),
        ];
        for (now, previous, want) in cases {
            assert_eq!(at_stop(2, now, previous.as_ref()), Record { desired: 2, target: want }, "{now:?} {previous:?}");
        }
    }

    #[test]
    fn a_bad_record_says_what_is_wrong() {
        let cases = [
            ("-1", "`-1` is not a desired count"),
            ("two", "`two` is not a desired count"),
            ("desired=2 min", "`min` is not key=value"),
            ("desired=2 min=1", "a target needs min, max and suspended"),
            ("min=1 max=2 suspended=none", "needs desired"),
            ("desired=2 min=3 max=2 suspended=none", "the target's min is above its max"),
            ("desired=2 min=1 max=2 suspended=sideways", "suspended: unknown suspended scaling `sideways` (in, out, scheduled or none)"),
            ("desired=x", "desired: `x` is not a count"),
            ("desired=2 min=1 max=-4 suspended=none", "max: `-4` is not a count"),
            ("desired=2 desired=3", "desired is given twice"),
            ("desired=2 min=1 max=2 suspended=none suspended=in", "suspended is given twice"),
            ("desired=2 colour=blue", "unknown field `colour`"),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text), Err(want.to_string()), "{text}");
        }
    }
}
