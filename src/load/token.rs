//! The BPF token of a load (Linux 6.9+): created once from the bpffs that
//! [`LoadOptions::token_path`] (or `LIBBPF_BPF_TOKEN_PATH`, as libbpf
//! reads it) names, then handed to every `BPF_BTF_LOAD`, `BPF_MAP_CREATE`
//! and `BPF_PROG_LOAD` of the load. A token lets a process inside a user
//! namespace do what the bpffs's `delegate_*` mount options allow.

use super::LoadOptions;
use crate::error::{Error, Result};
use crate::sys;
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;

/// The environment variable libbpf reads the token's bpffs path from.
pub const TOKEN_PATH_ENV: &str = "LIBBPF_BPF_TOKEN_PATH";

/// Which bpffs to take a token from: the option, else the environment
/// (empty: none), else none (pure).
pub(crate) fn token_path(opt: Option<&PathBuf>, env: Option<&std::ffi::OsStr>) -> Option<PathBuf> {
    match (opt, env) {
        (Some(p), _) => Some(p.clone()),
        (None, Some(e)) if !e.is_empty() => Some(PathBuf::from(e)),
        _ => None,
    }
}

/// Create the load's token, if one is asked for.
pub(crate) fn open(opts: &LoadOptions) -> Result<Option<OwnedFd>> {
    let env = std::env::var_os(TOKEN_PATH_ENV);
    let Some(path) = token_path(opts.token_path.as_ref(), env.as_deref()) else {
        return Ok(None);
    };
    let what = format!("BPF token from {}", path.display());
    let dir = std::fs::File::open(&path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    match sys::token_create(dir.as_fd()) {
        Ok(t) => {
            log::debug!("{what}: created");
            Ok(Some(t))
        }
        Err(e) => {
            use nix::errno::Errno;
            let why = match e.errno {
                Errno::EINVAL => "the kernel has no BPF tokens (Linux 6.9+), or the path is not the root of a bpffs",
                Errno::EOPNOTSUPP => "tokens are only made inside a user namespace (not the initial one)",
                Errno::ENOENT => "this bpffs delegates nothing: mount it with delegate_cmds/delegate_maps/delegate_progs/delegate_attachs",
                Errno::EPERM => "the bpffs belongs to another user namespace, or this process lacks CAP_BPF in it",
                _ => "",
            };
            Err(Error::Invalid(format!(
                "{what}: {e}{}{why}",
                if why.is_empty() { "" } else { ": " }
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;
    use std::io::{BufRead, BufReader, Write};
    use std::os::fd::AsRawFd;
    use std::process::{Command, Stdio};

    const CHILD_ENV: &str = "TINYBPF_TOKEN_CHILD";

    /// Load bpf/hello.bpf.o with `opts`; the id of its program.
    fn load_hello(opts: &LoadOptions) -> Result<u32> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/bpf/hello.bpf.o");
        let data = std::fs::read(path).unwrap();
        let spec = crate::obj::ObjectSpec::parse("hello", &data)?;
        let obj = super::super::Loader::new(spec, opts).run()?;
        obj.program("handle_tp").unwrap().id()
    }

    /// The child (in a new user and mount namespace): makes a bpffs
    /// context there for the parent to configure with delegation, mounts
    /// it and loads `hello` through a token from it (and once without).
    /// Talks over stdin/stdout, one line per step.
    #[test]
    fn token_child() {
        if std::env::var_os(CHILD_ENV).is_none() {
            return;
        }
        let mut input = std::io::stdin().lock();
        let mut line = String::new();
        let mut step = |msg: String| {
            println!("{msg}");
            std::io::stdout().flush().unwrap();
            line.clear();
            input.read_line(&mut line).unwrap();
        };
        let ctx = match sys::fsopen(c"bpf") {
            Ok(f) => f,
            Err(e) => return println!("ERR {e}"),
        };
        step(format!("FSFD {}", ctx.as_raw_fd()));
        let mnt = match sys::fsmount(ctx.as_fd()) {
            Ok(m) => m,
            Err(e) => return println!("ERR {e}"),
        };
        let without = load_hello(&LoadOptions::default());
        println!("NOTOKEN {}", without.is_ok());
        let opts = LoadOptions {
            token_path: Some(format!("/proc/self/fd/{}", mnt.as_raw_fd()).into()),
            ..LoadOptions::default()
        };
        match load_hello(&opts) {
            Ok(id) => println!("LOADED {id}"),
            Err(e) => println!("ERR load: {e}"),
        }
    }

    /// A BPF token end to end: a child in its own user namespace (uid 0
    /// there mapped to root outside) cannot load `hello` on its own, and
    /// can through a token from a bpffs the parent delegated everything on
    /// (`delegate_*=any`, settable only from the initial namespace).
    #[test]
    fn token_load_in_user_namespace() {
        if !nix::unistd::geteuid().is_root() {
            assert!(std::env::var_os("CI").is_none(), "CI: needs root");
            return;
        }
        if std::env::var_os(CHILD_ENV).is_some() {
            return;
        }
        // util-linux unshare(1): a new user namespace (uid 0 mapped to
        // root) and mount namespace, then this test binary in it.
        let mut child = Command::new("unshare")
            .args(["--user", "--mount", "--map-root-user", "--"])
            .arg(std::env::current_exe().unwrap())
            .args([
                "load::token::tests::token_child",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id() as i32;
        let mut to = child.stdin.take().unwrap();
        let mut from = BufReader::new(child.stdout.take().unwrap());
        // The child's next protocol line (libtest's own output skipped).
        let mut next = || -> String {
            let mut l = String::new();
            loop {
                l.clear();
                assert!(from.read_line(&mut l).unwrap() > 0, "child ended early");
                for key in ["FSFD ", "NOTOKEN ", "LOADED ", "ERR"] {
                    if let Some(i) = l.find(key) {
                        return l[i..].trim().to_string();
                    }
                }
            }
        };
        let l = next();
        let fd: i32 = l
            .strip_prefix("FSFD ")
            .unwrap_or_else(|| panic!("{l}"))
            .parse()
            .unwrap();
        let ctx = sys::pidfd_getfd(pid, fd).unwrap();
        for key in [
            c"delegate_cmds",
            c"delegate_maps",
            c"delegate_progs",
            c"delegate_attachs",
        ] {
            sys::fsconfig_set_string(ctx.as_fd(), key, c"any").unwrap();
        }
        sys::fsconfig_create(ctx.as_fd()).unwrap();
        drop(ctx);
        writeln!(to).unwrap();
        assert_eq!(
            next(),
            "NOTOKEN false",
            "loaded without a token in a user namespace"
        );
        let l = next();
        let id: u32 = l
            .strip_prefix("LOADED ")
            .unwrap_or_else(|| panic!("{l}"))
            .parse()
            .unwrap();
        assert!(id > 0);
        eprintln!("token: child loaded hello as program {id} through a token");
        drop(to);
        assert!(child.wait().unwrap().success());
        // The child's exit unloaded it.
        let t0 = std::time::Instant::now();
        while sys::prog_get_fd_by_id(id).is_ok() {
            assert!(
                t0.elapsed().as_secs() < 10,
                "program {id} outlived the child"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    #[test]
    fn path_precedence() {
        let p = PathBuf::from("/a");
        assert_eq!(
            token_path(Some(&p), Some(OsStr::new("/b"))),
            Some(p.clone())
        );
        assert_eq!(token_path(None, Some(OsStr::new("/b"))), Some("/b".into()));
        assert_eq!(token_path(None, Some(OsStr::new(""))), None);
        assert_eq!(token_path(None, None), None);
    }
}
