#![doc = include_str!("../../README.md")]
//!
//! (This crate's documentation is the repository's README, so that `cargo test --doc` compiles
//! every Rust block in it against the generated crates. The example programs are its binaries.)

#[cfg(test)]
mod readme {
    /// The `Cargo.toml` lines of the README name real packages at the paths given (relative to a
    /// checkout named `apigen` beside the user's project).
    #[test]
    fn dependency_lines_name_real_packages() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
        let readme = include_str!("../../README.md");
        let toml = readme.split("```toml\n").nth(1).and_then(|b| b.split("```").next()).unwrap();
        let mut checked = 0;
        for line in toml.lines() {
            let Some((name, rest)) = line.split_once(" = { path = \"../apigen/") else { continue };
            let dir = rest.split('"').next().unwrap();
            let manifest = std::fs::read_to_string(format!("{root}/{dir}/Cargo.toml")).unwrap();
            assert!(manifest.contains(&format!("name = \"{name}\"")), "{dir} is not package {name}");
            checked += 1;
        }
        assert_eq!(checked, 2, "{toml}");
        assert!(toml.contains("tokio = { version = \"1\", features = [\"macros\", \"rt-multi-thread\"] }"));
    }
}
