//! Access tokens: self-contained JWTs per RFC 9068, so issuing one writes
//! nothing and a resource server can check one with the JWKS alone.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Validation, decode, decode_header};
use serde::{Deserialize, Serialize};

use crate::domain::ProtocolError;
use crate::domain::secret::random_token;
use crate::domain::{AudienceClaim, Client, ClientId, ResourceSet, ScopeSet, Subject, User};
use crate::domain::{KeyAlgorithm, KeyMaterial};
use crate::protocol::audience::resources_still_allowed;
use crate::protocol::scope_policy::ScopePolicy;
use crate::protocol::{Context, Settings};

/// RFC 9068 §2.1: the `typ` header of an access token.
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";
/// Longer than any token we issue; anything larger is not ours.
const MAX_TOKEN_LEN: usize = 8 * 1024;

/// RFC 9068 §2.2 claims.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    pub iss: String,
    pub sub: String,
    /// The resources the token is for (RFC 8707), else the issuer.
    pub aud: AudienceClaim,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub client_id: String,
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
}

impl AccessTokenClaims {
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.split(' ').filter(|s| !s.is_empty())
    }

    /// The client itself or a user; `None` for a `sub` that is neither.
    pub fn subject(&self) -> Option<Subject> {
        Subject::of(&self.sub, &self.client_id)
    }
}

/// A token just issued, and how long it lives.
pub struct IssuedToken {
    pub token: String,
    pub expires_in: i64,
    pub claims: AccessTokenClaims,
}

/// Signs `claims` as a compact JWS with header `{alg, typ, kid}`.
pub fn sign_jwt(key: &KeyMaterial, typ: &str, claims: &impl Serialize) -> Result<String, ProtocolError> {
    let header = serde_json::json!({"alg": key.algorithm.name(), "typ": typ, "kid": key.kid});
    let payload = serde_json::to_vec(claims).map_err(|e| ProtocolError::internal(&e))?;
    let mut jwt = URL_SAFE_NO_PAD.encode(header.to_string());
    jwt.push('.');
    jwt.push_str(&URL_SAFE_NO_PAD.encode(payload));
    let signature = key.sign(jwt.as_bytes()).map_err(|e| ProtocolError::internal(&e))?;
    jwt.push('.');
    jwt.push_str(&URL_SAFE_NO_PAD.encode(signature));
    Ok(jwt)
}

/// The issuer's own audience (referenced, so issuing allocates nothing for it).
static NO_RESOURCES: ResourceSet = ResourceSet::NONE;

/// What an access token is issued for: the shared issuance step of every
/// grant (node-oidc-provider's `grant_common`). Audiences (RFC 8707), a
/// `cnf` binding (RFC 9449) and an `act` claim (RFC 8693) join it here.
pub struct IssueSpec<'a> {
    pub subject: Subject,
    pub client: &'a ClientId,
    pub scope: &'a ScopeSet,
    /// The user's roles, for a user's token.
    pub roles: Option<Vec<String>>,
    /// When the user signed in (RFC 9068 §2.2.1), for a user's token.
    pub auth_time: Option<i64>,
    /// The resources the token is for (RFC 8707); none: the issuer.
    pub resources: &'a ResourceSet,
}

impl<'a> IssueSpec<'a> {
    /// RFC 9068 §2.2: with no resource owner, `sub` names the client.
    pub fn for_client(client: &'a ClientId, scope: &'a ScopeSet) -> Self {
        Self {
            subject: Subject::Client(client.clone()),
            client,
            scope,
            roles: None,
            auth_time: None,
            resources: &NO_RESOURCES,
        }
    }

    /// A user's token, through `client`: the user is the subject.
    pub fn for_user(client: &'a ClientId, user: &User, scope: &'a ScopeSet, auth_time: i64) -> Self {
        Self {
            subject: Subject::User(user.id.clone()),
            client,
            scope,
            roles: (!user.roles.is_empty()).then(|| user.roles.clone()),
            auth_time: Some(auth_time),
            resources: &NO_RESOURCES,
        }
    }

    /// The same token, for `resources` (RFC 8707); none keeps the issuer.
    pub fn for_resources(self, resources: &'a ResourceSet) -> Self {
        Self { resources, ..self }
    }
}

/// The `aud` of a token for `resources`: the issuer when there are none;
/// else them, and for an OpenID token the userinfo endpoint too (the app
/// calls userinfo with it). Never the issuer beside resources: a server that
/// accepts the issuer's own audience must not take a token meant for another.
fn audience(settings: &Settings, resources: &ResourceSet, scope: &ScopeSet) -> AudienceClaim {
    if resources.is_empty() {
        return AudienceClaim::of(vec![settings.issuer.to_string()]);
    }
    let mut audiences: Vec<String> = resources.iter().map(|r| r.as_str().to_owned()).collect();
    if scope.contains("openid") {
        audiences.push(settings.userinfo_audience.clone());
    }
    AudienceClaim::of(audiences)
}

