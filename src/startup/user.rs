//! `otsd user …`: one account command, through the running server's admin
//! socket or, when none answers, on the database itself (on PostgreSQL,
//! always on the database: it serves the nodes and this command together).

use super::{StartupError, open_storage};
use crate::accounts::Accounts;
use crate::admin::{AdminCommand, AdminReply};
use crate::config::Settings;

/// Runs one account command: through the running server's admin socket when one
/// answers, otherwise directly on the database, which must exist unless `init`.
pub fn account_command(
    settings: &Settings,
    command: AdminCommand,
    init: bool,
) -> Result<AdminReply, StartupError> {
    let socket_error = |source| StartupError::DataDir {
        path: settings.data_dir.join(crate::admin::SOCKET),
        source,
    };
    // PostgreSQL serves every node and this command at once: no need to go
    // through a server.
    let shared = settings.database_url.is_set();
    if !shared
        && let Some(reply) =
            crate::admin::send(&settings.data_dir, &command).map_err(socket_error)?
    {
        return Ok(reply);
    }
    let database = settings.database_path();
    if !shared && !init && !database.join("db").is_file() {
        return Err(StartupError::NoDatabase { path: database });
    }
    crate::admin::act_as_data_dir_owner(&settings.data_dir).map_err(|source| {
        StartupError::DataDir {
            path: settings.data_dir.clone(),
            source: std::io::Error::new(
                source.kind(),
                format!("cannot switch to its owner: {source}"),
            ),
        }
    })?;
    let (store, keyring) = open_storage(settings)?;
    let reply = crate::admin::execute(&Accounts::new(store.clone(), keyring), command);
    store.close()?;
    Ok(reply)
}
