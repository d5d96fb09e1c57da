//! The `custops` binary operators run carries no fault injection, chaos or
//! benchmark code: neither it nor the local stack it runs depends on the
//! development tools' crates.

#[test]
fn the_operator_cli_and_the_local_stack_do_not_depend_on_the_development_tools() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for manifest in ["Cargo.toml", "local/Cargo.toml"] {
        let text = std::fs::read_to_string(root.join(manifest)).unwrap();
        let deps: Vec<&str> = text
            .lines()
            .skip_while(|l| l.trim() != "[dependencies]")
            .skip(1)
            .take_while(|l| !l.trim_start().starts_with('['))
            .filter_map(|l| l.split(['.', ' ', '=']).next())
            .filter(|d| !d.is_empty())
            .collect();
        assert!(deps.contains(&"custops-shared"), "{manifest}: {deps:?}");
        for dev in ["custops-dev", "custops-bench", "custops-tests"] {
            assert!(!deps.contains(&dev), "{manifest} depends on {dev}");
        }
    }
}
