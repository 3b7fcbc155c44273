//! [`with_auth`]: one wrapper for a whole route tree, so that no reply loses the state's headers.
//!
//! warp gives a filter no storage of its own in the request, and a wrapper cannot hand anything
//! to the filters inside it. So the wrapper opens a slot for its request in a small registry
//! (keyed by the request: method, path, query and headers), the clerk-auth filters inside record
//! the decision they made in the slot of their request, and the wrapper adds that decision's
//! headers to the reply. A slot lives exactly as long as its request is in flight (it is removed
//! when the wrapper's future completes or is dropped). Two identical requests in flight at once
//! (same method, URL and headers: the same credentials) may see each other's decision, which is
//! the decision of the same inputs.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};

use foldhash::fast::RandomState;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

use clerk_auth_core::RequestState;
use warp::http::{HeaderMap, Method};
use warp::reject::Rejection;
use warp::reply::{Reply, Response};
use warp::Filter;

use crate::filter::{request, WarpRequest};
use crate::reply::{recover, AuthState};

/// Wraps a whole route tree: every reply gets the headers of the decision its route's
/// clerk-auth filter made (`set-cookie` from a handshake or a refresh, the debug headers), even
/// one built without [`AuthState::reply`] / [`SignedIn::reply`](crate::SignedIn::reply), and
/// every [`ClerkRejection`](crate::ClerkRejection) the tree leaves unanswered is answered by
/// [`recover`] (`307`, `401`, `403`, `503`, `500`).
///
/// A reply that already carries them (through `.reply(..)`, or answered by `recover` inside the
/// tree) does not get them twice. A route with no clerk-auth filter gets none: nothing was
/// decided for it.
///
/// ```no_run
/// use clerk_auth_core::{Has, Options};
/// use clerk_auth_warp::{auth_state, recover, require, signed_in, with_auth, AuthState, SignedIn};
/// use warp::Filter;
///
/// # async fn run(options: Options) {
/// let me = warp::path!("api" / "me")
///     .and(signed_in(options.clone()))
///     .map(|user: SignedIn| warp::reply::json(&user.auth_json()));
/// let admin = warp::path!("api" / "org-admin")
///     .and(require(options.clone(), Has::role("org:admin")))
///     .map(|user: SignedIn| warp::reply::json(&user.auth_json()));
/// let home = auth_state(options).map(|auth: AuthState| format!("signed in: {}", auth.is_signed_in()));
///
/// // `recover` after the protected routes, so that a refused one is answered there.
/// let routes = with_auth(me.or(admin).recover(recover).or(home));
/// warp::serve(routes).run(([127, 0, 0, 1], 3000)).await;
/// # }
/// ```
pub fn with_auth<F, R>(
    routes: F,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone + Send + Sync + 'static
where
    F: Filter<Extract = (R,), Error = Rejection> + Clone + Send + Sync + 'static,
    R: Reply,
{
    request()
        .map(|request: WarpRequest| Slot::open(Key::from(request)))
        .and(routes)
        .map(|slot: Open, reply: R| {
            let mut response = reply.into_response();
            if response.extensions().get::<HeadersApplied>().is_none() {
                if let Some(state) = slot.state() {
                    state.apply_headers(response.headers_mut());
                }
            }
            response
        })
        .recover(recover)
        .unify()
}

/// Marks a response that already carries the state's headers, so that [`with_auth`] does not
/// add them again.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HeadersApplied;

/// The decision recorded for one wrapped request.
#[derive(Debug)]
pub(crate) struct Slot {
    id: u64,
    key: Key,
    state: Mutex<Option<Arc<RequestState>>>,
}

/// What identifies a request to its slot.
#[derive(Debug, PartialEq, Eq)]
struct Key {
    method: Method,
    path: String,
    query: Option<String>,
    headers: HeaderMap,
}

impl From<WarpRequest> for Key {
    fn from(request: WarpRequest) -> Self {
        Self {
            method: request.method,
            path: request.path.as_str().to_owned(),
            query: request.query,
            headers: request.headers,
        }
    }
}

impl Key {
    fn hash(&self) -> u64 {
        hash_parts(
            &self.method,
            &self.path,
            self.query.as_deref(),
            &self.headers,
        )
    }

    /// Whether `request` is this key's request (compared in place: nothing is copied).
    fn matches(&self, request: &WarpRequest) -> bool {
        self.method == request.method
            && self.path == request.path.as_str()
            && self.query == request.query
            && self.headers == request.headers
    }
}

/// The hash of a request's method, path, query and headers, with the registry's seeded hasher
/// (foldhash: a bearer token is a kilobyte hashed twice per request).
fn hash_parts(method: &Method, path: &str, query: Option<&str>, headers: &HeaderMap) -> u64 {
    let mut hasher = REGISTRY.hasher.build_hasher();
    method.hash(&mut hasher);
    path.hash(&mut hasher);
    query.hash(&mut hasher);
    for (name, value) in headers {
        name.hash(&mut hasher);
        value.as_bytes().hash(&mut hasher);
    }
    hasher.finish()
}

/// The open slots by the hash of their key.
struct Registry {
    hasher: RandomState,
    slots: Mutex<HashMap<u64, Vec<Arc<Slot>>>>,
    /// How many slots are open: the filters skip the registry when none is.
    open: AtomicUsize,
    next_id: AtomicU64,
}

static REGISTRY: LazyLock<Registry> = LazyLock::new(|| Registry {
    hasher: RandomState::default(),
    slots: Mutex::new(HashMap::new()),
    open: AtomicUsize::new(0),
    next_id: AtomicU64::new(0),
});

fn slots() -> MutexGuard<'static, HashMap<u64, Vec<Arc<Slot>>>> {
    match REGISTRY.slots.lock() {
        Ok(slots) => slots,
        Err(poisoned) => poisoned.into_inner(),
    }
}

