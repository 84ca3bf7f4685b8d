//! The wasm `Engine` in headless Chromium, fed real JavaScript values as the adapters hand them
//! over: option values and token-response fields copied into plain values (the copying, where
//! getters and Proxies are caught, is `js/index.js`'s and tested through the public API in
//! `tests/e2e/hostile.spec.mjs`), wrong types, huge strings, odd numbers. Time logic is the
//! native scenario tests' job; these tests check the boundary itself: what crosses it, and that
//! nothing crossing it can panic or trap the module.
#![cfg(target_arch = "wasm32")]

use authpulse::engine::Engine;
use js_sys::{Reflect, JSON};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
const NAMES = ["renewUrl", "tokenEndpoint", "clientId", "revokeUrl", "idleTimeoutMs", "warnBeforeIdleMs",
  "renewBeforeExpiryMs", "maxSessionMs", "allowedOrigins", "crossTab", "logoutUrl"];
// What js/index.js hands the engine for an options object: the values in NAMES order.
export function values(options) { return NAMES.map((name) => options[name]); }
export function unknownOption(options) { return Object.keys(options).find((key) => !NAMES.includes(key)); }
// And for a token response (js/http.js tokenFields).
export function fields(r) {
  if (r === null || typeof r !== "object") return null;
  return [r.access_token, r.expires_in, r.token_type, r.refresh_token, r.exp, r.iat, r.error];
}
export function oddOptions() {
  return [{ idleTimeoutMs: Symbol() }, { renewUrl: 10n }, { crossTab: {} }, { logoutUrl: Symbol.iterator },
    { renewUrl: "x".repeat(1 << 20) }, { idleTimeoutMs: 0.5, maxSessionMs: 0.5 }];
}
export function origin(text) {
  try {
    const url = new URL(text);
    return [url.protocol, url.origin, url.pathname !== "/" || url.search !== ""];
  } catch { return null; }
}
// What the engine throws when it refuses an input: [code, message] or [code, problem, option],
// strings (js/index.js throws a TypeError made of them).
export function isRefusal(value) {
  return Array.isArray(value) && (value.length === 2 || value.length === 3) &&
    value.every((part) => typeof part === "string");
}
// A command with an emit's detail pairs made the object, as js/index.js makes it.
export function adapted(command) {
  return command[0] === 3 ? [3, command[1], Object.fromEntries(command[2]), command[3]] : command;
}
"#)]
extern "C" {
    fn values(options: &JsValue) -> JsValue;
    #[wasm_bindgen(js_name = unknownOption)]
    fn unknown_option(options: &JsValue) -> JsValue;
    fn fields(response: &JsValue) -> JsValue;
    #[wasm_bindgen(js_name = oddOptions)]
    fn odd_options() -> JsValue;
    fn origin(text: &str) -> JsValue;
    #[wasm_bindgen(js_name = isRefusal)]
    fn is_refusal(value: &JsValue) -> bool;
    fn adapted(command: &JsValue) -> JsValue;
}

const PAGE: &str = "https://app.example";
const T0: f64 = 1_800_000_000_000.0;
const RENEW: f64 = 1.0;
const EMIT: f64 = 3.0;
const BROADCAST: f64 = 5.0;
const WAIT: f64 = -1.0;
const UNAVAILABLE: f64 = -2.0;

fn json(text: &str) -> JsValue {
    JSON::parse(text).expect("test JSON")
}

