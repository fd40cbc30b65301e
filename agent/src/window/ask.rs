//! The "Ask for help" page: who asks and why, how long the invitation lasts, its password (typed
//! twice, with its strength in plain words, or generated), and how it reaches the helper: by
//! e-mail, as a code to paste into any chat program, or as a file. Then a confirmation of what
//! went where, and the reminder to give the password another way.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, channel};

use beckon_engine::invite::password::{self, WeakPassword};
use beckon_engine::invite::when;
use beckon_engine::session::Secret;
use eframe::egui;
use rand_core::OsRng;

use super::{Places, mark};
use crate::desk;
use crate::mail::{self, Security, SmtpSettings};
use crate::store::Store;
use crate::t;

/// Where the page sends the sharer next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Next {
    Stay,
    Status,
}

/// How the invitation reaches the helper.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum How {
    Email,
    Code,
    File,
}

/// What making and delivering an invitation came to.
struct Made {
    id: String,
    expires: u64,
    how: How,
    /// The `beckon:` code, for a code to paste.
    code: Option<String>,
    /// What delivery said, or why it failed.
    delivered: Result<String, String>,
}

/// The e-mail settings form (the `[smtp]` section of `agent.toml`).
struct SmtpForm {
    host: String,
    port: String,
    security: Security,
    username: String,
    password: String,
    from: String,
    /// An extra certificate authority, from the file (not edited here).
    ca_file: Option<PathBuf>,
    /// What saving or the test e-mail said.
    note: Option<Result<String, String>>,
    testing: Option<Receiver<Result<String, String>>>,
}

impl SmtpForm {
    fn new(settings: &SmtpSettings) -> SmtpForm {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        SmtpForm {
            host: text(&settings.host),
            port: settings.port.map(|p| p.to_string()).unwrap_or_default(),
            security: settings.security.unwrap_or(Security::Starttls),
            username: text(&settings.username),
            password: text(&settings.password),
            from: text(&settings.from),
            ca_file: settings.ca_file.clone(),
            note: None,
            testing: None,
        }
    }

    /// The settings as typed.
    fn settings(&self) -> Result<SmtpSettings, String> {
        let text = |v: &str| (!v.trim().is_empty()).then(|| v.trim().to_string());
        let port = match self.port.trim() {
            "" => None,
            port => Some(
                port.parse()
                    .map_err(|_| format!("the port {port:?} is not a number from 1 to 65535"))?,
            ),
        };
        Ok(SmtpSettings {
            host: text(&self.host),
            port,
            security: Some(self.security),
            username: text(&self.username),
            from: text(&self.from),
            ca_file: self.ca_file.clone(),
            password: (!self.password.is_empty()).then(|| self.password.clone()),
        })
    }

    /// The settings to send with: as typed, the password from `BECKON_SMTP_PASSWORD` first.
    fn sending(&self) -> Result<SmtpSettings, String> {
        Ok(SmtpSettings::default().over(self.settings()?))
    }

    fn configured(&self) -> bool {
        !self.host.trim().is_empty() && !self.from.trim().is_empty()
    }

