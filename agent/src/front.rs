//! What the sharer sees and answers while `share` runs: the prompts, the status, the chat. Two
//! front-ends speak this: the terminal (`--console`: lines on standard input, the log on
//! standard error) and the sharer's window ([`crate::window`]).

use std::sync::mpsc;

/// A question for the sharer, answered Yes or No.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Question {
    /// "`<helper>` wants to connect to your computer. Allow?"
    Connection,
    /// "`<helper>` would like to share control of your computer. Allow?"
    Control,
    /// "Continue sharing your screen with `<helper>`?" (asked every so often; unanswered, the
    /// helper is disconnected).
    Continue,
}

impl Question {
    /// The question as the sharer reads it: what happens, then what to decide.
    pub fn lines(self, helper: &str) -> (String, String) {
        match self {
            Question::Connection => (
                crate::t!("ask-connection", helper = helper),
                crate::t!("ask-allow"),
            ),
            Question::Control => (
                crate::t!("ask-control", helper = helper),
                crate::t!("ask-allow"),
            ),
            Question::Continue => (
                crate::t!("ask-continue", helper = helper),
                crate::t!("ask-continue-unanswered"),
            ),
        }
    }

    /// The question on one line, for the terminal.
    pub fn text(self, helper: &str) -> String {
        match self {
            Question::Continue => self.lines(helper).0,
            _ => {
                let (what, decide) = self.lines(helper);
                format!("{what} {decide}")
            }
        }
    }
}

/// Where the session stands, for the status line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// No helper is connected.
    Waiting,
    /// A helper is connected and waits for the sharer's Yes.
    Connecting(String),
    /// The helper sees the screen.
    Viewing(String),
    /// The helper controls the computer.
    Controlling(String),
}

impl Status {
    /// The status line.
    pub fn text(&self) -> String {
        match self {
            Status::Waiting => crate::t!("status-waiting"),
            Status::Connecting(helper) => crate::t!("status-connecting", helper = helper),
            Status::Viewing(helper) => crate::t!("status-viewing", helper = helper),
            Status::Controlling(helper) => crate::t!("status-controlling", helper = helper),
        }
    }
}

/// From the agent to the front-end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// Serving has started.
    Listening {
        /// The UDP address.
        address: String,
        /// How many invitations are open.
        open: usize,
    },
    /// A question waits for Yes or No.
    Ask(Question, String),
    /// The pending question no longer needs an answer (answered, timed out, session over).
    Settled,
    /// The status changed.
    Status(Status),
    /// A chat line, from the helper or echoed from the sharer.
    Chat {
        /// Who wrote it.
        from: String,
        /// What they wrote.
        text: String,
    },
    /// Something the sharer should know ("Session over: ...").
    Info(String),
    /// The clipboard can be shared with a helper who has control; whether it is now.
    Clipboard(bool),
    /// The monitors the sharer may choose among (each one's name, and its name and place as
    /// the sharer reads it), and the one shown (`None`: all of them).
    Monitors {
        /// Name, and description.
        monitors: Vec<(String, String)>,
        /// The monitor shown, by name.
        showing: Option<String>,
    },
    /// Serving has ended: the front-end may close.
    Stopped,
}

/// From the front-end to the agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// A line typed on the terminal: it answers the pending question when it is y, yes, n, no
    /// or empty, and is chat otherwise; `esc` stops control and `q` disconnects.
    Line(String),
    /// Yes (`true`) or No to the pending question.
    Answer(bool),
    /// A chat message for the helper.
    Chat(String),
    /// End the helper's control (the window's Stop control button; Esc does it too).
    StopControl,
    /// Disconnect the helper.
    Disconnect,
    /// Share the clipboard with a helper who has control (`true`), or stop sharing it.
    ShareClipboard(bool),
    /// Show the helper this monitor (its number from 1 or its name), or all of them (`None`).
    Show(Option<String>),
    /// The sharer closed the window: stop serving.
    Quit,
}

/// The agent's side of the link to a front-end: notices go out, the front-end is woken.
pub struct FrontLink {
    notices: mpsc::Sender<Notice>,
    wake: Box<dyn Fn() + Send + Sync>,
}

impl std::fmt::Debug for FrontLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FrontLink")
    }
}

impl FrontLink {
    /// A link whose notices arrive on the returned receiver; `wake` is called after each (the
    /// window asks for a repaint).
    pub fn new(wake: impl Fn() + Send + Sync + 'static) -> (FrontLink, mpsc::Receiver<Notice>) {
        let (notices, receiver) = mpsc::channel();
        let link = FrontLink {
            notices,
            wake: Box::new(wake),
        };
        (link, receiver)
    }

    /// Tells the front-end.
    pub fn notice(&self, notice: Notice) {
        if self.notices.send(notice).is_ok() {
            (self.wake)();
        }
    }
}
