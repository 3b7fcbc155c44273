//! The headers a state adds to a response: Clerk's debug headers (`x-clerk-auth-*`) and the
//! `Cache-Control` of a response that sets a cookie ([`RequestState::cache_control`]).

use http::header::{HeaderMap, HeaderName, HeaderValue};

use super::{AuthStatus, RequestState};

/// The `Cache-Control` of a response carrying a state's `set-cookie` (see
/// [`RequestState::cache_control`]).
pub const PRIVATE_NO_STORE: &str = "private, no-store";

/// `x-clerk-auth-status`
pub const X_CLERK_AUTH_STATUS: HeaderName = HeaderName::from_static("x-clerk-auth-status");
/// `x-clerk-auth-reason`
pub const X_CLERK_AUTH_REASON: HeaderName = HeaderName::from_static("x-clerk-auth-reason");
/// `x-clerk-auth-message`
pub const X_CLERK_AUTH_MESSAGE: HeaderName = HeaderName::from_static("x-clerk-auth-message");

impl RequestState {
    /// Adds Clerk's debug headers (`x-clerk-auth-status`, `-reason`, `-message`) to a state that is
    /// not signed-in. Values that are not valid header bytes are skipped, as Clerk does.
    pub(crate) fn with_debug_headers(mut self) -> Self {
        if self.status == AuthStatus::SignedIn {
            return self;
        }
        if let Some(message) = self.message.as_deref().filter(|m| !m.is_empty()) {
            if let Ok(v) = HeaderValue::from_str(message) {
                self.headers.insert(X_CLERK_AUTH_MESSAGE, v);
            }
        }
        if let Some(reason) = &self.reason {
            if let Ok(v) = HeaderValue::from_str(&reason.as_str()) {
                self.headers.insert(X_CLERK_AUTH_REASON, v);
            }
        }
        self.headers.insert(
            X_CLERK_AUTH_STATUS,
            HeaderValue::from_static(self.status.as_str()),
        );
        self
    }

    /// Adds the state to a response's `http` headers (axum, warp, hyper): appends every header of
    /// the state (several `set-cookie` stay several), then sets `Cache-Control: private,
    /// no-store` when [`cache_control`](Self::cache_control) asks for it.
    pub fn apply_headers(&self, to: &mut HeaderMap) {
        for (name, value) in &self.headers {
            to.append(name.clone(), value.clone());
        }
        let current = to
            .get_all(http::header::CACHE_CONTROL)
            .iter()
            .map(HeaderValue::as_bytes);
        if let Some(value) = self.cache_control(current) {
            to.insert(http::header::CACHE_CONTROL, HeaderValue::from_static(value));
        }
    }

