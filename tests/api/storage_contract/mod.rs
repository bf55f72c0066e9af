//! The storage contract: the storage traits called directly (no HTTP), on
//! SQLite and on Postgres, each test on a fresh database. Times are made-up
//! unix seconds passed to the calls, so nothing here sleeps.

mod client_assertions;
mod client_metadata_documents;
mod clients_and_revocations;
mod codes;
mod grant_writes;
mod migrations;
mod refresh_tokens;
mod registration;
mod resources;
mod revocation_sync;
mod sessions_and_throttle;
mod user_changes;
mod users_and_consents;

use std::collections::BTreeSet;

use castellan::domain::client::ResponseType;
use castellan::domain::secret::{Secret, SecretHash, random_token};
use castellan::domain::{
    Client, ClientId, ClientMetadata, ClientOrigin, CodeChallenge, GrantType, IdTokenAlgorithm, RedirectUri,
    ResourceSet, ScopeSet, TokenEndpointAuthMethod, User, UserId, Username,
};
use castellan::storage::{
    AuthorizationCodeRecord, CodeRedemption, NewFamily, RefreshTokenRecord, RevokedTokens, Storage,
    TokenFamily,
};

/// The made-up "now" of every test; other times are offsets from it.
pub const NOW: i64 = 1_000_000;

/// How long access tokens issued in these tests live.
pub const ACCESS_TTL: i64 = 3_600;

/// A random 32-byte value, as stored for codes, refresh tokens and session ids.
pub fn random_hash() -> Vec<u8> {
    SecretHash::of_bytes(random_token(32).as_bytes()).as_bytes().to_vec()
}

pub fn random_jti() -> String {
    random_token(16)
}

pub fn scope(value: &str) -> ScopeSet {
    ScopeSet::parse(value).expect("a valid scope")
}

pub fn indicator(value: &str) -> castellan::domain::ResourceIndicator {
    castellan::domain::ResourceIndicator::parse(value).expect("a valid resource indicator")
}

pub fn resources(values: &[&str]) -> ResourceSet {
    ResourceSet::from_request(values.iter().copied()).expect("valid resource indicators")
}

pub fn user(username: &str) -> User {
    User {
        id: UserId::generate(),
        username: Username::parse(username).expect("a valid username"),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
        email: Some(format!("{}@example.com", username.to_lowercase())),
        email_verified: true,
        name: Some(username.to_owned()),
        roles: vec!["reader".to_owned()],
        created_at: NOW,
        disabled_at: None,
    }
}

/// A confidential client allowed the authorization code and refresh grants.
pub fn client(id: &str) -> Client {
    Client {
        id: ClientId::parse(id).expect("a valid client id"),
        origin: ClientOrigin::Admin,
        secret_hash: Some(SecretHash::of(&Secret::generate())),
        previous_secret: None,
        metadata: ClientMetadata {
            client_name: Some(format!("Client {id}")),
            redirect_uris: vec![RedirectUri::parse("https://client.example/callback").expect("a valid URI")],
            grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
            response_types: vec![ResponseType::Code],
            token_endpoint_auth_method: TokenEndpointAuthMethod::ClientSecretBasic,
            scope: scope("openid profile offline_access"),
            post_logout_redirect_uris: Vec::new(),
            id_token_signed_response_alg: IdTokenAlgorithm::RS256,
            first_party: false,
            // Not the default, so a round trip shows it is kept.
            require_pkce: Some(false),
            resources: vec![indicator("https://api.example.com/a"), indicator("https://api.example.com/b")],
            default_resource: Some(indicator("https://api.example.com/b")),
            refresh_token_reuse_grace: castellan::domain::RefreshReuseGrace::parse(Some(30), true)
                .expect("a valid grace"),
            application_type: Some(castellan::domain::ApplicationType::Native),
            jwks: None,
            jwks_uri: None,
            token_endpoint_auth_signing_alg: None,
        },
        issued_at: NOW,
        metadata_document_fetched_at: None,
    }
}

/// Stores a new user (named `username`) and a new client (`client_id`).
pub async fn user_and_client(storage: &Storage, username: &str, client_id: &str) -> (User, Client) {
    let (user, client) = (user(username), client(client_id));
    storage.users.insert_user(&user).await.expect("insert the user");
    storage.clients.insert_client(&client).await.expect("insert the client");
    (user, client)
}

