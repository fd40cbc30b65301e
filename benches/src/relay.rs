//! A UDP relay that makes a path slow and lossy for real: QUIC packets between viewer and agent
//! go through it, delayed, jittered, dropped and rate-limited. This kernel has no `netem`; this
//! stands in for it, seeded so runs repeat.
//!
//! The viewer sends to [`Relay::addr`]; the relay forwards to the agent from a socket of its own
//! and sends the answers back to whoever spoke first. Each direction has a bottleneck of
//! `rate_bps` with a drop-tail queue of `queue_bytes`, then `delay_ms` plus up to `jitter_ms`, and
//! loses `loss` of the packets at random. Dropping the relay stops it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use tokio::net::UdpSocket;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// One direction's path.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinkSpec {
    /// Bottleneck rate, bits per second.
    pub rate_bps: u64,
    /// One-way delay.
    pub delay_ms: u64,
    /// Extra delay, uniform in 0..=jitter.
    pub jitter_ms: u64,
    /// Share of packets lost, 0 to 1.
    pub loss: f64,
    /// Bytes the bottleneck queue holds before dropping.
    pub queue_bytes: u64,
    /// Seed of the loss and jitter draws.
    pub seed: u64,
}

impl LinkSpec {
    /// Link (a) of the session issue: 1 Mbit/s, 50 ms, 1 % loss.
    pub fn one_megabit() -> LinkSpec {
        LinkSpec {
            rate_bps: 1_000_000,
            delay_ms: 50,
            jitter_ms: 5,
            loss: 0.01,
            queue_bytes: 64_000,
            seed: 1,
        }
    }

    /// Link (b): 256 kbit/s, 150 ms.
    pub fn slow() -> LinkSpec {
        LinkSpec {
            rate_bps: 256_000,
            delay_ms: 150,
            jitter_ms: 5,
            loss: 0.0,
            queue_bytes: 32_000,
            seed: 2,
        }
    }

    /// Round-trip time without queueing.
    pub fn rtt(&self) -> Duration {
        Duration::from_millis(2 * self.delay_ms)
    }
}

/// A running relay.
#[derive(Debug)]
pub struct Relay {
    addr: SocketAddr,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Relay {
    /// Starts a relay to `target` on a loopback port.
    ///
    /// # Errors
    /// When a socket cannot be bound.
    pub async fn start(target: SocketAddr, spec: LinkSpec) -> std::io::Result<Relay> {
        let front = Arc::new(UdpSocket::bind("127.0.0.1:0").await?);
        let back = Arc::new(UdpSocket::bind("127.0.0.1:0").await?);
        back.connect(target).await?;
        let addr = front.local_addr()?;
        let peer: Arc<Mutex<Option<SocketAddr>>> = Arc::default();
        let up = Direction::new(spec, spec.seed);
        let down = Direction::new(spec, spec.seed ^ 0x5EED);
        let upstream = {
            let (front, back, peer, dir) = (front.clone(), back.clone(), peer.clone(), up.clone());
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65_536];
                while let Ok((n, from)) = front.recv_from(&mut buf).await {
                    *peer.lock().await = Some(from);
                    let packet = buf[..n].to_vec();
                    let back = back.clone();
                    dir.forward(packet, move |p| async move {
                        let _ = back.send(&p).await;
                    })
                    .await;
                }
            })
        };
        let downstream = {
            let (front, back, peer, dir) =
                (front.clone(), back.clone(), peer.clone(), down.clone());
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65_536];
                while let Ok(n) = back.recv(&mut buf).await {
                    let Some(to) = *peer.lock().await else {
                        continue;
                    };
                    let packet = buf[..n].to_vec();
                    let front = front.clone();
                    dir.forward(packet, move |p| async move {
                        let _ = front.send_to(&p, to).await;
                    })
                    .await;
                }
            })
        };
        Ok(Relay {
            addr,
            tasks: vec![upstream, downstream],
        })
    }

    /// Where the viewer should connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// One direction's bottleneck state.
#[derive(Clone)]
struct Direction {
    spec: LinkSpec,
    state: Arc<Mutex<(Instant, ChaCha20Rng)>>,
}

impl Direction {
    fn new(spec: LinkSpec, seed: u64) -> Direction {
        Direction {
            spec,
            state: Arc::new(Mutex::new((
                Instant::now(),
                ChaCha20Rng::seed_from_u64(seed),
            ))),
        }
    }

    /// Schedules `packet` through the bottleneck, or drops it.
    async fn forward<F, Fut>(&self, packet: Vec<u8>, send: F)
    where
        F: FnOnce(Vec<u8>) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send,
    {
        let spec = self.spec;
        let deliver_at = {
            let mut guard = self.state.lock().await;
            let (free_at, rng) = &mut *guard;
            let now = Instant::now();
            if rng.next_u32() as f64 / u32::MAX as f64 <= spec.loss && spec.loss > 0.0 {
                return;
            }
            let start = (*free_at).max(now);
            let queued = start.duration_since(now).as_secs_f64() * spec.rate_bps as f64 / 8.0;
            if queued > spec.queue_bytes as f64 {
                return; // drop-tail: the queue is full
            }
            let transmit =
                Duration::from_secs_f64(packet.len() as f64 * 8.0 / spec.rate_bps as f64);
            *free_at = start + transmit;
            let jitter = if spec.jitter_ms > 0 {
                rng.next_u64() % (spec.jitter_ms * 1000 + 1)
            } else {
                0
            };
            *free_at + Duration::from_millis(spec.delay_ms) + Duration::from_micros(jitter)
        };
        tokio::spawn(async move {
            tokio::time::sleep_until(deliver_at).await;
            send(packet).await;
        });
    }
}
