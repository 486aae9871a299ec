//! The HTML of every page. maud escapes every value it interpolates, so secrets,
//! keys and error texts are always rendered as text, never as markup. Every
//! word a page shows comes from its language's catalogue (see [`super::i18n`]).

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpRequest, web};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::i18n::{self, Lang};
use crate::app::AppState;
use crate::vault::{Receipt, State};

/// What every page shows around its content, and in which language.
#[derive(Debug, Clone, Default)]
pub struct Frame {
    /// `web.instance_name`; empty for "otsd".
    instance: String,
    pub lang: Lang,
    /// Whether the footer offers the other languages. Not on a page whose
    /// content a reload would lose (a revealed secret, a generated password).
    switcher: bool,
}

impl Frame {
    pub fn of(req: &HttpRequest) -> Self {
        let instance = req
            .app_data::<web::Data<AppState>>()
            .map(|state| state.instance_name.clone())
            .unwrap_or_default();
        let lang = chosen_lang(req)
            .or_else(|| cookie(req, i18n::COOKIE).and_then(Lang::from_tag))
            .or_else(|| {
                req.headers()
                    .get(actix_web::http::header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(Lang::negotiate)
            })
            .unwrap_or_default();
        Self {
            instance,
            lang,
            switcher: true,
        }
    }

    /// This frame without the language switcher.
    pub fn without_switcher(&self) -> Self {
        Self {
            switcher: false,
            ..self.clone()
        }
    }

    fn name(&self) -> &str {
        if self.instance.is_empty() {
            "otsd"
        } else {
            &self.instance
        }
    }

    fn t(&self, key: &'static str) -> &'static str {
        self.lang.t(key)
    }
}

/// The language picked with the switcher (`?lang=`), if it is one of ours.
pub fn chosen_lang(req: &HttpRequest) -> Option<Lang> {
    req.query_string()
        .split('&')
        .find_map(|pair| pair.strip_prefix("lang="))
        .and_then(Lang::from_tag)
}

/// The value of the cookie `name` the browser sent.
pub fn cookie<'r>(req: &'r HttpRequest, name: &str) -> Option<&'r str> {
    req.headers()
        .get_all(actix_web::http::header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k == name).then_some(v)
        })
}

impl FromRequest for Frame {
    type Error = std::convert::Infallible;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        ready(Ok(Self::of(req)))
    }
}

