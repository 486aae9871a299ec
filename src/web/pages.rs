//! The HTML of every page. maud escapes every value it interpolates, so secrets,
//! keys and error texts are always rendered as text, never as markup.

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpRequest, web};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::app::AppState;
use crate::format::{duration, utc};
use crate::vault::{Receipt, State};

/// What every page shows around its content: the instance's name.
#[derive(Debug, Clone, Default)]
pub struct Frame {
    /// `web.instance_name`; empty for "otsd".
    instance: String,
}

impl Frame {
    pub fn of(req: &HttpRequest) -> Self {
        let instance = req
            .app_data::<web::Data<AppState>>()
            .map(|state| state.instance_name.clone())
            .unwrap_or_default();
        Self { instance }
    }

    fn name(&self) -> &str {
        if self.instance.is_empty() {
            "otsd"
        } else {
            &self.instance
        }
    }
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
        html lang="en" {
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
                    span.tagline { "secrets that can be read once" }
                }
                main { (content) }
                footer { "Secrets are encrypted on the server and deleted when they are read or expire." }
            }
        }
    }
}

/// A read-only field with a copy button (the button needs JavaScript, so it is
/// hidden without it; the field can always be selected and copied by hand).
fn copy_field(id: &str, label: &str, value: &str, multiline: bool) -> Markup {
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
            button.copy-button.secondary type="button" data-copy=(id) { "Copy" }
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
    layout(
        frame,
        "Share a secret",
        html! {
            h1 { "Share a secret" }
            p.hint { "Paste a password or any other secret. You get a link that works exactly once." }
            (error_line(view.error))
            form.card method="post" action="/share" {
                @if view.closed {
                    fieldset {
                        legend { "Your account" }
                        p.hint { "This server only accepts secrets from accounts." }
                        label for="account" { "Account name" }
                        input type="text" id="account" name="account" autocomplete="username" required;
                        label for="token" { "API token" }
                        input type="password" id="token" name="token" autocomplete="current-password" required;
                    }
                }
                label for="secret" { "Secret" }
                textarea id="secret" name="secret" rows="6" required autocomplete="off" spellcheck="false" {}
                label for="passphrase" { "Passphrase (optional)" }
                input type="password" id="passphrase" name="passphrase" autocomplete="new-password";
                p.hint { "The recipient needs it to reveal the secret. Send it another way than the link." }
                label for="ttl" { "Expires after" }
                select id="ttl" name="ttl" {
                    @for choice in view.ttl_choices {
                        option value=(choice) selected[*choice == view.selected_ttl] { (duration(*choice)) }
                    }
                }
                div.actions {
                    button type="submit" name="action" value="share" { "Create a secret link" }
                    button.secondary type="submit" name="action" value="generate" formnovalidate {
                        "Generate a password"
                    }
                }
            }
        },
    )
}

