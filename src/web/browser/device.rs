//! Known devices: a browser that has signed in to an account before carries
//! a long-lived cookie saying so (sealed under the browser key: no one can
//! forge one or read which account it names). Sign-in throttling gives such
//! a browser its own small budget instead of the locks that strangers'
//! failures trigger, so an attacker guessing at an account never locks its
//! owner out of the browsers they use (`protocol::throttle`).

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::cookies::{browser_cookie, cookie_name, read_cookie};
use crate::domain::UserId;
use crate::domain::secret::random_token;
use crate::web::AppState;

pub const DEVICE_COOKIE: &str = "castellan_device";
const SEAL_CONTEXT: &[u8] = b"castellan known device v1";
/// The longest lifetime browsers keep a cookie for (Chrome caps at 400 days).
const LIFETIME_SECS: i64 = 400 * 86_400;
/// Longer cookies are not ours.
const MAX_COOKIE_LEN: usize = 512;

#[derive(Serialize, Deserialize)]
struct SealedDevice {
    device: String,
    user: UserId,
    issued_at: i64,
}

/// A browser that has signed in as `user_id` before.
#[derive(Debug, Clone)]
pub struct KnownDevice {
    pub id: String,
    pub user_id: UserId,
}

/// The device the request's cookie names, if it is one of ours and current.
pub fn known_device(state: &AppState, headers: &HeaderMap) -> Option<KnownDevice> {
    let value = read_cookie(headers, &cookie_name(&state.settings.issuer, DEVICE_COOKIE))?;
    if value.len() > MAX_COOKIE_LEN {
        return None;
    }
    let sealed = URL_SAFE_NO_PAD.decode(value).ok()?;
    let plaintext = state.keys.browser_sealing_key().open(SEAL_CONTEXT, &sealed)?;
    let device: SealedDevice = serde_json::from_slice(&plaintext).ok()?;
    let age = state.clock.now() - device.issued_at;
    (0..LIFETIME_SECS).contains(&age).then_some(KnownDevice { id: device.device, user_id: device.user })
}

/// Marks the browser as a known device of `user_id` (renewing the cookie;
/// the device keeps its id if it was already this user's).
pub fn remember(state: &AppState, response: &mut Response, user_id: &UserId, known: Option<&KnownDevice>) {
    let id = known.filter(|d| &d.user_id == user_id).map_or_else(|| random_token(16), |d| d.id.clone());
    let device = SealedDevice { device: id, user: user_id.clone(), issued_at: state.clock.now() };
    let Ok(plaintext) = serde_json::to_vec(&device) else { return };
    let Ok(sealed) = state.keys.browser_sealing_key().seal(SEAL_CONTEXT, &plaintext) else { return };
    let mut cookie = browser_cookie(&state.settings.issuer, DEVICE_COOKIE, URL_SAFE_NO_PAD.encode(sealed));
    // Unlike the session, this one must outlive the browser session.
    cookie.set_max_age(tower_sessions::cookie::time::Duration::seconds(LIFETIME_SECS));
    if let Ok(value) = HeaderValue::try_from(cookie.to_string()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}