fn get(object: &JsValue, name: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// An engine built as the adapter builds it from an options object.
fn build(options: &JsValue) -> Result<Engine, JsValue> {
    Engine::new(values(options), unknown_option(options), PAGE)
}

fn engine(options: &str) -> Engine {
    build(&json(options)).unwrap_or_else(|_| panic!("options {options} refused"))
}

/// Both clocks at `now` (the clock steps themselves are the native tests' job).
fn at(engine: &mut Engine, now: f64) -> &mut Engine {
    engine.clock(now, now);
    engine
}

fn sign_in(engine: &mut Engine, now: f64, response: &str) -> Result<(), JsValue> {
    at(engine, now).sign_in(fields(&json(response)))
}

fn answer(engine: &mut Engine, now: f64, id: f64, status: u16, body: JsValue) {
    at(engine, now).renewal_answered(id, status, fields(&body), f64::NAN);
}

/// Default options, signed in at `T0` with token `t1` for 5 minutes.
fn signed_in_with_t1() -> Engine {
    let mut engine = engine("{}");
    sign_in(&mut engine, T0, r#"{"access_token":"t1","expires_in":300}"#)
        .unwrap_or_else(|_| panic!("a good response refused"));
    engine
}

fn refused(options: JsValue) -> (String, String, String) {
    let error = match build(&options) {
        Ok(_) => panic!("options accepted"),
        Err(error) => error,
    };
    assert!(is_refusal(&error), "a refusal");
    let text = |index| get(&error, index).as_string().unwrap_or_default();
    (text("0"), text("2"), text("1"))
}

/// Drains the commands as JSON texts, an event's detail made the object as the adapter makes
/// it: `[1,0,10,null]`, `[3,"expired",{"reason":"idle"},null]` ….
fn commands(engine: &mut Engine) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        let command = engine.poll();
        if command.is_undefined() {
            return seen;
        }
        seen.push(JSON::stringify(&adapted(&command)).map(String::from).unwrap_or_default());
    }
}

fn kind(command: &str) -> f64 {
    JSON::parse(command).ok().and_then(|value| get(&value, "0").as_f64()).unwrap_or(-1.0)
}

/// `access`: the token and its generation if one is ready, else the code.
/// `Ok((token, generation))` when a token is ready, else `Err(WAIT or UNAVAILABLE)`.
fn access(engine: &mut Engine, now: f64) -> Result<(String, f64), f64> {
    let generation = at(engine, now).access();
    if generation < 1.0 {
        return Err(generation);
    }
    Ok((engine.token().unwrap_or_default(), generation))
}

