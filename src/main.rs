//! The `otsd` binary: parse the command line, load config, start logging, run.

use clap::Parser;
use std::process::ExitCode;

use otsd::admin::{AdminCommand, AdminReply};
use otsd::cli::{Cli, Command, UserCommand};
use otsd::config::{self, Overrides};

/// Built with `--features mimalloc`, the process allocates through mimalloc
/// instead of glibc; `benches/load.sh` compares the two (README, Benchmark).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The config file the Debian package installs.
const PACKAGED_CONFIG: &str = "/etc/otsd/otsd.toml";

fn main() -> ExitCode {
    otsd::memory::tune_allocator();
    let mut cli = Cli::parse();
    // On an installed system, `otsd user …`, `backup` and `restore` act on the
    // service's data directory.
    let administers = matches!(
        cli.command,
        Some(
            Command::User { .. }
                | Command::Backup { .. }
                | Command::Restore { .. }
                | Command::Check
        )
    );
    if administers && cli.config.is_none() {
        let packaged = std::path::Path::new(PACKAGED_CONFIG);
        cli.config = packaged.is_file().then(|| packaged.to_owned());
    }
    // Printed from the command line alone: no configuration is read.
    match &cli.command {
        Some(Command::Man) => return print(otsd::cli::man_page()),
        Some(Command::Completions { shell }) => return print(Ok(otsd::cli::completions(*shell))),
        _ => {}
    }
    let overrides = Overrides {
        listen: cli.listen.clone(),
        data_dir: cli.data_dir.clone(),
        strict: cli.strict,
    };
    let mut loaded = match config::load(cli.config.as_deref(), &overrides, None) {
        Ok(loaded) => loaded,
        Err(err) => {
            eprintln!("otsd: {}", otsd::error::report(&err));
            return ExitCode::from(2);
        }
    };
    loaded.settings.accept_data_loss = cli.accept_data_loss;
    if matches!(cli.command, Some(Command::Check)) {
        return check(&loaded);
    }
    env_logger::Builder::from_env(
        env_logger::Env::default().default_filter_or(&loaded.settings.log_level),
    )
    .init();
    for warning in &loaded.warnings {
        log::warn!("{warning}");
    }
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(loaded.settings),
        Command::User { init, action } => return user(&loaded.settings, init, action),
        Command::Backup { file } => return backup(&loaded.settings, &file),
        Command::Check | Command::Man | Command::Completions { .. } => return ExitCode::SUCCESS,
        Command::Restore { file } => return restore(&loaded.settings, &file),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // Said once, as `otsd: …` on stderr: the person at the terminal reads
        // it there and systemd's journal keeps the same line. (A log line as
        // well printed it twice; the plain line also shows with `log_level =
        // "off"`.)
        Err(err) => {
            eprintln!("otsd: {}", otsd::error::report(&err));
            ExitCode::FAILURE
        }
    }
}

fn serve(settings: otsd::Settings) -> Result<(), otsd::startup::StartupError> {
    forbid_core_dumps();
    actix_web::rt::System::new().block_on(async move {
        let signals = otsd::startup::StopSignals::install()?;
        let app = otsd::Application::build(&settings)?;
        log::info!(
            "otsd {} listening on {}",
            env!("CARGO_PKG_VERSION"),
            app.local_addr()
        );
        app.run_until_signalled(signals).await?;
        log::info!("stopped cleanly");
        Ok(())
    })
}

/// A core dump of the server (a crash, the watchdog's SIGABRT) would write the
/// secrets in its memory to disk: the server is made not dumpable, which also
/// keeps other processes of its user from attaching to it.
fn forbid_core_dumps() {
    use rustix::process::{DumpableBehavior, set_dumpable_behavior};
    if let Err(err) = set_dumpable_behavior(DumpableBehavior::NotDumpable) {
        eprintln!("otsd: cannot turn core dumps off: {err}");
    }
}

/// `otsd check` of a configuration that loaded: its warnings (unknown keys
/// that `strict = false` lets through), then that it is valid. Printed as plain
/// lines, not through the logger: the package's install script runs it, and
/// apt runs that on a pseudo-terminal, so a logger's colours reached apt's
/// output as raw escape codes.
fn check(loaded: &config::Loaded) -> ExitCode {
    for warning in &loaded.warnings {
        eprintln!("otsd: warning: {warning}");
    }
    if loaded.warnings.is_empty() {
        eprintln!("otsd: the configuration is valid");
    } else {
        eprintln!(
            "otsd: the configuration is valid, but for the keys above, which `strict = false` \
             lets through and which are ignored"
        );
    }
    ExitCode::SUCCESS
}