impl Slot {
    /// Opens the slot of a wrapped request; it is closed when the returned value is dropped.
    fn open(key: Key) -> Open {
        let hash = key.hash();
        let slot = Arc::new(Slot {
            id: REGISTRY.next_id.fetch_add(1, Ordering::Relaxed),
            key,
            state: Mutex::new(None),
        });
        slots().entry(hash).or_default().push(Arc::clone(&slot));
        REGISTRY.open.fetch_add(1, Ordering::AcqRel);
        Open { hash, slot }
    }

    /// The slot of `request` when a [`with_auth`] wraps it: the newest of its key with no
    /// decision yet, else the newest of its key.
    pub(crate) fn find(request: &WarpRequest) -> Option<Arc<Slot>> {
        if REGISTRY.open.load(Ordering::Acquire) == 0 {
            return None;
        }
        let hash = hash_parts(
            &request.method,
            request.path.as_str(),
            request.query.as_deref(),
            &request.headers,
        );
        Self::find_by(hash, |key| key.matches(request))
    }

    /// The newest open slot of hash `hash` whose key `is_it` accepts and that has no decision
    /// yet, else the newest it accepts.
    fn find_by(hash: u64, is_it: impl Fn(&Key) -> bool) -> Option<Arc<Slot>> {
        let slots = slots();
        let candidates = slots.get(&hash)?;
        let mut same = candidates.iter().rev().filter(|slot| is_it(&slot.key));
        let newest = same.clone().next();
        same.find(|slot| slot.lock().is_none())
            .or(newest)
            .map(Arc::clone)
    }

    /// Records the decision a filter made for this request (the last one counts: it is the one
    /// whose route answers).
    pub(crate) fn record(&self, state: &AuthState) {
        *self.lock() = Some(Arc::clone(&state.0));
    }

    fn lock(&self) -> MutexGuard<'_, Option<Arc<RequestState>>> {
        match self.state.lock() {
            Ok(state) => state,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

/// An open slot, owned by the wrapper's request; closes it when dropped.
pub(crate) struct Open {
    hash: u64,
    slot: Arc<Slot>,
}

impl Open {
    fn state(&self) -> Option<Arc<RequestState>> {
        self.slot.lock().clone()
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        let mut slots = slots();
        if let Some(list) = slots.get_mut(&self.hash) {
            list.retain(|slot| slot.id != self.slot.id);
            if list.is_empty() {
                slots.remove(&self.hash);
            }
        }
        REGISTRY.open.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use clerk_auth_core::testing::TestRequest;
    use clerk_auth_core::{try_authenticate_request, Options};

    use super::*;

    fn key(query: Option<&str>) -> Key {
        let mut headers = HeaderMap::new();
        headers.insert("host", "wrap.example.com".parse().unwrap());
        Key {
            method: Method::GET,
            path: "/wrap-unit".to_owned(),
            query: query.map(str::to_owned),
            headers,
        }
    }

    fn find_key(key: &Key) -> Option<Arc<Slot>> {
        Slot::find_by(key.hash(), |k| k == key)
    }

    fn count(key: &Key) -> usize {
        slots().get(&key.hash()).map_or(0, Vec::len)
    }

    #[test]
    fn a_filter_finds_the_newest_slot_of_its_request_without_a_decision() {
        let first = Slot::open(key(None));
        let second = Slot::open(key(None));
        assert_eq!(count(&key(None)), 2);
        assert_eq!(find_key(&key(None)).unwrap().id, second.slot.id);

        let options = Options::builder()
            .publishable_key("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k")
            .secret_key("sk_live_wrap_unit")
            .build()
            .unwrap();
        let state = try_authenticate_request(&TestRequest::get("/").build(), &options).unwrap();
        second.slot.record(&AuthState(Arc::new(state)));
        assert!(second.state().is_some());
        assert!(first.state().is_none());
        assert_eq!(find_key(&key(None)).unwrap().id, first.slot.id);
        // Another query, another request.
        assert!(find_key(&key(Some("x=1"))).is_none());

        drop(second);
        assert_eq!(count(&key(None)), 1);
        drop(first);
        assert_eq!(count(&key(None)), 0);
        assert!(find_key(&key(None)).is_none());
    }
}