#[wasm_bindgen_test]
fn options_of_the_wrong_type_are_refused_naming_the_option() {
    for (options, option) in [
        (r#"{"idleTimeoutMs": "15"}"#, "idleTimeoutMs"),
        (r#"{"idleTimeoutMs": -1}"#, "idleTimeoutMs"),
        (r#"{"warnBeforeIdleMs": 900000}"#, "warnBeforeIdleMs"),
        (r#"{"crossTab": "yes"}"#, "crossTab"),
        (r#"{"tokenEndpoint": "https://idp.example/token"}"#, "clientId"),
        (r#"{"idleTimeout": 60000}"#, "idleTimeout"),
        (r#"{"allowedOrigins": "https://app.example"}"#, "allowedOrigins"),
    ] {
        let (code, named, problem) = refused(json(options));
        assert_eq!(code, "invalid_option", "{options}");
        assert_eq!(named, option, "{options}");
        // The problem, to which js/index.js adds `authpulse: option "{option}" `.
        let sentence_end = ["must ", "is ", "needs ", "cannot "];
        assert!(sentence_end.iter().any(|start| problem.starts_with(start)), "{problem}");
    }
    // Odd values: a Symbol, a BigInt, an object, a fraction, a huge string.
    let odd: js_sys::Array = odd_options().into();
    let named: Vec<String> = odd.iter().take(5).map(|options| refused(options).1).collect();
    assert_eq!(named, ["idleTimeoutMs", "renewUrl", "crossTab", "logoutUrl", "renewUrl"]);
    assert!(build(&odd.get(5)).is_ok(), "fractions of a millisecond round up to 1 ms");
}

#[wasm_bindgen_test]
fn allowed_origins_come_parsed_by_the_browser() {
    let entries =
        js_sys::Array::of2(&origin("https://api.example:8443"), &origin("http://localhost:3000"));
    let options = json("{}");
    Reflect::set(&options, &"allowedOrigins".into(), &entries).expect("set");
    let engine = build(&options).unwrap_or_else(|_| panic!("refused"));
    assert!(engine.allows("https:".into(), "https://api.example:8443".into()));
    assert!(engine.allows("http:".into(), "http://localhost:3000".into()));
    assert!(
        !engine.allows("https:".into(), PAGE.into()),
        "the page origin is not added to an explicit list"
    );
    let with_path = js_sys::Array::of1(&origin("https://api.example/v1"));
    let options = json("{}");
    Reflect::set(&options, &"allowedOrigins".into(), &with_path).expect("set");
    assert_eq!(refused(options).1, "allowedOrigins");
    let not_a_url = js_sys::Array::of1(&origin("not a url"));
    let options = json("{}");
    Reflect::set(&options, &"allowedOrigins".into(), &not_a_url).expect("set");
    assert_eq!(refused(options).1, "allowedOrigins");
}

#[wasm_bindgen_test]
fn sign_in_takes_a_token_response_object_and_refuses_malformed_ones() {
    let mut engine = engine("{}");
    for bad in [
        r#"{}"#,
        r#"{"access_token":"a","expires_in":0}"#,
        r#""text""#,
        "null",
        r#"{"access_token":"a b","expires_in":60}"#,
        r#"{"access_token":"a","expires_in":5}"#,
        r#"{"access_token":"a","expires_in":60,"token_type":"DPoP"}"#,
        r#"{"access_token":"a","expires_in":"soon"}"#,
    ] {
        let error = sign_in(&mut engine, T0, bad).err().unwrap_or_else(|| panic!("{bad} accepted"));
        assert!(is_refusal(&error));
        assert_eq!(get(&error, "0").as_string().as_deref(), Some("bad_token_response"));
    }
    let huge = js_sys::Array::of2(&"a".repeat(64 << 20).into(), &JsValue::from_f64(60.0));
    assert!(at(&mut engine, T0).sign_in(huge.into()).is_err(), "a 64 MiB token");
    assert_eq!(engine.phase(), "signedOut");
    sign_in(&mut engine, T0, r#"{"access_token":"t1","token_type":"Bearer","expires_in":"300"}"#)
        .unwrap_or_else(|_| panic!("a good response refused"));
    assert_eq!(engine.phase(), "active");
    let state = r#"[3,"statechange",{"state":"active"},null]"#.to_string();
    let signed_in = format!(r#"[3,"signedin",{{"expiresAt":{}}},null]"#, T0 + 300_000.0);
    let renewed = format!(r#"[3,"renewed",{{"expiresAt":{}}},null]"#, T0 + 300_000.0);
    // ... and the other tabs get the token: [5, [2, token, receivedAt, expiresAt, refresh,
    // refreshSerial, sessionTag, signedInAt, lastActivity]].
    let shared = format!(r#"[5,[2,"t1",{T0},{},null,0,{T0},{T0},{T0}],null,null]"#, T0 + 300_000.0);
    assert_eq!(commands(&mut engine), [state, signed_in, renewed, shared]);
    assert_eq!(access(&mut engine, T0 + 1_000.0), Ok(("t1".into(), 1.0)));
}

#[wasm_bindgen_test]
fn a_refused_token_is_renewed_once_and_a_renew_401_signs_out_with_reason_session() {
    let mut engine = signed_in_with_t1();
    commands(&mut engine);
    let generation = access(&mut engine, T0).map(|(_, generation)| generation).unwrap_or(-1.0);
    assert_eq!(
        engine.response(403, JsValue::NULL, generation, false, true, true),
        0,
        "403 passes through"
    );
    let challenge = JsValue::from_str(r#"Bearer error="invalid_token""#);
    assert_eq!(
        engine.response(401, challenge.clone(), generation, false, true, false),
        0,
        "a 401 from a redirect target outside allowedOrigins says nothing about the token"
    );
    assert_eq!(engine.response(401, challenge, generation, false, true, true), 1, "retry once");
    assert_eq!(access(&mut engine, T0 + 10.0), Err(WAIT), "wait for the renewal");
    assert_eq!(commands(&mut engine), ["[1,0,10,null]"], "renewal 0, idle for 10 ms");
    answer(&mut engine, T0 + 20.0, 0.0, 401, json(r#"{"error":"no session"}"#));
    assert_eq!(
        commands(&mut engine),
        [
            r#"[3,"statechange",{"state":"expired"},null]"#,
            "[5,[3,2],null,null]",
            r#"[3,"expired",{"reason":"session"},null]"#
        ],
        "the state changes; the other tabs are told, then the app"
    );
    assert_eq!(engine.phase(), "expired");
    assert_eq!(access(&mut engine, T0 + 30.0), Err(UNAVAILABLE), "no token without a session");
    assert_eq!(engine.token(), None);
}

#[wasm_bindgen_test]
fn a_renew_body_that_is_not_a_token_response_is_an_error_event_and_keeps_the_token() {
    let mut engine = signed_in_with_t1();
    engine.activity(T0 + 1_000.0, T0 + 1_000.0);
    at(&mut engine, T0 + 240_000.0).timeout();
    assert!(commands(&mut engine).iter().any(|command| kind(command) == RENEW));
    answer(&mut engine, T0 + 240_100.0, 0.0, 200, JsValue::UNDEFINED);
    let seen = commands(&mut engine);
    assert_eq!(seen.len(), 1);
    assert_eq!(kind(&seen[0]), EMIT);
    assert!(seen[0].contains(r#""error",{"code":"bad_token_response""#), "{}", seen[0]);
    assert_eq!(access(&mut engine, T0 + 241_000.0), Ok(("t1".into(), 1.0)));
}

#[wasm_bindgen_test]
fn a_renewed_token_comes_with_the_next_generation() {
    let mut engine = signed_in_with_t1();
    assert_eq!(access(&mut engine, T0 + 1_000.0), Ok(("t1".into(), 1.0)));
    engine.activity(T0 + 1_000.0, T0 + 1_000.0);
    at(&mut engine, T0 + 240_000.0).timeout();
    assert!(commands(&mut engine).iter().any(|command| kind(command) == RENEW));
    answer(
        &mut engine,
        T0 + 240_100.0,
        0.0,
        200,
        json(r#"{"access_token":"t2","expires_in":300}"#),
    );
    assert_eq!(access(&mut engine, T0 + 241_000.0), Ok(("t2".into(), 2.0)));
}

#[wasm_bindgen_test]
fn nonsense_numbers_never_trap() {
    let mut engine = engine("{}");
    for now in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0, 1e300] {
        engine.clock(now, -now);
        engine.activity(now, now);
        engine.timeout();
        let _ = engine.access();
        let body = json(r#"{"access_token":"x","expires_in":1e308}"#);
        engine.renewal_answered(now, 200, fields(&body), now);
        engine.renewal_answered(now, 503, JsValue::NULL, now);
        engine.renewal_failed(now);
        let _ = engine.response(401, JsValue::from_str("\""), now, false, true, true);
        engine.tab(json(r#"[2,"t",1e300,-1,null,0,0,0,0]"#));
        engine.logout();
        commands(&mut engine);
    }
    assert!(engine.deadline() >= -1.0);
}

/// The broadcast messages (`[5, message]`) among `commands`, as values.
fn broadcasts(engine: &mut Engine) -> Vec<JsValue> {
    commands(engine)
        .iter()
        .filter(|command| kind(command) == BROADCAST)
        .filter_map(|command| JSON::parse(command).ok().map(|value| get(&value, "1")))
        .collect()
}

#[wasm_bindgen_test]
fn tabs_take_each_others_tokens_and_sign_outs_and_ignore_anything_else() {
    let mut first = engine("{}");
    let mut second = engine("{}");
    sign_in(&mut first, T0, r#"{"access_token":"t1","expires_in":300,"refresh_token":"r1"}"#)
        .unwrap_or_else(|_| panic!());
    let messages = broadcasts(&mut first);
    assert_eq!(messages.len(), 1);
    for garbage in [
        "null",
        r#""x""#,
        "{}",
        "[]",
        "[9]",
        "[1]",
        r#"[2,"",1,2,null,0,1,1,1]"#,
        "[2,1]",
        r#"[2,"t1",1,2,null,1,1]"#,
        r#"[2,"t 1",1800000000000,1800000300000,null,0,1,1800000000000,1800000000000]"#,
        r#"[2,"t1",1800000300000,1800000000000,null,0,1,1800000000000,1800000000000]"#,
        r#"[2,"t1",1800000000000,1e300,null,0,1,1800000000000,1800000000000]"#,
    ] {
        at(&mut second, T0 + 1.0).tab(json(garbage));
        assert_eq!(second.phase(), "signedOut", "{garbage} ignored");
    }
    at(&mut second, T0 + 1.0).tab(messages[0].clone());
    assert_eq!(second.phase(), "active", "a sign-in in one tab signs in the other");
    assert_eq!(access(&mut second, T0 + 2.0), Ok(("t1".into(), 1.0)));
    assert!(broadcasts(&mut second).is_empty(), "a token from another tab is not told again");

    let mut third = engine("{}");
    at(&mut third, T0 + 2.0).resume();
    assert!(third.waiting());
    let hello = broadcasts(&mut third);
    assert_eq!(hello.len(), 1, "start() says hello");
    at(&mut second, T0 + 3.0).tab(hello[0].clone());
    let answer = broadcasts(&mut second);
    assert_eq!(answer.len(), 1, "a signed-in tab answers with its token");
    at(&mut third, T0 + 4.0).tab(answer[0].clone());
    assert_eq!(third.phase(), "active");
    assert!(commands(&mut third).iter().any(|c| c.starts_with("[2,")), "its resume is cancelled");

    first.activity(T0 + 60_000.0, T0 + 60_000.0);
    let activity = broadcasts(&mut first);
    assert_eq!(activity.len(), 1);
    at(&mut second, T0 + 60_001.0).tab(activity[0].clone());
    at(&mut second, T0 + 14.0 * 60_000.0 + 1_000.0).timeout();
    assert_eq!(second.phase(), "active", "the warning moved to 15 min by the other tab's input");
    commands(&mut second);

    at(&mut first, T0 + 70_000.0).logout();
    let teardown = broadcasts(&mut first);
    assert_eq!(teardown.len(), 1);
    for garbage in ["[3]", "[3,0]", "[3,4.5]", "[3,6]", r#"[3,"4"]"#, "[3,-1]", "[3,1e300]"] {
        at(&mut second, T0 + 70_001.0).tab(json(garbage));
        assert_eq!(second.phase(), "active", "{garbage} ignored");
    }
    assert_eq!(
        JSON::stringify(&teardown[0]).ok().and_then(|t| t.as_string()),
        Some("[3,4]".into())
    );
    at(&mut second, T0 + 70_001.0).tab(teardown[0].clone());
    assert_eq!(second.phase(), "expired");
    assert!(commands(&mut second).iter().any(|c| c.contains(r#"{"reason":"remote"}"#)));

    let mut alone = engine(r#"{"crossTab":false}"#);
    sign_in(&mut alone, T0, r#"{"access_token":"t2","expires_in":300}"#)
        .unwrap_or_else(|_| panic!());
    assert!(broadcasts(&mut alone).is_empty(), "crossTab: false tells nobody");
    at(&mut alone, T0 + 1.0).tab(teardown[0].clone());
    assert_eq!(alone.phase(), "active", "and hears nobody");
}
