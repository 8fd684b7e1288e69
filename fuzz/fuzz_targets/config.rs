//! The configuration loader on arbitrary text: a config that validates, or
//! an error; and what it accepts writes back and reads back the same.
#![no_main]

use hydra_detect::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(config) = Config::from_toml_str(text) else { return };
    config.validate().expect("a loaded config validates");
    let again = Config::from_toml_str(&config.to_toml_string().expect("writes")).expect("reads");
    assert_eq!(again, config);
});
