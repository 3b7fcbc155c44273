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

    /// Checks that this reply carries exactly the headers of `state` (every value of each, in
    /// order) and no other header but the framework's framing (`content-length`, `date`,
    /// `transfer-encoding`): what an adapter answers a handshake with. `Err` says what differs.
    pub fn only_state_headers(&self, state: &clerk_auth_core::RequestState) -> Result<(), String> {
        const FRAMING: [&str; 3] = ["content-length", "date", "transfer-encoding"];
        let mut problems = Vec::new();
        let mut names: Vec<&str> = state.header_bytes().map(|(name, _)| name).collect();
        names.dedup();
        for name in &names {
            let want: Vec<String> = state
                .header_bytes()
                .filter(|(n, _)| n == name)
                .map(|(_, value)| String::from_utf8_lossy(value).into_owned())
                .collect();
            let got = self.header_all(name);
            if got != want {
                problems.push(format!("{name}: got {got:?}, want {want:?}"));
            }
        }
        for (name, _) in &self.headers {
            let name = name.to_ascii_lowercase();
            if !names.contains(&name.as_str()) && !FRAMING.contains(&name.as_str()) {
                problems.push(format!("unexpected header {name}"));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
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
pub fn request(agent: &ureq::Agent, method: &str, url: &str, headers: &[(&str, &str)]) -> Reply {
    send(agent, method, url, headers, ())
}

/// [`request`] with `GET`.
pub fn get(agent: &ureq::Agent, url: &str, headers: &[(&str, &str)]) -> Reply {
    request(agent, "GET", url, headers)
}

/// Sends `POST url` with `headers` and `body` (with its `content-length`) and reads the whole
/// answer.
///
/// # Panics
///
/// As [`request`].
pub fn post(agent: &ureq::Agent, url: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    send(agent, "POST", url, headers, body)
}

/// Like [`post`], with the body sent `transfer-encoding: chunked` and no `content-length`: the
/// server learns the body's length only by reading it.
///
/// # Panics
///
/// As [`request`].
pub fn post_chunked(
    agent: &ureq::Agent,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let mut reader = body;
    send(
        agent,
        "POST",
        url,
        headers,
        ureq::SendBody::from_reader(&mut reader),
    )
}

#[allow(clippy::expect_used)] // A test helper: a transport failure is the test's failure.
fn send(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: impl ureq::AsSendBody,
) -> Reply {
    let mut builder = ureq::http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let request = builder.body(body).expect("a valid request");
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use clerk_auth_core::testing::{KeyPair, TestRequest};
    use clerk_auth_core::{try_authenticate_request, Options};

    use super::Reply;

    #[test]
    fn only_state_headers_sees_a_missing_and_an_extra_header() {
        let options = Options::builder()
            .publishable_key("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k")
            .secret_key("sk_live_vectors_client")
            .jwt_key(KeyPair::shared().public_pem())
            .build()
            .unwrap();
        let request = TestRequest::get("/")
            .header("host", "app.example.com")
            .header("cookie", "__client_uat=1")
            .header("sec-fetch-dest", "document")
            .build();
        let state = try_authenticate_request(&request, &options).unwrap();
        let mut headers: Vec<(String, String)> = state
            .header_bytes()
            .map(|(n, v)| (n.to_owned(), String::from_utf8_lossy(v).into_owned()))
            .collect();
        assert!(headers.len() >= 4, "{headers:?}");
        headers.push(("Date".to_owned(), "today".to_owned()));
        let reply = |headers: Vec<(String, String)>| Reply {
            status: 307,
            headers,
            body: String::new(),
        };
        assert_eq!(reply(headers.clone()).only_state_headers(&state), Ok(()));

        let mut extra = headers.clone();
        extra.push(("content-type".to_owned(), "text/plain".to_owned()));
        let problem = reply(extra).only_state_headers(&state).unwrap_err();
        assert_eq!(problem, "unexpected header content-type");

        let missing: Vec<_> = headers
            .into_iter()
            .filter(|(n, _)| n != "location")
            .collect();
        let problem = reply(missing).only_state_headers(&state).unwrap_err();
        assert!(problem.starts_with("location: got []"), "{problem}");
    }
}
