//! The agent's store: invitations, the audit log and the agent's certificate, in one SQLite
//! file (with a table for the helpers' address book that e-mail delivery fills).
//!
//! The file lives in the XDG data directory (`$XDG_DATA_HOME/beckon/agent.db`, else
//! `~/.local/share/beckon/agent.db`), or in `--data-dir` / `BECKON_DATA_DIR`. It is opened in WAL
//! mode with a busy timeout, so the command line and a serving agent can use it at once. It holds
//! each password's OPAQUE credential (which cannot log in: a copy still needs a dictionary attack
//! through argon2id), never the password, and the agent's TLS key: the directory is 0700 and the
//! file 0600, and looser ones are refused ([`crate::private`]).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use beckon_engine::invite::Invitation;
use beckon_engine::invite::when::{self, now};
use beckon_engine::net::AgentIdentity;
use beckon_engine::session::Secret;
use beckon_engine::session::auth::Credential;
use rusqlite::{Connection, OptionalExtension, params};

/// Where an invitation stands, as the status list shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Waiting for its helper.
    Open,
    /// A helper saw the screen with it (it cannot be used again).
    Used,
    /// Past its expiry, or expired by the sharer.
    Expired,
    /// Too many wrong passwords.
    Locked,
    /// Deleted by the sharer.
    Deleted,
}

