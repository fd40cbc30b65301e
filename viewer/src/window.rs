//! The helper's window (egui on eframe: winit 0.30's `ApplicationHandler` underneath, drawn with
//! wgpu): the connect dialog, then the sharer's screen with a toolbar, a status line and the
//! chat.
//!
//! The screen is one wgpu texture of the sharer's size. The session thread ([`crate::link`])
//! decodes updates and hands over only the changed rectangles, each written into the texture
//! with `write_texture`; the window renders only when woken or touched. At actual size the
//! texture is drawn 1:1 with nearest sampling, so text is the sharer's pixels; fit-to-window
//! scales it (linear sampling). The sharer's pointer is drawn from its picture and position.

use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use beckon_engine::frame::Rect;
use beckon_engine::invite::Invitation;
use beckon_engine::{HelperAction, InputEvent, Party};
use eframe::egui::{self, Key};
use eframe::egui_wgpu;
use eframe::wgpu;

use crate::connect::read_invitation;
use crate::keys;
use crate::link::{CursorPicture, SessionLink, ToWindow};
use beckon_engine::invite::when::{self, now};

/// Shows the window until it is closed; `invitation` (a path or a `beckon:` string) fills the
/// connect dialog.
///
/// # Errors
/// When the window cannot be shown (no display, no graphics).
pub fn run(invitation: Option<String>, name: Option<String>) -> Result<()> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title(t!("title"))
            .with_inner_size([1024.0, 720.0])
            .with_min_inner_size([480.0, 320.0]),
        // Dithering would change the sharer's pixels: text must stay exact.
        dithering: false,
        ..Default::default()
    };
    eframe::run_native(
        &t!("title"),
        options,
        Box::new(move |cc| {
            let mut dialog = Dialog {
                name: name.or_else(remembered_name).unwrap_or_default(),
                focus_source: invitation.is_none(),
                ..Dialog::default()
            };
            if let Some(text) = invitation {
                dialog.set_source(text);
            }
            let render = cc
                .wgpu_render_state
                .clone()
                .ok_or("the window has no wgpu renderer")?;
            Ok(Box::new(ViewerWindow {
                stage: Stage::Dialog(Box::new(dialog)),
                form: None,
                clipboard: None,
                render,
            }))
        }),
    )
    .map_err(|e| anyhow!("{}", t!("window-failed", why = e.to_string())))
}

/// What the window shows.
enum Stage {
    Dialog(Box<Dialog>),
    Session(Box<Session>),
}

struct ViewerWindow {
    stage: Stage,
    /// The form, kept while a session runs, to come back to if it is turned away.
    form: Option<Box<Dialog>>,
    /// For the form's pastes, opened at the first.
    clipboard: Option<arboard::Clipboard>,
    render: egui_wgpu::RenderState,
}

/// The connect dialog.
#[derive(Default)]
struct Dialog {
    source: String,
    invitation: Option<Result<Invitation, String>>,
    password: String,
    show_password: bool,
    name: String,
    /// Why the last try failed; the button then says Try again.
    error: Option<String>,
    focus_password: bool,
    focus_source: bool,
}

/// Where the helper's name is remembered between runs.
fn name_file() -> Option<std::path::PathBuf> {
    Some(beckon_engine::dirs::state().ok()?.join("helper-name"))
}

/// The name the helper gave last time.
pub fn remembered_name() -> Option<String> {
    let name = std::fs::read_to_string(name_file()?).ok()?;
    let name = name.trim();
    (!name.is_empty() && name.len() <= 128).then(|| name.to_string())
}

fn remember_name(name: &str) {
    if let Some(file) = name_file()
        && let Some(dir) = file.parent()
        && std::fs::create_dir_all(dir).is_ok()
    {
        let _ = std::fs::write(file, name);
    }
}

impl Dialog {
    fn set_source(&mut self, text: String) {
        self.invitation =
            (!text.trim().is_empty()).then(|| read_invitation(&text).map_err(|e| format!("{e:#}")));
        self.focus_password = matches!(self.invitation, Some(Ok(_)));
        self.source = text;
    }

