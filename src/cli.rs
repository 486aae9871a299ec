//! The command line.

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// otsd — share secrets through links that work exactly once.
///
/// Speaks the Onetime Secret REST API v1. Runs with no config file: data in
/// ./otsd-data, listening on 127.0.0.1:7143.
/// `otsd --version`: the release, and the formats it reads and writes.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (database format 4, backup format 1)"
);

#[derive(Debug, Parser)]
#[command(name = "otsd", version = VERSION, about, long_about)]
pub struct Cli {
    /// TOML configuration file (keys as in the README; OTSD_* variables override it).
    #[arg(long, short = 'c', value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,
    /// Address to listen on, e.g. 127.0.0.1:7143 (overrides `listen`).
    #[arg(long, value_name = "ADDR", global = true)]
    pub listen: Option<String>,
    /// Data directory (overrides `data_dir`).
    #[arg(long, value_name = "DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Start even though the database lost changes it had acknowledged (damage
    /// sled recovered from by dropping them); the loss is logged. Only on the
    /// command line, for the one start after deciding not to restore a backup.
    #[arg(long, global = true)]
    pub accept_data_loss: bool,
    /// Refuse unknown configuration keys even where `strict = false` (or
    /// OTSD_STRICT=false) makes them warnings; they are refused by default.
    #[arg(long, global = true)]
    pub strict: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Manage accounts. Works whether or not the server is running: a running
    /// server is asked through its admin socket in the data directory. Without
    /// --config, reads /etc/otsd/otsd.toml when it exists (the package's).
    User {
        /// Create the data directory, database and master key when none exist
        /// (to add the first account before the server's first start). Without
        /// it, a command that finds no database refuses and says where it looked.
        #[arg(long)]
        init: bool,
        #[command(subcommand)]
        action: UserCommand,
    },
    /// Write a consistent backup of the database to FILE ("-": standard output).
    /// A running server makes it through its admin socket, pausing writes for
    /// the moment of the copy; otherwise the database is read directly. The file
    /// holds sealed records only: keep the master key apart from it. Without
    /// --config, reads /etc/otsd/otsd.toml when it exists.
    Backup {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Check the configuration (--config, the environment, the flags) and exit
    /// non-zero listing every problem, unknown keys included; with
    /// `strict = false` those are only warned about.
    Check,
    /// Print the manual page (roff) on standard output.
    Man,
    /// Print shell completions for SHELL on standard output.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Fill an empty (or absent) data directory from a backup FILE; put the
    /// master key back before starting the server. Without --config, reads
    /// /etc/otsd/otsd.toml when it exists.
    Restore {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account and print its API token (shown only this once).
    Add {
        /// Account name: letters, digits and . _ @ + - (an email address works).
        name: String,
    },
    /// List accounts.
    List,
    /// Delete an account; its token stops working at once.
    Remove { name: String },
    /// Replace an account's token and print the new one; the old one stops working.
    Token { name: String },
    /// Set the account's password for signing in on the web pages (at least
    /// 12 characters), read from the terminal (twice, not shown) or, when
    /// standard input is not a terminal, its first line. Never an argument:
    /// arguments are visible to every user of the machine. Ends the
    /// account's web sessions.
    Password { name: String },
}

/// The manual page, in roff.
pub fn man_page() -> std::io::Result<Vec<u8>> {
    let mut page = Vec::new();
    clap_mangen::Man::new(<Cli as clap::CommandFactory>::command()).render(&mut page)?;
    Ok(page)
}

/// Completions for `shell`.
pub fn completions(shell: clap_complete::Shell) -> Vec<u8> {
    let mut script = Vec::new();
    clap_complete::generate(
        shell,
        &mut <Cli as clap::CommandFactory>::command(),
        "otsd",
        &mut script,
    );
    script
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_version_names_the_formats_this_build_uses() {
        assert_eq!(
            super::VERSION,
            format!(
                "{} (database format {}, backup format {})",
                env!("CARGO_PKG_VERSION"),
                crate::store::DATABASE_FORMAT,
                crate::store::BACKUP_FORMAT
            )
        );
    }
}
