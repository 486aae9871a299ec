//! The command line itself: help, version, and a flag that does not exist.

use crate::common::*;

#[test]
fn help_exits_zero_and_names_the_main_flags() {
    let tmp = tempfile::tempdir().unwrap();
    let done = Otsd::bare(tmp.path()).arg("--help").run();
    assert_eq!(done.status.code(), Some(0), "stderr:\n{}", done.stderr);
    for flag in ["--listen", "--data-dir", "--config"] {
        assert!(
            done.stdout.contains(flag),
            "--help mentions {flag}:\n{}",
            done.stdout
        );
    }
    assert!(
        !tmp.path().join("otsd-data").exists(),
        "--help creates no data directory"
    );
}

#[test]
fn an_unknown_flag_exits_non_zero_and_names_it() {
    let tmp = tempfile::tempdir().unwrap();
    let done = Otsd::bare(tmp.path()).arg("--nope").run();
    assert!(!done.status.success(), "exit status {}", done.status);
    assert!(
        done.stderr.contains("--nope") && done.stderr.contains("--help"),
        "names the flag and points to --help; stderr:\n{}",
        done.stderr
    );
    assert!(
        !tmp.path().join("otsd-data").exists(),
        "a bad flag creates no data directory"
    );
}

/// `otsd man`'s roff, and the same with roff's escapes of `-` undone (so a key
/// or an option reads as written).
fn man_page(dir: &std::path::Path) -> String {
    let done = Otsd::bare(dir).arg("man").run();
    assert_eq!(done.status.code(), Some(0), "stderr:\n{}", done.stderr);
    done.stdout.replace("\\-", "-")
}

#[test]
fn the_manual_page_documents_every_setting_with_its_default_and_variable() {
    let tmp = tempfile::tempdir().unwrap();
    let page = man_page(tmp.path());
    let configuration = page
        .split(".SH CONFIGURATION")
        .nth(1)
        .and_then(|rest| rest.split(".SH ").next())
        .expect("a CONFIGURATION section");
    for doc in otsd::config::doc::SETTINGS {
        assert!(
            configuration.contains(&format!("\\fB{}\\fR", doc.key)),
            "CONFIGURATION names `{}`",
            doc.key
        );
        assert!(
            configuration.contains(&doc.env()),
            "CONFIGURATION names {} for `{}`",
            doc.env(),
            doc.key
        );
    }
}

#[test]
fn the_manual_page_has_every_section_and_command_and_names_only_pages_that_exist() {
    let tmp = tempfile::tempdir().unwrap();
    let page = man_page(tmp.path());
    for section in [
        "NAME",
        "SYNOPSIS",
        "DESCRIPTION",
        "OPTIONS",
        "COMMANDS",
        "FILES",
        "CONFIGURATION",
        "ENVIRONMENT",
        "\"EXIT STATUS\"",
        "EXAMPLES",
        "\"SEE ALSO\"",
    ] {
        assert!(
            page.contains(&format!("\n.SH {section}\n")),
            "a {section} section"
        );
    }
    for command in [
        "serve",
        "user <COMMAND>",
        "user add <NAME>",
        "user list",
        "user remove <NAME>",
        "user token <NAME>",
        "user password <NAME>",
        "backup <FILE>",
        "restore <FILE>",
        "check",
        "man",
        "completions <SHELL>",
    ] {
        assert!(
            page.contains(&format!(".SS \"otsd {command}\""))
                || page.contains(&format!(".SS otsd {command}\n")),
            "COMMANDS has `otsd {command}`"
        );
    }
    for flag in [
        "--config",
        "--listen",
        "--data-dir",
        "--accept-data-loss",
        "--strict",
        "--init",
    ] {
        assert!(page.contains(flag), "the page documents {flag}");
    }
    for file in [
        "/etc/otsd/otsd.toml",
        "master.key",
        "admin.sock",
        "DATA_DIR/db",
    ] {
        assert!(page.contains(file), "FILES names {file}");
    }
    // The package ships one page, otsd(1): a reference to otsd-user(1) or the
    // like sends the reader to a page that does not exist.
    let shipped_elsewhere = page
        .match_indices("otsd-")
        .filter(|(at, _)| {
            let rest = &page[at + 5..];
            let name_end = rest
                .find(|c: char| !c.is_ascii_alphanumeric())
                .unwrap_or(rest.len());
            rest[name_end..].starts_with('(')
        })
        .count();
    assert_eq!(
        shipped_elsewhere, 0,
        "no otsd-COMMAND(N) page is named:\n{page}"
    );
    let see_also = page.split(".SH \"SEE ALSO\"").nth(1).unwrap();
    for reference in [
        "systemctl(1)",
        "journalctl(1)",
        "/usr/share/doc/otsd/README.md",
    ] {
        assert!(see_also.contains(reference), "SEE ALSO names {reference}");
    }
}
