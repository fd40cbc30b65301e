//! The sharer's window (egui on eframe, drawn with wgpu). It opens two ways:
//!
//! - [`home`] (`beckon-agent`, or the desktop entry "Beckon: ask for help"): the classic flow in
//!   one window. *Ask for help* makes an invitation and delivers it (e-mail, a code to paste, a
//!   file); *Invitations* lists them with Expire, Resend and Delete; *Session* holds the prompts,
//!   Stop control, Disconnect and the chat. The window waits for helpers while an invitation is
//!   open, and stops when none is.
//! - [`run`] (`beckon-agent share`): the session page alone, serving from start to end.
//!
//! Serving runs on its own thread and talks to the window through a [`FrontLink`]; the window
//! wakes only when told something, touched, or once a second in [`home`] to follow the
//! invitations.

mod ask;
mod session;
mod status;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use eframe::egui;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use crate::front::{FrontLink, Reply, Status};
use crate::store::{State, Store};
use session::SessionView;

/// The window's title while serving (`share`), in English; tests find the window by it.
pub const TITLE: &str = "Beckon: sharing your screen";
/// The window's title in [`home`], in English.
pub const HOME_TITLE: &str = "Beckon: ask for help";

/// Shows the session window on `display` (default: `DISPLAY`) until it is closed or serving
/// stops. `start` begins serving with the link to the window; what the sharer does goes to
/// `replies`, and closing the window sends [`Reply::Quit`].
///
/// # Errors
/// When the window cannot be shown (no display, no graphics), or serving failed.
pub fn run(
    display: Option<&str>,
    replies: UnboundedSender<Reply>,
    start: impl FnOnce(FrontLink) -> JoinHandle<Result<()>> + 'static,
) -> Result<()> {
    use_display(display);
    let quit = replies.clone();
    let mut serving = None;
    let serving_slot = &mut serving;
    let title = crate::t!("title-sharing");
    let shown = eframe::run_native(
        &title,
        options(&title, [440.0, 400.0]),
        Box::new(move |cc| {
            let ctx = cc.egui_ctx.clone();
            let (link, notices) = FrontLink::new(move || ctx.request_repaint());
            *serving_slot = Some(start(link));
            let mut session = SessionView::new();
            session.attach(notices, replies);
            Ok(Box::new(SharerWindow {
                session,
                home: None,
            }))
        }),
    );
    let _ = quit.send(Reply::Quit);
    let served = match serving.take() {
        Some(handle) => handle
            .join()
            .unwrap_or_else(|_| Err(anyhow!("{}", crate::t!("home-serving-crashed")))),
        None => Ok(()),
    };
    shown.map_err(|e| {
        anyhow!(
            "{}",
            crate::t!("window-failed-console", why = e.to_string())
        )
    })?;
    served
}

/// Starts serving: the link to the window and where the sharer's replies arrive.
pub type StartServing =
    Box<dyn FnMut(FrontLink, UnboundedReceiver<Reply>) -> JoinHandle<Result<()>>>;

/// Where [`home`] keeps and finds things.
#[derive(Debug, Clone)]
pub struct Places {
    /// The store's folder.
    pub data_dir: PathBuf,
    /// `agent.toml` (the SMTP settings and the policy).
    pub config: Option<PathBuf>,
    /// The UDP address to serve on; invitations name it (or this computer's addresses when it
    /// is unspecified).
    pub listen: SocketAddr,
}

/// Shows the sharer's window with the whole flow (see the module's documentation) until it is
/// closed. `start` begins serving whenever an invitation is open and nobody serves.
///
/// # Errors
/// When the window cannot be shown, or the store cannot be opened.
pub fn home(display: Option<&str>, places: Places, start: StartServing) -> Result<()> {
    use_display(display);
    let store = Store::open(&places.data_dir)?;
    let home = Home::new(store, places, start)?;
    let mut window = Some(SharerWindow {
        session: SessionView::new(),
        home: Some(home),
    });
    let title = crate::t!("title-home");
    let shown = eframe::run_native(
        &title,
        options(&title, [640.0, 760.0]),
        Box::new(move |_| Ok(Box::new(window.take().expect("made once")))),
    );
    shown.map_err(|e| anyhow!("{}", crate::t!("window-failed", why = e.to_string())))
}

fn use_display(display: Option<&str>) {
    if let Some(display) = display
        && std::env::var("DISPLAY").ok().as_deref() != Some(display)
    {
        // SAFETY: called before the window and serving threads start; nothing else reads the
        // environment concurrently.
        unsafe { std::env::set_var("DISPLAY", display) };
    }
}

