//! [`Builder`]: compile a BPF C file (or take a built object) and write its
//! skeleton, from a `build.rs`.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{generate, name_from_path, SkelError, SkelOptions};

/// Builds a skeleton in a `build.rs`:
///
/// ```no_run
/// // build.rs
/// let out = std::env::var("OUT_DIR").unwrap();
/// tinybpf::skel::Builder::new("src/bpf/maps.bpf.c")
///     .clang_args(["-Isrc/bpf"])
///     .build_and_generate(&out)
///     .unwrap();
/// // main.rs: mod maps { include!(concat!(env!("OUT_DIR"), "/maps.skel.rs")); }
/// ```
///
/// A `.c` source is compiled with `$CLANG` (default `clang-19`, then
/// `clang`) and `-g -O2 -target bpf -D__TARGET_ARCH_<arch>` (plus
/// `-I/usr/include/<arch>-linux-gnu` where it exists); any other file is taken as a built
/// object. The object and `<name>.skel.rs` are written to the output
/// directory; the skeleton embeds the object with `include_bytes!`.
#[derive(Clone, Debug)]
pub struct Builder {
    source: PathBuf,
    name: Option<String>,
    clang: Option<String>,
    clang_args: Vec<String>,
}

impl Builder {
    /// A builder for `source`: a BPF C file (`*.c`) or an object (`*.o`).
    pub fn new(source: impl AsRef<Path>) -> Builder {
        Builder {
            source: source.as_ref().to_path_buf(),
            name: None,
            clang: None,
            clang_args: Vec::new(),
        }
    }

    /// The skeleton's name (default: the file name without `.bpf.c`).
    pub fn name(mut self, name: impl Into<String>) -> Builder {
        self.name = Some(name.into());
        self
    }

    /// The compiler (default: `$CLANG`, else `clang-19`, else `clang`).
    pub fn clang(mut self, clang: impl Into<String>) -> Builder {
        self.clang = Some(clang.into());
        self
    }

    /// Extra compiler arguments (include directories, defines).
    pub fn clang_args<I, S>(mut self, args: I) -> Builder
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.clang_args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Compile (if needed), then write `<out_dir>/<name>.bpf.o` and
    /// `<out_dir>/<name>.skel.rs`; returns the skeleton's path. In a build
    /// script, also prints `cargo:rerun-if-changed` for the source.
    pub fn build_and_generate(&self, out_dir: impl AsRef<Path>) -> Result<PathBuf, SkelError> {
        let out_dir = out_dir.as_ref();
        let src = self.source.to_string_lossy().into_owned();
        let name = self.name.clone().unwrap_or_else(|| name_from_path(&src));
        let obj_path = out_dir.join(format!("{name}.bpf.o"));
        if std::env::var_os("OUT_DIR").is_some() {
            println!("cargo:rerun-if-changed={src}");
        }
        let io = |path: &Path| {
            let path = path.display().to_string();
            move |source| SkelError::Io { path, source }
        };
        if src.ends_with(".c") {
            self.compile(&obj_path)?;
        } else {
            std::fs::copy(&self.source, &obj_path).map_err(io(&self.source))?;
        }
        let bytes = std::fs::read(&obj_path).map_err(io(&obj_path))?;
        let text = generate(&bytes, &name, &SkelOptions::default())?;
        let skel_path = out_dir.join(format!("{name}.skel.rs"));
        std::fs::write(&skel_path, text).map_err(io(&skel_path))?;
        Ok(skel_path)
    }

    fn compile(&self, obj: &Path) -> Result<(), SkelError> {
        let candidates: Vec<String> = match (&self.clang, std::env::var("CLANG")) {
            (Some(c), _) => vec![c.clone()],
            (None, Ok(c)) if !c.is_empty() => vec![c],
            _ => vec!["clang-19".into(), "clang".into()],
        };
        let arch = match std::env::consts::ARCH {
            "x86_64" => "x86",
            "aarch64" => "arm64",
            a => a,
        };
        // Debian-style multiarch headers (`asm/types.h`), if there.
        let multiarch = format!("/usr/include/{}-linux-gnu", std::env::consts::ARCH);
        let multiarch = Path::new(&multiarch)
            .is_dir()
            .then(|| format!("-I{multiarch}"));
        let mut tried = Vec::new();
        for clang in &candidates {
            let out = Command::new(clang)
                .args(["-g", "-O2", "-target", "bpf"])
                .arg(format!("-D__TARGET_ARCH_{arch}"))
                .args(&multiarch)
                .args(&self.clang_args)
                .arg("-c")
                .arg(&self.source)
                .arg("-o")
                .arg(obj)
                .output();
            match out {
                Ok(o) if o.status.success() => return Ok(()),
                Ok(o) => {
                    return Err(SkelError::Compile(format!(
                        "{clang} failed to compile {} ({}):\n{}",
                        self.source.display(),
                        o.status,
                        String::from_utf8_lossy(&o.stderr)
                    )))
                }
                Err(e) => tried.push(format!("{clang}: {e}")),
            }
        }
        Err(SkelError::Compile(format!(
            "no compiler for {} ({}); install clang or set $CLANG",
            self.source.display(),
            tried.join("; ")
        )))
    }
}
