//! The "Invitation status" page: every invitation with its state, when it was made and expires
//! (the time and how far off), who it went to, the helper's name, wrong passwords and the last
//! activity; Expire, Resend and Delete, each confirmed first.

use std::sync::mpsc::{Receiver, channel};

use beckon_engine::invite::when;
use eframe::egui;

use super::ask::AskForm;
use super::{Places, mark, shows};
use crate::desk;
use crate::store::{Record, State, Store};

/// What the sharer may do to an invitation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    Expire,
    Resend,
    Delete,
}

impl Action {
    fn words(self) -> &'static str {
        match self {
            Action::Expire => "Expire",
            Action::Resend => "Resend",
            Action::Delete => "Delete",
        }
    }

    /// The question before doing it, and the button that does.
    fn question(self, id: &str) -> (String, &'static str) {
        match self {
            Action::Expire => (
                format!("Expire invitation {id}? Nobody can use it afterwards."),
                "Yes, expire it",
            ),
            Action::Resend => (
                format!("Send invitation {id} again, the same way as before?"),
                "Yes, send it again",
            ),
            Action::Delete => (
                format!(
                    "Delete invitation {id}? Nobody can use it afterwards, and it leaves this list."
                ),
                "Yes, delete it",
            ),
        }
    }
}

/// The page.
#[derive(Default)]
pub(super) struct StatusList {
    /// An action waiting for the sharer's confirmation.
    confirm: Option<(Action, String)>,
    /// What the last action said.
    said: Option<Result<String, String>>,
    resending: Option<Receiver<Result<String, String>>>,
    changed: bool,
}

impl StatusList {
    /// Whether an invitation changed since the last call.
    pub(super) fn changed(&mut self) -> bool {
        std::mem::take(&mut self.changed)
    }

