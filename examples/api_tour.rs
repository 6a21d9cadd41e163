//! The README's "API at a glance", runnable: open `bpf/globals.bpf.o`, set
//! the `const volatile` global `multiplier` to 3, load, attach, test-run
//! `xdp_count` on a 64-byte packet, and read the global `total` it updated
//! from the mmap'd `.bss` map. Prints `xdp_count returned 2, total = 192`.
//!
//! `cargo run --example api_tour`. The code between the `README` markers is
//! the README's snippet, character for character (`tests/api_tour.rs`
//! checks it, and runs this example).

#[path = "common/report.rs"]
mod report;

use std::process::ExitCode;
// README: begin
use tinybpf::{OpenObject, TestRunOpts};
// README: end

fn main() -> ExitCode {
    report::run(|| {
        // The README's relative path: resolve it from the repository root,
        // wherever the binary is started.
        std::env::set_current_dir(env!("CARGO_MANIFEST_DIR"))?;
        // README: begin
        let mut open = OpenObject::open("bpf/globals.bpf.o")?; // parse: no syscalls
        open.set_global_value("multiplier", &3u32)?; // const volatile config
        let mut obj = open.load()?; // BTF, CO-RE, maps, programs
        obj.attach_all()?; // by section name (tp/, raw_tp/, uprobe/, ...; xdp: not attached)
        let packet = TestRunOpts::default().data_in(&[0; 64]); // 64 bytes of input
        let run = obj.program("xdp_count").unwrap().test_run(&packet)?; // BPF_PROG_TEST_RUN
        let bss = obj.map("globals.bss").unwrap().data().unwrap(); // globals: mmap'd array maps
        let total = u64::from_ne_bytes(bss[..8].try_into()?); // `total` is at offset 0 of .bss
        println!("xdp_count returned {}, total = {total}", run.retval); // 2, 192 (3 × 64)
        drop(obj); // detach, unload, close: nothing left

        // README: end
        Ok(())
    })
}