/// `otsd user …`: prints tokens on stdout (alone, for scripts), notes on stderr.
fn user(settings: &otsd::Settings, init: bool, action: UserCommand) -> ExitCode {
    let command = match action {
        UserCommand::Add { name } => AdminCommand::Add { name },
        UserCommand::List => AdminCommand::List,
        UserCommand::Remove { name } => AdminCommand::Remove { name },
        UserCommand::Token { name } => AdminCommand::Token { name },
        UserCommand::Password { name } => match read_password(&name) {
            Ok(password) => AdminCommand::Password {
                name,
                password: otsd::admin::Typed(password),
            },
            Err(err) => {
                eprintln!("otsd: reading the password: {err}");
                return ExitCode::FAILURE;
            }
        },
    };
    match otsd::startup::account_command(settings, command, init) {
        Ok(AdminReply::Token { name, token, extid }) => {
            eprintln!("Account {name}; the official client names it {extid} (its customer extid).");
            eprintln!("API token for account {name} (shown only this once):");
            println!("{token}");
            ExitCode::SUCCESS
        }
        Ok(AdminReply::Accounts { accounts }) => {
            for account in accounts {
                println!(
                    "{}\t{}\tcreated {}\tupdated {}",
                    account.name,
                    account.extid,
                    otsd::format::utc(account.created),
                    otsd::format::utc(account.updated)
                );
            }
            ExitCode::SUCCESS
        }
        Ok(AdminReply::PasswordSet { name }) => {
            eprintln!("password of account {name} set; its web sessions have ended");
            ExitCode::SUCCESS
        }
        Ok(AdminReply::Removed { name }) => {
            eprintln!("account {name} removed");
            ExitCode::SUCCESS
        }
        Ok(AdminReply::Error { message }) => {
            eprintln!("otsd: {message}");
            ExitCode::FAILURE
        }
        Ok(AdminReply::Backup { .. }) => {
            eprintln!("otsd: the server answered with a backup");
            ExitCode::FAILURE
        }
        Err(err) => {
            eprintln!("otsd: {}", otsd::error::report(&err));
            ExitCode::FAILURE
        }
    }
}

/// A new password: typed twice on the terminal without echo, or the first
/// line of standard input when it is not a terminal (a script's pipe).
fn read_password(name: &str) -> std::io::Result<zeroize::Zeroizing<String>> {
    use std::io::{BufRead, IsTerminal, Write};
    let stdin = std::io::stdin();
    let read_line = || -> std::io::Result<zeroize::Zeroizing<String>> {
        let mut line = zeroize::Zeroizing::new(String::new());
        stdin.lock().read_line(&mut line)?;
        let end = line.trim_end_matches(['\n', '\r']).len();
        line.truncate(end);
        Ok(line)
    };
    if !stdin.is_terminal() {
        return read_line();
    }
    let quiet = Echo::off()?;
    eprint!("New web password for {name}: ");
    std::io::stderr().flush()?;
    let first = read_line()?;
    eprint!("\nAgain: ");
    std::io::stderr().flush()?;
    let second = read_line()?;
    eprintln!();
    drop(quiet);
    if *first != *second {
        return Err(std::io::Error::other("the two passwords differ"));
    }
    Ok(first)
}

/// The terminal's echo, off while this lives (and back on when dropped, on
/// every path).
struct Echo(rustix::termios::Termios);

impl Echo {
    fn off() -> std::io::Result<Self> {
        use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
        let stdin = std::io::stdin();
        let saved = tcgetattr(&stdin)?;
        let mut quiet = saved.clone();
        quiet.local_modes.remove(LocalModes::ECHO);
        tcsetattr(&stdin, OptionalActions::Now, &quiet)?;
        Ok(Self(saved))
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        let _ = rustix::termios::tcsetattr(
            std::io::stdin(),
            rustix::termios::OptionalActions::Now,
            &self.0,
        );
    }
}

/// "N secrets (M still to be revealed) and K accounts", then ", and R
/// requests for a secret," when a backup holds any: each noun agreeing with its
/// count.
fn contents(summary: &otsd::store::BackupSummary) -> String {
    use otsd::format::count;
    let requests = match summary.requests {
        0 => String::new(),
        n => format!(", and {} for a secret,", count(n, "request", "requests")),
    };
    format!(
        "{} ({} still to be revealed) and {}{requests}",
        count(summary.secrets, "secret", "secrets"),
        summary.unread,
        count(summary.accounts, "account", "accounts"),
    )
}

/// `otsd backup FILE`: the summary on stderr (stdout may be the backup).
fn backup(settings: &otsd::Settings, file: &std::path::Path) -> ExitCode {
    let target = otsd::startup::backup::Target::parse(file);
    match otsd::startup::backup::backup(settings, &target) {
        Ok(summary) => {
            eprintln!(
                "backup of {} written to {}; it holds sealed records only: keep the master \
                 key apart from it",
                contents(&summary),
                match target {
                    otsd::startup::backup::Target::Stdout => "standard output".into(),
                    otsd::startup::backup::Target::File(path) => path.display().to_string(),
                }
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("otsd: {}", otsd::error::report(&err));
            ExitCode::FAILURE
        }
    }
}

/// `otsd restore FILE`.
fn restore(settings: &otsd::Settings, file: &std::path::Path) -> ExitCode {
    match otsd::startup::backup::restore(settings, file) {
        Ok(summary) => {
            eprintln!(
                "restored {} into {}; put the master key back ({} or the `master_key` \
                 setting) before starting the server",
                contents(&summary),
                settings.data_dir.display(),
                settings.master_key_path().display()
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("otsd: {}", otsd::error::report(&err));
            ExitCode::FAILURE
        }
    }
}

/// Writes generated text (the manual page, completions) to standard output.
fn print(text: std::io::Result<Vec<u8>>) -> ExitCode {
    use std::io::Write;
    match text.and_then(|bytes| std::io::stdout().lock().write_all(&bytes)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("otsd: {err}");
            ExitCode::FAILURE
        }
    }
}
