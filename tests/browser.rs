//! The browser adapters in headless Chromium, against a stubbed `window.fetch` that records
//! every request and answers from a script. Time logic is the native scenario tests' job; these
//! tests check what only a browser can: events, URLs, requests, bodies, promises.
#![cfg(target_arch = "wasm32")]

use authpulse::AuthClient;
use js_sys::{Function, Promise, Reflect, JSON};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use web_sys::Response;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
export class FetchStub {
  constructor() {
    this.calls = [];
    this.queues = new Map();
    this.gate = null;
    this.original = globalThis.fetch;
    globalThis.fetch = (input, init) => this.handle(input, init);
  }
  restore() { globalThis.fetch = this.original; }
  // The next request to `path` gets this answer; unscripted requests get 200 "ok".
  respond(path, status, body, wwwAuthenticate) {
    if (!this.queues.has(path)) this.queues.set(path, []);
    this.queues.get(path).push({ status, body, wwwAuthenticate });
  }
  // Requests wait until release() (or until aborted).
  hold() { this.gate = new Promise((resolve) => { this.release = resolve; }); }
  async handle(input, init) {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const where = url.origin === location.origin ? url.pathname + url.search : url.href;
    const call = {
      where, method: request.method, authorization: request.headers.get("Authorization"),
      requestedWith: request.headers.get("X-Requested-With"), contentType: request.headers.get("Content-Type"),
      credentials: request.credentials, keepalive: request.keepalive, signal: request.signal, body: "",
    };
    this.calls.push(call);
    call.body = await request.text();
    if (this.gate) {
      const aborted = new Promise((_, reject) => request.signal.addEventListener("abort",
        () => reject(new DOMException("aborted", "AbortError"))));
      await Promise.race([this.gate, aborted]);
    }
    const answer = (this.queues.get(url.pathname) || []).shift() || { status: 200, body: "ok" };
    const headers = answer.wwwAuthenticate ? { "WWW-Authenticate": answer.wwwAuthenticate } : {};
    return new Response(answer.body, { status: answer.status, headers });
  }
  // One line per request: "METHOD where authorization body".
  summary() {
    return this.calls.map((c) => [c.method, c.where, c.authorization ?? "-", c.body].join(" ").trim());
  }
  call(i) { return this.calls[i]; }
}

export function tick(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }

export function recorder() {
  const seen = [];
  const listener = (detail) => { seen.push(JSON.stringify(detail)); };
  listener.seen = seen;
  return listener;
}
export function recorded(listener) { return listener.seen.slice(); }
export function thrower() { return () => { throw new Error("a listener failing on purpose (expected)"); }; }

export function dispatchSyntheticActivity() {
  const targets = [window, document, document.body];
  for (const target of targets) {
    target.dispatchEvent(new KeyboardEvent("keydown", { key: "a", bubbles: true }));
    target.dispatchEvent(new PointerEvent("pointerdown", { bubbles: true }));
    target.dispatchEvent(new PointerEvent("pointermove", { bubbles: true }));
    target.dispatchEvent(new WheelEvent("wheel", { bubbles: true }));
    target.dispatchEvent(new Event("touchstart", { bubbles: true }));
  }
  document.dispatchEvent(new Event("visibilitychange"));
  window.dispatchEvent(new FocusEvent("focus"));
  window.dispatchEvent(new PageTransitionEvent("pageshow", { persisted: true }));
}