/// An unredeemed authorization code, valid for 60 s from `now`.
pub fn code(client: &Client, user: &User, now: i64) -> AuthorizationCodeRecord {
    AuthorizationCodeRecord {
        code_hash: random_hash(),
        client_id: client.id.clone(),
        user_id: user.id.clone(),
        redirect_uri: Some(RedirectUri::parse("https://client.example/callback").expect("a valid URI")),
        scope: scope("openid offline_access"),
        resources: resources(&["https://api.example.com/a", "urn:example:b"]),
        nonce: Some("n-0S6_WzA2Mj".to_owned()),
        code_challenge: Some(
            CodeChallenge::parse("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM").expect("S256"),
        ),
        auth_time: now,
        expires_at: now + 60,
        redeemed: false,
    }
}

/// A live family of refresh tokens, ending 30 days after `now`.
pub fn family(family_id: &str, client: &Client, user: &User, now: i64) -> TokenFamily {
    TokenFamily {
        family_id: family_id.to_owned(),
        client_id: client.id.clone(),
        user_id: user.id.clone(),
        scope: scope("openid offline_access"),
        resources: resources(&["https://api.example.com/a"]),
        auth_time: now,
        created_at: now,
        expires_at: now + 30 * 86_400,
        revoked: false,
    }
}

/// What redeeming a code at `now` issues: an access token, and the family
/// with its first refresh token if any.
pub fn redemption(family: Option<TokenFamily>, now: i64) -> CodeRedemption {
    let family =
        family.map(|family| NewFamily { first_token: refresh_token(&family.family_id, now), family });
    CodeRedemption { access_jti: random_jti(), access_expires_at: now + ACCESS_TTL, family }
}

/// A refresh token of `family_id` issued at `now`, with its access token.
pub fn refresh_token(family_id: &str, now: i64) -> RefreshTokenRecord {
    RefreshTokenRecord {
        token_hash: random_hash(),
        family_id: family_id.to_owned(),
        issued_at: now,
        idle_expires_at: now + 7 * 86_400,
        rotated_at: None,
        access_jti: random_jti(),
        access_expires_at: now + ACCESS_TTL,
    }
}

/// An authorization as the token endpoint leaves it: a code redeemed at
/// `now` into an access token and a family, with the family's first refresh token.
pub struct Grant {
    pub code_hash: Vec<u8>,
    pub code_access_jti: String,
    pub family_id: String,
    pub refresh: RefreshTokenRecord,
}

pub async fn grant(storage: &Storage, client: &Client, user: &User, now: i64) -> Grant {
    let code = code(client, user, now);
    storage.grants.insert_code(&code).await.expect("insert the code");
    let family_id = random_token(16);
    let redemption = redemption(Some(family(&family_id, client, user, now)), now);
    assert!(storage.grants.redeem_code(&code.code_hash, now, &redemption).await.expect("redeem the code"));
    let refresh = redemption.family.as_ref().map(|new| new.first_token.clone()).expect("a family");
    Grant { code_hash: code.code_hash, code_access_jti: redemption.access_jti, family_id, refresh }
}

/// Opens all the pool's connections (8, as `fresh_storage` makes it) before
/// a race, so the racing calls do not queue while the pool opens them one by one.
pub async fn open_all_connections(storage: &Storage) {
    let pings: Vec<_> = (0..8)
        .map(|_| {
            let health = storage.health.clone();
            tokio::spawn(async move { health.ping().await })
        })
        .collect();
    for ping in pings {
        ping.await.expect("the task ran").expect("ping");
    }
}

/// The jtis of revoked tokens, as a set (a token may be reported more than once).
pub fn jtis(revoked: &RevokedTokens) -> BTreeSet<String> {
    revoked.iter().map(|(jti, _)| jti.clone()).collect()
}

/// A set of jtis, for comparing with `jtis`.
pub fn set<S: AsRef<str>>(items: &[S]) -> BTreeSet<String> {
    items.iter().map(|jti| jti.as_ref().to_owned()).collect()
}
