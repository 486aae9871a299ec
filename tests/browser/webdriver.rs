//! A small W3C WebDriver client: just what these tests need, over reqwest.
//!
//! [`Chromedriver`] runs `chromedriver` as a child process on a free loopback port
//! and kills it when the last handle goes. [`Browser`] is one WebDriver session: a
//! headless Chromium with its own fresh profile directory (so two browsers share no
//! cookies, cache or storage); dropping it ends the session, which closes Chromium.
//! Every wait is bounded.

use serde_json::{Value, json};
use std::fmt;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tempfile::TempDir;

pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// The key under which WebDriver returns an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// WebDriver's code for the Tab key, for [`Browser::press`].
pub const TAB: &str = "\u{E004}";
/// WebDriver's code for the Enter key, for [`Browser::press`].
pub const ENTER: &str = "\u{E007}";
/// How long `wait_for` and friends poll before giving up.
pub const WAIT: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(50);

/// An error answered by the driver (`{"value":{"error":..,"message":..}}`) or a
/// transport failure (`error` = "transport").
#[derive(Debug, Clone)]
pub struct WdError {
    pub error: String,
    pub message: String,
}

impl fmt::Display for WdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error, self.message)
    }
}

type WdResult<T> = Result<T, WdError>;

fn transport(err: impl fmt::Display) -> WdError {
    WdError {
        error: "transport".into(),
        message: err.to_string(),
    }
}

/// A running `chromedriver` process, killed on drop.
pub struct Chromedriver {
    child: std::sync::Mutex<Child>,
    port: u16,
    base: String,
    client: reqwest::Client,
}

