//! A client for testing a server over real HTTP: redirects are answers (a `307` is seen, not
//! followed), so are `4xx` and `5xx`, and every response header is kept (several `set-cookie`).
//!
//! ```no_run
//! use clerk_auth_vectors::client::{agent, get};
//!
//! let reply = get(&agent(), "http://127.0.0.1:3000/api/me", &[("authorization", "Bearer x")]);
//! assert_eq!(reply.status, 401);
//! assert_eq!(reply.json()["status"], "signed-out");
//! ```

use std::time::Duration;

/// An agent that follows no redirect, treats every status as an answer, and gives up after 20 s.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .max_redirects(0)
        .max_redirects_will_error(false)
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into()
}

/// A received response.
#[derive(Clone, Debug)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// Every header, in order, names lowercase as received.
    pub headers: Vec<(String, String)>,
    /// The body, as text.
    pub body: String,
}

impl Reply {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_all(name).into_iter().next()
    }

    /// Every value of header `name` (any case), in order.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The body as JSON; `Null` when it is not JSON (so that any field comparison fails).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// Sends `method url` with `headers` (no body) and reads the whole answer.
///
/// # Panics
///
/// When the request cannot be sent or the answer read (a refused connection, a timeout): in a
/// test, that is the failure.
#[allow(clippy::expect_used)] // A test helper: a transport failure is the test's failure.
pub fn request(agent: &ureq::Agent, method: &str, url: &str, headers: &[(&str, &str)]) -> Reply {
    let mut builder = ureq::http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let request = builder.body(()).expect("a valid request");
    let mut response = agent.run(request).expect("the request was answered");
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    Reply {
        status: response.status().as_u16(),
        headers,
        body: response
            .body_mut()
            .read_to_string()
            .expect("the body was read"),
    }
}

/// [`request`] with `GET`.
pub fn get(agent: &ureq::Agent, url: &str, headers: &[(&str, &str)]) -> Reply {
    request(agent, "GET", url, headers)
}