impl State {
    fn as_str(self) -> &'static str {
        match self {
            State::Open => "open",
            State::Used => "used",
            State::Expired => "expired",
            State::Locked => "locked",
            State::Deleted => "deleted",
        }
    }

    fn parse(s: &str) -> State {
        match s {
            "used" => State::Used,
            "expired" => State::Expired,
            "locked" => State::Locked,
            "deleted" => State::Deleted,
            _ => State::Open,
        }
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One invitation as the store keeps it.
#[derive(Clone, Debug)]
pub struct Record {
    /// The invitation as sent.
    pub invitation: Invitation,
    /// Its state, expiry taken into account.
    pub state: State,
    /// Wrong passwords so far.
    pub attempts: u32,
    /// How it was delivered: `file:PATH`, `string` or `email:ADDRESS`.
    pub delivery: String,
    /// Last event, seconds since the Unix epoch.
    pub last_activity: u64,
    /// The name the last helper who proved the password gave.
    pub helper: Option<String>,
}

/// One line of the audit log.
#[derive(Clone, Debug)]
pub struct AuditEntry {
    /// When, in seconds since the Unix epoch.
    pub at: u64,
    /// Which invitation, if any.
    pub invitation: Option<String>,
    /// What happened.
    pub event: String,
    /// Details.
    pub detail: String,
}

/// The data directory: `--data-dir`, else `BECKON_DATA_DIR`, else the XDG one.
pub fn data_dir(flag: Option<&Path>) -> Result<PathBuf> {
    if let Some(dir) = flag {
        return Ok(dir.to_path_buf());
    }
    if let Some(dir) = std::env::var_os("BECKON_DATA_DIR") {
        return Ok(PathBuf::from(dir));
    }
    Ok(beckon_engine::dirs::data()?)
}

/// The open store.
#[derive(Debug)]
pub struct Store {
    db: Connection,
    dir: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the store in `dir`.
    ///
    /// # Errors
    /// When the directory or database cannot be created or opened.
    pub fn open(dir: &Path) -> Result<Store> {
        crate::private::dir(dir)?;
        let path = dir.join("agent.db");
        crate::private::create(&path)?;
        for journal in ["agent.db-wal", "agent.db-shm"] {
            crate::private::file(&dir.join(journal))?;
        }
        let db = Connection::open(&path)
            .with_context(|| crate::t!("io-opening", file = path.display().to_string()))?;
        db.busy_timeout(Duration::from_secs(5))?;
        db.pragma_update(None, "journal_mode", "WAL")?;
        db.execute_batch(
            "CREATE TABLE IF NOT EXISTS invitations (
                id TEXT PRIMARY KEY,
                text TEXT NOT NULL,
                state TEXT NOT NULL,
                credential BLOB NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                delivery TEXT NOT NULL,
                last_activity INTEGER NOT NULL
            );
            CREATE TABLE IF NOT EXISTS audit (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                at INTEGER NOT NULL,
                invitation TEXT,
                event TEXT NOT NULL,
                detail TEXT NOT NULL DEFAULT ''
            );
            CREATE TABLE IF NOT EXISTS helpers (address TEXT PRIMARY KEY, last_used INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS identity (one INTEGER PRIMARY KEY CHECK (one = 1), cert BLOB NOT NULL, key BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS relayed (server TEXT NOT NULL, address TEXT NOT NULL, pid INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS portal (one INTEGER PRIMARY KEY CHECK (one = 1), token TEXT NOT NULL);",
        )?;
        let store = Store {
            db,
            dir: dir.to_path_buf(),
        };
        store.upgrade()?;
        Ok(store)
    }

    /// Records the relayed addresses (with their relays) that this process's serving holds,
    /// in place of any before, so that invitations made meanwhile name them.
    ///
    /// # Errors
    /// When the store cannot be written.
    pub fn set_relayed(&self, relayed: &[(SocketAddr, SocketAddr)]) -> Result<()> {
        self.db.execute("DELETE FROM relayed", [])?;
        for (server, address) in relayed {
            self.db.execute(
                "INSERT INTO relayed (server, address, pid) VALUES (?1, ?2, ?3)",
                params![server.to_string(), address.to_string(), std::process::id()],
            )?;
        }
        Ok(())
    }

    /// The relayed addresses a serving agent holds now, with their relays: none when the
    /// process that recorded them has ended.
    ///
    /// # Errors
    /// When the store cannot be read.
    pub fn relayed(&self) -> Result<Vec<(SocketAddr, SocketAddr)>> {
        let mut statement = self
            .db
            .prepare("SELECT server, address, pid FROM relayed")?;
        let rows = statement.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, u32>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (server, address, pid) = row?;
            let alive = std::path::Path::new(&format!("/proc/{pid}")).exists();
            if let (true, Ok(server), Ok(address)) = (alive, server.parse(), address.parse()) {
                out.push((server, address));
            }
        }
        Ok(out)
    }

    /// Brings a store of an earlier version up to date: the argon2id outputs it kept (which
    /// could log in) become OPAQUE credentials (which cannot), and are gone.
    fn upgrade(&self) -> Result<()> {
        let old: bool = self.db.query_row(
            "SELECT count(*) FROM pragma_table_info('invitations') WHERE name = 'verifier'",
            [],
            |r| r.get::<_, u32>(0).map(|n| n > 0),
        )?;
        if !old {
            return Ok(());
        }
        self.db
            .execute_batch("ALTER TABLE invitations RENAME COLUMN verifier TO credential")?;
        let rows: Vec<(String, Vec<u8>)> = self
            .db
            .prepare("SELECT id, credential FROM invitations WHERE length(credential) = 32")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (id, verifier) in rows {
            let verifier: [u8; 32] = verifier.try_into().expect("selected by length");
            let credential = Credential::register(&Secret::new(verifier), &mut rand_core::OsRng);
            self.db.execute(
                "UPDATE invitations SET credential = ?1 WHERE id = ?2",
                params![credential.as_bytes(), id],
            )?;
        }
        // The old values may linger in free pages: overwrite them.
        self.db.execute_batch("VACUUM")?;
        Ok(())
    }

    /// The directory the store is in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The desktop portal's restore token, which lets the next session share the monitors the
    /// sharer chose without asking again.
    ///
    /// # Errors
    /// When the store cannot be read.
    pub fn portal_token(&self) -> Result<Option<String>> {
        Ok(self
            .db
            .query_row("SELECT token FROM portal WHERE one = 1", [], |r| r.get(0))
            .optional()?)
    }

    /// Keeps the portal's newest restore token (each token is good for one session).
    ///
    /// # Errors
    /// When the store cannot be written.
    pub fn set_portal_token(&self, token: &str) -> Result<()> {
        self.db.execute(
            "INSERT INTO portal (one, token) VALUES (1, ?1) ON CONFLICT (one) DO UPDATE SET token = ?1",
            params![token],
        )?;
        Ok(())
    }

    /// The agent's certificate, made on first use and kept, so invitations stay valid.
    pub fn identity(&self) -> Result<AgentIdentity> {
        let stored: Option<(Vec<u8>, Vec<u8>)> = self
            .db
            .query_row("SELECT cert, key FROM identity WHERE one = 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        if let Some((cert, key)) = stored {
            return Ok(AgentIdentity::from_der(cert, key));
        }
        let identity = AgentIdentity::generate()?;
        let (cert, key) = identity.to_der();
        self.db.execute(
            "INSERT INTO identity (one, cert, key) VALUES (1, ?1, ?2)",
            params![cert, key],
        )?;
        Ok(identity)
    }

    /// Records a new invitation and its creation in the audit log.
    pub fn add(
        &self,
        invitation: &Invitation,
        credential: &Credential,
        delivery: &str,
    ) -> Result<()> {
        self.db.execute(
            "INSERT INTO invitations (id, text, state, credential, delivery, last_activity) VALUES (?1, ?2, 'open', ?3, ?4, ?5)",
            params![invitation.id, invitation.to_toml(), credential.as_bytes(), delivery, invitation.created],
        )?;
        self.log(
            Some(&invitation.id),
            "created",
            &format!("expires at {}", when::utc(invitation.expires)),
        )?;
        Ok(())
    }

    /// Appends to the audit log.
    pub fn log(&self, invitation: Option<&str>, event: &str, detail: &str) -> Result<()> {
        self.db.execute(
            "INSERT INTO audit (at, invitation, event, detail) VALUES (?1, ?2, ?3, ?4)",
            params![now(), invitation, event, detail],
        )?;
        if let Some(id) = invitation {
            self.db.execute(
                "UPDATE invitations SET last_activity = ?1 WHERE id = ?2",
                params![now(), id],
            )?;
        }
        Ok(())
    }

    /// Every invitation, newest first, with expiry applied.
    pub fn list(&self) -> Result<Vec<Record>> {
        let mut stmt = self.db.prepare(
            "SELECT text, state, credential, attempts, delivery, last_activity,
                (SELECT detail FROM audit WHERE audit.invitation = invitations.id
                    AND event = 'consent asked' ORDER BY seq DESC LIMIT 1)
             FROM invitations ORDER BY rowid DESC",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Vec<u8>>(2)?,
                r.get::<_, u32>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, u64>(5)?,
                r.get::<_, Option<String>>(6)?,
            ))
        })?;
        let now = now();
        let mut out = Vec::new();
        for row in rows {
            let (text, state, credential, attempts, delivery, last_activity, helper) = row?;
            let invitation =
                Invitation::from_toml(&text).with_context(|| crate::t!("store-unparsable"))?;
            let mut state = State::parse(&state);
            if state == State::Open && invitation.is_expired(now) {
                state = State::Expired;
            }
            if Credential::from_bytes(&credential).is_err() {
                bail!(
                    "{}",
                    crate::t!("store-damaged", id = invitation.id.as_str())
                );
            }
            out.push(Record {
                invitation,
                state,
                attempts,
                delivery,
                last_activity,
                helper,
            });
        }
        Ok(out)
    }

    /// The invitation with exactly this id, if any.
    pub fn get_exact(&self, id: &str) -> Result<Option<Record>> {
        Ok(self.list()?.into_iter().find(|r| r.invitation.id == id))
    }

    /// One invitation by id (a unique prefix will do).
    pub fn get(&self, id: &str) -> Result<Record> {
        let matches: Vec<Record> = self
            .list()?
            .into_iter()
            .filter(|r| r.invitation.id.starts_with(id))
            .collect();
        match matches.len() {
            0 => bail!("{}", crate::t!("store-no-such", id = format!("{id:?}"))),
            1 => Ok(matches.into_iter().next().expect("one")),
            n => bail!(
                "{}",
                crate::t!("store-ambiguous", n = n, id = format!("{id:?}"))
            ),
        }
    }

    /// Sets an invitation's state and logs why.
    pub fn set_state(&self, id: &str, state: State, event: &str) -> Result<()> {
        self.db.execute(
            "UPDATE invitations SET state = ?1 WHERE id = ?2",
            params![state.as_str(), id],
        )?;
        self.log(Some(id), event, "")
    }

    /// Counts a wrong password, locking the invitation at `max_attempts`: the attempts so far and
    /// whether this one locked it. Counted in the store itself, so connections at once each
    /// count.
    pub fn count_wrong_password(&self, id: &str, max_attempts: u32) -> Result<(u32, bool)> {
        let attempts: u32 = self.db.query_row(
            "UPDATE invitations SET attempts = attempts + 1 WHERE id = ?1 RETURNING attempts",
            params![id],
            |r| r.get(0),
        )?;
        self.log(Some(id), "wrong password", &format!("attempt {attempts}"))?;
        let locked = attempts == max_attempts;
        if locked {
            self.set_state(id, State::Locked, "locked after too many wrong passwords")?;
        }
        Ok((attempts, locked))
    }

    /// The credential of an invitation, for serving it.
    pub fn credential(&self, id: &str) -> Result<Credential> {
        let bytes: Vec<u8> = self.db.query_row(
            "SELECT credential FROM invitations WHERE id = ?1",
            params![id],
            |r| r.get(0),
        )?;
        Credential::from_bytes(&bytes)
            .map_err(|_| anyhow::anyhow!("{}", crate::t!("store-damaged", id = id)))
    }

    /// Adds `address` to the helpers' address book, or marks it used now.
    pub fn remember_helper(&self, address: &str) -> Result<()> {
        self.db.execute(
            "INSERT INTO helpers (address, last_used) VALUES (?1, ?2)
             ON CONFLICT(address) DO UPDATE SET last_used = excluded.last_used",
            params![address, now()],
        )?;
        Ok(())
    }

    /// The address book, most recently used first.
    pub fn helpers(&self) -> Result<Vec<(String, u64)>> {
        let mut stmt = self
            .db
            .prepare("SELECT address, last_used FROM helpers ORDER BY last_used DESC, address")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// `given` as an address: itself when it has an `@`, else the one address in the book that
    /// starts with it.
    pub fn helper_address(&self, given: &str) -> Result<String> {
        if given.contains('@') {
            return Ok(given.to_string());
        }
        let known: Vec<String> = self
            .helpers()?
            .into_iter()
            .map(|(a, _)| a)
            .filter(|a| a.starts_with(given))
            .collect();
        match known.as_slice() {
            [one] => Ok(one.clone()),
            [] => bail!(
                "{}",
                crate::t!("book-unknown", given = format!("{given:?}"))
            ),
            many => bail!(
                "{}",
                crate::t!(
                    "book-ambiguous",
                    given = format!("{given:?}"),
                    known = many.join(", ")
                )
            ),
        }
    }

    /// The audit log, oldest first.
    pub fn audit(&self) -> Result<Vec<AuditEntry>> {
        let mut stmt = self
            .db
            .prepare("SELECT at, invitation, event, detail FROM audit ORDER BY seq")?;
        let rows = stmt.query_map([], |r| {
            Ok(AuditEntry {
                at: r.get(0)?,
                invitation: r.get(1)?,
                event: r.get(2)?,
                detail: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use beckon_engine::session::auth::{StretchParams, stretch};
    use beckon_engine::session::{
        AgentConfig, AgentEvent, AgentInput, AgentOutput, AgentSession, InvitationRef, Ticket,
        Timers, ViewerEvent, ViewerInput, ViewerOutput, ViewerSession,
    };

    fn light() -> StretchParams {
        StretchParams {
            salt: [3; 16],
            m_cost_kib: 64,
            t_cost: 1,
            p_cost: 1,
        }
    }

    /// Whether a helper with `stretched` logs in against `credential`.
    fn logs_in(credential: Credential, stretched: &Secret<[u8; 32]>) -> bool {
        let ticket = Ticket {
            credential,
            ..Ticket::open("inv", "Ada", Secret::new([0; 32]))
        };
        let mut agent = AgentSession::new(ticket, [1; 32], [2; 32], AgentConfig::default(), 0);
        let mut viewer = ViewerSession::new(
            &InvitationRef::bare("inv"),
            "Grace",
            stretched,
            [1; 32],
            [3; 32],
            Timers::default(),
            0,
        );
        let (mut asked, mut authenticated) = (false, false);
        for _ in 0..4 {
            while let Some(output) = viewer.poll_output() {
                match output {
                    ViewerOutput::Send(m) => agent.handle_input(1, AgentInput::Received(m)),
                    ViewerOutput::Event(ViewerEvent::Authenticated { .. }) => authenticated = true,
                    _ => {}
                }
            }
            while let Some(output) = agent.poll_output() {
                match output {
                    AgentOutput::Send(m) => viewer.handle_input(1, ViewerInput::Received(m)),
                    AgentOutput::Event(AgentEvent::HelperWantsToConnect { .. }) => asked = true,
                    _ => {}
                }
            }
        }
        asked && authenticated
    }

    /// A store of the version before OPAQUE kept each password's argon2id output, which logs
    /// in as the password does. Opened now, it holds a credential that logs in with the
    /// password, and the old value is nowhere in the file.
    #[test]
    fn an_old_store_loses_its_login_secrets_and_its_invitations_still_work() {
        /// Removed however the test ends.
        struct Scratch(std::path::PathBuf);
        impl Drop for Scratch {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
        let scratch = Scratch(
            std::env::temp_dir().join(format!("beckon-store-upgrade-{}", std::process::id())),
        );
        let dir = scratch.0.clone();
        crate::private::dir(&dir).unwrap();
        let stretched = stretch("Tamoki-Ruvela-Sipono-47!", &light()).unwrap();
        {
            crate::private::create(&dir.join("agent.db")).unwrap();
            let db = Connection::open(dir.join("agent.db")).unwrap();
            db.execute_batch(
                "CREATE TABLE invitations (id TEXT PRIMARY KEY, text TEXT NOT NULL,
                 state TEXT NOT NULL, verifier BLOB NOT NULL,
                 attempts INTEGER NOT NULL DEFAULT 0, delivery TEXT NOT NULL,
                 last_activity INTEGER NOT NULL);",
            )
            .unwrap();
            db.execute(
                "INSERT INTO invitations VALUES ('inv', '', 'open', ?1, 0, 'string', 0)",
                params![stretched.expose().to_vec()],
            )
            .unwrap();
        }
        let store = Store::open(&dir).unwrap();
        let credential = store.credential("inv").unwrap();
        assert!(logs_in(credential.clone(), &stretched));
        let wrong = stretch("Tamoki-Ruvela-Sipono-48!", &light()).unwrap();
        assert!(!logs_in(credential, &wrong));
        drop(store);
        let file = std::fs::read(dir.join("agent.db")).unwrap();
        assert!(
            !file.windows(32).any(|w| w == stretched.expose()),
            "the old login secret is still in the store"
        );
        // Opened again, nothing changes.
        let again = Store::open(&dir).unwrap().credential("inv").unwrap();
        assert!(logs_in(again, &stretched));
    }
}
