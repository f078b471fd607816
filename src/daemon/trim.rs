//! Gives the kernel back what the idle daemon does not use: the pages of its own code
//! touched while starting and firing (start-up alone maps about 9 MB of a 24 MB
//! binary that the daemon then sleeps beside; `docs/performance.md` has the figures),
//! and the heap glibc keeps after freeing. The kernel maps code pages again on the
//! next use, from the page cache: a fire pays some minor page faults, no disk read
//! unless memory was short.

use std::time::{Duration, Instant};

/// A wake this far off counts as idle.
const IDLE: Duration = Duration::from_secs(10);
/// At most once in this long.
const EVERY: Duration = Duration::from_secs(60);

/// When the daemon last trimmed.
#[derive(Debug, Default)]
pub struct Trim {
    last: Option<Instant>,
}

impl Trim {
    /// Trims when the next wake is at least [`IDLE`] away and the last trim was
    /// [`EVERY`] ago or more.
    pub fn when_idle(&mut self, next_wake_in: Duration) {
        if next_wake_in < IDLE || self.last.is_some_and(|t| t.elapsed() < EVERY) {
            return;
        }
        self.last = Some(Instant::now());
        release();
    }
}

#[cfg(target_os = "linux")]
fn release() {
    // SAFETY: malloc_trim only returns free heap memory to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
    let Ok(exe) = std::fs::read_link("/proc/self/exe") else { return };
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else { return };
    for (start, len) in own_mappings(&maps, &exe.to_string_lossy()) {
        // SAFETY: the range is a read-only mapping of this executable's file (its code
        // and constants): MADV_PAGEOUT drops clean pages, which the kernel reads back
        // from the file on the next access; contents never change. Kernels before 5.4
        // answer EINVAL, which changes nothing.
        unsafe {
            libc::madvise(start as *mut libc::c_void, len, libc::MADV_PAGEOUT);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn release() {}

/// The read-only mappings of the file `exe` in `/proc/self/maps`, as (start, length).
fn own_mappings(maps: &str, exe: &str) -> Vec<(usize, usize)> {
    maps.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (range, perms) = (*fields.first()?, *fields.get(1)?);
            // The path is the rest of the line (it may hold spaces, or end in " (deleted)").
            let path = fields.get(5..)?.join(" ");
            if path != exe || perms.contains('w') {
                return None;
            }
            let (a, b) = range.split_once('-')?;
            let (a, b) = (usize::from_str_radix(a, 16).ok()?, usize::from_str_radix(b, 16).ok()?);
            Some((a, b.checked_sub(a)?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_executables_read_only_mappings() {
        let maps = "\
5600-5800 r--p 00000000 08:01 12 /usr/bin/offhours
5800-6000 r-xp 00200000 08:01 12 /usr/bin/offhours
6000-6100 rw-p 00a00000 08:01 12 /usr/bin/offhours
7000-7100 r-xp 00000000 08:01 34 /usr/lib/x86_64-linux-gnu/libc.so.6
7200-7300 rw-p 00000000 00:00 0 [heap]
7400-7500 r-xp 00000000 08:01 56 /usr/bin/offhours (deleted)
";
        assert_eq!(own_mappings(maps, "/usr/bin/offhours"), vec![(0x5600, 0x200), (0x5800, 0x800)]);
    }

    #[test]
    fn trims_only_when_idle_and_not_too_often() {
        let mut trim = Trim::default();
        trim.when_idle(Duration::from_secs(1));
        assert!(trim.last.is_none(), "a wake within seconds is not idle");
        trim.when_idle(Duration::from_secs(30));
        let first = trim.last.expect("trimmed when idle");
        trim.when_idle(Duration::from_secs(30));
        assert_eq!(trim.last, Some(first), "not again within a minute");
    }
}
