//! A per-instance memo of access tokens whose signature has already been
//! checked. A resource server introspects the same token on every call it
//! serves, and the ECDSA check is most of introspection's cost; the memo
//! skips it on repeats. Only the signature verdict is remembered: expiry,
//! revocation and the client are checked on every request, and so is that
//! the key which signed it is still published (a revoked key's tokens must
//! stop working at once).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use aws_lc_rs::digest;

use crate::domain::KeyMaterial;
use crate::protocol::access_token::AccessTokenClaims;

/// Bounds memory to a few MB whatever the traffic.
const MAX_ENTRIES: usize = 10_000;

type TokenDigest = [u8; 32];

#[derive(Default)]
pub struct VerifiedTokens {
    entries: RwLock<HashMap<TokenDigest, Verified>>,
}

/// A token whose signature checked out, and the key that checked it.
#[derive(Clone)]
pub struct Verified {
    pub claims: Arc<AccessTokenClaims>,
    pub key: Arc<KeyMaterial>,
}

fn digest_of(token: &str) -> TokenDigest {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest::digest(&digest::SHA256, token.as_bytes()).as_ref());
    out
}

impl VerifiedTokens {
    pub fn get(&self, token: &str) -> Option<Verified> {
        self.entries.read().unwrap_or_else(|e| e.into_inner()).get(&digest_of(token)).cloned()
    }

    pub fn insert(&self, token: &str, claims: Arc<AccessTokenClaims>, key: Arc<KeyMaterial>, now: i64) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, verified| verified.claims.exp > now);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(digest_of(token), Verified { claims, key });
    }
}
