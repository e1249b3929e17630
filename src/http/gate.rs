//! What every request to one API host waits for: a free slot (`--concurrency`
//! requests in flight per host, however many targets share it), the end of a
//! pause a rate limit asked for, and, for writes to GitHub, the pacing that
//! keeps them inside its documented secondary limits (docs/configuration.md).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;

/// GitHub's documented secondary limits on content-creating requests: no
/// more than 80 a minute and 500 an hour.
pub const GITHUB_PER_MINUTE: usize = 80;
const GITHUB_PER_HOUR: usize = 500;

/// Sliding windows of `(most, span)`: at most `most` sends in any `span`.
#[derive(Debug)]
pub struct Pacer {
    windows: Vec<(usize, Duration)>,
    sent: VecDeque<Instant>,
}

impl Pacer {
    /// GitHub's limits, with the per-minute figure given (`ESCORT_GITHUB_WRITES_PER_MINUTE`).
    pub fn github(per_minute: usize) -> Pacer {
        let hour = GITHUB_PER_HOUR.max(per_minute);
        Pacer {
            windows: vec![(per_minute, Duration::from_secs(60)), (hour, Duration::from_secs(3600))],
            sent: VecDeque::new(),
        }
    }

    /// How long to wait before a send at `now`; a zero wait records the send.
    fn wait(&mut self, now: Instant) -> Duration {
        let longest = self.windows.iter().map(|w| w.1).max().unwrap_or_default();
        while self.sent.front().is_some_and(|t| now.duration_since(*t) >= longest) {
            self.sent.pop_front();
        }
        let mut wait = Duration::ZERO;
        for &(most, span) in &self.windows {
            let recent = self.sent.iter().rev().take_while(|t| now.duration_since(**t) < span).count();
            if recent >= most {
                // The send that must leave the window before another may go.
                let oldest = self.sent[self.sent.len() - most];
                wait = wait.max((oldest + span).saturating_duration_since(now));
            }
        }
        if wait.is_zero() {
            self.sent.push_back(now);
        }
        wait
    }
}

/// One API host's gate.
pub struct Host {
    slots: Semaphore,
    paused_until: Mutex<Option<Instant>>,
    /// Writes are paced (GitHub's API).
    pacer: Option<Mutex<Pacer>>,
    /// Whether a long pacing wait has been announced (once is enough).
    announced: AtomicBool,
}

impl Host {
    /// Wait for the host to take another request: the end of a pause, the
    /// pacing (writes only), then a slot, held until the permit is dropped.
    pub async fn enter(&self, write: bool) -> SemaphorePermit<'_> {
        loop {
            let until = *self.paused_until.lock().expect("not poisoned");
            match until {
                Some(t) if t > Instant::now() => tokio::time::sleep_until(t).await,
                _ => break,
            }
        }
        if let (true, Some(pacer)) = (write, &self.pacer) {
            loop {
                let wait = pacer.lock().expect("not poisoned").wait(Instant::now());
                if wait.is_zero() {
                    break;
                }
                if wait > Duration::from_secs(5) && !self.announced.swap(true, Ordering::Relaxed) {
                    crate::ui::note(&format!(
                        "pacing writes to GitHub inside its limits on content-creating requests (80 a minute, \
                         500 an hour): waiting {}s, and more as needed",
                        wait.as_secs()
                    ));
                }
                tokio::time::sleep(wait).await;
            }
        }
        self.slots.acquire().await.expect("the semaphore is never closed")
    }

    /// A rate limit said to wait: every request to this host waits, not just
    /// the one that was told.
    pub fn pause(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut paused = self.paused_until.lock().expect("not poisoned");
        if paused.is_none_or(|t| t < until) {
            *paused = Some(until);
        }
    }
}

/// The gates of every host this process talks to, shared by the client's clones.
pub struct Gates {
    per_host: usize,
    /// The origin whose writes are paced, and how (none: no pacing).
    paced: Option<(String, usize)>,
    hosts: Mutex<HashMap<String, Arc<Host>>>,
}

