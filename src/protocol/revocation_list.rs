//! Revoked access tokens (RFC 7009). A revocation is written to the database
//! and to this instance's in-memory list at once; other instances fetch new
//! revocations every `CASTELLAN_SYNC_INTERVAL`, so introspection never needs
//! a database read. Entries are dropped when the token would have expired.
//!
//! Bounded: an entry is a 16-byte key and an expiry (at most ~64 bytes with
//! the hash table's overhead); a sync reads only rows numbered after the last
//! one seen; and clients may add entries only at a limited rate (see
//! `revocation::revoke`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::domain::Clock;
use crate::storage::{RevocationStore, RevokedTokens, StorageError};

/// How long a number skipped by the sync is looked for again: on Postgres a
/// transaction that took its number earlier may commit after later ones.
const LATE_COMMIT_SECS: i64 = 30;
/// At most this many skipped numbers are watched (the most recent ones).
const MAX_WATCHED_GAPS: usize = 1024;
/// Rows read per query.
const SYNC_PAGE_ROWS: usize = 10_000;

/// A revoked `jti`, compacted: ours are 16 random bytes in base64url, kept
/// as those bytes; any other is kept as the first 16 bytes of its SHA-256.
pub type JtiKey = [u8; 16];

/// Computes a `jti`'s key without allocating.
pub fn jti_key(jti: &str) -> JtiKey {
    let mut key = [0u8; 16];
    if jti.len() == 22 && URL_SAFE_NO_PAD.decode_slice(jti, &mut key) == Ok(16) {
        return key;
    }
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, jti.as_bytes());
    key.copy_from_slice(&digest.as_ref()[..16]);
    key
}

/// Where the sync stands: the highest number seen, and numbers below it not
/// seen yet with the time after which they are given up (a rolled-back or
/// conflicting insert also skips a number).
#[derive(Default)]
struct Cursor {
    last_seq: i64,
    gaps: Vec<(i64, i64)>,
}

pub struct RevocationList {
    store: Arc<dyn RevocationStore>,
    sync_interval: Duration,
    clock: Clock,
    /// Revoked token → its expiry.
    revoked: RwLock<HashMap<JtiKey, i64>>,
    cursor: Mutex<Cursor>,
}

impl RevocationList {
    pub async fn load(
        store: Arc<dyn RevocationStore>,
        sync_interval: Duration,
        clock: Clock,
    ) -> Result<Self, StorageError> {
        let revoked = RwLock::new(HashMap::new());
        let cursor = Mutex::new(Cursor { last_seq: -1, gaps: Vec::new() });
        let list = Self { store, sync_interval, clock, revoked, cursor };
        list.sync().await?;
        Ok(list)
    }

    /// How often [`sync`](Self::sync) is to run: the bound on how soon this
    /// instance sees another's revocations.
    pub fn sync_interval(&self) -> Duration {
        self.sync_interval
    }

    pub fn is_revoked(&self, jti: &str) -> bool {
        let key = jti_key(jti);
        self.revoked.read().unwrap_or_else(|e| e.into_inner()).contains_key(&key)
    }

    /// How many revoked, unexpired tokens this instance holds.
    pub fn len(&self) -> usize {
        self.revoked.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds tokens the storage has just recorded as revoked (see `Revoker`).
    pub fn remember(&self, tokens: RevokedTokens) {
        if tokens.is_empty() {
            return;
        }
        let mut revoked = self.revoked.write().unwrap_or_else(|e| e.into_inner());
        revoked.extend(tokens.iter().map(|(jti, expires_at)| (jti_key(jti), *expires_at)));
    }

    /// Fetches the revocations made since the last sync (by any instance):
    /// rows numbered after the last seen, and skipped numbers still watched.
    /// Reads in pages, so even the first load holds one page of rows at a time.
    pub async fn sync(&self) -> Result<(), StorageError> {
        while self.sync_page().await? == SYNC_PAGE_ROWS {}
        Ok(())
    }

    /// One page of [`sync`](Self::sync); returns how many rows it read.
    async fn sync_page(&self) -> Result<usize, StorageError> {
        let now = self.clock.now();
        let (after, watched) = {
            let cursor = self.cursor.lock().unwrap_or_else(|e| e.into_inner());
            (cursor.last_seq, cursor.gaps.iter().map(|(seq, _)| *seq).collect::<Vec<_>>())
        };
        let rows = self.store.revoked_after(after, &watched, SYNC_PAGE_ROWS as i64).await?;
        let mut cursor = self.cursor.lock().unwrap_or_else(|e| e.into_inner());
        let mut fresh = Vec::with_capacity(rows.len());
        for row in &rows {
            if row.seq > cursor.last_seq {
                // The first sync starts from nothing: no gaps before the first row.
                if cursor.last_seq >= 0 {
                    let give_up_at = now + LATE_COMMIT_SECS;
                    let missing = (cursor.last_seq + 1..row.seq).rev().take(MAX_WATCHED_GAPS);
                    cursor.gaps.extend(missing.map(|seq| (seq, give_up_at)));
                }
                cursor.last_seq = row.seq;
            } else {
                cursor.gaps.retain(|(seq, _)| *seq != row.seq);
            }
            if row.expires_at > now {
                fresh.push((jti_key(&row.jti), row.expires_at));
            }
        }
        // Nothing revoked yet: numbering starts at 1, so from now on a
        // number committed late is watched like any other gap.
        if rows.is_empty() && cursor.last_seq < 0 {
            cursor.last_seq = 0;
        }
        cursor.gaps.retain(|(_, give_up_at)| *give_up_at > now);
        if cursor.gaps.len() > MAX_WATCHED_GAPS {
            cursor.gaps.sort_unstable();
            let excess = cursor.gaps.len() - MAX_WATCHED_GAPS;
            cursor.gaps.drain(..excess);
        }
        drop(cursor);
        if !fresh.is_empty() {
            self.revoked.write().unwrap_or_else(|e| e.into_inner()).extend(fresh);
        }
        Ok(rows.len())
    }

    /// Deletes revocations of tokens that have expired anyway (and stale
    /// per-client counts), and forgets them here.
    pub async fn prune(&self, count_window_start: i64) -> Result<u64, StorageError> {
        let now = self.clock.now();
        let pruned = self.store.prune_revocations(now, count_window_start).await?;
        self.revoked.write().unwrap_or_else(|e| e.into_inner()).retain(|_, expires_at| *expires_at > now);
        Ok(pruned)
    }
}

#[cfg(test)]
mod tests {
    use async_trait::async_trait;

