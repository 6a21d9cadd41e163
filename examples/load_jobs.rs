//! Time open+load of an object with programs loaded on one thread and on
//! N threads (`LoadOptions::jobs`), interleaved, in one process:
//!
//! `cargo run --release --example load_jobs -- OBJ [N] [ROUNDS]`
//!
//! Each round opens and loads OBJ once with jobs=1 and once with jobs=N
//! (alternating which goes first), then drops the object. Prints the
//! median and quartiles of each, and the median of the per-round ratios.
//! BENCHMARKS.md ("Parallel program loading") uses it.

use std::process::ExitCode;
use std::time::{Duration, Instant};
use tinybpf::OpenObject;

fn once(path: &str, jobs: usize) -> tinybpf::Result<Duration> {
    let t = Instant::now();
    let mut o = OpenObject::open(path)?;
    o.options_mut().jobs = jobs;
    let obj = o.load()?;
    let d = t.elapsed();
    drop(obj);
    Ok(d)
}

/// (Q1, median, Q3) of `v` (sorted here).
fn quartiles(v: &mut [f64]) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    (at(0.25), at(0.5), at(0.75))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: load_jobs OBJ [N] [ROUNDS]");
        return ExitCode::from(2);
    };
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(2);
    let rounds: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(21);
    let (mut seq, mut par, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
    for r in 0..rounds.max(1) + 1 {
        let order = if r % 2 == 0 { [1, n] } else { [n, 1] };
        let mut t = [0.0; 2];
        for jobs in order {
            match once(path, jobs) {
                Ok(d) => t[usize::from(jobs != 1)] = d.as_secs_f64() * 1e3,
                Err(e) => {
                    eprintln!("load_jobs: {path}: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
        if r == 0 {
            continue; // warm-up
        }
        seq.push(t[0]);
        par.push(t[1]);
        ratio.push(t[1] / t[0]);
    }
    let (s1, s, s3) = quartiles(&mut seq);
    let (p1, p, p3) = quartiles(&mut par);
    let (r1, r, r3) = quartiles(&mut ratio);
    println!("{path}: {} rounds", seq.len());
    println!("  jobs=1   median {s:.2} ms ({s1:.2}-{s3:.2})");
    println!("  jobs={n:<3} median {p:.2} ms ({p1:.2}-{p3:.2})");
    println!("  ratio    median {r:.3} ({r1:.3}-{r3:.3})");
    ExitCode::SUCCESS
}
