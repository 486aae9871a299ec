//! The request path under hostile input: bodies cut short, malformed, trickling in
//! or stalled, and clients that leave halfway. Each is answered with the v1 error
//! (or dropped when its client left), never held open, and stores nothing.

use crate::common::raw_http::{self, RawResponse};
use crate::common::*;
use std::io::Write;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const MULTIPART: &str = "multipart/form-data; boundary=XX";
/// A multipart body whose closing `--XX--` never comes.
const TRUNCATED: &[u8] = b"--XX\r\nContent-Disposition: form-data; name=\"secret\"\r\n\r\nabc\r\n";

/// Runs blocking socket code off the runtime the server's controller shares.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.expect("no panic")
}

async fn exchange(addr: SocketAddr, bytes: Vec<u8>) -> RawResponse {
    blocking(move || raw_http::exchange(addr, &bytes))
        .await
        .expect("an answer")
}

fn assert_v1_error(resp: &RawResponse, intended: u16, message: &str) {
    assert_eq!(resp.status, 404, "{resp:?}");
    assert_eq!(resp.intended(), Some(intended), "{resp:?}");
    assert_eq!(resp.message(), message, "{resp:?}");
}

#[tokio::test]
async fn a_multipart_body_without_its_closing_boundary_is_refused_and_stores_nothing() {
    let app = spawn_app().await;

    let resp = exchange(
        app.socket_addr(),
        raw_http::post(SHARE, MULTIPART, TRUNCATED),
    )
    .await;

    assert_v1_error(&resp, 400, "The multipart body is malformed");
    assert!(
        resp.closed,
        "a body that does not end as it should ends the connection"
    );
    assert_eq!(app.stop_and_count_records().await, (0, 0));
}

#[tokio::test]
async fn malformed_multipart_bodies_are_refused_and_the_server_goes_on() {
    let app = spawn_app().await;
    for (content_type, body) in [
        ("multipart/form-data; boundary=x", &b"\n"[..]),
        ("multipart/form-data; boundary=x", b"--x"),
        ("multipart/form-data; boundary=x", b"--x\r\n\r\n"),
        ("multipart/form-data", b"--\r\n"),
        ("multipart/form-data; boundary=", b"--\r\n\r\n--"),
    ] {
        let resp = exchange(app.socket_addr(), raw_http::post(SHARE, content_type, body)).await;
        assert_v1_error(&resp, 400, "The multipart body is malformed");
    }
    ok_json(app.get("/api/v1/status").await).await;
    assert_eq!(app.stop_and_count_records().await, (0, 0));
}

#[tokio::test]
async fn clients_that_leave_mid_request_leave_no_socket_behind() {
    let app = spawn_app().await;
    let addr = app.socket_addr();

    blocking(move || {
        for _ in 0..50 {
            raw_http::send_and_leave(addr, &raw_http::post(SHARE, MULTIPART, TRUNCATED));
            // A body shorter than it said it would be.
            let mut cut = raw_http::post(SHARE, "application/x-www-form-urlencoded", b"secret=x");
            cut.truncate(cut.len() - 3);
            raw_http::send_and_leave(addr, &cut);
        }
    })
    .await;

    let left =
        blocking(move || raw_http::close_wait_sockets_within(addr.port(), Duration::from_secs(5)))
            .await;
    assert_eq!(
        left, 0,
        "sockets in CLOSE-WAIT: the server still holds them"
    );
    assert_eq!(app.stop_and_count_records().await, (0, 0));
}

