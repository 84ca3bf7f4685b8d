//! The app's other tabs (`crossTab`, `js/tabs.js`): a BroadcastChannel for the session's tab
//! messages, and Web Locks so that one tab at a time renews. The channel, the lock names and the
//! messages are the npm package's, so a tab running either driver takes part.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;

use futures_channel::oneshot;
use gloo_timers::callback::Timeout;
use js_sys::{Array, Object, Promise, Reflect};
use serde::Deserialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AbortSignal, AddEventListenerOptions, BroadcastChannel, EventTarget, MessageChannel,
    MessageEvent,
};

#[wasm_bindgen]
extern "C" {
    /// `navigator.locks`, the Web Locks API's `LockManager` (bound here rather than through
    /// web-sys, whose binding needs `--cfg web_sys_unstable_apis`).
    type LockManager;

    /// `request(name, options, callback)`: `callback(lock)` runs once the lock is granted, and
    /// the lock is held until the promise it returns settles.
    #[wasm_bindgen(method, catch)]
    fn request(
        this: &LockManager,
        name: &str,
        options: &Object,
        callback: &js_sys::Function,
    ) -> Result<Promise, JsValue>;

    /// `query()`: a promise of `{ held: [{ name, mode, clientId }], pending: [...] }`.
    #[wasm_bindgen(method, catch)]
    fn query(this: &LockManager) -> Result<Promise, JsValue>;
}

/// How long a tab whose turn to renew came waits for another tab's newer token to reach it.
const NEWER_TOKEN_WAIT_MS: u32 = 1_000;

/// Firefox keeps no page that holds a Web Lock in the back/forward cache, and decides so before
/// `pagehide`: the mark is let go when the page may be leaving (`beforeunload`), and taken again
/// when it is shown again or the user is still there (the navigation did not happen).
const LEAVE: &str = "beforeunload";
const BACK: [&str; 3] = ["pageshow", "pointerdown", "keydown"];

/// The channel to the app's other tabs; dropping it closes it.
pub(crate) struct Tabs {
    channel: BroadcastChannel,
    _on_message: Closure<dyn Fn(MessageEvent)>,
    /// Expiry (ms since the epoch) of this tab's token, 0 for none.
    expires_at: Cell<f64>,
    mark: Rc<Mark>,
    /// The page (or worker) global, where `on_leave` and `on_back` listen.
    global: Option<EventTarget>,
    on_leave: Closure<dyn Fn()>,
    on_back: Closure<dyn Fn()>,
}

/// The lock `{channel} {expiresAt}` that tells the other tabs which token this tab got.
struct Mark {
    /// The channel's name: the lock is named after it.
    channel: String,
    /// Which mark is current; a lock granted for an older one is let go at once.
    generation: Cell<u64>,
    /// The expiry the current mark is for, 0 for none.
    expires_at: Cell<f64>,
    held: RefCell<Option<HeldLock>>,
    /// Resolves once the current mark's lock is granted.
    granted: RefCell<Option<oneshot::Receiver<()>>>,
    /// The expiry whose mark was let go as the page might be leaving, to take again; 0 none.
    unmarked: Cell<f64>,
    closed: Cell<bool>,
}