fn options(title: &str, size: [f32; 2]) -> eframe::NativeOptions {
    eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title(title)
            .with_app_id("beckon-agent")
            .with_inner_size(size)
            .with_min_inner_size([320.0, 260.0])
            // Consent questions must not hide behind the sharer's other windows.
            .with_window_level(egui::WindowLevel::AlwaysOnTop),
        ..Default::default()
    }
}

/// Logs where a widget is, in the window's pixels, when it appears or moves (target
/// `beckon_agent::layout`, level trace): the tests click the window by what it says.
pub(crate) fn mark(ui: &egui::Ui, name: &str, response: &egui::Response) {
    if !tracing::enabled!(target: "beckon_agent::layout", tracing::Level::TRACE) {
        return;
    }
    let scale = ui.ctx().pixels_per_point();
    let centre = response.rect.center();
    let at = (
        (centre.x * scale).round() as i32,
        (centre.y * scale).round() as i32,
    );
    let id = egui::Id::unique(("beckon-mark", name));
    let moved = ui.ctx().data_mut(|d| {
        let last = d.get_temp::<(i32, i32)>(id);
        d.insert_temp(id, at);
        last != Some(at)
    });
    if moved {
        tracing::trace!(target: "beckon_agent::layout", widget = name, x = at.0, y = at.1, "shown");
    }
}

/// Logs what a line of the window says when it changes (target `beckon_agent::layout`, level
/// trace): the tests read the window by it.
pub(crate) fn shows(ui: &egui::Ui, name: &str, text: &str) {
    if !tracing::enabled!(target: "beckon_agent::layout", tracing::Level::TRACE) {
        return;
    }
    let id = egui::Id::unique(("beckon-shows", name));
    let hash = egui::Id::unique(text);
    let changed = ui.ctx().data_mut(|d| {
        let last = d.get_temp::<egui::Id>(id);
        d.insert_temp(id, hash);
        last != Some(hash)
    });
    if changed {
        tracing::trace!(target: "beckon_agent::layout", line = name, text, "says");
    }
}

/// The pages of [`home`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Page {
    Ask,
    Invitations,
    Session,
}

/// Serving on its thread.
struct Serving {
    replies: UnboundedSender<Reply>,
    handle: JoinHandle<Result<()>>,
    stopping: bool,
}

/// The flow around the session: the pages, the invitations, serving while one is open.
struct Home {
    store: Store,
    places: Places,
    start: StartServing,
    page: Page,
    ask: ask::AskForm,
    status: status::StatusList,
    serving: Option<Serving>,
    /// Why serving last failed, and when to try again.
    failed: Option<(String, Instant)>,
    open: usize,
    checked: Option<Instant>,
    /// Relays are set (`[relay]`): serving runs from the start, so that the first invitation
    /// already names the relayed address it holds.
    relayed: bool,
}

impl Home {
    fn new(store: Store, places: Places, start: StartServing) -> Result<Home> {
        let ask = ask::AskForm::new(&store, &places)?;
        let relayed = !crate::mail::Config::load(places.config.as_deref(), false)?
            .relay
            .servers
            .is_empty();
        Ok(Home {
            relayed,
            store,
            places,
            start,
            page: Page::Ask,
            ask,
            status: status::StatusList::default(),
            serving: None,
            failed: None,
            open: 0,
            checked: None,
        })
    }

