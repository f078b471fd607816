//! The leader lease's decisions, pure, after the Amazon DynamoDB Lock Client's protocol.
//!
//! One record in the shared table says who leads: its owner, a record version number
//! (`rvn`, a fresh random value at every write), the lease's duration and a fencing
//! number that grows at every acquisition. The leader rewrites the record (a new `rvn`)
//! every quarter of the lease; each write is conditioned on the `rvn` it last wrote.
//!
//! A standby never compares clocks across machines: it notes the `rvn` it reads and
//! when, on its own monotonic clock, and judges the lease stale only once it has seen
//! the same `rvn` for a full lease duration. It then takes the lease with a write
//! conditioned on that `rvn`, so that of two standbys at most one wins, and a leader
//! that renewed meanwhile makes the takeover fail.
//!
//! The leader, for its part, counts itself leader only until its last successful
//! renewal's *send* instant plus the lease minus a margin: a standby's full duration
//! starts after it read that renewal, so the two windows cannot overlap while the two
//! monotonic clocks run at the same rate (the margin absorbs rate drift and scheduling).

use std::time::{Duration, Instant};

/// Grows at every acquisition; every state write is conditioned on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fence(pub u64);

impl std::fmt::Display for Fence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The lease record as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Which replica holds it: host, process id and a random part.
    pub owner: String,
    /// Record version number: changes at every write.
    pub rvn: String,
    pub fence: Fence,
    /// How long the holder's lease lasts unrenewed (the holder's setting).
    pub duration: Duration,
    /// Given up at a clean shutdown: the next replica may take it at once.
    pub released: bool,
}

/// What a takeover's write must find in the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// No record at all (a new table).
    Absent,
    /// The record with this `rvn`, unchanged since it was judged stale or released.
    Rvn(String),
}

/// What a standby remembers between reads: the `rvn` it saw and since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub rvn: String,
    pub since: Instant,
}

/// A standby's next move after reading the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Try to take the lease: write a record with this fence, conditioned on `expect`.
    Acquire { expect: Expect, fence: Fence, why: Why },
    /// The record is this replica's own last write (an answer to it was lost, so it
    /// believed it failed): renew it at once, conditioned on its `rvn`. Nobody else
    /// can have written since, or the owner would be theirs.
    Adopt,
    /// Someone holds it; look again later.
    Wait { holder: String },
}

/// Why a standby may take the lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    NoRecord,
    Released,
    /// The record did not change for a full lease duration.
    Stale,
}

impl Why {
    pub fn as_str(self) -> &'static str {
        match self {
            Why::NoRecord => "no lease yet",
            Why::Released => "released by its holder",
            Why::Stale => "not renewed for a full lease duration",
        }
    }
}

/// A standby's decision on reading `record` at `now`, updating what it has `seen`;
/// `me` is this replica's owner id.
pub fn standby_step(seen: &mut Option<Seen>, record: Option<&Record>, now: Instant, me: &str) -> Step {
    let Some(r) = record else {
        *seen = None;
        return Step::Acquire { expect: Expect::Absent, fence: Fence(1), why: Why::NoRecord };
    };
    let next = Fence(r.fence.0 + 1);
    if r.released {
        return Step::Acquire { expect: Expect::Rvn(r.rvn.clone()), fence: next, why: Why::Released };
    }
    if r.owner == me {
        *seen = None;
        return Step::Adopt;
    }
    match seen {
        Some(s) if s.rvn == r.rvn => {
            if now.saturating_duration_since(s.since) >= r.duration {
                Step::Acquire { expect: Expect::Rvn(r.rvn.clone()), fence: next, why: Why::Stale }
            } else {
                Step::Wait { holder: r.owner.clone() }
            }
        }
        _ => {
            *seen = Some(Seen { rvn: r.rvn.clone(), since: now });
            Step::Wait { holder: r.owner.clone() }
        }
    }
}

/// How often the leader renews (and a standby reads): a quarter of the lease, so that
/// two renewals may fail and the lease still holds.
pub fn heartbeat_every(lease: Duration) -> Duration {
    lease / 4
}

/// Until when a leader whose renewal (or acquisition) was *sent* at `sent` may act.
pub fn leads_until(sent: Instant, lease: Duration) -> Instant {
    sent + lease - margin(lease)
}

