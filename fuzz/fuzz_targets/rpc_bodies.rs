//! One RPC message through header parsing and every protocol decoder.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| gracewatch::fuzzing::message(data));