fn state_text(receipt: &Receipt) -> String {
    match receipt.state {
        State::New => "Not yet viewed".into(),
        State::Viewed => "Viewed: the link was opened, the secret not yet revealed".into(),
        State::Received => format!("Received {}", receipt.received.map(utc).unwrap_or_default()),
        State::Burned => format!("Burned {}", utc(receipt.updated)),
        State::Expired => "Expired".into(),
        State::Orphaned => "Gone".into(),
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
    layout(
        frame,
        "Your secret link",
        html! {
            h1 { "Your secret link" }
            div.card {
                @if let Some(value) = generated {
                    (copy_field("generated", "Generated password", value, false))
                    p.notice { "This is the only time the password is shown. Copy it now." }
                }
                @if let Some(link) = link {
                    (copy_field("link", "Share this link", link, false))
                    p.hint {
                        "It works once. Opening it shows a button; the secret is revealed and "
                        "deleted only when that button is pressed."
                    }
                    @if let Some(svg) = qr_svg(link) {
                        figure.qr {
                            (PreEscaped(svg))
                            figcaption.hint { "Or scan the link with a phone's camera." }
                        }
                    }
                }
                dl {
                    dt { "State" }
                    dd { span.state data-state=(receipt.state.as_str()) { (state_text(receipt)) } }
                    dt { "Passphrase" }
                    dd { @if receipt.passphrase_required { "required" } @else { "none" } }
                    @if let Some(left) = receipt.secret_ttl {
                        dt { "Expires" }
                        dd { "in " (duration(left)) " (" (utc(receipt.created + receipt.ttl)) ")" }
                    }
                    dt { "Created" }
                    dd { (utc(receipt.created)) }
                }
                @if receipt.state.is_live() {
                    div.actions {
                        a.button.secondary href={ "/private/" (key) "/burn" } { "Burn this secret" }
                    }
                }
            }
            p { a href="/" { "Share another secret" } }
            p.hint { "Keep this page's address private: it lets you see and burn this secret." }
        },
    )
}

/// The confirm step before burning.
pub fn confirm_burn(frame: &Frame, receipt: &Receipt, error: Option<&str>) -> Markup {
    let key = receipt.metadata_key.expose();
    layout(
        frame,
        "Burn this secret?",
        html! {
            h1 { "Burn this secret?" }
            p { "The secret will be deleted and its link will stop working. This cannot be undone." }
            (error_line(error))
            form.card method="post" action={ "/private/" (key) "/burn" } {
                @if receipt.passphrase_required {
                    label for="passphrase" { "Passphrase" }
                    input type="password" id="passphrase" name="passphrase" required autocomplete="off";
                }
                div.actions {
                    button.danger type="submit" { "Yes, burn this secret" }
                    a.button.secondary href={ "/private/" (key) } { "Cancel" }
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
    layout(
        frame,
        "You have been sent a secret",
        html! {
            h1 { "You have been sent a secret" }
            p { "It can be viewed only once. When you reveal it, it is deleted from the server." }
            (error_line(error))
            form.card method="post" action={ "/secret/" (key) } {
                @if needs_passphrase {
                    label for="passphrase" { "Passphrase" }
                    input type="password" id="passphrase" name="passphrase" required autocomplete="off" autofocus;
                }
                div.actions {
                    button id="reveal" type="submit" { "Click to reveal" }
                }
            }
        },
    )
}

/// The secret, once.
pub fn revealed(frame: &Frame, value: &str) -> Markup {
    layout(
        frame,
        "Your secret",
        html! {
            h1 { "Your secret" }
            div.card {
                (copy_field("value", "Secret", value, true))
                p.notice {
                    "This secret has now been deleted from the server. Copy it now: "
                    "it cannot be shown again."
                }
            }
            p { a href="/" { "Share a secret of your own" } }
        },
    )
}

/// A receipt link that is unknown, or whose receipt is gone: the creator's
/// page, so it speaks of the receipt, not of a secret sent to the reader.
pub fn receipt_gone(frame: &Frame) -> Markup {
    layout(
        frame,
        "Receipt not available",
        html! {
            h1 { "This receipt is not available" }
            p {
                "The private link is unknown, or its receipt has expired and was deleted "
                "with its secret. Nothing can be seen or burned here."
            }
            p { a href="/" { "Share a secret" } }
        },
    )
}

/// A path no page has, asked for by a browser.
pub fn not_found(frame: &Frame) -> Markup {
    layout(
        frame,
        "Page not found",
        html! {
            h1 { "There is no page here" }
            p { "Check the address. A secret's link is only valid exactly as it was sent." }
            p { a href="/" { "Share a secret" } }
        },
    )
}

/// The link as a QR code, drawn on the server as an SVG (no script, no image
/// request): dark modules on a white square with its quiet zone, which every
/// phone camera reads, in either colour scheme.
fn qr_svg(link: &str) -> Option<String> {
    let code = qrcode::QrCode::new(link.as_bytes()).ok()?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    // Inline in the page: without the XML declaration, labelled for screen readers.
    let start = svg.find("<svg")?;
    Some(svg[start..].replacen(
        "<svg",
        r#"<svg role="img" aria-label="QR code of the link""#,
        1,
    ))
}

/// Unknown, used or expired — deliberately one page for all three.
pub fn gone(frame: &Frame) -> Markup {
    layout(
        frame,
        "Secret not available",
        html! {
            h1 { "This secret is not available" }
            p { "The link is unknown, has already been used, or has expired. A secret can be viewed only once." }
            p { a href="/" { "Share a secret" } }
        },
    )
}

pub fn error(frame: &Frame, message: &str) -> Markup {
    layout(
        frame,
        "Something went wrong",
        html! {
            h1 { "Something went wrong" }
            p.error role="alert" { (message) }
            p { a href="/" { "Back to the start" } }
        },
    )
}
