//! TCP stream bytes in arbitrary chunks and gaps through record marking.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| gracewatch::fuzzing::records(data));
