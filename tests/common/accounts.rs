//! Accounts, made and changed through the running server's admin socket (what
//! `otsd user …` does while the server runs: sled allows one open database per
//! process, so a test cannot open the server's database itself).

use std::path::Path;

use otsd::admin::{AdminCommand, AdminReply, send};

/// An account and its API token.
#[derive(Clone, Debug)]
pub struct Account {
    pub name: String,
    pub token: String,
    /// The name the official client sends ("customer extid"); empty when
    /// the test made the account up.
    pub extid: String,
}

impl Account {
    pub fn new(name: &str, token: &str) -> Self {
        Self {
            name: name.to_owned(),
            token: token.to_owned(),
            extid: String::new(),
        }
    }
}

/// A running server with an admin socket: the in-process [`TestApp`] and the
/// real binary's [`Server`].
///
/// [`TestApp`]: super::app::TestApp
/// [`Server`]: super::process::Server
pub trait Admin {
    /// The server's data directory, where `admin.sock` is.
    fn data_path(&self) -> &Path;
}

/// Creates an account through the running server's admin socket.
pub fn add_account(server: &impl Admin, name: &str) -> Account {
    token_from(admin(server, AdminCommand::Add { name: name.into() }), name)
}

/// Replaces an account's token through the admin socket; returns the new one.
pub fn replace_token(server: &impl Admin, account: &Account) -> Account {
    let name = account.name.clone();
    token_from(admin(server, AdminCommand::Token { name }), &account.name)
}

/// Sets an account's web password through the admin socket (what
/// `otsd user password` sends).
pub fn set_password(server: &impl Admin, name: &str, password: &str) {
    let command = AdminCommand::Password {
        name: name.into(),
        password: otsd::admin::Typed(password.to_owned().into()),
    };
    match admin(server, command) {
        AdminReply::PasswordSet { .. } => {}
        AdminReply::Error { message } => panic!("password of {name}: {message}"),
        _ => panic!("password of {name}: an unexpected answer"),
    }
}

/// Removes an account through the admin socket.
pub fn remove_account(server: &impl Admin, account: &Account) {
    let name = account.name.clone();
    match admin(server, AdminCommand::Remove { name }) {
        AdminReply::Removed { .. } => {}
        _ => panic!("removing account {} failed", account.name),
    }
}

fn admin(server: &impl Admin, command: AdminCommand) -> AdminReply {
    send(server.data_path(), &command)
        .expect("admin socket")
        .expect("the running server answers on its admin socket")
}

fn token_from(reply: AdminReply, name: &str) -> Account {
    match reply {
        AdminReply::Token { name, token, extid } => Account { name, token, extid },
        AdminReply::Error { message } => panic!("account {name}: {message}"),
        _ => panic!("account {name}: the answer carries no token"),
    }
}

/// Standard base64 with padding (RFC 4648), for hand-made `Authorization` headers.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