    /// Shows the dialog; returns the session to start when Connect is pressed.
    fn show(&mut self, ui: &mut egui::Ui) -> Option<(Invitation, String, String)> {
        let mut start = None;
        ui.heading(t!("dialog-title"));
        ui.label(t!("dialog-intro"));
        ui.add_space(8.0);
        ui.horizontal(|ui| {
            ui.label(t!("dialog-invitation"));
            let mut text = self.source.clone();
            let field = ui.add(
                egui::TextEdit::singleline(&mut text)
                    .hint_text(t!("dialog-invitation-hint"))
                    .desired_width(520.0),
            );
            // Nothing opened yet: pasting the code is the first thing to do.
            if std::mem::take(&mut self.focus_source) {
                field.request_focus();
            }
            if field.changed() {
                self.set_source(text);
            }
        });
        let mut ready = None;
        match &self.invitation {
            None => {}
            Some(Err(e)) => {
                ui.colored_label(
                    ui.visuals().error_fg_color,
                    t!("dialog-not-invitation", why = e.as_str()),
                );
            }
            Some(Ok(invitation)) => {
                egui::Grid::new("invitation").num_columns(2).show(ui, |ui| {
                    ui.label(t!("dialog-from"));
                    ui.label(egui::RichText::new(&invitation.from).strong());
                    ui.end_row();
                    ui.label(t!("dialog-message"));
                    ui.label(&invitation.message);
                    ui.end_row();
                    ui.label(t!("dialog-expires"));
                    let left = invitation.expires.saturating_sub(now());
                    ui.label(if invitation.is_expired(now()) {
                        t!("dialog-expired")
                    } else {
                        when::relative(now() + left, now())
                    });
                    ui.end_row();
                });
                ui.label(t!("dialog-check", from = invitation.from.as_str()));
                ready = Some(invitation.clone());
            }
        }
        ui.add_space(8.0);
        let mut enter = false;
        egui::Grid::new("credentials")
            .num_columns(2)
            .show(ui, |ui| {
                ui.label(t!("dialog-password"));
                let field = ui.add(
                    egui::TextEdit::singleline(&mut self.password)
                        .password(!self.show_password)
                        .desired_width(260.0),
                );
                ui.checkbox(&mut self.show_password, t!("dialog-show"));
                // With the invitation read, the password is the next thing to type.
                if std::mem::take(&mut self.focus_password) {
                    field.request_focus();
                }
                enter = field.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter));
                ui.end_row();
                ui.label(t!("dialog-name"));
                ui.add(
                    egui::TextEdit::singleline(&mut self.name)
                        .hint_text(t!("dialog-name-hint"))
                        .desired_width(260.0),
                );
                ui.end_row();
            });
        ui.add_space(8.0);
        let can = ready.is_some() && !self.password.is_empty();
        let label = if self.error.is_some() {
            t!("dialog-try-again")
        } else {
            t!("dialog-connect")
        };
        let clicked = ui
            .add_enabled(
                can,
                egui::Button::new(label).min_size(egui::vec2(100.0, 28.0)),
            )
            .clicked();
        if (clicked || (enter && can))
            && let Some(invitation) = ready
        {
            if invitation.is_expired(now()) {
                self.error = Some(t!("dialog-expired-ask", from = invitation.from.as_str()));
            } else {
                let name = if self.name.trim().is_empty() {
                    t!("dialog-default-name")
                } else {
                    let name = self.name.trim().to_string();
                    remember_name(&name);
                    name
                };
                start = Some((invitation, std::mem::take(&mut self.password), name));
            }
        }
        if let Some(error) = &self.error {
            ui.add_space(8.0);
            ui.colored_label(ui.visuals().error_fg_color, error);
        }
        start
    }
}

/// The helper's clipboard, shared with the sharer while in control: what the helper copies
/// goes (looked at twice a second, and on Ctrl+V), what the sharer copied comes here, and is
/// not sent back.
struct Clipboard {
    system: Option<arboard::Clipboard>,
    /// The text last sent or received.
    last: Option<String>,
    checked: Instant,
}

impl Clipboard {
    const POLL: Duration = Duration::from_millis(500);

    fn open() -> Clipboard {
        let system = arboard::Clipboard::new()
            .map_err(|e| eprintln!("{}", t!("clipboard-unshared", why = e.to_string())))
            .ok();
        Clipboard {
            system,
            last: None,
            checked: Instant::now(),
        }
    }