/// Kept back from the end of the lease for clock-rate drift and scheduling delays.
fn margin(lease: Duration) -> Duration {
    lease / 5
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(rvn: &str, fence: u64, released: bool) -> Record {
        Record { owner: "a:1:x".into(), rvn: rvn.into(), fence: Fence(fence), duration: Duration::from_secs(20), released }
    }

    #[test]
    fn a_standby_takes_the_lease_only_when_it_is_free_released_or_stale() {
        let t0 = Instant::now();
        let s = |secs: u64| t0 + Duration::from_secs(secs);
        let wait = Step::Wait { holder: "a:1:x".into() };
        let stale = |rvn: &str, fence| Step::Acquire { expect: Expect::Rvn(rvn.into()), fence: Fence(fence), why: Why::Stale };
        // (what the standby reads, when) -> what it does, in order, from nothing seen.
        type Reads = Vec<(Option<Record>, Instant, Step)>;
        let cases: &[(&str, Reads)] = &[
            ("an empty table", vec![(None, s(0), Step::Acquire { expect: Expect::Absent, fence: Fence(1), why: Why::NoRecord })]),
            (
                "a released lease is taken at once, with the next fence",
                vec![(
                    Some(record("r1", 7, true)),
                    s(0),
                    Step::Acquire { expect: Expect::Rvn("r1".into()), fence: Fence(8), why: Why::Released },
                )],
            ),
            (
                "a renewed lease is never stale",
                vec![
                    (Some(record("r1", 3, false)), s(0), wait.clone()),
                    (Some(record("r2", 3, false)), s(15), wait.clone()),
                    (Some(record("r3", 3, false)), s(30), wait.clone()),
                    (Some(record("r3", 3, false)), s(49), wait.clone()),
                ],
            ),
            (
                "unchanged for a full duration from the first sight, however old it was",
                vec![
                    (Some(record("r1", 3, false)), s(0), wait.clone()),
                    (Some(record("r1", 3, false)), s(19), wait.clone()),
                    (Some(record("r1", 3, false)), s(20), stale("r1", 4)),
                ],
            ),
            (
                "a change restarts the watch",
                vec![
                    (Some(record("r1", 3, false)), s(0), wait.clone()),
                    (Some(record("r2", 4, false)), s(19), wait.clone()),
                    (Some(record("r2", 4, false)), s(38), wait.clone()),
                    (Some(record("r2", 4, false)), s(39), stale("r2", 5)),
                ],
            ),
            (
                "a record that vanished and came back is watched afresh",
                vec![
                    (Some(record("r1", 3, false)), s(0), wait.clone()),
                    (None, s(10), Step::Acquire { expect: Expect::Absent, fence: Fence(1), why: Why::NoRecord }),
                    (Some(record("r1", 3, false)), s(21), wait.clone()),
                    (Some(record("r1", 3, false)), s(41), stale("r1", 4)),
                ],
            ),
        ];
        for (name, reads) in cases {
            let mut seen = None;
            for (i, (rec, now, want)) in reads.iter().enumerate() {
                assert_eq!(&standby_step(&mut seen, rec.as_ref(), *now, "b:2:y"), want, "{name}, read {i}");
            }
        }
    }

    #[test]
    fn the_holder_duration_counts_not_the_standby_s() {
        let t0 = Instant::now();
        let mut seen = None;
        let short = Record { duration: Duration::from_secs(4), ..record("r1", 1, false) };
        assert!(matches!(standby_step(&mut seen, Some(&short), t0, "b:2:y"), Step::Wait { .. }));
        assert!(matches!(
            standby_step(&mut seen, Some(&short), t0 + Duration::from_secs(4), "b:2:y"),
            Step::Acquire { why: Why::Stale, .. }
        ));
    }

    #[test]
    fn its_own_record_is_renewed_at_once_unless_released() {
        let t0 = Instant::now();
        let mut seen = None;
        let mine = record("r1", 5, false);
        assert_eq!(standby_step(&mut seen, Some(&mine), t0, "a:1:x"), Step::Adopt, "a write whose answer was lost");
        assert_eq!(seen, None);
        let released = record("r1", 5, true);
        assert!(matches!(standby_step(&mut seen, Some(&released), t0, "a:1:x"), Step::Acquire { why: Why::Released, fence: Fence(6), .. }));
        assert!(matches!(standby_step(&mut seen, Some(&mine), t0, "b:2:y"), Step::Wait { .. }), "another's record is watched");
    }

    #[test]
    fn a_leader_stops_before_any_standby_can_start() {
        let lease = Duration::from_secs(20);
        let sent = Instant::now();
        assert_eq!(heartbeat_every(lease), Duration::from_secs(5));
        let until = leads_until(sent, lease);
        assert_eq!(until - sent, Duration::from_secs(16));
        // A standby reads the renewal no earlier than it was sent, and waits a full lease.
        let earliest_takeover = sent + lease;
        assert!(until < earliest_takeover);
        // Three renewals may fail in a row before the leader stops acting.
        assert!(sent + heartbeat_every(lease) * 3 < until);
    }
}
