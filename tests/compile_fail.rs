//! Programs that must not compile: references outliving their guards, guards sent to other
//! threads or held across `.await` in spawned tasks.

#[test]
#[cfg_attr(miri, ignore = "trybuild runs rustc, which Miri cannot")]
fn compile_fail() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/compile-fail/*.rs");
}