    pub(super) fn show(
        &mut self,
        ui: &mut egui::Ui,
        store: &Store,
        places: &Places,
        ask: &mut AskForm,
    ) {
        if let Some(resending) = &self.resending
            && let Ok(said) = resending.try_recv()
        {
            self.said = Some(said);
            self.resending = None;
        }
        let records = match store.list() {
            Ok(records) => records,
            Err(e) => {
                ui.colored_label(ui.visuals().error_fg_color, format!("{e:#}"));
                return;
            }
        };
        // Deleted invitations are kept for the audit log, not shown.
        let records: Vec<Record> = records
            .into_iter()
            .filter(|r| r.state != State::Deleted)
            .collect();
        match &self.said {
            Some(Ok(said)) => {
                ui.label(said);
            }
            Some(Err(why)) => {
                ui.colored_label(ui.visuals().error_fg_color, why);
            }
            None => {}
        }
        if records.is_empty() {
            ui.label("No invitations yet: Ask for help makes one.");
            return;
        }
        let now = when::now();
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                for record in &records {
                    self.invitation(ui, record, now, store, places, ask);
                    ui.add_space(4.0);
                }
            });
    }

    #[allow(clippy::too_many_arguments)]
    fn invitation(
        &mut self,
        ui: &mut egui::Ui,
        record: &Record,
        now: u64,
        store: &Store,
        places: &Places,
        ask: &mut AskForm,
    ) {
        let invitation = &record.invitation;
        let id = invitation.id.as_str();
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal_wrapped(|ui| {
                ui.label(egui::RichText::new(state_words(record.state)).strong());
                ui.label(format!("invitation {id}, {}", delivered(&record.delivery)));
            });
            ui.label(format!(
                "Made {} ({}); {} {} ({}).",
                when::utc(invitation.created),
                when::relative(invitation.created, now),
                if invitation.expires > now {
                    "expires"
                } else {
                    "expired"
                },
                when::utc(invitation.expires),
                when::relative(invitation.expires, now)
            ));
            let helper = match &record.helper {
                Some(name) => format!("Helper: {name}"),
                None => "No helper has connected".to_string(),
            };
            let activity = format!(
                "{helper}; {}; last activity {}.",
                when::count(
                    u64::from(record.attempts),
                    "wrong password",
                    "wrong passwords"
                ),
                when::relative(record.last_activity, now)
            );
            ui.label(&activity);
            let state = state_words(record.state);
            shows(
                ui,
                &format!("invitation-{id}"),
                &format!("{state}. {activity}"),
            );
            if let Some((action, on)) = &self.confirm
                && on == id
            {
                let action = *action;
                let (question, yes) = action.question(id);
                ui.label(egui::RichText::new(question).strong());
                ui.horizontal(|ui| {
                    let confirm = ui.button(yes);
                    mark(ui, "confirm", &confirm);
                    if confirm.clicked() {
                        self.confirm = None;
                        self.act(ui.ctx(), action, record, store, places, ask);
                    }
                    let cancel = ui.button("Cancel");
                    mark(ui, "cancel", &cancel);
                    if cancel.clicked() {
                        self.confirm = None;
                    }
                });
                return;
            }
            ui.horizontal(|ui| {
                let open = record.state == State::Open;
                for (action, enabled) in [
                    (Action::Expire, open),
                    (Action::Resend, open && self.resending.is_none()),
                    (Action::Delete, true),
                ] {
                    let button = ui.add_enabled(enabled, egui::Button::new(action.words()));
                    let name = format!("{}-{id}", action.words().to_lowercase());
                    mark(ui, &name, &button);
                    if button.clicked() {
                        self.confirm = Some((action, id.to_string()));
                    }
                }
            });
        });
    }

    fn act(
        &mut self,
        ctx: &egui::Context,
        action: Action,
        record: &Record,
        store: &Store,
        places: &Places,
        ask: &AskForm,
    ) {
        let id = record.invitation.id.clone();
        let done = match action {
            Action::Expire => store
                .set_state(&id, State::Expired, "expired by the sharer")
                .map(|()| format!("Invitation {id} expired: it can no longer be used.")),
            Action::Delete => store
                .set_state(&id, State::Deleted, "deleted by the sharer")
                .map(|()| format!("Invitation {id} deleted: it can no longer be used.")),
            Action::Resend => {
                let smtp = match record.delivery.starts_with("email:") {
                    true => match ask.smtp() {
                        Ok(smtp) => smtp,
                        Err(why) => {
                            self.said = Some(Err(why));
                            return;
                        }
                    },
                    false => Default::default(),
                };
                if record.delivery == "string" {
                    ctx.copy_text(record.invitation.to_string_form());
                }
                let (record, data_dir) = (record.clone(), places.data_dir.clone());
                let (sent, heard) = channel();
                let wake = ctx.clone();
                std::thread::spawn(move || {
                    let said = crate::store::Store::open(&data_dir)
                        .and_then(|store| {
                            let said =
                                desk::deliver(&store, &record.invitation, &record.delivery, &smtp)?;
                            store.log(Some(&record.invitation.id), "resent", &record.delivery)?;
                            Ok(said)
                        })
                        .map(|said| match record.delivery.as_str() {
                            "string" => format!(
                                "The code of invitation {} is copied again: paste it into your \
                                 chat with the helper.",
                                record.invitation.id
                            ),
                            _ => format!("Invitation {} sent again. {said}", record.invitation.id),
                        })
                        .map_err(|e| {
                            format!("Invitation {} was not sent: {e:#}", record.invitation.id)
                        });
                    match &said {
                        Ok(said) | Err(said) => eprintln!("{said}"),
                    }
                    let _ = sent.send(said);
                    wake.request_repaint();
                });
                self.resending = Some(heard);
                return;
            }
        };
        let done = done.map_err(|e| format!("{e:#}"));
        if let Ok(said) = &done {
            eprintln!("{said}");
        }
        self.said = Some(done);
        self.changed = true;
    }
}

fn state_words(state: State) -> &'static str {
    match state {
        State::Open => "Open",
        State::Used => "Used",
        State::Expired => "Expired",
        State::Locked => "Locked after too many wrong passwords",
        State::Deleted => "Deleted",
    }
}

/// How an invitation went out, in words.
fn delivered(delivery: &str) -> String {
    let to = desk::recipient(delivery);
    if delivery.starts_with("email:") || delivery.starts_with("eml:") {
        format!("e-mailed to {to}")
    } else if delivery.starts_with("file:") {
        format!("saved as {to}")
    } else {
        "a code to paste".to_string()
    }
}