impl Chromedriver {
    /// Starts chromedriver on a free loopback port and waits (bounded) until it
    /// reports ready. Panics with a clear message when chromedriver or Chromium is
    /// not installed: these tests must fail, not pass, without a browser.
    pub async fn start(log_dir: &Path) -> Arc<Self> {
        for (path, package) in [(CHROMEDRIVER, "chromium-driver"), (CHROMIUM, "chromium")] {
            assert!(
                Path::new(path).exists(),
                "{path} is missing: the browser tests need Debian's `chromium` and \
                 `chromium-driver` packages (apt-get install chromium chromium-driver); \
                 `{package}` provides {path}"
            );
        }
        let port = crate::common::free_port();
        std::fs::create_dir_all(log_dir).expect("chromedriver log directory");
        let log_path = log_dir.join(format!("chromedriver-{port}.log"));
        let log = std::fs::File::create(&log_path).expect("chromedriver log file");
        let spawning = crate::common::spawning();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .arg(format!("--log-path={}", log_path.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}"));
        drop(spawning);
        let driver = Arc::new(Self {
            child: std::sync::Mutex::new(child),
            port,
            base: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::builder()
                .no_proxy()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("HTTP client"),
        });
        driver.wait_ready(&log_path).await;
        driver
    }

    async fn wait_ready(&self, log_path: &Path) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.lock().unwrap().try_wait().expect("try_wait") {
                panic!(
                    "chromedriver exited at start-up ({status}); see {}",
                    log_path.display()
                );
            }
            let ready = self
                .client
                .get(format!("{}/status", self.base))
                .timeout(Duration::from_secs(2))
                .send()
                .await;
            if let Ok(resp) = ready
                && let Ok(body) = resp.json::<Value>().await
                && body["value"]["ready"] == true
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not become ready within 15 s; see {}",
                log_path.display()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Sends one command; the driver's error object becomes `Err`.
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> WdResult<Value> {
        let url = format!("{}{}", self.base, path);
        let mut request = self.client.request(method.clone(), &url);
        if method == reqwest::Method::POST {
            request = request.json(&body.unwrap_or_else(|| json!({})));
        }
        let resp = request.send().await.map_err(transport)?;
        let status = resp.status();
        let body: Value = resp.json().await.map_err(transport)?;
        let value = body.get("value").cloned().unwrap_or(Value::Null);
        if !status.is_success() || value.get("error").is_some_and(|e| e.is_string()) {
            return Err(WdError {
                error: value["error"]
                    .as_str()
                    .unwrap_or("unknown error")
                    .to_owned(),
                message: value["message"].as_str().unwrap_or_default().to_owned(),
            });
        }
        Ok(value)
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// How a browser is started.
#[derive(Debug, Clone, Copy)]
pub struct BrowserOptions {
    pub javascript: bool,
    /// The browser's language preference (`Accept-Language`), e.g. `"sv,en;q=0.5"`.
    pub languages: Option<&'static str>,
}

impl Default for BrowserOptions {
    fn default() -> Self {
        Self {
            javascript: true,
            languages: None,
        }
    }
}

/// The window size of desktop screenshots (as started) and of phone ones.
pub const DESKTOP: (u32, u32) = (1024, 900);
pub const PHONE: (u32, u32) = (390, 844);

/// One WebDriver session: a headless Chromium with a fresh profile.
pub struct Browser {
    driver: Arc<Chromedriver>,
    session: String,
    _profile: TempDir,
    /// `<test name>`, for screenshot names.
    test: String,
    /// Label of this browser in screenshot names ("sender", "recipient", …).
    label: String,
    shots: Arc<AtomicUsize>,
    shot_dir: PathBuf,
}

impl Browser {
    pub async fn start(
        driver: &Arc<Chromedriver>,
        options: BrowserOptions,
        test: &str,
        label: &str,
        shots: Arc<AtomicUsize>,
        shot_dir: &Path,
    ) -> Self {
        let profile = tempfile::Builder::new()
            .prefix("otsd-browser-profile-")
            .tempdir()
            .expect("profile directory");
        let mut chrome_options = json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                format!("--user-data-dir={}", profile.path().display()),
                "--window-size=1024,900",
            ],
        });
        let mut prefs = serde_json::Map::new();
        if !options.javascript {
            prefs.insert(
                "profile.managed_default_content_settings.javascript".into(),
                json!(2),
            );
        }
        if let Some(languages) = options.languages {
            prefs.insert("intl.accept_languages".into(), json!(languages));
        }
        chrome_options["prefs"] = Value::Object(prefs);
        let capabilities = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": chrome_options,
                }
            }
        });
        let value = driver
            .send(reqwest::Method::POST, "/session", Some(capabilities))
            .await
            .unwrap_or_else(|e| panic!("cannot start a Chromium session: {e}"));
        let session = value["sessionId"]
            .as_str()
            .expect("a session id")
            .to_owned();
        let browser = Self {
            driver: Arc::clone(driver),
            session,
            _profile: profile,
            test: test.to_owned(),
            label: label.to_owned(),
            shots,
            shot_dir: shot_dir.to_owned(),
        };
        browser
            .post(
                "/timeouts",
                json!({"pageLoad": 20_000, "script": 10_000, "implicit": 0}),
            )
            .await
            .expect("set timeouts");
        browser
    }

    async fn cmd(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> WdResult<Value> {
        self.driver
            .send(method, &format!("/session/{}{}", self.session, path), body)
            .await
    }

    async fn post(&self, path: &str, body: Value) -> WdResult<Value> {
        self.cmd(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> WdResult<Value> {
        self.cmd(reqwest::Method::GET, path, None).await
    }

    /// Navigates and waits for the page to load.
    pub async fn goto(&self, url: &str) {
        self.post("/url", json!({ "url": url }))
            .await
            .unwrap_or_else(|e| panic!("navigate to {url}: {e}"));
    }

    pub async fn refresh(&self) {
        self.post("/refresh", json!({}))
            .await
            .unwrap_or_else(|e| panic!("refresh: {e}"));
    }

    pub async fn current_url(&self) -> String {
        let value = self.get("/url").await.expect("current url");
        value.as_str().unwrap_or_default().to_owned()
    }

    pub async fn title(&self) -> String {
        let value = self.get("/title").await.expect("title");
        value.as_str().unwrap_or_default().to_owned()
    }

    pub async fn source(&self) -> String {
        let value = self.get("/source").await.expect("page source");
        value.as_str().unwrap_or_default().to_owned()
    }

    /// The value of the cookie `name` the browser holds for the current
    /// page (`HttpOnly` ones too: WebDriver sees them, scripts do not).
    pub async fn cookie(&self, name: &str) -> Option<String> {
        let value = self.get(&format!("/cookie/{name}")).await.ok()?;
        value["value"].as_str().map(str::to_owned)
    }

    /// Runs a script in the page (needs JavaScript enabled for the page).
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> WdResult<Value> {
        self.post("/execute/sync", json!({ "script": script, "args": args }))
            .await
    }

    /// Runs an async script: it gets a callback as its last argument.
    pub async fn execute_async(&self, script: &str, args: Vec<Value>) -> WdResult<Value> {
        self.post("/execute/async", json!({ "script": script, "args": args }))
            .await
    }

    /// Grants or denies a permission (e.g. `clipboard-read`) to the current page.
    pub async fn set_permission(&self, name: &str, state: &str) -> WdResult<Value> {
        self.post(
            "/permissions",
            json!({ "descriptor": { "name": name }, "state": state }),
        )
        .await
    }

    /// The text of an open `alert()`/`confirm()`, if there is one.
    pub async fn alert_text(&self) -> Option<String> {
        match self.get("/alert/text").await {
            Ok(value) => Some(value.as_str().unwrap_or_default().to_owned()),
            Err(e) if e.error == "no such alert" => None,
            Err(e) => panic!("alert text: {e}"),
        }
    }

    /// The first element matching `css` right now, if any.
    pub async fn try_find(&self, css: &str) -> Option<Element<'_>> {
        match self
            .post("/element", json!({"using": "css selector", "value": css}))
            .await
        {
            Ok(value) => Some(self.element(&value)),
            Err(e) if e.error == "no such element" => None,
            Err(e) => panic!("find {css:?}: {e}"),
        }
    }

    /// All elements matching `css` right now.
    pub async fn find_all(&self, css: &str) -> Vec<Element<'_>> {
        let value = self
            .post("/elements", json!({"using": "css selector", "value": css}))
            .await
            .unwrap_or_else(|e| panic!("find all {css:?}: {e}"));
        value
            .as_array()
            .map(|a| a.iter().map(|v| self.element(v)).collect())
            .unwrap_or_default()
    }

    /// Presses `keys` one after another on whatever has the focus, as a
    /// person at the keyboard would (WebDriver "Perform Actions"): no element
    /// is targeted, so only what the page lets the keyboard reach is reached.
    /// [`TAB`] and [`ENTER`] are WebDriver's codes for those keys.
    pub async fn press(&self, keys: &str) {
        let actions: Vec<Value> = keys
            .chars()
            .flat_map(|c| {
                let key = c.to_string();
                [
                    json!({"type": "keyDown", "value": key}),
                    json!({"type": "keyUp", "value": key}),
                ]
            })
            .collect();
        self.post(
            "/actions",
            json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]}),
        )
        .await
        .unwrap_or_else(|e| panic!("press {keys:?}: {e}"));
    }

    /// The element that has the focus (WebDriver "Get Active Element"; no
    /// script, so it works with JavaScript off).
    pub async fn focused(&self) -> Element<'_> {
        let value = self
            .get("/element/active")
            .await
            .unwrap_or_else(|e| panic!("the focused element: {e}"));
        self.element(&value)
    }

    /// Waits (bounded by [`WAIT`]) for an element matching `css`.
    pub async fn find(&self, css: &str) -> Element<'_> {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(element) = self.try_find(css).await {
                return element;
            }
            if Instant::now() >= deadline {
                let url = self.current_url().await;
                let source = self.source().await;
                panic!(
                    "[{}] no element {css:?} within {WAIT:?} on {url}\n--- page source ---\n{}",
                    self.label,
                    excerpt(&source, 3000)
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits (bounded) until the page's URL satisfies `pred`; returns it.
    pub async fn wait_url(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let url = self.current_url().await;
            if pred(&url) {
                return url;
            }
            assert!(
                Instant::now() < deadline,
                "[{}] URL never became {what}; still {url}",
                self.label
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// The visible text of `<main>`: what the page says.
    pub async fn main_text(&self) -> String {
        self.find("main").await.text().await
    }

    /// Saves PNGs of the page as `<test>-<nn>-<label>-<step>.png` (desktop
    /// width, light), `…-phone.png` (a phone's width, light) and
    /// `…-phone-dark.png` (a phone's width, dark), then puts the window back.
    pub async fn screenshot(&self, step: &str) -> PathBuf {
        let n = self.shots.fetch_add(1, Ordering::SeqCst) + 1;
        let name = format!("{}-{n:02}-{}-{step}", self.test, self.label);
        let desktop = self.save_viewport(&format!("{name}.png")).await;
        self.set_window(PHONE).await;
        self.save_viewport(&format!("{name}-phone.png")).await;
        self.set_dark(true).await;
        self.save_viewport(&format!("{name}-phone-dark.png")).await;
        self.set_dark(false).await;
        self.set_window(DESKTOP).await;
        desktop
    }

    async fn save_viewport(&self, file: &str) -> PathBuf {
        let value = self.get("/screenshot").await.expect("screenshot");
        let png = base64_decode(value.as_str().expect("base64 screenshot"))
            .expect("screenshot is valid base64");
        assert!(png.starts_with(b"\x89PNG"), "screenshot is a PNG");
        let path = self.shot_dir.join(file);
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    /// Resizes the window to `(width, height)` CSS pixels.
    pub async fn set_window(&self, (width, height): (u32, u32)) {
        self.post("/window/rect", json!({"width": width, "height": height}))
            .await
            .expect("resize the window");
    }

    /// Emulates `prefers-color-scheme: dark` (or light) through Chromium's
    /// DevTools protocol.
    pub async fn set_dark(&self, dark: bool) {
        let scheme = if dark { "dark" } else { "light" };
        self.post(
            "/goog/cdp/execute",
            json!({
                "cmd": "Emulation.setEmulatedMedia",
                "params": {"features": [{"name": "prefers-color-scheme", "value": scheme}]},
            }),
        )
        .await
        .expect("emulate the colour scheme");
    }

    fn element(&self, value: &Value) -> Element<'_> {
        let id = value[ELEMENT_KEY]
            .as_str()
            .unwrap_or_else(|| panic!("not an element reference: {value}"))
            .to_owned();
        Element { browser: self, id }
    }
}

impl Drop for Browser {
    /// Ends the session (closing Chromium) with a plain blocking request: `Drop`
    /// cannot await, and this must also run while a failed test unwinds.
    fn drop(&mut self) {
        let request = format!(
            "DELETE /session/{} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\
             Content-Length: 0\r\n\r\n",
            self.session, self.driver.port
        );
        let addr = ([127, 0, 0, 1], self.driver.port).into();
        if let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
            let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
            if stream.write_all(request.as_bytes()).is_ok() {
                read_one_response(&mut stream);
            }
        }
    }
}

/// Reads one HTTP response (head, then `Content-Length` bytes of body): chromedriver
/// may keep the connection open, so reading to the end would wait for the timeout.
fn read_one_response(stream: &mut TcpStream) {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if data.len() >= end + 4 + length {
                return;
            }
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    }
}

/// A reference to an element of the current page.
pub struct Element<'b> {
    browser: &'b Browser,
    id: String,
}

