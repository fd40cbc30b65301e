#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| beckon_fuzz::text_memory(data));
