//! The command line.

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// `otsd --version`: the release, and the formats it reads and writes.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (database format 4, backup format 1)"
);

/// Share secrets through links that work exactly once
///
/// A self-hosted server that speaks the Onetime Secret REST API v1 (and v2) and
/// serves web pages to share a secret, reveal it once, and ask for one. It runs
/// with no configuration file: data in ./otsd-data, listening on
/// 127.0.0.1:7143. Secrets are sealed at rest under a master key; the database
/// is embedded (sled), or PostgreSQL for several nodes.
#[derive(Debug, Parser)]
#[command(name = "otsd", version = VERSION)]
pub struct Cli {
    /// TOML configuration file (every key in `otsd man`, CONFIGURATION; OTSD_*
    /// variables override it).
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
        /// Where to write it (mode 0600, put in place only once whole), or "-".
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
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Fill an empty (or absent) data directory from a backup FILE; put the
    /// master key back before starting the server. Without --config, reads
    /// /etc/otsd/otsd.toml when it exists.
    Restore {
        /// A file `otsd backup` wrote.
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
    Remove {
        /// The account's name.
        name: String,
    },
    /// Replace an account's token and print the new one; the old one stops working.
    Token {
        /// The account's name.
        name: String,
    },
    /// Set the account's password for signing in on the web pages (at least
    /// 12 characters), read from the terminal (twice, not shown) or, when
    /// standard input is not a terminal, its first line. Never an argument:
    /// arguments are visible to every user of the machine. Ends the
    /// account's web sessions.
    Password { name: String },
}

/// The manual page, in roff: NAME, SYNOPSIS, DESCRIPTION and OPTIONS from
/// clap (the same text as `--help`), every command with its own arguments,
/// then FILES, CONFIGURATION (every key from [`crate::config::doc::SETTINGS`],
/// the table the README's is tested against), ENVIRONMENT, EXIT STATUS,
/// EXAMPLES and SEE ALSO. One page: otsd ships no otsd-COMMAND(1) pages, so
/// the page names none.
pub fn man_page() -> std::io::Result<Vec<u8>> {
    use clap_mangen::roff::Roff;
    let mut cmd = <Cli as clap::CommandFactory>::command();
    cmd.build();
    let man = clap_mangen::Man::new(cmd.clone());
    let mut page = Vec::new();
    man.render_title(&mut page)?;
    let mut section = |render: &dyn Fn(&mut dyn std::io::Write) -> std::io::Result<()>| {
        let mut chunk = Vec::new();
        render(&mut chunk)?;
        page.extend_from_slice(without_preamble(&chunk));
        std::io::Result::Ok(())
    };
    section(&|w| man.render_name_section(w))?;
    section(&|w| man.render_synopsis_section(w))?;
    section(&|w| man.render_description_section(w))?;
    section(&|w| man.render_options_section(w))?;
    let mut roff = Roff::new();
    man::commands(&mut roff, &cmd);
    man::files(&mut roff);
    man::configuration(&mut roff);
    man::environment(&mut roff);
    man::exit_status(&mut roff);
    man::examples(&mut roff);
    man::see_also(&mut roff);
    section(&|w| roff.to_writer(w))?;
    section(&|w| man.render_version_section(w))?;
    Ok(page)
}

/// roff's apostrophe preamble, which each rendered chunk starts with: once at
/// the top of the page is enough.
fn without_preamble(chunk: &[u8]) -> &[u8] {
    const PREAMBLE: &[u8] = b".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n";
    chunk.strip_prefix(PREAMBLE).unwrap_or(chunk)
}

/// The sections of the manual page that clap does not write.
mod man {
    use clap_mangen::roff::{Roff, bold, italic, roman};

    use crate::config::doc::{SETTINGS, UNSET};

    fn paragraph(roff: &mut Roff, text: &str) {
        roff.control("PP", []);
        roff.text([roman(text)]);
    }

    /// `.TP` with a bold term and its text.
    fn item(roff: &mut Roff, term: &str, text: &str) {
        roff.control("TP", []);
        roff.text([bold(term)]);
        roff.text([roman(text)]);
    }

    /// Every command (and `user`'s), with its usage and its own arguments.
    pub(super) fn commands(roff: &mut Roff, cmd: &clap::Command) {
        roff.control("SH", ["COMMANDS"]);
        roff.text([roman(
            "Without a command, otsd runs the server. The options above apply to every command.",
        )]);
        command_list(roff, cmd);
    }

    fn command_list(roff: &mut Roff, cmd: &clap::Command) {
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let usage = sub
                .clone()
                .render_usage()
                .to_string()
                .trim_start_matches("Usage:")
                .trim()
                .replace(" [OPTIONS]", "")
                .to_owned();
            roff.control("SS", [usage.as_str()]);
            if let Some(about) = sub.get_long_about().or_else(|| sub.get_about()) {
                roff.text([roman(about.to_string().replace('\n', " "))]);
            }
            let own = sub
                .get_arguments()
                .filter(|a| !a.is_global_set() && !a.is_hide_set() && a.get_id() != "help");
            let mut listed = false;
            for arg in own {
                if !listed {
                    roff.control("RS", []);
                    listed = true;
                }
                let term = match arg.get_long() {
                    Some(long) => format!("--{long}"),
                    None => format!(
                        "<{}>",
                        arg.get_value_names()
                            .and_then(|v| v.first())
                            .map_or_else(|| arg.get_id().to_string(), |v| v.to_string())
                    ),
                };
                let mut help = arg
                    .get_long_help()
                    .or_else(|| arg.get_help())
                    .map(|h| h.to_string().replace('\n', " "))
                    .unwrap_or_default();
                let values: Vec<String> = arg
                    .get_possible_values()
                    .iter()
                    .map(|v| v.get_name().to_owned())
                    .collect();
                if !values.is_empty() {
                    help = format!("{help} One of: {}.", values.join(", "))
                        .trim()
                        .to_owned();
                }
                item(roff, &term, &help);
            }
            if listed {
                roff.control("RE", []);
            }
            if sub.has_subcommands() {
                command_list(roff, sub);
            }
        }
    }

