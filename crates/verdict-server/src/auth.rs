//! Authentication as the Octane clients do it (protocol §2): sign-in with a
//! user or an API key, the `LWSSO_COOKIE_KEY` session cookie, Basic and
//! Bearer credentials on any request; and authorisation per workspace.

pub mod access;
pub mod credentials;
pub mod principal;
pub mod secrets;
pub mod sign_in;
pub mod throttle;
pub mod tokens;
