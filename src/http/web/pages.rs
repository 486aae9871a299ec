//! The HTML of every page. maud escapes every value it interpolates, so secrets,
//! keys and error texts are always rendered as text, never as markup. Every
//! word a page shows comes from its language's catalogue (see [`super::i18n`]).

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::i18n::{self, Lang};
use crate::accounts::AccountName;
use crate::domain::MAX_NOTE_CHARS;
use crate::http::extract::SignedIn;
use crate::http::state::AppState;
use crate::vault::{OpenRequest, PrivateView, Receipt, RequestStatus, State};

/// A catalogue text, already escaped for HTML.
type Text = PreEscaped<&'static str>;

/// What every page shows around its content, and in which language.
#[derive(Debug, Clone, Default)]
pub struct Frame {
    /// `web.instance_name`; empty for "otsd".
    instance: String,
    pub lang: Lang,
    /// Whether the footer offers the other languages. Not on a page whose
    /// content a reload would lose (a revealed secret, a generated password).
    switcher: bool,
    /// The account signed in on this request (its session), if any.
    pub signed_in: Option<AccountName>,
    /// Whether any way to sign in is on, so the header offers "Sign in".
    pub sign_in_offered: bool,
}

impl Frame {
    pub fn of(req: &HttpRequest) -> Self {
        let state = req.app_data::<web::Data<AppState>>();
        let instance = state
            .map(|state| state.instance_name.clone())
            .unwrap_or_default();
        let sign_in_offered = state.is_some_and(|state| {
            let (password, oidc) = state.service.sign_in_ways();
            password || oidc
        });
        let signed_in = req
            .extensions()
            .get::<SignedIn>()
            .map(|SignedIn(account)| account.clone());
        let lang = chosen_lang(req)
            .or_else(|| {
                req.cookie(i18n::COOKIE)
                    .and_then(|cookie| Lang::from_tag(cookie.value()))
            })
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
            signed_in,
            sign_in_offered,
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

    /// A catalogue text, escaped once when the catalogue was read.
    fn t(&self, key: &'static str) -> Text {
        self.lang.html(key)
    }
}

/// The language picked with the switcher (`?lang=`), if it is one of ours.
pub fn chosen_lang(req: &HttpRequest) -> Option<Lang> {
    req.query_string()
        .split('&')
        .find_map(|pair| pair.strip_prefix("lang="))
        .and_then(Lang::from_tag)
}

impl FromRequest for Frame {
    type Error = std::convert::Infallible;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        ready(Ok(Self::of(req)))
    }
}

fn layout(frame: &Frame, title: Text, content: Markup) -> Markup {
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
                    (account_nav(frame))
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

/// The header's account controls: who is signed in, "My secrets" and a
/// sign-out button (a form: signing out changes something, so it is a POST
/// that the same-origin check covers); or "Sign in" when nobody is and some
/// way to sign in is on.
fn account_nav(frame: &Frame) -> Markup {
    let t = |key| frame.t(key);
    html! {
        @if let Some(account) = &frame.signed_in {
            nav.account aria-label=(t("nav.label")) {
                span.who { (account.as_str()) }
                a href="/account" { (t("nav.my_secrets")) }
                form.inline method="post" action="/signout" {
                    button.link id="sign-out" type="submit" { (t("nav.sign_out")) }
                }
            }
        } @else if frame.sign_in_offered {
            nav.account aria-label=(t("nav.label")) {
                a id="sign-in-link" href="/signin" { (t("nav.sign_in")) }
            }
        }
    }
}

/// A read-only field with a copy button (the button needs JavaScript, so it is
/// hidden without it; the field can always be selected and copied by hand).
fn copy_field(frame: &Frame, id: &str, label: Text, value: &str, multiline: bool) -> Markup {
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
            // The word the button says once it copied, in the page's language
            // (app.js reads it: it has no catalogue of its own).
            button.copy-button.secondary type="button" data-copy=(id) data-copied=(frame.t("copied")) { (frame.t("copy")) }
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

/// What a form that creates (a secret, a request) needs to know.
pub struct FormView<'a> {
    /// A closed instance where nobody is signed in and no way to sign in is
    /// on: the form asks for the account's name and API token itself.
    pub ask_account: bool,
    /// Offer a recipient to email the link to (signed in, SMTP configured).
    pub recipient: bool,
    pub ttl_choices: &'a [u64],
    pub selected_ttl: u64,
    pub error: Option<&'a str>,
    /// What a refused post had in it, put back into the form.
    pub typed: Typed<'a>,
}

/// What the person typed into a form the server refused (a wrong token, a
/// secret over the limit), put back so that it is not lost: the secret (or a
/// request's note), the account's name and the expiry chosen.
///
/// Safe to send back: it goes only into this one answer, to the browser that
/// has just sent it over the same connection; every page is `Cache-Control:
/// no-store` (so no cache or back-button copy keeps it), no log ever holds a
/// body, and the copy made for it is wiped when the answer is built. The API
/// token and the passphrase are never put back: a wrong token must be typed
/// again anyway, and a password field the server fills would put a
/// credential in the page's source.
#[derive(Debug, Default, Clone, Copy)]
pub struct Typed<'a> {
    pub text: Option<&'a str>,
    pub account: Option<&'a str>,
    pub ttl: Option<u64>,
}