export function blobUrl() { return URL.createObjectURL(new Blob(["x"])); }
export function urlObject(href) { return new URL(href); }
export function postRequest(url, body) { return new Request(url, { method: "POST", body }); }
export function streamInit() {
  const body = new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode("streamed")); c.close(); } });
  return { method: "POST", body, duplex: "half" };
}
export function pageOrigin() { return location.origin; }
"#)]
extern "C" {
    type FetchStub;
    #[wasm_bindgen(constructor)]
    fn new() -> FetchStub;
    #[wasm_bindgen(method)]
    fn restore(this: &FetchStub);
    #[wasm_bindgen(method)]
    fn respond(
        this: &FetchStub,
        path: &str,
        status: u16,
        body: &str,
        www_authenticate: Option<&str>,
    );
    #[wasm_bindgen(method)]
    fn hold(this: &FetchStub);
    #[wasm_bindgen(method, getter)]
    fn release(this: &FetchStub) -> Function;
    #[wasm_bindgen(method)]
    fn summary(this: &FetchStub) -> Vec<String>;
    #[wasm_bindgen(method)]
    fn call(this: &FetchStub, index: u32) -> JsValue;

    fn tick(ms: u32) -> Promise;
    fn recorder() -> Function;
    fn recorded(listener: &Function) -> Vec<String>;
    fn thrower() -> Function;
    #[wasm_bindgen(js_name = dispatchSyntheticActivity)]
    fn dispatch_synthetic_activity();
    #[wasm_bindgen(js_name = blobUrl)]
    fn blob_url() -> String;
    #[wasm_bindgen(js_name = urlObject)]
    fn url_object(href: &str) -> JsValue;
    #[wasm_bindgen(js_name = postRequest)]
    fn post_request(url: &str, body: &str) -> JsValue;
    #[wasm_bindgen(js_name = streamInit)]
    fn stream_init() -> JsValue;
    #[wasm_bindgen(js_name = pageOrigin)]
    fn page_origin() -> String;
}