impl Gates {
    pub fn new(per_host: usize, paced: Option<(String, usize)>) -> Gates {
        Gates { per_host: per_host.max(1), paced, hosts: Mutex::new(HashMap::new()) }
    }

    pub fn host(&self, origin: &str) -> Arc<Host> {
        let mut hosts = self.hosts.lock().expect("not poisoned");
        hosts
            .entry(origin.to_string())
            .or_insert_with(|| {
                let pacer = self
                    .paced
                    .as_ref()
                    .filter(|(o, per_minute)| o == origin && *per_minute > 0)
                    .map(|(_, per_minute)| Mutex::new(Pacer::github(*per_minute)));
                Arc::new(Host {
                    slots: Semaphore::new(self.per_host),
                    paused_until: Mutex::new(None),
                    pacer,
                    announced: AtomicBool::new(false),
                })
            })
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The most sends in any window of `span` among `times`.
    fn most_in(times: &[Instant], span: Duration) -> usize {
        times.iter().map(|a| times.iter().filter(|b| **b >= *a && b.duration_since(*a) < span).count()).max().unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn github_writes_stay_inside_both_windows() {
        let gates = Gates::new(8, Some(("https://api.github.com".into(), GITHUB_PER_MINUTE)));
        let host = gates.host("https://api.github.com");
        let start = Instant::now();
        let mut sent = Vec::new();
        for _ in 0..1_000 {
            let _slot = host.enter(true).await;
            sent.push(Instant::now());
        }
        assert_eq!(most_in(&sent, Duration::from_secs(60)), 80);
        assert_eq!(most_in(&sent, Duration::from_secs(3600)), 500);
        // No slower than the limits make it: 80 at once, 80 a minute until the
        // hour holds 500 (at 6 min), then the next as the first leave the hour.
        assert!(sent[79] == start && sent[80] == start + Duration::from_secs(60));
        assert_eq!(sent[499].duration_since(start), Duration::from_secs(360));
        assert_eq!(sent[500].duration_since(start), Duration::from_secs(3600));
        assert_eq!(sent[999].duration_since(start), Duration::from_secs(3960));
    }

    #[tokio::test(start_paused = true)]
    async fn reads_and_other_hosts_are_not_paced() {
        let gates = Gates::new(8, Some(("https://api.github.com".into(), 1)));
        let github = gates.host("https://api.github.com");
        let esc = gates.host("https://api.pulumi.com");
        let start = Instant::now();
        for _ in 0..100 {
            drop(github.enter(false).await);
            drop(esc.enter(true).await);
        }
        assert_eq!(Instant::now(), start);
        // Per-minute 0 turns pacing off.
        let off = Gates::new(8, Some(("https://api.github.com".into(), 0))).host("https://api.github.com");
        for _ in 0..1_000 {
            drop(off.enter(true).await);
        }
        assert_eq!(Instant::now(), start);
    }

    #[tokio::test(start_paused = true)]
    async fn slots_bound_requests_in_flight_per_host() {
        let gates = Gates::new(2, None);
        let host = gates.host("https://api.github.com");
        let a = host.enter(false).await;
        let _b = host.enter(false).await;
        let third = tokio::time::timeout(Duration::from_secs(1), host.enter(false)).await;
        assert!(third.is_err(), "a third request waits for a slot");
        drop(a);
        assert!(tokio::time::timeout(Duration::from_secs(1), host.enter(false)).await.is_ok());
        // Another host has slots of its own.
        assert!(tokio::time::timeout(Duration::from_secs(1), gates.host("https://x").enter(false)).await.is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_every_request_to_the_host() {
        let gates = Gates::new(4, None);
        let host = gates.host("https://api.github.com");
        let start = Instant::now();
        host.pause(Duration::from_secs(30));
        host.pause(Duration::from_secs(5)); // a shorter pause does not cut a longer one short
        drop(host.enter(false).await);
        assert_eq!(Instant::now().duration_since(start), Duration::from_secs(30));
        drop(gates.host("https://other").enter(false).await);
        assert_eq!(Instant::now().duration_since(start), Duration::from_secs(30));
    }
}
