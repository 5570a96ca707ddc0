//! Lock and client state per server IP (NLM, NSM, NFSv4).
