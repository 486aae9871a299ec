//! Values are rendered as text, never as markup.

use crate::browser::support::*;

/// Tries to close the textarea and run script, add elements, and smuggle entities.
const HOSTILE: &str = "</textarea><script>document.title='pwned'</script>\n\
                       <img src=x onerror=\"document.title='pwned'\"><b id=\"bold\">bold</b>\n\
                       & &amp; &lt;not a tag&gt; \"double\" 'single' `tick`";

#[tokio::test]
async fn a_secret_full_of_markup_is_shown_as_text() {
    let lab = Lab::new("escaping").await;
    let browser = lab.browser("browser").await;
    let created = create_secret(
        &lab,
        &browser,
        &Form {
            secret: HOSTILE,
            ..Form::default()
        },
    )
    .await;

    browser.goto(&created.link).await;
    browser.find("#reveal").await.click().await;
    let value = browser.find("textarea#value").await;
    assert_eq!(
        value.value().await,
        HOSTILE,
        "the value comes back as typed"
    );
    assert_no_injection(&browser, "Your secret · otsd").await;
    let source = browser.source().await;
    assert!(
        source.contains("&lt;/textarea&gt;&lt;script&gt;"),
        "the markup is escaped in the HTML"
    );
    browser.screenshot("revealed").await;
}

/// An error message that repeats the user's input (an unknown `share_domain`)
/// shows it as text.
#[tokio::test]
async fn an_error_that_repeats_input_shows_it_as_text() {
    let lab = Lab::new("escaping-error").await;
    let browser = lab.browser("browser").await;
    browser.goto(&lab.url("/")).await;
    // A secret that would close the textarea if it were put back unescaped.
    let typed = "anything</textarea><b id=\"bold\">y</b>";
    browser.find("#secret").await.send_keys(typed).await;
    // A field the form does not have, added the way a crafted page would post it.
    browser
        .execute(
            "const i = document.createElement('input'); i.type = 'hidden'; \
             i.name = 'share_domain'; i.value = arguments[0]; \
             document.querySelector('form').appendChild(i);",
            vec![serde_json::json!(
                "<script>document.title='pwned'</script><b id=\"bold\">x</b>"
            )],
        )
        .await
        .expect("script runs");
    button(&browser, "Create a secret link").await.click().await;
    let error = browser.find("p.error").await.text().await;
    assert!(
        error.contains("<script>document.title='pwned'</script><b id=\"bold\">x</b>"),
        "the domain is repeated as text: {error:?}"
    );
    assert_no_injection(&browser, "Share a secret · otsd").await;
    assert_eq!(
        browser.find("#secret").await.value().await,
        typed,
        "a refused form keeps the secret, as text in its field"
    );
    browser.screenshot("error").await;
}

async fn assert_no_injection(browser: &crate::browser::webdriver::Browser, title: &str) {
    assert_eq!(browser.title().await, title, "no script ran");
    assert!(browser.alert_text().await.is_none(), "no dialog opened");
    for css in ["main script", "main img", "#bold", "main b"] {
        assert!(
            browser.try_find(css).await.is_none(),
            "no {css:?} element was made from the value"
        );
    }
}