    fn show(&mut self, ui: &mut egui::Ui, places: &Places) {
        if let Some(testing) = &self.testing
            && let Ok(said) = testing.try_recv()
        {
            self.note = Some(said);
            self.testing = None;
        }
        egui::Grid::new("smtp").num_columns(2).show(ui, |ui| {
            let field = |ui: &mut egui::Ui, label: String, name, value: &mut String, hint| {
                ui.label(label);
                let edit = ui.add(egui::TextEdit::singleline(value).hint_text(hint));
                mark(ui, name, &edit);
                ui.end_row();
            };
            field(
                ui,
                t!("smtp-from"),
                "smtp-from",
                &mut self.from,
                "Ada <ada@example.org>",
            );
            field(
                ui,
                t!("smtp-host"),
                "smtp-host",
                &mut self.host,
                "smtp.example.org",
            );
            field(ui, t!("smtp-port"), "smtp-port", &mut self.port, "587");
            field(
                ui,
                t!("smtp-user"),
                "smtp-user",
                &mut self.username,
                "ada@example.org",
            );
            ui.label(t!("smtp-password"));
            let password = ui.add(egui::TextEdit::singleline(&mut self.password).password(true));
            mark(ui, "smtp-password", &password);
            ui.end_row();
            ui.label(t!("smtp-security"));
            ui.horizontal(|ui| {
                ui.radio_value(&mut self.security, Security::Starttls, "STARTTLS");
                ui.radio_value(&mut self.security, Security::Tls, "TLS");
                let none =
                    ui.radio_value(&mut self.security, Security::None, t!("smtp-security-none"));
                mark(ui, "smtp-none", &none);
            });
            ui.end_row();
        });
        if let Some(ca) = &self.ca_file {
            ui.label(t!("smtp-ca", file = ca.display().to_string()));
        }
        if self.security == Security::None {
            ui.label(t!("smtp-none-local"));
        }
        ui.horizontal(|ui| {
            let save = ui.button(t!("smtp-save"));
            mark(ui, "smtp-save", &save);
            if save.clicked() {
                self.note = Some(self.save(places));
            }
            let test = ui.add_enabled(self.testing.is_none(), egui::Button::new(t!("smtp-test")));
            mark(ui, "smtp-test", &test);
            if test.clicked() {
                self.note = None;
                let settings = self.sending();
                let (done, heard) = channel();
                let wake = ui.ctx().clone();
                std::thread::spawn(move || {
                    let sent = settings.and_then(|s| {
                        let to = s.from.clone().unwrap_or_default();
                        mail::test_message(&s)
                            .and_then(|m| mail::send(&s, &m))
                            .map(|()| t!("smtp-test-sent", to = to))
                            .map_err(|e| format!("{e:#}"))
                    });
                    match &sent {
                        Ok(said) => eprintln!("{said}"),
                        Err(why) => eprintln!("{}", t!("smtp-test-failed", why = why.as_str())),
                    }
                    let _ = done.send(sent);
                    wake.request_repaint();
                });
                self.testing = Some(heard);
            }
            if self.testing.is_some() {
                ui.spinner();
            }
        });
        match &self.note {
            Some(Ok(said)) => {
                ui.label(said);
            }
            Some(Err(why)) => {
                ui.colored_label(ui.visuals().error_fg_color, why);
            }
            None => {}
        }
    }

    fn save(&self, places: &Places) -> Result<String, String> {
        let file = places
            .config
            .as_deref()
            .ok_or_else(|| t!("smtp-no-place"))?;
        let settings = self.settings()?;
        mail::save_settings(file, &settings).map_err(|e| format!("{e:#}"))?;
        let file = file.display().to_string();
        eprintln!("{}", t!("smtp-saved-log", file = file.as_str()));
        Ok(t!("smtp-saved", file = file))
    }
}

/// The page.
pub(super) struct AskForm {
    from: String,
    message: String,
    /// The validities offered (seconds, words), within the policy's cap.
    expiries: Vec<(u64, String)>,
    expiry: u64,
    password: String,
    again: String,
    show_password: bool,
    /// A generated password, shown until the sharer dismisses it.
    generated: Option<String>,
    how: How,
    to: String,
    helpers: Vec<String>,
    folder: String,
    file_name: String,
    smtp: SmtpForm,
    smtp_open: bool,
    working: Option<Receiver<Made>>,
    made: Option<Made>,
    /// Set when an invitation was made since the last look.
    created: bool,
    error: Option<String>,
    max_validity: u64,
    /// The last strength verdict (score, strong enough, in words), and what it weighed: the
    /// two passwords, the name and the message.
    strength: Option<([String; 4], (u8, bool, String))>,
}