impl Element<'_> {
    /// Whether this and `other` are the same element of the page.
    pub fn same(&self, other: &Element<'_>) -> bool {
        self.id == other.id
    }

    fn path(&self, tail: &str) -> String {
        format!("/element/{}{tail}", self.id)
    }

    pub async fn click(&self) {
        self.browser
            .post(&self.path("/click"), json!({}))
            .await
            .unwrap_or_else(|e| panic!("click: {e}"));
    }

    /// Types `text` into the element (WebDriver "Element Send Keys").
    /// chromedriver 148 refuses characters outside the Basic Multilingual Plane
    /// (emoji); those are inserted at the caret by script, as a paste would.
    pub async fn send_keys(&self, text: &str) {
        let mut typed = String::new();
        for c in text.chars() {
            if (c as u32) <= 0xFFFF {
                typed.push(c);
                continue;
            }
            self.type_keys(&std::mem::take(&mut typed)).await;
            let insert = "const el = arguments[0]; \
                el.setRangeText(arguments[1], el.selectionStart, el.selectionEnd, 'end'); \
                el.dispatchEvent(new Event('input', {bubbles: true}));";
            let element = json!({ ELEMENT_KEY: self.id });
            self.browser
                .execute(insert, vec![element, Value::from(c.to_string())])
                .await
                .unwrap_or_else(|e| panic!("insert {c:?}: {e}"));
        }
        self.type_keys(&typed).await;
    }

    async fn type_keys(&self, text: &str) {
        if text.is_empty() {
            return;
        }
        self.browser
            .post(&self.path("/value"), json!({ "text": text }))
            .await
            .unwrap_or_else(|e| panic!("send keys: {e}"));
    }

    /// A DOM property (e.g. `value`, `readOnly`).
    pub async fn property(&self, name: &str) -> Value {
        self.browser
            .get(&self.path(&format!("/property/{name}")))
            .await
            .unwrap_or_else(|e| panic!("property {name}: {e}"))
    }

    /// The `value` property as a string.
    pub async fn value(&self) -> String {
        self.property("value")
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// A PNG of the element as Chromium drew it.
    pub async fn screenshot_png(&self) -> Vec<u8> {
        let value = self
            .browser
            .get(&self.path("/screenshot"))
            .await
            .unwrap_or_else(|e| panic!("element screenshot: {e}"));
        base64_decode(value.as_str().expect("base64 screenshot")).expect("valid base64")
    }

    /// A CSS property as computed (`color`, `font-family`, …).
    pub async fn css(&self, name: &str) -> String {
        let value = self
            .browser
            .get(&self.path(&format!("/css/{name}")))
            .await
            .unwrap_or_else(|e| panic!("css {name}: {e}"));
        value.as_str().unwrap_or_default().to_owned()
    }

    /// An HTML attribute, `None` when absent.
    pub async fn attribute(&self, name: &str) -> Option<String> {
        let value = self
            .browser
            .get(&self.path(&format!("/attribute/{name}")))
            .await
            .unwrap_or_else(|e| panic!("attribute {name}: {e}"));
        value.as_str().map(str::to_owned)
    }

    /// The rendered (visible) text.
    pub async fn text(&self) -> String {
        let value = self
            .browser
            .get(&self.path("/text"))
            .await
            .unwrap_or_else(|e| panic!("text: {e}"));
        value.as_str().unwrap_or_default().to_owned()
    }

    pub async fn is_displayed(&self) -> bool {
        let value = self
            .browser
            .get(&self.path("/displayed"))
            .await
            .unwrap_or_else(|e| panic!("displayed: {e}"));
        value.as_bool().unwrap_or(false)
    }

    pub async fn tag_name(&self) -> String {
        let value = self
            .browser
            .get(&self.path("/name"))
            .await
            .unwrap_or_else(|e| panic!("tag name: {e}"));
        value.as_str().unwrap_or_default().to_lowercase()
    }
}

fn excerpt(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}

/// Standard base64 (RFC 4648, with padding; white space ignored).
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    fn sextet(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let clean: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !clean.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(clean.len() / 4 * 3);
    for (i, chunk) in clean.chunks(4).enumerate() {
        let last = i == clean.len() / 4 - 1;
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for &c in &chunk[..4 - pad] {
            n = (n << 6) | sextet(c)?;
        }
        n <<= 6 * pad as u32;
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    Some(out)
}

#[test]
fn base64_decodes_rfc4648_vectors() {
    for (encoded, plain) in [
        ("", ""),
        ("Zg==", "f"),
        ("Zm8=", "fo"),
        ("Zm9v", "foo"),
        ("Zm9vYg==", "foob"),
        ("Zm9vYmE=", "fooba"),
        ("Zm9vYmFy", "foobar"),
    ] {
        assert_eq!(base64_decode(encoded).unwrap(), plain.as_bytes());
    }
    assert_eq!(base64_decode("+/+/").unwrap(), [0xfb, 0xff, 0xbf]);
    assert!(base64_decode("Zg=").is_none());
    assert!(base64_decode("Zg==Zg==").is_none());
    assert!(base64_decode("Z*==").is_none());
}