    /// Serving follows the invitations: it starts when one is open, and stops when none is and
    /// no helper is connected; with relays set, it runs while the window is open.
    fn follow(&mut self, ctx: &egui::Context, session: &mut SessionView, now: Instant) {
        if self
            .checked
            .is_some_and(|at| now < at + Duration::from_secs(1))
        {
            return;
        }
        self.checked = Some(now);
        self.open = match self.store.list() {
            Ok(records) => records.iter().filter(|r| r.state == State::Open).count(),
            Err(e) => {
                self.failed = Some((format!("{e:#}"), now + Duration::from_secs(10)));
                0
            }
        };
        if let Some(serving) = &self.serving
            && serving.handle.is_finished()
        {
            let serving = self.serving.take().expect("checked");
            session.read_notices();
            session.detach();
            match serving.handle.join() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    let why = format!("{e:#}");
                    eprintln!("{}", crate::t!("home-cannot-serve-log", why = why.as_str()));
                    self.failed = Some((why, now + Duration::from_secs(10)));
                }
                Err(_) => {
                    self.failed = Some((crate::t!("home-serving-crashed"), now));
                }
            }
        }
        let retry = self.failed.as_ref().is_none_or(|(_, at)| now >= *at);
        match &mut self.serving {
            None if (self.open > 0 || self.relayed) && retry => {
                let (replies, heard) = unbounded_channel();
                let wake = ctx.clone();
                let (link, notices) = FrontLink::new(move || wake.request_repaint());
                let handle = (self.start)(link, heard);
                session.attach(notices, replies.clone());
                self.failed = None;
                self.serving = Some(Serving {
                    replies,
                    handle,
                    stopping: false,
                });
            }
            Some(serving)
                if self.open == 0
                    && !self.relayed
                    && !serving.stopping
                    && session.status == Status::Waiting
                    && session.asking.is_none() =>
            {
                eprintln!("{}", crate::t!("home-stopped-log"));
                let _ = serving.replies.send(Reply::Quit);
                serving.stopping = true;
            }
            _ => {}
        }
    }

    /// One line on whether helpers can connect now.
    fn listening_line(&self, session: &SessionView) -> String {
        if let Some((why, _)) = &self.failed {
            return crate::t!("home-cannot-serve", why = why.as_str());
        }
        if session.status != Status::Waiting {
            return crate::t!("home-connected");
        }
        match (&self.serving, self.open) {
            (Some(_), 0) => crate::t!("home-closing"),
            (Some(_), open) => match &session.listening {
                Some((address, _)) => {
                    crate::t!("home-waiting", address = address.as_str(), open = open)
                }
                None => crate::t!("home-getting-ready"),
            },
            (None, _) => crate::t!("home-idle"),
        }
    }

    fn stop(&mut self) {
        if let Some(serving) = self.serving.take() {
            let _ = serving.replies.send(Reply::Quit);
            let _ = serving.handle.join();
        }
    }
}

/// What the window shows.
struct SharerWindow {
    session: SessionView,
    /// The flow around the session, in [`home`].
    home: Option<Home>,
}

impl SharerWindow {
    fn tabs(&mut self, ui: &mut egui::Ui) {
        let Some(home) = &mut self.home else {
            return;
        };
        ui.horizontal(|ui| {
            for (page, name, label) in [
                (Page::Ask, "tab-ask", crate::t!("tab-ask")),
                (
                    Page::Invitations,
                    "tab-invitations",
                    crate::t!("tab-invitations"),
                ),
                (Page::Session, "tab-session", crate::t!("tab-session")),
            ] {
                let tab = ui.selectable_value(&mut home.page, page, label);
                mark(ui, name, &tab);
            }
        });
        ui.label(home.listening_line(&self.session));
        ui.separator();
    }
}

impl eframe::App for SharerWindow {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        let asked = self.session.asking.is_none();
        let was_waiting = self.session.status == Status::Waiting;
        if self.session.read_notices() && self.home.is_none() {
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
        if asked && self.session.asking.is_some() {
            ctx.send_viewport_cmd(egui::ViewportCommand::RequestUserAttention(
                egui::UserAttentionType::Critical,
            ));
        }
        if let Some(home) = &mut self.home {
            home.follow(&ctx, &mut self.session, Instant::now());
            // A question, or a helper arriving, shows the session at once.
            if (asked && self.session.asking.is_some())
                || (was_waiting && self.session.status != Status::Waiting)
            {
                home.page = Page::Session;
            }
            ctx.request_repaint_after(Duration::from_secs(1));
        }
        let on_session = self.home.as_ref().is_none_or(|h| h.page == Page::Session);
        if on_session {
            egui::Panel::bottom("compose").show(ui, |ui| {
                ui.add_space(4.0);
                self.session.compose(ui);
                ui.add_space(4.0);
            });
        }
        egui::CentralPanel::default().show(ui, |ui| {
            self.tabs(ui);
            match self.home.as_mut().map(|h| h.page) {
                None => self.session.page(ui, true),
                Some(Page::Session) => self.session.page(ui, false),
                Some(Page::Ask) => {
                    let home = self.home.as_mut().expect("on a home page");
                    if home.ask.show(ui, &home.store, &home.places) == ask::Next::Status {
                        home.page = Page::Invitations;
                    }
                    if home.ask.created() {
                        // The new invitation is open: wait for the helper now.
                        home.checked = None;
                    }
                }
                Some(Page::Invitations) => {
                    let home = self.home.as_mut().expect("on a home page");
                    home.status
                        .show(ui, &home.store, &home.places, &mut home.ask);
                    if home.status.changed() {
                        home.checked = None;
                    }
                }
            }
        });
    }

    fn on_exit(&mut self) {
        if let Some(home) = &mut self.home {
            home.stop();
        }
    }
}