impl AskForm {
    pub(super) fn new(store: &Store, places: &Places) -> anyhow::Result<AskForm> {
        let config = mail::Config::load(places.config.as_deref(), false)?;
        let cap = desk::max_expiry(&config.policy)?;
        let mut expiries: Vec<(u64, String)> =
            [15 * 60, 30 * 60, 3600, 2 * 3600, 4 * 3600, 8 * 3600, 86_400]
                .into_iter()
                .filter(|&s| s <= cap)
                .map(|s| (s, when::duration(s)))
                .collect();
        if expiries.is_empty() {
            expiries.push((cap, when::duration(cap)));
        }
        for (secs, words) in &mut expiries {
            if *secs == desk::DEFAULT_EXPIRY {
                *words = t!("ask-expiry-recommended", span = words.as_str());
            }
        }
        let expiry = desk::DEFAULT_EXPIRY.min(cap);
        let from = store
            .list()?
            .first()
            .map(|r| r.invitation.from.clone())
            .unwrap_or_default();
        let helpers = store.helpers()?.into_iter().map(|(a, _)| a).collect();
        let folder = beckon_engine::dirs::documents()
            .or_else(|_| beckon_engine::dirs::home())
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        Ok(AskForm {
            from,
            message: String::new(),
            expiries,
            expiry,
            password: String::new(),
            again: String::new(),
            show_password: false,
            generated: None,
            how: How::Email,
            to: String::new(),
            helpers,
            folder,
            file_name: String::new(),
            smtp: SmtpForm::new(&config.smtp),
            smtp_open: false,
            working: None,
            made: None,
            created: false,
            error: None,
            max_validity: cap,
            strength: None,
        })
    }

    /// The e-mail settings as the form has them, for Resend.
    pub(super) fn smtp(&self) -> Result<SmtpSettings, String> {
        self.smtp.sending()
    }

    /// Whether an invitation was made since the last call.
    pub(super) fn created(&mut self) -> bool {
        std::mem::take(&mut self.created)
    }

    pub(super) fn show(&mut self, ui: &mut egui::Ui, store: &Store, places: &Places) -> Next {
        if let Some(working) = &self.working
            && let Ok(made) = working.try_recv()
        {
            self.working = None;
            if made.id.is_empty() {
                // Nothing was made: the form stays, with the reason.
                self.error = made.delivered.err();
            } else {
                self.created = true;
                if let (Some(code), Ok(_)) = (&made.code, &made.delivered) {
                    ui.ctx().copy_text(code.clone());
                }
                self.made = Some(made);
                self.helpers = store
                    .helpers()
                    .map(|h| h.into_iter().map(|(a, _)| a).collect())
                    .unwrap_or_default();
            }
        }
        let mut next = Next::Stay;
        egui::ScrollArea::vertical().show(ui, |ui| {
            self.generated_password(ui);
            if self.made.is_some() {
                next = self.confirmation(ui);
            } else {
                self.form(ui, places);
            }
        });
        next
    }