impl Tabs {
    /// Opens the channel `name`; `receive(data)` gets every message of the other tabs. `None`
    /// where there is no BroadcastChannel.
    pub(crate) fn open(name: &str, receive: impl Fn(JsValue) + 'static) -> Option<Tabs> {
        let channel = BroadcastChannel::new(name).ok()?;
        let on_message =
            Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| receive(event.data()));
        channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        let mark = Rc::new(Mark {
            channel: name.into(),
            generation: Cell::new(0),
            expires_at: Cell::new(0.0),
            held: RefCell::default(),
            granted: RefCell::default(),
            unmarked: Cell::new(0.0),
            closed: Cell::new(false),
        });
        let on_leave = Closure::<dyn Fn()>::new({
            let mark = Rc::clone(&mark);
            move || {
                let expires_at = mark.expires_at.get();
                if expires_at != 0.0 {
                    mark.set(0.0);
                    mark.unmarked.set(expires_at);
                }
            }
        });
        let on_back = Closure::<dyn Fn()>::new({
            let mark = Rc::clone(&mark);
            move || {
                let unmarked = mark.unmarked.get();
                if unmarked != 0.0 {
                    mark.set(unmarked);
                }
            }
        });
        let global = js_sys::global().dyn_into::<EventTarget>().ok();
        let tabs = Tabs {
            channel,
            _on_message: on_message,
            expires_at: Cell::new(0.0),
            mark,
            global,
            on_leave,
            on_back,
        };
        tabs.each_listener(|target, kind, listener| {
            let options = AddEventListenerOptions::new();
            options.set_capture(true);
            options.set_passive(true);
            let _ = target.add_event_listener_with_callback_and_add_event_listener_options(
                kind, listener, &options,
            );
        });
        Some(tabs)
    }

    fn each_listener(&self, mut each: impl FnMut(&EventTarget, &str, &js_sys::Function)) {
        if let Some(global) = &self.global {
            each(global, LEAVE, self.on_leave.as_ref().unchecked_ref());
            for kind in BACK {
                each(global, kind, self.on_back.as_ref().unchecked_ref());
            }
        }
    }

    /// Tells the other tabs; `token_expires_at`: the message carries this tab's new token,
    /// expiring then (ms since the epoch).
    pub(crate) fn post(&self, message: &JsValue, token_expires_at: Option<f64>) {
        if self.mark.closed.get() {
            return;
        }
        // Throws only for a closed channel or an uncloneable value, neither of which occurs.
        let _ = self.channel.post_message(message);
        if let Some(expires_at) = token_expires_at {
            self.mark.set(expires_at);
        }
    }

    /// This tab stored a token expiring at `expires_at` (ms since the epoch), or tore down
    /// (`None`).
    pub(crate) fn stored(&self, expires_at: Option<f64>) {
        self.expires_at.set(expires_at.unwrap_or(0.0));
        if expires_at.is_none() {
            self.mark.set(0.0);
        }
    }

    /// Runs `send` in this tab's turn. One renewal for all tabs: the tabs take turns under a
    /// Web Lock, and a tab whose turn comes after another tab's new token reached it finds its
    /// renewal cancelled (the session cancels it on that token; `signal` aborts). The message
    /// may reach it after its turn came: the lock manager is the one ordered authority, so a
    /// tab that got a token holds a second lock named after its expiry, taken before the turn
    /// passes on; a tab whose turn comes while a newer token's lock is held waits for that
    /// token instead of renewing. Without Web Locks, `send` runs at once.
    pub(crate) async fn turn(&self, signal: &AbortSignal, send: impl Future<Output = ()>) {
        let Some(locks) = lock_manager() else {
            return send.await;
        };
        let Some(_turn) = acquire(&locks, &self.channel.name(), false, Some(signal)).await else {
            return; // aborted while waiting: another tab's token made it needless, or it timed out
        };
        next_task().await;
        if !signal.aborted() && self.newer_token_elsewhere(&locks).await {
            wait_or_abort(NEWER_TOKEN_WAIT_MS, signal).await;
        }
        if signal.aborted() || self.mark.closed.get() {
            return;
        }
        send.await;
        // The token's mark is held before the turn passes on.
        let granted = self.mark.granted.borrow_mut().take();
        if let Some(granted) = granted {
            let _ = granted.await;
        }
    }

    /// Releases the mark and closes the channel; nothing is sent or received after this.
    pub(crate) fn close(&self) {
        if !self.mark.closed.get() {
            self.each_listener(|target, kind, listener| {
                let _ = target.remove_event_listener_with_callback_and_bool(kind, listener, true);
            });
            self.mark.set(0.0);
            self.mark.closed.set(true);
            self.channel.set_onmessage(None);
            self.channel.close();
        }
    }

    async fn newer_token_elsewhere(&self, locks: &LockManager) -> bool {
        #[derive(Deserialize)]
        struct Snapshot {
            #[serde(default)]
            held: Vec<LockInfo>,
        }
        #[derive(Deserialize)]
        struct LockInfo {
            #[serde(default)]
            name: Option<String>,
        }
        let Ok(query) = locks.query() else {
            return false;
        };
        let Ok(snapshot) = JsFuture::from(query).await else {
            return false;
        };
        let Ok(snapshot) = serde_wasm_bindgen::from_value::<Snapshot>(snapshot) else {
            return false;
        };
        let prefix = self.channel.name() + " ";
        let own = self.expires_at.get();
        snapshot.held.iter().filter_map(|lock| lock.name.as_deref()?.strip_prefix(&prefix)).any(
            // `Number(…)` as the JavaScript driver reads it: not a number is never newer.
            |expires_at| expires_at.parse::<f64>().is_ok_and(|expires_at| expires_at > own),
        )
    }
}