    /// Control starts: what was copied before stays private until the helper pastes it.
    fn start(&mut self) {
        self.last = self.system.as_mut().and_then(|c| c.get_text().ok());
    }

    /// The sharer copied `text`.
    fn put(&mut self, text: String) {
        if let Some(system) = &mut self.system
            && let Err(e) = system.set_text(text.as_str())
        {
            eprintln!("{}", t!("clipboard-put-failed", why = e.to_string()));
        }
        self.last = Some(text);
    }

    /// `text` when it is not what the sharer has already.
    fn changed(&mut self, text: String) -> Option<String> {
        if self.last.as_ref() == Some(&text) {
            return None;
        }
        self.last = Some(text.clone());
        Some(text)
    }

    /// What the helper copied since the last look, at most twice a second.
    fn poll(&mut self) -> Option<String> {
        if self.checked.elapsed() < Self::POLL {
            return None;
        }
        self.checked = Instant::now();
        let text = self.system.as_mut()?.get_text().ok()?;
        self.changed(text)
    }
}

/// Where the session stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Standing {
    Connecting,
    Waiting,
    Viewing,
    Asking,
    Controlling,
}

/// The sharer's screen as a texture.
struct Screen {
    size: (u32, u32),
    texture: wgpu::Texture,
    sharp: egui::TextureId,
    smooth: egui::TextureId,
}

/// A running session's window state.
struct Session {
    link: SessionLink,
    invitation: Invitation,
    standing: Standing,
    notice: Option<String>,
    closed: Option<String>,
    screen: Option<Screen>,
    fit: bool,
    /// Whether the first picture has chosen between actual size and fit (fit when the sharer's
    /// screen is larger than the room for it).
    fit_chosen: bool,
    cursor: Option<(CursorPicture, egui::TextureHandle)>,
    cursor_at: Option<((u32, u32), bool)>,
    chat: Vec<(String, String)>,
    draft: String,
    chat_open: bool,
    unread: usize,
    stats: (f64, f64, f64),
    /// Whether the last update said the picture is exact (`None` before the first).
    exact: Option<bool>,
    /// Received-to-presented times of updates, for the status line (milliseconds).
    presented: Vec<f64>,
    /// Updates uploaded in this pass: when each arrived, and whether it was most of the screen.
    pending_present: Vec<(Instant, bool)>,
    /// Every update's received-to-presented time, small and full-screen, for the summary.
    timings: (Vec<f64>, Vec<f64>),
    /// The per-second kbit/s figures summed while viewing, and how many.
    traffic: (f64, u32),
    /// Passes that presented new pixels, and when the first and last did.
    drawn: (u64, Option<Instant>, Option<Instant>),
    /// Buttons held down on the sharer's screen, to release on leaving control.
    held: Vec<u8>,
    /// The helper's clipboard, shared with the sharer while in control.
    clipboard: Clipboard,
}

impl Session {
    fn new(link: SessionLink, invitation: Invitation) -> Session {
        Session {
            link,
            invitation,
            standing: Standing::Connecting,
            notice: None,
            closed: None,
            screen: None,
            fit: false,
            fit_chosen: false,
            cursor: None,
            cursor_at: None,
            chat: Vec::new(),
            draft: String::new(),
            chat_open: true,
            unread: 0,
            stats: (0.0, 0.0, 0.0),
            exact: None,
            presented: Vec::new(),
            pending_present: Vec::new(),
            timings: (Vec::new(), Vec::new()),
            drawn: (0, None, None),
            traffic: (0.0, 0),
            held: Vec::new(),
            clipboard: Clipboard::open(),
        }
    }

