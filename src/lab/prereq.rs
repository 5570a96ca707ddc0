//! What the lab needs on the machine, and the skip-or-fail policy of lab tests.

use std::path::Path;

/// Programs the lab runs, with the Debian package that ships each.
pub const PROGRAMS: &[(&str, &str)] = &[
    ("ip", "iproute2"),
    ("rpcbind", "rpcbind"),
    ("rpc.statd", "nfs-common"),
    ("sm-notify", "nfs-common"),
    ("ganesha.nfsd", "nfs-ganesha"),
    ("tcpdump", "tcpdump"),
    ("tshark", "tshark"),
    ("nfs-ls", "libnfs-utils"),
    ("nfs-cat", "libnfs-utils"),
    ("nfs-cp", "libnfs-utils"),
];

fn in_path(prog: &str) -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<std::path::PathBuf> = std::env::split_paths(&path).collect();
    for d in ["/usr/sbin", "/sbin", "/usr/bin", "/bin"] {
        dirs.push(d.into());
    }
    dirs.iter().any(|d| d.join(prog).is_file())
}

/// Everything missing for the lab to run, as human-readable reasons.
pub fn missing() -> Vec<String> {
    let mut m = Vec::new();
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        m.push("not running as root (network namespaces need CAP_SYS_ADMIN)".to_string());
    }
    for (prog, pkg) in PROGRAMS {
        if !in_path(prog) {
            m.push(format!("program {prog} not found (Debian package {pkg})"));
        }
    }
    let vfs = Path::new(super::ganesha::PLUGINS_DIR).join("libfsalvfs.so");
    if !vfs.exists() {
        m.push(format!("{} not found (Debian package nfs-ganesha-vfs)", vfs.display()));
    }
    let has_statd_user = std::fs::read_to_string("/etc/passwd").map(|s| s.lines().any(|l| l.starts_with("statd:"))).unwrap_or(false);
    if !has_statd_user {
        m.push("user statd does not exist (Debian package nfs-common creates it)".to_string());
    }
    m
}

/// True when the lab can run. Otherwise prints why the test is skipped and returns
/// false, or panics with the reasons when `CI=true` (a missing package is a failure).
pub fn ready(test: &str) -> bool {
    let m = missing();
    if m.is_empty() {
        return true;
    }
    let why = m.join("; ");
    if std::env::var("CI").map(|v| v == "true").unwrap_or(false) {
        panic!("{test}: lab prerequisites missing under CI=true: {why}");
    }
    eprintln!("SKIPPED {test}: lab prerequisites missing: {why}");
    false
}
