//! The only module that issues syscalls and holds `unsafe`.
