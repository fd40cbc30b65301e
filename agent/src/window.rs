//! The sharer's window (egui on eframe, drawn with wgpu): the prompts as the sharer reads them,
//! with Yes and No; the status line; Stop control and Disconnect; the chat. Serving runs on its
//! own thread and talks to the window through a [`FrontLink`]; the window wakes only when told
//! something or touched.

use std::sync::mpsc::Receiver;
use std::thread::JoinHandle;

use anyhow::{Result, anyhow};
use eframe::egui;
use tokio::sync::mpsc::UnboundedSender;

use crate::front::{FrontLink, Notice, Question, Reply, Status};

/// The window's title; tests find the window by it.
pub const TITLE: &str = "Beckon: sharing your screen";

/// Shows the sharer's window on `display` (default: `DISPLAY`) until it is closed or serving
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
    if let Some(display) = display
        && std::env::var("DISPLAY").ok().as_deref() != Some(display)
    {
        // SAFETY: called before the window and serving threads start; nothing else reads the
        // environment concurrently.
        unsafe { std::env::set_var("DISPLAY", display) };
    }
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title(TITLE)
            .with_inner_size([440.0, 400.0])
            .with_min_inner_size([320.0, 260.0])
            // Consent questions must not hide behind the sharer's other windows.
            .with_window_level(egui::WindowLevel::AlwaysOnTop),
        ..Default::default()
    };
    let quit = replies.clone();
    let mut serving = None;
    let serving_slot = &mut serving;
    let shown = eframe::run_native(
        TITLE,
        options,
        Box::new(move |cc| {
            let ctx = cc.egui_ctx.clone();
            let (link, notices) = FrontLink::new(move || ctx.request_repaint());
            *serving_slot = Some(start(link));
            Ok(Box::new(SharerWindow::new(notices, replies)))
        }),
    );
    let _ = quit.send(Reply::Quit);
    let served = match serving.take() {
        Some(handle) => handle
            .join()
            .unwrap_or_else(|_| Err(anyhow!("serving stopped unexpectedly"))),
        None => Ok(()),
    };
    shown.map_err(|e| {
        anyhow!("cannot show the sharer's window ({e}): use --console to answer on the terminal")
    })?;
    served
}

/// What the window shows.
struct SharerWindow {
    notices: Receiver<Notice>,
    replies: UnboundedSender<Reply>,
    listening: Option<(String, usize)>,
    status: Status,
    asking: Option<(Question, String)>,
    chat: Vec<(String, String)>,
    draft: String,
    info: Option<String>,
    /// Whether the clipboard is shared, when it can be.
    clipboard: Option<bool>,
}

impl SharerWindow {
    fn new(notices: Receiver<Notice>, replies: UnboundedSender<Reply>) -> SharerWindow {
        SharerWindow {
            notices,
            replies,
            listening: None,
            status: Status::Waiting,
            asking: None,
            chat: Vec::new(),
            draft: String::new(),
            info: None,
            clipboard: None,
        }
    }

    fn reply(&self, reply: Reply) {
        let _ = self.replies.send(reply);
    }

    /// Takes in what serving said; `true` when the window should close.
    fn read_notices(&mut self) -> bool {
        let mut stop = false;
        while let Ok(notice) = self.notices.try_recv() {
            match notice {
                Notice::Listening { address, open } => self.listening = Some((address, open)),
                Notice::Ask(question, helper) => self.asking = Some((question, helper)),
                Notice::Settled => self.asking = None,
                Notice::Status(status) => self.status = status,
                Notice::Chat { from, text } => self.chat.push((from, text)),
                Notice::Info(text) => self.info = Some(text),
                Notice::Clipboard(on) => self.clipboard = Some(on),
                Notice::Stopped => stop = true,
            }
        }
        stop
    }

    fn prompt(&mut self, ui: &mut egui::Ui) {
        let Some((question, helper)) = self.asking.clone() else {
            return;
        };
        egui::Frame::group(ui.style())
            .fill(ui.visuals().faint_bg_color)
            .show(ui, |ui| {
                ui.set_width(ui.available_width());
                let (what, decide) = question.lines(&helper);
                ui.add(egui::Label::new(egui::RichText::new(what).strong().size(16.0)).truncate());
                ui.label(decide);
                ui.horizontal(|ui| {
                    let size = egui::vec2(90.0, 28.0);
                    if ui.add_sized(size, egui::Button::new("Yes")).clicked() {
                        self.reply(Reply::Answer(true));
                        self.asking = None;
                    }
                    if ui.add_sized(size, egui::Button::new("No")).clicked() {
                        self.reply(Reply::Answer(false));
                        self.asking = None;
                    }
                });
            });
    }

    fn controls(&mut self, ui: &mut egui::Ui) {
        let connected = self.status != Status::Waiting;
        let controlling = matches!(self.status, Status::Controlling(_));
        ui.horizontal(|ui| {
            if ui
                .add_enabled(controlling, egui::Button::new("Stop control (Esc)"))
                .clicked()
            {
                self.reply(Reply::StopControl);
            }
            if ui
                .add_enabled(connected, egui::Button::new("Disconnect"))
                .clicked()
            {
                self.reply(Reply::Disconnect);
            }
        });
        if let Some(on) = &mut self.clipboard {
            let shared = ui
                .checkbox(on, "Share copy and paste while the helper has control")
                .changed();
            if shared {
                let on = *on;
                self.reply(Reply::ShareClipboard(on));
            }
        }
    }

    /// The message field, at the foot of the window.
    fn compose(&mut self, ui: &mut egui::Ui) {
        let connected = self.status != Status::Waiting;
        ui.horizontal(|ui| {
            let field = ui.add_enabled(
                connected,
                egui::TextEdit::singleline(&mut self.draft)
                    .hint_text("Type a message and press Enter")
                    .desired_width(ui.available_width() - 60.0),
            );
            let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            let send = ui
                .add_enabled(connected, egui::Button::new("Send"))
                .clicked();
            if (entered || send) && !self.draft.trim().is_empty() {
                let text = std::mem::take(&mut self.draft);
                self.reply(Reply::Chat(text));
                field.request_focus();
            }
        });
    }

    fn chat(&self, ui: &mut egui::Ui) {
        ui.label(egui::RichText::new("Chat").strong());
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
}

impl eframe::App for SharerWindow {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let asked = self.asking.is_none();
        if self.read_notices() {
            ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
        }
        if asked && self.asking.is_some() {
            ui.ctx()
                .send_viewport_cmd(egui::ViewportCommand::RequestUserAttention(
                    egui::UserAttentionType::Critical,
                ));
        }
        egui::Panel::bottom("compose").show(ui, |ui| {
            ui.add_space(4.0);
            self.compose(ui);
            ui.add_space(4.0);
        });
        egui::CentralPanel::default().show(ui, |ui| {
            ui.label(egui::RichText::new(self.status.text()).strong().size(17.0));
            if let Some((address, open)) = &self.listening {
                ui.label(format!(
                    "Listening on UDP {address}; {open} open invitation(s)."
                ));
            }
            ui.add_space(6.0);
            self.prompt(ui);
            ui.add_space(6.0);
            self.controls(ui);
            if let Some(info) = &self.info {
                ui.label(info);
            }
            ui.separator();
            self.chat(ui);
        });
    }
}
