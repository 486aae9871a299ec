//! The yardstick for `benches/load.sh`: the smallest useful actix-web server, one
//! worker, answering `GET /api/v1/status` with a fixed JSON body. otsd's figures
//! are reported as a ratio to this one, measured the same way in the same run, so
//! they say what otsd's own work costs rather than how fast the machine is.
//!
//! `cargo run --release --example baseline -- 127.0.0.1:0` (prints the port)

use actix_web::{App, HttpResponse, HttpServer, web};

async fn status() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(r#"{"status":"nominal","locale":"en"}"#)
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7199".to_owned());
    let server = HttpServer::new(|| App::new().route("/api/v1/status", web::get().to(status)))
        .workers(1)
        .bind(addr)?;
    for bound in server.addrs() {
        eprintln!("baseline listening on {bound}");
    }
    server.run().await
}
