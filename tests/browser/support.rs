//! What every browser test shares: the real server, one chromedriver per test,
//! browsers with their own profiles, screenshots, and the steps that drive the
//! create form.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Once};

use crate::browser::webdriver::{Browser, BrowserOptions, Chromedriver};
use crate::common::{TestApp, assert_key, spawn_app_with};
use otsd::Settings;

/// `<CARGO_TARGET_TMPDIR>/screenshots`: one PNG per page a test looked at.
pub fn screenshot_dir() -> PathBuf {
    static PRINT: Once = Once::new();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot directory");
    // Straight to stderr, past the test harness's capture, so it is seen.
    PRINT.call_once(|| {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "browser screenshots: {}", dir.display());
    });
    dir
}

/// One test's world: the server, a chromedriver, and a screenshot counter.
pub struct Lab {
    pub app: TestApp,
    driver: Arc<Chromedriver>,
    test: &'static str,
    shots: Arc<AtomicUsize>,
}

impl Lab {
    pub async fn new(test: &'static str) -> Self {
        Self::with(test, |_| {}).await
    }

    pub async fn with(test: &'static str, configure: impl FnOnce(&mut Settings)) -> Self {
        remove_old_screenshots(test);
        let app = spawn_app_with(configure).await;
        let driver = Chromedriver::start(&log_dir()).await;
        Self {
            app,
            driver,
            test,
            shots: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// A new browser (its own Chromium and profile) with JavaScript on.
    pub async fn browser(&self, label: &str) -> Browser {
        self.browser_with(label, BrowserOptions::default()).await
    }

    /// A new browser with JavaScript switched off by content settings.
    pub async fn browser_without_js(&self, label: &str) -> Browser {
        self.browser_with(
            label,
            BrowserOptions {
                javascript: false,
                ..BrowserOptions::default()
            },
        )
        .await
    }

    /// A new browser whose language preference is `languages`.
    pub async fn browser_in(&self, label: &str, languages: &'static str) -> Browser {
        self.browser_with(
            label,
            BrowserOptions {
                languages: Some(languages),
                ..BrowserOptions::default()
            },
        )
        .await
    }

    async fn browser_with(&self, label: &str, options: BrowserOptions) -> Browser {
        Browser::start(
            &self.driver,
            options,
            self.test,
            label,
            Arc::clone(&self.shots),
            &screenshot_dir(),
        )
        .await
    }

    pub fn url(&self, path: &str) -> String {
        self.app.url(path)
    }

    /// The receipt as the API sees it (does not change the state).
    pub async fn api_receipt(&self, metadata_key: &str) -> Value {
        let resp = self.app.metadata(metadata_key).await;
        assert_eq!(resp.status(), 200, "receipt over the API");
        resp.json().await.expect("JSON receipt")
    }
}

/// Deletes `<test>-<nn>-*.png` left by an earlier run, so the directory shows
/// this run only.
fn remove_old_screenshots(test: &str) {
    let Ok(entries) = std::fs::read_dir(screenshot_dir()) else {
        return;
    };
    let prefix = format!("{test}-");
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let ours = name.strip_prefix(&prefix).is_some_and(|rest| {
            let b = rest.as_bytes();
            b.len() > 3 && b[..2].iter().all(u8::is_ascii_digit) && b[2] == b'-'
        });
        if ours && name.ends_with(".png") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn log_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-logs")
}

/// What the form left us with after "Create a secret link".
#[derive(Debug, Clone)]
pub struct Created {
    /// `/private/{metadata_key}` as a full URL.
    pub receipt_url: String,
    pub metadata_key: String,
    /// The share link shown in `#link`.
    pub link: String,
    pub secret_key: String,
}

/// What the create form is asked to do.
#[derive(Debug, Default, Clone, Copy)]
pub struct Form<'a> {
    pub secret: &'a str,
    pub passphrase: Option<&'a str>,
    /// The `value` of the expiry option to choose; `None` keeps the default.
    pub ttl: Option<&'a str>,
    /// Account and token on a closed instance.
    pub account: Option<(&'a str, &'a str)>,
}

/// Fills the create form on the current page (which must be `/`).
pub async fn fill_form(browser: &Browser, form: &Form<'_>) {
    if let Some((account, token)) = form.account {
        browser.find("#account").await.send_keys(account).await;
        browser.find("#token").await.send_keys(token).await;
    }
    if !form.secret.is_empty() {
        browser.find("#secret").await.send_keys(form.secret).await;
    }
    if let Some(passphrase) = form.passphrase {
        browser
            .find("#passphrase")
            .await
            .send_keys(passphrase)
            .await;
    }
    if let Some(ttl) = form.ttl {
        browser
            .find(&format!("#ttl option[value=\"{ttl}\"]"))
            .await
            .click()
            .await;
        assert_eq!(browser.find("#ttl").await.value().await, ttl);
    }
}

/// The submit button with this visible text.
pub async fn button<'b>(
    browser: &'b Browser,
    text: &str,
) -> crate::browser::webdriver::Element<'b> {
    with_text(browser, "button, a.button", text).await
}

