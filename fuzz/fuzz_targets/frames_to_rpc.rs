//! Frames through the whole pipeline: input = sequence of (u16 length, frame bytes),
//! as Ethernet frames; the first byte picks the link type.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| gracewatch::fuzzing::frames(data));