    /// The generated password, large, until the sharer says they have it.
    fn generated_password(&mut self, ui: &mut egui::Ui) {
        let Some(generated) = &self.generated else {
            return;
        };
        let mut dismissed = false;
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.label(t!("generated-intro"));
            ui.label(
                egui::RichText::new(generated)
                    .monospace()
                    .size(24.0)
                    .strong(),
            );
            ui.horizontal(|ui| {
                let copy = ui.button(t!("generated-copy"));
                mark(ui, "copy-password", &copy);
                if copy.clicked() {
                    ui.ctx().copy_text(generated.clone());
                }
                let done = ui.button(t!("generated-dismiss"));
                mark(ui, "dismiss-password", &done);
                dismissed = done.clicked();
            });
        });
        if dismissed {
            self.generated = None;
        }
        ui.add_space(6.0);
    }

    fn form(&mut self, ui: &mut egui::Ui, places: &Places) {
        ui.label(egui::RichText::new(t!("ask-title")).strong().size(17.0));
        ui.add_space(4.0);
        egui::Grid::new("ask").num_columns(2).show(ui, |ui| {
            ui.label(t!("ask-name"));
            let from =
                ui.add(egui::TextEdit::singleline(&mut self.from).hint_text(t!("ask-name-hint")));
            mark(ui, "from", &from);
            ui.end_row();
            ui.label(t!("ask-message"));
            let message = ui.add(egui::TextEdit::multiline(&mut self.message).desired_rows(2));
            mark(ui, "message", &message);
            ui.end_row();
            ui.label(t!("ask-expiry"));
            let chosen = self
                .expiries
                .iter()
                .find(|(s, _)| *s == self.expiry)
                .map(|(_, w)| w.clone())
                .unwrap_or_default();
            let combo = egui::ComboBox::from_id_salt("expiry")
                .selected_text(chosen)
                .show_ui(ui, |ui| {
                    for (secs, words) in &self.expiries {
                        ui.selectable_value(&mut self.expiry, *secs, words);
                    }
                });
            mark(ui, "expiry", &combo.response);
            ui.end_row();
            ui.label(t!("ask-password"));
            let first = ui
                .add(egui::TextEdit::singleline(&mut self.password).password(!self.show_password));
            mark(ui, "password", &first);
            ui.end_row();
            ui.label(t!("ask-password-again"));
            let again =
                ui.add(egui::TextEdit::singleline(&mut self.again).password(!self.show_password));
            mark(ui, "again", &again);
            ui.end_row();
        });
        ui.label(t!(
            "ask-expiry-advice",
            most = when::duration(self.max_validity)
        ));
        self.strength(ui);
        ui.horizontal(|ui| {
            ui.checkbox(&mut self.show_password, t!("ask-show-password"));
            let generate = ui.button(t!("ask-generate"));
            mark(ui, "generate", &generate);
            if generate.clicked() {
                let made = password::generate(&mut OsRng);
                self.password = made.expose().clone();
                self.again = made.expose().clone();
                self.generated = Some(made.expose().clone());
            }
        });
        ui.separator();
        ui.label(egui::RichText::new(t!("ask-how")).strong());
        for (how, name, words) in [
            (How::Email, "how-email", t!("ask-how-email")),
            (How::Code, "how-code", t!("ask-how-code")),
            (How::File, "how-file", t!("ask-how-file")),
        ] {
            let choice = ui.radio_value(&mut self.how, how, words);
            mark(ui, name, &choice);
        }
        ui.add_space(4.0);
        match self.how {
            How::Email => self.email(ui, places),
            How::Code => {
                ui.label(t!("ask-code-explained"));
            }
            How::File => self.file(ui),
        }
        ui.add_space(6.0);
        ui.horizontal(|ui| {
            let words = match self.how {
                How::Email => t!("ask-create-email"),
                How::Code => t!("ask-create-code"),
                How::File => t!("ask-create-file"),
            };
            let create = ui.add_enabled(self.working.is_none(), egui::Button::new(words));
            mark(ui, "create", &create);
            if create.clicked() {
                self.error = self.start(ui.ctx(), places).err();
            }
            if self.working.is_some() {
                ui.spinner();
            }
        });
        if let Some(error) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, error);
        }
    }

    /// The password's strength, live, in plain words.
    fn strength(&mut self, ui: &mut egui::Ui) {
        if self.password.is_empty() {
            ui.label(t!("strength-empty", min = password::MIN_LENGTH));
            return;
        }
        // zxcvbn again only when something it weighs changed, not on every repaint.
        let weighed = [&self.password, &self.again, &self.from, &self.message].map(String::clone);
        if self.strength.as_ref().is_none_or(|(of, _)| *of != weighed) {
            let known = [self.from.as_str(), self.message.as_str()];
            let score = password::score(&self.password, &known);
            let verdict = password::check_twice(&self.password, &self.again, &known);
            let words = match &verdict {
                Ok(()) => t!("strength-good"),
                Err(WeakPassword::Mismatch) if self.again.is_empty() => t!("strength-again"),
                Err(weak) => plain(weak),
            };
            self.strength = Some((weighed, (score, verdict.is_ok(), words)));
        }
        let Some((_, (score, strong, words))) = self.strength.clone() else {
            return;
        };
        ui.horizontal(|ui| {
            ui.add(
                egui::ProgressBar::new(f32::from(score + 1) / 5.0)
                    .desired_width(120.0)
                    .fill(if strong {
                        egui::Color32::from_rgb(40, 140, 60)
                    } else {
                        egui::Color32::from_rgb(190, 110, 30)
                    }),
            );
            ui.label(words);
        });
    }

    fn email(&mut self, ui: &mut egui::Ui, places: &Places) {
        ui.horizontal(|ui| {
            ui.label(t!("ask-to"));
            let to =
                ui.add(egui::TextEdit::singleline(&mut self.to).hint_text("grace@example.org"));
            mark(ui, "to", &to);
        });
        if !self.helpers.is_empty() {
            ui.horizontal_wrapped(|ui| {
                ui.label(t!("ask-earlier-helpers"));
                for helper in &self.helpers {
                    if ui.small_button(helper).clicked() {
                        self.to = helper.clone();
                    }
                }
            });
        }
        let open = self.smtp_open || !self.smtp.configured();
        let header = egui::CollapsingHeader::new(t!("smtp-title"))
            .open(Some(open))
            .show(ui, |ui| self.smtp.show(ui, places));
        mark(ui, "smtp-settings", &header.header_response);
        if header.header_response.clicked() {
            self.smtp_open = !open;
        }
    }

    fn file(&mut self, ui: &mut egui::Ui) {
        egui::Grid::new("file").num_columns(2).show(ui, |ui| {
            ui.label(t!("file-folder"));
            ui.horizontal(|ui| {
                let folder =
                    ui.add(egui::TextEdit::singleline(&mut self.folder).desired_width(260.0));
                mark(ui, "folder", &folder);
                for (name, place) in [
                    (t!("file-desktop"), beckon_engine::dirs::desktop()),
                    (t!("file-documents"), beckon_engine::dirs::documents()),
                    (t!("file-home"), beckon_engine::dirs::home()),
                ] {
                    if let Ok(place) = place
                        && ui.small_button(name).clicked()
                    {
                        self.folder = place.display().to_string();
                    }
                }
            });
            ui.end_row();
            ui.label(t!("file-name"));
            if self.file_name.is_empty() {
                self.file_name = default_name(&self.folder, &self.from);
            }
            let name = ui.add(egui::TextEdit::singleline(&mut self.file_name).desired_width(260.0));
            mark(ui, "file-name", &name);
            ui.end_row();
        });
    }

    /// Checks the form and starts making and delivering the invitation on a worker thread.
    fn start(&mut self, ctx: &egui::Context, places: &Places) -> Result<(), String> {
        let from = self.from.trim().to_string();
        if from.is_empty() {
            return Err(t!("ask-need-name"));
        }
        let known = [from.as_str(), self.message.as_str()];
        password::check_twice(&self.password, &self.again, &known).map_err(|e| plain(&e))?;
        beckon_engine::invite::check_text(&from, &self.message).map_err(|e| format!("{e}."))?;
        let (delivery, smtp) = match self.how {
            How::Email => {
                let to = self.to.trim();
                if to.parse::<lettre::message::Mailbox>().is_err() {
                    return Err(t!("ask-need-to"));
                }
                if !self.smtp.configured() {
                    return Err(t!("ask-need-smtp"));
                }
                (format!("email:{to}"), self.smtp.sending()?)
            }
            How::Code => ("string".to_string(), SmtpSettings::default()),
            How::File => {
                let folder = PathBuf::from(self.folder.trim());
                if !folder.is_dir() {
                    return Err(t!("file-no-folder", folder = folder.display().to_string()));
                }
                let name = self.file_name.trim();
                if name.is_empty() || name.contains('/') {
                    return Err(t!("file-need-name"));
                }
                let path = folder.join(name);
                if path.exists() {
                    return Err(t!("file-exists", file = path.display().to_string()));
                }
                (format!("file:{}", path.display()), SmtpSettings::default())
            }
        };
        let (how, message, validity, max_validity) = (
            self.how,
            self.message.clone(),
            self.expiry,
            self.max_validity,
        );
        let password = Secret::new(self.password.clone());
        let (data_dir, listen) = (places.data_dir.clone(), places.listen);
        // Relays an agent already serves through (an invitation is open): the new one names them.
        let relays = mail::Config::load(places.config.as_deref(), false)
            .and_then(|config| {
                let store = Store::open(&data_dir)?;
                desk::relays_now(&store, &config.relay)
            })
            .unwrap_or_default();
        let (done, heard) = channel();
        let wake = ctx.clone();
        std::thread::spawn(move || {
            let made = make(
                &data_dir,
                &desk::Request {
                    from: &from,
                    message: &message,
                    validity,
                    max_validity,
                    password: &password,
                    addresses: desk::addresses_for(listen),
                    relays: relays.as_ref(),
                    delivery,
                },
                &smtp,
                how,
            );
            let _ = done.send(made);
            wake.request_repaint();
        });
        self.working = Some(heard);
        Ok(())
    }

    fn confirmation(&mut self, ui: &mut egui::Ui) -> Next {
        let Some(made) = &self.made else {
            return Next::Stay;
        };
        let mut next = Next::Stay;
        let now = when::now();
        match &made.delivered {
            Ok(said) => {
                ui.label(egui::RichText::new(t!("sent-title")).strong().size(17.0));
                let what = match made.how {
                    How::Code => t!("sent-code"),
                    _ => said.clone(),
                };
                ui.label(what);
            }
            Err(why) => {
                ui.label(
                    egui::RichText::new(t!("sent-failed-title"))
                        .strong()
                        .size(17.0),
                );
                ui.colored_label(ui.visuals().error_fg_color, why);
                ui.label(t!("sent-failed-next"));
            }
        }
        if let Some(code) = &made.code {
            let mut shown = code.as_str();
            ui.add(
                egui::TextEdit::multiline(&mut shown)
                    .desired_rows(2)
                    .desired_width(f32::INFINITY),
            );
            let copy = ui.button(t!("sent-copy-again"));
            mark(ui, "copy-code", &copy);
            if copy.clicked() {
                ui.ctx().copy_text(code.clone());
            }
        }
        ui.label(t!(
            "sent-expires",
            id = made.id.as_str(),
            at = when::utc(made.expires),
            when = when::relative(made.expires, now)
        ));
        ui.add_space(6.0);
        ui.label(egui::RichText::new(t!("sent-password-reminder")).strong());
        ui.add_space(6.0);
        ui.horizontal(|ui| {
            let status = ui.button(t!("tab-invitations"));
            mark(ui, "status", &status);
            if status.clicked() {
                next = Next::Status;
            }
            let another = ui.button(t!("sent-another"));
            mark(ui, "another", &another);
            if another.clicked() {
                self.made = None;
                self.message.clear();
                self.password.clear();
                self.again.clear();
                self.to.clear();
                self.file_name.clear();
            }
        });
        next
    }
}