/// The element matching `css` whose visible text is `text`.
pub async fn with_text<'b>(
    browser: &'b Browser,
    css: &str,
    text: &str,
) -> crate::browser::webdriver::Element<'b> {
    for candidate in browser.find_all(css).await {
        if candidate.text().await.trim() == text {
            return candidate;
        }
    }
    panic!("no {css} {text:?} on {}", browser.current_url().await);
}

/// Opens `/`, fills the form, presses "Create a secret link", and reads the
/// receipt it lands on.
pub async fn create_secret(lab: &Lab, browser: &Browser, form: &Form<'_>) -> Created {
    browser.goto(&lab.url("/")).await;
    fill_form(browser, form).await;
    button(browser, "Create a secret link").await.click().await;
    read_receipt(lab, browser).await
}

/// On a receipt page reached by the form: its URL, keys and share link.
pub async fn read_receipt(lab: &Lab, browser: &Browser) -> Created {
    let prefix = lab.url("/private/");
    let receipt_url = browser
        .wait_url("a receipt page", |u| u.starts_with(&prefix))
        .await;
    let metadata_key = receipt_url[prefix.len()..].to_owned();
    assert_key(&metadata_key, "metadata key in the receipt URL");
    let link = browser.find("#link").await.value().await;
    let secret_key = secret_key_of(lab, &link);
    Created {
        receipt_url,
        metadata_key,
        link,
        secret_key,
    }
}

/// The key of a share link, after checking the link points at this server.
pub fn secret_key_of(lab: &Lab, link: &str) -> String {
    let prefix = lab.url("/secret/");
    assert!(
        link.starts_with(&prefix),
        "the share link {link:?} is a /secret/ link on this server"
    );
    let key = link[prefix.len()..].to_owned();
    assert_key(&key, "secret key in the share link");
    key
}

/// `data-state` of the receipt's state badge.
pub async fn receipt_state(browser: &Browser) -> String {
    browser
        .find("span.state")
        .await
        .attribute("data-state")
        .await
        .unwrap_or_default()
}

/// Reloads the receipt until its state is `want` (bounded) and returns the
/// badge text.
pub async fn wait_receipt_state(browser: &Browser, receipt_url: &str, want: &str) -> String {
    let deadline = std::time::Instant::now() + crate::browser::webdriver::WAIT;
    loop {
        browser.goto(receipt_url).await;
        let state = receipt_state(browser).await;
        if state == want {
            return browser.find("span.state").await.text().await;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "receipt state stayed {state:?}, expected {want:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The `<dd>` after the `<dt>` with this text in the receipt.
pub async fn receipt_field(browser: &Browser, label: &str) -> Option<String> {
    let terms = browser.find_all("dl > dt").await;
    let details = browser.find_all("dl > dd").await;
    for (term, detail) in terms.iter().zip(details.iter()) {
        if term.text().await.trim() == label {
            return Some(detail.text().await.trim().to_owned());
        }
    }
    None
}

/// The "not available" page: unknown, used and expired links all look like this.
pub async fn assert_gone(browser: &Browser) -> String {
    let heading = browser.find("h1").await.text().await;
    assert_eq!(
        heading, "This secret is not available",
        "the page says the link no longer works"
    );
    assert!(
        browser.try_find("#reveal").await.is_none(),
        "a gone secret offers no reveal button"
    );
    assert!(browser.try_find("#value").await.is_none());
    browser.main_text().await
}

/// Clicks the copy button of field `id` and checks (bounded) that it says
/// "Copied" and that the clipboard holds exactly `expected`.
pub async fn assert_copy_button_copies(browser: &Browser, id: &str, expected: &str) {
    assert_copy_button_says(browser, id, expected, "Copied").await;
}

/// [`assert_copy_button_copies`] on a page whose language says `word`.
pub async fn assert_copy_button_says(browser: &Browser, id: &str, expected: &str, word: &str) {
    for permission in ["clipboard-read", "clipboard-write"] {
        browser
            .set_permission(permission, "granted")
            .await
            .unwrap_or_else(|e| panic!("grant {permission}: {e}"));
    }
    let copy = browser.find(&format!("button[data-copy={id}]")).await;
    assert!(
        copy.is_displayed().await,
        "with JavaScript the copy button shows"
    );
    copy.click().await;
    let deadline = std::time::Instant::now() + crate::browser::webdriver::WAIT;
    loop {
        let probe = browser
            .execute_async(
                "const done = arguments[arguments.length - 1]; \
                 const label = document.querySelector('[data-copy=' + arguments[0] + ']').textContent; \
                 navigator.clipboard.readText().then(t => done({label, clip: t}), \
                   e => done({label, clip: null, error: String(e)}));",
                vec![Value::from(id)],
            )
            .await
            .expect("clipboard probe runs");
        if probe["label"] == word && probe["clip"] == expected {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the copy button of #{id} did not copy {expected:?}: {probe}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The text of the one QR code in a PNG, as a phone's camera would read it.
pub fn decode_qr(png: &[u8]) -> String {
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut pixels).expect("a frame");
    let channels = info.color_type.samples();
    let (width, height) = (info.width as usize, info.height as usize);
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| {
        let i = (y * width + x) * channels;
        let rgb = &pixels[i..i + channels.min(3)];
        (rgb.iter().map(|&c| u32::from(c)).sum::<u32>() / rgb.len() as u32) as u8
    });
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the picture");
    grids[0].decode().expect("the code decodes").1
}
