//! A small hand-rolled argument parser: positionals, `--flag`, `--opt VALUE`
//! and `--opt=VALUE`, repeated options, `--` to end options.

use crate::Fail;

/// One option a subcommand accepts.
pub struct Opt {
    pub name: &'static str,
    /// Whether it takes a value.
    pub value: bool,
}

pub const fn flag(name: &'static str) -> Opt {
    Opt { name, value: false }
}

pub const fn val(name: &'static str) -> Opt {
    Opt { name, value: true }
}

/// Parsed arguments of one subcommand.
#[derive(Debug, Default)]
pub struct Args {
    pub positional: Vec<String>,
    /// Options in the order given: (name without dashes, value).
    pub opts: Vec<(&'static str, Option<String>)>,
    pub help: bool,
}

impl Args {
    /// Parse `argv` (after the subcommand) against `known`.
    pub fn parse(cmd: &str, argv: &[String], known: &[Opt]) -> Result<Args, Fail> {
        let mut out = Args::default();
        let mut i = 0;
        let mut only_positional = false;
        while i < argv.len() {
            let a = &argv[i];
            i += 1;
            if only_positional || a == "-" || !a.starts_with('-') {
                out.positional.push(a.clone());
                continue;
            }
            if a == "--" {
                only_positional = true;
                continue;
            }
            if a == "-h" || a == "--help" {
                out.help = true;
                continue;
            }
            let Some(body) = a.strip_prefix("--") else {
                return Err(Fail::usage(cmd, format!("unknown option {a:?}")));
            };
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (body, None),
            };
            let Some(opt) = known.iter().find(|o| o.name == name) else {
                return Err(Fail::usage(cmd, format!("unknown option --{name}")));
            };
            let value = if opt.value {
                match inline {
                    Some(v) => Some(v),
                    None => {
                        let Some(v) = argv.get(i) else {
                            return Err(Fail::usage(cmd, format!("--{name} needs a value")));
                        };
                        i += 1;
                        Some(v.clone())
                    }
                }
            } else {
                if inline.is_some() {
                    return Err(Fail::usage(cmd, format!("--{name} takes no value")));
                }
                None
            };
            out.opts.push((opt.name, value));
        }
        Ok(out)
    }

    /// Every value given for option `name`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.opts
            .iter()
            .filter(|(n, _)| *n == name)
            .filter_map(|(_, v)| v.as_deref())
            .collect()
    }

    /// The value of an option given at most once.
    pub fn one(&self, cmd: &str, name: &str) -> Result<Option<&str>, Fail> {
        let v = self.all(name);
        match v.len() {
            0 => Ok(None),
            1 => Ok(Some(v[0])),
            _ => Err(Fail::usage(cmd, format!("--{name} given more than once"))),
        }
    }

    pub fn has(&self, name: &str) -> bool {
        self.opts.iter().any(|(n, _)| *n == name)
    }

    /// A numeric option.
    pub fn num<T: std::str::FromStr>(&self, cmd: &str, name: &str) -> Result<Option<T>, Fail> {
        match self.one(cmd, name)? {
            None => Ok(None),
            Some(s) => parse_num(s)
                .and_then(|n| T::from_str(&n.to_string()).ok())
                .map(Some)
                .ok_or_else(|| {
                    Fail::usage(cmd, format!("--{name}: {s:?} is not a valid number here"))
                }),
        }
    }

    /// Exactly `n` positionals (their names for messages).
    pub fn expect_positional(&self, cmd: &str, names: &[&str]) -> Result<(), Fail> {
        if self.positional.len() < names.len() {
            let missing = &names[self.positional.len()..];
            return Err(Fail::usage(cmd, format!("missing {}", missing.join(" "))));
        }
        if self.positional.len() > names.len() {
            return Err(Fail::usage(
                cmd,
                format!("unexpected argument {:?}", self.positional[names.len()]),
            ));
        }
        Ok(())
    }
}

/// A non-negative integer, decimal or `0x` hex.
pub fn parse_num(s: &str) -> Option<u64> {
    let s = s.trim();
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses() {
        let known = [flag("no-attach"), val("program"), val("duration")];
        let a = Args::parse(
            "load",
            &argv(&[
                "x.o",
                "--program",
                "a",
                "--program=b",
                "--no-attach",
                "--duration",
                "0",
            ]),
            &known,
        )
        .unwrap();
        assert_eq!(a.positional, ["x.o"]);
        assert_eq!(a.all("program"), ["a", "b"]);
        assert!(a.has("no-attach"));
        assert_eq!(a.num::<u64>("load", "duration").unwrap(), Some(0));
        assert!(Args::parse("load", &argv(&["--bogus"]), &known).is_err());
        assert!(Args::parse("load", &argv(&["--program"]), &known).is_err());
        assert!(Args::parse("load", &argv(&["--no-attach=1"]), &known).is_err());
        assert!(Args::parse("load", &argv(&["-x"]), &known).is_err());
        let a = Args::parse("load", &argv(&["--", "--program"]), &known).unwrap();
        assert_eq!(a.positional, ["--program"]);
        assert!(a.one("load", "program").unwrap().is_none());
        let a = Args::parse("load", &argv(&["--duration", "x"]), &known).unwrap();
        assert!(a.num::<u64>("load", "duration").is_err());
        let a = Args::parse("load", &argv(&["--duration", "0x10"]), &known).unwrap();
        assert_eq!(a.num::<u32>("load", "duration").unwrap(), Some(16));
        let a = Args::parse(
            "load",
            &argv(&["--duration", "1", "--duration", "2"]),
            &known,
        )
        .unwrap();
        assert!(a.one("load", "duration").is_err());
    }
}