/// Makes the invitation in the store in `data_dir` and delivers it.
fn make(data_dir: &Path, request: &desk::Request<'_>, smtp: &SmtpSettings, how: How) -> Made {
    let failed = |why: String| Made {
        id: String::new(),
        expires: 0,
        how,
        code: None,
        delivered: Err(why),
    };
    let store = match Store::open(data_dir) {
        Ok(store) => store,
        Err(e) => return failed(format!("{e:#}")),
    };
    let invitation = match desk::create(&store, request) {
        Ok(invitation) => invitation,
        Err(e) => return failed(format!("{e:#}")),
    };
    eprintln!(
        "{}",
        t!(
            "log-created",
            id = invitation.id.as_str(),
            at = when::utc(invitation.expires)
        )
    );
    let delivered =
        desk::deliver(&store, &invitation, &request.delivery, smtp).map_err(|e| format!("{e:#}"));
    match &delivered {
        Ok(said) => eprintln!("{said}"),
        Err(why) => eprintln!(
            "{}",
            t!(
                "log-not-delivered",
                id = invitation.id.as_str(),
                why = why.as_str()
            )
        ),
    }
    Made {
        id: invitation.id.clone(),
        expires: invitation.expires,
        how,
        code: (how == How::Code).then(|| invitation.to_string_form()),
        delivered,
    }
}

/// A free file name in `folder` for an invitation from `from`.
fn default_name(folder: &str, from: &str) -> String {
    desk::file_name(Path::new(folder), from)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Why a password is refused, in the window's words.
fn plain(weak: &WeakPassword) -> String {
    match weak {
        WeakPassword::TooShort(n) => t!("strength-short", n = *n, min = password::MIN_LENGTH),
        WeakPassword::MissingClass("letter") => t!("strength-no-letter"),
        WeakPassword::MissingClass("digit") => t!("strength-no-digit"),
        WeakPassword::MissingClass(_) => t!("strength-no-special"),
        WeakPassword::Guessable { hint } => t!("strength-guessable", hint = hint.as_str()),
        WeakPassword::Mismatch => t!("strength-mismatch"),
        other => format!("{other}."),
    }
}