const TOKEN_T1: &str = r#"{"access_token":"t1","token_type":"Bearer","expires_in":300}"#;
const TOKEN_T2: &str = r#"{"access_token":"t2","token_type":"Bearer","expires_in":300}"#;
/// Within the 5 s skew margin from the start: the first request must renew.
const EXPIRED_T0: &str = r#"{"access_token":"t0","expires_in":1}"#;
const INVALID_TOKEN: Option<&str> = Some(r#"Bearer error="invalid_token""#);

fn js(json: &str) -> JsValue {
    JSON::parse(json).expect("test JSON")
}

fn client(options: &str) -> AuthClient {
    AuthClient::new(Some(js(options))).expect("valid options")
}

fn signed_in(options: &str, token: &str) -> AuthClient {
    let client = client(options);
    client.set_session(js(token)).expect("valid token response");
    client
}

async fn settle() {
    let _ = JsFuture::from(tick(10)).await;
}

async fn fetch(client: &AuthClient, input: &str, init: Option<&str>) -> Response {
    fetch_with(client, JsValue::from_str(input), init.map(js)).await.expect("fetch resolves")
}

async fn fetch_with(
    client: &AuthClient,
    input: JsValue,
    init: Option<JsValue>,
) -> Result<Response, JsValue> {
    let response = JsFuture::from(client.fetch(input, init)).await?;
    Ok(response.dyn_into().expect("a Response"))
}

async fn text(response: &Response) -> String {
    JsFuture::from(response.text().expect("text()"))
        .await
        .expect("body")
        .as_string()
        .expect("string")
}

fn prop(value: &JsValue, name: &str) -> JsValue {
    Reflect::get(value, &JsValue::from_str(name)).expect("property")
}

fn code(error: &JsValue) -> String {
    prop(error, "code").as_string().unwrap_or_default()
}

fn message(error: &JsValue) -> String {
    prop(error, "message").as_string().unwrap_or_default()
}

fn listen(client: &AuthClient, event: &str) -> Function {
    let listener = recorder();
    client.on(JsValue::from_str(event), listener.clone().into()).expect("known event");
    listener
}

// ---- activity ----

#[wasm_bindgen_test]
async fn synthetic_events_never_count_as_activity_but_touch_does() {
    let stub = FetchStub::new();
    // The warning starts 1 ms after sign-in: from then on any counted activity would end it.
    let client = signed_in(r#"{"idleTimeoutMs":60000,"warnBeforeIdleMs":59999}"#, TOKEN_T1);
    let active = listen(&client, "active");
    let warned = listen(&client, "idlewarning");
    settle().await;
    assert_eq!(client.state(), "warning");
    assert_eq!(recorded(&warned).len(), 1);

    dispatch_synthetic_activity();
    settle().await;
    assert_eq!(client.state(), "warning", "a scripted event must not cancel the warning");
    assert!(recorded(&active).is_empty());

    client.touch();
    assert_eq!(client.state(), "active");
    assert_eq!(recorded(&active), ["{}"]);
    client.dispose();
    stub.restore();
}

#[wasm_bindgen_test]
async fn synthetic_events_do_not_reset_the_idle_time_reported_to_the_server() {
    let stub = FetchStub::new();
    let client = signed_in("{}", EXPIRED_T0);
    let _ = JsFuture::from(tick(60)).await;
    dispatch_synthetic_activity();
    stub.respond("/auth/renew", 200, TOKEN_T2, None);
    fetch(&client, "/api", None).await;
    let renew = stub.call(0);
    assert_eq!(prop(&renew, "where"), "/auth/renew");
    let idle_ms = prop(&js(&prop(&renew, "body").as_string().unwrap()), "idleMs").as_f64().unwrap();
    assert!(idle_ms >= 50.0, "idleMs {idle_ms}: the synthetic events were counted");
    client.dispose();
    stub.restore();
}

// ---- rule 8: where the token goes ----

#[wasm_bindgen_test]
async fn the_token_goes_only_to_allowed_origins() {
    let stub = FetchStub::new();
    let client = signed_in(r#"{"allowedOrigins":["https://app.example"]}"#, TOKEN_T1);
    let blob = blob_url();
    let cases: [(&str, bool, &str); 11] = [
        ("https://app.example/api", true, "the allowed origin"),
        ("HTTPS://APP.EXAMPLE:443/api", true, "the allowed origin, spelt differently"),
        ("https://app.example:8443/api", false, "other port"),
        ("http://app.example/api", false, "other scheme"),
        ("https://api.app.example/api", false, "subdomain"),
        ("https://app.example.evil.example/api", false, "suffix trick"),
        ("//evil.example/api", false, "protocol-relative"),
        (
            "//app.example/api",
            false,
            "protocol-relative to the allowed host, on the page's http scheme",
        ),
        ("/api", false, "relative: the test page's own origin is not listed"),
        ("data:text/plain,hi", false, "data: URL"),
        (&blob, false, "blob: URL of the page itself"),
    ];
    for (index, (url, carries, why)) in cases.iter().enumerate() {
        fetch(&client, url, None).await;
        let authorization = prop(&stub.call(index as u32), "authorization").as_string();
        let expected = carries.then(|| "Bearer t1".to_string());
        assert_eq!(authorization, expected, "{url}: {why}");
    }
    // A URL object and a Request are inputs like strings.
    fetch_with(&client, url_object("https://app.example/object"), None).await.unwrap();
    assert_eq!(prop(&stub.call(11), "authorization"), "Bearer t1");
    fetch_with(&client, post_request("https://evil.example/request", "x"), None).await.unwrap();
    assert_eq!(prop(&stub.call(12), "authorization"), JsValue::NULL);

    // Credentials in the URL: the browser refuses the request, as fetch does; nothing is sent.
    let refused =
        fetch_with(&client, JsValue::from_str("https://app.example@evil.example/api"), None).await;
    let error = refused.expect_err("a URL with credentials is refused");
    assert!(error.is_instance_of::<js_sys::TypeError>());
    assert_eq!(stub.summary().len(), 13);
    client.dispose();
    stub.restore();
}

#[wasm_bindgen_test]
async fn by_default_only_the_page_origin_gets_the_token() {
    let stub = FetchStub::new();
    let client = signed_in("{}", TOKEN_T1);
    fetch(&client, "/api", None).await;
    fetch(&client, &(page_origin() + "/api?x=1"), None).await;
    fetch(&client, "https://other.example/api", None).await;
    let origin = page_origin();
    assert_eq!(
        stub.summary(),
        ["GET /api Bearer t1", "GET /api?x=1 Bearer t1", "GET https://other.example/api -"],
        "page origin {origin}"
    );
    client.dispose();
    stub.restore();
}

#[wasm_bindgen_test]
async fn the_callers_own_authorization_header_is_left_alone() {
    let stub = FetchStub::new();
    let client = signed_in("{}", TOKEN_T1);
    stub.respond("/api", 401, "no", INVALID_TOKEN);
    let response =
        fetch(&client, "/api", Some(r#"{"headers":{"Authorization":"Basic abc"}}"#)).await;
    assert_eq!(response.status(), 401, "not ours to retry");
    assert_eq!(stub.summary(), ["GET /api Basic abc"]);
    client.dispose();
    stub.restore();
}

#[wasm_bindgen_test]
async fn signed_out_requests_go_out_without_a_token() {
    let stub = FetchStub::new();
    let client = client("{}");
    let response = fetch(&client, "/api", None).await;
    assert_eq!(response.status(), 200);
    assert_eq!(stub.summary(), ["GET /api -"]);
    assert_eq!(client.state(), "signedOut");
    client.dispose();
    stub.restore();
}

// ---- rules 5-7: responses ----

#[wasm_bindgen_test]
async fn a_refused_token_is_renewed_once_and_the_post_is_replayed_with_its_body() {
    let stub = FetchStub::new();
    let client = signed_in("{}", TOKEN_T1);
    stub.respond("/api", 401, "expired", INVALID_TOKEN);
    stub.respond("/auth/renew", 200, TOKEN_T2, None);
    stub.respond("/api", 201, "created", None);
    let response = fetch(&client, "/api", Some(r#"{"method":"POST","body":"payload"}"#)).await;
    assert_eq!(response.status(), 201);
    assert_eq!(text(&response).await, "created");
    let summary = stub.summary();
    assert_eq!(summary.len(), 3);
    assert_eq!(summary[0], "POST /api Bearer t1 payload");
    assert!(summary[1].starts_with("POST /auth/renew - {\"idleMs\":"), "{}", summary[1]);
    assert_eq!(summary[2], "POST /api Bearer t2 payload");

    // Contract section 2: the renew request.
    let renew = stub.call(1);
    assert_eq!(prop(&renew, "credentials"), "include");
    assert_eq!(prop(&renew, "requestedWith"), "authpulse");
    assert_eq!(prop(&renew, "contentType"), "application/json");

    // A Request object with a body is replayed the same way.
    stub.respond("/api", 401, "expired", INVALID_TOKEN);
    stub.respond("/auth/renew", 200, TOKEN_T1, None);
    let response = fetch_with(&client, post_request("/api", "again"), None).await.unwrap();
    assert_eq!(response.status(), 200);
    let summary = stub.summary();
    assert_eq!(summary[3], "POST /api Bearer t2 again");
    assert_eq!(summary[5], "POST /api Bearer t1 again");
    client.dispose();
    stub.restore();
}

#[wasm_bindgen_test]
async fn a_second_401_is_returned_as_it_is() {
    let stub = FetchStub::new();
    let client = signed_in("{}", TOKEN_T1);
    stub.respond("/api", 401, "first", None);
    stub.respond("/auth/renew", 200, TOKEN_T2, None);
    stub.respond("/api", 401, "second", INVALID_TOKEN);
    let response = fetch(&client, "/api", None).await;
    assert_eq!(response.status(), 401);
    assert_eq!(text(&response).await, "second");
    assert_eq!(stub.summary().len(), 3, "one renewal, one retry, no more");
    client.dispose();
    stub.restore();
}

#[wasm_bindgen_test]
async fn a_403_and_other_challenges_are_returned_untouched() {
    let stub = FetchStub::new();
    let client = signed_in("{}", TOKEN_T1);
    stub.respond("/api", 403, "forbidden", None);
    let response = fetch(&client, "/api", None).await;
    assert_eq!(response.status(), 403);
    assert_eq!(text(&response).await, "forbidden");
    stub.respond("/api", 401, "scope", Some(r#"Bearer error="insufficient_scope""#));
    assert_eq!(fetch(&client, "/api", None).await.status(), 401);
    assert_eq!(stub.summary(), ["GET /api Bearer t1", "GET /api Bearer t1"], "no renewal");
    client.dispose();
    stub.restore();
}

#[wasm_bindgen_test]
async fn a_rejected_renewal_signs_out_and_returns_the_original_401() {
    let stub = FetchStub::new();
    let client = signed_in("{}", TOKEN_T1);
    let expired = listen(&client, "expired");
    stub.respond("/api", 401, "original", INVALID_TOKEN);
    stub.respond("/auth/renew", 401, "no session", None);
    let response = fetch(&client, "/api", None).await;
    assert_eq!(response.status(), 401);
    assert_eq!(text(&response).await, "original");
    assert_eq!(recorded(&expired), [r#"{"reason":"session"}"#]);
    assert_eq!(client.state(), "expired");
    assert_eq!(stub.summary().len(), 2, "no retry without a token");
    // Rule 9: still usable, without a token.
    fetch(&client, "/api", None).await;
    assert_eq!(stub.summary()[2], "GET /api -");
    client.dispose();
    stub.restore();
}

#[wasm_bindgen_test]
async fn a_streamed_body_is_not_replayed() {
    let stub = FetchStub::new();
    let client = signed_in("{}", TOKEN_T1);
    stub.respond("/api", 401, "refused", INVALID_TOKEN);
    let response =
        fetch_with(&client, JsValue::from_str("/api"), Some(stream_init())).await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(stub.summary(), ["POST /api Bearer t1 streamed"]);
    // The refused token is not used again: the next request renews first.
    stub.respond("/auth/renew", 200, TOKEN_T2, None);
    fetch(&client, "/api", None).await;
    assert_eq!(stub.summary()[2], "GET /api Bearer t2");
    client.dispose();
    stub.restore();
}

#[wasm_bindgen_test]
async fn network_errors_reject_like_fetch() {
    let stub = FetchStub::new();
    let client = signed_in("{}", TOKEN_T1);
    let error =
        fetch_with(&client, JsValue::from_str("/api"), Some(js(r#"{"method":"GET","body":"x"}"#)))
            .await
            .expect_err("GET with a body is a TypeError");
    assert!(error.is_instance_of::<js_sys::TypeError>());
    assert!(stub.summary().is_empty());
    client.dispose();
    stub.restore();
}

// ---- rule 4 and the token API ----

#[wasm_bindgen_test]
async fn concurrent_requests_on_an_expired_token_share_one_renewal() {
    let stub = FetchStub::new();
    let client = signed_in("{}", EXPIRED_T0);
    stub.hold();
    stub.respond("/auth/renew", 200, TOKEN_T2, None);
    let requests: Vec<Promise> =
        (0..100).map(|_| client.fetch(JsValue::from_str("/api"), None)).collect();
    settle().await;
    assert_eq!(stub.summary().len(), 1, "only the renewal went out");
    let _ = stub.release().call0(&JsValue::UNDEFINED);
    for request in requests {
        let response: Response = JsFuture::from(request).await.unwrap().dyn_into().unwrap();
        assert_eq!(response.status(), 200);
    }
    let summary = stub.summary();
    assert_eq!(summary.iter().filter(|line| line.contains("/auth/renew")).count(), 1);
    assert_eq!(summary.iter().filter(|line| *line == "GET /api Bearer t2").count(), 100);
    client.dispose();
    stub.restore();
}

#[wasm_bindgen_test]
async fn get_access_token_renews_when_needed_and_is_null_when_signed_out() {
    let stub = FetchStub::new();
    let client = client("{}");
    assert_eq!(JsFuture::from(client.get_access_token()).await.unwrap(), JsValue::NULL);
    client.set_session(js(TOKEN_T1)).unwrap();
    assert_eq!(JsFuture::from(client.get_access_token()).await.unwrap(), "t1");
    client.set_session(js(EXPIRED_T0)).unwrap();
    stub.respond("/auth/renew", 200, TOKEN_T2, None);
    assert_eq!(JsFuture::from(client.get_access_token()).await.unwrap(), "t2");
    assert_eq!(stub.summary().len(), 1);
    client.dispose();
    stub.restore();
}

#[wasm_bindgen_test]
async fn start_resumes_through_the_auth_session() {
    let stub = FetchStub::new();
    let client = client("{}");
    let renewed = listen(&client, "renewed");
    stub.respond("/auth/renew", 200, TOKEN_T1, None);
    assert_eq!(JsFuture::from(client.start()).await.unwrap(), JsValue::TRUE);
    assert_eq!(client.state(), "active");
    assert_eq!(recorded(&renewed).len(), 1);
    assert!(recorded(&renewed)[0].starts_with(r#"{"expiresAt":"#));
    fetch(&client, "/api", None).await;
    assert_eq!(stub.summary()[1], "GET /api Bearer t1");
    client.dispose();

    let client = self::client("{}");
    stub.respond("/auth/renew", 401, "no session", None);
    assert_eq!(JsFuture::from(client.start()).await.unwrap(), JsValue::FALSE);
    assert_eq!(client.state(), "signedOut");
    client.dispose();
    stub.restore();
}

#[wasm_bindgen_test]
async fn a_malformed_renewal_is_an_error_event_and_keeps_the_session() {
    let stub = FetchStub::new();
    let client = signed_in("{}", EXPIRED_T0);
    let errors = listen(&client, "error");
    stub.respond("/auth/renew", 200, r#"{"access_token":"x","expires_in":"300"}"#, None);
    fetch(&client, "/api", None).await;
    assert_eq!(
        recorded(&errors),
        [r#"{"code":"bad_token_response","message":"token response is not a JSON object"}"#]
    );
    assert_eq!(client.state(), "active");
    client.dispose();
    stub.restore();
}

#[wasm_bindgen_test]
async fn logout_ends_the_server_session_with_a_keepalive_post() {
    let stub = FetchStub::new();
    let client = signed_in(r#"{"logoutUrl":"/auth/logout"}"#, TOKEN_T1);
    let expired = listen(&client, "expired");
    JsFuture::from(client.logout()).await.unwrap();
    settle().await;
    assert_eq!(client.state(), "signedOut");
    assert_eq!(recorded(&expired), [r#"{"reason":"logout"}"#]);
    let logout = stub.call(0);
    assert_eq!(prop(&logout, "where"), "/auth/logout");
    assert_eq!(prop(&logout, "method"), "POST");
    assert_eq!(prop(&logout, "keepalive"), JsValue::TRUE);
    assert_eq!(prop(&logout, "credentials"), "include");
    fetch(&client, "/api", None).await;
    assert_eq!(stub.summary()[1], "GET /api -");
    client.dispose();
    stub.restore();
}

#[wasm_bindgen_test]
async fn the_refresh_token_strategy_rotates_and_revokes() {
    let stub = FetchStub::new();
    let client = signed_in(
        r#"{"tokenEndpoint":"/oauth/token","clientId":"spa","revokeUrl":"/oauth/revoke"}"#,
        r#"{"access_token":"a1","expires_in":1,"refresh_token":"r1"}"#,
    );
    stub.respond(
        "/oauth/token",
        200,
        r#"{"access_token":"a2","expires_in":300,"refresh_token":"r2"}"#,
        None,
    );
    fetch(&client, "/api", None).await;
    JsFuture::from(client.logout()).await.unwrap();
    settle().await;
    assert_eq!(
        stub.summary(),
        [
            "POST /oauth/token - grant_type=refresh_token&refresh_token=r1&client_id=spa",
            "GET /api Bearer a2",
            "POST /oauth/revoke - token=r2&token_type_hint=refresh_token&client_id=spa",
        ]
    );
    client.dispose();

    let client = signed_in(
        r#"{"tokenEndpoint":"/oauth/token","clientId":"spa"}"#,
        r#"{"access_token":"a1","expires_in":1,"refresh_token":"r1"}"#,
    );
    let expired = listen(&client, "expired");
    stub.respond("/oauth/token", 400, r#"{"error":"invalid_grant"}"#, None);
    fetch(&client, "/api", None).await;
    assert_eq!(recorded(&expired), [r#"{"reason":"session"}"#]);
    client.dispose();
    stub.restore();
}

// ---- options and the JS surface ----

#[wasm_bindgen_test]
fn invalid_options_throw_a_type_error_naming_the_option() {
    let cases = [
        (r#"{"idleTimeoutMs":-1}"#, "idleTimeoutMs"),
        (r#"{"idleTimeoutMs":"900000"}"#, "idleTimeoutMs"),
        (r#"{"idleTimout":900000}"#, "idleTimout"),
        (r#"{"allowedOrigins":"https://a.example"}"#, "allowedOrigins"),
        (r#"{"allowedOrigins":["https://a.example/path"]}"#, "allowedOrigins"),
        (r#"{"allowedOrigins":["a.example"]}"#, "allowedOrigins"),
        (r#"{"crossTab":"yes"}"#, "crossTab"),
        (r#"{"tokenEndpoint":"https://idp.example/token"}"#, "clientId"),
        (r#"{"logoutUrl":""}"#, "logoutUrl"),
    ];
    for (options, option) in cases {
        let error = AuthClient::new(Some(js(options))).expect_err(options);
        assert!(error.is_instance_of::<js_sys::TypeError>(), "{options}");
        assert_eq!(code(&error), "invalid_option");
        assert_eq!(prop(&error, "option"), option);
        assert!(message(&error).contains(option), "{options}: {}", message(&error));
    }
    let error =
        AuthClient::new(Some(JsValue::from(42))).expect_err("a number is not an options object");
    assert!(error.is_instance_of::<js_sys::TypeError>());
    assert!(AuthClient::new(None).is_ok(), "no options: the defaults");
}

#[wasm_bindgen_test]
fn a_malformed_sign_in_throws_bad_token_response() {
    let client = client("{}");
    for bad in [r#"{"expires_in":300}"#, r#"{"access_token":"a","expires_in":0}"#, r#""token""#] {
        let error = client.set_session(js(bad)).expect_err(bad);
        assert!(error.is_instance_of::<js_sys::TypeError>());
        assert_eq!(code(&error), "bad_token_response");
    }
    assert_eq!(client.state(), "signedOut");
    client.dispose();
}

#[wasm_bindgen_test]
fn listeners_unsubscribe_and_a_throwing_one_stops_nobody() {
    let client = client("{}");
    let error =
        client.on(JsValue::from_str("renew"), recorder().into()).expect_err("unknown event");
    assert!(error.is_instance_of::<js_sys::TypeError>());
    assert_eq!(code(&error), "unknown_event");
    assert!(client.on(JsValue::from_str("renewed"), JsValue::from(1)).is_err());

    client.on(JsValue::from_str("renewed"), thrower().into()).unwrap();
    let first = recorder();
    let off = client.on(JsValue::from_str("renewed"), first.clone().into()).unwrap();
    let second = listen(&client, "renewed");
    client.set_session(js(TOKEN_T1)).expect("a throwing listener does not break sign-in");
    assert_eq!(recorded(&first).len(), 1);
    assert_eq!(recorded(&second).len(), 1);

    off.call0(&JsValue::UNDEFINED).unwrap();
    off.call0(&JsValue::UNDEFINED).expect("unsubscribing twice is harmless");
    client.set_session(js(TOKEN_T2)).unwrap();
    assert_eq!(recorded(&first).len(), 1, "unsubscribed");
    assert_eq!(recorded(&second).len(), 2);
    client.dispose();
}

#[wasm_bindgen_test]
async fn dispose_aborts_the_renewal_and_later_calls_fail_with_disposed() {
    let stub = FetchStub::new();
    let client = signed_in("{}", EXPIRED_T0);
    let renewed = listen(&client, "renewed");
    stub.hold();
    let pending = client.fetch(JsValue::from_str("/api"), None);
    settle().await;
    assert_eq!(stub.summary().len(), 1, "the renewal is in flight");
    client.dispose();
    let error = JsFuture::from(pending).await.expect_err("the waiting request is dropped");
    assert_eq!(code(&error), "disposed");
    let signal = prop(&stub.call(0), "signal");
    assert_eq!(prop(&signal, "aborted"), JsValue::TRUE, "the renewal request was aborted");

    let error = JsFuture::from(client.fetch(JsValue::from_str("/api"), None)).await.unwrap_err();
    assert_eq!(code(&error), "disposed");
    assert!(error.is_instance_of::<js_sys::Error>());
    assert_eq!(code(&JsFuture::from(client.get_access_token()).await.unwrap_err()), "disposed");
    assert_eq!(code(&JsFuture::from(client.start()).await.unwrap_err()), "disposed");
    assert_eq!(code(&JsFuture::from(client.logout()).await.unwrap_err()), "disposed");
    assert_eq!(code(&client.set_session(js(TOKEN_T1)).unwrap_err()), "disposed");
    client.touch();
    client.dispose();
    dispatch_synthetic_activity();
    let _ = stub.release().call0(&JsValue::UNDEFINED);
    settle().await;
    assert!(recorded(&renewed).is_empty(), "no event after dispose");
    assert_eq!(stub.summary().len(), 1, "nothing else was sent");
    stub.restore();
}
