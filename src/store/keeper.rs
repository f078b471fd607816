//! The lease's imperative shell: one task per replica that renews the lease while it
//! holds it, or watches it and takes it when it is free, released or stale, and
//! publishes the replica's [`Role`]. The decisions are [`super::lease`]'s.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use super::Role;
use super::lease::{self, Record, Seen, Step};
use crate::store::table::StateTable;

pub struct Keeper {
    table: StateTable,
    owner: String,
    lease: Duration,
    role: watch::Sender<Role>,
    /// The record as this replica last wrote it, while it holds the lease.
    held: Mutex<Option<Record>>,
    /// Wakes the task early (a fenced write failed: check the lease now).
    poke: Notify,
    /// Whether the first role has been announced (the metric starts at "leader").
    announced: std::sync::atomic::AtomicBool,
}

impl Keeper {
    pub fn new(table: StateTable, lease: Duration) -> Arc<Self> {
        let (role, _) = watch::channel(Role::Standby { holder: None, why: "the lease has not been read yet".into() });
        Arc::new(Keeper {
            table,
            owner: owner_id(),
            lease,
            role,
            held: Mutex::new(None),
            poke: Notify::new(),
            announced: Default::default(),
        })
    }

    /// This replica's name in the lease record: host, process id and a random part.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    pub fn role(&self) -> Role {
        self.role.borrow().clone()
    }

    pub fn subscribe(&self) -> watch::Receiver<Role> {
        self.role.subscribe()
    }

    /// Asks the task to renew or read the lease now.
    pub fn poke(&self) {
        self.poke.notify_one();
    }

    /// Renews or watches the lease until the task is aborted.
    pub async fn run(self: Arc<Self>) {
        let every = lease::heartbeat_every(self.lease);
        let mut seen: Option<Seen> = None;
        loop {
            self.turn(&mut seen).await;
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = self.poke.notified() => {}
            }
        }
    }

    /// One renewal (leader) or one read (standby); a read that finds this replica's own
    /// record renews it at once.
    async fn turn(&self, seen: &mut Option<Seen>) {
        let held = self.held.lock().expect("lease lock").clone();
        let mut rec = match held {
            Some(rec) => rec,
            None => match self.watch(seen).await {
                Some(adopted) => adopted,
                None => return,
            },
        };
        // At most twice: a renewal refused because an earlier one did land (its answer
        // lost) finds the record its own on the read that follows, and renews that.
        for attempt in 0..2 {
            let sent = Instant::now();
            let rvn = new_rvn();
            match self.table.renew(&rec, &rvn, false).await {
                Ok(true) => {
                    let fence = rec.fence;
                    *self.held.lock().expect("lease lock") = Some(Record { rvn, ..rec });
                    self.set(Role::Leader { fence, until: Some(Instant::from_std(lease::leads_until(sent.into_std(), self.lease))) });
                    return;
                }
                Ok(false) => {
                    *self.held.lock().expect("lease lock") = None;
                    *seen = None;
                    // The read says who holds it now (and stands this replica by).
                    match self.watch(seen).await {
                        Some(adopted) if attempt == 0 => rec = adopted,
                        _ => {
                            if self.role().leads(Instant::now()) == Some(rec.fence) {
                                self.set(Role::Standby { holder: None, why: "another replica took the lease".into() });
                            }
                            return;
                        }
                    }
                }
                Err(e) => {
                    // Kept as held: the next renewal is conditioned on the same rvn,
                    // and if this one did land, the read after its refusal adopts it.
                    *self.held.lock().expect("lease lock") = Some(rec.clone());
                    tracing::warn!(job = "lease", table = %self.table.table, region = %self.table.region, fence = rec.fence.0, error = %e, "Cannot renew the lease; retrying.");
                    if self.role().leads(Instant::now()).is_none() {
                        self.set(Role::Standby { holder: None, why: format!("the lease could not be renewed in time: {e}") });
                    }
                    return;
                }
            }
        }
    }

    /// A standby's read and its step; `Some(record)`: the record is this replica's
    /// own, to be renewed now.
    async fn watch(&self, seen: &mut Option<Seen>) -> Option<Record> {
        match self.table.read_lease().await {
            Ok(record) => match lease::standby_step(seen, record.as_ref(), Instant::now().into_std(), &self.owner) {
                Step::Adopt => {
                    tracing::info!(job = "lease", owner = %self.owner, "The lease record is this replica's own last write; renewing it.");
                    record
                }
                Step::Acquire { expect, fence, why } => {
                    let new = Record { owner: self.owner.clone(), rvn: new_rvn(), fence, duration: self.lease, released: false };
                    let sent = Instant::now();
                    match self.table.acquire(&expect, &new).await {
                        Ok(true) => {
                            tracing::info!(job = "lease", table = %self.table.table, owner = %self.owner, fence = fence.0, reason = why.as_str(), lease_s = self.lease.as_secs_f64(), "Lease acquired.");
                            *self.held.lock().expect("lease lock") = Some(new);
                            *seen = None;
                            self.set(Role::Leader {
                                fence,
                                until: Some(Instant::from_std(lease::leads_until(sent.into_std(), self.lease))),
                            });
                        }
                        // Another replica was faster: watch its record afresh.
                        Ok(false) => *seen = None,
                        Err(e) => {
                            tracing::warn!(job = "lease", table = %self.table.table, region = %self.table.region, error = %e, "Cannot take the lease; retrying.")
                        }
                    }
                    None
                }
                Step::Wait { holder } => {
                    self.set(Role::Standby { why: format!("{holder} holds the lease"), holder: Some(holder) });
                    None
                }
            },
            Err(e) => {
                tracing::warn!(job = "lease", table = %self.table.table, region = %self.table.region, error = %e, "Cannot read the lease; retrying.");
                self.set(Role::Standby { holder: None, why: format!("the lease cannot be read: {e}") });
                None
            }
        }
    }

    /// Publishes a role; a change between leading and standing by is logged.
    fn set(&self, role: Role) {
        let now = Instant::now();
        let was = self.role.borrow().name_at(now);
        let is = role.name_at(now);
        if was != is {
            match &role {
                Role::Leader { fence, .. } => {
                    tracing::info!(job = "lease", role = "leader", fence = fence.0, owner = %self.owner, "Leading.")
                }
                Role::Standby { why, .. } => {
                    tracing::warn!(job = "lease", role = "standby", owner = %self.owner, reason = %why, "Standing by.")
                }
            }
        }
        if was != is || !self.announced.swap(true, std::sync::atomic::Ordering::SeqCst) {
            crate::events::emit(crate::events::Event::Role { leader: is == "leader" });
        }
        // Renewals only move `until`: the loop reads it when it looks, so they need not
        // wake it. Anything else (leading or not, the fence, who holds the lease and why)
        // does, so that health and readiness show it.
        self.role.send_if_modified(|r| {
            let wake = match (&*r, &role) {
                (Role::Leader { fence: a, .. }, Role::Leader { fence: b, .. }) => a != b || r.name_at(now) != role.name_at(now),
                (a, b) => a != b,
            };
            *r = role;
            wake
        });
    }

    /// Gives the lease up (at a clean shutdown), so that a standby takes over at once.
    pub async fn release(&self) {
        let held = self.held.lock().expect("lease lock").take();
        if let Some(rec) = held {
            let mut outcome = self.table.renew(&rec, &new_rvn(), true).await;
            if let Ok(false) = outcome {
                // A renewal whose answer was lost may have moved the rvn: release the
                // record if it is still this replica's own.
                outcome = match self.table.read_lease().await {
                    Ok(Some(own)) if own.owner == self.owner && !own.released => self.table.renew(&own, &new_rvn(), true).await,
                    Ok(_) => Ok(false),
                    Err(e) => Err(e),
                };
            }
            match outcome {
                Ok(true) => tracing::info!(job = "lease", fence = rec.fence.0, owner = %self.owner, "Lease released."),
                Ok(false) => tracing::info!(job = "lease", fence = rec.fence.0, "Lease already taken by another replica."),
                Err(e) => tracing::warn!(job = "lease", error = %e, "Cannot release the lease; a standby takes over once it is stale."),
            }
        }
        self.role.send_replace(Role::Standby { holder: None, why: "stopped".into() });
    }
}

fn new_rvn() -> String {
    format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..))
}

fn owner_id() -> String {
    let host = rustix::system::uname().nodename().to_string_lossy().into_owned();
    format!("{host}:{}:{:08x}", std::process::id(), fastrand::u32(..))
}
