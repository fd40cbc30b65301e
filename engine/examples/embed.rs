//! Embedding the engine: an animation drawn in code is the sharer's screen, streamed over QUIC on
//! loopback to a headless viewer, which checks that it ends with the exact last frame.
//! `cargo run --release -p beckon-engine --example embed`
use std::time::{Duration, Instant};

use beckon_engine::net::drive::{AgentHooks, AgentOptions, ViewerHooks, serve, view};
use beckon_engine::net::{AgentIdentity, agent_endpoint, connect, viewer_endpoint};
use beckon_engine::session::auth::{StretchParams, stretch};
use beckon_engine::{AgentEvent, Frame, FrameSource, HelperAction, SharerDecision, Ticket};
use beckon_engine::{InvitationRef, Timers, ViewerEvent};
use tokio::sync::mpsc::unbounded_channel;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// The screen: a bar sweeping across 320x200 for 60 frames, then still.
struct Sweep(u32);
impl FrameSource for Sweep {
    type Error = std::convert::Infallible;
    fn next_frame(&mut self, frame: &mut Frame) -> Result<bool, Self::Error> {
        let t = self.0.min(60);
        *frame = Frame::filled(320, 200, [40, 30, 20, 255]);
        for (x, y) in (t * 4..t * 4 + 20).flat_map(|x| (0..200).map(move |y| (x, y))) {
            frame.set_pixel(x, y, [(x * 2) as u8, 200, y as u8, 255]);
        }
        self.0 += 1;
        Ok(true)
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let (origin, password) = (Instant::now(), "Embedded-Example-Pass-7!");
    // Light argon2id settings for a demo; invitations use StretchParams::generate.
    let params = StretchParams {
        salt: [7; 16],
        m_cost_kib: 1024,
        t_cost: 1,
        p_cost: 1,
    };
    let identity = AgentIdentity::generate()?;
    let ticket = Ticket::open("embed-demo", "Ada", stretch(password, &params)?);
    let endpoint = agent_endpoint("127.0.0.1:0".parse()?, &identity)?;
    let address = endpoint.local_addr()?;

    // The sharer: says Yes to the connection, serves the animation, ignores input.
    tokio::spawn(async move {
        let connection = endpoint.accept().await.ok_or("no helper came")?.await?;
        let ((yes, decisions), (events, mut heard)) = (unbounded_channel(), unbounded_channel());
        tokio::spawn(async move {
            while let Some(event) = heard.recv().await {
                if let AgentEvent::HelperWantsToConnect { .. } = event {
                    yes.send(SharerDecision::AllowConnection(true))?;
                }
            }
            Ok::<_, Error>(())
        });
        let (hooks, options) = (
            AgentHooks { decisions, events },
            AgentOptions::new(30, origin),
        );
        serve(connection, |_| Some(ticket), Sweep(0), (), hooks, options).await?;
        Ok::<_, Error>(())
    });

    // The helper: pins the certificate, proves the password, paints every change.
    let client = viewer_endpoint("127.0.0.1:0".parse()?)?;
    let pin = identity.fingerprint();
    let connection = connect(&client, address, pin, Duration::from_secs(5)).await?;
    let ((actions_tx, actions), (events, mut heard)) = (unbounded_channel(), unbounded_channel());
    let (secret, hooks) = (stretch(password, &params)?, ViewerHooks { actions, events });
    let session = tokio::spawn(async move {
        view(
            connection,
            &InvitationRef::bare("embed-demo"),
            "Grace",
            &secret,
            hooks,
            Timers::default(),
            origin,
        )
        .await
    });
    let (mut screen, mut last) = (Frame::filled(1, 1, [0; 4]), Frame::filled(1, 1, [0; 4]));
    Sweep(60).next_frame(&mut last)?;
    let (deadline, mut updates) = (tokio::time::Instant::now() + Duration::from_secs(20), 0);
    while let Ok(Some(event)) = tokio::time::timeout_at(deadline, heard.recv()).await {
        if let ViewerEvent::Screen(change) = event {
            change.paint(&mut screen);
            updates += 1;
            if screen == last {
                break;
            }
        }
    }
    actions_tx.send(HelperAction::Disconnect)?;
    session.await??;
    println!(
        "{updates} updates; the viewer shows the last frame exactly: {}",
        screen == last
    );
    if screen != last {
        return Err("the viewer did not end with the last frame".into());
    }
    Ok(())
}
