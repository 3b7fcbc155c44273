//! The request view: `TestRequest`, `http::Request`, object safety.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::borrow::Cow;

use clerk_auth_core::request::{RequestView, MAX_COOKIE_HEADER_LEN};

use clerk_auth_core::testing::TestRequest;

fn collect(req: &dyn RequestView) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    req.visit_headers(&mut |n, v| out.push((n.to_owned(), v.to_vec())));
    out
}

#[test]
fn test_request_builder() {
    let req = TestRequest::get("https://example.com/path?x=1")
        .header("Authorization", "Bearer x")
        .cookie("__session", "abc")
        .cookie("__client_uat", "0")
        .build();
    assert_eq!(req.method(), "GET");
    assert_eq!(req.url(), Cow::Borrowed("https://example.com/path?x=1"));
    assert_eq!(req.header("authorization"), Some(&b"Bearer x"[..]));
    assert_eq!(
        req.header("cookie"),
        Some(&b"__session=abc; __client_uat=0"[..])
    );
    assert_eq!(req.header("x-missing"), None);
    assert_eq!(collect(&req).len(), 2);
}

#[test]
fn every_verb() {
    for (b, m) in [
        (TestRequest::get("/"), "GET"),
        (TestRequest::head("/"), "HEAD"),
        (TestRequest::post("/"), "POST"),
        (TestRequest::put("/"), "PUT"),
        (TestRequest::patch("/"), "PATCH"),
        (TestRequest::delete("/"), "DELETE"),
        (TestRequest::options("/"), "OPTIONS"),
        (TestRequest::new("PROPFIND", "/"), "PROPFIND"),
    ] {
        assert_eq!(b.build().method(), m);
    }
}

#[test]
fn repeated_headers_and_raw_bytes() {
    let req = TestRequest::post("/")
        .header("x-a", "1")
        .header("X-A", b"\xff\x00")
        .bearer("tok")
        .build();
    assert_eq!(req.header("x-a"), Some(&b"1"[..]));
    let all: Vec<&[u8]> = req.header_all("x-a").collect();
    assert_eq!(all, vec![&b"1"[..], &b"\xff\x00"[..]]);
    assert_eq!(req.header("authorization"), Some(&b"Bearer tok"[..]));
}

#[test]
fn http_request_view() {
    let req = http::Request::builder()
        .method("POST")
        .uri("/a/b?c=d")
        .header("cookie", "a=1")
        .header("cookie", "b=2")
        .header("x-bin", http::HeaderValue::from_bytes(b"\xfe").unwrap())
        .body(Vec::<u8>::new())
        .unwrap();
    assert_eq!(RequestView::method(&req), "POST");
    assert_eq!(req.url(), "/a/b?c=d");
    assert!(matches!(req.url(), Cow::Borrowed(_)));
    assert_eq!(req.header("cookie"), Some(&b"a=1"[..]));
    assert_eq!(req.header_all("cookie").count(), 2);
    assert_eq!(req.header("x-bin"), Some(&b"\xfe"[..]));
    assert_eq!(collect(&req).len(), 3);

    let abs = http::Request::builder()
        .uri("https://example.com:8443/x?y")
        .body(())
        .unwrap();
    assert_eq!(abs.url(), "https://example.com:8443/x?y");
}

#[test]
fn object_safe_and_usable_through_references() {
    let req = TestRequest::get("/").header("host", "example.com").build();
    let boxed: Box<dyn RequestView> = Box::new(req.clone());
    assert_eq!(boxed.header("host"), Some(&b"example.com"[..]));
    let by_ref: &dyn RequestView = &&req;
    assert_eq!(by_ref.method(), "GET");
}

#[test]
fn cookie_limit_is_64_kib() {
    assert_eq!(MAX_COOKIE_HEADER_LEN, 65_536);
}