    /// What the window did, in a line: how many updates, how soon each was on screen after it
    /// arrived (the time to upload it and draw the pass that shows it), and how often it drew.
    fn summary(&self) -> String {
        fn percentiles(all: &[f64]) -> String {
            let mut sorted = all.to_vec();
            sorted.sort_by(f64::total_cmp);
            if sorted.is_empty() {
                return "none".into();
            }
            let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
            format!(
                "p50 {:.2} ms, p99 {:.2} ms ({} updates)",
                at(0.5),
                at(0.99),
                sorted.len()
            )
        }
        let (passes, first, last) = self.drawn;
        let seconds = match (first, last) {
            (Some(first), Some(last)) => (last - first).as_secs_f64(),
            _ => 0.0,
        };
        format!(
            "Window summary: received to presented, small updates {}; full-screen {}; {:.0} kbit/s on average while viewing; {} passes drew new pixels in {:.1} s ({:.1} frames/s)",
            percentiles(&self.timings.0),
            percentiles(&self.timings.1),
            self.traffic.0 / f64::from(self.traffic.1.max(1)),
            passes,
            seconds,
            if seconds > 0.0 {
                passes.saturating_sub(1) as f64 / seconds
            } else {
                0.0
            }
        )
    }

    fn sharer(&self) -> &str {
        &self.invitation.from
    }

    /// Takes in what the session thread said.
    fn read(&mut self, ctx: &egui::Context, render: &egui_wgpu::RenderState) {
        while let Ok(message) = self.link.events.try_recv() {
            // The session's events also go to standard error, as a transcript.
            match &message {
                ToWindow::Pixels { .. }
                | ToWindow::Clipboard(_)
                | ToWindow::Stats { .. }
                | ToWindow::CursorShape(_)
                | ToWindow::CursorMoved { .. } => {}
                ToWindow::Chat(text) => eprintln!("{}: {text}", self.invitation.from),
                other => eprintln!("{other:?}"),
            }
            match message {
                ToWindow::Authenticated => self.standing = Standing::Waiting,
                ToWindow::Viewing => self.standing = Standing::Viewing,
                ToWindow::Pixels {
                    size,
                    regions,
                    received,
                    exact,
                } => {
                    if self.exact != Some(exact) {
                        eprintln!("{}", picture_state(exact));
                    }
                    self.exact = Some(exact);
                    self.upload(render, size, &regions);
                    let area: u64 = regions.iter().map(|(r, _)| r.area()).sum();
                    let full = area * 2 >= u64::from(size.0) * u64::from(size.1);
                    self.pending_present.push((received, full));
                }
                ToWindow::CursorShape(picture) => {
                    let image = egui::ColorImage::from_rgba_unmultiplied(
                        [picture.width as usize, picture.height as usize],
                        &picture.rgba,
                    );
                    let handle = ctx.load_texture("cursor", image, egui::TextureOptions::NEAREST);
                    self.cursor = Some((picture, handle));
                }
                ToWindow::CursorMoved { at, visible } => self.cursor_at = Some((at, visible)),
                ToWindow::ControlGranted => {
                    self.standing = Standing::Controlling;
                    self.clipboard.start();
                    self.notice = Some(t!("notice-control"));
                }
                ToWindow::ControlDenied => {
                    self.standing = Standing::Viewing;
                    self.notice = Some(t!("notice-control-denied", sharer = self.sharer()));
                }
                ToWindow::ControlEnded(by) => {
                    self.standing = Standing::Viewing;
                    self.held.clear();
                    self.notice = Some(match by {
                        Party::Helper => t!("notice-gave-back"),
                        Party::Sharer => t!("notice-taken-back", sharer = self.sharer()),
                    });
                }
                ToWindow::Clipboard(text) => self.clipboard.put(text),
                ToWindow::Showing(monitor) => {
                    self.notice = Some(showing(self.sharer(), monitor.as_deref()));
                }
                ToWindow::Chat(text) => {
                    self.chat.push((self.invitation.from.clone(), text));
                    if !self.chat_open {
                        self.unread += 1;
                    }
                }
                ToWindow::Stats { kbps, fps, rtt_ms } => {
                    self.stats = (kbps, fps, rtt_ms);
                    if self.standing != Standing::Connecting && self.standing != Standing::Waiting {
                        self.traffic.0 += kbps;
                        self.traffic.1 += 1;
                    }
                }
                ToWindow::Closed(reason) => {
                    eprintln!("{}", self.summary());
                    self.closed = Some(reason);
                }
            }
        }
    }