    pub(super) fn files(roff: &mut Roff) {
        roff.control("SH", ["FILES"]);
        for (path, text) in [
            (
                "/etc/otsd/otsd.toml",
                "The Debian package's configuration (root:otsd 0640: it may hold secrets). \
                 The server reads a file only when given --config; user, backup, restore and \
                 check read this one when it exists and no --config is given.",
            ),
            (
                "./otsd-data, /var/lib/otsd",
                "The data directory (data_dir): ./otsd-data by default, /var/lib/otsd in the \
                 package (0700, owned by otsd).",
            ),
            (
                "DATA_DIR/master.key",
                "The master key (64 hex characters, 0600), generated on first start unless \
                 master_key or master_key_file is set. Without it no secret can be read: keep \
                 a copy apart from the backups.",
            ),
            (
                "DATA_DIR/db",
                "The embedded database (sled). Absent with database_url (PostgreSQL).",
            ),
            (
                "DATA_DIR/admin.sock",
                "The running server's admin socket (0600): otsd user, backup and restore ask \
                 the server through it.",
            ),
        ] {
            item(roff, path, text);
        }
    }

    pub(super) fn configuration(roff: &mut Roff) {
        roff.control("SH", ["CONFIGURATION"]);
        paragraph(
            roff,
            "Layers, each overriding single keys of the one before: built-in defaults, the \
             TOML file given with --config, OTSD_* environment variables, then --listen and \
             --data-dir. A dotted key is a TOML section: limits.min_ttl is min_ttl in \
             [limits]. Lists in the environment are comma-separated. An unknown key stops \
             start-up (strict = false makes it a warning); otsd check lists every problem.",
        );
        for doc in SETTINGS {
            roff.control("TP", []);
            let default = if doc.default == UNSET {
                roman(" (unset)")
            } else {
                roman(format!(" = {}", doc.default))
            };
            roff.text([bold(doc.key), default]);
            roff.text([roman(doc.meaning)]);
            roff.control("br", []);
            roff.text([roman("Environment: "), bold(doc.env())]);
        }
    }

    pub(super) fn environment(roff: &mut Roff) {
        roff.control("SH", ["ENVIRONMENT"]);
        item(
            roff,
            "OTSD_*",
            "Each setting, as listed under CONFIGURATION: OTSD_ and the key in capitals, \
             with __ between sections (OTSD_LIMITS__MIN_TTL). They override the file.",
        );
        item(
            roff,
            "RUST_LOG",
            "env_logger filters (info, otsd::store=debug); when set, it wins over log_level.",
        );
        item(
            roff,
            "NOTIFY_SOCKET, WATCHDOG_USEC",
            "Set by systemd for a Type=notify unit: otsd says when it is ready and feeds \
             the watchdog while its database answers.",
        );
    }

    pub(super) fn exit_status(roff: &mut Roff) {
        roff.control("SH", ["EXIT STATUS"]);
        item(
            roff,
            "0",
            "Success; the server stopped cleanly on SIGTERM or SIGINT.",
        );
        item(
            roff,
            "1",
            "The command failed (a message on standard error starts with \"otsd: \").",
        );
        item(
            roff,
            "2",
            "Bad command line, or a configuration that does not load (otsd check lists every \
             problem).",
        );
    }

    pub(super) fn examples(roff: &mut Roff) {
        roff.control("SH", ["EXAMPLES"]);
        for (what, commands) in [
            ("Run with no configuration file:", &["otsd"][..]),
            (
                "Check a configuration, then run with it:",
                &[
                    "otsd check --config /etc/otsd/otsd.toml",
                    "otsd --config /etc/otsd/otsd.toml",
                ],
            ),
            (
                "Add the first account before the server's first start (prints its API token once):",
                &["otsd user --init add alice"],
            ),
            (
                "Set the account's web password (read from the terminal):",
                &["otsd user password alice"],
            ),
            (
                "Back up the running server; restore into an empty directory:",
                &[
                    "otsd backup /srv/backups/otsd.backup",
                    "otsd restore /srv/backups/otsd.backup --data-dir /var/lib/otsd",
                ],
            ),
            (
                "Share a secret through the API:",
                &["curl -X POST http://127.0.0.1:7143/api/v1/share -d secret=hunter2 -d ttl=3600"],
            ),
        ] {
            roff.control("PP", []);
            roff.text([roman(what)]);
            for command in commands {
                roff.control("IP", []);
                roff.text([italic(*command)]);
            }
        }
    }

    /// Only pages that exist on a system that has otsd installed.
    pub(super) fn see_also(roff: &mut Roff) {
        roff.control("SH", ["SEE ALSO"]);
        roff.text([roman(
            "systemctl(1), journalctl(1), systemd.service(5); \
             /usr/share/doc/otsd/README.md (the package's copy of the README).",
        )]);
    }
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
