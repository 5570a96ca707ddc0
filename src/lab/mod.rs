//! The lab: real NFS servers (NFS-Ganesha, rpcbind, rpc.statd) in a private network namespace.