impl FormView<'_> {
    /// The expiry to select: the one the person chose, when it is offered.
    fn selected(&self) -> u64 {
        self.typed
            .ttl
            .filter(|ttl| self.ttl_choices.contains(ttl))
            .unwrap_or(self.selected_ttl)
    }
}

pub fn index(frame: &Frame, view: &FormView<'_>) -> Markup {
    let t = |key| frame.t(key);
    layout(
        frame,
        t("index.title"),
        html! {
            h1 { (t("index.title")) }
            p.hint { (t("index.intro")) }
            (error_line(view.error))
            form.card method="post" action="/share" {
                @if view.ask_account {
                    (account_fields(frame, view.typed.account))
                }
                label for="secret" { (t("index.secret")) }
                textarea id="secret" name="secret" rows="6" required autocomplete="off" spellcheck="false" {
                    (typed_text(view.typed.text))
                }
                label for="passphrase" { (t("index.passphrase")) }
                input type="password" id="passphrase" name="passphrase" autocomplete="new-password";
                p.hint { (t("index.passphrase_hint")) }
                (ttl_select(frame, t("index.ttl"), view.ttl_choices, view.selected()))
                @if view.recipient {
                    label for="recipient" { (t("index.recipient")) }
                    input type="email" id="recipient" name="recipient" autocomplete="email";
                    p.hint { (t("index.recipient_hint")) }
                }
                div.actions {
                    button type="submit" name="action" value="share" { (t("index.share")) }
                    button.secondary type="submit" name="action" value="generate" formnovalidate {
                        (t("index.generate"))
                    }
                }
            }
            p { (t("index.request_intro")) " " a href="/request" { (t("index.request")) } }
        },
    )
}

/// A textarea's text put back: the HTML parser drops one newline right after
/// `<textarea>`, so one goes first, and a text that starts with a newline
/// keeps it.
fn typed_text(text: Option<&str>) -> Markup {
    html! {
        @if let Some(text) = text {
            "\n" (text)
        }
    }
}

/// A closed instance's forms ask for the account's name (kept after a
/// refusal) and token (never kept).
fn account_fields(frame: &Frame, account: Option<&str>) -> Markup {
    let t = |key| frame.t(key);
    html! {
        fieldset {
            legend { (t("index.account")) }
            p.hint { (t("index.account_hint")) }
            label for="account" { (t("index.account_name")) }
            input type="text" id="account" name="account" autocomplete="username" required value=[account];
            label for="token" { (t("index.token")) }
            input type="password" id="token" name="token" autocomplete="current-password" required;
        }
    }
}

/// The TTL choices of a form.
fn ttl_select(frame: &Frame, label: Text, choices: &[u64], selected: u64) -> Markup {
    html! {
        label for="ttl" { (label) }
        select id="ttl" name="ttl" {
            @for choice in choices {
                option value=(choice) selected[*choice == selected] {
                    (frame.lang.duration(*choice))
                }
            }
        }
    }
}

/// A receipt's state as its badge (a short word that fits one line on a
/// phone) and what follows it (a date, or what "viewed" means).
fn state_text(lang: Lang, receipt: &Receipt) -> (&'static str, Option<String>) {
    let when = |at: Option<u64>| at.map(|at| lang.tf("state.when", &[("date", &lang.date(at))]));
    match receipt.state {
        State::New => (lang.t("state.new"), None),
        State::Viewed => (
            lang.t("state.viewed"),
            Some(lang.t("state.viewed_detail").into()),
        ),
        State::Received => (lang.t("state.received"), when(receipt.received)),
        State::Burned => (lang.t("state.burned"), when(Some(receipt.updated))),
        State::Expired => (lang.t("state.expired"), None),
        State::Orphaned => (lang.t("state.gone"), None),
    }
}