    use super::*;
    use crate::storage::RevocationRow;

    /// Rows as a database shows them: `visible` may lack a number that
    /// commits later. Records what each sync asked for.
    #[derive(Default)]
    struct FakeStore {
        visible: Mutex<Vec<(i64, String)>>,
        asked: Mutex<Vec<(i64, Vec<i64>)>>,
    }

    #[async_trait]
    impl RevocationStore for FakeStore {
        async fn revoke(&self, _: &str, _: i64, _: i64) -> Result<(), StorageError> {
            unimplemented!()
        }
        async fn revoked_since(&self, _: i64, _: i64) -> Result<Vec<(String, i64)>, StorageError> {
            unimplemented!()
        }
        async fn revoked_after(
            &self,
            after: i64,
            also: &[i64],
            _: i64,
        ) -> Result<Vec<RevocationRow>, StorageError> {
            self.asked.lock().unwrap().push((after, also.to_vec()));
            let mut rows: Vec<_> = self.visible.lock().unwrap().clone();
            rows.sort();
            Ok(rows
                .into_iter()
                .filter(|(seq, _)| *seq > after || also.contains(seq))
                .map(|(seq, jti)| RevocationRow { seq, jti, expires_at: i64::MAX })
                .collect())
        }
        async fn count_revocation(&self, _: &str, _: i64) -> Result<i64, StorageError> {
            unimplemented!()
        }
        async fn prune_revocations(&self, _: i64, _: i64) -> Result<u64, StorageError> {
            unimplemented!()
        }
    }

    /// On Postgres a revocation numbered 2 may commit after number 3: the
    /// sync asks for 2 again until it shows up (or for 30 s), and otherwise
    /// reads only what is new.
    #[tokio::test]
    async fn a_revocation_committed_after_a_later_numbered_one_is_still_seen() {
        let store = Arc::new(FakeStore::default());
        store.visible.lock().unwrap().extend([(1, "one".to_owned()), (2, "two".to_owned())]);
        let clock = Clock::system();
        let list = RevocationList::load(store.clone(), Duration::from_secs(1), clock.clone()).await.unwrap();
        store.visible.lock().unwrap().push((4, "four".to_owned()));
        list.sync().await.unwrap();
        assert!(list.is_revoked("four") && !list.is_revoked("three"));
        store.visible.lock().unwrap().push((3, "three".to_owned()));
        list.sync().await.unwrap();
        assert!(list.is_revoked("three"));
        list.sync().await.unwrap();
        let asked = store.asked.lock().unwrap().clone();
        assert_eq!(asked, [(-1, vec![]), (2, vec![]), (4, vec![3]), (4, vec![])]);
        assert_eq!(list.len(), 4);
    }

    /// A number that never shows up (a rolled-back insert) is given up.
    #[tokio::test]
    async fn a_number_that_never_commits_is_given_up_after_a_while() {
        let store = Arc::new(FakeStore::default());
        store.visible.lock().unwrap().extend([(1, "one".to_owned()), (3, "three".to_owned())]);
        let clock = Clock::system();
        let list = RevocationList::load(store.clone(), Duration::from_secs(1), clock.clone()).await.unwrap();
        list.sync().await.unwrap();
        clock.advance(LATE_COMMIT_SECS + 1);
        list.sync().await.unwrap();
        list.sync().await.unwrap();
        let asked = store.asked.lock().unwrap().clone();
        assert_eq!(asked, [(-1, vec![]), (3, vec![2]), (3, vec![2]), (3, vec![])]);
    }

    #[test]
    fn our_jtis_are_kept_as_their_bytes_and_others_as_a_digest() {
        let jti = crate::domain::secret::random_token(16);
        assert_eq!(jti_key(&jti).to_vec(), URL_SAFE_NO_PAD.decode(&jti).unwrap());
        assert_ne!(jti_key("some-other-jti"), jti_key("some-other-jtj"));
        assert_eq!(jti_key("some-other-jti"), jti_key("some-other-jti"));
    }
}
