//! The session page of the sharer's window: the prompts as the sharer reads them, with Yes and
//! No; the status line; Stop control and Disconnect; the chat.

use std::sync::mpsc::Receiver;

use eframe::egui;
use tokio::sync::mpsc::UnboundedSender;

use crate::front::{Notice, Question, Reply, Status};

/// The session as the sharer sees it: the status, the pending question with Yes and No, Stop
/// control and Disconnect, the chat.
pub(super) struct SessionView {
    notices: Option<Receiver<Notice>>,
    replies: Option<UnboundedSender<Reply>>,
    /// The UDP address serving listens on, and how many invitations were open then.
    pub(super) listening: Option<(String, usize)>,
    pub(super) status: Status,
    pub(super) asking: Option<(Question, String)>,
    chat: Vec<(String, String)>,
    draft: String,
    info: Option<String>,
    /// Whether the clipboard is shared, when it can be.
    clipboard: Option<bool>,
    /// The monitors (name, description) and the one shown, when there are several.
    monitors: Vec<(String, String)>,
    showing: Option<String>,
}

impl SessionView {
    pub(super) fn new() -> SessionView {
        SessionView {
            notices: None,
            replies: None,
            listening: None,
            status: Status::Waiting,
            asking: None,
            chat: Vec::new(),
            draft: String::new(),
            info: None,
            clipboard: None,
            monitors: Vec::new(),
            showing: None,
        }
    }

    /// Follows a serving that tells on `notices` and hears on `replies`.
    pub(super) fn attach(&mut self, notices: Receiver<Notice>, replies: UnboundedSender<Reply>) {
        self.notices = Some(notices);
        self.replies = Some(replies);
    }

    /// Tells serving, if it runs.
    pub(super) fn reply(&self, reply: Reply) {
        if let Some(replies) = &self.replies {
            let _ = replies.send(reply);
        }
    }

    /// Takes in what serving said; `true` when serving has stopped.
    pub(super) fn read_notices(&mut self) -> bool {
        let mut stop = false;
        let Some(notices) = &self.notices else {
            return false;
        };
        while let Ok(notice) = notices.try_recv() {
            match notice {
                Notice::Listening { address, open } => self.listening = Some((address, open)),
                Notice::Ask(question, helper) => self.asking = Some((question, helper)),
                Notice::Settled => self.asking = None,
                Notice::Status(status) => self.status = status,
                Notice::Chat { from, text } => self.chat.push((from, text)),
                Notice::Info(text) => self.info = Some(text),
                Notice::Clipboard(on) => self.clipboard = Some(on),
                Notice::Monitors { monitors, showing } => {
                    self.monitors = monitors;
                    self.showing = showing;
                }
                Notice::Stopped => stop = true,
            }
        }
        if stop {
            self.detach();
        }
        stop
    }

    /// Serving has ended: nobody is connected, nothing is asked.
    pub(super) fn detach(&mut self) {
        self.notices = None;
        self.replies = None;
        self.listening = None;
        self.asking = None;
        self.clipboard = None;
        self.status = Status::Waiting;
    }

    pub(super) fn prompt(&mut self, ui: &mut egui::Ui) {
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
                    let yes = ui.add_sized(size, egui::Button::new(crate::t!("yes")));
                    super::mark(ui, "yes", &yes);
                    if yes.clicked() {
                        self.reply(Reply::Answer(true));
                        self.asking = None;
                    }
                    let no = ui.add_sized(size, egui::Button::new(crate::t!("no")));
                    super::mark(ui, "no", &no);
                    if no.clicked() {
                        self.reply(Reply::Answer(false));
                        self.asking = None;
                    }
                });
            });
    }

    pub(super) fn controls(&mut self, ui: &mut egui::Ui) {
        let connected = self.status != Status::Waiting;
        let controlling = matches!(self.status, Status::Controlling(_));
        ui.horizontal(|ui| {
            if ui
                .add_enabled(
                    controlling,
                    egui::Button::new(crate::t!("session-stop-control")),
                )
                .clicked()
            {
                self.reply(Reply::StopControl);
            }
            if ui
                .add_enabled(
                    connected,
                    egui::Button::new(crate::t!("session-disconnect")),
                )
                .clicked()
            {
                self.reply(Reply::Disconnect);
            }
        });
        self.monitor_choice(ui);
        if let Some(on) = &mut self.clipboard {
            let shared = ui.checkbox(on, crate::t!("session-clipboard")).changed();
            if shared {
                let on = *on;
                self.reply(Reply::ShareClipboard(on));
            }
        }
    }

    /// "Show your helper": all monitors or one, when there are several.
    fn monitor_choice(&mut self, ui: &mut egui::Ui) {
        if self.monitors.len() < 2 {
            return;
        }
        ui.label(crate::t!("session-show"));
        let mut chosen = None;
        ui.horizontal_wrapped(|ui| {
            let all = ui.radio(self.showing.is_none(), crate::t!("session-show-all"));
            super::mark(ui, "show-all", &all);
            if all.clicked() && self.showing.is_some() {
                chosen = Some(None);
            }
            for (i, (name, described)) in self.monitors.iter().enumerate() {
                let on = self.showing.as_deref() == Some(name.as_str());
                let one = ui.radio(on, format!("{} ({described})", i + 1));
                super::mark(ui, &format!("show-{name}"), &one);
                if one.clicked() && !on {
                    chosen = Some(Some(name.clone()));
                }
            }
        });
        if let Some(choice) = chosen {
            self.showing = choice.clone();
            self.reply(Reply::Show(choice));
        }
    }

    /// The message field, at the foot of the window.
    pub(super) fn compose(&mut self, ui: &mut egui::Ui) {
        let connected = self.status != Status::Waiting;
        ui.horizontal(|ui| {
            let field = ui.add_enabled(
                connected,
                egui::TextEdit::singleline(&mut self.draft)
                    .hint_text(crate::t!("session-chat-hint"))
                    .desired_width(ui.available_width() - 60.0),
            );
            let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            let send = ui
                .add_enabled(connected, egui::Button::new(crate::t!("session-send")))
                .clicked();
            if (entered || send) && !self.draft.trim().is_empty() {
                let text = std::mem::take(&mut self.draft);
                self.reply(Reply::Chat(text));
                field.request_focus();
            }
        });
    }

    pub(super) fn chat(&self, ui: &mut egui::Ui) {
        ui.label(egui::RichText::new(crate::t!("session-chat")).strong());
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

    /// The whole session page: the status, the question, the buttons and the chat; the
    /// message field goes at the foot of the window (see [`SessionView::compose`]).
    /// The whole session page; `listening` adds the address serving listens on (the home
    /// window says it above every page).
    pub(super) fn page(&mut self, ui: &mut egui::Ui, listening: bool) {
        ui.label(egui::RichText::new(self.status.text()).strong().size(17.0));
        if let Some((address, open)) = self.listening.as_ref().filter(|_| listening) {
            ui.label(crate::t!(
                "session-listening",
                address = address.as_str(),
                open = *open
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
    }
}