/// The state badge with its `data-state`, and the words after it. The badge
/// never wraps (`.state` in the style sheet): a pill broken over two lines
/// reads as two badges.
fn badge(state: &str, (word, detail): (&str, Option<String>)) -> Markup {
    html! {
        span.state data-state=(state) { (word) }
        @if let Some(detail) = detail {
            " " span.state-detail { (detail) }
        }
    }
}

/// The receipt's heading and the hint under it, by state: while the secret is
/// live the page can burn it; after it was received, burned or expired the
/// page only records what became of it, and must not offer what it cannot do.
fn receipt_words(state: State) -> (&'static str, &'static str) {
    match state {
        State::New | State::Viewed => ("receipt.title", "receipt.private"),
        State::Received => ("receipt.title_received", "receipt.private_done"),
        State::Burned => ("receipt.title_burned", "receipt.private_done"),
        State::Expired => ("receipt.title_expired", "receipt.private_done"),
        State::Orphaned => ("receipt.title_gone", "receipt.private_done"),
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
    let key = receipt.receipt_key.expose();
    let frame = &if generated.is_some() {
        frame.without_switcher()
    } else {
        frame.clone()
    };
    let (t, lang) = (|key| frame.t(key), frame.lang);
    let (title, hint) = receipt_words(receipt.state);
    layout(
        frame,
        t(title),
        html! {
            h1 { (t(title)) }
            div.card {
                @if let Some(value) = generated {
                    (copy_field(frame, "generated", t("receipt.generated"), value, false))
                    p.notice { (t("receipt.generated_once")) }
                }
                @if let Some(link) = link {
                    (copy_field(frame, "link", t("receipt.link"), link, false))
                    p.hint { (t("receipt.link_hint")) }
                    (qr_figure(link, t("receipt.qr_label"), t("receipt.qr")))
                }
                dl {
                    dt { (t("receipt.state")) }
                    dd { (badge(receipt.state.as_str(), state_text(lang, receipt))) }
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
            p.hint id="receipt-hint" { (t(hint)) }
        },
    )
}

/// The confirm step before burning.
pub fn confirm_burn(frame: &Frame, receipt: &Receipt, error: Option<&str>) -> Markup {
    let key = receipt.receipt_key.expose();
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
    shown_once(
        frame,
        value,
        ["revealed.title", "revealed.label", "revealed.deleted"],
        ("/", "revealed.share"),
    )
}

/// The answer to a request, once.
pub fn revealed_answer(frame: &Frame, value: &str) -> Markup {
    shown_once(
        frame,
        value,
        [
            "answer_revealed.title",
            "revealed.label",
            "answer_revealed.deleted",
        ],
        ("/request", "private.another"),
    )
}

/// A value shown once: `[title, label, deleted]` texts, and a link onwards.
fn shown_once(
    frame: &Frame,
    value: &str,
    [title, label, deleted]: [&'static str; 3],
    (href, onwards): (&str, &'static str),
) -> Markup {
    let frame = &frame.without_switcher();
    let t = |key| frame.t(key);
    layout(
        frame,
        t(title),
        html! {
            h1 { (t(title)) }
            div.card {
                (copy_field(frame, "value", t(label), value, true))
                p.notice { (t(deleted)) }
            }
            p { a href=(href) { (t(onwards)) } }
        },
    )
}

/// The form that makes a request link.
pub fn ask(frame: &Frame, view: &FormView<'_>) -> Markup {
    let t = |key| frame.t(key);
    layout(
        frame,
        t("ask.title"),
        html! {
            h1 { (t("ask.title")) }
            p.hint { (t("ask.intro")) }
            (error_line(view.error))
            form.card method="post" action="/request" {
                @if view.ask_account {
                    (account_fields(frame, view.typed.account))
                }
                label for="note" { (t("ask.note")) }
                textarea id="note" name="note" rows="3" maxlength=(MAX_NOTE_CHARS) {
                    (typed_text(view.typed.text))
                }
                p.hint { (frame.lang.tf("ask.note_hint", &[("max", &MAX_NOTE_CHARS.to_string())])) }
                (ttl_select(frame, t("ask.ttl"), view.ttl_choices, view.selected()))
                div.actions {
                    button type="submit" { (t("ask.create")) }
                }
            }
            p { a href="/" { (t("ask.share_instead")) } }
        },
    )
}

/// A request's state as its badge and what follows it (see [`state_text`]).
fn request_state_text(lang: Lang, view: &PrivateView) -> (&'static str, Option<String>) {
    match view.status {
        RequestStatus::Waiting => (lang.t("request.waiting"), None),
        RequestStatus::Answered => (
            lang.t("request.answered"),
            Some(lang.tf(
                "request.answered_detail",
                &[(
                    "date",
                    &view.answered.map(|at| lang.date(at)).unwrap_or_default(),
                )],
            )),
        ),
        RequestStatus::Revealed => (lang.t("request.revealed"), None),
        RequestStatus::Cancelled => (lang.t("request.cancelled"), None),
        RequestStatus::Expired => (lang.t("request.expired"), None),
    }
}

/// The requester's private page: the request link while it waits, the reveal
/// button once answered, and where it stands.
pub fn private_page(frame: &Frame, view: &PrivateView, link: Option<&str>) -> Markup {
    let key = view.private_key.expose();
    let (t, lang) = (|key| frame.t(key), frame.lang);
    layout(
        frame,
        t("private.title"),
        html! {
            h1 { (t("private.title")) }
            div.card {
                @if let Some(link) = link {
                    (copy_field(frame, "link", t("private.link"), link, false))
                    p.hint { (t("private.link_hint")) }
                    (qr_figure(link, t("private.qr_label"), t("private.qr")))
                }
                @if let Some(note) = &view.note {
                    p.label { (t("private.note")) }
                    blockquote.note { (note.expose()) }
                }
                dl {
                    dt { (t("receipt.state")) }
                    dd { (badge(view.status.as_str(), request_state_text(lang, view))) }
                    @if let Some(until) = view.live_until {
                        dt { (t("receipt.expires")) }
                        dd {
                            (lang.tf("receipt.expires_in", &[
                                ("duration", &lang.duration(until.saturating_sub(crate::clock::unix_now()))),
                                ("date", &lang.date(until)),
                            ]))
                        }
                    }
                    dt { (t("receipt.created")) }
                    dd { (lang.date(view.created)) }
                }
                @match view.status {
                    RequestStatus::Waiting => {
                        p.hint { (t("private.waiting_hint")) }
                        div.actions {
                            a.button.secondary href={ "/request/" (key) } { (t("private.reload")) }
                            a.button.secondary href={ "/request/" (key) "/cancel" } { (t("private.cancel")) }
                        }
                    }
                    RequestStatus::Answered => {
                        p.notice { (t("private.answer_ready")) }
                        form method="post" action={ "/request/" (key) "/reveal" } {
                            div.actions {
                                button id="reveal" type="submit" { (t("private.reveal")) }
                                a.button.secondary href={ "/request/" (key) "/cancel" } { (t("private.cancel")) }
                            }
                        }
                    }
                    _ => {}
                }
            }
            p { a href="/request" { (t("private.another")) } }
            p.hint { (t("private.keep_private")) }
        },
    )
}

/// The confirm step before cancelling a request.
pub fn confirm_cancel(frame: &Frame, private_key: &str) -> Markup {
    let t = |key| frame.t(key);
    layout(
        frame,
        t("cancel.title"),
        html! {
            h1 { (t("cancel.title")) }
            p { (t("cancel.intro")) }
            form.card method="post" action={ "/request/" (private_key) "/cancel" } {
                div.actions {
                    button.danger type="submit" { (t("cancel.confirm")) }
                    a.button.secondary href={ "/request/" (private_key) } { (t("cancel.back")) }
                }
            }
        },
    )
}

/// The request link's page: the requester's note and one form.
pub fn answer_form(
    frame: &Frame,
    request_key: &str,
    open: &OpenRequest,
    error: Option<&str>,
) -> Markup {
    let (t, lang) = (|key| frame.t(key), frame.lang);
    layout(
        frame,
        t("answer.title"),
        html! {
            h1 { (t("answer.title")) }
            p { (t("answer.intro")) }
            (error_line(error))
            form.card method="post" action={ "/ask/" (request_key) } {
                @if let Some(note) = &open.note {
                    p.label { (t("answer.note")) }
                    blockquote.note { (note.expose()) }
                }
                label for="secret" { (t("answer.secret")) }
                textarea id="secret" name="secret" rows="6" required autocomplete="off" spellcheck="false" {}
                p.hint { (lang.tf("answer.until", &[("date", &lang.date(open.open_until))])) }
                div.actions {
                    button id="send" type="submit" { (t("answer.send")) }
                }
            }
        },
    )
}

/// After an answer was sent.
pub fn answer_sent(frame: &Frame) -> Markup {
    let t = |key| frame.t(key);
    layout(
        frame,
        t("answer.sent_title"),
        html! {
            h1 { (t("answer.sent_heading")) }
            p.notice { (t("answer.sent_text")) }
            p { a href="/" { (t("gone.share")) } }
        },
    )
}

/// The pages that say one thing and link back to the start: each of something
/// a link named that is not there (or not any more), or of no page at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notice {
    /// Unknown, used or expired — deliberately one page for all three.
    Gone,
    /// A receipt link that is unknown, or whose receipt is gone: the creator's
    /// page, so it speaks of the receipt, not of a secret sent to the reader.
    ReceiptGone,
    /// A request link that is unknown, answered, cancelled or expired: one page.
    RequestGone,
    /// A private request link that is unknown, or whose request was deleted.
    PrivateGone,
    /// A path no page has, asked for by a browser.
    NotFound,
}

impl Notice {
    /// The catalogue's title, heading and text.
    fn keys(self) -> [&'static str; 3] {
        match self {
            Self::Gone => ["gone.title", "gone.heading", "gone.text"],
            Self::ReceiptGone => [
                "receipt_gone.title",
                "receipt_gone.heading",
                "receipt_gone.text",
            ],
            Self::RequestGone => [
                "request_gone.title",
                "request_gone.heading",
                "request_gone.text",
            ],
            Self::PrivateGone => [
                "private_gone.title",
                "private_gone.heading",
                "private_gone.text",
            ],
            Self::NotFound => ["not_found.title", "not_found.heading", "not_found.text"],
        }
    }
}

/// A [`Notice`] page.
pub fn notice(frame: &Frame, which: Notice) -> Markup {
    let [title, heading, text] = which.keys().map(|key| frame.t(key));
    layout(
        frame,
        title,
        html! {
            h1 { (heading) }
            p { (text) }
            p { a href="/" { (frame.t("gone.share")) } }
        },
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

/// A link's QR code with its caption, if it can be drawn.
fn qr_figure(link: &str, label: Text, caption: Text) -> Markup {
    html! {
        @if let Some(svg) = qr_svg(link, label) {
            figure.qr {
                (PreEscaped(svg))
                figcaption.hint { (caption) }
            }
        }
    }
}

/// The link as a QR code, drawn on the server as an SVG (no script, no image
/// request): dark modules on a white square with its quiet zone, which every
/// phone camera reads, in either colour scheme.
fn qr_svg(link: &str, label: Text) -> Option<String> {
    let code = qrcode::QrCode::new(link.as_bytes()).ok()?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    // Inline in the page: without the XML declaration, labelled for screen readers.
    let start = svg.find("<svg")?;
    // The label is escaped already (a catalogue text), so fit for the attribute.
    let labelled = format!(r#"<svg role="img" aria-label="{}""#, label.0);
    Some(svg[start..].replacen("<svg", &labelled, 1))
}

/// The ways to sign in that are on: what the sign-in page offers.
#[derive(Debug, Clone, Copy)]
pub struct SignInWays {
    pub password: bool,
    pub single_sign_on: bool,
}

/// The sign-in page: the password form and/or the single sign-on button,
/// whichever are on, with the reason the last attempt failed.
pub fn sign_in(frame: &Frame, ways: SignInWays, error: Option<&str>) -> Markup {
    let t = |key| frame.t(key);
    layout(
        frame,
        t("signin.title"),
        html! {
            h1 { (t("signin.title")) }
            p.hint { (t("signin.intro")) }
            (error_line(error))
            @if ways.password {
                form.card method="post" action="/signin" {
                    label for="name" { (t("signin.name")) }
                    input type="text" id="name" name="name" autocomplete="username"
                        autocapitalize="none" spellcheck="false" required;
                    label for="password" { (t("signin.password")) }
                    input type="password" id="password" name="password"
                        autocomplete="current-password" required;
                    div.actions {
                        button id="sign-in" type="submit" { (t("signin.button")) }
                    }
                }
            }
            @if ways.password && ways.single_sign_on {
                p.or { (t("signin.or")) }
            }
            @if ways.single_sign_on {
                div.card {
                    p.hint { (t("signin.sso_hint")) }
                    div.actions {
                        a.button id="sso" href="/auth/oidc/start" { (t("signin.sso")) }
                    }
                }
            }
            p.hint { (t("signin.links")) }
        },
    )
}

/// What "My secrets" shows.
pub struct AccountView<'a> {
    pub account: &'a AccountName,
    pub extid: &'a str,
    /// Newest first.
    pub receipts: &'a [Receipt],
    /// Open and answered only, newest first.
    pub requests: &'a [PrivateView],
}

/// "My secrets": the account's receipts and requests, and its API token.
pub fn account(frame: &Frame, view: &AccountView<'_>) -> Markup {
    let (t, lang) = (|key| frame.t(key), frame.lang);
    let dash = "—";
    layout(
        frame,
        t("account.title"),
        html! {
            h1 { (t("account.title")) }
            p.hint { (lang.tf("account.signed_in_as", &[("name", view.account.as_str())])) }
            h2 { (t("account.secrets")) }
            @if view.receipts.is_empty() {
                p.hint id="no-secrets" { (t("account.no_secrets")) }
            } @else {
                ul.items id="secrets" {
                    @for receipt in view.receipts {
                        @let key = receipt.receipt_key.expose();
                        li.card data-receipt=(key) {
                            dl {
                                dt { (t("receipt.state")) }
                                dd { (badge(receipt.state.as_str(), state_text(lang, receipt))) }
                                dt { (t("receipt.created")) }
                                dd { (lang.date(receipt.created)) }
                                dt { (t("receipt.expires")) }
                                dd {
                                    @if receipt.state.is_live() {
                                        (lang.date(receipt.created + receipt.ttl))
                                    } @else { (dash) }
                                }
                                dt { (t("account.seen")) }
                                dd {
                                    @match (receipt.received, receipt.state) {
                                        (Some(at), _) => (lang.date(at)),
                                        (None, State::Viewed) => (lang.date(receipt.previewed.unwrap_or(receipt.updated))),
                                        _ => (dash),
                                    }
                                }
                            }
                            div.actions {
                                a.button.secondary href={ "/private/" (key) } { (t("account.open_receipt")) }
                                @if receipt.state.is_live() {
                                    a.button.secondary.burn href={ "/private/" (key) "/burn" } { (t("receipt.burn")) }
                                }
                            }
                        }
                    }
                }
            }
            h2 { (t("account.requests")) }
            @if view.requests.is_empty() {
                p.hint id="no-requests" { (t("account.no_requests")) }
            } @else {
                ul.items id="requests" {
                    @for request in view.requests {
                        @let key = request.private_key.expose();
                        li.card data-request=(key) {
                            @if let Some(note) = &request.note {
                                blockquote.note { (note.expose()) }
                            }
                            dl {
                                dt { (t("receipt.state")) }
                                dd { (badge(request.status.as_str(), request_state_text(lang, request))) }
                                dt { (t("receipt.created")) }
                                dd { (lang.date(request.created)) }
                            }
                            div.actions {
                                a.button.secondary href={ "/request/" (key) } { (t("account.open_request")) }
                            }
                        }
                    }
                }
            }
            h2 { (t("account.api")) }
            div.card {
                dl {
                    dt { (t("account.name")) }
                    dd { (view.account.as_str()) }
                    dt { (t("account.extid")) }
                    dd { code id="extid" { (view.extid) } }
                }
                form method="post" action="/account/token" {
                    p.hint { (t("account.renew_hint")) }
                    div.actions {
                        button.secondary id="renew-token" type="submit" { (t("account.renew")) }
                    }
                }
            }
        },
    )
}

/// A new API token, shown this once.
pub fn token_renewed(frame: &Frame, token: &str, extid: &str) -> Markup {
    let frame = &frame.without_switcher();
    let t = |key| frame.t(key);
    layout(
        frame,
        t("token.title"),
        html! {
            h1 { (t("token.title")) }
            div.card {
                (copy_field(frame, "token", t("token.label"), token, false))
                p.notice { (t("token.once")) }
                dl {
                    dt { (t("account.extid")) }
                    dd { code { (extid) } }
                }
            }
            p { a href="/account" { (t("token.back")) } }
        },
    )
}