fn layout(frame: &Frame, title: &str, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(frame.lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex, nofollow";
                title { (title) " · " (frame.name()) }
                link rel="stylesheet" href="/static/style.css";
                link rel="icon" href="/static/favicon.svg" type="image/svg+xml";
                script src="/static/app.js" defer {}
            }
            body {
                header {
                    a.brand href="/" { (frame.name()) }
                    span.tagline { (frame.t("tagline")) }
                }
                main { (content) }
                footer {
                    p { (frame.t("footer")) }
                    @if frame.switcher {
                        nav.languages aria-label=(frame.t("language")) {
                            @for lang in Lang::all() {
                                @if lang == frame.lang {
                                    span aria-current="true" lang=(lang.code()) { (lang.name()) }
                                } @else {
                                    a href={ "?lang=" (lang.code()) } hreflang=(lang.code()) lang=(lang.code()) {
                                        (lang.name())
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A read-only field with a copy button (the button needs JavaScript, so it is
/// hidden without it; the field can always be selected and copied by hand).
fn copy_field(frame: &Frame, id: &str, label: &str, value: &str, multiline: bool) -> Markup {
    html! {
        label for=(id) { (label) }
        div.copy-row {
            @if multiline {
                // The HTML parser drops one newline right after <textarea>: give it
                // one to drop, so a value that starts with a newline keeps it.
                textarea id=(id) readonly rows="6" { "\n" (value) }
            } @else {
                input type="text" id=(id) readonly value=(value);
            }
            button.copy-button.secondary type="button" data-copy=(id) { (frame.t("copy")) }
        }
    }
}

fn error_line(error: Option<&str>) -> Markup {
    html! {
        @if let Some(error) = error {
            p.error role="alert" { (error) }
        }
    }
}

/// What the create form needs to know.
pub struct IndexView<'a> {
    /// Closed instance: ask for the account name and token.
    pub closed: bool,
    pub ttl_choices: &'a [u64],
    pub selected_ttl: u64,
    pub error: Option<&'a str>,
}

pub fn index(frame: &Frame, view: &IndexView<'_>) -> Markup {
    let t = |key| frame.t(key);
    layout(
        frame,
        t("index.title"),
        html! {
            h1 { (t("index.title")) }
            p.hint { (t("index.intro")) }
            (error_line(view.error))
            form.card method="post" action="/share" {
                @if view.closed {
                    fieldset {
                        legend { (t("index.account")) }
                        p.hint { (t("index.account_hint")) }
                        label for="account" { (t("index.account_name")) }
                        input type="text" id="account" name="account" autocomplete="username" required;
                        label for="token" { (t("index.token")) }
                        input type="password" id="token" name="token" autocomplete="current-password" required;
                    }
                }
                label for="secret" { (t("index.secret")) }
                textarea id="secret" name="secret" rows="6" required autocomplete="off" spellcheck="false" {}
                label for="passphrase" { (t("index.passphrase")) }
                input type="password" id="passphrase" name="passphrase" autocomplete="new-password";
                p.hint { (t("index.passphrase_hint")) }
                label for="ttl" { (t("index.ttl")) }
                select id="ttl" name="ttl" {
                    @for choice in view.ttl_choices {
                        option value=(choice) selected[*choice == view.selected_ttl] {
                            (frame.lang.duration(*choice))
                        }
                    }
                }
                div.actions {
                    button type="submit" name="action" value="share" { (t("index.share")) }
                    button.secondary type="submit" name="action" value="generate" formnovalidate {
                        (t("index.generate"))
                    }
                }
            }
        },
    )
}

fn state_text(lang: Lang, receipt: &Receipt) -> String {
    let dated = |key, at: Option<u64>| {
        lang.tf(
            key,
            &[("date", &at.map(|at| lang.date(at)).unwrap_or_default())],
        )
    };
    match receipt.state {
        State::New => lang.t("state.new").into(),
        State::Viewed => lang.t("state.viewed").into(),
        State::Received => dated("state.received", receipt.received),
        State::Burned => dated("state.burned", Some(receipt.updated)),
        State::Expired => lang.t("state.expired").into(),
        State::Orphaned => lang.t("state.gone").into(),
    }
}

/// The creator's private receipt. `link` is present while the secret is live;
/// `generated` only right after "Generate a password".
pub fn receipt(
    frame: &Frame,
    receipt: &Receipt,
    link: Option<&str>,
    generated: Option<&str>,
) -> Markup {
    let key = receipt.metadata_key.expose();
    let frame = &if generated.is_some() {
        frame.without_switcher()
    } else {
        frame.clone()
    };
    let (t, lang) = (|key| frame.t(key), frame.lang);
    layout(
        frame,
        t("receipt.title"),
        html! {
            h1 { (t("receipt.title")) }
            div.card {
                @if let Some(value) = generated {
                    (copy_field(frame, "generated", t("receipt.generated"), value, false))
                    p.notice { (t("receipt.generated_once")) }
                }
                @if let Some(link) = link {
                    (copy_field(frame, "link", t("receipt.link"), link, false))
                    p.hint { (t("receipt.link_hint")) }
                    @if let Some(svg) = qr_svg(link, t("receipt.qr_label")) {
                        figure.qr {
                            (PreEscaped(svg))
                            figcaption.hint { (t("receipt.qr")) }
                        }
                    }
                }
                dl {
                    dt { (t("receipt.state")) }
                    dd { span.state data-state=(receipt.state.as_str()) { (state_text(lang, receipt)) } }
                    dt { (t("receipt.passphrase")) }
                    dd {
                        @if receipt.passphrase_required {
                            (t("receipt.passphrase_required"))
                        } @else {
                            (t("receipt.passphrase_none"))
                        }
                    }
                    @if let Some(left) = receipt.secret_ttl {
                        dt { (t("receipt.expires")) }
                        dd {
                            (lang.tf("receipt.expires_in", &[
                                ("duration", &lang.duration(left)),
                                ("date", &lang.date(receipt.created + receipt.ttl)),
                            ]))
                        }
                    }
                    dt { (t("receipt.created")) }
                    dd { (lang.date(receipt.created)) }
                }
                @if receipt.state.is_live() {
                    div.actions {
                        a.button.secondary href={ "/private/" (key) "/burn" } { (t("receipt.burn")) }
                    }
                }
            }
            p { a href="/" { (t("receipt.another")) } }
            p.hint { (t("receipt.private")) }
        },
    )
}

/// The confirm step before burning.
pub fn confirm_burn(frame: &Frame, receipt: &Receipt, error: Option<&str>) -> Markup {
    let key = receipt.metadata_key.expose();
    let t = |key| frame.t(key);
    layout(
        frame,
        t("burn.title"),
        html! {
            h1 { (t("burn.title")) }
            p { (t("burn.intro")) }
            (error_line(error))
            form.card method="post" action={ "/private/" (key) "/burn" } {
                @if receipt.passphrase_required {
                    label for="passphrase" { (t("burn.passphrase")) }
                    input type="password" id="passphrase" name="passphrase" required autocomplete="off";
                }
                div.actions {
                    button.danger type="submit" { (t("burn.confirm")) }
                    a.button.secondary href={ "/private/" (key) } { (t("burn.cancel")) }
                }
            }
        },
    )
}

/// The recipient's page before revealing: changes nothing on the server.
pub fn reveal_form(
    frame: &Frame,
    key: &str,
    needs_passphrase: bool,
    error: Option<&str>,
) -> Markup {
    let t = |key| frame.t(key);
    layout(
        frame,
        t("reveal.title"),
        html! {
            h1 { (t("reveal.title")) }
            p { (t("reveal.intro")) }
            (error_line(error))
            form.card method="post" action={ "/secret/" (key) } {
                @if needs_passphrase {
                    label for="passphrase" { (t("reveal.passphrase")) }
                    input type="password" id="passphrase" name="passphrase" required autocomplete="off" autofocus;
                }
                div.actions {
                    button id="reveal" type="submit" { (t("reveal.button")) }
                }
            }
        },
    )
}

/// The secret, once.
pub fn revealed(frame: &Frame, value: &str) -> Markup {
    let frame = &frame.without_switcher();
    let t = |key| frame.t(key);
    layout(
        frame,
        t("revealed.title"),
        html! {
            h1 { (t("revealed.title")) }
            div.card {
                (copy_field(frame, "value", t("revealed.label"), value, true))
                p.notice { (t("revealed.deleted")) }
            }
            p { a href="/" { (t("revealed.share")) } }
        },
    )
}

/// A page that says one thing and links back to the start.
fn notice(frame: &Frame, heading: &str, text: &str) -> Markup {
    html! {
        h1 { (heading) }
        p { (text) }
        p { a href="/" { (frame.t("gone.share")) } }
    }
}

/// Unknown, used or expired — deliberately one page for all three.
pub fn gone(frame: &Frame) -> Markup {
    let t = |key| frame.t(key);
    layout(
        frame,
        t("gone.title"),
        notice(frame, t("gone.heading"), t("gone.text")),
    )
}

/// A receipt link that is unknown, or whose receipt is gone: the creator's
/// page, so it speaks of the receipt, not of a secret sent to the reader.
pub fn receipt_gone(frame: &Frame) -> Markup {
    let t = |key| frame.t(key);
    layout(
        frame,
        t("receipt_gone.title"),
        notice(frame, t("receipt_gone.heading"), t("receipt_gone.text")),
    )
}

/// A path no page has, asked for by a browser.
pub fn not_found(frame: &Frame) -> Markup {
    let t = |key| frame.t(key);
    layout(
        frame,
        t("not_found.title"),
        notice(frame, t("not_found.heading"), t("not_found.text")),
    )
}

pub fn error(frame: &Frame, message: &str) -> Markup {
    let t = |key| frame.t(key);
    layout(
        frame,
        t("error.title"),
        html! {
            h1 { (t("error.title")) }
            p.error role="alert" { (message) }
            p { a href="/" { (t("error.back")) } }
        },
    )
}

/// The link as a QR code, drawn on the server as an SVG (no script, no image
/// request): dark modules on a white square with its quiet zone, which every
/// phone camera reads, in either colour scheme.
fn qr_svg(link: &str, label: &str) -> Option<String> {
    let code = qrcode::QrCode::new(link.as_bytes()).ok()?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    // Inline in the page: without the XML declaration, labelled for screen readers.
    let start = svg.find("<svg")?;
    let label = maud::html! { (label) }.into_string(); // escaped for the attribute
    let labelled = format!(r#"<svg role="img" aria-label="{label}""#);
    Some(svg[start..].replacen("<svg", &labelled, 1))
}
