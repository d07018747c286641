//! `docs/testing.md` shows `tests/user_model.rs` verbatim; this keeps the two identical.

#[test]
fn docs_show_the_user_model_verbatim() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let doc = std::fs::read_to_string(format!("{root}/docs/testing.md")).unwrap();
    let example =
        std::fs::read_to_string(format!("{root}/loom-tests/tests/user_model.rs")).unwrap();
    assert!(
        doc.contains(&example),
        "docs/testing.md must contain loom-tests/tests/user_model.rs verbatim; update the doc"
    );
}
