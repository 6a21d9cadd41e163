//! BTF: the BPF type format (pure parsing; no syscalls).