#[tokio::test]
async fn a_body_that_trickles_in_is_cut_off_at_the_body_timeout() {
    let app = spawn_app_with(|s| s.limits.body_timeout_secs = 1).await;
    let addr = app.socket_addr();

    let (resp, took) = blocking(move || {
        let mut stream = raw_http::connect(addr);
        let head = "POST /api/v1/share HTTP/1.1\r\nHost: x\r\n\
                    Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n";
        stream.write_all(head.as_bytes()).unwrap();
        let started = Instant::now();
        // A byte every 200 ms: never idle for long, never done.
        for byte in b"secret=slow".iter().cycle().take(15) {
            if stream.write_all(&[*byte]).is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        (raw_http::read_response(&mut stream), started.elapsed())
    })
    .await;

    let resp = resp.expect("an answer before the body ended");
    assert_v1_error(&resp, 408, "The request body was not received in time");
    assert!(resp.closed, "the connection is closed after the timeout");
    assert!(took < Duration::from_secs(5), "cut after {took:?}");
    assert_eq!(app.stop_and_count_records().await, (0, 0));
}

#[tokio::test]
async fn bodies_in_flight_share_one_bounded_budget_that_leaving_clients_give_back() {
    const MAX_BODY: usize = 32 * 1024;
    let app = spawn_app_with(|s| {
        s.limits.max_body_bytes = MAX_BODY;
        s.limits.max_body_bytes_in_flight = 2 * MAX_BODY;
        s.limits.body_timeout_secs = 30;
        s.limits.anonymous.max_secret_bytes = MAX_BODY;
    })
    .await;
    let addr = app.socket_addr();
    let form = "application/x-www-form-urlencoded";
    let big_body = format!("secret={}", "x".repeat(MAX_BODY - 7));

    // Two uploads that stall just short of their end hold most of the budget.
    let stalled: Vec<_> = (0..2)
        .map(|_| {
            let full = raw_http::post(SHARE, form, big_body.as_bytes());
            let mut stream = raw_http::connect(addr);
            stream.write_all(&full[..full.len() - 10]).unwrap();
            (stream, full[full.len() - 10..].to_vec())
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let small = format!("secret={}", "y".repeat(16 * 1024));
    let busy = exchange(addr, raw_http::post(SHARE, form, small.as_bytes())).await;
    assert_v1_error(&busy, 503, "The server is busy. Please try again later.");

    let mut stalled = stalled.into_iter();
    drop(stalled.next()); // one client gives up
    tokio::time::sleep(Duration::from_millis(300)).await;
    let resp = exchange(addr, raw_http::post(SHARE, form, small.as_bytes())).await;
    assert_eq!(resp.status, 200, "its bytes were given back: {resp:?}");

    let (mut last, rest) = stalled.next().unwrap();
    let finished = blocking(move || {
        last.write_all(&rest).unwrap();
        raw_http::read_response(&mut last)
    })
    .await
    .expect("an answer");
    assert_eq!(
        finished.status, 200,
        "the stalled upload completes: {finished:?}"
    );
    assert_eq!(app.stop_and_count_records().await, (2, 2));
}

#[tokio::test]
async fn a_body_larger_than_the_limit_is_refused_before_it_is_read() {
    let app = spawn_app_with(|s| s.limits.max_body_bytes = 1000).await;
    let addr = app.socket_addr();

    let resp = blocking(move || {
        let mut stream = raw_http::connect(addr);
        let head = "POST /api/v1/share HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n";
        stream.write_all(head.as_bytes()).unwrap();
        raw_http::read_response(&mut stream)
    })
    .await
    .expect("an answer without the body");

    assert_v1_error(
        &resp,
        413,
        "Request body exceeds the maximum size of 1000 bytes",
    );
    assert!(
        resp.closed,
        "the unread body is not taken for a next request"
    );
}

#[tokio::test]
async fn heads_the_http_layer_cannot_parse_are_refused_as_documented_and_the_server_goes_on() {
    let app = spawn_app().await;
    let addr = app.socket_addr();

    let bad_header = b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n".to_vec();
    let resp = exchange(addr, bad_header).await;
    assert_eq!(resp.status, 400, "{resp:?}");
    assert!(resp.closed);

    let mut many = String::from("GET /api/v1/status HTTP/1.1\r\nHost: x\r\n");
    for i in 0..100 {
        many.push_str(&format!("X-{i}: y\r\n"));
    }
    many.push_str("\r\n");
    let resp = exchange(addr, many.into_bytes()).await;
    assert_eq!(resp.status, 431, "{resp:?}");

    let huge = format!(
        "GET /api/v1/status HTTP/1.1\r\nHost: x\r\nX: {}\r\n\r\n",
        "a".repeat(140 * 1024)
    );
    let resp = exchange(addr, huge.into_bytes()).await;
    assert_eq!(resp.status, 431, "{resp:?}");

    ok_json(app.get("/api/v1/status").await).await;
}

/// Every route that takes a key in its path, each method it answers, and what
/// it answers a key it does not know with: its page (`Page`), the v1 error
/// (`V1`, 404 with the intended status 404) or `/api/requests`' own (`Real`,
/// a real 404).
const KEY_ROUTES: &[(&str, &str, Answer)] = &[
    ("GET", "/secret/{key}", Answer::Page),
    ("POST", "/secret/{key}", Answer::Page),
    ("GET", "/private/{key}", Answer::Page),
    ("GET", "/private/{key}/burn", Answer::Page),
    ("POST", "/private/{key}/burn", Answer::Page),
    ("GET", "/request/{key}", Answer::Page),
    ("POST", "/request/{key}/reveal", Answer::Page),
    ("GET", "/request/{key}/cancel", Answer::Page),
    ("POST", "/request/{key}/cancel", Answer::Page),
    ("GET", "/ask/{key}", Answer::Page),
    ("POST", "/ask/{key}", Answer::Page),
    ("GET", "/ask/{key}/sent", Answer::Page),
    ("POST", "/api/v1/secret/{key}", Answer::V1),
    ("GET", "/api/v1/private/{key}", Answer::V1),
    ("POST", "/api/v1/private/{key}", Answer::V1),
    ("GET", "/api/v1/metadata/{key}", Answer::V1),
    ("POST", "/api/v1/metadata/{key}", Answer::V1),
    ("POST", "/api/v1/private/{key}/burn", Answer::V1),
    ("POST", "/api/v1/metadata/{key}/burn", Answer::V1),
    ("GET", "/api/requests/{key}", Answer::Real),
    ("POST", "/api/requests/{key}/answer", Answer::Real),
    ("GET", "/api/requests/private/{key}", Answer::Real),
    ("POST", "/api/requests/private/{key}/reveal", Answer::Real),
    ("POST", "/api/requests/private/{key}/cancel", Answer::Real),
];

#[derive(Clone, Copy, Debug)]
enum Answer {
    Page,
    V1,
    Real,
}

/// CR, LF, NUL, DEL, ESC, VT and TAB.
const CONTROL_BYTES: [u8; 7] = [b'\r', b'\n', 0, 0x7f, 0x1b, 0x0b, b'\t'];

/// One request on a connection of its own, and its answer (without waiting
/// to see whether the server closes the connection).
fn ask(addr: SocketAddr, request: &[u8]) -> RawResponse {
    let mut stream = raw_http::connect(addr);
    stream.write_all(request).expect("sent");
    raw_http::read_one(&mut stream).expect("an answer")
}

fn assert_not_found(resp: &RawResponse, answer: Answer, what: &str) {
    assert_eq!(resp.status, 404, "{what}: {resp:?}");
    match answer {
        Answer::Page => assert!(
            resp.header("content-type")
                .is_some_and(|t| t.starts_with("text/html")),
            "{what}: the page's own 404: {resp:?}"
        ),
        Answer::V1 => assert_eq!(resp.intended(), Some(404), "{what}: {resp:?}"),
        Answer::Real => assert!(!resp.message().is_empty(), "{what}: {resp:?}"),
    }
}

fn assert_no_control_in_location(resp: &RawResponse, what: &str) {
    for line in resp.head.lines().skip(1) {
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("location")
        {
            assert!(
                !value.trim().bytes().any(|b| b < 0x20 || b == 0x7f),
                "{what}: a control byte in Location: {resp:?}"
            );
        }
    }
}

/// Requests for one key route, each with what it is: written from the route's
/// method and pattern and a well-formed key to spoil.
type RouteRequests = fn(&str, &str, &str) -> Vec<(String, Vec<u8>)>;

/// Sends, over raw sockets, the requests `make` writes for every key route
/// (given its method and pattern and a well-formed key to spoil); each
/// answer with what it was and the route's kind of 404.
async fn ask_every_key_route(
    app: &TestApp,
    make: RouteRequests,
) -> Vec<(String, Answer, RawResponse)> {
    let addr = app.socket_addr();
    let base = unissued_key();
    blocking(move || {
        let mut responses = Vec::new();
        for &(method, pattern, answer) in KEY_ROUTES {
            for (what, request) in make(method, pattern, &base) {
                responses.push((what, answer, ask(addr, &request)));
            }
        }
        responses
    })
    .await
}

#[tokio::test]
async fn a_key_with_a_control_byte_gets_its_routes_not_found_on_every_key_route() {
    let app = spawn_app().await;

    let responses = ask_every_key_route(&app, |method, pattern, base| {
        let mut requests = Vec::new();
        for byte in CONTROL_BYTES {
            // Alone, and in a key that is otherwise written like ours.
            for key in [
                format!("%{byte:02X}"),
                format!("{}%{byte:02X}{}", &base[..20], &base[21..]),
                format!("{base}%{byte:02X}"),
            ] {
                let path = pattern.replace("{key}", &key);
                let request = raw_http::request(
                    method,
                    &path,
                    &[("Content-Type", "application/x-www-form-urlencoded")],
                    b"secret=x&passphrase=y",
                );
                requests.push((format!("{method} {path}"), request));
            }
        }
        requests
    })
    .await;

    for (what, answer, resp) in &responses {
        assert_not_found(resp, *answer, what);
        assert_no_control_in_location(resp, what);
    }
    ok_json(app.get("/api/v1/status").await).await;
}

/// Control bytes sent raw in the path, where the HTTP layer lets them through,
/// get the route's 404 too; where it does not, a 400. Never a 500.
#[tokio::test]
async fn a_key_with_a_raw_control_byte_is_refused_and_never_a_500() {
    let app = spawn_app().await;

    let responses = ask_every_key_route(&app, |method, pattern, base| {
        let (before, after) = pattern.split_once("{key}").expect("a key route");
        [0x7f, 0x1b, 0x0b, b'\t']
            .into_iter()
            .map(|byte| {
                let mut request = format!("{method} {before}").into_bytes();
                request.extend_from_slice(&base.as_bytes()[..20]);
                request.push(byte);
                request.extend_from_slice(format!("{after} HTTP/1.1\r\n").as_bytes());
                request.extend_from_slice(
                    b"Host: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n\
                      Content-Length: 8\r\n\r\nsecret=x",
                );
                (format!("{method} {pattern} with {byte:#04x}"), request)
            })
            .collect()
    })
    .await;

    for (what, answer, resp) in &responses {
        if resp.status != 400 {
            assert_not_found(resp, *answer, what);
        }
        assert_no_control_in_location(resp, what);
    }
    ok_json(app.get("/api/v1/status").await).await;
}

/// Every page route that takes the caller, and whether it also reads a form.
const PAGE_ROUTES: &[(&str, &str, bool)] = &[
    ("POST", "/share", true),
    ("GET", "/secret/{key}", false),
    ("POST", "/secret/{key}", true),
    ("GET", "/private/{key}", false),
    ("GET", "/private/{key}/burn", false),
    ("POST", "/private/{key}/burn", true),
    ("POST", "/request", true),
    ("GET", "/request/{key}", false),
    ("POST", "/request/{key}/reveal", false),
    ("GET", "/request/{key}/cancel", false),
    ("POST", "/request/{key}/cancel", false),
    ("GET", "/ask/{key}", false),
    ("POST", "/ask/{key}", true),
    ("GET", "/ask/{key}/sent", false),
];

fn assert_page(resp: &RawResponse, status: u16, what: &str) {
    assert_eq!(resp.status, status, "{what}: {resp:?}");
    assert!(
        resp.header("content-type")
            .is_some_and(|t| t.starts_with("text/html")),
        "{what}: a page, not the API's JSON: {resp:?}"
    );
    assert!(resp.intended().is_none(), "{what}: {resp:?}");
    assert!(resp.body.contains("<html"), "{what}: {resp:?}");
}

#[tokio::test]
async fn a_page_refuses_bad_credentials_a_bad_form_and_a_bad_key_with_a_page_never_the_api_json() {
    let app = spawn_app().await;
    let addr = app.socket_addr();
    // Written as issued keys are (`unissued_key` may hold letters no key has).
    let key: String = unissued_key()
        .chars()
        .map(|c| match c {
            'i' | 'l' => '1',
            'o' => '0',
            'u' => 'v',
            c => c,
        })
        .collect();

    let responses = blocking(move || {
        let form = ("Content-Type", "application/x-www-form-urlencoded");
        let mut responses = Vec::new();
        for &(method, pattern, reads_form) in PAGE_ROUTES {
            let path = pattern.replace("{key}", &key);
            // Credentials of no account: the caller is refused.
            let request = raw_http::request(
                method,
                &path,
                &[form, ("Authorization", "Basic bm9ib2R5Om5vcGU=")],
                b"secret=x",
            );
            responses.push((
                format!("{method} {path} as nobody"),
                401,
                ask(addr, &request),
            ));
            // Parameters that are not UTF-8: the form is refused.
            if reads_form {
                let request = raw_http::request(method, &path, &[form], b"secret=%FF&passphrase=y");
                responses.push((
                    format!("{method} {path} not UTF-8"),
                    400,
                    ask(addr, &request),
                ));
            }
            // A key that cannot be a key: the page of what it would have named.
            if pattern.contains("{key}") {
                let path = pattern.replace("{key}", "not-a-key");
                let request = raw_http::request(method, &path, &[form], b"secret=x");
                responses.push((format!("{method} {path}"), 404, ask(addr, &request)));
            }
        }
        responses
    })
    .await;

    for (what, status, resp) in &responses {
        assert_page(resp, *status, what);
    }
}
