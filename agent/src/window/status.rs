//! The "Invitation status" page: every invitation with its state, when it was made and expires
//! (the time and how far off), who it went to, the helper's name, wrong passwords and the last
//! activity; Expire, Resend and Delete, each confirmed first.

use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use beckon_engine::invite::when;
use eframe::egui;

use super::ask::AskForm;
use super::{Places, mark, shows};
use crate::desk;
use crate::store::{Record, State, Store};
use crate::t;

/// What the sharer may do to an invitation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    Expire,
    Resend,
    Delete,
}

impl Action {
    fn words(self) -> String {
        match self {
            Action::Expire => t!("status-expire"),
            Action::Resend => t!("status-resend"),
            Action::Delete => t!("status-delete"),
        }
    }

    /// The name tests click it by.
    fn name(self) -> &'static str {
        match self {
            Action::Expire => "expire",
            Action::Resend => "resend",
            Action::Delete => "delete",
        }
    }

    /// The question before doing it, and the button that does.
    fn question(self, id: &str) -> (String, String) {
        match self {
            Action::Expire => (t!("status-expire-ask", id = id), t!("status-expire-yes")),
            Action::Resend => (t!("status-resend-ask", id = id), t!("status-resend-yes")),
            Action::Delete => (t!("status-delete-ask", id = id), t!("status-delete-yes")),
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
    /// The invitations as last read, and when: read again once a second, not on every frame
    /// (a moving mouse repaints many times a second).
    read: Option<(Instant, Vec<Record>)>,
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
            self.read = None;
        }
        let stale = self
            .read
            .as_ref()
            .is_none_or(|(at, _)| at.elapsed() >= Duration::from_secs(1));
        if stale {
            match store.list() {
                // Deleted invitations are kept for the audit log, not shown.
                Ok(records) => {
                    let shown = records
                        .into_iter()
                        .filter(|r| r.state != State::Deleted)
                        .collect();
                    self.read = Some((Instant::now(), shown));
                }
                Err(e) => {
                    ui.colored_label(ui.visuals().error_fg_color, format!("{e:#}"));
                    return;
                }
            }
        }
        let records = self
            .read
            .as_ref()
            .map(|(_, r)| r.clone())
            .unwrap_or_default();
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
            ui.label(t!("status-none"));
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
                ui.label(t!(
                    "status-which",
                    id = id,
                    how = delivered(&record.delivery)
                ));
            });
            let (made, made_when) = (
                when::utc(invitation.created),
                when::relative(invitation.created, now),
            );
            let (ends, ends_when) = (
                when::utc(invitation.expires),
                when::relative(invitation.expires, now),
            );
            ui.label(if invitation.expires > now {
                t!(
                    "status-times",
                    made = made,
                    made_when = made_when,
                    expires = ends,
                    expires_when = ends_when
                )
            } else {
                t!(
                    "status-times-past",
                    made = made,
                    made_when = made_when,
                    expires = ends,
                    expires_when = ends_when
                )
            });
            let helper = match &record.helper {
                Some(name) => t!("status-helper", helper = name.as_str()),
                None => t!("status-no-helper"),
            };
            let activity = t!(
                "status-activity",
                helper = helper,
                attempts = record.attempts,
                last = when::relative(record.last_activity, now)
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
                    let cancel = ui.button(t!("status-cancel"));
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
                    let name = format!("{}-{id}", action.name());
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
                .map(|()| t!("status-expired", id = id.as_str())),
            Action::Delete => store
                .set_state(&id, State::Deleted, "deleted by the sharer")
                .map(|()| t!("status-deleted", id = id.as_str())),
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
                            "string" => t!("status-code-again", id = record.invitation.id.as_str()),
                            _ => t!(
                                "status-resent",
                                id = record.invitation.id.as_str(),
                                said = said
                            ),
                        })
                        .map_err(|e| {
                            t!(
                                "status-not-resent",
                                id = record.invitation.id.as_str(),
                                why = format!("{e:#}")
                            )
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
        self.read = None;
    }
}

fn state_words(state: State) -> String {
    match state {
        State::Open => t!("state-open"),
        State::Used => t!("state-used"),
        State::Expired => t!("state-expired"),
        State::Locked => t!("state-locked"),
        State::Deleted => t!("state-deleted"),
    }
}

/// How an invitation went out, in words.
fn delivered(delivery: &str) -> String {
    let to = desk::recipient(delivery);
    if delivery.starts_with("email:") || delivery.starts_with("eml:") {
        t!("status-emailed", to = to)
    } else if delivery.starts_with("file:") {
        t!("status-saved", file = to)
    } else {
        t!("status-code")
    }
}
