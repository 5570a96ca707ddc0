//! ONC-RPC client code: encoders for every procedure the lab and the replay send, and transports.