/// Signs a new access token as `spec` says. Writes nothing.
pub fn issue(ctx: &Context, spec: IssueSpec<'_>) -> Result<IssuedToken, ProtocolError> {
    let now = ctx.clock.now();
    let ttl = ctx.settings.access_token_ttl.as_secs() as i64;
    let claims = AccessTokenClaims {
        iss: ctx.settings.issuer.to_string(),
        sub: spec.subject.as_str().to_owned(),
        aud: audience(&ctx.settings, spec.resources, spec.scope),
        exp: now + ttl,
        iat: now,
        jti: random_token(16),
        client_id: spec.client.as_str().to_owned(),
        scope: spec.scope.to_string(),
        auth_time: spec.auth_time,
        roles: spec.roles,
    };
    let key = ctx
        .keys
        .signing_key(KeyAlgorithm::ACCESS_TOKEN)
        .ok_or_else(|| ProtocolError::internal(&crate::domain::KeyError::Signing))?;
    let token = sign_jwt(&key, ACCESS_TOKEN_TYPE, &claims)?;
    tracing::debug!(client_id = %spec.client, user = spec.subject.is_user(), "access token issued");
    Ok(IssuedToken { token, expires_in: ttl, claims })
}

/// Checks signature, type, issuer and expiry (the latter at the first
/// check only: `validate` checks it again). Revocation and the client's
/// existence are checked by `validate`.
pub async fn verify(ctx: &Context, token: &str) -> Option<Arc<AccessTokenClaims>> {
    if token.len() > MAX_TOKEN_LEN {
        return None;
    }
    if let Some(verified) = ctx.verified_tokens.get(token)
        && ctx.keys.publishes(&verified.key.kid)
    {
        return Some(verified.claims);
    }
    let (claims, key) = verify_signature(ctx, token).await?;
    let claims = Arc::new(claims);
    ctx.verified_tokens.insert(token, claims.clone(), key, ctx.clock.now());
    Some(claims)
}

async fn verify_signature(ctx: &Context, token: &str) -> Option<(AccessTokenClaims, Arc<KeyMaterial>)> {
    let header = decode_header(token).ok()?;
    // RFC 9068 §4: the resource server MUST check typ is at+jwt.
    let typ = header.typ.as_deref()?;
    if !typ.eq_ignore_ascii_case(ACCESS_TOKEN_TYPE) && !typ.eq_ignore_ascii_case("application/at+jwt") {
        return None;
    }
    let key = ctx.keys.verification_key(header.kid.as_deref()?).await?;
    // Only the key's own algorithm: no `none`, no algorithm confusion.
    let mut validation = Validation::new(key.algorithm.jwt_algorithm());
    validation.set_issuer(&[ctx.settings.issuer.as_str()]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "sub"]);
    validation.validate_aud = false;
    // Expiry against our clock, not the library's reading of the system's.
    validation.validate_exp = false;
    let claims = decode::<AccessTokenClaims>(token, &key.decoding_key, &validation).ok()?.claims;
    // As jsonwebtoken with no leeway: good through the second of `exp`.
    (claims.exp >= ctx.clock.now()).then_some((claims, key))
}

/// Whether `token` is an access token in good standing: `verify`, and not
/// revoked, and its client still registered.
pub async fn validate(ctx: &Context, token: &str) -> Result<Option<Arc<AccessTokenClaims>>, ProtocolError> {
    let Some(claims) = verify(ctx, token).await else { return Ok(None) };
    if claims.exp <= ctx.clock.now() || ctx.revocations.is_revoked(&claims.jti) {
        return Ok(None);
    }
    let Ok(client_id) = ClientId::parse(&claims.client_id) else { return Ok(None) };
    let Some(client) = ctx.clients.get_registered(&client_id).await? else { return Ok(None) };
    let granted =
        still_granted(&claims, &client) && resources_still_allowed(&claims.aud, &client, &ctx.settings);
    Ok(granted.then_some(claims))
}

/// Clocks of instances may differ by this much (client creation vs token issue).
const CLOCK_SKEW_SECS: i64 = 30;

/// Whether the client, as registered now, would still be given this token:
/// a change to the client (scope narrowed, grant removed) cuts the tokens it
/// already holds, and a token older than its client belongs to a deleted
/// namesake.
fn still_granted(claims: &AccessTokenClaims, client: &Client) -> bool {
    if claims.iat + CLOCK_SKEW_SECS < client.issued_at {
        return false;
    }
    let Some(subject) = claims.subject() else { return false };
    ScopePolicy::for_subject(client, &subject).is_some_and(|policy| claims.scopes().all(|s| policy.allows(s)))
}
