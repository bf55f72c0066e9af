//! `tower-sessions` on Castellan's own database, so that any instance can
//! continue any browser's session. The session id is a bearer secret: only
//! its SHA-256 is stored. The signed-in user is stored beside the data, so
//! that their sessions can be ended when they are disabled.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use super::{SIGNED_IN, SignedIn};
use crate::domain::secret::SecretHash;
use crate::domain::{Clock, UserId};
use crate::storage::{SessionRecord, SessionRecordStore};

#[derive(Clone)]
pub struct DatabaseSessionStore {
    records: Arc<dyn SessionRecordStore>,
    clock: Clock,
    /// Each save keeps the session for this long more.
    idle_timeout: Duration,
}

impl DatabaseSessionStore {
    pub fn new(records: Arc<dyn SessionRecordStore>, clock: Clock, idle_timeout: Duration) -> Self {
        Self { records, clock, idle_timeout }
    }

    /// The cookie has no expiry of its own: the record's is ours.
    fn expires_at(&self) -> i64 {
        self.clock.now() + self.idle_timeout.as_secs() as i64
    }
}

impl std::fmt::Debug for DatabaseSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DatabaseSessionStore")
    }
}

fn id_hash(id: &Id) -> Vec<u8> {
    SecretHash::of_bytes(id.to_string().as_bytes()).as_bytes().to_vec()
}

fn backend(error: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(error.to_string())
}

fn encode(record: &Record) -> session_store::Result<Vec<u8>> {
    serde_json::to_vec(&record.data).map_err(|e| session_store::Error::Encode(e.to_string()))
}

/// The user signed in with `record`, if any.
fn signed_in_user(record: &Record) -> Option<UserId> {
    let signed_in = record.data.get(SIGNED_IN)?;
    serde_json::from_value::<SignedIn>(signed_in.clone()).ok().map(|s| s.user_id)
}

#[async_trait]
impl SessionStore for DatabaseSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let data = encode(record)?;
        let user_id = signed_in_user(record);
        let expires_at = self.expires_at();
        // A 128-bit random id collides practically never; retry anyway.
        for _ in 0..3 {
            let id_hash = id_hash(&record.id);
            let stored =
                SessionRecord { id_hash: &id_hash, data: &data, user_id: user_id.as_ref(), expires_at };
            if self.records.create_session(&stored).await.map_err(backend)? {
                return Ok(());
            }
            record.id = Id::default();
        }
        Err(backend("could not allocate a session id"))
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data = encode(record)?;
        let user_id = signed_in_user(record);
        let id_hash = id_hash(&record.id);
        let stored = SessionRecord {
            id_hash: &id_hash,
            data: &data,
            user_id: user_id.as_ref(),
            expires_at: self.expires_at(),
        };
        self.records.save_session(&stored).await.map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let Some(bytes) = self.records.load_session(&id_hash(id), self.clock.now()).await.map_err(backend)?
        else {
            return Ok(None);
        };
        // Undecodable data (say, from an older release) is an ended session.
        let Ok(data) = serde_json::from_slice(&bytes) else { return Ok(None) };
        // The real expiry is in the database; the record's is recomputed on save.
        let expiry_date = tower_sessions::cookie::time::OffsetDateTime::now_utc();
        Ok(Some(Record { id: *id, data, expiry_date }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.records.delete_session(&id_hash(id)).await.map_err(backend)
    }
}
