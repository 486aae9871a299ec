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