    /// The state's headers as name and value bytes, in order (several `set-cookie` possible),
    /// for a framework whose header types are not `http` 1's (actix-web's `http` 0.2, Rocket's
    /// own): what [`headers`](Self::headers) holds, without a conversion per adapter.
    ///
    /// ```
    /// # use clerk_auth_core::RequestState;
    /// # fn f(state: &RequestState, out: &mut Vec<(String, Vec<u8>)>) {
    /// for (name, value) in state.header_bytes() {
    ///     out.push((name.to_owned(), value.to_vec())); // e.g. `response.append_header(…)`
    /// }
    /// # }
    /// ```
    pub fn header_bytes(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_bytes()))
    }

    /// The `Cache-Control` a response that carries this state's headers must get, given the
    /// values it has (the application's and the state's, in any order): `None` when they may
    /// stay, `Some("private, no-store")` ([`PRIVATE_NO_STORE`]) to replace every one of them.
    ///
    /// A state that sets a cookie (a refresh, a handshake) makes the response personal: no shared
    /// cache may store it and hand one user's session cookie to another. So when the state has a
    /// `set-cookie`, a response whose `Cache-Control` does not already say `no-store` (absent,
    /// `public, max-age=60`, `private`, …) gets `private, no-store`; one that says `no-store` is
    /// kept as the application set it. A state without `set-cookie` changes nothing. Every
    /// adapter applies this after copying the state's headers onto a response.
    ///
    /// ```
    /// # use clerk_auth_core::{RequestState, state::PRIVATE_NO_STORE};
    /// # fn f(state: &RequestState) {
    /// let app: &[&[u8]] = &[b"public, max-age=60"];
    /// if let Some(value) = state.cache_control(app.iter().copied()) {
    ///     assert_eq!(value, PRIVATE_NO_STORE); // replaces the application's value
    /// }
    /// # }
    /// ```
    pub fn cache_control<'a>(
        &self,
        current: impl IntoIterator<Item = &'a [u8]>,
    ) -> Option<&'static str> {
        if !self.headers.contains_key(http::header::SET_COOKIE) {
            return None;
        }
        let no_store = current.into_iter().any(|value| {
            value.split(|b| *b == b',').any(|directive| {
                let name = directive.split(|b| *b == b'=').next().unwrap_or_default();
                name.trim_ascii().eq_ignore_ascii_case(b"no-store")
            })
        });
        (!no_store).then_some(PRIVATE_NO_STORE)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use http::header::{HeaderMap, HeaderValue, SET_COOKIE};

    use super::PRIVATE_NO_STORE;
    use crate::state::fixtures::handshake;
    use crate::state::{AuthErrorReason, Reason, RequestState};

    #[test]
    fn applied_headers_keep_every_value_and_make_the_response_private() {
        let mut cookies = HeaderMap::new();
        cookies.append(SET_COOKIE, HeaderValue::from_static("a=1"));
        cookies.append(SET_COOKIE, HeaderValue::from_static("b=2"));
        let state = RequestState::handshake(
            Reason::Auth(AuthErrorReason::DevBrowserMissing),
            String::new(),
            cookies,
        );
        let mut to = HeaderMap::new();
        to.append(SET_COOKIE, HeaderValue::from_static("c=3"));
        to.insert(
            http::header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=60"),
        );
        state.apply_headers(&mut to);
        let all: Vec<_> = to.get_all(SET_COOKIE).iter().collect();
        assert_eq!(all, ["c=3", "a=1", "b=2"]);
        assert_eq!(to[http::header::CACHE_CONTROL], PRIVATE_NO_STORE);
        let mut stored = HeaderMap::new();
        stored.insert(
            http::header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        );
        state.apply_headers(&mut stored);
        assert_eq!(stored[http::header::CACHE_CONTROL], "no-store");
    }

    #[test]
    fn a_state_that_sets_cookies_makes_the_response_private_and_not_stored() {
        let mut cookies = HeaderMap::new();
        cookies.append(SET_COOKIE, HeaderValue::from_static("__session=t; Path=/"));
        let setting = RequestState::handshake(
            Reason::Auth(AuthErrorReason::DevBrowserMissing),
            String::new(),
            cookies,
        );
        let none: [&[u8]; 0] = [];
        assert_eq!(setting.cache_control(none), Some(PRIVATE_NO_STORE));
        for replaced in [
            &b"public, max-age=60"[..],
            b"private",
            b"max-age=0",
            b"no-cache",
            b"no-storey",
            b"x-no-store",
        ] {
            assert_eq!(
                setting.cache_control([replaced]),
                Some(PRIVATE_NO_STORE),
                "{}",
                String::from_utf8_lossy(replaced)
            );
        }
        for kept in [
            &b"no-store"[..],
            b"NO-STORE",
            b"private, no-store",
            b"public,no-store , max-age=0",
            b" no-store=1",
        ] {
            assert_eq!(
                setting.cache_control([kept]),
                None,
                "{}",
                String::from_utf8_lossy(kept)
            );
        }
        // Several values: one saying `no-store` is enough.
        assert_eq!(setting.cache_control([&b"public"[..], b"no-store"]), None);
        // Non-UTF-8 bytes are no directive, never a panic.
        assert_eq!(
            setting.cache_control([&b"\xffno-store\xfe"[..]]),
            Some(PRIVATE_NO_STORE)
        );

        // A state that sets no cookie leaves the response's caching to the application.
        let quiet = handshake(false).into_api();
        assert!(!quiet.headers().contains_key(SET_COOKIE));
        assert_eq!(quiet.cache_control([&b"public, max-age=60"[..]]), None);
        assert_eq!(quiet.cache_control(none), None);
    }
}