impl Mark {
    /// Holds the lock that tells the tabs this tab got the token expiring at `expires_at`
    /// (0: none), letting go of the previous one.
    fn set(self: &Rc<Self>, expires_at: f64) {
        let generation = self.generation.get() + 1;
        self.generation.set(generation);
        self.held.borrow_mut().take();
        self.granted.borrow_mut().take();
        self.unmarked.set(0.0);
        self.expires_at.set(0.0);
        if expires_at == 0.0 || self.closed.get() {
            return;
        }
        let Some(locks) = lock_manager() else {
            return;
        };
        self.expires_at.set(expires_at);
        let (granted, on_granted) = oneshot::channel();
        *self.granted.borrow_mut() = Some(on_granted);
        let name = format!("{} {}", self.channel, expires_at);
        let mark = Rc::clone(self);
        wasm_bindgen_futures::spawn_local(async move {
            let lock = acquire(&locks, &name, true, None).await;
            if mark.generation.get() == generation {
                *mark.held.borrow_mut() = lock;
            }
            let _ = granted.send(());
        });
    }
}

impl Drop for Tabs {
    fn drop(&mut self) {
        self.close();
    }
}

impl std::fmt::Debug for Tabs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tabs")
            .field("channel", &self.mark.channel)
            .field("expires_at", &self.expires_at.get())
            .field("closed", &self.mark.closed.get())
            .finish_non_exhaustive()
    }
}

fn lock_manager() -> Option<LockManager> {
    let navigator = Reflect::get(&js_sys::global(), &JsValue::from_str("navigator")).ok()?;
    let locks = Reflect::get(&navigator, &JsValue::from_str("locks")).ok()?;
    locks.is_object().then(|| locks.unchecked_into())
}

/// A Web Lock, held until this is dropped.
struct HeldLock {
    release: js_sys::Function,
}

impl Drop for HeldLock {
    fn drop(&mut self) {
        let _ = self.release.call0(&JsValue::UNDEFINED);
    }
}

/// Requests the lock `name` (exclusive, or `shared`); `None` when the request failed or
/// `signal` aborted it before it was granted.
async fn acquire(
    locks: &LockManager,
    name: &str,
    shared: bool,
    signal: Option<&AbortSignal>,
) -> Option<HeldLock> {
    let (held, release) = promise()?;
    let (granted, grant) = promise()?;
    // Called once, when the lock is granted: the lock is held until `held` resolves. Kept until
    // this future ends: by then it has been called, or the request failed and never will call
    // it.
    let callback = Closure::<dyn FnMut(JsValue) -> JsValue>::new(move |_lock| {
        let _ = grant.call1(&JsValue::UNDEFINED, &JsValue::TRUE);
        held.clone().into()
    });
    let options = Object::new();
    if shared {
        let _ = Reflect::set(&options, &"mode".into(), &"shared".into());
    }
    if let Some(signal) = signal {
        let _ = Reflect::set(&options, &"signal".into(), signal);
    }
    let lock = HeldLock { release };
    let request = locks.request(name, &options, callback.as_ref().unchecked_ref()).ok()?;
    // Granted (true), or the request rejected (aborted) first.
    let outcome = JsFuture::from(Promise::race(&Array::of2(&granted, &request))).await;
    outcome.is_ok_and(|value| value.is_truthy()).then_some(lock)
}

/// A pending promise and the function that resolves it (the executor runs synchronously,
/// inside `Promise::new`, so this is always `Some`).
fn promise() -> Option<(Promise, js_sys::Function)> {
    let mut resolver = None;
    let promise = Promise::new(&mut |resolve, _reject| resolver = Some(resolve));
    resolver.map(|resolve| (promise, resolve))
}

/// Waits `ms`, or until `signal` aborts.
async fn wait_or_abort(ms: u32, signal: &AbortSignal) {
    let (done, finished) = oneshot::channel::<()>();
    let done = Rc::new(Cell::new(Some(done)));
    let finish = move || {
        if let Some(done) = done.take() {
            let _ = done.send(());
        }
    };
    let _timeout = Timeout::new(ms, finish.clone());
    let on_abort = Closure::<dyn Fn()>::new(finish);
    let _ = signal.add_event_listener_with_callback("abort", on_abort.as_ref().unchecked_ref());
    if !signal.aborted() {
        let _ = finished.await;
    }
    let _ = signal.remove_event_listener_with_callback("abort", on_abort.as_ref().unchecked_ref());
}

/// A macrotask turn, which fake clocks and background-tab timer throttling leave alone: the
/// other tabs' messages that already arrived are handled first.
async fn next_task() {
    let (Ok(channel), Some((arrived, resolve))) = (MessageChannel::new(), promise()) else {
        return;
    };
    let port = channel.port1();
    port.set_onmessage(Some(&resolve));
    if channel.port2().post_message(&JsValue::from(0)).is_ok() {
        let _ = JsFuture::from(arrived).await;
    }
    port.close();
}