    /// Writes changed rectangles into the screen texture (a new one when the size changed).
    fn upload(
        &mut self,
        render: &egui_wgpu::RenderState,
        size: (u32, u32),
        regions: &[(Rect, Vec<u8>)],
    ) {
        if self.screen.as_ref().is_none_or(|s| s.size != size) {
            let texture = render.device.create_texture(&wgpu::TextureDescriptor {
                label: Some("sharer's screen"),
                size: wgpu::Extent3d {
                    width: size.0,
                    height: size.1,
                    depth_or_array_layers: 1,
                },
                mip_level_count: 1,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D2,
                // The framebuffer's own byte order: no conversion on the way.
                format: wgpu::TextureFormat::Bgra8Unorm,
                usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
                view_formats: &[],
            });
            let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
            let mut renderer = render.renderer.write();
            if let Some(old) = self.screen.take() {
                renderer.free_texture(&old.sharp);
                renderer.free_texture(&old.smooth);
            }
            let sharp =
                renderer.register_native_texture(&render.device, &view, wgpu::FilterMode::Nearest);
            let smooth =
                renderer.register_native_texture(&render.device, &view, wgpu::FilterMode::Linear);
            self.screen = Some(Screen {
                size,
                texture,
                sharp,
                smooth,
            });
        }
        let Some(screen) = &self.screen else { return };
        for (rect, pixels) in regions {
            render.queue.write_texture(
                wgpu::TexelCopyTextureInfo {
                    texture: &screen.texture,
                    mip_level: 0,
                    origin: wgpu::Origin3d {
                        x: rect.x,
                        y: rect.y,
                        z: 0,
                    },
                    aspect: wgpu::TextureAspect::All,
                },
                pixels,
                wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(rect.width * 4),
                    rows_per_image: Some(rect.height),
                },
                wgpu::Extent3d {
                    width: rect.width,
                    height: rect.height,
                    depth_or_array_layers: 1,
                },
            );
        }
    }

    fn toolbar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            let live = self.closed.is_none();
            match self.standing {
                Standing::Controlling => {
                    if ui.button(t!("toolbar-release")).clicked() {
                        self.release();
                    }
                }
                Standing::Asking => {
                    ui.add_enabled(false, egui::Button::new(t!("toolbar-take-control")));
                }
                _ => {
                    let can = live && self.standing == Standing::Viewing;
                    if ui
                        .add_enabled(can, egui::Button::new(t!("toolbar-take-control")))
                        .clicked()
                    {
                        self.standing = Standing::Asking;
                        self.notice = Some(t!(
                            "notice-asking-control",
                            sharer = self.invitation.from.as_str()
                        ));
                        self.link.act(HelperAction::RequestControl);
                    }
                }
            }
            if ui
                .add_enabled(live, egui::Button::new(t!("toolbar-disconnect")))
                .clicked()
            {
                self.link.act(HelperAction::Disconnect);
            }
            ui.separator();
            ui.selectable_value(&mut self.fit, false, t!("toolbar-actual-size"));
            ui.selectable_value(&mut self.fit, true, t!("toolbar-fit"));
            ui.separator();
            let chat = if self.unread > 0 {
                t!("toolbar-chat-unread", n = self.unread)
            } else {
                t!("toolbar-chat")
            };
            if ui.selectable_label(self.chat_open, chat).clicked() {
                self.chat_open = !self.chat_open;
                self.unread = 0;
            }
        });
        let standing = match (&self.closed, self.standing) {
            (Some(reason), _) => reason.clone(),
            (None, Standing::Connecting) => t!("standing-connecting"),
            (None, Standing::Waiting) => t!("standing-waiting", sharer = self.sharer()),
            (None, Standing::Viewing | Standing::Asking) => {
                t!("standing-viewing", sharer = self.sharer())
            }
            (None, Standing::Controlling) => t!("standing-controlling", sharer = self.sharer()),
        };
        let (kbps, fps, rtt) = self.stats;
        let mut sorted = self.presented.clone();
        sorted.sort_by(f64::total_cmp);
        let present = sorted.get(sorted.len() / 2).copied().unwrap_or(0.0);
        ui.horizontal(|ui| {
            ui.label(egui::RichText::new(standing).strong());
            ui.separator();
            ui.label(t!(
                "toolbar-stats",
                rtt = format!("{rtt:.0}"),
                kbps = format!("{kbps:.0}"),
                fps = format!("{fps:.0}"),
                present = format!("{present:.1}")
            ));
            if let (Some(exact), None) = (self.exact, &self.closed) {
                ui.separator();
                ui.label(picture_state(exact));
            }
        });
        // Always a line, so the screen below never moves.
        ui.label(self.notice.as_deref().unwrap_or(" "));
    }

    fn chat_panel(&mut self, ui: &mut egui::Ui) {
        ui.heading(t!("toolbar-chat"));
        let live = self.closed.is_none()
            && matches!(
                self.standing,
                Standing::Viewing | Standing::Asking | Standing::Controlling
            );
        egui::Panel::bottom("chat-compose").show(ui, |ui| {
            ui.add_space(4.0);
            let field = ui.add_enabled(
                live,
                egui::TextEdit::singleline(&mut self.draft)
                    .hint_text(t!("chat-hint"))
                    .desired_width(f32::INFINITY),
            );
            if field.lost_focus()
                && ui.input(|i| i.key_pressed(Key::Enter))
                && !self.draft.trim().is_empty()
            {
                let text = std::mem::take(&mut self.draft);
                let you = t!("chat-you");
                eprintln!("{you}: {text}");
                self.chat.push((you, text.clone()));
                self.link.act(HelperAction::Chat(text));
                field.request_focus();
            }
            ui.add_space(4.0);
        });
        egui::ScrollArea::vertical()
            .stick_to_bottom(true)
            .auto_shrink([false, false])
            .show(ui, |ui| {
                for (from, text) in &self.chat {
                    ui.horizontal_wrapped(|ui| {
                        ui.label(egui::RichText::new(format!("{from}:")).strong());
                        ui.label(text);
                    });
                }
            });
    }

    /// The sharer's screen; while controlling, the helper's input on it.
    fn screen(&mut self, ui: &mut egui::Ui) {
        let Some(screen) = &self.screen else {
            ui.centered_and_justified(|ui| {
                ui.label(t!("screen-waiting"));
            });
            return;
        };
        let ppp = ui.ctx().pixels_per_point();
        let natural = egui::vec2(screen.size.0 as f32, screen.size.1 as f32) / ppp;
        if !std::mem::replace(&mut self.fit_chosen, true) {
            let room = ui.available_size();
            self.fit = natural.x > room.x || natural.y > room.y;
            if self.fit {
                eprintln!("{}", t!("screen-fitted"));
            }
        }
        let (id, size) = if self.fit {
            let room = ui.available_size();
            let scale = (room.x / natural.x).min(room.y / natural.y).min(1.0);
            (screen.smooth, natural * scale)
        } else {
            (screen.sharp, natural)
        };
        let draw = |ui: &mut egui::Ui| {
            let (rect, response) = ui.allocate_exact_size(size, egui::Sense::click_and_drag());
            // Whole pixels, so 1:1 is exactly 1:1.
            let rect = egui::Rect::from_min_size((rect.min * ppp).round() / ppp, size);
            ui.painter().image(
                id,
                rect,
                egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
                egui::Color32::WHITE,
            );
            (rect, response)
        };
        let (rect, response) = if self.fit {
            ui.centered_and_justified(draw).inner
        } else {
            egui::ScrollArea::both()
                .auto_shrink([false, false])
                .show(ui, draw)
                .inner
        };
        let scale = rect.width() / screen.size.0 as f32;
        if let (Some((picture, handle)), Some(((x, y), true))) = (&self.cursor, self.cursor_at) {
            let at = rect.min
                + egui::vec2(
                    (x as f32 - picture.hot.0 as f32) * scale,
                    (y as f32 - picture.hot.1 as f32) * scale,
                );
            let size = egui::vec2(picture.width as f32, picture.height as f32) * scale;
            ui.painter_at(rect).image(
                handle.id(),
                egui::Rect::from_min_size(at, size),
                egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
                egui::Color32::WHITE,
            );
        }
        if self.standing == Standing::Controlling {
            let size = screen.size;
            self.input(ui, rect, &response, size);
        }
    }

    fn release(&mut self) {
        for button in std::mem::take(&mut self.held) {
            self.link.act(HelperAction::Input(InputEvent::Button {
                button,
                pressed: false,
            }));
        }
        self.link.act(HelperAction::ReleaseControl);
    }

    /// Sends the helper's pointer, buttons, wheel and keys, mapped to the sharer's screen.
    fn input(
        &mut self,
        ui: &egui::Ui,
        rect: egui::Rect,
        response: &egui::Response,
        size: (u32, u32),
    ) {
        let to_screen = |pos: egui::Pos2| {
            let x = ((pos.x - rect.min.x) / rect.width() * size.0 as f32).floor();
            let y = ((pos.y - rect.min.y) / rect.height() * size.1 as f32).floor();
            (
                x.clamp(0.0, size.0 as f32 - 1.0) as u32,
                y.clamp(0.0, size.1 as f32 - 1.0) as u32,
            )
        };
        if let Some(text) = self.clipboard.poll() {
            self.link.act(HelperAction::Clipboard(text));
        }
        ui.ctx().request_repaint_after(Clipboard::POLL);
        let events = ui.input(|i| i.events.clone());
        let hovered = response.hovered() || response.dragged();
        let mut sent = Vec::new();
        for event in events {
            match event {
                egui::Event::PointerMoved(pos) if hovered && rect.contains(pos) => {
                    let (x, y) = to_screen(pos);
                    sent.push(InputEvent::PointerMove { x, y });
                }
                egui::Event::PointerButton {
                    pos,
                    button,
                    pressed,
                    ..
                } if rect.contains(pos) || !pressed => {
                    let button = match button {
                        egui::PointerButton::Primary => 1,
                        egui::PointerButton::Middle => 2,
                        egui::PointerButton::Secondary => 3,
                        egui::PointerButton::Extra1 => 8,
                        egui::PointerButton::Extra2 => 9,
                    };
                    if pressed {
                        let (x, y) = to_screen(pos);
                        sent.push(InputEvent::PointerMove { x, y });
                        self.held.push(button);
                    } else if let Some(i) = self.held.iter().position(|b| *b == button) {
                        self.held.remove(i);
                    } else {
                        continue;
                    }
                    sent.push(InputEvent::Button { button, pressed });
                }
                egui::Event::MouseWheel { delta, unit, .. } if hovered => {
                    let notches = |d: f32| match unit {
                        egui::MouseWheelUnit::Line | egui::MouseWheelUnit::Page => d.round() as i32,
                        egui::MouseWheelUnit::Point => (d / 40.0).round() as i32,
                    };
                    let (dx, dy) = (-notches(delta.x), -notches(delta.y));
                    if dx != 0 || dy != 0 {
                        sent.push(InputEvent::Wheel { dx, dy });
                    }
                }
                egui::Event::Text(text) => {
                    for c in text.chars() {
                        sent.extend(keys::tap(keys::keysym(c)));
                    }
                }
                egui::Event::Key {
                    key: Key::Escape,
                    pressed: true,
                    modifiers,
                    ..
                } => {
                    if modifiers.shift {
                        // Shift+Esc: a literal Esc for the sharer's application.
                        sent.extend(keys::tap(xkeysym::key::Escape));
                    } else {
                        // Esc gives control back and is not sent.
                        for event in sent.drain(..) {
                            self.link.act(HelperAction::Input(event));
                        }
                        self.release();
                        return;
                    }
                }
                egui::Event::Key {
                    key,
                    pressed: true,
                    modifiers,
                    ..
                } => sent.extend(keys::press(key, modifiers).unwrap_or_default()),
                // egui turns Ctrl+C, Ctrl+X and Ctrl+V into these: they are the sharer's keys.
                egui::Event::Copy => sent.extend(keys::ctrl(Key::C)),
                egui::Event::Cut => sent.extend(keys::ctrl(Key::X)),
                // The helper's text first, so the Ctrl+V after it pastes it.
                egui::Event::Paste(text) => {
                    if let Some(text) = self.clipboard.changed(text) {
                        for event in sent.drain(..) {
                            self.link.act(HelperAction::Input(event));
                        }
                        self.link.act(HelperAction::Clipboard(text));
                    }
                    sent.extend(keys::ctrl(Key::V));
                }
                _ => {}
            }
        }
        for event in sent {
            self.link.act(HelperAction::Input(event));
        }
    }
}

