//! CO-RE relocation engine (pure: instructions + local BTF + target BTF in, patched instructions out).
