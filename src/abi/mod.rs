//! The kernel's BPF ABI as plain data: instruction encoding, and the UAPI
//! enums (`bpf_map_type`, `bpf_prog_type`, `bpf_attach_type`) both as
//! `u32` constants (what system calls take) and as Rust enums with an
//! `Unknown(u32)` case (what the public API returns).

/// Define a UAPI enum: one `pub const NAME: u32` per value, and a Rust
/// enum with the same values, an `Unknown(u32)` case, `raw()`,
/// `from_raw()`, `name()` (bpftool's spelling), `From<u32>`, `Into<u32>`
/// and `Display`.
macro_rules! uapi_enum {
    (
        $(#[$meta:meta])*
        $Enum:ident, $c_prefix:literal {
            $($Var:ident = $CONST:ident = $val:literal => $name:literal,)*
        }
    ) => {
        $(
            #[doc = concat!("`", $c_prefix, stringify!($CONST), "`.")]
            pub const $CONST: u32 = $val;
        )*

        $(#[$meta])*
        ///
        /// `Unknown` holds values this version of tinybpf has no name for
        /// (from newer kernels); [`from_raw`](Self::from_raw) never puts a
        /// named value there.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $Enum {
            $(
                #[doc = concat!("`", $c_prefix, stringify!($CONST), "` (", $val, ").")]
                $Var,
            )*
            /// A value without a name here.
            Unknown(u32),
        }

        impl $Enum {
            /// The kernel's number for it.
            pub const fn raw(self) -> u32 {
                match self {
                    $($Enum::$Var => $val,)*
                    $Enum::Unknown(v) => v,
                }
            }
            /// From the kernel's number.
            pub const fn from_raw(v: u32) -> Self {
                match v {
                    $($val => $Enum::$Var,)*
                    v => $Enum::Unknown(v),
                }
            }
            /// The name bpftool prints (`"unknown"` for `Unknown`).
            pub const fn name(self) -> &'static str {
                match self {
                    $($Enum::$Var => $name,)*
                    $Enum::Unknown(_) => "unknown",
                }
            }
        }

        impl From<u32> for $Enum {
            fn from(v: u32) -> Self {
                Self::from_raw(v)
            }
        }

        impl From<$Enum> for u32 {
            fn from(v: $Enum) -> u32 {
                v.raw()
            }
        }

        /// bpftool's name; `unknown (N)` for values without one.
        impl std::fmt::Display for $Enum {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self {
                    $Enum::Unknown(v) => write!(f, "unknown ({v})"),
                    _ => f.write_str(self.name()),
                }
            }
        }
    };
}

pub mod attach_type;
pub mod insn;
pub mod map_type;
pub mod prog_type;

pub use attach_type::AttachType;
pub use map_type::MapType;
pub use prog_type::ProgType;