/// Shift+Insert pastes the clipboard in the form's fields, as in other X programs (egui-winit
/// does it only on Windows; Ctrl+V, and a middle click for the selection, it does itself).
fn shift_insert_pastes(raw: &mut egui::RawInput, clipboard: &mut Option<arboard::Clipboard>) {
    let shift_insert = |event: &egui::Event| {
        matches!(event, egui::Event::Key { key: Key::Insert, pressed: true, modifiers, .. }
            if modifiers.shift_only())
    };
    if !raw.events.iter().any(shift_insert) {
        return;
    }
    let text = match clipboard {
        Some(c) => c.get_text().ok(),
        None => arboard::Clipboard::new()
            .ok()
            .and_then(|c| clipboard.insert(c).get_text().ok()),
    };
    for event in &mut raw.events {
        if shift_insert(event)
            && let Some(text) = &text
        {
            *event = egui::Event::Paste(text.clone());
        }
    }
}

impl eframe::App for ViewerWindow {
    fn raw_input_hook(&mut self, _ctx: &egui::Context, raw: &mut egui::RawInput) {
        if matches!(self.stage, Stage::Dialog(_)) {
            shift_insert_pastes(raw, &mut self.clipboard);
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        match &mut self.stage {
            Stage::Dialog(dialog) => {
                let mut start = None;
                egui::CentralPanel::default().show(ui, |ui| start = dialog.show(ui));
                if let Some((invitation, password, name)) = start {
                    let wake = ctx.clone();
                    let link = crate::link::start(invitation.clone(), password, name, move || {
                        wake.request_repaint();
                    });
                    self.form = Some(Box::new(std::mem::take(&mut **dialog)));
                    self.stage = Stage::Session(Box::new(Session::new(link, invitation)));
                }
            }
            Stage::Session(session) => {
                session.read(&ctx, &self.render);
                // Turned away before seeing anything (a wrong password, a No, an expired
                // invitation, no answer): back to the form, with the reason and Try again.
                if let Some(reason) = &session.closed
                    && matches!(session.standing, Standing::Connecting | Standing::Waiting)
                {
                    let mut form = self.form.take().unwrap_or_default();
                    form.error = Some(reason.clone());
                    form.focus_password = true;
                    self.stage = Stage::Dialog(form);
                    ctx.request_repaint();
                    return;
                }
                egui::Panel::top("toolbar").show(ui, |ui| session.toolbar(ui));
                if session.chat_open {
                    egui::Panel::right("chat")
                        .default_size(260.0)
                        .show(ui, |ui| session.chat_panel(ui));
                }
                egui::CentralPanel::default()
                    .frame(egui::Frame::NONE)
                    .show(ui, |ui| session.screen(ui));
                // Updates uploaded this pass are on screen when this pass is presented.
                let now = Instant::now();
                if !session.pending_present.is_empty() {
                    let drawn = &mut session.drawn;
                    drawn.0 += 1;
                    drawn.1.get_or_insert(now);
                    drawn.2 = Some(now);
                }
                for (received, full) in session.pending_present.drain(..) {
                    let ms = (now - received).as_secs_f64() * 1000.0;
                    session.presented.push(ms);
                    let all = if full {
                        &mut session.timings.1
                    } else {
                        &mut session.timings.0
                    };
                    if all.len() < 1_000_000 {
                        all.push(ms);
                    }
                }
                let keep = session.presented.len().saturating_sub(200);
                session.presented.drain(..keep);
                if session.closed.is_some() && session.standing == Standing::Controlling {
                    session.standing = Standing::Viewing;
                }
            }
        }
        // The status line's figures refresh once a second even when nothing else happens.
        ctx.request_repaint_after(Duration::from_secs(1));
    }
}

/// "The sharer now shows ...", for the window and the console.
pub fn showing(sharer: &str, monitor: Option<&str>) -> String {
    match monitor {
        Some(monitor) => t!("notice-showing-one", sharer = sharer, monitor = monitor),
        None => t!("notice-showing-all", sharer = sharer),
    }
}

/// Whether the helper sees the sharer's pixels exactly, or a picture still sharpening (lossy
/// while the screen moves or the link is slow, exact once refinement is done).
fn picture_state(exact: bool) -> String {
    if exact {
        t!("picture-exact")
    } else {
        t!("picture-sharpening")
    }
}
