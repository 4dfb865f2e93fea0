//! The manifest loader and expansion on arbitrary bytes: they refuse or accept, never panic,
//! and every refusal carries a position.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match azrecon::manifest::load_str("fuzz.yaml", text).and_then(|m| azrecon::kinds::expand(&m)) {
        Ok(_) => {}
        Err(errors) => {
            assert!(!errors.0.is_empty());
            for e in &errors.0 {
                assert!(e.to_string().starts_with("fuzz.yaml:"), "{e}");
            }
        }
    }
});
