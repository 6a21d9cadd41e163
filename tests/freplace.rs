//! `freplace`: an extension program replacing `verdict()` of a loaded XDP
//! program, its target chosen by id at load time. Where the kernel has BPF
//! trampolines, attaching it turns the target's verdict from XDP_PASS into
//! XDP_DROP; elsewhere (this project's usual host) the error says why.

mod common;

use tinybpf::{Error, OpenObject, TestRunOpts};

fn verdict(obj: &tinybpf::Object) -> u32 {
    obj.program("xdp_main")
        .unwrap()
        .test_run(&TestRunOpts::default().data_in(&[0u8; 64]))
        .unwrap()
        .retval
}

#[test]
fn freplace_replaces_or_says_why_not() {
    if !common::root_or_skip("freplace_replaces_or_says_why_not") {
        return;
    }
    let target = OpenObject::open(common::obj("freplace_target.bpf.o"))
        .unwrap()
        .load()
        .unwrap();
    assert_eq!(verdict(&target), 2, "XDP_PASS before");
    let id = target.program("xdp_main").unwrap().id().unwrap();

    let mut open = OpenObject::open(common::obj("freplace.bpf.o")).unwrap();
    open.set_attach_target("new_verdict", id, None).unwrap();
    let ext = match open.load() {
        Ok(o) => o,
        // Kernels without BPF trampolines refuse the load itself.
        Err(e) => {
            let m = e.to_string();
            assert!(m.contains("program new_verdict"), "{m}");
            assert_eq!(e.errno(), Some(nix::errno::Errno::EPERM), "{m}");
            assert!(m.contains("need BPF trampolines"), "{m}");
            return;
        }
    };
    let p = ext.program("new_verdict").unwrap();
    match p.attach() {
        Ok(link) => {
            assert_eq!(verdict(&target), 1, "XDP_DROP while replaced");
            drop(link);
            assert_eq!(verdict(&target), 2, "XDP_PASS again");
        }
        Err(Error::Attach { reason, .. }) => {
            let reason = reason.to_string();
            assert!(
                reason.contains("not supported") || reason.contains("ENOTSUPP"),
                "{reason}"
            );
        }
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn freplace_needs_a_target() {
    let mut open = OpenObject::open(common::obj("freplace.bpf.o")).unwrap();
    let m = match open.set_attach_target("nope", 1, None) {
        Err(e) => e.to_string(),
        Ok(()) => panic!("unknown program accepted"),
    };
    assert!(m.contains("nope"), "{m}");
    let mut other = OpenObject::open(common::obj("freplace_target.bpf.o")).unwrap();
    let m = other
        .set_attach_target("xdp_main", 1, None)
        .unwrap_err()
        .to_string();
    assert!(m.contains("not an freplace program"), "{m}");
    if !common::root_or_skip("freplace_needs_a_target") {
        return;
    }
    let m = open.load().map(|_| ()).unwrap_err().to_string();
    assert!(m.contains("needs a target program"), "{m}");
}
