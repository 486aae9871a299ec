//! Replays every seed and every input the fuzz targets (`fuzz/`) ever found a
//! fault with, through the same checks the targets run: a crash found once stays
//! fixed. Kept inputs live in `fuzz/regressions/<target>/`, seeds in
//! `fuzz/seeds/<target>/`.

mod fuzz {
    pub mod checks;
}

use std::path::Path;

#[test]
fn every_kept_fuzz_input_passes_its_target_check() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut replayed = 0;
    for (target, check) in fuzz::checks::TARGETS {
        for kind in ["seeds", "regressions"] {
            let Ok(entries) = std::fs::read_dir(root.join(kind).join(target)) else {
                continue;
            };
            for entry in entries {
                let path = entry.expect("a directory entry").path();
                let input = std::fs::read(&path).expect("readable input");
                let outcome = std::panic::catch_unwind(|| check(&input));
                assert!(outcome.is_ok(), "{target}: {} fails", path.display());
                replayed += 1;
            }
        }
    }
    assert!(
        replayed >= fuzz::checks::TARGETS.len(),
        "seeds are there to replay"
    );
}
