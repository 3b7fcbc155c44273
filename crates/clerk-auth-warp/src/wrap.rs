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
use std::hash::{BuildHasher, Hash, Hasher, RandomState};
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
        .map(|request: WarpRequest| Slot::open(Key::of(&request)))
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

impl Key {
    fn of(request: &WarpRequest) -> Self {
        Self {
            method: request.method.clone(),
            path: request.path.as_str().to_owned(),
            query: request.query.clone(),
            headers: request.headers.clone(),
        }
    }

    fn hash(&self) -> u64 {
        let mut hasher = REGISTRY.hasher.build_hasher();
        self.method.hash(&mut hasher);
        self.path.hash(&mut hasher);
        self.query.hash(&mut hasher);
        for (name, value) in &self.headers {
            name.hash(&mut hasher);
            value.as_bytes().hash(&mut hasher);
        }
        hasher.finish()
    }
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
    hasher: RandomState::new(),
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
        Self::find_key(&Key::of(request))
    }

    fn find_key(key: &Key) -> Option<Arc<Slot>> {
        let slots = slots();
        let candidates = slots.get(&key.hash())?;
        let mut same = candidates.iter().rev().filter(|slot| slot.key == *key);
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

    fn count(key: &Key) -> usize {
        slots().get(&key.hash()).map_or(0, Vec::len)
    }

    #[test]
    fn a_filter_finds_the_newest_slot_of_its_request_without_a_decision() {
        let first = Slot::open(key(None));
        let second = Slot::open(key(None));
        assert_eq!(count(&key(None)), 2);
        assert_eq!(Slot::find_key(&key(None)).unwrap().id, second.slot.id);

        let options = Options::builder()
            .publishable_key("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k")
            .secret_key("sk_live_wrap_unit")
            .build()
            .unwrap();
        let state = try_authenticate_request(&TestRequest::get("/").build(), &options).unwrap();
        second.slot.record(&AuthState(Arc::new(state)));
        assert!(second.state().is_some());
        assert!(first.state().is_none());
        assert_eq!(Slot::find_key(&key(None)).unwrap().id, first.slot.id);
        // Another query, another request.
        assert!(Slot::find_key(&key(Some("x=1"))).is_none());

        drop(second);
        assert_eq!(count(&key(None)), 1);
        drop(first);
        assert_eq!(count(&key(None)), 0);
        assert!(Slot::find_key(&key(None)).is_none());
    }
}
